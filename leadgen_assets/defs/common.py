"""What every layer's assets share: the warehouse resource, partitions and metadata helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl

from leadgen_assets import settings
from leadgen_assets.storage.warehouse import Warehouse, WriteReport, qualified, quote_ident

OWNER = "team:data"
POOL = "duckdb"  # limit 1 in dagster.yaml: DuckDB allows one writer process per file

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=settings.start_date().isoformat(), timezone="UTC", fmt="%Y-%m-%d"
)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. Writers use ``writer()``; checks and reports ``reader()``."""

    path: str

    def store(self) -> Warehouse:
        return Warehouse(self.path)


class LandingZoneResource(dg.ConfigurableResource):
    """Where delivered files arrive: ``<path>/<source>/<YYYY-MM-DD>/<file>``."""

    path: str


def layer_asset(
    layer: str,
    name: str,
    *,
    description: str,
    code_version: str,
    deps: Sequence[Any] = (),
    partitioned: bool = True,
    kinds: Sequence[str] = ("duckdb",),
    automation: bool = True,
    **kwargs: Any,
) -> Callable[..., dg.AssetsDefinition]:
    """``@dg.asset`` with leadgen's conventions.

    The key is ``<layer>/<name>`` and the table ``<layer>.<name>``. Every asset writes the
    warehouse, so every asset takes the ``duckdb`` pool. Daily-partitioned assets backfill a
    range in one run (one DuckDB transaction per batch of days inside it, see day_batches).
    """
    extra: dict[str, Any] = {}
    if partitioned:
        extra["partitions_def"] = daily_partitions
        extra["backfill_policy"] = dg.BackfillPolicy.single_run()
    if automation:
        extra["automation_condition"] = dg.AutomationCondition.eager()
    return dg.asset(
        key=dg.AssetKey([layer, name]),
        group_name=layer,
        description=description,
        code_version=code_version,
        kinds=set(kinds),
        owners=[OWNER],
        pool=POOL,
        deps=list(deps),
        **extra,
        **kwargs,
    )


def partition_days(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The delivery days this run covers (one, or a backfill range)."""
    window = context.partition_time_window
    days, day = [], window.start.date()
    while day < window.end.date():
        days.append(day)
        day += dt.timedelta(days=1)
    return days


# Days are written in batches of up to this many rows: one transaction per batch, so the
# per-write overhead is paid per batch and not per day, and memory stays bounded.
BATCH_ROWS = 1_000_000
# A batch bigger than BATCH_ROWS whose rows are transformed one by one (web events) is cut
# into slices of this many rows; the slice, not the day, bounds the step's memory.
SLICE_ROWS = 500_000


def day_batches(days: Sequence[dt.date], rows_per_day: dict[dt.date, int], limit: int = BATCH_ROWS) -> list[list[dt.date]]:
    """Consecutive days grouped so that each batch holds at most ``limit`` rows (a bigger
    day is a batch of its own)."""
    batches: list[list[dt.date]] = []
    current: list[dt.date] = []
    size = 0
    for day in days:
        n = rows_per_day.get(day, 0)
        if current and size + n > limit:
            batches.append(current)
            current, size = [], 0
        current.append(day)
        size += n
    if current:
        batches.append(current)
    return batches


def rows_per_day(con: Any, table: str, days: Sequence[dt.date], date_col: str = "delivery_date") -> dict[dt.date, int]:
    rows = con.execute(
        f"SELECT {quote_ident(date_col)}, count(*) FROM {qualified(table)} "
        f"WHERE {quote_ident(date_col)} BETWEEN ? AND ? GROUP BY 1",
        [days[0], days[-1]],
    ).fetchall()
    return dict(rows)


def write_range_from_sql(context: dg.AssetExecutionContext, store: Warehouse, table: str, sql: str) -> WriteReport:
    """Replace the run's days with ``sql``, a module constant over the bound ``$first`` and
    ``$last`` days, in one transaction."""
    days = partition_days(context)
    with store.writer() as w:
        report = w.write_partitions(
            table, sql, partition_col="delivery_date", keys=days, params={"first": days[0], "last": days[-1]}
        )
    context.log.info(f"{table}: wrote {report.rows_written} row(s) for {days[0]}..{days[-1]}")
    return report


def log_batch(context: dg.AssetExecutionContext, batch: Sequence[dt.date], rows: int, done: int, total: int) -> None:
    """One progress line per batch of days."""
    span = f"{batch[0]}" if len(batch) == 1 else f"{batch[0]}..{batch[-1]}"
    context.log.info(f"{span}: wrote {rows} row(s)  [{done}/{total} days]")


def table_schema(store: Warehouse, table: str) -> dg.TableSchema:
    with store.reader() as con:
        rows = con.execute(f"DESCRIBE {qualified(table)}").fetchall()
    return dg.TableSchema(columns=[dg.TableColumn(name=r[0], type=r[1]) for r in rows])


def markdown_table(frame: pl.DataFrame, max_rows: int = 20) -> str:
    """A Markdown preview. Callers pass only columns without PII (counts, codes, ids)."""
    frame = frame.head(max_rows)
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()
    ]
    return "\n".join([head, rule, *body])


def write_metadata(
    store: Warehouse,
    table: str,
    reports: Sequence[WriteReport],
    context: dg.AssetExecutionContext | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Metadata of a write. For a partitioned asset, pass ``context``: a backfill range is
    one run and Dagster attaches the same metadata to every day of it, so the figures say
    which days they cover (a scheduled daily run covers its own day)."""
    rows = sum(r.rows_written for r in reports)
    meta: dict[str, Any] = {}
    if context is not None and (context.has_partition_key or context.has_partition_key_range):
        days = partition_days(context)
        meta["covers_days"] = f"{days[0]}..{days[-1]}" if len(days) > 1 else str(days[0])
        meta["days_in_run"] = len(days)
    meta |= {
        "dagster/row_count": rows,
        "dagster/column_schema": table_schema(store, table),
        "table": table,
        "rows_replaced": sum(r.rows_replaced for r in reports),
        "write_seconds": round(sum(r.seconds for r in reports), 3),
    }
    meta.update(extra)
    return meta


def health_check(asset_key: dg.AssetKey, flags: pl.DataFrame) -> dg.AssetCheckResult:
    """The ``delivery_health`` check from delivery flags (core/health.py): failures make it an
    ERROR, warnings a WARN; metadata lists files, flags, fields and shares, never values."""
    failures = flags.filter(pl.col("severity") == "failure").height
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name="delivery_health",
        passed=flags.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR if failures else dg.AssetCheckSeverity.WARN,
        metadata={
            "failures": failures,
            "warnings": flags.height - failures,
            "flags": dg.MetadataValue.md(markdown_table(flags, max_rows=50)),
        },
    )


def health_check_spec(asset_key: dg.AssetKey, what: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "delivery_health",
        asset=asset_key,
        description=f"{what} Thresholds: leadgen_assets/core/health.py and docs/architecture.md.",
    )
