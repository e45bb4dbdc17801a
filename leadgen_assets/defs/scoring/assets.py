"""scoring: the rule model scores every lead, with its grade, probability and reasons."""

import dagster as dg
import polars as pl

from leadgen_assets.core import features as feature_logic
from leadgen_assets.core import rules
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

TABLE = "scoring.lead_scores"
SCORE_COLUMNS = {
    "lead_id": pl.Utf8, "delivery_date": pl.Date, "scored_at": pl.Datetime("us"), "person_id": pl.Utf8,
    "account_id": pl.Utf8, "channel": pl.Utf8, "fit_points": pl.Int64, "engagement_points": pl.Int64,
    "points": pl.Int64, "grade": pl.Utf8, "probability": pl.Float64, "disqualified": pl.Boolean,
    "disqualify_reasons": pl.List(pl.Utf8), "reasons": pl.List(pl.Utf8), "model_version": pl.Utf8,
    "feature_set_version": pl.Utf8, "run_id": pl.Utf8,
}


class ScoringConfig(dg.Config):
    rule_model_path: str = str(rules.DEFAULT_CONFIG)


@layer_asset(
    "scoring",
    "lead_scores",
    description="Each lead's rule-model score: fit and engagement points, a fit x engagement grade "
    "(A1 best, D4 worst), a prior probability, hard disqualifiers and the top reasons in plain words. "
    "Carries the model version, feature-set version and run id for lineage.",
    code_version="1",
    deps=[dg.AssetKey(["features", "lead_features"])],
    kinds=("duckdb", "polars"),
)
def lead_scores(
    context: dg.AssetExecutionContext, config: ScoringConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    store = warehouse.store()
    model = rules.load(config.rule_model_path)
    version = feature_logic.feature_set_version()
    days = partition_days(context)
    reports, grades, done = [], [], 0
    with store.writer() as w:
        sizes = rows_per_day(w.con, "signals.form_leads", days)
        for batch in day_batches(days, sizes):
            feats = w.con.sql(
                "SELECT * FROM features.lead_features WHERE delivery_date BETWEEN ? AND ? AND feature_set_version = ?",
                params=[batch[0], batch[-1], version],
            ).pl()
            scored = rules.score(feats, model).with_columns(
                pl.lit(model.version).alias("model_version"),
                pl.lit(context.run.run_id).alias("run_id"),
            )
            scored = scored.select([pl.col(c).cast(t) for c, t in SCORE_COLUMNS.items()])
            reports.append(w.write_partitions(TABLE, scored, partition_col="delivery_date", keys=batch))
            grades.append(scored.select("grade", "disqualified"))
            done += len(batch)
            log_batch(context, batch, scored.height, done, len(days))
    all_grades = pl.concat(grades) if grades else pl.DataFrame(schema={"grade": pl.Utf8, "disqualified": pl.Boolean})
    dist = all_grades.filter(~pl.col("disqualified")).group_by("grade").len().sort("grade")
    n = max(all_grades.height, 1)
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, TABLE, reports, context,
            model_version=model.version,
            feature_set_version=version,
            disqualified_rate=round(all_grades["disqualified"].sum() / n, 4),
            grade_a_or_b_rate=round(all_grades.filter(~pl.col("disqualified") & pl.col("grade").str.contains("^[AB]")).height / n, 4),
            grade_distribution=dg.MetadataValue.md(markdown_table(dist, max_rows=20)),
        )
    )


defs = dg.Definitions(assets=[lead_scores])
