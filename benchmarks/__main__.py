"""python -m benchmarks [pipeline] --scale medium --repeat 3"""

import argparse
from pathlib import Path

from benchmarks.pipeline import main

parser = argparse.ArgumentParser(prog="python -m benchmarks", description="leadgen benchmarks")
parser.add_argument("which", nargs="?", default="pipeline", choices=["pipeline"])
parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
parser.add_argument("--repeat", type=int, default=1)
parser.add_argument("--workdir", type=Path, default=None)
args = parser.parse_args()
main(scale=args.scale, repeat=args.repeat, workdir=args.workdir)
