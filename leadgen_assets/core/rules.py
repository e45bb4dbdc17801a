"""The rule model: transparent points from config, a grade and reason codes.

Pure polars. ``load(path)`` reads the TOML config; ``score(features, model)`` returns one row
per lead with fit and engagement points, grade, prior probability, disqualification and the
top reasons in words a sales rep reads.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from leadgen_assets import settings

DEFAULT_CONFIG = settings.CONFIG_DIR / "rule_model.toml"


class RuleConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    group: str
    feature: str
    condition: str
    value: object
    points: int
    reason: str


@dataclass(frozen=True)
class RuleModel:
    name: str
    version: str
    rules: tuple[Rule, ...]
    fit_grades: tuple[tuple[int, str], ...]
    engagement_grades: tuple[tuple[int, str], ...]
    intercept: float
    per_point: float
    competitor_domains: tuple[str, ...]


_CONDITIONS = ("equals", "in", "at_least", "between")


def _rule(group: str, raw: dict, where: str) -> Rule:
    conds = [c for c in _CONDITIONS if c in raw]
    if len(conds) != 1 or "feature" not in raw or "reason" not in raw:
        raise RuleConfigError(f"{where}: a rule needs 'feature', 'reason' and exactly one of {_CONDITIONS}")
    points = int(raw.get("points", 0))
    if points < 0:
        raise RuleConfigError(f"{where}: points must not be negative (got {points})")
    return Rule(group, raw["feature"], conds[0], raw[conds[0]], points, raw["reason"])


def load(path: Path = DEFAULT_CONFIG) -> RuleModel:
    text = Path(path).read_bytes()
    try:
        cfg = tomllib.loads(text.decode())
    except tomllib.TOMLDecodeError as exc:
        raise RuleConfigError(f"{path}: {exc}") from exc
    rules = tuple(
        _rule(group, raw, f"{path} [{group}] #{i + 1}")
        for group in ("fit", "engagement", "disqualify")
        for i, raw in enumerate(cfg.get(group, []))
    )
    grades, prob = cfg["grades"], cfg["probability"]
    return RuleModel(
        name=cfg.get("name", "rules"),
        version="rules-" + hashlib.sha256(text).hexdigest()[:10],
        rules=rules,
        fit_grades=tuple((int(t), str(g)) for t, g in grades["fit"]),
        engagement_grades=tuple((int(t), str(g)) for t, g in grades["engagement"]),
        intercept=float(prob["intercept"]),
        per_point=float(prob["per_point"]),
        competitor_domains=tuple(cfg.get("competitor_domains", [])),
    )


def _condition(rule: Rule) -> pl.Expr:
    col = pl.col(rule.feature)
    if rule.condition == "equals":
        expr = col == rule.value
    elif rule.condition == "in":
        expr = col.is_in(list(rule.value))  # type: ignore[arg-type]
    elif rule.condition == "at_least":
        expr = col >= rule.value
    else:
        low, high = rule.value  # type: ignore[misc]
        expr = col.is_between(low, high)
    return expr.fill_null(False)


def _grade(points: pl.Expr, thresholds: tuple[tuple[int, str], ...]) -> pl.Expr:
    expr = pl.lit(thresholds[-1][1])
    for threshold, label in reversed(thresholds):
        expr = pl.when(points >= threshold).then(pl.lit(label)).otherwise(expr)
    return expr


def score(features: pl.DataFrame, model: RuleModel, top_reasons: int = 3) -> pl.DataFrame:
    """Score leads. ``features`` needs every feature a rule names."""
    frame = features.with_columns(
        pl.col("company_domain").is_in(model.competitor_domains).fill_null(False).alias("is_competitor")
    )
    missing = sorted({r.feature for r in model.rules} - set(frame.columns))
    if missing:
        raise RuleConfigError(f"the rule model names features the feature set lacks: {', '.join(missing)}")
    contrib_cols, reason_cols, dq_cols = [], [], []
    for i, rule in enumerate(model.rules):
        hit = _condition(rule)
        if rule.group == "disqualify":
            dq_cols.append(pl.when(hit).then(pl.lit(rule.reason)).alias(f"_dq{i}"))
            continue
        if "{value}" in rule.reason:  # e.g. "Viewed pricing {value}x in 30 days"
            before, after = rule.reason.split("{value}", 1)
            text = pl.concat_str([pl.lit(before), pl.col(rule.feature).cast(pl.Utf8), pl.lit(after)])
        else:
            text = pl.lit(rule.reason)
        contrib_cols.append(pl.when(hit).then(rule.points).otherwise(0).alias(f"_{rule.group}{i}"))
        if rule.points > 0:
            reason_cols.append((rule.points, i, pl.when(hit).then(text).alias(f"_r{i}"),
                                pl.when(hit).then(rule.points).alias(f"_p{i}"), pl.when(hit).then(pl.lit(rule.feature)).alias(f"_f{i}")))
    fit = [c for c in contrib_cols if c.meta.output_name().startswith("_fit")]
    eng = [c for c in contrib_cols if c.meta.output_name().startswith("_engagement")]
    scored = frame.with_columns(
        pl.sum_horizontal(fit).alias("fit_points") if fit else pl.lit(0).alias("fit_points"),
        pl.sum_horizontal(eng).alias("engagement_points") if eng else pl.lit(0).alias("engagement_points"),
        # Reasons in order of the points they earned (config order breaks ties).
        pl.concat_list([expr for _, _, expr, _, _ in sorted(reason_cols, key=lambda t: (-t[0], t[1]))])
        .list.drop_nulls()
        .list.head(top_reasons)
        .alias("reasons"),
        # the points each of those reasons earned, and the feature it is about, in the same order
        pl.concat_list([pts for _, _, _, pts, _ in sorted(reason_cols, key=lambda t: (-t[0], t[1]))])
        .list.drop_nulls()
        .list.head(top_reasons)
        .alias("reason_points"),
        pl.concat_list([feat for _, _, _, _, feat in sorted(reason_cols, key=lambda t: (-t[0], t[1]))])
        .list.drop_nulls()
        .list.head(top_reasons)
        .alias("reason_features"),
        pl.concat_list(dq_cols).list.drop_nulls().alias("disqualify_reasons") if dq_cols else pl.lit([], dtype=pl.List(pl.Utf8)).alias("disqualify_reasons"),
    )
    total = pl.col("fit_points") + pl.col("engagement_points")
    logit = model.intercept + model.per_point * total
    return scored.with_columns(
        total.alias("points"),
        (_grade(pl.col("fit_points"), model.fit_grades) + _grade(pl.col("engagement_points"), model.engagement_grades)).alias("grade"),
        (1.0 / (1.0 + (-logit).exp())).alias("probability"),
        (pl.col("disqualify_reasons").list.len() > 0).alias("disqualified"),
    ).with_columns(
        pl.when(pl.col("disqualified")).then(0.0).otherwise(pl.col("probability")).alias("probability"),
    )


def prior_logit(scored: pl.DataFrame, model: RuleModel) -> pl.Series:
    """The rule model's log-odds for each scored lead, disqualifiers aside: the prior the
    learned model starts from."""
    return (model.intercept + model.per_point * scored["points"].cast(pl.Float64)).alias("prior_logit")
