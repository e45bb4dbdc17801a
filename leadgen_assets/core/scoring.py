"""One lead score from the rule model and, when one is in use, the learned model.

* Every lead gets the rule model's points, grade, disqualifiers and reasons.
* A disqualified lead's probability is 0, whatever the model says.
* Without a learned model the probability is the rule prior, with no interval.
* With one, the probability is the model's calibrated probability with its interval, and the
  reasons are the strongest of the rule reasons (each worth its points on the log-odds
  scale) and the model's own, worded; ``reasons_against`` says what held the score down.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from leadgen_assets.core import model as learned
from leadgen_assets.core import reasons, rules, training

TOP_REASONS = 3
TOP_AGAINST = 2


def score(features: pl.DataFrame, rule_model: rules.RuleModel, model: learned.Model | None = None) -> pl.DataFrame:
    scored = rules.score(features, rule_model)
    rule_p = scored["probability"]
    base = scored.with_columns(
        rule_p.alias("rule_probability"),
        pl.lit(None, dtype=pl.Float64).alias("probability_low"),
        pl.lit(None, dtype=pl.Float64).alias("probability_high"),
        pl.lit([], dtype=pl.List(pl.Utf8)).alias("reasons_against"),
        pl.lit("rules").alias("scorer"),
        pl.lit(rule_model.version).alias("model_version"),
    )
    if model is None or base.height == 0:
        return base.drop("reason_rules")
    indexed = base.with_row_index("_i")
    live = indexed.filter(~pl.col("disqualified"))
    if live.height == 0:  # every lead disqualified: nothing for the model to score
        return base.with_columns(pl.lit(model.version).alias("model_version")).drop("reason_rules")
    prior = rules.prior_logit(live, rule_model).to_numpy()
    s = model.score(live, prior, contributions=True)
    n = live.height
    learned_reasons = reasons.candidates(live, s.contributions, s.sources, up=TOP_REASONS, down=TOP_AGAINST)
    # the rule reasons compete on the same scale: points -> log-odds, through the calibration slope
    slope = model.platt[0]
    points = {i: float(r.points) for i, r in enumerate(rule_model.rules)}
    about = {i: r.feature for i, r in enumerate(rule_model.rules)}
    rule_reasons = (
        live.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), "reasons", "reason_rules")
        .explode(["reasons", "reason_rules"])
        .drop_nulls("reasons")
        .select("row", pl.lit("up").alias("direction"),
                (pl.col("reason_rules").replace_strict(points, return_dtype=pl.Float64) * rule_model.per_point * slope).alias("effect"),
                pl.col("reason_rules").replace_strict(about, return_dtype=pl.Utf8).alias("feature"),
                pl.col("reasons").alias("text"))
    )
    # a feature a rule already gave a reason for is said once, in the rule's words
    learned_reasons = learned_reasons.join(rule_reasons.select("row", "feature"), on=["row", "feature"], how="anti")
    long = pl.concat([rule_reasons, learned_reasons])
    live = live.with_columns(
        pl.Series("probability", s.probability),
        pl.Series("probability_low", s.low),
        pl.Series("probability_high", s.high),
        reasons.collapse(long, n, "up", TOP_REASONS).alias("reasons"),
        reasons.collapse(long, n, "down", TOP_AGAINST).alias("reasons_against"),
        pl.lit("model").alias("scorer"),
        pl.lit(model.version).alias("model_version"),
    )
    out = pl.concat([
        indexed.filter(pl.col("disqualified")).with_columns(pl.lit(model.version).alias("model_version")),
        live.select(indexed.columns),
    ]).sort("_i").drop("_i")
    return out.drop("reason_rules")


def usable(model: learned.Model, feature_set_version: str) -> str | None:
    """Why ``model`` cannot score features of ``feature_set_version``, or None when it can."""
    trained_on = model.training.get("feature_set_version")
    if trained_on != feature_set_version:
        return (f"it was trained on feature set {trained_on} and the features are {feature_set_version}; "
                "train a challenger on the current features, or roll back")
    return missing_columns(model)


def missing_columns(model: learned.Model, columns: set[str] | None = None) -> str | None:
    """Why ``model`` cannot read a frame of ``columns`` (default: the current features)."""
    missing = sorted({c.name for c in model.encoder.columns} - (columns or set(training.MODEL_FEATURES)))
    return f"it needs columns the features lack: {', '.join(missing)}" if missing else None


def interval_width(frame: pl.DataFrame) -> float:
    w = (frame["probability_high"] - frame["probability_low"]).drop_nulls()
    return float(np.median(w.to_numpy())) if w.len() else 0.0
