"""PAC-S and RefPAC-S.

Sarto, Barraco, Cornia, Baraldi and Cucchiara 2023, "Positive-Augmented
Contrastive Learning for Image and Video Captioning Evaluation" (CVPR;
arXiv:2303.12112), with the conventions of the authors' reference code,
aimagelab/pacscore (evaluation/pac_score/pac_score.py, compute_metrics.py):

    PAC-S(c, v)       = w * max(cos(E_c, E_v), 0),  w = 2.0
    RefPAC-S(c, R, v) = H-Mean(PAC-S(c, v), max_r cos(E_c, E_r))

that is CLIP-S and RefCLIP-S (clip_score.py) with the authors' fine-tuned
CLIP ViT-B/32 in place of OpenAI's weights, w = 2.0 in place of 2.5, the
same "A photo depicts" prefix on candidates and references, and the model in
float32 (the reference code calls `model.float()`).

The weights are only the authors' checkpoint file, `clip_ViT-B-32.pth`
(a `{"state_dict": ...}` of OpenAI's CLIP layout, from the Google Drive
folder linked in the authors' README). There is no fallback to OpenAI's
weights: without the file the metric refuses to run, and its signature names
the file's SHA-256, so a PAC-S number can never be CLIP-S's computed under
another name (a user of the reference code got CLIP-S's tau-c when the
checkpoint did not load, aimagelab/pacscore#3).
"""
from __future__ import annotations

import os
from typing import Any

from .base import MetricError
from .clip_score import DEFAULT_MODEL, DEFAULT_PREFIX, ClipScore, RefClipScore
from .models import path_digest

PACS_CHECKPOINT = "clip_ViT-B-32.pth"
PACS_W = 2.0
PACS_SOURCE = ("the 'CLIP ViT-B-32' checkpoint of github.com/aimagelab/pacscore "
               "(README, 'Loading CLIP Models')")


def default_checkpoint() -> str:
    """Where PAC-S looks for the authors' checkpoint when no `checkpoint` is given:
    $XDG_CACHE_HOME/socratis_metaeval/pacscore/clip_ViT-B-32.pth (~/.cache by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "socratis_metaeval", "pacscore", PACS_CHECKPOINT)


def checked_checkpoint(owner: str, checkpoint: str | None) -> str:
    """The checkpoint file, or the MetricError that names the authors' file and where to put it."""
    path = os.path.expanduser(str(checkpoint)) if checkpoint else default_checkpoint()
    if os.path.isfile(path):
        return path
    where = ("the checkpoint option" if checkpoint else "the default location")
    raise MetricError(
        f"{owner}: the PAC-S weights are missing: no file {path} ({where}). Download "
        f"{PACS_CHECKPOINT}, {PACS_SOURCE}, and put it there or pass its path as "
        f"--metric-option {owner}.checkpoint=PATH; PAC-S is never computed with OpenAI's "
        "CLIP weights")


class PacScore(ClipScore):
    """PAC-S (Sarto et al. 2023): CLIP-S with the authors' fine-tuned ViT-B/32 and w = 2.0.

    Options as ClipScore's, except:
      checkpoint: the authors' checkpoint file clip_ViT-B-32.pth (default:
        `default_checkpoint()`); required, there is no `pretrained` tag.
      w: 2.0; quick_gelu: True (OpenAI's ViT-B/32 layout, which the
        checkpoint fine-tunes); precision: "fp32", as the reference code.
    The signature names the checkpoint by its SHA-256 (`checkpoint_sha256`).
    """

    name = "pacscore"

    def __init__(self, checkpoint: str | None = None, model: str = DEFAULT_MODEL,
                 quick_gelu: bool | None = True, prefix: str = DEFAULT_PREFIX,
                 w: float = PACS_W, precision: str = "fp32", **options: Any):
        if "pretrained" in options:
            raise MetricError(f"{self.name}: takes no 'pretrained' option; give the authors' "
                              f"checkpoint file {PACS_CHECKPOINT} as 'checkpoint'")
        path = checked_checkpoint(self.name, checkpoint)
        super().__init__(model=model, pretrained=path, quick_gelu=quick_gelu, prefix=prefix,
                         w=w, precision=precision, **options)
        self.checkpoint = path

    def settings(self) -> dict[str, Any]:
        settings = super().settings()
        settings.pop("pretrained")
        settings["checkpoint_sha256"] = path_digest(self.checkpoint)
        return settings

    def check_ready(self) -> None:
        checked_checkpoint(self.name, self.checkpoint)


class RefPacScore(PacScore, RefClipScore):
    """RefPAC-S (Sarto et al. 2023): the harmonic mean of PAC-S and the best
    candidate-reference cosine, as RefCLIP-S; same options as PacScore.

    Extras as RefClipScore's (`clip_s` is the PAC-S term)."""

    name = "refpacscore"
    needs_references = True
