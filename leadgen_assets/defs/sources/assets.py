"""sources: every delivered file, row for row, partitioned by delivery day.

A source asset reconciles a day's landing folder with the ingestion ledger
(core/ledger.py): new files are read and inserted, corrected files replace the rows they
contributed, the same bytes under another name are recorded as a duplicate and not loaded,
and files already loaded are left alone. Each file is one transaction: its rows and its
ledger event land together or not at all.
"""

import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor
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
from leadgen_assets.storage.warehouse import Warehouse, WriteReport, Writer, qualified, staging_name


@dataclass(frozen=True)
class SourceSpec:
    name: str
    fmt: str  # "csv" or "jsonl"
    description: str
    snapshot: bool = False  # every delivery is the whole state; identical days are not duplicates


# Every source delivers daily. A feed that has not landed for 26 hours is a warning in the
# UI; after 30 hours it has failed (a day's export plus the morning run's slack).
FEED_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=30), warn_window=dt.timedelta(hours=26))

SOURCES = (
    SourceSpec("web_events", "jsonl", "Website page, track and identify calls (Segment-like JSON lines), anonymous visitor ids included."),
    SourceSpec("form_leads", "csv", "Lead-form exports from every channel (Google Ads, Meta, LinkedIn, website, webinars, referrals), each in its own CSV layout."),
    SourceSpec("crm_accounts", "csv", "CRM account export: companies already known to sales, with their owner."),
    SourceSpec("crm_contacts", "csv", "CRM contact export: people already known to sales."),
    SourceSpec("crm_opportunities", "csv", "CRM opportunity export: stage, won/lost and dates. These are the labels."),
    SourceSpec("crm_users", "csv", "CRM users: the reps, with territory, segment, daily capacity and active flag; a full snapshot every day.", snapshot=True),
    SourceSpec("enrichment", "jsonl", "Third-party firmographics by company domain; partial coverage, values can conflict."),
    SourceSpec("ad_spend", "csv", "Ad spend by channel, campaign and day."),
    SourceSpec("consent_events", "csv", "Unsubscribe, do-not-contact and erasure requests."),
    SourceSpec("review_decisions", "csv", "Human reviewers' verdicts on leads from the review queue."),
)


class IngestConfig(dg.Config):
    """Run config of a source asset (the Launchpad's config editor, or `leadgen run --reread
    --allow-empty`)."""

    reread: bool = False
    """Read again files already loaded (after a reader fix); their rows are replaced."""
    allow_empty: bool = False
    """Accept a re-delivery with no records in place of a file that had rows."""


# A file up to this size is read whole and written with the run's other small files, one
# transaction per batch of up to BATCH_BYTES; a larger file streams through a staging table
# and moves into place in its own transaction (Writer.staging).
SMALL_FILE_BYTES = 256 * 2**20
BATCH_BYTES = 256 * 2**20
# What reading a file can raise; only the class is recorded, since messages can quote content.
READ_ERRORS = (OSError, UnicodeError, ValueError, pl.exceptions.PolarsError)


class _EmptyRedelivery(Exception):
    pass


class _Ingestion:
    """Reconciles one source's delivered files with the ingestion ledger.

    Each file's rows and its ledger event land in the same transaction. Small files are
    read first and written in batches (a transaction costs milliseconds, and a day can
    bring dozens of files); a read that fails therefore never touches the warehouse.
    """

    def __init__(self, w: Writer, spec: SourceSpec, state: ledger.LedgerState, config: IngestConfig, run_id: str):
        self.w, self.spec, self.state, self.config, self.run_id = w, spec, state, config, run_id
        self.table = f"sources.{spec.name}"
        self.pending: list[tuple[dict, pl.DataFrame | None, bool]] = []  # (event, rows, rows to replace)
        self.pending_bytes = 0

    def file(self, path: Path, rel: str, day: dt.date, facts_ahead: Future | None = None) -> dict | None:
        """Plan, read and queue (or stream) one file; returns its event, or None when the
        file is already loaded as it is. ``facts_ahead``: its ``inspect`` already under way."""
        try:
            facts = facts_ahead.result() if facts_ahead is not None else inspect(path)
        except READ_ERRORS as exc:  # gone or unreadable since the folder was listed
            previous = self.state.files.get(rel)
            return self._queue(ledger.event(
                source=self.spec.name, day=day, source_file=rel, sha256="", size_bytes=0, encoding=None,
                run_id=self.run_id, status="failed", active_sha256=previous.active_sha256 if previous else None,
                detail=_failed(exc),
            ), None, False)
        cfg = self.config
        plan = self.state.plan(
            rel, facts.sha256, facts.size_bytes, reread=cfg.reread, allow_empty=cfg.allow_empty, snapshot=self.spec.snapshot
        )
        if plan.action == "skip":
            return None
        previous = self.state.files.get(rel)
        kept = previous.active_sha256 if previous else None
        common = dict(source=self.spec.name, day=day, source_file=rel, sha256=facts.sha256,
                      size_bytes=facts.size_bytes, encoding=facts.encoding, run_id=self.run_id)
        if plan.action == "duplicate":
            return self._queue(ledger.event(**common, status="duplicate", active_sha256=None,
                                            detail=f"same bytes as {plan.duplicate_of}"), None, plan.was_active)
        if facts.size_bytes > SMALL_FILE_BYTES:
            self.flush()
            return self._stream(path, rel, day, facts, plan, common, kept)
        try:
            frames = list(iter_records(path, rel, day, self.spec.fmt, facts))
        except READ_ERRORS as exc:
            return self._queue(ledger.event(**common, status="failed", active_sha256=kept, detail=_failed(exc)), None, False)
        rows = pl.concat(frames) if frames else pl.DataFrame(schema=RAW_SCHEMA)
        if rows.is_empty() and plan.was_active and previous.active_rows and not cfg.allow_empty:
            return self._queue(ledger.event(**common, status="refused_empty", active_sha256=kept,
                                            detail=_refused(previous.active_rows)), None, False)
        event = ledger.event(**common, status=plan.status, active_sha256=facts.sha256, rows_read=rows.height,
                             rows_unreadable=rows["read_error"].is_not_null().sum())
        self._queue(event, rows, plan.was_active)
        self.pending_bytes += facts.size_bytes
        if self.pending_bytes >= BATCH_BYTES:
            self.flush()
        return event

    def _queue(self, event: dict, rows: pl.DataFrame | None, replaces: bool) -> dict:
        event = self.state.record(event)
        self.pending.append((event, rows, replaces))
        return event

    def flush(self) -> None:
        """Write the queued files and their events in one transaction."""
        if not self.pending:
            return
        with self.w.transaction():
            for event, _, replaces in self.pending:
                if replaces:
                    event["rows_removed"] = self.w.delete_in(self.table, _file_slice(event))
            frames = [rows for _, rows, _ in self.pending if rows is not None and rows.height]
            if frames:
                events = [e for e, rows, _ in self.pending if rows is not None]
                self.w.insert(self.table, pl.concat(frames), slice_={
                    "delivery_date": sorted({e["delivery_date"] for e in events}),
                    "source_file": [e["source_file"] for e in events],
                })
            self.w.append(ledger.TABLE, ledger.frame([e for e, _, _ in self.pending]))
        self.pending, self.pending_bytes = [], 0

    def _stream(self, path: Path, rel: str, day: dt.date, facts, plan: ledger.Plan, common: dict, kept: str | None) -> dict:
        """A large file: staged chunk by chunk as it is read (memory stays bounded), then
        moved into the table with its ledger event in one transaction."""
        file_slice = {"delivery_date": [day], "source_file": [rel]}
        previous = self.state.files.get(rel)
        try:
            with self.w.staging(self.table) as staged:
                read = unreadable = 0
                for chunk in iter_records(path, rel, day, self.spec.fmt, facts):
                    self.w.append(staged, chunk)
                    read += chunk.height
                    unreadable += chunk["read_error"].is_not_null().sum()
                if read == 0 and plan.was_active and previous.active_rows and not self.config.allow_empty:
                    raise _EmptyRedelivery(previous.active_rows)
                with self.w.transaction():
                    removed = self.w.delete_in(self.table, file_slice) if plan.was_active else 0
                    self.w.insert_from(self.table, staged, slice_=file_slice)
                    event = self.state.record(ledger.event(
                        **common, status=plan.status, active_sha256=facts.sha256, rows_read=read,
                        rows_unreadable=unreadable, rows_removed=removed,
                    ))
                    self.w.append(ledger.TABLE, ledger.frame([event]))
            return event
        except _EmptyRedelivery as refused:
            event = ledger.event(**common, status="refused_empty", active_sha256=kept, detail=_refused(refused.args[0]))
        except READ_ERRORS as exc:
            event = ledger.event(**common, status="failed", active_sha256=kept, detail=_failed(exc))
        event = self.state.record(event)
        self.w.append(ledger.TABLE, ledger.frame([event]))
        return event


class _FactsAhead:
    """The content hash and encoding of the next files, computed in a background thread
    while the current file is parsed and written. Hashing and file reads release the GIL,
    so on two cores most of a run's hashing costs no wall time. Ask in listing order."""

    AHEAD = 2

    def __init__(self, paths: list[Path]):
        self.paths, self.next = paths, 0
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadgen-inspect")
        self.futures: dict[Path, Future] = {}
        self._fill()

    def _fill(self) -> None:
        while self.next < len(self.paths) and len(self.futures) < self.AHEAD:
            path = self.paths[self.next]
            self.futures[path] = self.pool.submit(inspect, path)
            self.next += 1

    def facts(self, path: Path) -> Future:
        future = self.futures.pop(path, None) or self.pool.submit(inspect, path)
        self._fill()
        return future

    def __enter__(self) -> "_FactsAhead":
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _file_slice(event: dict) -> dict[str, list]:
    return {"delivery_date": [event["delivery_date"]], "source_file": [event["source_file"]]}


def _failed(exc: BaseException) -> str:
    return f"could not be read ({type(exc).__name__}); nothing of it was loaded"


def _refused(rows: int) -> str:
    return (f"no records; the {rows} row(s) of the earlier version are kept. "
            "Rerun with config allow_empty: true to accept the empty file")


def _log_progress(
    context: dg.AssetExecutionContext, first: dt.date, last: dt.date, events: list[dict], done: int, total: int
) -> None:
    counts = pl.Series([e["status"] for e in events], dtype=pl.Utf8).value_counts(sort=True)
    summary = ", ".join(f"{n} {status}" for status, n in counts.iter_rows()) or "nothing new"
    rows = sum(e["rows_read"] for e in events)
    span = str(first) if first == last else f"{first}..{last}"
    context.log.info(f"{span}: {summary}; {rows} row(s) read  [{done}/{total} days]")


def _ledger_state(w: Writer, source: str) -> ledger.LedgerState:
    if not w.table_exists(ledger.TABLE):
        return ledger.LedgerState()
    latest = w.con.sql(ledger.LATEST_SQL, params={"source": source}).pl()
    (next_seq,) = w.con.execute(f"SELECT coalesce(max(event_seq), 0) + 1 FROM {qualified(ledger.TABLE)}").fetchall()[0]
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
            w.drop_table(staging_name(table))  # left by a run killed while staging a large file
            state = _ledger_state(w, spec.name)
            ingestion = _Ingestion(w, spec, state, config, context.run.run_id)
            # About ten progress lines per run: each log line is an event in the Dagster instance.
            every, since, span_start = max(1, len(days) // 10), 0, days[0]
            listing = [(day, delivered_files(landing, spec.name, day)) for day in days]
            with _FactsAhead([p for _, paths in listing for p in paths]) as ahead:
                for n, (day, paths) in enumerate(listing, 1):
                    names = [str(p.relative_to(landing)) for p in paths]
                    events += [
                        e for p, rel in zip(paths, names, strict=True)
                        if (e := ingestion.file(p, rel, day, ahead.facts(p))) is not None
                    ]
                    vanished += sorted(set(state.active_files(f"{spec.name}/{day.isoformat()}/")) - set(names))
                    seen += len(paths)
                    if n % every == 0 or n == len(days):
                        ingestion.flush()
                        _log_progress(context, span_start, day, events[since:], n, len(days))
                        since, span_start = len(events), day + dt.timedelta(days=1)
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
            ).fetchall()[0]
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
