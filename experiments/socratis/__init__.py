"""Benchmark loaders: files in, one `Benchmark` out."""
