"""Person-resolution benchmark against the simulator's ground truth.

    .venv/bin/python -m benchmarks.resolve --world /tmp/w/small [--preset small]

``--world`` is a folder with ``landing/`` and ``truth/`` (generated when absent). Person
records = every form lead row and the latest version of every CRM contact, read straight
from the landing CSVs; ``truth/records.parquet`` gives each its true person. Prints
pairwise P/R/F1, B-cubed, the blocking reduction ratio, wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import polars as pl

from benchmarks.common import peak_rss_mb
from leadgen_assets.core import resolve as R
from leadgen_assets.sim.forms import LAYOUTS

FIELDS = {"first_name": "first_name", "last_name": "last_name", "full_name": "full_name", "email": "email",
          "phone": "phone", "company": "company", "website": "website", "postal": "postcode", "city": "city",
          "country": "country"}
CRM = {"FirstName": "first_name", "LastName": "last_name", "Email": "email", "Phone": "phone"}


def load_records(world: Path) -> pl.DataFrame:
    frames = []
    for channel, layout in LAYOUTS.items():
        files = sorted((world / "landing" / "form_leads").glob(f"*/{channel}-*.csv"))
        for f in files:
            df = pl.read_csv(f, infer_schema=False)
            rename = {h: FIELDS[fld] for h, fld in layout.items() if fld in FIELDS and h in df.columns}
            id_col = next(h for h, fld in layout.items() if fld == "record_id")
            frames.append(df.select(pl.lit("form_leads").alias("source"), pl.lit(channel).alias("channel"),
                                    pl.col(id_col).alias("source_id"),
                                    *[pl.col(h).alias(r) for h, r in rename.items()]))
    crm = []
    for f in sorted((world / "landing" / "crm_contacts").glob("*/*.csv")):
        crm.append(pl.read_csv(f, infer_schema=False).with_columns(pl.lit(f.parent.name).alias("_day")))
    if crm:
        c = pl.concat(crm, how="diagonal").sort("_day", "LastModifiedDate").unique("Id", keep="last")
        frames.append(c.select(pl.lit("crm_contacts").alias("source"), pl.lit(None, dtype=pl.Utf8).alias("channel"),
                               pl.col("Id").alias("source_id"), *[pl.col(h).alias(r) for h, r in CRM.items()]))
    recs = pl.concat(frames, how="diagonal")
    truth = pl.read_parquet(world / "truth" / "records.parquet").filter(
        pl.col("source").is_in(["form_leads", "crm_contacts"])).unique(["source", "channel", "record_id"])
    recs = recs.join(truth.select("source", "channel", pl.col("record_id").alias("source_id"), "true_person_id"),
                     on=["source", "channel", "source_id"], how="left", nulls_equal=True)
    return recs.with_columns((pl.col("source") + ":" + pl.coalesce("channel", pl.lit("")) + ":" + pl.col("source_id"))
                             .alias("record_key")).sort("record_key")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--threshold", type=float, default=R.Config.threshold)
    args = ap.parse_args(argv)
    if not (args.world / "truth" / "records.parquet").exists():
        from leadgen_assets.sim import WorldConfig, generate_world
        generate_world(WorldConfig.preset(args.preset, seed=7), args.world / "landing", args.world / "truth")
    t0 = time.perf_counter()
    recs = load_records(args.world)
    t_load = time.perf_counter() - t0
    mapping = {r: r for r in R.ROLES if r in recs.columns}
    t1 = time.perf_counter()
    res = R.resolve(recs, mapping, id_column="record_key", config=R.Config(threshold=args.threshold))
    t_resolve = time.perf_counter() - t1
    out = R.evaluate(res.clusters["cluster_id"], recs["true_person_id"])
    out.update({k: v for k, v in res.stats.items()})
    out.update(records_loaded=recs.height, truth_missing=int(recs["true_person_id"].null_count()),
               seconds_load=round(t_load, 2), seconds_resolve=round(t_resolve, 2),
               peak_rss_mb=round(peak_rss_mb(), 1))
    print(json.dumps(out, indent=2, default=float))
    return out


if __name__ == "__main__":
    main()
