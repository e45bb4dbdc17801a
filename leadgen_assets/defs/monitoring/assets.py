"""monitoring: data quality, score and feature drift and business KPIs, per delivery day."""

import datetime as dt
from typing import Any

import dagster as dg
import numpy as np
import polars as pl

from leadgen_assets.core import features as feature_logic
from leadgen_assets.core import registry, training
from leadgen_assets.core.features import psi
from leadgen_assets.defs.common import (
    WarehouseResource,
    layer_asset,
    markdown_table,
    partition_days,
    write_metadata,
    write_range_from_sql,
)
from leadgen_assets.defs.sources.assets import SOURCES
from leadgen_assets.settings import start_date
from leadgen_assets.storage.warehouse import qualified, quote_ident, table_columns

# Score histogram bins over rule points; the last bin is open-ended.
POINT_BINS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 100, 120]
REFERENCE_DAYS = 14
DRIFT_WINDOW_DAYS = 7  # the drift check pools this many delivery days
FEATURE_DRIFT_PSI = 0.25  # a feature whose pooled PSI reaches this has drifted ...
FEATURE_DRIFT_MIN_LEADS = 200  # ... when its window holds at least this many leads

KPIS_SQL = """
WITH s AS (
    SELECT s.delivery_date, s.channel, s.lead_id,
           NOT s.disqualified AND regexp_matches(s.grade, '^[AB]') AS qualified, r.decision
    FROM scoring.lead_scores s JOIN routing.lead_routes r USING (lead_id)
    WHERE s.delivery_date BETWEEN $first AND $last
),
leads AS (
    SELECT delivery_date, channel, count(*) AS leads,
           count(*) FILTER (WHERE qualified) AS qualified_leads,
           count(*) FILTER (WHERE decision = 'routed') AS routed,
           count(*) FILTER (WHERE decision = 'review') AS sent_to_review,
           count(*) FILTER (WHERE decision = 'overflow') AS overflow,
           count(*) FILTER (WHERE decision = 'suppressed') AS suppressed,
           count(*) FILTER (WHERE decision = 'disqualified') AS disqualified
    FROM s GROUP BY ALL
),
spend AS (
    SELECT spend_date AS delivery_date, channel, sum(spend) AS spend FROM signals.ad_spend
    WHERE spend_date BETWEEN $first AND $last GROUP BY ALL
)
SELECT delivery_date, channel,
       coalesce(leads, 0) AS leads, coalesce(qualified_leads, 0) AS qualified_leads,
       coalesce(routed, 0) AS routed, coalesce(sent_to_review, 0) AS sent_to_review,
       coalesce(overflow, 0) AS overflow,
       coalesce(suppressed, 0) AS suppressed, coalesce(disqualified, 0) AS disqualified,
       coalesce(spend, 0.0) AS spend,
       CASE WHEN qualified_leads > 0 THEN coalesce(spend, 0.0) / qualified_leads END AS cost_per_qualified_lead
FROM leads FULL OUTER JOIN spend USING (delivery_date, channel)
ORDER BY delivery_date, channel
"""


# Source names are constants of this package, never data.
_DQ_PARTS = [
    f"""SELECT '{s.name}' AS source, d.day AS delivery_date,
               (SELECT count(*) FROM {qualified("sources." + s.name)} t WHERE t.delivery_date = d.day) AS rows_read,
               (SELECT count(*) FROM {qualified("signals." + s.name)} t WHERE t.delivery_date = d.day) AS rows_accepted,
               (SELECT count(*) FROM signals.quarantine q WHERE q.delivery_date = d.day AND q.source = '{s.name}') AS rows_rejected
        FROM days d"""
    for s in SOURCES
]
DATA_QUALITY_SQL = (
    "WITH days AS (SELECT unnest(generate_series($first::DATE, $last::DATE, INTERVAL 1 DAY))::DATE AS day) "
    "SELECT *, CASE WHEN rows_read > 0 THEN rows_rejected / rows_read ELSE 0 END AS reject_rate FROM ("
    + " UNION ALL ".join(_DQ_PARTS)
    + ") ORDER BY delivery_date, source"
)


@layer_asset(
    "monitoring",
    "daily_kpis",
    description="Business KPIs per delivery day and channel: leads, qualified leads (grade A or B), routed, "
    "sent to review, suppressed, disqualified, ad spend and cost per qualified lead.",
    code_version="1",
    deps=[dg.AssetKey(["routing", "lead_routes"]), dg.AssetKey(["signals", "ad_spend"])],
)
def daily_kpis(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    days = partition_days(context)
    reports = [write_range_from_sql(context, store, "monitoring.daily_kpis", KPIS_SQL)]
    with store.reader() as con:
        totals = con.sql(
            "SELECT sum(leads) AS leads, sum(qualified_leads) AS qualified, sum(routed) AS routed, "
            "sum(sent_to_review) AS review, sum(spend) AS spend FROM monitoring.daily_kpis WHERE delivery_date BETWEEN ? AND ?",
            params=[days[0], days[-1]],
        ).pl().row(0, named=True)
    leads = int(totals["leads"] or 0)
    qualified = int(totals["qualified"] or 0)
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "monitoring.daily_kpis", reports, context,
            leads=leads,
            qualified_rate=round(qualified / leads, 4) if leads else 0.0,
            routed=int(totals["routed"] or 0),
            sent_to_review=int(totals["review"] or 0),
            cost_per_qualified_lead=round(float(totals["spend"] or 0) / qualified, 2) if qualified else 0.0,
        )
    )


@layer_asset(
    "monitoring",
    "data_quality",
    description="Per source and delivery day: rows read, accepted and rejected, and the reject rate.",
    code_version="1",
    deps=[dg.AssetKey(["signals", s.name]) for s in SOURCES],
)
def data_quality(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    days = partition_days(context)
    reports = [write_range_from_sql(context, store, "monitoring.data_quality", DATA_QUALITY_SQL)]
    with store.reader() as con:
        summary = con.sql(
            "SELECT source, sum(rows_read) AS rows_read, sum(rows_rejected) AS rows_rejected FROM monitoring.data_quality "
            "WHERE delivery_date BETWEEN ? AND ? GROUP BY ALL ORDER BY source",
            params=[days[0], days[-1]],
        ).pl()
    read = int(summary["rows_read"].sum())
    rejected = int(summary["rows_rejected"].sum())
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "monitoring.data_quality", reports, context,
            overall_reject_rate=round(rejected / read, 5) if read else 0.0,
            by_source=dg.MetadataValue.md(markdown_table(summary)),
        )
    )


def _histogram(points: pl.Series) -> list[float]:
    """Share of points in each bin of POINT_BINS (the last bin is open-ended)."""
    idx = np.searchsorted(POINT_BINS, points.to_numpy(), side="right") - 1
    counts = np.bincount(np.clip(idx, 0, None), minlength=len(POINT_BINS))
    return (counts / max(counts.sum(), 1)).tolist()


@layer_asset(
    "monitoring",
    "score_reference",
    description=f"The reference histogram of rule points: all non-disqualified leads of the first "
    f"{REFERENCE_DAYS} delivery days. Score drift is measured against it. Rematerialise it to move the reference.",
    code_version="1",
    deps=[dg.AssetKey(["scoring", "lead_scores"])],
    partitioned=False,
    automation=False,
)
def score_reference(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        pts = w.con.sql(
            "SELECT points FROM scoring.lead_scores WHERE NOT disqualified AND delivery_date < ?::DATE + ?::INT",
            params=[start_date(), REFERENCE_DAYS],
        ).pl()["points"]
        hist = _histogram(pts)
        frame = pl.DataFrame({"bin_low": POINT_BINS, "share": hist, "leads": [pts.len()] * len(POINT_BINS)})
        report = w.replace_table("monitoring.score_reference", frame)
    return dg.MaterializeResult(metadata=write_metadata(store, "monitoring.score_reference", [report], reference_leads=pts.len()))


@layer_asset(
    "monitoring",
    "score_drift",
    description="Population stability index (PSI) of rule points against the stored reference: each day "
    f"alone (`psi`) and the {DRIFT_WINDOW_DAYS} days ending on it pooled (`psi_window`). A day of a small business "
    "holds about a hundred leads, and a hundred draws from an unchanged mix give a PSI of 0.1-0.3 by chance, "
    "so the check reads the pooled window: above 0.25 the mix of leads has shifted.",
    code_version="2",
    deps=[dg.AssetKey(["scoring", "lead_scores"]), score_reference],
)
def score_drift(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    days = partition_days(context)
    with store.writer() as w:
        if not w.table_exists("monitoring.score_reference"):
            raise RuntimeError("monitoring/score_reference has not been materialised yet: materialise it first.")
        reference = w.con.sql("SELECT share FROM monitoring.score_reference ORDER BY bin_low").pl()["share"].to_list()
        points = w.con.sql(
            "SELECT delivery_date, points FROM scoring.lead_scores WHERE NOT disqualified AND delivery_date BETWEEN ? AND ?",
            params=[days[0] - dt.timedelta(days=DRIFT_WINDOW_DAYS - 1), days[-1]],
        ).pl()
        rows = []
        for day in days:
            pts = points.filter(pl.col("delivery_date") == day)["points"]
            window = points.filter(pl.col("delivery_date").is_between(day - dt.timedelta(days=DRIFT_WINDOW_DAYS - 1), day))["points"]
            rows.append((
                day, pts.len(), psi(reference, _histogram(pts)) if pts.len() else None,
                window.len(), psi(reference, _histogram(window)) if window.len() else None,
            ))
        frame = pl.DataFrame(rows, schema={
            "delivery_date": pl.Date, "leads": pl.Int64, "psi": pl.Float64, "window_leads": pl.Int64, "psi_window": pl.Float64,
        }, orient="row")
        reports = [w.write_partitions("monitoring.score_drift", frame, partition_col="delivery_date", keys=days)]
    known = [(r[2], r[4]) for r in rows if r[2] is not None]
    latest, latest_window = known[-1] if known else (0.0, 0.0)
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "monitoring.score_drift", reports, context, psi=round(latest, 5), psi_window=round(latest_window, 5)
        )
    )


@dg.asset_check(
    asset=score_drift,
    description=f"The score PSI of the latest {DRIFT_WINDOW_DAYS} delivery days, pooled, is under 0.25.",
)
def score_psi_under_threshold(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    latest = warehouse.store().query(
        "SELECT delivery_date, psi_window, window_leads FROM monitoring.score_drift WHERE psi_window IS NOT NULL "
        "ORDER BY delivery_date DESC LIMIT 1"
    )
    value = float(latest["psi_window"][0]) if latest.height else 0.0
    return dg.AssetCheckResult(
        passed=value < 0.25,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "psi_window": round(value, 5), "threshold": 0.25, "window_days": DRIFT_WINDOW_DAYS,
            "window_leads": int(latest["window_leads"][0]) if latest.height else 0,
        },
    )


def _model_features(con: Any, first: dt.date, last: dt.date, version: str) -> pl.DataFrame:
    """The model's features (and delivery day) of the leads the model scores, delivered from
    ``first`` to ``last``: disqualified leads never reach it, so they are left out here too."""
    stored = table_columns(con, "features.lead_features")
    columns = ", ".join(f"f.{quote_ident(c)}" for c in training.MODEL_FEATURES if c in stored)
    return con.sql(
        f"SELECT f.delivery_date, {columns} FROM features.lead_features f "
        "JOIN scoring.lead_scores s ON s.lead_id = f.lead_id AND s.delivery_date = f.delivery_date "
        "WHERE f.feature_set_version = ? AND NOT s.disqualified AND f.delivery_date BETWEEN ? AND ?",
        params=[version, first, last],
    ).pl()


FEATURE_DRIFT_SCHEMA = {
    "delivery_date": pl.Date, "feature": pl.Utf8, "psi_window": pl.Float64, "window_leads": pl.Int64, "reference": pl.Utf8,
}


@layer_asset(
    "monitoring",
    "feature_drift",
    description="Population stability index (PSI) of each of the learned model's features, over the leads of the "
    f"{DRIFT_WINDOW_DAYS} delivery days ending on each day, pooled, against the champion's training set "
    "(`reference` = `model <version>`): what the model learned from. Numbers are compared bin by bin (edges at "
    "the training set's deciles), flags and categories value by value, and a rise in empty values counts. "
    f"Disqualified leads never reach the model and are left out. Above {FEATURE_DRIFT_PSI} a feature's mix has "
    "shifted. While the rule model scores (no learned champion, or one trained on another feature set) nothing "
    "is compared: score_drift watches the rule points.",
    code_version="1",
    deps=[dg.AssetKey(["features", "lead_features"]), dg.AssetKey(["scoring", "lead_scores"])],
)
def feature_drift(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    days = partition_days(context)
    version = feature_logic.feature_set_version()
    window = dt.timedelta(days=DRIFT_WINDOW_DAYS - 1)
    with store.writer() as w:
        champion = registry.champion_profile(w.con)
        if champion is None or champion[1] != version or not champion[2]:
            why = ("no learned model is the champion: the rule model scores, and score_drift watches it"
                   if champion is None else
                   f"champion {champion[0]} was trained on feature set {champion[1]}; the features are {version}"
                   if champion[1] != version else f"champion {champion[0]} was registered without a feature profile")
            context.log.info(f"feature drift not measured: {why}")
            return dg.MaterializeResult(metadata={"reference": "none", "why_not_measured": why})
        profile, reference = champion[2], f"model {champion[0]}"
        leads = _model_features(w.con, days[0] - window, days[-1], version)
        rows = []
        for day in days:
            pooled = leads.filter(pl.col("delivery_date").is_between(day - window, day))
            values = feature_logic.drift_psi(profile, pooled)
            rows.extend((day, f, values.get(f), pooled.height, reference) for f in profile["features"])
        frame = pl.DataFrame(rows, schema=FEATURE_DRIFT_SCHEMA, orient="row")
        reports = [w.write_partitions("monitoring.feature_drift", frame, partition_col="delivery_date", keys=days)]
    known = frame.filter(pl.col("psi_window").is_not_null())
    latest = known.filter(pl.col("delivery_date") == known["delivery_date"].max()) if known.height else known
    top = latest.sort(["psi_window", "feature"], descending=[True, False]).select(
        "feature", pl.col("psi_window").round(4), "window_leads")
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "monitoring.feature_drift", reports, context,
            reference=reference,
            features=len(profile["features"]),
            latest_day=str(latest["delivery_date"][0]) if latest.height else "",
            window_leads=int(latest["window_leads"][0]) if latest.height else 0,
            features_over_threshold=int((latest["psi_window"] >= FEATURE_DRIFT_PSI).sum()),
            top_drifted=dg.MetadataValue.md(markdown_table(top, max_rows=10)),
        )
    )


@dg.asset_check(
    asset=feature_drift,
    description=f"Every feature's PSI over the latest {DRIFT_WINDOW_DAYS} delivery days, pooled, is under "
    f"{FEATURE_DRIFT_PSI} (a window of fewer than {FEATURE_DRIFT_MIN_LEADS} leads is too small to call drift).",
)
def feature_psi_under_threshold(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    champion, latest = None, pl.DataFrame()
    with warehouse.store().reader() as con:  # one read-only look: today's champion and the latest drift rows
        present = {f"{r[0]}.{r[1]}" for r in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('monitoring', 'models')"
        ).fetchall()}
        if "models.lifecycle" in present:  # the latest decision names the champion
            last = con.execute(registry.CHAMPION_SQL).fetchall()
            champion = last[0][0] if last and last[0][0] != registry.RULES else None
        if champion is not None and "monitoring.feature_drift" in present:
            latest = con.sql(
                "SELECT delivery_date, feature, psi_window, window_leads, reference FROM monitoring.feature_drift "
                "WHERE psi_window IS NOT NULL AND delivery_date = "
                "(SELECT max(delivery_date) FROM monitoring.feature_drift WHERE psi_window IS NOT NULL)").pl()
    if champion is None or "monitoring.feature_drift" not in present:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={
            "measured": False, "why": "no learned model is champion; the rule model's drift is score_drift's check"})
    if not latest.height or latest["reference"][0] != f"model {champion}":
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={
            "measured": False, "why": f"feature drift against champion {champion} has not been measured yet; "
            "materialise monitoring/feature_drift"})
    window_leads = int(latest["window_leads"].max()) if latest.height else 0
    drifted = latest.filter(
        (pl.col("psi_window") >= FEATURE_DRIFT_PSI) & (pl.col("window_leads") >= FEATURE_DRIFT_MIN_LEADS)
    ).sort(["psi_window", "feature"], descending=[True, False]).select("feature", pl.col("psi_window").round(4))
    # feature names and PSI values only: never a value of the data
    return dg.AssetCheckResult(
        passed=drifted.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "threshold": FEATURE_DRIFT_PSI, "min_window_leads": FEATURE_DRIFT_MIN_LEADS, "window_days": DRIFT_WINDOW_DAYS,
            "latest_day": str(latest["delivery_date"][0]) if latest.height else "",
            "window_leads": window_leads,
            "reference": str(latest["reference"][0]) if latest.height else "",
            "max_psi_window": round(float(latest["psi_window"].max()), 5) if latest.height else 0.0,
            "drifted_features": len(drifted),
            **({"drifted": dg.MetadataValue.md(markdown_table(drifted, max_rows=50))} if drifted.height else {}),
        },
    )


defs = dg.Definitions(
    assets=[daily_kpis, data_quality, score_reference, score_drift, feature_drift],
    asset_checks=[score_psi_under_threshold, feature_psi_under_threshold],
)
