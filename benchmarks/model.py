"""python -m benchmarks model --scale medium [--days 150] [--workdir DIR] [--speed-rows 1000000]

The learned model against the simulator's truth, and its speed.

Quality (a sample world long enough for labels: 150 days by default, so leads of the first
90 days have their 60-day label window behind them):
* the whole funnel runs once; the point-in-time training set is built as of the last day;
* the latest fifth of the labelled days is the holdout; leadgen's model (rule prior, bounded
  XGBoost, calibration, intervals) learns from the earlier days, beside plain XGBoost, plain
  logistic regression and the rule model on the same leads;
* the oracle is the simulator's true conversion probability of each holdout lead; to show
  what separates a model from it, plain XGBoost is also given the world's own fit and
  engagement terms of each person (site activity of visitors never identified, form questions
  never asked), which no business's data holds;
* interval coverage: the interval promises the conversion rate of the leads scored like this
  one. It is measured on the holdout as the share of leads whose score decile's observed
  conversion rate lies inside their interval (what a business can measure on its own
  history), and against the truth as the mean true probability of the lead's score decile,
  over first leads of a person (whose true probability is the probability of their label; a
  person's later leads carry the first episode's probability). Each lead's own true
  probability inside its interval is printed too; it is not the promise (the spread of true
  probabilities among leads that look alike is not observable from one outcome each);
* cold start: the earliest training days up to 50 conversions only, leadgen against plain
  XGBoost and the rule model on the same holdout.

Speed, on leads resampled from the world's own features (``--speed-rows``):
* the point-in-time training set (labels as of a cutoff, joined to 100 stored feature
  columns), beside a bare DuckDB join of the same tables;
* training leadgen's model;
* scoring with reason codes, beside bare booster predictions of the same model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from benchmarks.common import peak_rss_mb, world_folder

COLD_START_CONVERSIONS = 50


def _metrics(y: np.ndarray, p: np.ndarray, low=None, high=None) -> dict:
    from leadgen_assets.core import evaluation

    m = evaluation.summary(y, p, low, high)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}


def quality(root: Path) -> tuple[dict, pl.DataFrame]:
    from leadgen_assets import settings
    from leadgen_assets.cli import _landed_days, materialize_range
    from leadgen_assets.core import evaluation, training
    from leadgen_assets.core import features as feature_logic
    from leadgen_assets.core import model as learned
    from leadgen_assets.core import rules
    from leadgen_assets.defs.models.assets import _prepared
    from leadgen_assets.storage.warehouse import Warehouse

    out: dict = {}
    store = Warehouse(settings.warehouse_path())
    first, last = _landed_days()
    has_features = store.path.exists() and store.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'features' AND table_name = 'lead_features'")["n"][0]
    if has_features:  # features of this version for every landed day, or the funnel runs again
        has_features = store.query("SELECT count(DISTINCT delivery_date) AS n FROM features.lead_features WHERE feature_set_version = ?",
                                   [feature_logic.feature_set_version()])["n"][0] == (last - first).days + 1
    if not has_features:
        t = time.perf_counter()
        materialize_range(first, last, show_progress=False)
        out["funnel_seconds"] = round(time.perf_counter() - t, 1)
    cfg = learned.load_config()
    version = feature_logic.feature_set_version()
    with store.reader() as con:
        cutoff = con.execute("SELECT max(delivery_date) FROM features.lead_features").fetchall()[0][0]
        t = time.perf_counter()
        frame = con.sql(training.TRAINING_SET_SQL, params={"version": version, "cutoff": cutoff,
                                                           "window": cfg.label_window_days}).pl()
        out["training_set_seconds"] = round(time.perf_counter() - t, 2)
    rule_model = rules.load()
    frame, prior = _prepared(frame, rule_model)
    frame = frame.with_columns(pl.Series("_prior", prior))
    train, holdout = training.time_split(frame, cfg.gates["holdout_share"])
    truth = pl.read_parquet(root / "truth" / "leads.parquet").select(
        (pl.col("channel") + ":" + pl.col("record_id")).alias("lead_id"), "p_convert", "converted", "first_of_person")
    holdout = holdout.join(truth, on="lead_id", how="left")
    out |= {"cutoff": str(cutoff), "label_window_days": cfg.label_window_days, "train_leads": train.height,
            "train_conversions": int(train["won"].sum()), "holdout_leads": holdout.height,
            "holdout_conversions": int(holdout["won"].sum()),
            "holdout_days": f"{holdout['delivery_date'].min()}..{holdout['delivery_date'].max()}",
            "holdout_with_truth": int(holdout["p_convert"].is_not_null().sum())}
    columns = list(training.MODEL_FEATURES)
    y = holdout["won"].cast(pl.Int8).to_numpy()
    hp = holdout["_prior"].to_numpy()
    t = time.perf_counter()
    model = learned.train(train, train["won"].cast(pl.Int8).to_numpy(), train["_prior"].to_numpy(), columns, cfg, prior="rules",
                          order=train["scored_at"].dt.epoch("s").to_numpy())
    out["train_seconds"] = round(time.perf_counter() - t, 2)
    s = model.score(holdout, hp)
    X_tr, X_te = model.encoder.matrix(train), model.encoder.matrix(holdout)
    y_tr = train["won"].cast(pl.Int8).to_numpy()
    oracle = holdout["p_convert"].fill_null(0.0).to_numpy()
    rows = [
        {"scorer": "leadgen", **_metrics(y, s.probability, s.low, s.high)},
        {"scorer": "plain XGBoost", **_metrics(y, learned.plain_xgboost(X_tr, y_tr, X_te, 7))},
        {"scorer": "logistic regression", **_metrics(y, learned.plain_logistic(X_tr, y_tr, X_te))},
        {"scorer": "rule model", **_metrics(y, learned.sigmoid(hp))},
        {"scorer": "oracle (true p)", **_metrics(y, oracle)},
    ]
    # what limits AUC: plain XGBoost given, beside leadgen's features, what the world knows and the
    # business's data does not show (the simulator's fit and engagement terms of each person)
    persons = pl.read_parquet(root / "truth" / "persons.parquet")
    if "engagement" in persons.columns:
        who = pl.read_parquet(root / "truth" / "leads.parquet").select(
            (pl.col("channel") + ":" + pl.col("record_id")).alias("lead_id"), "true_person_id").join(
            persons.select("true_person_id", "fit", "engagement"), on="true_person_id", how="left")
        tr_t, ho_t = (part.select("lead_id").join(who, on="lead_id", how="left") for part in (train, holdout))
        for label, extra in (("+ true fit", ["fit"]), ("+ true engagement", ["engagement"]),
                             ("+ true fit and engagement", ["fit", "engagement"])):
            A = np.hstack([X_tr, tr_t.select(extra).to_numpy()])
            B = np.hstack([X_te, ho_t.select(extra).to_numpy()])
            rows.append({"scorer": f"plain XGBoost {label} (not observable)", **_metrics(y, learned.plain_xgboost(A, y_tr, B, 7))})

    # interval coverage: the promise (the score decile's rate), then against the truth
    decile = np.searchsorted(np.quantile(s.probability, np.linspace(0.1, 0.9, 9)), s.probability, side="right")
    first = holdout["first_of_person"].fill_null(False).to_numpy()
    mean_true = pl.DataFrame({"b": decile[first], "p": oracle[first]}).with_columns(pl.col("p").mean().over("b"))["p"].to_numpy()
    out["coverage_observed_rate_of_score_decile"] = round(evaluation.coverage(evaluation.binned_rate(y, s.probability), s.low, s.high), 4)
    out["coverage_mean_true_probability_of_score_decile_first_leads"] = round(
        evaluation.coverage(mean_true, s.low[first], s.high[first]), 4)
    out["coverage_each_leads_true_probability"] = round(evaluation.coverage(oracle, s.low, s.high), 4)
    out["interval_z"] = {k: model.training[k] for k in ("interval_z_normal", "interval_z_conformal")}
    out["interval_width_median"] = round(float(np.median(s.high - s.low)), 4)
    out["oracle_auc_against_truth_converted"] = round(float(_metrics(holdout["converted"].fill_null(False).cast(pl.Int8).to_numpy(), oracle)["auc"]), 4)
    out["leadgen_auc_against_truth_converted"] = round(float(_metrics(holdout["converted"].fill_null(False).cast(pl.Int8).to_numpy(), s.probability)["auc"]), 4)

    # cold start: a young business, the earliest training leads up to its 50th conversion
    ordered = train.sort(["scored_at", "lead_id"]).with_columns(pl.col("won").cast(pl.Int32).cum_sum().alias("_cum"))
    young = ordered.filter(pl.col("_cum") < COLD_START_CONVERSIONS).vstack(
        ordered.filter(pl.col("_cum") == COLD_START_CONVERSIONS).head(1)).drop("_cum")
    last_day = young["delivery_date"].max()
    yy = young["won"].cast(pl.Int8).to_numpy()
    small = learned.train(young, yy, young["_prior"].to_numpy(), columns, cfg, prior="rules",
                          order=young["scored_at"].dt.epoch("s").to_numpy())
    cs = small.score(holdout, hp)
    Xy = small.encoder.matrix(young)
    cold = [
        {"scorer": "leadgen (prior + bounded correction)", **_metrics(y, cs.probability, cs.low, cs.high)},
        {"scorer": "plain XGBoost", **_metrics(y, learned.plain_xgboost(Xy, yy, small.encoder.matrix(holdout), 7))},
        {"scorer": "rule model", **_metrics(y, learned.sigmoid(hp))},
    ]
    out["cold_start"] = {"leads": young.height, "conversions": int(yy.sum()), "days": f"{young['delivery_date'].min()}..{last_day}",
                         "prior_weight": round(small.weight, 3), "results": cold}
    return out, pl.DataFrame(rows)


def speed(n: int, source: pl.DataFrame) -> dict:
    """Build, train and score on ``n`` leads resampled from ``source`` (a training set)."""
    from leadgen_assets.core import model as learned
    from leadgen_assets.core import rules, scoring, training

    out: dict = {"rows": n}
    rng = np.random.default_rng(7)
    idx = rng.integers(0, source.height, n)
    base = source[idx.tolist()].with_columns(
        (pl.lit("L") + pl.int_range(pl.len()).cast(pl.Utf8)).alias("lead_id"),
        (pl.lit("P") + pl.Series(rng.integers(0, n // 2, n)).cast(pl.Utf8)).alias("person_id"),
    )
    feature_cols = [c for c in training.MODEL_FEATURES if c in base.columns]
    numeric = [c for c in feature_cols if base[c].dtype.is_numeric()]
    extra = {f"extra_{i:02d}": (base[numeric[i % len(numeric)]].cast(pl.Float64).fill_null(0) * rng.random(n)) for i in range(100 - len(feature_cols))}
    wide = base.with_columns(**extra)
    # the warehouse tables the point-in-time training set reads, at this size
    con = duckdb.connect()
    con.execute("CREATE SCHEMA features; CREATE SCHEMA signals; CREATE SCHEMA identity")
    con.register("wide_src", wide.drop("won", "won_on", "opportunity_id", "label_cutoff", "_prior", strict=False))
    con.execute("CREATE TABLE features.lead_features AS SELECT * FROM wide_src")
    persons = wide.select("person_id").unique()
    winners = persons.sample(fraction=0.1, seed=7)
    con.register("winners", winners)
    con.execute("""CREATE TABLE identity.person_records AS SELECT 'crm_contacts:C' || person_id AS record_key, person_id FROM winners""")
    con.execute("""CREATE TABLE signals.crm_opportunities AS
        SELECT 'O' || person_id AS opportunity_id, 'C' || person_id AS contact_id, true AS is_won,
               DATE '2026-06-01' + (hash(person_id) % 150)::INT AS close_date, TIMESTAMP '2026-06-01' AS modified_at,
               DATE '2026-06-01' + (hash(person_id) % 150)::INT AS delivery_date FROM winners""")
    cutoff = source["label_cutoff"].max()  # the labels as the world's CRM had them at its last day
    version = wide["feature_set_version"][0]
    params = {"version": version, "cutoff": cutoff, "window": 60}
    def timed(sql: str, table: str) -> float:
        """Median of three builds of ``table`` (a shared machine's timings vary run to run)."""
        times = []
        for _ in range(3):
            con.execute(f"DROP TABLE IF EXISTS {table}")
            t = time.perf_counter()
            con.execute(f"CREATE TABLE {table} AS {sql}", params if "$" in sql else None)
            times.append(time.perf_counter() - t)
        return round(sorted(times)[1], 2)

    out["training_set_seconds"] = timed(training.TRAINING_SET_SQL, "ts")
    out["training_set_rows"] = con.execute("SELECT count(*) FROM ts").fetchall()[0][0]
    out["training_set_columns"] = len(con.execute("SELECT * FROM ts LIMIT 0").description)
    out["bare_join_seconds"] = timed("""SELECT f.*, o.is_won FROM features.lead_features f
                   LEFT JOIN identity.person_records pr ON pr.person_id = f.person_id
                   LEFT JOIN signals.crm_opportunities o ON 'crm_contacts:' || o.contact_id = pr.record_key""", "bare")
    out["training_set_ratio_to_bare"] = round(out["training_set_seconds"] / max(out["bare_join_seconds"], 1e-9), 2)
    con.close()

    rule_model = rules.load()
    cfg = learned.load_config()
    scored = rules.score(base, rule_model)
    prior = rules.prior_logit(scored, rule_model).to_numpy()
    y = base["won"].cast(pl.Int8).to_numpy()
    t = time.perf_counter()
    model = learned.train(base, y, prior, list(training.MODEL_FEATURES), cfg, prior="rules")
    out["train_seconds"] = round(time.perf_counter() - t, 2)
    out["train_rounds"] = model.training["rounds"]
    out["train_members"] = len(model.members)
    t = time.perf_counter()
    final = scoring.score(base, rule_model, model)
    out["score_with_reasons_seconds"] = round(time.perf_counter() - t, 2)
    out["score_with_reasons_leads_per_s"] = int(n / (time.perf_counter() - t))
    out["share_with_reasons"] = round(float((final["reasons"].list.len() > 0).mean()), 4)
    import xgboost as xgb

    X = model.encoder.matrix(base)
    t = time.perf_counter()
    booster = learned._booster(model.booster)
    booster.predict(xgb.DMatrix(X, base_margin=np.zeros(n, dtype=np.float32)), output_margin=True)
    out["bare_predict_seconds"] = round(time.perf_counter() - t, 2)
    out["score_ratio_to_bare_predict"] = round(out["score_with_reasons_seconds"] / max(out["bare_predict_seconds"], 1e-9), 2)
    return out


def main(scale: str = "medium", workdir: Path | None = None, days: int = 150, speed_rows: int = 1_000_000) -> None:
    with world_folder(scale, workdir, regenerate=False, days=days) as root:
        t0 = time.perf_counter()
        result, table = quality(root)
        from leadgen_assets import settings
        from leadgen_assets.core import features as feature_logic
        from leadgen_assets.core import training
        from leadgen_assets.core import model as learned
        from leadgen_assets.storage.warehouse import Warehouse

        print(f"\nleadgen model benchmark: scale={scale}, days={days}")
        with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=200):
            print(table)
        print(json.dumps(result, indent=2, default=str))
        quality_seconds = time.perf_counter() - t0
        store = Warehouse(settings.warehouse_path())
        with store.reader() as con:
            cutoff = con.execute("SELECT max(delivery_date) FROM features.lead_features").fetchall()[0][0]
            source = con.sql(training.TRAINING_SET_SQL, params={"version": feature_logic.feature_set_version(),
                                                               "cutoff": cutoff, "window": learned.load_config().label_window_days}).pl()
        if speed_rows:
            sp = speed(speed_rows, source)
            print(json.dumps({"speed": sp}, indent=2, default=str))
        print(f"quality part {quality_seconds:.0f}s; peak RSS {peak_rss_mb():.0f} MB")
