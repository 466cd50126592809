"""Benchmarks, runs and figures (imports metrics and correlation; nothing imports it)."""
