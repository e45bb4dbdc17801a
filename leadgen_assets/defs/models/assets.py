"""models: point-in-time training sets, the learned model's challengers and the registry.

* ``models/training_set``: every mature lead's stored features with its CRM label, as of a
  cutoff day (core/training.py).
* ``models/challenger``: trains a model on the training set's earlier days and judges it on
  the latest ones, beside the champion and the rule model. A trained model is registered in
  ``models.registry`` (its JSON, params, training-set hash, feature-set version, metrics) and
  becomes a partition of the ``model_versions`` dynamic partitions. The ``promotion_gates``
  check says whether it may be promoted; promotion itself needs an approval
  (``leadgen model promote``), recorded in ``models.lifecycle``.
"""

import datetime as dt
import json
from typing import Optional

import dagster as dg
import numpy as np
import polars as pl

from leadgen_assets.core import charts, evaluation, history, registry, rules, scoring, training
from leadgen_assets.core import features as feature_logic
from leadgen_assets.core import model as learned
from leadgen_assets.defs.common import WarehouseResource, layer_asset, markdown_table, write_metadata
from leadgen_assets.storage.warehouse import qualified, table_columns

MODEL_VERSIONS = dg.DynamicPartitionsDefinition(name="model_versions")


class ModelRunConfig(dg.Config):
    """Run config of the models layer (Launchpad, under `models__training_set` / `models__challenger`)."""

    model_config_path: str = str(learned.DEFAULT_CONFIG)
    rule_model_path: str = str(rules.DEFAULT_CONFIG)
    cutoff: Optional[str] = None
    """Label leads as the CRM knew them on this day (ISO date). Default: the latest delivery day."""
    include_history: bool = True
    """Add the historical leads imported with `leadgen model import` to the training set."""


@layer_asset(
    "models",
    "training_set",
    description="Point-in-time training set: every lead whose label window has passed by the cutoff, "
    "with the features stored for its delivery day and its label (an opportunity of its person won "
    "within the window, as the CRM had delivered it by the cutoff). Nothing in it arrived after the "
    "cutoff.",
    code_version="1",
    deps=[dg.AssetKey(["features", "lead_features"]), dg.AssetKey(["signals", "crm_opportunities"]),
          dg.AssetKey(["identity", "person_records"])],
    partitioned=False,
    kinds=("duckdb", "polars"),
    automation=False,
)
def training_set(context: dg.AssetExecutionContext, config: ModelRunConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    cfg = learned.load_config(config.model_config_path)
    version = feature_logic.feature_set_version()
    store = warehouse.store()
    with store.writer() as w:
        latest = w.con.execute(
            "SELECT max(delivery_date) FROM features.lead_features WHERE feature_set_version = ?", [version]
        ).fetchall()[0][0]
        cutoff = dt.date.fromisoformat(config.cutoff) if config.cutoff else latest
        if cutoff is None:
            raise learned.ModelError(
                f"there are no lead features of the current feature set ({version}) yet: run the funnel "
                "(`leadgen run`, or the lead_funnel job) to compute them, then train")
        params = {"version": version, "cutoff": cutoff, "window": cfg.label_window_days}
        sql = training.training_set_sql(_history_select(w) if config.include_history else None)
        report = w.replace_table("models.training_set", sql, params=params, derived=True, allow_empty=True)
        frame = w.con.sql("SELECT * FROM models.training_set").pl()
    history_leads = int((frame["source"] == "history").sum()) if frame.height else 0
    by_day = (
        frame.group_by("delivery_date").agg(pl.len().alias("leads"), pl.col("won").sum().alias("conversions")).sort("delivery_date")
        if frame.height else pl.DataFrame(schema={"delivery_date": pl.Date, "leads": pl.UInt32, "conversions": pl.UInt32})
    )
    context.log.info(f"training set as of {cutoff}: {frame.height} mature leads, {int(frame['won'].sum()) if frame.height else 0} conversions")
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "models.training_set", [report],
            cutoff=str(cutoff),
            label_window_days=cfg.label_window_days,
            feature_set_version=version,
            mature_leads=frame.height,
            conversions=int(frame["won"].sum()) if frame.height else 0,
            conversion_rate=round(float(frame["won"].mean()), 4) if frame.height else 0.0,
            training_set_hash=training.training_set_hash(frame) if frame.height else "empty",
            imported_history_leads=history_leads,
            by_day=dg.MetadataValue.md(markdown_table(by_day, max_rows=120)),
        )
    )


def _history_select(w) -> Optional[str]:  # noqa: ANN001
    """The imported history's rows for the training set, or None when nothing is imported."""
    if not w.table_exists(history.HISTORY):
        return None
    return history.history_select_sql(list(table_columns(w.con, history.HISTORY)),
                                      table_columns(w.con, "features.lead_features"))


def _prepared(frame: pl.DataFrame, rule_model: rules.RuleModel) -> tuple[pl.DataFrame, np.ndarray]:
    """Leads the model scores (disqualified ones never reach it) and their rule prior."""
    scored = rules.score(frame, rule_model)
    keep = ~scored["disqualified"]
    return frame.filter(keep), rules.prior_logit(scored.filter(keep), rule_model).to_numpy()


def _segments(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    size = frame["employees"].fill_null(0)
    band = pl.select(
        pl.when(size < 10).then(pl.lit("1-9")).when(size < 50).then(pl.lit("10-49"))
        .when(size < 250).then(pl.lit("50-249")).otherwise(pl.lit("250+"))
    ).to_series()
    return {"region": frame["region"].fill_null("unknown").to_numpy(), "company_size": band.to_numpy()}


def judge(holdout: pl.DataFrame, scorers: dict[str, tuple[str, np.ndarray, np.ndarray | None, np.ndarray | None]]) -> pl.DataFrame:
    """One row of metrics per scorer on the same holdout leads."""
    y = holdout["won"].cast(pl.Int8).to_numpy()
    segs = _segments(holdout)
    rows = []
    for name, (version, p, low, high) in scorers.items():
        m = evaluation.summary(y, p, low, high)
        gaps = [(*evaluation.parity_gap(y, p, s), seg) for seg, s in segs.items()]
        gap, segment, kind = max(gaps, key=lambda g: g[0]) if gaps else (0.0, None, None)
        rows.append({
            "scorer": name, "scorer_version": version, **{k: m.get(k) for k in (
                "leads", "conversions", "auc", "pr_auc", "brier", "ece", "ece_noise", "lift_top_decile", "interval_coverage")},
            "parity_gap": gap, "parity_segment": f"{kind}={segment}" if segment else None,
            "reliability": json.dumps(evaluation.reliability_table(y, p, low, high)),
        })
    return pl.DataFrame(rows, schema_overrides={"interval_coverage": pl.Float64, "parity_segment": pl.Utf8})


def reliability_chart(table: pl.DataFrame, title: str) -> Optional[str]:
    """The reliability diagram of every scorer judged in ``table`` (rows of ``judge``)."""
    curves = {r["scorer"]: pl.DataFrame(json.loads(r["reliability"])) for r in table.iter_rows(named=True)
              if r.get("reliability")}
    return charts.reliability(curves, title)


def gates(table: pl.DataFrame, cfg: learned.ModelConfig) -> dict[str, bool]:
    row = {r["scorer"]: r for r in table.iter_rows(named=True)}
    ch = row["challenger"]
    bar = row.get("champion") or row["rules"]
    return {
        f"beats {bar['scorer']} AUC by {cfg.gates['auc_margin']}": ch["auc"] >= bar["auc"] + cfg.gates["auc_margin"],
        # a small holdout shows some ECE even for a perfect score: the gate allows that sampling noise
        f"ECE at most {cfg.gates['max_ece']} beyond sampling noise ({ch['ece_noise']:.3f} on {ch['leads']} leads)":
            ch["ece"] <= cfg.gates["max_ece"] + ch["ece_noise"],
        f"segment parity gap at most {cfg.gates['max_parity_gap']}": ch["parity_gap"] <= cfg.gates["max_parity_gap"],
    }


@layer_asset(
    "models",
    "challenger",
    description="Trains a challenger on the training set's earlier days and judges it on the latest "
    "ones beside the champion and the rule model (AUC, PR-AUC, Brier, ECE, lift at the top decile, "
    "interval coverage, segment parity). A trained model is registered as a model version; the "
    "promotion_gates check says whether it may be promoted. Too few conversions: no challenger, "
    "scoring stays on the rule model.",
    code_version="1",
    deps=[training_set],
    partitioned=False,
    kinds=("duckdb", "xgboost"),
    automation=False,
    check_specs=[dg.AssetCheckSpec(
        "promotion_gates", asset=dg.AssetKey(["models", "challenger"]),
        description="The challenger beats the champion (or the rule model) by the AUC margin, is calibrated "
        "(ECE) and scores every region and company size alike (parity). Promotion also needs an approval.",
    )],
)
def challenger(context: dg.AssetExecutionContext, config: ModelRunConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    cfg = learned.load_config(config.model_config_path)
    rule_model = rules.load(config.rule_model_path)
    store = warehouse.store()
    with store.reader() as con:
        frame = con.sql("SELECT * FROM models.training_set").pl()
    frame, prior = _prepared(frame, rule_model) if frame.height else (frame, np.zeros(0))
    conversions = int(frame["won"].sum()) if frame.height else 0
    days = frame["delivery_date"].n_unique() if frame.height else 0
    needed = int(cfg.gates["min_conversions_to_train"])
    if conversions < needed or days < 2:
        why = (f"{conversions} conversion(s) in {frame.height} mature lead(s) over {days} day(s); a challenger needs "
               f"{needed} and two days. Scoring stays on the rule model until labels accrue.")
        context.log.info(why)
        return dg.MaterializeResult(
            metadata={"trained": False, "why_not": why, "conversions": conversions},
            check_results=[dg.AssetCheckResult(check_name="promotion_gates", passed=False, severity=dg.AssetCheckSeverity.WARN,
                                               metadata={"why": why})],
        )
    train_part, holdout = training.time_split(frame.with_columns(pl.Series("_prior", prior)), cfg.gates["holdout_share"])
    columns = list(training.MODEL_FEATURES)
    model = learned.train(
        train_part, train_part["won"].cast(pl.Int8).to_numpy(), train_part["_prior"].to_numpy(), columns, cfg,
        prior=rule_model.version,
        training={"training_set_hash": training.training_set_hash(train_part.drop("_prior")),
                  "feature_set_version": feature_logic.feature_set_version()},
        order=train_part["scored_at"].dt.epoch("s").to_numpy(),
    )
    version = model.version
    hp = holdout["_prior"].to_numpy()
    s = model.score(holdout, hp)
    scorers: dict[str, tuple] = {
        "challenger": (version, s.probability, s.low, s.high),
        "rules": (rule_model.version, learned.sigmoid(hp), None, None),
    }
    with store.writer() as w:
        registry.ensure_tables(w.con)
        champion = registry.champion_version(w.con)
        champion_note = None
        if champion and champion != version:
            champ = registry.load_model(w.con, champion)
            champion_note = scoring.usable(champ, feature_logic.feature_set_version())
            if champion_note is None:  # judged on the same leads; else the rules are the bar
                cs = champ.score(holdout, hp)
                scorers["champion"] = (champion, cs.probability, cs.low, cs.high)
        table = judge(holdout, scorers)
        passed = gates(table, cfg)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        metrics = {r["scorer"]: {k: v for k, v in r.items() if k != "reliability"} for r in table.iter_rows(named=True)}
        # baselines describe the pipeline's own leads, whose drift is watched: imported history
        # (its features partly empty) would read as a rise in empty values
        own = train_part.filter(pl.col("source") != "history")
        own = own if own.height else train_part
        record = pl.DataFrame([{
            "model_version": version, "registered_at": now, "run_id": context.run.run_id, "artifact": model.to_bytes(),
            "artifact_format": learned.FORMAT, "feature_set_version": model.training["feature_set_version"],
            "training_set_hash": model.training["training_set_hash"], "cutoff": frame["label_cutoff"].max(),
            "label_window_days": cfg.label_window_days, "prior": rule_model.version, "rows": model.training["rows"],
            "conversions": model.training["conversions"], "weight": model.weight,
            "params": json.dumps(model.config, sort_keys=True), "metrics": json.dumps(metrics, sort_keys=True, default=str),
            "feature_baselines": json.dumps(feature_logic.baselines(own), sort_keys=True),
            "feature_profile": json.dumps(feature_logic.drift_profile(own, columns), sort_keys=True),
        }])
        with w.transaction():
            known = w.con.execute(f"SELECT count(*) FROM {qualified(registry.REGISTRY)} WHERE model_version = ?", [version]).fetchall()[0][0]
            if not known:  # the same data and seed give the same version: registered once
                w.append(registry.REGISTRY, record)
            holdout_hash = training.training_set_hash(holdout.drop("_prior"))
            w.append(registry.EVALUATIONS, table.drop("ece_noise").with_columns(
                pl.lit(version).alias("model_version"), pl.lit(now).alias("evaluated_at"),
                pl.lit(context.run.run_id).alias("run_id"), pl.lit(holdout_hash).alias("holdout_hash"),
                pl.when(pl.col("scorer") == "challenger").then(pl.lit(json.dumps(passed, sort_keys=True))).alias("gates"),
            ))
    context.instance.add_dynamic_partitions(MODEL_VERSIONS.name, [version])
    context.log.info(f"challenger {version}: {'passes' if all(passed.values()) else 'fails'} the promotion gates")
    return dg.MaterializeResult(
        metadata={
            "trained": True,
            "model_version": version,
            "champion": champion or "rule model",
            **({"champion_not_compared": champion_note} if champion_note else {}),
            "training_leads": model.training["rows"],
            "training_conversions": model.training["conversions"],
            "prior_weight": round(model.weight, 3),
            "boosting_rounds": model.training["rounds"],
            "holdout_days": f"{holdout['delivery_date'].min()}..{holdout['delivery_date'].max()}",
            "holdout_leads": holdout.height,
            "comparison": dg.MetadataValue.md(markdown_table(table.drop("scorer_version", "reliability").with_columns(
                pl.col(pl.Float64).round(4)))),
            **({"calibration": dg.MetadataValue.md(chart)} if (chart := reliability_chart(
                table, f"{version} on the holdout: score against outcome, by decile")) else {}),
            "promote_with": f"leadgen model promote {version} --by NAME --why TEXT",
        },
        check_results=[dg.AssetCheckResult(
            check_name="promotion_gates", passed=all(passed.values()), severity=dg.AssetCheckSeverity.WARN,
            metadata={"model_version": version, **{k: bool(v) for k, v in passed.items()}},
        )],
    )



@dg.asset(
    key=dg.AssetKey(["models", "model_card"]),
    group_name="models",
    partitions_def=MODEL_VERSIONS,
    description="One partition per registered model version: its record (params, training-set hash, "
    "feature-set version, cutoff, prior weight), its latest judgement on the holdout beside the "
    "champion and the rule model, and its decisions (promotions, rollbacks, with who and why).",
    code_version="1",
    kinds={"duckdb"},
    owners=["team:data"],
    pool="duckdb",
    deps=[challenger],
)
def model_card(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    version = context.partition_key
    with warehouse.store().writer() as w:
        registry.ensure_tables(w.con)
        record = w.con.sql(
            "SELECT * EXCLUDE (artifact) FROM models.registry WHERE model_version = ?", params=[version]).pl()
        if record.is_empty():
            raise learned.ModelError(f"model {version} is not in the registry (a partition without a record)")
        judged = w.con.sql(
            """SELECT scorer, scorer_version, leads, conversions, auc, pr_auc, brier, ece, lift_top_decile,
                      interval_coverage, parity_gap, parity_segment, reliability
               FROM models.evaluations WHERE model_version = ?
               QUALIFY evaluated_at = max(evaluated_at) OVER () ORDER BY scorer""", params=[version]).pl()
        decisions = w.con.sql(
            "SELECT decided_at, action, model_version, previous_version, approved_by, reason FROM models.lifecycle "
            "WHERE model_version = ? OR previous_version = ? ORDER BY decided_at", params=[version, version]).pl()
        champion = registry.champion_version(w.con)
    row = record.row(0, named=True)
    status = "champion" if champion == version else ("former champion" if decisions.filter(
        pl.col("model_version") == version).height else "challenger")
    return dg.MaterializeResult(metadata={
        "status": status,
        "registered_at": str(row["registered_at"]),
        "feature_set_version": row["feature_set_version"],
        "training_set_hash": row["training_set_hash"],
        "cutoff": str(row["cutoff"]),
        "label_window_days": row["label_window_days"],
        "prior": row["prior"],
        "training_leads": int(row["rows"]),
        "training_conversions": int(row["conversions"]),
        "prior_weight": float(row["weight"]),
        "artifact_format": row["artifact_format"],
        "holdout": dg.MetadataValue.md(markdown_table(judged.drop("reliability").with_columns(pl.col(pl.Float64).round(4)))),
        **({"calibration": dg.MetadataValue.md(chart)} if (chart := reliability_chart(
            judged, f"{version} on its holdout: score against outcome, by decile")) else {}),
        "decisions": dg.MetadataValue.md(markdown_table(decisions) if decisions.height else "none yet"),
        "params": dg.MetadataValue.json(json.loads(row["params"])),
        **({"feature_baselines": dg.MetadataValue.md(markdown_table(pl.DataFrame(
            list(json.loads(row["feature_baselines"]).items()), schema=["feature", "drift baseline"], orient="row"), max_rows=200))}
           if row.get("feature_baselines") else {}),
    })


model_cards_job = dg.define_asset_job(
    "model_cards", selection=[model_card],
    description="Write the model card of a model version.",
)


@dg.sensor(job=model_cards_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="A new model version gets its model card.")
def new_model_versions(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    versions = context.instance.get_dynamic_partitions(MODEL_VERSIONS.name)
    done = context.instance.get_materialized_partitions(model_card.key)
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=v, partition_key=v) for v in versions if v not in done])


class DecisionConfig(dg.Config):
    """A promotion or rollback from the Launchpad (job `model_decision`)."""

    action: str
    """promote or rollback"""
    model_version: str
    """the version to make champion; for a rollback, an earlier champion or `rules`"""
    approved_by: str
    reason: str


@dg.op(pool="duckdb", description="Record a promotion or rollback: gates checked, approval recorded.")
def record_model_decision(context: dg.OpExecutionContext, config: DecisionConfig, warehouse: WarehouseResource) -> None:
    with warehouse.store().writer() as w:
        event = registry.decide(w.con, config.action, config.model_version, config.approved_by, config.reason)
    context.log.info(f"{event['action']}: {event['previous_version']} -> {event['model_version']} "
                     f"(approved by {event['approved_by']})")


@dg.job(description="Promote a model version (its gates must have passed) or roll back to an earlier champion "
        "or the rule model, with who approves it and why. The decision is recorded in models.lifecycle.")
def model_decision() -> None:
    record_model_decision()


DRIFT_PSI = 0.25        # the score_drift check's threshold: a pooled PSI at or above it is drift
DRIFT_MIN_LEADS = 200   # a window with fewer leads is too small to call drift


def drift_day(warehouse: WarehouseResource, after: Optional[str]) -> Optional[tuple[str, float, str]]:
    """The latest delivery day after ``after`` that shows drift, with its PSI and what drifted:
    the pooled rule-score PSI (``score drift``) or one of the champion's features against its
    training set (``feature <name>``), whichever is larger that day."""
    store = warehouse.store()
    if not store.path.exists():
        return None
    with store.reader() as con:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'monitoring' "
            "AND table_name IN ('score_drift', 'feature_drift')").fetchall()}
        parts = []
        if "score_drift" in present:
            parts.append("SELECT delivery_date, psi_window, 'score drift' AS what FROM monitoring.score_drift "
                         "WHERE psi_window >= $psi AND window_leads >= $leads")
        if "feature_drift" in present:
            parts.append("SELECT delivery_date, psi_window, 'feature ' || feature AS what FROM monitoring.feature_drift "
                         "WHERE psi_window >= $psi AND window_leads >= $leads")
        if not parts:
            return None
        rows = con.execute(
            f"SELECT delivery_date, psi_window, what FROM ({' UNION ALL '.join(parts)}) "
            "WHERE $after IS NULL OR delivery_date > CAST($after AS DATE) "
            "ORDER BY delivery_date DESC, psi_window DESC, what LIMIT 1",
            {"psi": DRIFT_PSI, "leads": DRIFT_MIN_LEADS, "after": after},
        ).fetchall()
    return (rows[0][0].isoformat(), float(rows[0][1]), rows[0][2]) if rows else None


@dg.sensor(
    job_name="train_challenger", minimum_interval_seconds=600, default_status=dg.DefaultSensorStatus.STOPPED,
    description=f"Retrain on drift: when the rule-score PSI, or the PSI of one of the champion's features against "
    f"its training set, pooled over the last delivery days reaches {DRIFT_PSI} (with at least {DRIFT_MIN_LEADS} "
    "leads), train a challenger, once per drifted day. Promotion still needs an approval.",
)
def retrain_on_drift(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult | dg.SkipReason:
    hit = drift_day(warehouse, context.cursor)
    if hit is None:
        return dg.SkipReason(f"no score or feature drift (PSI >= {DRIFT_PSI}) after {context.cursor or 'the first day'}")
    day, value, what = hit
    trigger = "score drift" if what == "score drift" else "feature drift"
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"drift-{day}", tags={
            "leadgen/trigger": trigger, "leadgen/drift_day": day, "leadgen/psi_window": f"{value:.4f}",
            **({"leadgen/drifted_feature": what.removeprefix("feature ")} if trigger == "feature drift" else {}),
        })],
        cursor=day,
    )


defs = dg.Definitions(
    assets=[training_set, challenger, model_card],
    jobs=[model_cards_job, model_decision],
    sensors=[new_model_versions, retrain_on_drift],
)
