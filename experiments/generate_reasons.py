"""Command line of Socratis reason generation (`experiments.socratis.reasons`).

    python -m experiments.generate_reasons --data-dir DATA --model MODEL --generator NAME
"""
import sys

from .socratis.reasons import main

if __name__ == "__main__":
    sys.exit(main())
