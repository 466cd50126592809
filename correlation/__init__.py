"""Compare metric scores with human judgments (plain numpy/scipy)."""
from ._validate import UndefinedCorrelationWarning
from .bootstrap import bootstrap_ci
from .compare import (assign_clusters, compare_metrics, paired_bootstrap, permutation_test,
                      significance_clusters)
from .levels import LEVELS, PAIR_STATISTICS, UNITS, correlate
from .results import ClusterEntry, ComparisonResult, CorrelationResult, SignificanceClusters
from .statistics import STATISTICS, TieCalibration, kendall_tau, pearson, spearman, tie_calibration

__all__ = ["kendall_tau", "spearman", "pearson", "tie_calibration", "TieCalibration", "correlate",
           "bootstrap_ci", "paired_bootstrap", "permutation_test", "compare_metrics",
           "significance_clusters", "assign_clusters", "CorrelationResult", "ComparisonResult",
           "ClusterEntry", "SignificanceClusters", "STATISTICS", "LEVELS", "PAIR_STATISTICS", "UNITS",
           "UndefinedCorrelationWarning"]
