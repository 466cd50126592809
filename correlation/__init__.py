"""Compare metric scores with human judgments (plain numpy/scipy).

Knows nothing of metrics' insides or of benchmarks: every function takes
arrays of scores (and optional item/system labels) and returns numbers or
small result objects. See docs/correlation.md for every definition.
"""
from ._validate import UndefinedCorrelationWarning
from .bootstrap import bootstrap_ci
from .ceiling import human_ceiling
from .compare import (assign_clusters, compare_all, compare_metrics, paired_bootstrap,
                      permutation_test,
                      significance_clusters)
from .levels import LEVELS, PAIR_STATISTICS, UNITS, correlate
from .power import (PowerCurve, binomial_test_power, correlation_difference_power,
                    minimum_detectable_difference, power_metric_vs_metric, power_metric_vs_value,
                    power_verdicts, sign_test_power, sign_test_size, detectable_share)
from .preferences import (PreferenceResult, pairwise_agreement, preference_margin,
                          preference_tie_calibration, socratis_outcomes)
from .results import ClusterEntry, ComparisonResult, CorrelationResult, SignificanceClusters
from .statistics import STATISTICS, TieCalibration, kendall_tau, pearson, spearman, tie_calibration

__all__ = [
    "kendall_tau", "spearman", "pearson", "tie_calibration", "TieCalibration",
    "correlate", "bootstrap_ci",
    "paired_bootstrap", "permutation_test", "compare_metrics", "compare_all",
    "significance_clusters",
    "assign_clusters",
    "pairwise_agreement", "preference_margin", "preference_tie_calibration", "socratis_outcomes",
    "PreferenceResult", "human_ceiling",
    "CorrelationResult", "ComparisonResult", "ClusterEntry", "SignificanceClusters",
    "PowerCurve", "power_metric_vs_metric", "power_metric_vs_value", "power_verdicts",
    "binomial_test_power", "sign_test_power", "sign_test_size", "detectable_share", "correlation_difference_power",
    "minimum_detectable_difference",
    "STATISTICS", "LEVELS", "PAIR_STATISTICS", "UNITS", "UndefinedCorrelationWarning",
]
