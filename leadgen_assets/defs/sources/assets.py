"""sources: every delivered file, row for row, partitioned by delivery day.

A source asset reconciles a day's landing folder with the ingestion ledger
(core/ledger.py): new files are read and inserted, corrected files replace the rows they
contributed, the same bytes under another name are recorded as a duplicate and not loaded,
and files already loaded are left alone. Each file is one transaction: its rows and its
ledger event land together or not at all.
"""

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from leadgen_assets.core import health, ledger
from leadgen_assets.core.readers import RAW_SCHEMA, delivered_files, inspect, iter_records
from leadgen_assets.defs.common import (
    LandingZoneResource,
    WarehouseResource,
    health_check,
    health_check_spec,
    layer_asset,
    markdown_table,
    partition_days,
    write_metadata,
)
from leadgen_assets.storage.warehouse import Warehouse, WriteReport, Writer, qualified


@dataclass(frozen=True)
class SourceSpec:
    name: str
    fmt: str  # "csv" or "jsonl"
    description: str


# Every source delivers daily. A feed that has not landed for 26 hours is a warning in the
# UI; after 30 hours it has failed (a day's export plus the morning run's slack).
FEED_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=30), warn_window=dt.timedelta(hours=26))

SOURCES = (
    SourceSpec("web_events", "jsonl", "Website page, track and identify calls (Segment-like JSON lines), anonymous visitor ids included."),
    SourceSpec("form_leads", "csv", "Lead-form exports from every channel (Google Ads, Meta, LinkedIn, website, webinars, referrals), each in its own CSV layout."),
    SourceSpec("crm_accounts", "csv", "CRM account export: companies already known to sales, with their owner."),
    SourceSpec("crm_contacts", "csv", "CRM contact export: people already known to sales."),
    SourceSpec("crm_opportunities", "csv", "CRM opportunity export: stage, won/lost and dates. These are the labels."),
    SourceSpec("crm_users", "csv", "CRM users: the reps, with territory, segment, daily capacity and active flag."),
    SourceSpec("enrichment", "jsonl", "Third-party firmographics by company domain; partial coverage, values can conflict."),
    SourceSpec("ad_spend", "csv", "Ad spend by channel, campaign and day."),
    SourceSpec("consent_events", "csv", "Unsubscribe, do-not-contact and erasure requests."),
    SourceSpec("review_decisions", "csv", "Human reviewers' verdicts on leads from the review queue."),
)


class IngestConfig(dg.Config):
    """Run config of a source asset (the Launchpad's config editor, or `leadgen run --reread`)."""

    reread: bool = False
    """Read again files already loaded (after a reader fix); their rows are replaced."""
    allow_empty: bool = False
    """Accept a re-delivery with no records in place of a file that had rows."""


class _EmptyRedelivery(Exception):
    pass


def _ingest_file(
    w: Writer, spec: SourceSpec, state: ledger.LedgerState, path: Path, rel: str, day: dt.date,
    config: IngestConfig, run_id: str,
) -> dict | None:
    """Reconcile one delivered file with the ledger; returns the recorded event, or None for
    a file already loaded as it is."""
    table = f"sources.{spec.name}"
    facts = inspect(path)
    plan = state.plan(rel, facts.sha256, facts.size_bytes, reread=config.reread, allow_empty=config.allow_empty)
    if plan.action == "skip":
        return None
    common = dict(source=spec.name, day=day, source_file=rel, sha256=facts.sha256, size_bytes=facts.size_bytes,
                  encoding=facts.encoding, run_id=run_id)
    file_slice = {"delivery_date": [day], "source_file": [rel]}
    if plan.action == "duplicate":
        with w.transaction():
            removed = w.delete_in(table, file_slice) if plan.was_active else 0
            event = state.record(ledger.event(
                **common, status="duplicate", active_sha256=None, detail=f"same bytes as {plan.duplicate_of}",
                rows_removed=removed,
            ))
            w.append(ledger.TABLE, ledger.frame([event]))
        return event
    previous = state.files.get(rel)
    try:
        with w.transaction():
            removed = w.delete_in(table, file_slice) if plan.was_active else 0
            read = unreadable = 0
            for chunk in iter_records(path, rel, day, spec.fmt, facts):
                w.insert(table, chunk, slice_=file_slice)
                read += chunk.height
                unreadable += chunk["read_error"].is_not_null().sum()
            if read == 0 and removed and not config.allow_empty:
                raise _EmptyRedelivery(removed)
            event = state.record(ledger.event(
                **common, status=plan.status, active_sha256=facts.sha256, rows_read=read,
                rows_unreadable=unreadable, rows_removed=removed,
            ))
            w.append(ledger.TABLE, ledger.frame([event]))
        return event
    except _EmptyRedelivery as refused:
        detail = (f"no records; the {refused.args[0]} row(s) of the earlier version are kept. "
                  "Rerun with config allow_empty: true to accept the empty file")
        status = "refused_empty"
    except (OSError, UnicodeError, ValueError, pl.exceptions.PolarsError) as exc:
        # The exception's own text can quote file content: only its class is recorded.
        detail = f"could not be read ({type(exc).__name__}); nothing of it was loaded"
        status = "failed"
    event = state.record(ledger.event(
        **common, status=status, active_sha256=previous.active_sha256 if previous else None, detail=detail,
    ))
    w.append(ledger.TABLE, ledger.frame([event]))
    return event


def _ledger_state(w: Writer, source: str) -> ledger.LedgerState:
    if not w.table_exists(ledger.TABLE):
        return ledger.LedgerState()
    latest = w.con.sql(ledger.LATEST_SQL, params={"source": source}).pl()
    (next_seq,) = w.con.execute(f"SELECT coalesce(max(event_seq), 0) + 1 FROM {qualified(ledger.TABLE)}").fetchone()
    return ledger.LedgerState.from_latest(latest, next_seq)


def _current_files(store: Warehouse, source: str, days: list[dt.date]) -> pl.DataFrame:
    """The latest ledger event of every file of the run's days."""
    with store.reader() as con:
        return con.sql(
            f"SELECT * FROM ({ledger.LATEST_SQL}) WHERE delivery_date BETWEEN $first AND $last ORDER BY source_file",
            params={"source": source, "first": days[0], "last": days[-1]},
        ).pl()


def _delivery_flags(current: pl.DataFrame, vanished: list[str]) -> pl.DataFrame:
    """Empty and header-only files, refused and failed files, duplicates and files that
    left the landing zone, as delivery-health flags."""
    read = current.filter(pl.col("status").is_in(ledger.LOADING))
    flags = health.empty_file_flags(list(zip(read["source_file"], read["size_bytes"], read["rows_read"], strict=True)))
    rows = [
        (r["source_file"], r["status"], None, None, 0, "failure" if r["status"] == "failed" else "warning")
        for r in current.filter(~pl.col("status").is_in(ledger.LOADING)).iter_rows(named=True)
    ]
    rows += [(f, "vanished", None, None, 0, "warning") for f in vanished]
    return pl.concat([flags, pl.DataFrame(rows, schema=health.FLAG_SCHEMA, orient="row")])


def build_source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey(["sources", spec.name])

    @layer_asset(
        "sources",
        spec.name,
        description=f"{spec.description}\n\nRaw rows exactly as delivered under "
        f"`landing/{spec.name}/<day>/`, with file and line. One row per record. Every file is "
        f"recorded in `{ledger.TABLE}`: loaded once, corrected in place, duplicates not loaded.",
        code_version="2",
        kinds=("duckdb", "file"),
        # Sources are materialised by the schedule, a backfill or the landing sensor, not eagerly.
        automation=False,
        freshness_policy=FEED_FRESHNESS,
        check_specs=[health_check_spec(
            key,
            "Flags empty and header-only files, duplicates, refused empty re-deliveries and files that "
            "left the landing zone (warnings), and files that could not be read (failures).",
        )],
    )
    def _source(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        landing_zone: LandingZoneResource,
    ) -> dg.MaterializeResult:
        store = warehouse.store()
        days = partition_days(context)
        landing = Path(landing_zone.path)
        table = f"sources.{spec.name}"
        events: list[dict] = []
        vanished: list[str] = []
        seen = 0
        started = time.perf_counter()
        with store.writer() as w:
            state = _ledger_state(w, spec.name)
            for n, day in enumerate(days, 1):
                paths = delivered_files(landing, spec.name, day)
                names = [str(p.relative_to(landing)) for p in paths]
                day_events = [
                    e for p, rel in zip(paths, names, strict=True)
                    if (e := _ingest_file(w, spec, state, p, rel, day, config, context.run.run_id)) is not None
                ]
                vanished += sorted(set(state.active_files(f"{spec.name}/{day.isoformat()}/")) - set(names))
                seen += len(paths)
                events += day_events
                if day_events or len(days) == 1:
                    counts = pl.Series([e["status"] for e in day_events]).value_counts() if day_events else None
                    summary = ", ".join(f"{c} {s}" for s, c in counts.iter_rows()) if counts is not None else "nothing new"
                    context.log.info(f"{day}: {len(paths)} file(s): {summary}  [{n}/{len(days)} days]")
            if not w.table_exists(table):  # a source that has delivered nothing yet still has its table
                w.insert(table, pl.DataFrame(schema=RAW_SCHEMA), slice_={})
        current = _current_files(store, spec.name, days)
        failed = current.filter(pl.col("status") == "failed")
        if failed.height:
            listed = ", ".join(failed["source_file"].head(5).to_list())
            raise dg.Failure(
                description=f"sources/{spec.name}: {failed.height} file(s) could not be read ({listed}); every "
                "other file was loaded. Fix or replace the file in the landing zone and rematerialise the day: "
                f"files already loaded are skipped. Details: {ledger.TABLE}.",
                metadata={"files_failed": failed.height},
            )
        statuses = pl.DataFrame({"status": [e["status"] for e in events]}, schema={"status": pl.Utf8})
        by_status = dict(statuses.group_by("status").len().iter_rows())
        ledger_view = current.select("source_file", "status", "rows_read", "rows_unreadable", "size_bytes", "encoding")
        inserted = sum(e["rows_read"] for e in events)
        reports = [WriteReport(table, inserted, sum(e["rows_removed"] for e in events), time.perf_counter() - started)]
        with store.reader() as con:
            (rows_now,) = con.execute(
                f"SELECT count(*) FROM {qualified(table)} WHERE delivery_date BETWEEN ? AND ?", [days[0], days[-1]]
            ).fetchone()
        return dg.MaterializeResult(
            check_results=[health_check(key, _delivery_flags(current, vanished))],
            metadata=write_metadata(
                store,
                table,
                reports,
                context,
                **{"dagster/row_count": rows_now},
                rows_inserted=inserted,
                files_seen=seen,
                **{f"files_{s}": by_status.get(s, 0) for s in ledger.STATUSES},
                files_unchanged=seen - len(events),
                bytes_read=sum(e["size_bytes"] for e in events if e["status"] in ledger.LOADING),
                landing=dg.MetadataValue.path(str(landing / spec.name)),
                files=dg.MetadataValue.md(markdown_table(ledger_view, max_rows=40)),
            ),
        )

    return _source


source_assets = [build_source_asset(s) for s in SOURCES]

defs = dg.Definitions(assets=source_assets)
