"""Opening images: the one reader every image-reading metric uses.

`open_image` turns a file into a fully decoded RGB PIL image or raises
`ImageReadError` saying why not (missing, not an image, over the pixel limit,
truncated or damaged data, a mode with no RGB conversion). CLIPScore, the VLM
judge's local backend and reason generation all read images through it, so
one file gets the same answer everywhere.
"""
from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from typing import Any, Sequence

# Pixels an image may have before it is refused rather than decoded (about
# 0.8 GB as RGB). PIL's own decompression-bomb limit (89 Mpx warns, 179 Mpx
# refuses) guards against hostile files; benchmark images are local files a
# user chose, so that limit is replaced by this one (None: no limit).
DEFAULT_MAX_IMAGE_PIXELS = 2 ** 28


class ImageReadError(Exception):
    """An image file could not be turned into pixels."""


_PIL_LIMIT_LOCK = threading.Lock()

# Bytes of image files read recently (to hash them for the score cache), kept
# so that decoding them does not read the file again; bounded, oldest dropped.
# Keyed by (absolute path, size, mtime), so a changed file is read afresh.
RECENT_BYTES_BUDGET = 256 * 2 ** 20
RECENT_FILE_MAX = 64 * 2 ** 20  # larger files are not kept
_RECENT: "OrderedDict[tuple[str, int, int], bytes]" = OrderedDict()
_RECENT_SIZE = [0]
_RECENT_LOCK = threading.Lock()


def file_key(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return os.path.abspath(path), st.st_size, st.st_mtime_ns


def keep_recent_bytes(key: tuple[str, int, int], data: bytes) -> None:
    """Remember `data`, the bytes of the file `key` names, for `open_image`."""
    if len(data) > RECENT_FILE_MAX:
        return
    with _RECENT_LOCK:
        if key in _RECENT:
            return
        _RECENT[key] = data
        _RECENT_SIZE[0] += len(data)
        while _RECENT_SIZE[0] > RECENT_BYTES_BUDGET:
            _, dropped = _RECENT.popitem(last=False)
            _RECENT_SIZE[0] -= len(dropped)


def forget_recent_bytes(paths) -> None:
    """Drop the kept bytes of `paths` (decoded elsewhere, e.g. in worker processes)."""
    for path in paths:
        _take_recent_bytes(path)


def _take_recent_bytes(path: str) -> bytes | None:
    try:
        key = file_key(path)
    except OSError:
        return None
    with _RECENT_LOCK:
        data = _RECENT.pop(key, None)
        if data is not None:
            _RECENT_SIZE[0] -= len(data)
        return data


def read_image_bytes(path: str) -> bytes:
    """The bytes of image file `path`; ImageReadError when it is missing or unreadable."""
    if not path or not os.path.isfile(path):
        raise ImageReadError(f"image file not found: {path}")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise ImageReadError(f"cannot read image file {path}: {exc}") from exc


def open_image(path: str, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS,
               data: bytes | None = None) -> Any:
    """Open `path` with PIL, decode it fully and return it as an RGB image.

    `data`, when given, is the file's bytes already read (the file is then not
    opened again); bytes kept by `keep_recent_bytes` (the score cache's hash
    of the same file, unchanged since) are used the same way. Raises ImageReadError with the reason for a missing,
    truncated, non-image or over-large file. Any PIL mode (L, RGBA, CMYK, P,
    I;16, ...) becomes RGB. EXIF orientation is not applied.
    """
    from PIL import Image

    if data is None and not (path and os.path.isfile(path)):
        raise ImageReadError(f"image file not found: {path}")
    if data is None:
        data = _take_recent_bytes(path)
    source = io.BytesIO(data) if data is not None else path
    try:
        # Only the header is read here; the pixel budget is checked below,
        # against our limit instead of PIL's global one.
        with _PIL_LIMIT_LOCK:
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                image = Image.open(source)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except Exception as exc:  # UnidentifiedImageError, OSError, ...
        raise ImageReadError(f"not a readable image: {path} ({exc})") from exc
    try:
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise ImageReadError(
                f"image {path} has {width}x{height} = {width * height} pixels, more than "
                f"max_image_pixels={max_pixels}; raise that option to read it")
        try:
            image.load()
        except Exception as exc:  # truncated data, broken stream
            raise ImageReadError(f"image data is damaged or truncated: {path} ({exc})") from exc
        try:
            return image.convert("RGB")
        except Exception as exc:
            raise ImageReadError(
                f"image mode {image.mode} cannot be converted to RGB: {path} ({exc})") from exc
    finally:
        image.close()


def open_batch(paths: Sequence[str | None]) -> tuple[list[int], list[Any], dict[int, str]]:
    """Open one batch's images with `open_image` (None: the request has no image).

    Returns the positions that can go to the model, their images (None where
    there is no image), and {position: why not} for the images that cannot be
    read, in order."""
    ready: list[int] = []
    images: list[Any] = []
    failed: dict[int, str] = {}
    for k, path in enumerate(paths):
        try:
            image = None if path is None else open_image(path)
        except ImageReadError as exc:
            failed[k] = str(exc)
            continue
        ready.append(k)
        images.append(image)
    return ready, images, failed
