"""Figure modules for `python -m experiments.make_figures`, one small module per figure kind."""
