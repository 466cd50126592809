"""metrics.open_image: one reader, one set of checks, for every image-reading metric."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from metrics import ImageReadError, open_image

from .conftest import write_image


@pytest.fixture
def png(tmp_path):
    return write_image(tmp_path / "ok.png", size=(40, 30), seed=5)


@pytest.mark.parametrize("mode,suffix", [("L", ".png"), ("RGBA", ".png"), ("CMYK", ".jpg"),
                                         ("P", ".png"), ("I;16", ".png"), ("1", ".png")])
def test_every_mode_becomes_rgb_as_pil_converts_it(tmp_path, mode, suffix):
    path = write_image(tmp_path / f"img{suffix}", mode=mode, size=(21, 13), seed=2)
    image = open_image(path)
    assert image.mode == "RGB" and image.size == (21, 13)
    with Image.open(path) as raw:
        expected = np.asarray(raw.convert("RGB"))
    np.testing.assert_array_equal(np.asarray(image), expected)


def test_bytes_already_read_give_the_same_pixels(png):
    with open(png, "rb") as f:
        data = f.read()
    np.testing.assert_array_equal(np.asarray(open_image(png, data=data)),
                                  np.asarray(open_image(png)))


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="image file not found: .*gone.png"):
        open_image(str(tmp_path / "gone.png"))


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not an image\n")
    with pytest.raises(ImageReadError, match="not a readable image: .*notes.jpg"):
        open_image(str(path))


def test_truncated_file(png, tmp_path):
    data = open(png, "rb").read()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="damaged or truncated: .*cut.png"):
        open_image(str(cut))


def test_pixel_limit_is_ours_not_pils(png, monkeypatch):
    with pytest.raises(ImageReadError, match="40x30 = 1200 pixels, more than max_image_pixels=1000"):
        open_image(png, max_pixels=1000)
    assert open_image(png, max_pixels=1200).size == (40, 30)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # PIL's bomb check would refuse
    assert open_image(png, max_pixels=None).size == (40, 30)
    assert Image.MAX_IMAGE_PIXELS == 100  # and its global is left as it was


def test_a_file_hashed_for_the_cache_is_not_read_again_to_decode(png, monkeypatch):
    import builtins

    from metrics import image_digest

    reads = []
    real_open = builtins.open

    def counting_open(file, *args, **kwargs):
        if str(file) == png:
            reads.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    import hashlib

    assert image_digest(png) == hashlib.sha256(Path(png).read_bytes()).hexdigest()
    reads.clear()
    first = np.asarray(open_image(png))
    assert reads == []  # decoded from the bytes the hash read
    np.testing.assert_array_equal(np.asarray(open_image(png)), first)  # later: from the file
    assert reads  # (PIL opens the path itself, through builtins.open)
