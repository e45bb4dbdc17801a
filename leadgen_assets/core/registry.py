"""The model registry and its lifecycle, as DuckDB tables (no Dagster here).

* ``models.registry``: one row per trained model version: the artifact (leadgen's JSON with
  XGBoost's own JSON inside, never a pickle), params, training-set hash, feature-set
  version, cutoff, prior and holdout metrics.
* ``models.evaluations``: every judgement of a version on a holdout, one row per scorer
  (challenger, champion, rule model) on the same leads.
* ``models.lifecycle``: append-only decisions: ``promote`` (gates passed and an approval
  recorded: who, when, why) and ``rollback`` (to any earlier version, or to the rule model).
  The champion is the version of the latest decision; with none, leads are scored by rules.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from leadgen_assets.core import model as learned

REGISTRY = "models.registry"
EVALUATIONS = "models.evaluations"
LIFECYCLE = "models.lifecycle"
RULES = "rules"  # the champion when no learned model is promoted
# The latest decision names the champion (a version, or RULES).
CHAMPION_SQL = ("SELECT model_version FROM models.lifecycle WHERE action IN ('promote', 'rollback') "
                "ORDER BY decided_at DESC, event_id DESC LIMIT 1")

_DDL = (
    """CREATE TABLE IF NOT EXISTS models.registry (
        model_version VARCHAR PRIMARY KEY, registered_at TIMESTAMP, run_id VARCHAR, artifact BLOB,
        artifact_format VARCHAR, feature_set_version VARCHAR, training_set_hash VARCHAR, cutoff DATE,
        label_window_days BIGINT, prior VARCHAR, rows BIGINT, conversions BIGINT, weight DOUBLE,
        params VARCHAR, metrics VARCHAR, feature_baselines VARCHAR, feature_profile VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS models.evaluations (
        model_version VARCHAR, evaluated_at TIMESTAMP, run_id VARCHAR, holdout_hash VARCHAR, scorer VARCHAR,
        scorer_version VARCHAR, leads BIGINT, conversions BIGINT, auc DOUBLE, pr_auc DOUBLE, brier DOUBLE, ece DOUBLE,
        lift_top_decile DOUBLE, interval_coverage DOUBLE, parity_gap DOUBLE, parity_segment VARCHAR,
        gates VARCHAR, reliability VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS models.lifecycle (
        event_id VARCHAR, decided_at TIMESTAMP, action VARCHAR, model_version VARCHAR, previous_version VARCHAR,
        approved_by VARCHAR, reason VARCHAR, gates VARCHAR)""",
)


class LifecycleError(ValueError):
    """A promotion or rollback that may not happen; the message says why and what to do."""


# Columns added after the first release: a warehouse made by an earlier leadgen gains them
# (empty for the versions registered before).
_ADDED_COLUMNS = (("models", "registry", "feature_profile", "VARCHAR"), ("models", "evaluations", "reliability", "VARCHAR"))


def ensure_tables(con: Any) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS models")
    for ddl in _DDL:
        con.execute(ddl)
    for schema, table, column, kind in _ADDED_COLUMNS:  # constants of this module, never data
        con.execute(f'ALTER TABLE "{schema}"."{table}" ADD COLUMN IF NOT EXISTS "{column}" {kind}')


def champion_version(con: Any) -> str | None:
    """The learned model in use, or None when leads are scored by the rule model."""
    ensure_tables(con)
    rows = con.execute(CHAMPION_SQL).fetchall()
    return rows[0][0] if rows and rows[0][0] != RULES else None


def champion_profile(con: Any) -> tuple[str, str | None, dict[str, Any]] | None:
    """The champion's version, the feature-set version it was trained on and the drift profile
    of its training set (core/features.py drift_profile); None when leads are scored by the rule
    model or the champion was registered without a profile."""
    version = champion_version(con)
    if version is None:
        return None
    rows = con.execute(
        "SELECT feature_set_version, feature_profile FROM models.registry WHERE model_version = ?", [version]
    ).fetchall()
    if not rows or not rows[0][1]:
        return None
    return version, rows[0][0], json.loads(rows[0][1])


def load_model(con: Any, version: str) -> learned.Model:
    rows = con.execute("SELECT artifact FROM models.registry WHERE model_version = ?", [version]).fetchall()
    if not rows:
        raise LifecycleError(f"model {version} is not in the registry; `leadgen model list` shows the versions")
    return learned.Model.from_bytes(bytes(rows[0][0]))


def latest_gates(con: Any, version: str) -> dict[str, bool] | None:
    rows = con.execute(
        "SELECT gates FROM models.evaluations WHERE model_version = ? AND scorer = 'challenger' AND gates IS NOT NULL "
        "ORDER BY evaluated_at DESC LIMIT 1", [version]
    ).fetchall()
    return json.loads(rows[0][0]) if rows else None


def decide(con: Any, action: str, version: str, approved_by: str, reason: str) -> dict[str, Any]:
    """Record a promotion or rollback. A promotion needs the version's latest gates all
    passed; both need a name and a reason. Returns the recorded decision."""
    ensure_tables(con)
    if action not in ("promote", "rollback"):
        raise LifecycleError(f"unknown action {action!r}: promote or rollback")
    if not approved_by.strip() or not reason.strip():
        raise LifecycleError("a decision needs who approves it (--by) and why (--why)")
    current = champion_version(con) or RULES
    if version == current:
        raise LifecycleError(f"{version} is already the champion")
    gates: dict[str, bool] | None = None
    if version != RULES:
        load_model(con, version)  # must exist
        gates = latest_gates(con, version)
    if action == "promote":
        if version == RULES:
            raise LifecycleError("the rule model is not promoted; roll back to it: `leadgen model rollback rules`")
        if gates is None:
            raise LifecycleError(f"{version} has no evaluation; run the train_challenger job first")
        failed = [g for g, ok in gates.items() if not ok]
        if failed:
            raise LifecycleError(f"{version} fails its promotion gates: {'; '.join(failed)}")
    elif version != RULES:
        used = con.execute(
            "SELECT count(*) FROM models.lifecycle WHERE model_version = ? AND action IN ('promote', 'rollback')", [version]
        ).fetchall()[0][0]
        if not used:
            raise LifecycleError(f"{version} was never a champion; a rollback returns to an earlier champion (or `rules`)")
    event = {
        "event_id": str(uuid.uuid4()), "decided_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "action": action,
        "model_version": version, "previous_version": current, "approved_by": approved_by.strip(),
        "reason": reason.strip(), "gates": json.dumps(gates, sort_keys=True) if gates is not None else None,
    }
    con.execute(
        "INSERT INTO models.lifecycle BY NAME SELECT ? AS event_id, ? AS decided_at, ? AS action, ? AS model_version, "
        "? AS previous_version, ? AS approved_by, ? AS reason, ? AS gates",
        [event[k] for k in ("event_id", "decided_at", "action", "model_version", "previous_version", "approved_by", "reason", "gates")],
    )
    return event
