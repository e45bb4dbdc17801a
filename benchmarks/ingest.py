"""Benchmark: ingest and normalise every raw file of a sample world (sources + signals).

Prints wall time per source for each layer, rows per second, peak RSS, and the ratio to a
bare DuckDB read of the same files into tables in the same process. With ``--big-file-mb``
it also ingests one web-event file of each given size on its own and prints its peak RSS:
files stream, so the peak stays the same as the file grows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import peak_rss_mb, world_folder


def bare_read(landing: Path, db_path: Path) -> tuple[float, int]:
    """Plain DuckDB: every delivered file into a table, all columns as text (CSV, one read
    per file since layouts differ) or as DuckDB infers them (JSON lines, one read per
    source). Returns seconds and rows."""
    import duckdb

    from leadgen_assets.defs.sources.assets import SOURCES
    from leadgen_assets.storage.warehouse import quote_ident

    db_path.unlink(missing_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    rows = 0
    for spec in SOURCES:
        files = sorted(str(p) for p in landing.glob(f"{spec.name}/*/*") if p.is_file() and p.stat().st_size)
        if not files:
            continue
        if spec.fmt == "jsonl":
            table = quote_ident(spec.name)
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_json(?, format = 'newline_delimited')", [files])
            rows += con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            continue
        for i, path in enumerate(files):
            table = quote_ident(f"{spec.name}_{i}")
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)", [path])
            rows += con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    con.close()
    return time.perf_counter() - started, rows


def ingest(
    first: dt.date, last: dt.date, sources: list[str] | None = None, ephemeral: bool = False
) -> tuple[float, dict[tuple[str, str], float]]:
    """One run of the sources and signals assets over first..last; wall seconds and seconds
    per (layer, source). ``ephemeral`` keeps Dagster's run and event records in memory
    instead of the on-disk instance, which isolates Dagster's per-partition bookkeeping."""
    import dagster as dg

    from leadgen_assets.definitions import defs

    keys = [
        k for k in defs.resolve_asset_graph().get_all_asset_keys()
        if k.path[0] in ("sources", "signals") and (sources is None or k.path[1] in sources)
    ]
    job = defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral() if ephemeral else dg.DagsterInstance.get()
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        asset_selection=keys,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    wall = time.perf_counter() - started
    starts: dict[str, float] = {}
    steps: dict[tuple[str, str], float] = defaultdict(float)
    events = instance.all_logs(result.run_id)
    steps[("dagster", "events")] = len(events)
    for event in events:
        if not event.is_dagster_event or not event.step_key:
            continue
        if event.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = event.timestamp
        elif event.dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            layer, source = event.step_key.split("__", 1)
            steps[(layer, source)] += event.timestamp - starts[event.step_key]
    return wall, dict(steps)


def _landed_range(landing: Path) -> tuple[dt.date, dt.date]:
    days = sorted(dt.date.fromisoformat(p.name) for p in landing.glob("*/*") if p.is_dir())
    return days[0], days[-1]


def big_file_run(root: Path, landing: Path, size_mb: int) -> None:
    """Ingest one web-event file of ``size_mb`` (the world's events, concatenated) alone, in
    a fresh warehouse and a fresh process, and report that process's peak RSS."""
    big_landing = root / f"big-landing-{size_mb}"
    day = _landed_range(landing)[0]
    folder = big_landing / "web_events" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"events-{day}-big.jsonl"
    written = 0
    with target.open("wb") as out:
        while written < size_mb * 2**20:
            for src in sorted(landing.glob("web_events/*/*.jsonl")):
                with src.open("rb") as f:
                    while block := f.read(16 * 2**20):
                        out.write(block)
                        written += len(block)
                if written >= size_mb * 2**20:
                    break
    env = {**os.environ, "LEADGEN_LANDING_DIR": str(big_landing), "LEADGEN_WAREHOUSE": str(root / f"big-{size_mb}.duckdb")}
    code = (
        "import datetime as dt; from benchmarks.common import peak_rss_mb; from benchmarks.ingest import ingest; "
        f"wall, _ = ingest(dt.date.fromisoformat('{day}'), dt.date.fromisoformat('{day}'), ['web_events']); "
        "print(wall, peak_rss_mb())"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout.split()
    wall, peak = float(out[-2]), float(out[-1])
    print(f"  one web-event file of {written / 2**20:,.0f} MB, ingested alone: {wall:.1f}s, peak RSS {peak:,.0f} MB "
          f"(DuckDB memory limit {os.environ.get('LEADGEN_DUCKDB_MEMORY', '4GB')})")
    shutil.rmtree(big_landing, ignore_errors=True)


def main(scale: str = "large", workdir: Path | None = None, big_file_mb: tuple[int, ...] = ()) -> None:
    with world_folder(scale, workdir, regenerate=False) as root:
        from leadgen_assets import settings
        from leadgen_assets.cli import _prepare_dagster_home

        _prepare_dagster_home()  # the on-disk instance with leadgen's dagster.yaml, as `leadgen run` uses
        landing = settings.landing_dir()
        raw_bytes = sum(p.stat().st_size for p in landing.glob("*/*/*") if p.is_file())
        settings.warehouse_path().unlink(missing_ok=True)
        first, last = _landed_range(landing)
        wall, steps = ingest(first, last)
        peak = peak_rss_mb()
        # The same ingestion with Dagster's records in memory: the difference is Dagster's
        # bookkeeping (an event per partition of every asset and check, in SQLite).
        settings.warehouse_path().unlink(missing_ok=True)
        wall_mem, _ = ingest(first, last, ephemeral=True)
        base, base_rows = bare_read(landing, root / "bare.duckdb")
        from leadgen_assets.storage.warehouse import Warehouse

        store = Warehouse(settings.warehouse_path())
        counts = store.query(
            "SELECT source, sum(rows_read)::BIGINT AS rows_read, sum(size_bytes)::BIGINT AS bytes "
            "FROM sources.ingestion_ledger GROUP BY ALL ORDER BY 1"
        )
        rows = int(counts["rows_read"].sum())
        print()
        print(f"leadgen ingestion benchmark: scale={scale}, {first}..{last}, "
              f"{raw_bytes / 2**20:.0f} MB in {sum(1 for p in landing.glob('*/*/*') if p.is_file())} files")
        print(f"  {'source':<18} {'rows':>11} {'MB':>8} {'sources s':>10} {'signals s':>10}")
        for source, n, size in counts.iter_rows():
            print(f"  {source:<18} {n:>11,} {size / 2**20:>8.0f} {steps.get(('sources', source), 0):>10.1f} "
                  f"{steps.get(('signals', source), 0):>10.1f}")
        n_events = int(steps.pop(("dagster", "events")))
        layer = {k: sum(v for (lay, _), v in steps.items() if lay == k) for k in ("sources", "signals")}
        print(f"  {'TOTAL':<18} {rows:>11,} {raw_bytes / 2**20:>8.0f} {layer['sources']:>10.1f} {layer['signals']:>10.1f}")
        print(f"  ingest + normalise wall: {wall:.1f}s, {rows / wall:,.0f} rows/s, {raw_bytes / 2**20 / wall:.1f} MB/s")
        print(f"  the same with Dagster's records in memory: {wall_mem:.1f}s, {rows / wall_mem:,.0f} rows/s "
              f"(on-disk bookkeeping: {wall - wall_mem:.1f}s for the run's {n_events:,} events, one "
              "materialisation and one planned event per asset and day, each its own SQLite commit)")
        print(f"  bare DuckDB read of the same files into tables: {base:.1f}s ({base_rows:,} rows)")
        print(f"  ratio to the bare read: {wall / base:.2f}x (in-memory records: {wall_mem / base:.2f}x)")
        print(f"  peak RSS of the ingesting process: {peak:.0f} MB (world generated in a child process)")
        for size_mb in big_file_mb:  # the same peak at every size: memory is bounded by streaming
            big_file_run(root, landing, size_mb)
        print(json.dumps({"wall_s": round(wall, 2), "wall_in_memory_s": round(wall_mem, 2), "bare_s": round(base, 2),
                          "ratio": round(wall / base, 3),
                          "rows": rows, "peak_rss_mb": round(peak)}))
