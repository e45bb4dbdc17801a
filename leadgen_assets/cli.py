"""The ``leadgen`` command: work that is not an asset.

``leadgen demo`` is the one-command tour: it builds the sample world and materialises the
whole asset graph for it, in one Dagster run recorded in the local instance, so the UI
shows it afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadgen_assets import settings
from leadgen_assets.cli_model import register as register_model_commands
from leadgen_assets.cli_resolve import register as register_resolve_commands

app = typer.Typer(help="leadgen: an auditable lead-generation pipeline on Dagster and DuckDB.", no_args_is_help=True)
warehouse_app = typer.Typer(help="Inspect or repair the DuckDB warehouse.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(audit_app, name="audit")
console = Console()


def _prepare_dagster_home() -> Path:
    """Point DAGSTER_HOME at data/dagster_home (unless set) and give it our dagster.yaml."""
    home = settings.dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    repo_yaml = settings.repo_root() / "dagster.yaml"
    target = home / "dagster.yaml"
    if repo_yaml.exists() and (not target.exists() or target.read_text() != repo_yaml.read_text()):
        shutil.copyfile(repo_yaml, target)
    return home


# --------------------------------------------------------------------------- simulate
@app.command()
def simulate(
    preset: Annotated[str, typer.Option(help="World size: small (~2k persons, 30 days), medium (~100k, 60 days) or large (~1M, 90 days).")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same bytes.")] = 7,
    drift_kind: Annotated[str | None, typer.Option(help="Make the world drift: channel_quality or form_layout.")] = None,
    drift_channel: Annotated[str, typer.Option(help="Channel that drifts.")] = "meta_lead_ads",
    drift_day: Annotated[int, typer.Option(help="Day index (0-based) from which the world drifts.")] = 20,
    fault: Annotated[list[str] | None, typer.Option(help="Then break a delivered file (repeatable): KIND or KIND:SOURCE (default form_leads), e.g. ragged_rows, null_storm:crm_contacts; the kinds are listed in leadgen_assets/sim/faults.py.")] = None,
    fault_day: Annotated[int, typer.Option(help="Day index (0-based) whose files the faults break.")] = 0,
    days: Annotated[int | None, typer.Option(help="Days of deliveries instead of the preset's (a model needs leads older than its label window, 60 days by default).")] = None,
    persons: Annotated[int | None, typer.Option(help="People in the world instead of the preset's.")] = None,
) -> None:
    """Write the sample world's files into the landing zone, and its ground truth beside it."""
    from leadgen_assets.sim import FAULTS, inject

    faults = [(kind, source or "form_leads") for kind, _, source in (f.partition(":") for f in fault or [])]
    if unknown := [kind for kind, _ in faults if kind not in FAULTS]:
        raise typer.BadParameter(f"unknown fault {unknown[0]!r}: use one of {', '.join(FAULTS)}", param_hint="--fault")
    cfg = _simulate(preset, seed, drift_kind, drift_channel, drift_day, days=days, persons=persons)["config"]
    for kind, source in faults:
        try:  # the description holds names and counts, never a value from the files
            console.print(f"Injected {inject(kind, settings.landing_dir(), source, cfg.day(fault_day), seed).describe()}", markup=False)
        except (ValueError, OSError) as exc:
            raise typer.BadParameter(f"{kind}:{source}: {exc}", param_hint="--fault") from exc


def _simulate(
    preset: str, seed: int, drift_kind: str | None = None, drift_channel: str = "meta_lead_ads", drift_day: int = 20,
    *, days: int | None = None, persons: int | None = None,
) -> dict:
    import dataclasses

    from leadgen_assets.sim import Drift, WorldConfig, generate_world

    if preset not in ("small", "medium", "large"):
        raise typer.BadParameter(f"unknown preset {preset!r}: use small, medium or large", param_hint="--preset")
    sizes = {k: v for k, v in (("days", days), ("n_persons", persons)) if v is not None}
    try:
        cfg = WorldConfig.preset(preset, seed=seed, **sizes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if cfg.start != settings.start_date():
        cfg = dataclasses.replace(cfg, start=settings.start_date())
    if drift_kind:
        cfg = dataclasses.replace(cfg, drift=Drift(kind=drift_kind, start_day=drift_day, channel=drift_channel))
    landing, truth = settings.landing_dir(), settings.truth_dir()
    started = time.perf_counter()
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        summary = generate_world(cfg, landing, truth, progress=report)
    console.print(
        f"[bold]Sample world '{preset}'[/] (seed {seed}) written to {landing} in {time.perf_counter() - started:.1f}s: "
        f"{summary.get('persons', '?')} persons, {summary.get('form_rows', '?')} form rows, "
        f"{summary.get('web_events', '?')} web events over {cfg.days} days."
    )
    return {"config": cfg, **summary}


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


# --------------------------------------------------------------------------- run / demo
def run_config(ingest: dict[str, bool] | None = None) -> dict:
    """The lead_funnel run config of a CLI run: quiet console logs (the terminal shows a
    progress bar; the full event log is in the Dagster UI) and the sources' ingest options."""
    from leadgen_assets.defs.sources.assets import SOURCES

    config: dict = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if ingest:
        config["ops"] = {f"sources__{spec.name}": {"config": ingest} for spec in SOURCES}
    return config


def materialize_range(
    first: dt.date, last: dt.date, show_progress: bool = True, ingest: dict[str, bool] | None = None
) -> str:
    """Materialise every asset for delivery days first..last in one run; returns the run id.
    ``ingest`` is the sources assets' run config (``reread``, ``allow_empty``)."""
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    return execute_job("lead_funnel", tags, run_config(ingest), show_progress)


def execute_job(job_name: str, tags: dict[str, str], config: dict, show_progress: bool = True) -> str:
    """Run one of leadgen's jobs in this process on the local instance, with a progress bar;
    a failed step is printed and exits 1. Returns the run id."""
    _prepare_dagster_home()
    import dagster as dg

    from leadgen_assets.definitions import defs

    job = defs.resolve_job_def(job_name)
    instance = dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    tags = {**tags, "leadgen/launched_by": "cli"}
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                instance=instance,
                tags=tags,
                run_id=run_id,
                raise_on_error=False,
                run_config=config,
            )
        except BaseException as exc:  # reported on the main thread
            outcome["error"] = exc

    n_steps = len(job.graph.nodes)
    thread = threading.Thread(target=work, name="leadgen-run")
    thread.start()
    with _progress() if show_progress else _NoProgress() as progress:
        task = progress.add_task(f"run {run_id[:8]}", total=n_steps)
        while thread.is_alive():
            thread.join(timeout=0.5)
            done = len(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS))
            started = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
            current = started[-1].step_key.replace("__", "/") if started else "starting"
            progress.update(task, completed=done, description=current[:28])
        progress.update(task, completed=len(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)))
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    result = outcome["result"]
    if not result.success:  # type: ignore[union-attr]
        failures = [e for e in result.all_events if e.is_step_failure]  # type: ignore[union-attr]
        for event in failures:
            info = event.step_failure_data.error
            while info is not None and info.cause is not None:  # the step's own error, not Dagster's wrapper
                info = info.cause
            from rich.markup import escape

            # leadgen's own errors say what to do and hold no values; another library's message
            # may quote data, so only its kind is printed here (the run's logs have the rest)
            if info is not None and info.message.startswith("leadgen_assets."):
                why = info.message.strip()
            else:
                why = f"{info.cls_name if info else 'an error'}; see run {run_id} in the Dagster UI (`leadgen ui`)"
            console.print(f"[red]step {event.step_key} failed:[/] {escape(why)}")
        raise typer.Exit(code=1)
    return run_id


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *a: object, **k: object) -> int:
        return 0

    def update(self, *a: object, **k: object) -> None:
        return None


def _landed_days() -> tuple[dt.date, dt.date]:
    landing = settings.landing_dir()
    days = sorted(
        dt.date.fromisoformat(p.name)
        for source in (landing.iterdir() if landing.is_dir() else [])
        if source.is_dir()
        for p in source.iterdir()
        if p.is_dir() and len(p.name) == 10
    )
    if not days:
        console.print(f"[red]No delivered files under {landing}.[/] Run `leadgen simulate` first, or point LEADGEN_LANDING_DIR at your exports.")
        raise typer.Exit(code=2)
    return days[0], days[-1]


@app.command()
def run(
    first: Annotated[str | None, typer.Option("--from", help="First delivery day (YYYY-MM-DD); default: the first landed day.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last delivery day; default: the last landed day.")] = None,
    reread: Annotated[bool, typer.Option(help="Read again files already loaded (after a reader fix); their rows are replaced.")] = False,
    allow_empty: Annotated[bool, typer.Option(help="Accept empty re-deliveries in place of files that had rows.")] = False,
) -> None:
    """Materialise the whole asset graph for a range of delivery days, in one recorded run.

    Files already loaded are skipped (see the ingestion ledger, `sources.ingestion_ledger`)."""
    lo, hi = _landed_days()
    first_day = dt.date.fromisoformat(first) if first else lo
    last_day = dt.date.fromisoformat(last) if last else hi
    started = time.perf_counter()
    ingest = {"reread": reread, "allow_empty": allow_empty} if reread or allow_empty else None
    run_id = materialize_range(first_day, last_day, ingest=ingest)
    console.print(f"Run {run_id} materialised {first_day}..{last_day} in {time.perf_counter() - started:.1f}s.")
    _print_summary()


@app.command()
def demo(
    preset: Annotated[str, typer.Option(help="Sample world size.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed of the sample world.")] = 7,
) -> None:
    """The quick start: build the sample world, run the whole funnel on it, print a summary."""
    warehouse = settings.warehouse_path()
    if warehouse.exists():
        console.print(f"Starting from an empty warehouse (removing {warehouse}).")
        warehouse.unlink()
        Path(str(warehouse) + ".wal").unlink(missing_ok=True)
    _simulate(preset, seed)
    started = time.perf_counter()
    first, last = _landed_days()
    run_id = materialize_range(first, last)
    console.print(f"Run {run_id} materialised {first}..{last} in {time.perf_counter() - started:.1f}s.")
    _print_summary()
    console.print(
        "Open the Dagster UI on this data with [bold]python3 -m uv run leadgen ui[/] "
        "and go to http://127.0.0.1:3000 (see README, 'The Dagster UI')."
    )


SUMMARY_SQL = """
SELECT
  (SELECT count(*) FROM sources.form_leads) AS leads_ingested,
  (SELECT count(*) FROM signals.quarantine WHERE source = 'form_leads') AS leads_rejected,
  (SELECT count(*) FROM identity.persons) AS persons,
  (SELECT count(*) FROM scoring.lead_scores) AS leads_scored,
  (SELECT count(*) FROM routing.lead_routes WHERE decision = 'routed') AS routed,
  (SELECT count(*) FROM routing.lead_routes WHERE decision = 'review') AS sent_to_review,
  (SELECT count(*) FROM routing.lead_routes WHERE decision = 'nurture') AS nurture,
  (SELECT count(*) FROM routing.lead_routes WHERE decision = 'overflow') AS overflow_no_capacity,
  (SELECT count(*) FROM routing.lead_routes WHERE decision = 'suppressed') AS suppressed,
  (SELECT count(*) FROM routing.lead_routes WHERE decision = 'disqualified') AS disqualified,
  (SELECT count(*) FROM routing.crm_outbox) AS crm_outbox_messages
"""


def summary_counts() -> dict[str, int]:
    from leadgen_assets.storage.warehouse import Warehouse

    return Warehouse(settings.warehouse_path()).query(SUMMARY_SQL).row(0, named=True)


def _print_summary() -> None:
    counts = summary_counts()
    table = Table(title="leadgen: the funnel in the warehouse", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)


@app.command()
def summary() -> None:
    """Print the funnel counts from the warehouse (read-only)."""
    _print_summary()


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port of the web UI.")] = 3000) -> None:
    """Start the Dagster UI and daemon on the local instance and warehouse."""
    home = _prepare_dagster_home()
    console.print(f"Dagster UI on http://127.0.0.1:{port} (instance {home}); Ctrl-C stops it.")
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(settings.repo_root() / "workspace.yaml"), "-p", str(port)]
    raise typer.Exit(subprocess.call(cmd, cwd=settings.repo_root()))


@app.command()
def bench(
    scale: Annotated[str, typer.Option(help="World size to benchmark: small, medium or large.")] = "medium",
    repeat: Annotated[int, typer.Option(help="Pipeline runs to time; the median and minimum are reported.")] = 1,
    workdir: Annotated[Path | None, typer.Option(help="Where to write the world and warehouse (default: a temporary folder).")] = None,
) -> None:
    """Time the whole graph per layer, with peak RSS and the ratio to a bare DuckDB pass."""
    from benchmarks.pipeline import main as bench_main

    bench_main(scale=scale, repeat=repeat, workdir=workdir)


@app.command()
def docs() -> None:
    """Regenerate the generated docs (docs/features.md, docs/contracts.md) from the code."""
    from leadgen_assets.core.contracts import contracts_markdown
    from leadgen_assets.core.features import catalogue_markdown

    for name, text in (("features.md", catalogue_markdown()), ("contracts.md", contracts_markdown())):
        target = settings.repo_root() / "docs" / name
        target.write_text(text)
        console.print(f"Wrote {target}.")


@warehouse_app.command("tables")
def warehouse_tables() -> None:
    """List the warehouse's tables with their row counts."""
    from leadgen_assets.storage.warehouse import Warehouse, qualified

    store = Warehouse(settings.warehouse_path())
    with store.reader() as con:
        names = con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema <> 'main' ORDER BY 1"
        ).fetchall()
        table = Table("table", "rows")
        for (name,) in names:
            table.add_row(name, f"{con.execute(f'SELECT count(*) FROM {qualified(name)}').fetchall()[0][0]:,}")
    console.print(table)


@warehouse_app.command("drop")
def warehouse_drop(
    table: Annotated[str, typer.Argument(help="Table as layer.name, e.g. signals.form_leads.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop one table, for an intended schema change; rematerialise its asset afterwards."""
    from leadgen_assets.storage.warehouse import Warehouse

    if not yes and not typer.confirm(f"Drop {table} and all its rows?"):
        raise typer.Exit(code=1)
    with Warehouse(settings.warehouse_path()).writer() as w:
        w.drop_table(table)
    console.print(f"Dropped {table}. Rematerialise its asset (all partitions) to rebuild it.")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain end to end."""
    from leadgen_assets.defs.governance.assets import verify_chain
    from leadgen_assets.storage.warehouse import Warehouse

    checked, broken = verify_chain(Warehouse(settings.warehouse_path()))
    if broken is None:
        console.print(f"[green]Audit log intact:[/] {checked:,} entries, every hash chains to the one before.")
        return
    console.print(f"[red]Audit log broken at entry {broken}[/] after {checked:,} good entries: it was changed after it was written.")
    raise typer.Exit(code=1)


register_resolve_commands(app)  # leadgen resolve, leadgen resolve-eval
register_model_commands(app)  # leadgen model ...


def main() -> None:
    app()


if __name__ == "__main__":
    main()
