"""features: versioned, point-in-time-correct lead features."""

import dagster as dg
import polars as pl

from leadgen_assets.core import features as logic
from leadgen_assets.defs.common import (
    WarehouseResource,
    day_batches,
    layer_asset,
    log_batch,
    markdown_table,
    partition_days,
    rows_per_day,
    write_metadata,
)
from leadgen_assets.storage.warehouse import qualified

TABLE = "features.lead_features"
# Leads per feature batch: bounds the size of the lead x event join.
LEADS_PER_BATCH = 250_000


@layer_asset(
    "features",
    "lead_features",
    description="Fit, engagement and risk features of each lead delivered that day, as of its submit "
    "time: only events that happened before it and arrived by its delivery day, and only visitor "
    "links known by then. Account engagement, buying-committee size and the account's owner come from "
    "the knowledge graph as of the lead. Stored per feature-set version, side by side. Catalogue: docs/features.md.",
    code_version="2",
    deps=[
        dg.AssetKey(["signals", "form_leads"]),
        dg.AssetKey(["signals", "web_events"]),
        dg.AssetKey(["signals", "crm_accounts"]),
        dg.AssetKey(["signals", "enrichment"]),
        dg.AssetKey(["identity", "person_records"]),
        dg.AssetKey(["identity", "visitor_map"]),
        dg.AssetKey(["identity", "person_activity"]),
        dg.AssetKey(["identity", "person_companies"]),
        dg.AssetKey(["identity", "account_owners"]),
    ],
)
def lead_features(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    version = logic.feature_set_version()
    days = partition_days(context)
    # $first, $last, $feature_set and $version are bound by name, never pasted into the SQL.
    select = (
        f"SELECT f.*, $feature_set AS feature_set, $version AS feature_set_version "
        f"FROM ({logic.LEAD_FEATURES_SQL}) f ORDER BY delivery_date, lead_id"
    )
    reports, done = [], 0
    with store.writer() as w:
        sizes = rows_per_day(w.con, "signals.form_leads", days)
        for batch in day_batches(days, sizes, limit=LEADS_PER_BATCH):
            reports.append(
                w.write_partitions(
                    TABLE, select, partition_col="delivery_date", keys=batch,
                    scope={"feature_set_version": version},
                    params={"first": batch[0], "last": batch[-1], "feature_set": logic.FEATURE_SET, "version": version},
                )
            )
            done += len(batch)
            log_batch(context, batch, reports[-1].rows_written, done, len(days))
    with store.reader() as con:
        summary = con.sql(
            f"""SELECT round(avg(pageviews_30d), 2) AS avg_pageviews, round(avg(demo_requested::INT), 4) AS demo_rate,
                       round(avg((person_id IS NOT NULL)::INT), 4) AS with_person,
                       round(avg((pageviews_30d > 0)::INT), 4) AS with_web_history
                FROM {qualified(TABLE)} WHERE feature_set_version = ? AND delivery_date BETWEEN ? AND ?""",
            params=[version, days[0], days[-1]],
        ).pl()
    row = summary.row(0, named=True)
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, TABLE, reports, context,
            feature_set_version=version,
            features=len(logic.FEATURES),
            share_with_web_history=float(row["with_web_history"] or 0.0),
            demo_request_rate=float(row["demo_rate"] or 0.0),
            catalogue=dg.MetadataValue.md(
                markdown_table(
                    pl.DataFrame([(f.name, f.group) for f in logic.FEATURES], schema=["feature", "group"], orient="row"),
                    max_rows=100,
                )
            ),
        )
    )


defs = dg.Definitions(assets=[lead_features])
