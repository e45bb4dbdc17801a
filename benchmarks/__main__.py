"""python -m benchmarks pipeline --scale medium --repeat 3
python -m benchmarks ingest --scale large --big-file-mb 1024,2048
python -m benchmarks identity --scale medium
python -m benchmarks model --scale medium --days 150"""

import argparse
from pathlib import Path

parser = argparse.ArgumentParser(prog="python -m benchmarks", description="leadgen benchmarks")
parser.add_argument("which", nargs="?", default="pipeline", choices=["pipeline", "ingest", "identity", "model"])
parser.add_argument("--scale", default=None, choices=["small", "medium", "large"],
                    help="world size (default: medium for pipeline and identity, large for ingest)")
parser.add_argument("--repeat", type=int, default=1, help="pipeline: runs to time")
parser.add_argument("--workdir", type=Path, default=None, help="keep the world here (an existing world is reused by ingest)")
parser.add_argument("--big-file-mb", default="", help="ingest: also ingest one web-event file of each size alone, e.g. 1024,2048")
parser.add_argument("--days", type=int, default=150, help="model: days of the sample world (labels need 60 days behind a lead)")
parser.add_argument("--speed-rows", type=int, default=1_000_000, help="model: leads for the speed part (0 skips it)")
args = parser.parse_args()
if args.which == "ingest":
    from benchmarks.ingest import main

    sizes = tuple(int(mb) for mb in args.big_file_mb.split(",") if mb)
    main(scale=args.scale or "large", workdir=args.workdir, big_file_mb=sizes)
elif args.which == "model":
    from benchmarks.model import main

    main(scale=args.scale or "medium", workdir=args.workdir, days=args.days, speed_rows=args.speed_rows)
elif args.which == "identity":
    from benchmarks.identity import main

    main(scale=args.scale or "medium", workdir=args.workdir)
else:
    from benchmarks.pipeline import main

    main(scale=args.scale or "medium", repeat=args.repeat, workdir=args.workdir)
