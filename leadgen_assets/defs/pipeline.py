"""The whole-funnel job and the daily schedule that keeps it current."""

from __future__ import annotations

import dagster as dg

# Every asset, sources to governance. Daily-partitioned assets run for the selected day (or a
# backfill range, in one run); unpartitioned ones (identity, graph, audit log) run once per run.
funnel_job = dg.define_asset_job(
    "lead_funnel",
    selection=dg.AssetSelection.all(),
    description="The whole lead funnel for a delivery day: ingest, normalise, resolve, featurise, "
    "score, route, monitor and audit.",
)

# Each morning at 06:00 UTC, run yesterday's delivery day.
daily_funnel_schedule = dg.build_schedule_from_partitioned_job(
    funnel_job, hour_of_day=6, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.STOPPED
)

defs = dg.Definitions(jobs=[funnel_job], schedules=[daily_funnel_schedule])
