"""scoring: every lead's score from the champion (a promoted model, else the rule model), and
shadow scores from other model versions on the same days."""

from typing import Optional

import dagster as dg
import polars as pl

from leadgen_assets.core import features as feature_logic
from leadgen_assets.core import model as learned
from leadgen_assets.core import registry, rules
from leadgen_assets.core import scoring as logic
from leadgen_assets.storage.warehouse import table_columns
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
SHADOW = "scoring.shadow_scores"
SCORE_COLUMNS = {
    "lead_id": pl.Utf8, "delivery_date": pl.Date, "scored_at": pl.Datetime("us"), "person_id": pl.Utf8,
    "account_id": pl.Utf8, "channel": pl.Utf8, "fit_points": pl.Int64, "engagement_points": pl.Int64,
    "points": pl.Int64, "grade": pl.Utf8, "probability": pl.Float64, "probability_low": pl.Float64,
    "probability_high": pl.Float64, "rule_probability": pl.Float64, "disqualified": pl.Boolean,
    "disqualify_reasons": pl.List(pl.Utf8), "reasons": pl.List(pl.Utf8), "reasons_against": pl.List(pl.Utf8),
    "scorer": pl.Utf8, "model_version": pl.Utf8, "feature_set_version": pl.Utf8, "run_id": pl.Utf8,
}
SHADOW_COLUMNS = {
    "lead_id": pl.Utf8, "delivery_date": pl.Date, "model_version": pl.Utf8, "probability": pl.Float64,
    "probability_low": pl.Float64, "probability_high": pl.Float64, "reasons": pl.List(pl.Utf8),
    "champion_version": pl.Utf8, "champion_probability": pl.Float64, "run_id": pl.Utf8,
}


class ScoringConfig(dg.Config):
    rule_model_path: str = str(rules.DEFAULT_CONFIG)


def _champion(con) -> tuple[Optional[learned.Model], Optional[str]]:  # noqa: ANN001
    """The promoted model, and why not when it cannot score at all."""
    version = registry.champion_version(con)
    if version is None:
        return None, None
    model = registry.load_model(con, version)
    why = logic.missing_columns(model, _stored_columns(con))
    return (None, f"champion {version} not used: {why}") if why else (model, None)


def _stored_columns(con) -> set[str]:  # noqa: ANN001
    """The columns of the stored features: every feature set's, old and current."""
    return set(table_columns(con, "features.lead_features"))


def _features(con, batch: list, version: str) -> pl.DataFrame:  # noqa: ANN001
    return con.sql(
        "SELECT * FROM features.lead_features WHERE delivery_date BETWEEN ? AND ? AND feature_set_version = ? ORDER BY lead_id",
        params=[batch[0], batch[-1], version],
    ).pl()


def _own_features(con, batch: list, model: learned.Model, current: str) -> pl.DataFrame:  # noqa: ANN001
    """The features ``model`` learned from, for the batch's days: the current feature set's, or,
    for a model trained on an earlier feature set, that set's values as stored for those days
    (kept side by side; days computed only under the current set have none)."""
    trained_on = model.training.get("feature_set_version") or current
    return _features(con, batch, trained_on)


def score_batch(con, batch: list, current: str, rule_model: rules.RuleModel,  # noqa: ANN001
                model: Optional[learned.Model]) -> tuple[pl.DataFrame, list]:
    """The batch's scores, and the days with leads that the model could not score because no
    features of its (earlier) feature set are stored for them: the rule model scores those, on
    the current features."""
    trained_on = model.training.get("feature_set_version") if model is not None else None
    if model is None or trained_on in (None, current):
        return logic.score(_features(con, batch, current), rule_model, model), []
    own = _features(con, batch, trained_on)
    covered = set(own["delivery_date"].unique().to_list())
    others = _features(con, batch, current).filter(~pl.col("delivery_date").is_in(covered))
    rest = sorted(set(others["delivery_date"].unique().to_list()))
    parts = [p for p in (logic.score(own, rule_model, model), logic.score(others, rule_model, None)) if p.height]
    if not parts:
        return logic.score(own, rule_model, model), []
    return (pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]), rest


@layer_asset(
    "scoring",
    "lead_scores",
    description="Each lead's score: the rule model's fit and engagement points, grade (A1 best, D4 worst), "
    "hard disqualifiers and reasons; and the probability of the champion, the promoted learned model "
    "(calibrated, with a 90% interval and reasons for and against), or the rule prior when no model is "
    "promoted. Carries the scorer, model version, feature-set version and run id.",
    code_version="2",
    deps=[dg.AssetKey(["features", "lead_features"])],
    kinds=("duckdb", "polars", "xgboost"),
)
def lead_scores(
    context: dg.AssetExecutionContext, config: ScoringConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    store = warehouse.store()
    rule_model = rules.load(config.rule_model_path)
    version = feature_logic.feature_set_version()
    days = partition_days(context)
    reports, parts, done = [], [], 0
    on_rules: list = []
    with store.writer() as w:
        model, not_used = _champion(w.con)
        if not_used:
            context.log.warning(not_used)
        sizes = rows_per_day(w.con, "signals.form_leads", days)
        for batch in day_batches(days, sizes):
            scored, rest = score_batch(w.con, batch, version, rule_model, model)
            on_rules.extend(rest)
            if rest and model:
                context.log.warning(f"{len(rest)} day(s) scored by the rule model: champion {model.version} learned from "
                                    f"feature set {model.training.get('feature_set_version')}, not stored for them")
            scored = scored.with_columns(pl.lit(context.run.run_id).alias("run_id"))
            scored = scored.select([pl.col(c).cast(t) for c, t in SCORE_COLUMNS.items()])
            reports.append(w.write_partitions(TABLE, scored, partition_col="delivery_date", keys=batch))
            parts.append(scored.select("grade", "disqualified", "probability", "probability_low", "probability_high"))
            done += len(batch)
            log_batch(context, batch, scored.height, done, len(days))
    every = pl.concat(parts) if parts else pl.DataFrame(schema={k: SCORE_COLUMNS[k] for k in (
        "grade", "disqualified", "probability", "probability_low", "probability_high")})
    dist = every.filter(~pl.col("disqualified")).group_by("grade").len().sort("grade")
    n = max(every.height, 1)
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, TABLE, reports, context,
            scorer=f"model {model.version}" if model else f"rules {rule_model.version}",
            **({"champion_not_used": not_used} if not_used else {}),
            **({"days_scored_by_rules": f"{len(on_rules)} day(s) from {min(on_rules)} to {max(on_rules)}: the champion "
                f"learned from feature set {model.training.get('feature_set_version')}, and no features of that set are "
                "stored for them. Train a challenger on the current features, or roll back."} if on_rules and model else {}),
            feature_set_version=version,
            **({"champion_feature_set_version": model.training.get("feature_set_version")} if model else {}),
            mean_probability=round(float(every.filter(~pl.col("disqualified"))["probability"].mean() or 0.0), 4),
            median_interval_width=round(logic.interval_width(every), 4),
            disqualified_rate=round(every["disqualified"].sum() / n, 4),
            grade_a_or_b_rate=round(every.filter(~pl.col("disqualified") & pl.col("grade").str.contains("^[AB]")).height / n, 4),
            grade_distribution=dg.MetadataValue.md(markdown_table(dist, max_rows=20)),
        )
    )


class ShadowConfig(dg.Config):
    """Run config of scoring/shadow_scores (Launchpad, under `scoring__shadow_scores`)."""

    rule_model_path: str = str(rules.DEFAULT_CONFIG)
    model_versions: list[str] = []
    """Versions to score the days with. Empty: the latest registered version that is not the champion."""


@layer_asset(
    "scoring",
    "shadow_scores",
    description="Shadow scores: other model versions scoring the same days as the champion, side by side "
    "(one slice per day and version), so a challenger is watched on live leads before anyone promotes it. "
    "Backfill any past days with any registered versions through run config `model_versions`.",
    code_version="1",
    deps=[dg.AssetKey(["features", "lead_features"]), dg.AssetKey(["scoring", "lead_scores"])],
    kinds=("duckdb", "xgboost"),
)
def shadow_scores(context: dg.AssetExecutionContext, config: ShadowConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    rule_model = rules.load(config.rule_model_path)
    version = feature_logic.feature_set_version()
    days = partition_days(context)
    reports, skipped = [], []
    with store.writer() as w:
        registry.ensure_tables(w.con)
        champion = registry.champion_version(w.con)
        versions = list(config.model_versions)
        if not versions:
            latest = w.con.execute(
                "SELECT model_version FROM models.registry WHERE model_version IS DISTINCT FROM ? "
                "ORDER BY registered_at DESC LIMIT 1", [champion]).fetchall()
            versions = [latest[0][0]] if latest else []
        sizes = rows_per_day(w.con, "signals.form_leads", days)
        for v in versions:
            model = registry.load_model(w.con, v)
            why = logic.missing_columns(model, _stored_columns(w.con))
            if why:
                skipped.append(f"{v}: {why}")
                continue
            for batch in day_batches(days, sizes):
                feats = _own_features(w.con, batch, model, version)
                if not feats.height:  # a model of an earlier feature set, on days computed only under the current one
                    continue
                shadow = logic.score(feats, rule_model, model)
                live = w.con.sql(
                    "SELECT lead_id, model_version AS champion_version, probability AS champion_probability "
                    "FROM scoring.lead_scores WHERE delivery_date BETWEEN ? AND ?", params=[batch[0], batch[-1]]).pl()
                out = shadow.join(live, on="lead_id", how="left").with_columns(
                    pl.lit(v).alias("model_version"), pl.lit(context.run.run_id).alias("run_id"))
                out = out.select([pl.col(c).cast(t) for c, t in SHADOW_COLUMNS.items()])
                reports.append(w.write_partitions(SHADOW, out, partition_col="delivery_date", keys=batch,
                                                  scope={"model_version": v}))
    if skipped:
        context.log.warning("; ".join(skipped))
    return dg.MaterializeResult(
        metadata={
            "versions_scored": ", ".join(v for v in versions if not any(s.startswith(v) for s in skipped)) or "none",
            "why_none": "no model is registered besides the champion; run the train_challenger job" if not versions else "",
            **({"skipped": "; ".join(skipped)} if skipped else {}),
            "rows_written": sum(r.rows_written for r in reports),
        }
    )


defs = dg.Definitions(assets=[lead_scores, shadow_scores])
