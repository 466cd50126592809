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
