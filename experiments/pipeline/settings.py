"""Every analysis option, in one object, from the command line to every table.

The field names are the command-line option names (`--bootstrap` ->
`bootstrap`, `--ci-method` -> `ci_method`), so an option travels under one
name from `run_correlation` to each statistic, comparison and benchmark
table, and is checked once, here.
"""
from __future__ import annotations

from dataclasses import dataclass

CI_METHODS = ("bca", "percentile")
#: --swap-unit: what a permutation test swaps; None = whole items where rows share one.
SWAP_UNITS = ("row", "item")


@dataclass(frozen=True)
class AnalysisSettings:
    """How sure: bootstrap and permutation settings, stated in every report."""

    bootstrap: int = 1000
    confidence: float = 0.95
    ci_method: str = "bca"
    seed: int = 0
    alpha: float = 0.05
    permutations: int = 1000
    swap_unit: str | None = None

    def __post_init__(self) -> None:
        for option, value, ok in (
                ("--bootstrap", self.bootstrap, isinstance(self.bootstrap, int) and self.bootstrap >= 2),
                ("--permutations", self.permutations,
                 isinstance(self.permutations, int) and self.permutations >= 1),
                ("--seed", self.seed, isinstance(self.seed, int) and self.seed >= 0),
                ("--confidence", self.confidence, 0 < self.confidence < 1),
                ("--alpha", self.alpha, 0 < self.alpha < 1),
                ("--ci-method", self.ci_method, self.ci_method in CI_METHODS),
                ("--swap-unit", self.swap_unit, self.swap_unit in (None, *SWAP_UNITS))):
            if not ok:
                raise ValueError(f"{option} {value} is out of range")

    @classmethod
    def from_args(cls, args) -> "AnalysisSettings":
        """The settings named by parsed `run_correlation` arguments."""
        return cls(bootstrap=args.bootstrap, confidence=args.confidence,
                   ci_method=args.ci_method, seed=args.seed, alpha=args.alpha,
                   permutations=args.permutations, swap_unit=getattr(args, "swap_unit", None))

    def describe(self) -> list[str]:
        return [
            f"Intervals: {self.confidence:.0%} {'BCa' if self.ci_method == 'bca' else self.ci_method} "
            f"bootstrap, {self.bootstrap} resamples, seed {self.seed}, resampling the "
            "benchmark's natural unit (the `unit` column: whole images or pairs, both "
            "systems and images at system level; Deutsch et al. 2021).",
            f"Comparisons (comparisons.csv): paired bootstrap of the difference a - b on the "
            f"same resamples, and a two-sided paired permutation test ({self.permutations} "
            "draws, metrics' z-scored scores swapped per unit; mt-metrics-eval), swapping "
            + {None: "whole items (images, pairs) where rows share one, rows otherwise",
               "row": "rows one by one (--swap-unit row)",
               "item": "whole items (--swap-unit item)"}[self.swap_unit]
            + " (the `swap_unit` column).",
            f"Significance clusters: metrics ranked by the statistic; one opens a new cluster "
            f"when a metric of the current cluster beats it with one-sided permutation "
            f"p <= {self.alpha} (mt-metrics-eval AssignRanks, WMT22/23).",
        ]
