"""Command line of the Socratis human-study kit (`experiments.socratis.study`).

    python -m experiments.human_study export ... | import ...
"""
import sys

from .socratis.study import main

if __name__ == "__main__":
    sys.exit(main())
