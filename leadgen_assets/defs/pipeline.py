"""The whole-funnel job and the daily schedule that keeps it current."""

from __future__ import annotations

import dagster as dg

# Every asset, sources to governance. Daily-partitioned assets run for the selected day (or a
# backfill range, in one run); unpartitioned ones (identity, graph, audit log) run once per run.
funnel_job = dg.define_asset_job(
    "lead_funnel",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("models"),
    description="The whole lead funnel for a delivery day: ingest, normalise, resolve, featurise, "
    "score, route, monitor and audit.",
)

# Each morning at 06:00 UTC, run yesterday's delivery day.
daily_funnel_schedule = dg.build_schedule_from_partitioned_job(
    funnel_job, hour_of_day=6, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.STOPPED
)

# Training is not part of the daily funnel: it reads every mature lead, and a new model only
# matters once someone approves it. It runs weekly (when switched on), on drift, or by hand.
retrain_job = dg.define_asset_job(
    "train_challenger",
    selection=dg.AssetSelection.assets(["models", "training_set"], ["models", "challenger"]),
    description="Build the point-in-time training set and train a challenger model, judged against the "
    "champion and the rule model on the latest labelled days. Promotion is a separate, approved step.",
)
weekly_retrain_schedule = dg.ScheduleDefinition(
    job=retrain_job, cron_schedule="0 7 * * 1", default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Mondays at 07:00 UTC, after the daily funnel run.",
)

defs = dg.Definitions(jobs=[funnel_job, retrain_job], schedules=[daily_funnel_schedule, weekly_retrain_schedule])
