"""What figures and LaTeX tables call things: one table of display names, overridable.

Keys are the names the results files use (metrics, statistics, levels,
verdicts and subsets, benchmarks, generators); values are what a paper
prints. A value may hold `$...$` math, which matplotlib's mathtext and LaTeX
both render (`Kendall $\\tau_c$`). A name not in the table is shown as is.

Users override any entry with `KEY=TEXT` items (`--display-name bleu4=BLEU@4`,
repeatable) or a file of such lines (`--display-names FILE`; blank lines and
lines starting with `#` are skipped).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from ..benchmarks.files import text_lines

DISPLAY_NAMES: dict[str, str] = {
    # metrics
    "bleu1": "BLEU-1", "bleu2": "BLEU-2", "bleu3": "BLEU-3", "bleu4": "BLEU-4",
    "meteor": "METEOR", "rouge_l": "ROUGE-L", "cider": "CIDEr", "spice": "SPICE",
    "bertscore": "BERTScore", "bartscore": "BARTScore", "clipscore": "CLIP-S",
    "refclipscore": "RefCLIP-S", "vlm_judge": "VLM judge", "fleur": "FLEUR",
    "pacscore": "PAC-S", "refpacscore": "RefPAC-S",
    "vlm_judge_pairwise": "VLM judge (pairwise)", "human_ceiling": "Human ceiling",
    # statistics (Deutsch et al. 2023 name the tie-aware pair tau_eq and acc_eq)
    "kendall_b": r"Kendall $\tau_b$", "kendall_c": r"Kendall $\tau_c$",
    "kendall_23": r"Kendall $\tau_{eq}$", "acc23": r"acc$_{eq}$",
    "spearman": r"Spearman $\rho$", "pearson": r"Pearson $r$",
    "accuracy": "Accuracy", "tau_like": r"$\tau$-like",
    "kappa": r"Cohen's $\kappa$", "krippendorff_interval": r"Krippendorff's $\alpha$ (interval)",
    "krippendorff_ordinal": r"Krippendorff's $\alpha$ (ordinal)",
    "spa": "Soft pairwise accuracy", "pairwise_accuracy": "Pairwise accuracy",
    "ranking_spearman_bt": r"Spearman $\rho$, BT ranks",
    "ranking_kendall_bt": r"Kendall $\tau_b$, BT ranks",
    "ranking_spearman_elo": r"Spearman $\rho$, Elo ranks",
    "ranking_kendall_elo": r"Kendall $\tau_b$, Elo ranks",
    "caption_agreement": "Caption-level agreement",
    "caption_agreement_no_ties": "Caption-level agreement (no ties)",
    # levels (flat and pair need no word)
    "flat": "", "pair": "", "item": "per item", "system": "system level",
    # human-study verdicts and the subsets they define
    "human": "Human-better", "machine": "Machine-better", "both_good": "Both-good",
    "both_bad": "Both-bad", "human_better": "Human-better", "machine_better": "Machine-better",
    "all": "All generators",
    # benchmarks
    "demo": "Demo", "socratis": "Socratis", "flickr8k-expert": "Flickr8k-Expert",
    "flickr8k-cf": "Flickr8k-CF", "pascal50s": "PASCAL-50S", "thumb": "THumB",
    "nebula": "Nebula", "polaris": "Polaris",
    # generators of the Socratis paper and of the bundled demo
    "blip2": "BLIP-2", "blip2-flan-t5-xl": "BLIP-2", "flan-t5-xl-text-only": "FLAN-T5 (text only)",
    "text-only": "Text only",
}


class DisplayNames:
    """`names(key)` -> the display name; the defaults above with the user's overrides."""

    def __init__(self, overrides: Mapping[str, str] | None = None):
        self.table = {**DISPLAY_NAMES, **(overrides or {})}

    def __call__(self, key: str) -> str:
        return self.table.get(key, key)

    def protocol(self, statistic: str, level: str = "", subset: str = "") -> str:
        """'Kendall $\\tau_c$ (per item, HC)': a statistic with its level and subset."""
        extra = ", ".join(x for x in (self(level) if level else "", subset) if x)
        return f"{self(statistic)} ({extra})" if extra else self(statistic)


def add_display_name_arguments(parser, where: str) -> None:
    """--display-name KEY=TEXT (repeatable) and --display-names FILE, for `where`."""
    parser.add_argument("--display-name", action="append", default=[], metavar="KEY=TEXT",
                        help=f"what {where} call KEY (a metric, statistic, benchmark, verdict "
                             "or generator), e.g. bleu4=BLEU@4; repeatable")
    parser.add_argument("--display-names", action="append", default=[], metavar="FILE",
                        help="a file of KEY=TEXT lines, as --display-name")


def parse_display_names(items: Iterable[str] = (), files: Iterable[str | Path] = ()) -> dict[str, str]:
    """Overrides from KEY=TEXT items and files of such lines; a bad one is a ValueError
    naming the item, or the file and line."""
    found: dict[str, str] = {}
    for path in files:
        for number, line in enumerate(text_lines(_names_file_text(path)), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                found.update(_pair(line, f"{path}, line {number}"))
    for item in items:
        found.update(_pair(item, f"--display-name {item!r}"))
    return found


def _names_file_text(path: str | Path) -> str:
    """A display-names file's text (UTF-8, a byte-order mark dropped); a binary file is a
    ValueError saying what was found and what is expected."""
    data = Path(path).read_bytes()
    expected = "expected a UTF-8 text file of KEY=TEXT lines, e.g. bleu4=BLEU@4"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text file: byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start} is not UTF-8; {expected}") from None
    if "\x00" in text:
        raise ValueError(f"{path}: not a text file: it holds NUL bytes; {expected}")
    return text


def _pair(text: str, where: str) -> dict[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ValueError(f"{where}: expected KEY=TEXT, e.g. bleu4=BLEU@4")
    return {key.strip(): value.strip()}


def mathtext_safe(text: str) -> str:
    """`text` for matplotlib: an odd `$` (a literal dollar, not math) is escaped."""
    return text.replace("$", r"\$") if text.count("$") % 2 else text
