"""routing: suppression first, then owners, cadences, the review queue and the CRM outbox."""

import dagster as dg
import polars as pl

from leadgen_assets.core import routing as logic
from leadgen_assets.defs.common import (
    WarehouseResource,
    day_batches,
    layer_asset,
    log_batch,
    markdown_table,
    partition_days,
    rows_per_day,
    write_metadata,
    write_range_from_sql,
)

ROUTES = "routing.lead_routes"

# Suppressed if the person's first consent event happened before the end of the lead's
# delivery day (the routing day).
ROUTING_INPUT_SQL = """
SELECT s.delivery_date, s.lead_id, s.person_id, s.grade, s.probability, s.probability_low, s.probability_high,
       s.disqualified, s.disqualify_reasons,
       f.employees, f.country, f.region, f.crm_owner_id,
       coalesce(p.suppressed_at < s.delivery_date + INTERVAL 1 DAY, false) AS is_suppressed
FROM scoring.lead_scores s
JOIN features.lead_features f ON f.lead_id = s.lead_id AND f.feature_set_version = s.feature_set_version
LEFT JOIN identity.persons p ON p.person_id = s.person_id
WHERE s.delivery_date BETWEEN $first AND $last
"""

# The reps as of each day: the latest snapshot delivered on or before it.
REPS_SQL = """
WITH days AS (SELECT unnest(generate_series($first::DATE, $last::DATE, INTERVAL 1 DAY))::DATE AS day)
SELECT d.day, u.user_id, u.territory, u.segment, u.daily_capacity, u.is_active
FROM days d JOIN signals.crm_users u ON u.delivery_date <= d.day
QUALIFY row_number() OVER (PARTITION BY d.day, u.user_id ORDER BY u.delivery_date DESC, u.source_line DESC) = 1
"""


REVIEW_QUEUE_SQL = """
SELECT r.delivery_date, r.lead_id, r.person_id, r.route_reason AS review_reason,
       r.territory, r.segment, s.grade, s.probability, s.reasons, 'open' AS status
FROM routing.lead_routes r JOIN scoring.lead_scores s USING (lead_id)
WHERE r.delivery_date BETWEEN $first AND $last AND r.decision = 'review'
ORDER BY r.delivery_date, s.probability DESC, r.lead_id
"""

CRM_OUTBOX_SQL = """
SELECT r.delivery_date,
       sha256(concat_ws('|', r.lead_id, coalesce(r.owner_id, ''), r.cadence, s.model_version)) AS idempotency_key,
       r.lead_id, r.owner_id, r.cadence,
       to_json({lead_id: r.lead_id, person_id: r.person_id, owner_id: r.owner_id, cadence: r.cadence,
                grade: s.grade, probability: round(s.probability, 4), reasons: s.reasons,
                model_version: s.model_version})::VARCHAR AS payload,
       'pending' AS status, 0 AS attempts
FROM routing.lead_routes r JOIN scoring.lead_scores s USING (lead_id)
WHERE r.delivery_date BETWEEN $first AND $last AND r.decision IN ('routed', 'nurture')
ORDER BY r.delivery_date, r.lead_id
"""


class RoutingRunConfig(dg.Config):
    routing_config_path: str = str(logic.DEFAULT_CONFIG)


@layer_asset(
    "routing",
    "lead_routes",
    description="One routing decision per scored lead: suppressed, disqualified, review, routed (with "
    "owner and cadence), overflow (no rep had capacity that day) or nurture, with the reason. "
    "Suppressed persons are never routed to outreach.",
    code_version="1",
    deps=[dg.AssetKey(["scoring", "lead_scores"]), dg.AssetKey(["identity", "persons"]), dg.AssetKey(["signals", "crm_users"])],
    kinds=("duckdb", "polars"),
)
def lead_routes(
    context: dg.AssetExecutionContext, config: RoutingRunConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    store = warehouse.store()
    cfg = logic.load(config.routing_config_path)
    days = partition_days(context)
    reports, decisions, done = [], [], 0
    with store.writer() as w:
        sizes = rows_per_day(w.con, "scoring.lead_scores", days)
        for batch in day_batches(days, sizes):
            window = {"first": batch[0], "last": batch[-1]}
            scores = w.con.sql(ROUTING_INPUT_SQL, params=window).pl()
            reps = w.con.sql(REPS_SQL, params=window).pl()
            # Capacity is per rep per day, so each day is routed on its own.
            routed = pl.concat(
                [
                    logic.route(
                        scores.filter(pl.col("delivery_date") == day), reps.filter(pl.col("day") == day), cfg
                    ).with_columns(pl.lit(day, dtype=pl.Date).alias("delivery_date"))
                    for day in batch
                ]
            ).with_columns(pl.lit(context.run.run_id).alias("run_id"))
            reports.append(w.write_partitions(ROUTES, routed, partition_col="delivery_date", keys=batch))
            decisions.append(routed.select("decision"))
            done += len(batch)
            log_batch(context, batch, routed.height, done, len(days))
    counts = pl.concat(decisions).group_by("decision").len().sort("decision") if decisions else pl.DataFrame()
    by = dict(counts.iter_rows()) if counts.height else {}
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, ROUTES, reports, context,
            **{f"leads_{k}": int(by.get(k, 0)) for k in ("routed", "review", "nurture", "overflow", "suppressed", "disqualified")},
            decisions=dg.MetadataValue.md(markdown_table(counts)),
        )
    )


@dg.asset_check(asset=lead_routes, blocking=True, description="No suppressed person is routed to outreach.")
def no_suppressed_person_routed(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = warehouse.store().query(
        """SELECT count(*) AS n FROM routing.lead_routes r JOIN identity.persons p USING (person_id)
           WHERE r.decision IN ('routed', 'nurture')
             AND p.suppressed_at < r.delivery_date + INTERVAL 1 DAY"""
    )["n"][0]
    return dg.AssetCheckResult(passed=bad == 0, metadata={"suppressed_but_routed": int(bad)})


@dg.asset_check(asset=lead_routes, blocking=True, description="Every routed lead has an owner who is an active rep on that day.")
def routed_leads_have_active_owner(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    bad = warehouse.store().query(
        """WITH reps AS (
               SELECT r.delivery_date, u.user_id, u.is_active FROM (SELECT DISTINCT delivery_date FROM routing.lead_routes) r
               JOIN signals.crm_users u ON u.delivery_date <= r.delivery_date
               QUALIFY row_number() OVER (PARTITION BY r.delivery_date, u.user_id ORDER BY u.delivery_date DESC, u.source_line DESC) = 1)
           SELECT count(*) AS n FROM routing.lead_routes l
           LEFT JOIN reps ON reps.delivery_date = l.delivery_date AND reps.user_id = l.owner_id
           WHERE l.decision = 'routed' AND NOT coalesce(reps.is_active, false)"""
    )["n"][0]
    return dg.AssetCheckResult(passed=bad == 0, metadata={"routed_without_active_owner": int(bad)})


@layer_asset(
    "routing",
    "review_queue",
    description="Leads a person must look at before anyone reaches out: uncertain grades, high-stakes "
    "accounts and inactive owners, with the reason and the top score reasons.",
    code_version="1",
    deps=[lead_routes],
)
def review_queue(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    reports = [write_range_from_sql(context, store, "routing.review_queue", REVIEW_QUEUE_SQL)]
    days = partition_days(context)
    with store.reader() as con:
        reasons = con.sql(
            "SELECT review_reason, count(*) AS leads FROM routing.review_queue WHERE delivery_date BETWEEN ? AND ? GROUP BY ALL ORDER BY leads DESC",
            params=[days[0], days[-1]],
        ).pl()
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "routing.review_queue", reports, context, reasons=dg.MetadataValue.md(markdown_table(reasons))
        )
    )


@layer_asset(
    "routing",
    "crm_outbox",
    description="What leadgen sends to the CRM: one pending message per routed or nurtured lead, keyed by "
    "an idempotency key (lead, owner, cadence, model), so a resend never creates a duplicate. The "
    "payload carries ids, grade and reasons, no personal data.",
    code_version="1",
    deps=[lead_routes],
)
def crm_outbox(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    reports = [write_range_from_sql(context, store, "routing.crm_outbox", CRM_OUTBOX_SQL)]
    return dg.MaterializeResult(metadata=write_metadata(store, "routing.crm_outbox", reports, context))


defs = dg.Definitions(
    assets=[lead_routes, review_queue, crm_outbox],
    asset_checks=[no_suppressed_person_routed, routed_leads_have_active_owner],
)
