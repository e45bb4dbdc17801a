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

import numpy as np
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


def _worded(frame: pl.DataFrame, hits: pl.DataFrame, model: RuleModel, rules: list[int], k: int | None) -> tuple[pl.Series, pl.Series]:
    """Per lead, the texts of the first ``k`` (all, if None) of ``rules`` that fired, in that
    order, and the rules' positions. Picked with numpy; each rule's text is written only for
    the leads it fired on."""
    n = frame.height
    fired = hits.select([f"_h{i}" for i in rules]).to_numpy().astype(bool) if rules and n else None
    if fired is None or not fired.any():
        return (pl.select(pl.repeat(pl.lit([], dtype=pl.List(pl.Utf8)), n)).to_series(),
                pl.select(pl.repeat(pl.lit([], dtype=pl.List(pl.Int16)), n)).to_series())
    matrix = fired
    if k is not None:
        matrix &= np.cumsum(matrix, axis=1) <= k
    rows, cols = np.nonzero(matrix)  # row-major: within a row, in the given order
    which = np.asarray(rules, dtype=np.int16)[cols]
    parts = []
    for i in np.unique(which):
        rule = model.rules[int(i)]
        at = np.flatnonzero(which == i)
        part = pl.DataFrame({"pos": at, "row": rows[at]})
        if "{value}" in rule.reason:  # e.g. "Viewed pricing {value}x in 30 days"
            before, after = rule.reason.split("{value}", 1)
            values = frame[rule.feature].gather(part["row"]).cast(pl.Utf8)
            part = part.with_columns((pl.lit(before) + values + pl.lit(after)).alias("text"))
        else:
            part = part.with_columns(pl.lit(rule.reason).alias("text"))
        parts.append(part.with_columns(pl.lit(int(i), dtype=pl.Int16).alias("rule")))
    long = pl.concat(parts).sort("pos")
    lists = long.group_by("row", maintain_order=True).agg("text", "rule")
    full = pl.DataFrame({"row": np.arange(n, dtype=rows.dtype)}).join(lists, on="row", how="left", maintain_order="left")
    return (full["text"].fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
            full["rule"].fill_null(pl.lit([], dtype=pl.List(pl.Int16))))


def score(features: pl.DataFrame, model: RuleModel, top_reasons: int = 3) -> pl.DataFrame:
    """Score leads. ``features`` needs every feature a rule names."""
    competitor = (pl.col("company_domain").is_in(model.competitor_domains).fill_null(False)
                  if "company_domain" in features.columns else pl.lit(False))
    frame = features.with_columns(competitor.alias("is_competitor"))
    missing = sorted({r.feature for r in model.rules} - set(frame.columns))
    if missing:
        raise RuleConfigError(f"the rule model names features the feature set lacks: {', '.join(missing)}")
    # each condition once, as a column; everything below reads it
    hits = frame.select([_condition(rule).alias(f"_h{i}") for i, rule in enumerate(model.rules)])
    fit = [pl.when(pl.col(f"_h{i}")).then(r.points).otherwise(0) for i, r in enumerate(model.rules) if r.group == "fit"]
    eng = [pl.when(pl.col(f"_h{i}")).then(r.points).otherwise(0) for i, r in enumerate(model.rules) if r.group == "engagement"]
    points = hits.select(
        (pl.sum_horizontal(fit) if fit else pl.lit(0)).cast(pl.Int64).alias("fit_points"),
        (pl.sum_horizontal(eng) if eng else pl.lit(0)).cast(pl.Int64).alias("engagement_points"),
    )
    # Reasons: the rules that fired, in order of their points (config order breaks ties), worded.
    order = sorted((i for i, r in enumerate(model.rules) if r.group != "disqualify" and r.points > 0),
                   key=lambda i: (-model.rules[i].points, i))
    reasons, reason_rules = _worded(frame, hits, model, order, top_reasons)
    disqualifiers, _ = _worded(frame, hits, model, [i for i, r in enumerate(model.rules) if r.group == "disqualify"], None)
    scored = pl.concat([frame, points], how="horizontal").with_columns(
        reasons.alias("reasons"),
        reason_rules.alias("reason_rules"),  # which rule each reason is (its position in the config)
        disqualifiers.alias("disqualify_reasons"),
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
