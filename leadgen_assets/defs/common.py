"""What every layer's assets share: the warehouse resource, partitions and metadata helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import polars as pl

from leadgen_assets import settings
from leadgen_assets.storage.warehouse import Warehouse, WriteReport, qualified

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
    range in one run (one DuckDB transaction per day inside it).
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


def write_days_from_sql(
    context: dg.AssetExecutionContext, store: Warehouse, table: str, sql: str
) -> list[WriteReport]:
    """Replace each day of the run's range with ``sql`` evaluated for that day.

    ``sql`` is a module constant that reads the day as the bound parameter ``$day``. Each day
    is its own transaction.
    """
    days = partition_days(context)
    progress = day_progress(context, len(days))
    reports = []
    with store.writer() as w:
        for day in days:
            reports.append(
                w.write_partitions(table, sql, partition_col="delivery_date", keys=[day], params={"day": day})
            )
            progress(day, reports[-1].rows_written)
    return reports


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
    store: Warehouse, table: str, reports: Sequence[WriteReport], **extra: Any
) -> dict[str, Any]:
    rows = sum(r.rows_written for r in reports)
    meta: dict[str, Any] = {
        "dagster/row_count": rows,
        "dagster/column_schema": table_schema(store, table),
        "table": table,
        "rows_replaced": sum(r.rows_replaced for r in reports),
        "write_seconds": round(sum(r.seconds for r in reports), 3),
    }
    meta.update(extra)
    return meta


def day_progress(context: dg.AssetExecutionContext, total: int) -> Callable[[dt.date, int], None]:
    """Log one line per day of a backfill range, so long runs show where they are."""

    def report(day: dt.date, rows: int) -> None:
        context.log.info(f"{day}: wrote {rows} row(s)  [{report.done + 1}/{total}]")
        report.done += 1

    report.done = 0  # type: ignore[attr-defined]
    return report
