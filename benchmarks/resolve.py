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

``--incremental N`` times ``resolve_increment`` instead: the first ``--max-records`` records
in delivery order are resolved with ``resolve`` and stored as ``existing`` (``prepare_for_store``,
person id = cluster id, first seen = the person's earliest delivery day); the next N records
are the new day. Prints the increment's wall (min and median of ``--repeat``), its peak RSS,
and pairwise P/R/F1 of the final clustering (existing persons after the merges + the
increment) against the truth on those records, beside a full ``resolve`` of all of them:

    .venv/bin/python -m benchmarks.resolve --world /work/bench/large --max-records 1000000 \
        --incremental 10000 --repeat 3

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


def final_clusters(existing: pl.DataFrame, inc: R.Increment) -> pl.DataFrame:
    """record_id, cluster of every record after an increment: existing records keep their
    person unless it was absorbed by a merge; new records take their person, or their new
    cluster's id."""
    absorbed = dict(inc.merges.select("absorbed_person_id", "into_person_id").iter_rows())
    old = existing.select("record_id", pl.col("person_id").replace(absorbed).alias("cluster"))
    new = inc.assignments.select("record_id", pl.coalesce("person_id", pl.lit("new:") + pl.col("cluster_id")).alias("cluster"))
    return pl.concat([old, new])


def run_incremental(recs: pl.DataFrame, history: int, n: int, mapping: dict[str, str], config: R.Config,
                    repeat: int) -> dict:
    ordered = recs.sort("day", "record_key")
    hist, day = ordered.head(history), ordered.slice(history, n)
    both = ordered.head(history + n)
    t = time.perf_counter()
    res = R.resolve(hist, mapping, id_column="record_key", config=config)
    t_hist = time.perf_counter() - t
    t = time.perf_counter()
    people = hist.select(pl.col("record_key").alias("record_id"), "day").join(
        res.clusters.rename({"cluster_id": "person_id"}), on="record_id")
    first_seen = people.group_by("person_id").agg(pl.col("day").min().str.to_datetime("%Y-%m-%d").alias("person_first_seen"))
    existing = (R.prepare_for_store(hist, mapping, "record_key", config)
                .join(people.select("record_id", "person_id"), on="record_id")
                .join(first_seen, on="person_id"))
    t_store = time.perf_counter() - t
    del people, first_seen
    reset = _reset_peak_rss()
    runs, inc = [], None
    for _ in range(repeat):
        t, cpu = time.perf_counter(), time.process_time()
        inc = R.resolve_increment(existing, day, mapping, "record_key", config=config)
        runs.append({"wall": time.perf_counter() - t, "cpu": time.process_time() - cpu, **inc.stats})
    rss = round(peak_rss_mb(), 1)
    walls = sorted(r["wall"] for r in runs)
    final = final_clusters(existing, inc)
    truth = both.select(pl.col("record_key").alias("record_id"), "true_person_id")
    final = final.join(truth, on="record_id", how="left")
    ours = R.evaluate(final["cluster"], final["true_person_id"])
    t = time.perf_counter()
    full = R.resolve(both, mapping, id_column="record_key", config=config)
    t_full = time.perf_counter() - t
    full_scores = R.evaluate(full.clusters["cluster_id"], both["true_person_id"])
    agree = final.join(full.clusters.rename({"cluster_id": "full"}), on="record_id")
    keys = ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1")
    out = {
        "history_records": hist.height, "new_records": day.height,
        "history_days": [hist["day"].min(), hist["day"].max()], "new_days": [day["day"].min(), day["day"].max()],
        "seconds_resolve_history": round(t_hist, 2), "seconds_store_history": round(t_store, 2),
        "increment_wall_min": round(walls[0], 3), "increment_wall_median": round(statistics.median(walls), 3),
        "increment_runs_wall": [round(w, 3) for w in walls],
        "increment_cpu_seconds_median": round(statistics.median(r["cpu"] for r in runs), 2),
        **{f"increment_{k}_median": round(statistics.median(r[k] for r in runs), 3)
           for k in runs[0] if k.startswith("seconds_")},
        ("increment_peak_rss_mb" if reset else "process_peak_rss_mb"): rss,
        "increment_stats": {k: v for k, v in inc.stats.items() if not k.startswith("seconds")},
        "incremental": {k: ours[k] for k in keys},
        "full_resolve": {k: full_scores[k] for k in keys},
        "seconds_full_resolve": round(t_full, 2),
        "incremental_vs_full": {k: v for k, v in R.evaluate(agree["cluster"], agree["full"]).items() if k in keys},
    }
    lines = [f"{'':24s} {'incremental':>12s} {'full resolve':>12s}"]
    lines += [f"{k:24s} {ours[k]:12.5f} {full_scores[k]:12.5f}" for k in keys]
    lines.append(f"{'wall s':24s} {statistics.median(walls):12.2f} {t_full:12.2f}   (increment: median of {repeat}, min {walls[0]:.2f}; full: one run)")
    out["table"] = lines
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--world", type=Path, required=True)
    ap.add_argument("--preset", default="small", help="preset of the world generated when --world has none")
    ap.add_argument("--threshold", type=float, default=R.Config.threshold)
    ap.add_argument("--max-records", type=int, default=None,
                    help="resolve only the first N records in delivery order (e.g. 1000000 of the large world)")
    ap.add_argument("--repeat", type=int, default=1, help="resolver runs to time (min and median reported)")
    ap.add_argument("--incremental", type=int, default=None,
                    help="time resolve_increment of the N records after the first --max-records instead")
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
    if args.incremental:
        if args.max_records is None:
            ap.error("--incremental needs --max-records (the history)")
        recs = load_records(args.world)
        rss_load = peak_rss_mb()
        mapping = {r: r for r in R.ROLES if r in recs.columns}
        out = run_incremental(recs, args.max_records, args.incremental, mapping, R.Config(threshold=args.threshold),
                              max(1, args.repeat))
        out.update(seconds_load=round(time.perf_counter() - t0, 2), peak_rss_mb_load=round(rss_load, 1))
        table = out.pop("table")
        print(json.dumps(out, indent=2, default=float))
        print("\n".join(table))
        return out
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
