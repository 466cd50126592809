# `make run` and `make test` create .venv when it is missing and install the
# project into it once; a second call installs nothing and starts at once.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# This machine keeps these two builds on disk; a bare `torch` would pull a
# multi-GB download. Users of the package are not bound to them (setup.cfg).
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: run test bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e '.[test,ray,java]' $(TORCH_PINS)
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.run_correlation --out results
	$(PY) -m experiments.make_figures --results results --out figures

# One worker per core (pytest-xdist); pytest prints the total time and the 15 slowest tests.
# Bytecode is written (__pycache__, ignored by git) even where PYTHONDONTWRITEBYTECODE is
# set: otherwise every worker rewrites the tests' asserts anew and every one of the
# suite's ~100 subprocesses compiles the package again (~0.25 s of CPU each).
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n auto

bench: $(STAMP)
	$(PY) -m experiments.speed

clean:
	rm -rf $(VENV) *.egg-info results
