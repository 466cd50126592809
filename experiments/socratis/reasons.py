"""Write machine reasons for a Socratis folder: a generations JSONL.

For every item of the official file and every emotion its workers gave
(each distinct (item, emotion) once, in file order), ask a model why a
person feels that emotion, with the paper's prompt (Deng et al. 2023,
arXiv:2308.16741, which used BLIP-2 FLAN-T5):

    Why does a person feel "{emotion}" after seeing this image and reading
    the news caption, {caption}?

    python -m experiments.generate_reasons --socratis-dir DATA/socratis \\
        --model Salesforce/blip2-flan-t5-xl --device cuda --generator blip2-flan-t5-xl \\
        --out DATA/socratis/generations.jsonl
    python -m experiments.generate_reasons --socratis-dir DATA/socratis \\
        --base-url http://gpu-host:8000/v1 --model Qwen/Qwen2.5-VL-7B-Instruct \\
        --generator qwen2.5-vl-7b --out DATA/socratis/generations.jsonl

Backends: a transformers image-text-to-text model on this machine (a hub id
in the local Hugging Face cache or a folder; nothing is downloaded), or a
text-only model with --text-only (seq2seq or causal, e.g. FLAN-T5, the
paper's text-only baseline), or any OpenAI-compatible server through the
VLM judge's served client (metrics.vlm_judge.served). Decoding is greedy
(temperature 0) unless --temperature says otherwise.

Each answer is stored in the score cache as it arrives, keyed by the
generator's settings (backend, model, revision, dtype, decoding), the
filled prompt and the image's content hash. A killed run asks nothing
twice when started again; the output file is then rewritten whole, in a
fixed order (generator, item order of the official file, emotion order),
so the same answers give the same bytes. Rows of other generators already
in the output file are kept; rows of this generator are replaced.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from metrics import ImageTextModel, MetricError, ScoreCache, image_digest, open_batch

from ..benchmarks.base import DataError
from ..benchmarks import DATA_ENV, default_data_dir
from .data import (GENERATIONS_FILE, OFFICIAL_FILE, image_file, read_generations,
                               read_official)
from .study import positive_int
from ..benchmarks.files import require_file
from ..cli import add_common_arguments, command_name, one_line_errors, setup_logging
from ..pipeline.results_folder import write_text_atomically
from ..interrupts import handles_interrupts

log = logging.getLogger("experiments.generate_reasons")

PAPER_PROMPT = ('Why does a person feel "{emotion}" after seeing this image and reading the '
                'news caption, {caption}?')
CACHE_NAMESPACE = "generate_reasons"


@dataclass(frozen=True)
class Task:
    """One (item, emotion) to explain."""

    item_id: str
    emotion: str
    caption: str
    image: str | None
    prompt: str


def fill_prompt(template: str, emotion: str, caption: str) -> str:
    """The template with {emotion} and {caption} replaced (other braces stay as they are)."""
    return template.replace("{emotion}", emotion).replace("{caption}", caption)


def generation_tasks(folder: Path, image_root: str | None = None, template: str = PAPER_PROMPT,
                     with_images: bool = True, limit: int | None = None) -> list[Task]:
    """Every distinct (item, emotion) of the official file, in file order; with `limit`
    (at least 1), those of the first `limit` items."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a whole number of at least 1, got {limit!r}")
    items = read_official(require_file(Path(folder) / OFFICIAL_FILE, "socratis"))
    tasks = []
    for item in list(items.values())[:limit]:
        image = image_file(image_root, folder, item.image_path) if with_images else None
        for emotion in dict.fromkeys(r.emotion for r in item.reasons):
            tasks.append(Task(item.item_id, emotion, item.caption, image,
                              fill_prompt(template, emotion, item.caption)))
    return tasks


# -- backends -------------------------------------------------------------------

class LocalGenerator:
    """A transformers model on this machine (metrics' `ImageTextModel`): loaded on
    first use, never downloaded."""

    def __init__(self, model: str, device: str = "cpu", dtype: str = "auto", batch_size: int = 4,
                 max_new_tokens: int = 50, temperature: float = 0.0, seed: int = 0,
                 text_only: bool = False, chat_template: str = "auto",
                 revision: str | None = None):
        self.local = ImageTextModel(model, device, dtype, revision, text_only,
                                    owner="generate_reasons")
        self.model_name = model
        self.device = self.local.device
        self.dtype = self.local.dtype
        self.batch_size = max(1, int(batch_size))
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.seed = int(seed)
        self.text_only = text_only
        self.chat_template = chat_template
        self.revision = revision
        self.local.check_available()

    def settings(self) -> dict[str, Any]:
        out = {"backend": "local", "model": self.model_name, "revision": self.revision,
               "dtype": self.dtype, "max_new_tokens": self.max_new_tokens,
               "temperature": self.temperature, "text_only": self.text_only,
               "chat_template": self.chat_template}
        if self.temperature > 0:
            out["seed"] = self.seed
        return out

    def _load(self) -> None:
        self.local.load()

    @property
    def tokenizer(self):
        return self.local.tokenizer

    def model_input(self, task: Task) -> str:
        """The text the model reads: the prompt in the model's chat format when it has
        one (and --chat-template is not 'no'), else the bare prompt."""
        if self.chat_template == "no" or (self.chat_template == "auto"
                                          and not self.local.has_chat_template):
            return task.prompt
        return self.local.chat_text(task.prompt, with_image=not self.text_only)

    def generate(self, tasks: Sequence[Task]) -> Iterator[tuple[int, str | None, str | None]]:
        """Yield (index, text, error) batch by batch."""
        if not tasks:
            return
        self._load()
        size = 1 if self.temperature > 0 else self.batch_size
        for start in range(0, len(tasks), size):
            batch = list(range(start, min(start + size, len(tasks))))
            ready, images, failed = open_batch(
                [None if self.text_only else tasks[i].image for i in batch])
            for k, why in failed.items():
                yield batch[k], None, why
            if ready:
                texts = self._generate([tasks[batch[k]] for k in ready], images)
                for k, text in zip(ready, texts):
                    yield batch[k], text, None

    def _generate(self, tasks: Sequence[Task], images: Sequence[Any]) -> list[str]:
        import torch

        texts = [self.model_input(t) for t in tasks]
        inputs = self.local.inputs(texts, None if self.text_only else images)
        model = self.local.model
        decoding: dict[str, Any] = {"do_sample": False, "num_beams": 1}
        if self.temperature > 0:
            decoding = {"do_sample": True, "temperature": self.temperature, "top_k": 0}
            key = cache_key(self.settings(), tasks[0])
            torch.manual_seed(int(key[:8], 16))
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=self.max_new_tokens,
                                 pad_token_id=self.tokenizer.pad_token_id, **decoding)
        prompt = inputs["input_ids"]
        width = prompt.shape[1]
        if out.shape[1] >= width and bool((out[:, :width] == prompt.to(out.device)).all()):
            out = out[:, width:]  # a decoder-only model returns the prompt first
        return [self.tokenizer.decode(row, skip_special_tokens=True).strip() for row in out]


class ServedGenerator:
    """An OpenAI-compatible server, asked through the VLM judge's served client."""

    def __init__(self, base_url: str | None, model: str, api_key_env: str = "OPENAI_API_KEY",
                 max_new_tokens: int = 50, temperature: float = 0.0, seed: int = 0,
                 max_concurrency: int = 64, timeout: float = 120.0, max_retries: int = 5,
                 text_only: bool = False, revision: str | None = None):
        from metrics.vlm_judge import ServedBackend
        from metrics.vlm_judge.batch import BatchBackend

        if base_url is None:  # batch files: the same requests, asked elsewhere
            self.backend = BatchBackend(model, seed=seed, temperature=temperature,
                                        max_tokens=max_new_tokens, logprobs=False)
        else:
            self.backend = ServedBackend(base_url, model, api_key_env=api_key_env,
                                         max_concurrency=max_concurrency, timeout=timeout,
                                         max_retries=max_retries, seed=seed,
                                         temperature=temperature, max_tokens=max_new_tokens,
                                         logprobs=False)
        self.model_name = model
        self.text_only = text_only
        self.revision = revision

    def settings(self) -> dict[str, Any]:
        # Where the server runs (base_url) and the key are not settings: moving a
        # server must not throw away the cache, and keys never reach it.
        return {"backend": "served", "model": self.model_name, "revision": self.revision,
                "text_only": self.text_only, **self.backend.decoding()}

    def requests(self, tasks: Sequence[Task]) -> list:
        """One request per task, keyed as the cache keys its answer."""
        from metrics.vlm_judge import Request

        return [Request(cache_key(self.settings(), t), f"{t.item_id}/{t.emotion}", t.prompt,
                        None if self.text_only else t.image) for t in tasks]

    def generate(self, tasks: Sequence[Task]) -> Iterator[tuple[int, str | None, str | None]]:
        for i, answer, error in self.backend.run(self.requests(tasks), None):
            yield i, (answer["text"].strip() if answer is not None else None), error


# -- the job --------------------------------------------------------------------

def cache_key(settings: dict[str, Any], task: Task) -> str:
    """Generator settings + the filled prompt + the image's content hash."""
    image = None
    if task.image is not None and os.path.isfile(task.image):
        image = image_digest(task.image)
    payload = {"settings": settings, "prompt": task.prompt, "image": image}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class GenerationRun:
    texts: dict[int, str]
    failures: dict[int, str]
    cached: int
    asked: int


def run_generation(tasks: Sequence[Task], generator, cache: ScoreCache | None,
                   progress: bool = True) -> GenerationRun:
    """Answers for every task: from the cache, else from the generator (cached as they come)."""
    from tqdm import tqdm

    settings = generator.settings()
    keys = [cache_key(settings, t) for t in tasks]
    texts: dict[int, str] = {}
    failures: dict[int, str] = {}
    todo = []
    for i, (task, key) in enumerate(zip(tasks, keys)):
        stored = cache.get_blob(CACHE_NAMESPACE, key) if cache is not None else None
        if stored is not None:
            texts[i] = json.loads(stored)["text"]
        elif task.image is not None and not os.path.isfile(task.image):
            failures[i] = f"image file not found: {task.image}"
        else:
            todo.append(i)
    images = [t for t in tasks if t.image is not None]
    if images and all(not os.path.isfile(t.image) for t in images):
        raise DataError(f"none of the {len(images)} images exist (first: item "
                        f"{images[0].item_id!r} -> {images[0].image}); check --image-root, "
                        "or use --text-only")
    cached = len(texts)
    bar = tqdm(total=len(todo), desc="generate", unit="reason", leave=False,
               disable=None if progress else True)
    for j, text, error in generator.generate([tasks[i] for i in todo]):
        i = todo[j]
        if error is not None:
            failures[i] = error
        else:
            texts[i] = text
            if cache is not None:
                cache.put_blob(CACHE_NAMESPACE, keys[i], json.dumps({"text": text}))
        bar.update(1)
    bar.close()
    return GenerationRun(texts, failures, cached, len(todo))


def write_generations(out: Path, folder: Path, label: str, tasks: Sequence[Task],
                      texts: dict[int, str]) -> int:
    """Rewrite `out` whole: other generators' rows kept, this generator's replaced,
    sorted by (generator, item order, emotion order). Returns rows written."""
    items = read_official(Path(folder) / OFFICIAL_FILE)
    rows = []
    if out.is_file() and out.stat().st_size:
        rows = [{"item_id": g.item_id, "emotion": g.emotion, "generator": g.generator,
                 "reason": g.reason} for g in read_generations(out, items)
                if g.generator != label]
    rows += [{"item_id": tasks[i].item_id, "emotion": tasks[i].emotion, "generator": label,
              "reason": texts[i]} for i in sorted(texts)]
    item_order = {item_id: k for k, item_id in enumerate(items)}
    emotion_order = {(item.item_id, e): k for item in items.values()
                     for k, e in enumerate(dict.fromkeys(r.emotion for r in item.reasons))}

    def order(row):
        return (row["generator"], item_order[row["item_id"]],
                emotion_order.get((row["item_id"], row["emotion"]), len(emotion_order)),
                row["emotion"])

    rows.sort(key=order)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out, "".join(json.dumps(row, ensure_ascii=False) + "\n"
                                       for row in rows))
    return len(rows)


# -- command line -----------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.generate_reasons"),
                                description="Generate reasons for a Socratis folder's (item, emotion)s.")
    p.add_argument("--data-dir", default=None, help=f"folder holding socratis/ (default ${DATA_ENV})")
    p.add_argument("--socratis-dir", default=None, help=f"the Socratis folder itself ({OFFICIAL_FILE})")
    p.add_argument("--image-root", default=None, help="images folder (default SOCRATIS_DIR/images)")
    p.add_argument("--out", default=None, help=f"output JSONL (default SOCRATIS_DIR/{GENERATIONS_FILE})")
    p.add_argument("--generator", required=True, help="the label written into each row")
    p.add_argument("--model", required=True,
                   help="local: hub id (in the local cache) or folder; served: the server's model name")
    p.add_argument("--revision", default=None, help="hub revision (local) or a label (served)")
    p.add_argument("--base-url", default=None,
                   help="an OpenAI-compatible server, e.g. http://localhost:8000/v1 (served backend); several, comma-separated, share the requests")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY",
                   help="environment variable holding the server's key (default OPENAI_API_KEY)")
    p.add_argument("--max-concurrency", type=int, default=64,
                   help="served: requests in flight (across every --base-url)")
    p.add_argument("--timeout", type=float, default=120.0, help="served: seconds per request")
    p.add_argument("--max-retries", type=int, default=5, help="served: retries per request")
    p.add_argument("--device", default="auto",
                   help="local: auto (default: cuda, then mps, then cpu), cpu, cuda, mps")
    p.add_argument("--dtype", default="auto", choices=["auto", "float32", "float16", "bfloat16"],
                   help="local: weights' number type (auto: float32 on CPU, bfloat16 on a GPU "
                        "that has it, else float16)")
    p.add_argument("--batch-size", type=int, default=4, help="local: prompts per forward pass")
    p.add_argument("--chat-template", default="auto", choices=["auto", "yes", "no"],
                   help="local: wrap the prompt in the model's chat template (auto: if it has one)")
    p.add_argument("--text-only", action="store_true",
                   help="send no image (a text-only model such as FLAN-T5, the paper's baseline)")
    p.add_argument("--max-new-tokens", type=positive_int, default=50,
                   help="longest reason, in tokens (at least 1)")
    p.add_argument("--temperature", type=float, default=0.0, help="0 (default): greedy decoding")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling and retry jitter")
    prompt = p.add_mutually_exclusive_group()
    prompt.add_argument("--prompt", default=None,
                        help="prompt template with {emotion} and {caption} (default: the paper's)")
    prompt.add_argument("--prompt-file", default=None, help="read the prompt template from a file")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="only the first N items, N at least 1 (a trial run)")
    p.add_argument("--batch-export", default=None, metavar="DIR",
                   help="write the served requests not yet answered in the cache as OpenAI "
                        "Batch API / vllm run-batch files into DIR (with manifest.json), ask "
                        "nothing; `metaeval judge import` reads the answers back")
    p.add_argument("--from-batch", action="store_true",
                   help="ask no server: reasons come from imported batch answers in the cache "
                        "(the served settings: --model, --max-new-tokens, --temperature)")
    p.add_argument("--cache-dir", default=None, help="cache folder (default $METAEVAL_CACHE_DIR)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    add_common_arguments(p)
    return p


def export_batch(args, generator: "ServedGenerator", tasks: Sequence[Task],
                 cache: ScoreCache | None) -> int:
    """--batch-export: the requests whose reasons are not in the cache, as batch files."""
    from metrics.vlm_judge.batch import export_requests, write_manifest

    out = Path(args.batch_export)
    export, entries = export_requests(generator.backend, [(None, generator.requests(tasks))],
                                      out, cache, namespace=CACHE_NAMESPACE)
    manifest = write_manifest(out, generator.backend, args.revision, export, entries, [],
                              {"generator": args.generator, "text_only": args.text_only},
                              None, None, kind="generation", namespace=CACHE_NAMESPACE)
    counts = manifest["counts"]
    print(f"{counts['exported']} requests in {counts['shards']} file(s) under {out} "
          f"({counts['already_in_cache']} already answered in the cache)")
    for why in export.not_exportable.values():
        print(f"not exported: {why}", file=sys.stderr)
    return 0


def make_generator(args):
    if args.base_url or args.batch_export or args.from_batch:
        return ServedGenerator(None if (args.batch_export or args.from_batch) else args.base_url, args.model, args.api_key_env, args.max_new_tokens,
                               args.temperature, args.seed, args.max_concurrency, args.timeout,
                               args.max_retries, args.text_only, args.revision)
    return LocalGenerator(args.model, args.device, args.dtype, args.batch_size,
                          args.max_new_tokens, args.temperature, args.seed, args.text_only,
                          args.chat_template, args.revision)


@handles_interrupts("previous output kept", cached=("answers",))
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    try:
        if args.socratis_dir:
            folder = Path(args.socratis_dir)
        elif args.data_dir or default_data_dir():
            folder = Path(args.data_dir or default_data_dir()) / "socratis"
        else:
            raise DataError(f"give --socratis-dir, or --data-dir (or ${DATA_ENV}) holding socratis/")
        template = (Path(args.prompt_file).read_text(encoding="utf-8").strip()
                    if args.prompt_file else args.prompt or PAPER_PROMPT)
        if "{emotion}" not in template:
            log.warning("the prompt template has no {emotion}: every emotion gets the same question")
        tasks = generation_tasks(folder, args.image_root, template, not args.text_only, args.limit)
        generator = make_generator(args)
        cache = None if args.no_cache else ScoreCache(args.cache_dir)
        if args.batch_export:
            return export_batch(args, generator, tasks, cache)
        run = run_generation(tasks, generator, cache, progress=not args.quiet)
        out = Path(args.out) if args.out else folder / GENERATIONS_FILE
        written = write_generations(out, folder, args.generator, tasks, run.texts)
    except (DataError, MetricError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    empty = sum(1 for t in run.texts.values() if not t)
    print(f"{len(run.texts)} of {len(tasks)} reasons ({run.cached} from the cache, "
          f"{run.asked} asked); {written} rows in {out}")
    if empty:
        log.warning("%d reasons are empty (they stay in the file; metrics score them NaN)", empty)
    if run.failures:
        shown = "; ".join(f"{tasks[i].item_id}/{tasks[i].emotion}: {why}"
                          for i, why in list(sorted(run.failures.items()))[:3])
        print(f"{len(run.failures)} not generated ({shown}); run again to retry them "
              "(finished ones come from the cache)", file=sys.stderr)
        return 1
    return 0

