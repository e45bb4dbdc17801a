"""Benchmark: the whole graph end to end on a sample world.

Prints wall time per layer, the total, peak RSS, and the ratio to a bare DuckDB pass over
the same raw files in the same process (read every form CSV and every web-event file into
tables, and group web events by visitor). Wall times on shared CPUs swing, so with
``--repeat N`` the median and minimum are reported.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import peak_rss_mb, world_folder


def baseline_pass(landing: Path, db_path: Path) -> float:
    """Plain DuckDB: load the raw files and group web events by visitor. Returns seconds."""
    import duckdb

    from leadgen_assets.storage.warehouse import quote_ident

    db_path.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    forms = sorted(str(p) for p in landing.glob("form_leads/*/*.csv"))
    for i, path in enumerate(forms):  # each channel has its own layout: one read per file
        statement = "CREATE OR REPLACE TABLE " + quote_ident(f"form_{i}") + (
            " AS SELECT * FROM read_csv(?, all_varchar = true, header = true)"
        )
        con.execute(statement, [path])
    events = sorted(str(p) for p in landing.glob("web_events/*/*.jsonl"))
    con.execute(
        "CREATE TABLE web AS SELECT * FROM read_json(?, format = 'newline_delimited', "
        "columns = {messageId: 'VARCHAR', type: 'VARCHAR', anonymousId: 'VARCHAR', \"timestamp\": 'VARCHAR', properties: 'JSON'})",
        [events],
    )
    con.execute("CREATE TABLE visits AS SELECT anonymousId, count(*) AS n FROM web GROUP BY anonymousId")
    con.close()
    return time.perf_counter() - started


def run_pipeline() -> tuple[float, dict[str, float]]:
    """One in-process run of the whole graph; returns wall seconds and seconds per layer."""
    import dagster as dg

    from leadgen_assets.cli import _landed_days, materialize_range

    first, last = _landed_days()
    started = time.perf_counter()
    run_id = materialize_range(first, last, show_progress=False)
    wall = time.perf_counter() - started
    instance = dg.DagsterInstance.get()
    starts: dict[str, float] = {}
    per_layer: dict[str, float] = defaultdict(float)
    for event in instance.all_logs(run_id):
        if not event.is_dagster_event or not event.step_key:
            continue
        kind = event.dagster_event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = event.timestamp
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE) and event.step_key in starts:
            layer = event.step_key.split("__")[0]
            per_layer[layer] += event.timestamp - starts[event.step_key]
    return wall, dict(per_layer)


def main(scale: str = "medium", repeat: int = 1, workdir: Path | None = None) -> None:
    t0 = time.perf_counter()
    with world_folder(scale, workdir, regenerate=True) as root:
        from leadgen_assets import settings

        gen_seconds = time.perf_counter() - t0
        info = json.loads((settings.truth_dir() / "world.json").read_text()).get("counts", {})
        walls: list[float] = []
        layers: dict[str, list[float]] = defaultdict(list)
        rss: list[float] = []
        for i in range(repeat):
            settings.warehouse_path().unlink(missing_ok=True)
            wall, per_layer = run_pipeline()
            walls.append(wall)
            rss.append(peak_rss_mb())
            for layer, seconds in per_layer.items():
                layers[layer].append(seconds)
            print(f"run {i + 1}/{repeat}: {wall:.1f}s")
        base = [baseline_pass(settings.landing_dir(), root / "baseline.duckdb") for _ in range(repeat)]
        print()
        print(f"leadgen pipeline benchmark: scale={scale}, repeat={repeat}")
        print(f"  world: {info.get('persons')} persons, {info.get('form_rows')} form rows, "
              f"{info.get('web_events')} web events; generated in {gen_seconds:.1f}s")
        print(f"  {'layer':<12} {'median s':>10} {'min s':>10}")
        order = ["sources", "signals", "identity", "features", "scoring", "routing", "monitoring", "governance"]
        for layer in order + sorted(set(layers) - set(order)):
            if layer in layers:
                print(f"  {layer:<12} {statistics.median(layers[layer]):>10.2f} {min(layers[layer]):>10.2f}")
        print(f"  {'TOTAL wall':<12} {statistics.median(walls):>10.2f} {min(walls):>10.2f}")
        print(f"  {'baseline':<12} {statistics.median(base):>10.2f} {min(base):>10.2f}   (bare DuckDB: load raw files, group web events by visitor)")
        print(f"  ratio to baseline (median/median): {statistics.median(walls) / statistics.median(base):.2f}x")
        print(f"  peak RSS of the pipeline process: {max(rss):.0f} MB (world generated in a child process)")
