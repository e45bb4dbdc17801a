"""Routing: who works each scored lead, in which cadence, or who reviews it first.

Pure polars and a small deterministic assignment loop. Order of decisions:

1. ``suppressed``: the person opted out (unsubscribe, do-not-contact, erasure) on or
   before the routing day. Never routed to outreach, whatever else is true.
2. ``disqualified``: a hard disqualifier fired (test, student, spam, competitor).
3. ``review``: uncertain (a grade where fit and engagement disagree, or a learned score
   whose interval is wide) or high-risk (large company, or the account's owner is
   inactive); a person decides.
4. ``routed``: to the account's existing active owner (even above their cap: continuity
   wins); otherwise by territory and segment, round-robin among active reps with daily
   capacity left. No capacity left -> ``overflow``, owner-less and counted for sales ops.
5. ``nurture``: grades with no sales cadence go to marketing nurture, without an owner.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from leadgen_assets import settings

DEFAULT_CONFIG = settings.CONFIG_DIR / "routing.toml"

ROUTE_SCHEMA = {
    "lead_id": pl.Utf8, "person_id": pl.Utf8, "decision": pl.Utf8, "owner_id": pl.Utf8,
    "cadence": pl.Utf8, "route_reason": pl.Utf8, "territory": pl.Utf8, "segment": pl.Utf8,
}


@dataclass(frozen=True)
class RoutingConfig:
    mid_market_from: int
    review_grades: tuple[str, ...]
    review_employees: int
    review_interval_width: float
    cadences: dict[str, str]
    country_territory: dict[str, str]
    us_state_territory: dict[str, str]
    us_default: str


def load(path: Path = DEFAULT_CONFIG) -> RoutingConfig:
    cfg = tomllib.loads(Path(path).read_text())
    terr = cfg["territories"]
    us_states = {s: name for name, states in terr.items() if isinstance(states, list) for s in states}
    return RoutingConfig(
        mid_market_from=int(cfg["mid_market_from_employees"]),
        review_grades=tuple(cfg["review_grades"]),
        review_employees=int(cfg["review_employees_at_least"]),
        review_interval_width=float(cfg.get("review_interval_width_at_least", 1.0)),
        cadences=dict(cfg["cadences"]),
        country_territory={k: v for k, v in terr.items() if isinstance(v, str) and k != "US_default"},
        us_state_territory=us_states,
        us_default=terr["US_default"],
    )


def territory(cfg: RoutingConfig) -> pl.Expr:
    country, region = pl.col("country"), pl.col("region")
    us = region.replace_strict(cfg.us_state_territory, default=cfg.us_default, return_dtype=pl.Utf8)
    other = country.replace_strict(cfg.country_territory, default=None, return_dtype=pl.Utf8)
    return pl.when(country.is_null() | (country == "US")).then(us).otherwise(other)


def route(scores: pl.DataFrame, reps: pl.DataFrame, cfg: RoutingConfig) -> pl.DataFrame:
    """Route one day's scored leads.

    ``scores``: lead_id, person_id, grade, probability, disqualified, disqualify_reasons,
    employees, country, region, crm_owner_id, is_suppressed (as of the routing day), and
    optionally probability_low and probability_high (the learned model's interval).
    ``reps``: user_id, territory, segment, daily_capacity, is_active (as of the day).
    """
    if "probability_low" not in scores.columns:
        scores = scores.with_columns(pl.lit(None, dtype=pl.Float64).alias("probability_low"),
                                     pl.lit(None, dtype=pl.Float64).alias("probability_high"))
    wide = ((pl.col("probability_high") - pl.col("probability_low")) >= cfg.review_interval_width).fill_null(False)
    active = reps.filter(pl.col("is_active"))
    active_ids = set(active["user_id"].to_list())
    leads = scores.with_columns(
        territory(cfg).alias("territory"),
        pl.when(pl.col("employees").fill_null(0) >= cfg.mid_market_from).then(pl.lit("Mid-Market")).otherwise(pl.lit("SMB")).alias("segment"),
        pl.col("grade").replace_strict(cfg.cadences, default=None, return_dtype=pl.Utf8).alias("cadence"),
        pl.col("crm_owner_id").is_in(list(active_ids)).fill_null(False).alias("_owner_active"),
    ).with_columns(
        pl.when(pl.col("is_suppressed")).then(pl.lit("suppressed"))
        .when(pl.col("disqualified")).then(pl.lit("disqualified"))
        .when(pl.col("crm_owner_id").is_not_null() & ~pl.col("_owner_active")).then(pl.lit("review"))
        .when(pl.col("employees").fill_null(0) >= cfg.review_employees).then(pl.lit("review"))
        .when(pl.col("grade").is_in(cfg.review_grades)).then(pl.lit("review"))
        .when(pl.col("cadence").is_not_null() & wide).then(pl.lit("review"))
        .when(pl.col("cadence").is_null()).then(pl.lit("nurture"))
        .otherwise(pl.lit("routed")).alias("decision"),
        pl.when(pl.col("is_suppressed")).then(pl.lit("consent: person opted out"))
        .when(pl.col("disqualified")).then(pl.col("disqualify_reasons").list.join("; "))
        .when(pl.col("crm_owner_id").is_not_null() & ~pl.col("_owner_active")).then(pl.lit("account owner is inactive"))
        .when(pl.col("employees").fill_null(0) >= cfg.review_employees).then(pl.lit("high stakes: large company"))
        .when(pl.col("grade").is_in(cfg.review_grades)).then(pl.lit("uncertain: engaged but outside the target profile"))
        .when(pl.col("cadence").is_not_null() & wide).then(pl.lit("uncertain: the model's interval is wide"))
        .when(pl.col("cadence").is_null()).then(pl.lit("low grade: marketing nurture"))
        .otherwise(None).alias("route_reason"),
    ).sort(["probability", "lead_id"], descending=[True, False])

    # Assignment: existing owner first, then round-robin by (territory, segment) pools.
    capacity = dict(zip(active["user_id"].to_list(), active["daily_capacity"].to_list(), strict=True))
    load: dict[str, int] = {rep: 0 for rep in capacity}
    pools: dict[tuple[str, str], list[str]] = {}
    for rep, terr, seg in active.sort("user_id").select("user_id", "territory", "segment").iter_rows():
        pools.setdefault((terr, seg), []).append(rep)
    owners, decisions, reasons = [], [], []
    for lead in leads.select("decision", "route_reason", "crm_owner_id", "_owner_active", "territory", "segment").iter_rows(named=True):
        decision, reason, owner = lead["decision"], lead["route_reason"], None
        if decision == "routed":
            if lead["_owner_active"]:
                owner, reason = lead["crm_owner_id"], "existing account owner"
                load[owner] += 1
            else:
                pool = [r for r in pools.get((lead["territory"], lead["segment"]), []) if load[r] < capacity[r]]
                if pool:
                    owner = min(pool, key=lambda r: (load[r], r))
                    load[owner] += 1
                    reason = "territory and segment round-robin"
                else:
                    decision, reason = "overflow", "no rep with capacity in territory and segment"
        owners.append(owner)
        decisions.append(decision)
        reasons.append(reason)
    routed = leads.with_columns(
        pl.Series("owner_id", owners, dtype=pl.Utf8),
        pl.Series("decision", decisions, dtype=pl.Utf8),
        pl.Series("route_reason", reasons, dtype=pl.Utf8),
    ).with_columns(
        pl.when(pl.col("decision").is_in(["routed", "review"])).then(pl.col("cadence"))
        .when(pl.col("decision") == "nurture").then(pl.lit("marketing_nurture"))
        .otherwise(None).alias("cadence")
    )
    return routed.select([pl.col(c).cast(t) for c, t in ROUTE_SCHEMA.items()]).sort("lead_id")
