"""sources: every delivered file, row for row, partitioned by delivery day."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl

from leadgen_assets.core import health
from leadgen_assets.core.readers import empty_raw, read_day
from leadgen_assets.defs.common import (
    BATCH_ROWS,
    LandingZoneResource,
    WarehouseResource,
    health_check,
    health_check_spec,
    layer_asset,
    log_batch,
    markdown_table,
    partition_days,
    write_metadata,
)
from leadgen_assets.storage.warehouse import Writer


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


def build_source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @layer_asset(
        "sources",
        spec.name,
        description=f"{spec.description}\n\nRaw rows exactly as delivered under "
        f"`landing/{spec.name}/<day>/`, with file and line. One row per record.",
        code_version="1",
        kinds=("duckdb", "file"),
        # Sources are materialised by the schedule, a backfill or a landing sensor, not eagerly.
        automation=False,
        freshness_policy=FEED_FRESHNESS,
        check_specs=[health_check_spec(dg.AssetKey(["sources", spec.name]), "Flags empty and header-only files (warnings).")],
    )
    def _source(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing_zone: LandingZoneResource
    ) -> dg.MaterializeResult:
        store = warehouse.store()
        days = partition_days(context)
        landing = Path(landing_zone.path)
        reports, files, size, per_day = [], 0, 0, []
        file_infos: list[tuple[str, int, int]] = []
        pending: list[pl.DataFrame] = []
        pending_days: list[dt.date] = []

        def flush(w: Writer) -> None:
            frame = pl.concat(pending) if pending else empty_raw()
            reports.append(
                w.write_partitions(f"sources.{spec.name}", frame, partition_col="delivery_date", keys=pending_days)
            )
            log_batch(context, pending_days, frame.height, len(per_day), len(days))
            pending.clear()
            pending_days.clear()

        with store.writer() as w:
            for day in days:
                frame, day_files = read_day(landing, spec.name, day, spec.fmt)
                pending.append(frame)
                pending_days.append(day)
                file_infos += day_files
                files += len(day_files)
                size += sum(n_bytes for _, n_bytes, _ in day_files)
                per_day.append((day.isoformat(), len(day_files), frame.height))
                if sum(f.height for f in pending) >= BATCH_ROWS:
                    flush(w)
            if pending_days:
                flush(w)
        per_day_frame = pl.DataFrame(per_day, schema=["delivery_date", "files", "rows"], orient="row")
        return dg.MaterializeResult(
            check_results=[health_check(dg.AssetKey(["sources", spec.name]), health.empty_file_flags(file_infos))],
            metadata=write_metadata(
                store,
                f"sources.{spec.name}",
                reports,
                context,
                files=files,
                bytes=size,
                landing=dg.MetadataValue.path(str(landing / spec.name)),
                per_day=dg.MetadataValue.md(markdown_table(per_day_frame, max_rows=31)),
            )
        )

    return _source


source_assets = [build_source_asset(s) for s in SOURCES]

defs = dg.Definitions(assets=source_assets)
