"""Shared plumbing for model-based metrics: devices and missing weights."""
from __future__ import annotations

import os

from .base import MetricError


def resolve_device(device: str | None = "cpu") -> str:
    """'auto' picks cuda, then mps, then cpu; an explicit device must exist."""
    import torch

    device = (device or "cpu").lower()
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


def missing_weights(metric: str, weights: str, looked_in: str, fetch: str) -> MetricError:
    """The one error a metric raises when its weights are not on this machine."""
    return MetricError(
        f"{metric}: weights {weights!r} are not available offline (looked in {looked_in}). "
        f"On a machine with network, fetch them once with: {fetch} "
        "-- or pass a local path to the weights as the model option.")
