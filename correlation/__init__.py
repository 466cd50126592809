"""Compare metric scores with human judgments (plain numpy/scipy).

Knows nothing of metrics' insides or of benchmarks: every function takes
arrays of scores, the metric's first and the human scores second (and
optional item/system labels), and returns numbers or small result objects.
Intervals are asked for with ``ci_method=`` ("bca" or "percentile")
everywhere. See docs/correlation.md for every definition.

`__all__` lists the functions users call and the warnings they may filter.
The result types are in `correlation.results`, the warning classes in
`correlation.warnings`, statistical power (simulated from a pilot, closed
forms, minimum detectable differences) in `correlation.power` (its own
`__all__`; docs/power.md), Krippendorff's alpha and Cohen's kappa of two
sequences in `correlation.inter_annotator` and `correlation.agreement_kappa`,
Bradley-Terry and Elo rankings in `correlation.battles`, the cache that
lets `correlate` and `compare_all` share bootstrap replicates in `correlation.replicates`; modules whose names
start with "_" are internal.
"""
from .agreement_kappa import preference_kappa
from .battles import caption_agreement, ranking_agreement
from .bootstrap import bootstrap_ci
from .ceiling import human_ceiling
from .compare import (assign_clusters, compare_all, compare_metrics, paired_bootstrap,
                      permutation_test, significance_clusters)
from .compare_pairwise import compare_all_pairwise
from .levels import LEVELS, PAIR_STATISTICS, UNITS, correlate
from .preferences import (PreferenceResult, pairwise_agreement, preference_margin,
                          preference_tie_calibration)
from .results import ClusterEntry, ComparisonResult, CorrelationResult, SignificanceClusters
from .spa import soft_pairwise_accuracy, spa_ci, spa_clusters, system_pairwise_accuracy
from .statistics import STATISTICS, TieCalibration, kendall_tau, pearson, spearman, tie_calibration
from .warnings import NonFiniteScoreWarning, UndefinedCorrelationWarning

__all__ = [
    # one statistic, a float
    "kendall_tau", "spearman", "pearson", "tie_calibration",
    # a statistic at a level, with an interval
    "correlate", "bootstrap_ci", "human_ceiling",
    # is one metric better than another?
    "compare_metrics", "paired_bootstrap", "permutation_test", "compare_all",
    "significance_clusters", "compare_all_pairwise",
    # pairwise preferences
    "preference_margin", "pairwise_agreement", "preference_tie_calibration",
    # agreement beyond accuracy (Krippendorff's alpha: correlation.inter_annotator)
    "preference_kappa",
    # system level: soft pairwise accuracy (WMT24-25), pairwise accuracy (WMT22-23)
    "soft_pairwise_accuracy", "spa_ci", "spa_clusters", "system_pairwise_accuracy",
    # rankings from pairwise battles (the rankings themselves: correlation.battles)
    "ranking_agreement", "caption_agreement",
    # warnings
    "UndefinedCorrelationWarning", "NonFiniteScoreWarning",
]
