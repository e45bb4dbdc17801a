"""signals: typed, validated, normalised rows; every rejected row goes to quarantine."""

import contextlib
from dataclasses import dataclass

import dagster as dg
import polars as pl

from leadgen_assets.core import charts, contracts, health, ledger
from leadgen_assets.core import signals as transforms
from leadgen_assets.defs.common import (
    BATCH_ROWS,
    SLICE_ROWS,
    WarehouseResource,
    day_batches,
    health_check,
    health_check_spec,
    layer_asset,
    log_batch,
    markdown_table,
    partition_days,
    rows_per_day,
    write_metadata,
)
from leadgen_assets.defs.sources.assets import SOURCES
from leadgen_assets.storage.warehouse import WriteReport, Writer, qualified, staging_name

QUARANTINE = "signals.quarantine"

DESCRIPTIONS = {
    "web_events": "Web events with UTC event times, page paths and normalised identify emails; late events flagged.",
    "form_leads": "Form leads from every channel mapped onto one lead schema: normalised email and match key, E.164 phone, company domain, ISO country, UTC submit time.",
    "crm_accounts": "CRM accounts with website domain and company match key, one row per delivered change.",
    "crm_contacts": "CRM contacts with normalised email and phone, one row per delivered change.",
    "crm_opportunities": "CRM opportunities with stage, won/lost and dates, one row per delivered change.",
    "crm_users": "Reps: territory, segment, daily capacity and active flag, as of each delivery day.",
    "enrichment": "Firmographics by company domain as the provider returned them, typed.",
    "ad_spend": "Ad spend by channel, campaign and day, typed.",
    "consent_events": "Consent events with the email match key and E.164 phone they refer to.",
    "review_decisions": "Reviewers' verdicts on queued leads, typed.",
}


def _read_raw(w: Writer, source: str, batch: list, lines: pl.DataFrame | None = None) -> pl.DataFrame:
    """The raw rows of the batch's days, or of one slice of them: ``lines`` holds the slice's
    line ranges per file (``source_file``, ``first``, ``last``; see ``_slices``)."""
    sql = f"SELECT * FROM {qualified('sources.' + source)} WHERE delivery_date BETWEEN $first AND $last "
    params: dict = {"first": batch[0], "last": batch[-1]}
    if lines is not None:
        ranges = []
        for i, (source_file, first, last) in enumerate(lines.select("source_file", "first", "last").iter_rows()):
            ranges.append(f"(source_file = $f{i} AND source_line BETWEEN $a{i} AND $b{i})")
            params |= {f"f{i}": source_file, f"a{i}": first, f"b{i}": last}
        sql += f"AND ({' OR '.join(ranges)}) "
    if source not in transforms.ROW_LOCAL:  # rules across rows see them in delivered order
        sql += "ORDER BY source_file, source_line"
    return w.con.sql(sql, params=params).pl()


def _slices(w: Writer, source: str, batch: list, rows: int) -> list[pl.DataFrame]:
    """A batch too big to transform at once, cut into slices of at most SLICE_ROWS rows, each
    given as line ranges per file. A file's rows are stored in line order, so DuckDB reads
    only the row groups of a range: every slice costs its own size, not the whole batch."""
    if rows <= BATCH_ROWS or source not in transforms.ROW_LOCAL:
        return []
    size = min(SLICE_ROWS, BATCH_ROWS)
    ranges = w.con.sql(
        f"""
        WITH numbered AS (
            SELECT source_file, source_line,
                   (row_number() OVER (ORDER BY source_file, source_line) - 1) // $size AS slice
            FROM {qualified('sources.' + source)} WHERE delivery_date BETWEEN $first AND $last
        )
        SELECT slice, source_file, min(source_line) AS first, max(source_line) AS last
        FROM numbered GROUP BY ALL ORDER BY slice, source_file
        """,
        params={"first": batch[0], "last": batch[-1], "size": size},
    ).pl()
    return [part.drop("slice") for part in ranges.partition_by("slice", maintain_order=True)]


@dataclass
class _ContractOutcome:
    failures: pl.DataFrame  # column, check, rows
    rows_quarantined: int


def _transform(
    source: str, raw: pl.DataFrame, batch: list
) -> tuple[pl.DataFrame, pl.DataFrame, _ContractOutcome, pl.DataFrame]:
    """Accepted and rejected rows of ``raw``, what the contract made of them, and the
    delivered columns no field reads. The contract is the write gate: rows that break it
    join the rejects, never the table."""
    accepted, rejected = transforms.transform(source, raw)
    accepted, broke_contract, contract = contracts.enforce(source, accepted)
    rejected = pl.concat([rejected, broke_contract])
    if accepted.height + rejected.height != raw.height:
        raise RuntimeError(
            f"signals/{source} {batch[0]}..{batch[-1]}: {raw.height} rows read but {accepted.height} "
            f"accepted + {rejected.height} rejected; nothing was written. This is a bug in "
            f"leadgen_assets/core/signals.py ({source}); please report it with this message."
        )
    outcome = _ContractOutcome(contract.failures, broke_contract.height)
    return accepted, rejected, outcome, transforms.extra_columns(source, raw)


def _detached(summary: pl.DataFrame) -> pl.DataFrame:
    """A small summary kept across batches, copied out of the frame it was computed from.
    A polars string column can be views into the source frame's buffers, so a group-by key
    such as ``source_file`` would otherwise keep a whole slice of raw text alive."""
    return pl.DataFrame(summary.to_dict(as_series=False), schema=summary.schema)


def _file_counts(accepted: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([
        accepted.group_by("source_file").agg(pl.len().cast(pl.Int64).alias("accepted"), pl.lit(0, pl.Int64).alias("rejected")),
        rejected.group_by("source_file").agg(pl.lit(0, pl.Int64).alias("accepted"), pl.len().cast(pl.Int64).alias("rejected")),
    ])


def _record_outcome(w: Writer, source: str, counts: pl.DataFrame) -> None:
    """Accepted and rejected rows per file (``_file_counts`` of every slice of a batch), into
    the ingestion ledger's latest load of each file."""
    if not w.table_exists(ledger.TABLE):
        return
    outcome = counts.group_by("source_file").agg(pl.col("accepted").sum(), pl.col("rejected").sum())
    w.con.register("__file_outcome", outcome)
    try:
        w.con.execute(ledger.RECORD_OUTCOME_SQL, {"source": source})
    finally:
        w.con.unregister("__file_outcome")


# A run of one day carries its figures in its materialisation metadata. A backfill's
# metadata sums its days, so a backfill of up to this many days also records one
# observation per day (each is a write to the Dagster instance, about 15 ms); longer
# backfills rely on the chart, which always shows every day.
OBSERVED_DAYS_MAX = 31


def _observe_days(
    context: dg.AssetExecutionContext, source: str, day_reads: list[pl.DataFrame], reasons: list[pl.DataFrame]
) -> str | None:
    """Per delivery day of a backfill: an observation with rows read, rejected, the reject
    rate and the rows per reject reason (numbers the UI plots across partitions). Returns a
    chart of rejects by reason and day for the run's metadata (None when nothing was
    rejected)."""
    if not day_reads:
        return None
    reads = pl.concat(day_reads).group_by("delivery_date").agg(pl.col("read").sum())
    rejects = (
        pl.concat(reasons).with_columns(charts.reason_label(pl.col("reason")).alias("reason"))
        .group_by("delivery_date", "reason").agg(pl.col("len").sum().alias("rows"))
        if reasons else pl.DataFrame(schema={"delivery_date": pl.Date, "reason": pl.Utf8, "rows": pl.UInt32})
    )
    by_day = rejects.group_by("delivery_date").agg(pl.col("rows").sum().alias("rejected"))
    days = reads.join(by_day, on="delivery_date", how="left").fill_null(0).sort("delivery_date")
    for day, n_read, n_rejected in days.iter_rows() if 1 < days.height <= OBSERVED_DAYS_MAX else ():
        per_reason = {
            f"rejected: {reason}": int(rows)
            for reason, rows in rejects.filter(pl.col("delivery_date") == day).select("reason", "rows").iter_rows()
        }
        context.log_event(
            dg.AssetObservation(
                asset_key=context.asset_key,
                partition=day.isoformat(),
                metadata={
                    "rows_read": int(n_read),
                    "rows_rejected": int(n_rejected),
                    "reject_rate": round(n_rejected / n_read, 5) if n_read else 0.0,
                    **per_reason,
                },
            )
        )
    return charts.stacked_bars(
        rejects.with_columns(pl.col("delivery_date").cast(pl.Utf8)),
        x="delivery_date", series="reason", value="rows",
        title=f"signals/{source}: rejected rows per delivery day, by reason", ylabel="rows rejected",
    )


def build_signal_asset(source: str) -> dg.AssetsDefinition:

    @layer_asset(
        "signals",
        source,
        description=DESCRIPTIONS[source]
        + f"\n\nLines that cannot be read, rows that fail parsing and rows that break the table's contract "
        f"go to `{QUARANTINE}` with file, line, field and reason.",
        code_version="1",
        deps=[dg.AssetKey(["sources", source])],
        kinds=("duckdb", "polars", "pandera"),
        check_specs=[
            dg.AssetCheckSpec(
                "contract",
                asset=dg.AssetKey(["signals", source]),
                description=f"Rows written keep the pandera contract of signals.{source} (docs/contracts.md); "
                "rows that break it are quarantined, never written. Failures as column, check and count.",
            ),
            health_check_spec(dg.AssetKey(["signals", source]), "Flags NULL storms and placeholder storms per file."),
        ],
    )
    def _signal(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        store = warehouse.store()
        days = partition_days(context)
        reports, read, rejected_total, reasons, day_reads, done = [], 0, 0, [], [], 0
        contract_failures: list[pl.DataFrame] = []
        storm_flags: list[pl.DataFrame] = []
        extras: list[pl.DataFrame] = []  # delivered columns no field reads: kept in sources, listed here
        contract_rejects = 0
        with store.writer() as w:
            for table in (f"signals.{source}", QUARANTINE):  # left by a run killed while staging
                w.drop_table(staging_name(table))
            sizes = rows_per_day(w.con, f"sources.{source}", days)
            for batch in day_batches(days, sizes):
                # A day larger than a batch is cut into slices when each row is transformed on
                # its own (web events); the slices are written in one transaction.
                slices = _slices(w, source, batch, sum(sizes.get(d, 0) for d in batch))
                outcome, watched, batch_accepted = [], [], 0
                with contextlib.ExitStack() as stack:
                    if slices:  # slices are staged, then moved in place in one transaction
                        staged = stack.enter_context(w.staging(f"signals.{source}"))
                        staged_rejects = stack.enter_context(w.staging(QUARANTINE))
                    for lines in slices or [None]:
                        raw = _read_raw(w, source, batch, lines)
                        accepted, rejected, contract, extra = _transform(source, raw, batch)
                        extras.append(extra)
                        contract_failures.append(contract.failures)
                        contract_rejects += contract.rows_quarantined
                        outcome.append(_detached(_file_counts(accepted, rejected)))
                        if not slices:
                            with w.transaction():
                                # An empty day is refused unless the raw day is empty too: the sources
                                # layer only empties a day on an explicit `allow_empty` (core/ledger.py).
                                reports.append(w.write_partitions(
                                    f"signals.{source}", accepted, partition_col="delivery_date", keys=batch,
                                    allow_empty=raw.is_empty(),
                                ))
                                w.write_partitions(
                                    QUARANTINE, rejected, partition_col="delivery_date", keys=batch,
                                    scope={"source": source}, allow_empty=True,
                                )
                                _record_outcome(w, source, outcome[0])
                        else:
                            w.append(staged, accepted)
                            w.append(staged_rejects, rejected)
                        watched.append(_detached(health.file_counts(source, accepted)))
                        batch_accepted += accepted.height
                        read += raw.height
                        rejected_total += rejected.height
                        day_reads.append(raw.group_by("delivery_date").agg(pl.len().alias("read")))
                        if rejected.height:
                            reasons.append(_detached(rejected.group_by("delivery_date", "field", "reason").len()))
                    if slices:
                        with w.transaction():
                            replaced = w.delete_in(f"signals.{source}", {"delivery_date": batch})
                            w.delete_in(QUARANTINE, {"delivery_date": batch, "source": [source]})
                            moved = w.insert_from(f"signals.{source}", staged, slice_={"delivery_date": batch})
                            reports.append(WriteReport(moved.table, moved.rows_written, replaced, moved.seconds))
                            w.insert_from(QUARANTINE, staged_rejects, slice_={"delivery_date": batch, "source": [source]})
                            _record_outcome(w, source, pl.concat(outcome))
                storm_flags.append(health.file_flags(source, watched))
                done += len(batch)
                log_batch(context, batch, batch_accepted, done, len(days))
        chart = _observe_days(context, source, day_reads, reasons)
        reason_table = (
            pl.concat(reasons).group_by("field", "reason").agg(pl.col("len").sum().alias("rows")).sort("rows", descending=True)
            if reasons
            else pl.DataFrame(schema={"field": pl.Utf8, "reason": pl.Utf8, "rows": pl.UInt32})
        )
        failures = (
            pl.concat(contract_failures).group_by("column", "check").agg(pl.col("rows").sum()).sort("rows", descending=True)
            if contract_failures
            else pl.DataFrame(schema=contracts.FAILURE_SCHEMA)
        )
        contract_check = dg.AssetCheckResult(
            check_name="contract",
            passed=failures.is_empty(),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_quarantined_by_contract": contract_rejects,
                "failures": dg.MetadataValue.md(markdown_table(failures)),  # a row can fail several checks
            },
        )
        return dg.MaterializeResult(
            check_results=[
                contract_check,
                health_check(
                    dg.AssetKey(["signals", source]),
                    pl.concat(storm_flags) if storm_flags else pl.DataFrame(schema=health.FLAG_SCHEMA),
                ),
            ],
            metadata=write_metadata(
                store,
                f"signals.{source}",
                reports,
                context,
                rows_read=read,
                rows_rejected=rejected_total,
                reject_rate=round(rejected_total / read, 5) if read else 0.0,
                extra_columns=dg.MetadataValue.md(
                    markdown_table(pl.concat([pl.DataFrame(schema=transforms.EXTRA_SCHEMA), *extras]).unique(maintain_order=True))
                ),
                reject_reasons=dg.MetadataValue.md(markdown_table(reason_table)),
                reject_reasons_by_day=dg.MetadataValue.md(chart or "No rows were rejected."),
            )
        )

    @dg.asset_check(
        asset=_signal,
        name="rows_reconcile",
        blocking=True,
        description="For every delivered file, raw rows = accepted + rejected. Nothing is dropped silently.",
    )
    def _reconcile(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        counts = warehouse.store().query(
            f"""
            WITH r AS (SELECT delivery_date, source_file, count(*) AS n FROM {qualified('sources.' + source)} GROUP BY ALL),
                 a AS (SELECT delivery_date, source_file, count(*) AS n FROM {qualified('signals.' + source)} GROUP BY ALL),
                 q AS (SELECT delivery_date, source_file, count(*) AS n FROM {qualified(QUARANTINE)}
                       WHERE source = ? GROUP BY ALL)
            SELECT delivery_date, source_file, coalesce(r.n, 0) AS read, coalesce(a.n, 0) AS accepted,
                   coalesce(q.n, 0) AS rejected
            FROM r FULL JOIN a USING (delivery_date, source_file) FULL JOIN q USING (delivery_date, source_file)
            """,
            [source],
        )
        off = counts.filter(pl.col("read") != pl.col("accepted") + pl.col("rejected"))
        return dg.AssetCheckResult(
            passed=off.is_empty(),
            metadata={
                "files_checked": counts.height,
                "files_out_of_balance": off.height,
                "days_checked": counts["delivery_date"].n_unique(),
                "rows_read": int(counts["read"].sum()),
                "rows_accepted": int(counts["accepted"].sum()),
                "rows_rejected": int(counts["rejected"].sum()),
                "out_of_balance": dg.MetadataValue.md(markdown_table(off.sort("delivery_date", "source_file"))),
            },
        )

    return _signal, _reconcile


_built = [build_signal_asset(s.name) for s in SOURCES]
signal_assets = [a for a, _ in _built]
signal_checks = [c for _, c in _built]

defs = dg.Definitions(assets=signal_assets, asset_checks=signal_checks)
