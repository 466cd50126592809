"""Benchmarks, runs and figures (imports metrics and correlation; nothing imports it)."""
from .shadowing import check_not_shadowed

check_not_shadowed()  # before any entry point imports a metrics.py of the current folder
