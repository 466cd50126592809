"""Warnings the correlation functions issue (public: filter or catch them by class).

- `UndefinedCorrelationWarning`: a statistic is undefined for the data given
  (fewer than two pairs, a constant side, no decisive pair) and was returned
  as NaN; the message says why.
- `NonFiniteScoreWarning`: a function that returns a bare number or array
  (`kendall_tau`, `pearson`, `spearman`, `tie_calibration`,
  `preference_margin`, `preference_tie_calibration`) met an infinite score
  and treated it as NaN (the row is dropped). Functions that return a result
  object say the same in its ``notes`` and count the rows in ``n_nan``
  instead of warning.
"""

__all__ = ["UndefinedCorrelationWarning", "NonFiniteScoreWarning"]


class UndefinedCorrelationWarning(RuntimeWarning):
    """A statistic is undefined for the data given (and was returned as NaN)."""


class NonFiniteScoreWarning(RuntimeWarning):
    """An infinite score was treated as NaN (its row dropped) before any statistic."""
