"""Shared plumbing for model-based metrics: devices, weights, offline use.

Weights come from a local path, the Hugging Face cache or open_clip's cache.
When they are missing and nothing can be downloaded (HF_HUB_OFFLINE=1, or
the Hub does not answer within seconds), a metric raises `missing_weights`
at once instead of waiting on the libraries' retries.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from typing import Sequence

from .base import MetricError, image_digest

__all__ = ["resolve_device", "hf_cache_dir", "hf_cache_dirs", "hf_cached_snapshot",
           "hf_cached_file", "hf_model_source", "missing_weights", "hub_offline",
           "hub_reachable", "hub_unavailable", "path_digest", "transformers_fetch_command",
           "HF_WEIGHT_FILES", "check_device_name"]


# What a device may be named: auto, cpu, mps, cuda or cuda:N (and torch's xpu, xpu:N).
DEVICE_NAME = re.compile(r"auto|cpu|mps|(cuda|xpu)(:\d+)?")


def check_device_name(device: str) -> str:
    """`device` lower-cased, or a MetricError naming it when it is no device torch knows
    (checked without importing torch)."""
    if not isinstance(device, str) or not DEVICE_NAME.fullmatch(device.lower()):
        raise MetricError(f"device {device!r} is not a device: give auto, cpu, cuda, cuda:N "
                          "or mps")
    return device.lower()


def resolve_device(device: str | None = "cpu") -> str:
    """'auto' picks cuda, then mps, then cpu; an explicit device must exist."""
    import torch

    device = check_device_name(device or "cpu")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MetricError(f"device {device!r} asked for, but torch sees no CUDA GPU")
    if device == "mps" and not (getattr(torch.backends, "mps", None)
                                and torch.backends.mps.is_available()):
        raise MetricError("device 'mps' asked for, but torch sees no Apple GPU")
    return device


def hf_cache_dir() -> str:
    """The Hugging Face hub cache folder the libraries read weights from."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "huggingface")
    return os.path.join(home, "hub")


def missing_weights(metric: str, weights: str, looked_in: str, fetch: str,
                    option: str = "model") -> MetricError:
    """The one error a metric raises when its weights are not on this machine."""
    return MetricError(
        f"{metric}: weights {weights!r} are not available offline (looked in {looked_in}). "
        f"On a machine with network, fetch them once with: {fetch} "
        f"-- or pass a local path to the weights as the {option} option.")


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE say so, now or when
    huggingface_hub was imported (it reads them once, at import)."""
    if _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - transformers depends on it
        return True
    return bool(constants.HF_HUB_OFFLINE)


def hub_endpoint() -> str:
    """The Hub address downloads would go to ($HF_ENDPOINT or huggingface.co)."""
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


_REACHABLE: dict[str, tuple[float, bool]] = {}
_REACHABLE_TTL_S = 60.0


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub answers within `timeout` seconds (memoised for a minute).

    The libraries' own downloads retry and wait for a long time when there is
    no network; this probe lets a metric say at once that weights are missing.
    It runs in a daemon thread so that even a stuck name lookup cannot hold
    the caller longer than `timeout` (plus a second).
    """
    url = hub_endpoint()
    now = time.monotonic()
    hit = _REACHABLE.get(url)
    if hit is not None and now - hit[0] < _REACHABLE_TTL_S:
        return hit[1]
    answer: list[bool] = []

    def probe() -> None:
        try:
            from huggingface_hub.utils import get_session

            get_session().head(url, timeout=timeout)
            answer.append(True)
        except Exception:  # any failure to get an answer means "not reachable"
            answer.append(False)

    worker = threading.Thread(target=probe, name="hub-probe", daemon=True)
    worker.start()
    worker.join(timeout + 1.0)
    ok = bool(answer and answer[0])
    _REACHABLE[url] = (time.monotonic(), ok)
    return ok


def hub_unavailable() -> bool:
    """True when nothing may or can be downloaded from the Hub right now."""
    return hub_offline() or not hub_reachable()


def hf_cache_dirs(cache_dir: str | None = None) -> list[str]:
    """Folders to look in for cached Hub files: `cache_dir` if given, else ours
    and (if it differs) the one huggingface_hub fixed at import."""
    if cache_dir:
        return [str(cache_dir)]
    dirs = [hf_cache_dir()]
    try:
        from huggingface_hub import constants

        if os.path.abspath(constants.HF_HUB_CACHE) != os.path.abspath(dirs[0]):
            dirs.append(constants.HF_HUB_CACHE)
    except ImportError:  # pragma: no cover
        pass
    return dirs


def hf_cached_snapshot(repo_id: str, required: Sequence[str] = ("config.json",),
                       cache_dir: str | None = None) -> str | None:
    """The local snapshot folder of Hub repo `repo_id` if it holds every file
    in `required` (without touching the network), else None."""
    from huggingface_hub import try_to_load_from_cache

    for folder in hf_cache_dirs(cache_dir):
        paths = []
        for name in required:
            found = try_to_load_from_cache(repo_id, name, cache_dir=folder)
            if not isinstance(found, str):
                break
            paths.append(found)
        else:
            if paths:
                return os.path.dirname(paths[0])
    return None


def hf_cached_file(repo_id: str, filenames: Sequence[str],
                   cache_dir: str | None = None) -> str | None:
    """The first of `filenames` found in the local Hub cache for `repo_id`."""
    from huggingface_hub import try_to_load_from_cache

    for folder in hf_cache_dirs(cache_dir):
        for name in filenames:
            found = try_to_load_from_cache(repo_id, name, cache_dir=folder)
            if isinstance(found, str):
                return found
    return None


# weights files transformers may load, in its order of preference
HF_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json",
                   "pytorch_model.bin", "pytorch_model.bin.index.json")


def path_digest(path: str | os.PathLike) -> str:
    """SHA-256 naming a local weights file or folder by content.

    A file hashes its bytes; a folder hashes the names and bytes of the files
    that define a model (configs, vocabularies, weights), so a signature built
    on it changes when the weights do. Memoised by path, size and mtime.
    """
    path = os.fspath(path)
    if os.path.isfile(path):
        return image_digest(path)
    h = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.endswith(_MODEL_FILE_SUFFIXES):
                continue
            full = os.path.join(root, name)
            h.update(os.path.relpath(full, path).encode("utf-8") + b"\0")
            h.update(image_digest(full).encode("ascii"))
    return h.hexdigest()


_MODEL_FILE_SUFFIXES = (".json", ".txt", ".model", ".safetensors", ".bin", ".pt",
                        ".pth", ".tsv", ".vocab", ".spm")


def transformers_fetch_command(model: str, auto_class: str) -> str:
    """The command that downloads a Hub model and its tokenizer into the local cache."""
    return ("python -c \"from transformers import AutoTokenizer, "
            f"{auto_class}; AutoTokenizer.from_pretrained('{model}'); "
            f"{auto_class}.from_pretrained('{model}')\" (or: hf download {model})")


def hf_model_source(model: str, metric: str, fetch: str, cache_dir: str | None = None,
                    option: str = "model") -> str:
    """What to hand `from_pretrained` for `model`: a local folder as it is, the
    cached snapshot of a Hub name (no network), or the Hub name itself when it
    is not cached and the Hub can be reached (the libraries then download and
    cache it as usual). Raises `missing_weights` at once otherwise.
    """
    expanded = os.path.expanduser(model)
    if os.path.isdir(expanded):
        return expanded
    if os.path.isabs(expanded) or model.startswith((".", "~")) or os.path.exists(expanded):
        raise MetricError(f"{metric}: model folder {model!r} does not exist (or is not a "
                          "folder holding config.json and weights)")
    snapshot = hf_cached_snapshot(model, ("config.json",), cache_dir=cache_dir)
    if snapshot and any(os.path.exists(os.path.join(snapshot, f)) for f in HF_WEIGHT_FILES):
        return snapshot
    if hub_unavailable():
        looked = " and ".join(hf_cache_dirs(cache_dir))
        raise missing_weights(metric, model, f"the Hugging Face cache {looked}", fetch, option)
    return model
