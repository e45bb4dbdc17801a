"""Person-resolution benchmark against the simulator's ground truth.

    .venv/bin/python -m benchmarks.resolve --world /tmp/w/small [--preset small]
    .venv/bin/python -m benchmarks.resolve --world /work/bench/large --max-records 1000000 --repeat 3 \
        [--splink --splink-python /tmp/splinkenv/bin/python]

``--world`` is a folder with ``landing/`` and ``truth/`` (generated when absent; an existing
world is only read). Person records = every form lead row and the latest version of every
CRM contact, read straight from the landing CSVs; ``truth/records.parquet`` gives each its
true person. ``--max-records N`` keeps the first N in delivery order. Prints pairwise
P/R/F1, B-cubed, the blocking reduction ratio, the resolver's seconds per stage (min and
median of ``--repeat`` runs), loading apart, and peak RSS: of loading, and of the resolver
alone (the count is reset after loading, on Linux).

``--splink`` also runs Splink (DuckDB backend) on the same records in a child process of an
interpreter that has it (``benchmarks/splink_runner.py``; Splink is not a dependency of
leadgen), and prints its figures beside ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
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
                                    pl.col(id_col).alias("source_id"), pl.lit(f.parent.name).alias("day"),
                                    *[pl.col(h).alias(r) for h, r in rename.items()]))
    crm = []
    for f in sorted((world / "landing" / "crm_contacts").glob("*/*.csv")):
        crm.append(pl.read_csv(f, infer_schema=False).with_columns(pl.lit(f.parent.name).alias("_day")))
    if crm:
        c = pl.concat(crm, how="diagonal").sort("_day", "LastModifiedDate").unique("Id", keep="last")
        frames.append(c.select(pl.lit("crm_contacts").alias("source"), pl.lit(None, dtype=pl.Utf8).alias("channel"),
                               pl.col("Id").alias("source_id"), pl.col("_day").alias("day"), *[pl.col(h).alias(r) for h, r in CRM.items()]))
    recs = pl.concat(frames, how="diagonal")
    truth = pl.read_parquet(world / "truth" / "records.parquet").filter(
        pl.col("source").is_in(["form_leads", "crm_contacts"])).unique(["source", "channel", "record_id"])
    recs = recs.join(truth.select("source", "channel", pl.col("record_id").alias("source_id"), "true_person_id"),
                     on=["source", "channel", "source_id"], how="left", nulls_equal=True)
    return recs.with_columns((pl.col("source") + ":" + pl.coalesce("channel", pl.lit("")) + ":" + pl.col("source_id"))
                             .alias("record_key")).sort("record_key")


def subset(recs: pl.DataFrame, max_records: int | None) -> pl.DataFrame:
    """The first ``max_records`` records in delivery order (day, then record key): the
    history up to some day, as a world with fewer days would have it."""
    if max_records is None or max_records >= recs.height:
        return recs
    return recs.sort("day", "record_key").head(max_records).sort("record_key")


def _reset_peak_rss() -> bool:
    """Start this process's peak-RSS count afresh (Linux: clear_refs 5 resets VmHWM), so the
    resolver's peak is measured apart from loading. False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


STAGES = ("seconds_prepare", "seconds_link_load", "seconds_link_deterministic", "seconds_link_blocking",
          "seconds_link_score", "seconds_link", "seconds_cluster", "seconds_total")


def run_ours(recs: pl.DataFrame, mapping: dict[str, str], config: R.Config, repeat: int) -> tuple[R.Resolution, dict]:
    """``repeat`` runs of the resolver; min and median of each stage's seconds and of the
    process's CPU seconds (all threads: steadier than wall time on a shared machine), and the
    peak RSS of the runs (measured from a reset after loading, where the OS allows it)."""
    reset = _reset_peak_rss()
    runs, res = [], None
    for _ in range(repeat):
        t, cpu = time.perf_counter(), time.process_time()
        res = R.resolve(recs, mapping, id_column="record_key", config=config)
        runs.append({**{k: res.stats[k] for k in STAGES}, "wall": time.perf_counter() - t,
                     "cpu_seconds": time.process_time() - cpu})
    timing = {}
    for k in (*STAGES, "wall", "cpu_seconds"):
        values = sorted(r[k] for r in runs)
        timing[f"{k}_min"] = round(values[0], 2)
        timing[f"{k}_median"] = round(statistics.median(values), 2)
    timing["runs_wall"] = [round(r["wall"], 2) for r in runs]
    timing["peak_rss_mb_resolve" if reset else "peak_rss_mb_process"] = round(peak_rss_mb(), 1)
    return res, timing


def run_splink(recs: pl.DataFrame, mapping: dict[str, str], python: str, threshold: float | None) -> dict:
    """Splink on the same records, normalised by our ``prepare``, in a child process of the
    interpreter ``python`` (which has splink); its figures and its pairwise/B-cubed scores."""
    prepared = R.prepare(recs, mapping, id_column="record_key")
    with tempfile.TemporaryDirectory(prefix="leadgen-splink-") as tmp:
        src, dst = Path(tmp) / "records.parquet", Path(tmp) / "clusters.parquet"
        prepared.write_parquet(src)
        cmd = [python, str(Path(__file__).with_name("splink_runner.py")), str(src), str(dst)]
        if threshold is not None:
            cmd += ["--threshold", str(threshold)]
        t = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
            return {"error": f"splink exited {done.returncode}: {tail[0][:300]}"}
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        clusters = pl.read_parquet(dst)
    # records Splink did not get (placeholder records) are singletons
    n = recs.height
    joined = pl.DataFrame({"rid": pl.int_range(n, eager=True)}).join(
        clusters.select(pl.col("rid").cast(pl.Int64), pl.col("cluster_id").cast(pl.Utf8)),
        on="rid", how="left", maintain_order="left")
    cluster_id = joined.select(pl.coalesce("cluster_id", pl.lit("single:") + pl.col("rid").cast(pl.Utf8)))
    scores = R.evaluate(cluster_id.to_series(), recs["true_person_id"])
    return {**scores, **figures, "seconds_process": round(wall, 2)}


def _side_by_side(ours: dict, splink: dict) -> str:
    """Our figures and Splink's in two columns. Splink gets records normalised by our
    prepare, so its seconds are compared with ours both with and without that stage."""
    prep = ours["seconds_prepare_median"]
    rows = [
        ("pairwise precision", ours["pairwise_precision"], splink["pairwise_precision"], "{:12.5f}"),
        ("pairwise recall", ours["pairwise_recall"], splink["pairwise_recall"], "{:12.5f}"),
        ("pairwise F1", ours["pairwise_f1"], splink["pairwise_f1"], "{:12.5f}"),
        ("B-cubed F1", ours["bcubed_f1"], splink["bcubed_f1"], "{:12.5f}"),
        ("links over the threshold", ours["links_accepted"], splink["links"], "{:12,d}"),
        ("wall s, after normalising", ours["wall_median"] - prep, splink["seconds_total"], "{:12.1f}"),
        ("wall s, with our prepare", ours["wall_median"], splink["seconds_total"] + prep, "{:12.1f}"),
        ("peak RSS MB", ours.get("peak_rss_mb_resolve", ours.get("peak_rss_mb_process")), splink["peak_rss_mb"], "{:12.0f}"),
    ]
    lines = [f"{'':28s} {'leadgen':>12s} {'splink':>12s}"]
    lines += [f"{label:28s} {fmt.format(a)} {fmt.format(b)}" for label, a, b, fmt in rows]
    lines.append("(seconds: medians of the --repeat runs for leadgen, one run for Splink; leadgen's RSS is its "
                 "process's after loading the records, Splink's its child process's)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--preset", default="small", help="preset of the world generated when --world has none")
    ap.add_argument("--threshold", type=float, default=R.Config.threshold)
    ap.add_argument("--max-records", type=int, default=None,
                    help="resolve only the first N records in delivery order (e.g. 1000000 of the large world)")
    ap.add_argument("--repeat", type=int, default=1, help="resolver runs to time (min and median reported)")
    ap.add_argument("--splink", action="store_true", help="also run Splink on the same records (needs --splink-python)")
    ap.add_argument("--splink-python", default=None, help="an interpreter that has splink, duckdb and polars")
    ap.add_argument("--splink-threshold", type=float, default=None, help="Splink's match probability threshold")
    args = ap.parse_args(argv)
    if args.splink and not args.splink_python:
        ap.error("--splink needs --splink-python PATH (an interpreter with splink installed)")
    if not (args.world / "truth" / "records.parquet").exists():
        from leadgen_assets.sim import WorldConfig, generate_world
        generate_world(WorldConfig.preset(args.preset, seed=7), args.world / "landing", args.world / "truth")
    t0 = time.perf_counter()
    recs = subset(load_records(args.world), args.max_records)
    t_load = time.perf_counter() - t0
    rss_load = peak_rss_mb()
    mapping = {r: r for r in R.ROLES if r in recs.columns}
    res, timing = run_ours(recs, mapping, R.Config(threshold=args.threshold), max(1, args.repeat))
    out = R.evaluate(res.clusters["cluster_id"], recs["true_person_id"])
    out.update({k: v for k, v in res.stats.items() if not k.startswith("seconds")})
    out.update(timing)
    out.update(records_loaded=recs.height, truth_missing=int(recs["true_person_id"].null_count()),
               seconds_load=round(t_load, 2), peak_rss_mb_load=round(rss_load, 1))
    if args.splink:
        out["splink"] = run_splink(recs, mapping, args.splink_python, args.splink_threshold)
    print(json.dumps(out, indent=2, default=float))
    if args.splink and "error" not in out["splink"]:
        print(_side_by_side(out, out["splink"]))
    return out


if __name__ == "__main__":
    main()
