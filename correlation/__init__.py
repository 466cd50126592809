"""Compare metric scores with human judgments (plain numpy/scipy)."""
from ._validate import UndefinedCorrelationWarning
from .statistics import STATISTICS, TieCalibration, kendall_tau, pearson, spearman, tie_calibration

__all__ = ["kendall_tau", "spearman", "pearson", "tie_calibration", "TieCalibration", "STATISTICS",
           "UndefinedCorrelationWarning"]
