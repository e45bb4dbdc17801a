"""The learned model (core/model.py) on synthetic leads whose true probabilities are known:
it ranks and calibrates, respects its monotone bounds, starts from the prior when
conversions are few, gives the same version for the same data and seed, stores no pickle,
explains each score, and refuses columns it cannot use."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from leadgen_assets.core import model as M

N = 12_000


def world(n: int = N, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame({
        "pricing_views_30d": rng.poisson(1.0, n),
        "employees": rng.lognormal(3, 1, n).round(),
        "industry": rng.choice(["Legal", "Dental", "Retail"], n),
        "is_free_mail": rng.random(n) < 0.3,
    })
    true_logit = (-2.6 + 0.5 * frame["pricing_views_30d"].to_numpy() + 0.6 * (frame["industry"] == "Legal").to_numpy()
                  - 0.8 * frame["is_free_mail"].to_numpy())
    p = M.sigmoid(true_logit)
    y = (rng.random(n) < p).astype(int)
    return frame, y, p


COLUMNS = ["pricing_views_30d", "employees", "industry", "is_free_mail"]


@pytest.fixture(scope="module")
def trained() -> tuple[M.Model, pl.DataFrame, np.ndarray, np.ndarray]:
    frame, y, p = world()
    cfg = M.load_config(monotone={"pricing_views_30d": 1})
    model = M.train(frame, y, np.full(N, M.logit(y.mean())), COLUMNS, cfg, prior="base_rate")
    return model, frame, y, p


def test_the_model_ranks_and_is_calibrated_on_new_leads(trained) -> None:
    model, _, train_y, _ = trained
    frame, y, p = world(seed=1)
    s = model.score(frame, np.full(frame.height, M.logit(train_y.mean())))  # the prior it was trained on
    assert roc_auc_score(y, s.probability) >= roc_auc_score(y, p) - 0.02
    # calibrated: the mean score matches the conversion rate, and so does each score decile
    assert abs(s.probability.mean() - y.mean()) < 0.01
    edges = np.quantile(s.probability, np.linspace(0.1, 0.9, 9))
    deciles = pl.DataFrame({"p": s.probability, "y": y, "bin": np.searchsorted(edges, s.probability)})
    gaps = deciles.group_by("bin").agg((pl.col("p").mean() - pl.col("y").mean()).abs().alias("gap"))
    assert gaps["gap"].max() < 0.04
    assert ((s.low <= s.probability) & (s.probability <= s.high)).all()


def test_a_monotone_feature_never_lowers_the_score(trained) -> None:
    model, frame, *_ = trained
    base = frame.head(500)
    prior = np.full(base.height, -2.0)
    scores = [model.score(base.with_columns(pl.lit(v).alias("pricing_views_30d")), prior).probability for v in range(0, 8)]
    assert all((later >= earlier - 1e-12).all() for earlier, later in zip(scores, scores[1:], strict=False))


def test_the_same_data_and_seed_give_the_same_model_file(trained) -> None:
    model, frame, y, _ = trained
    again = M.train(frame, y, np.full(N, M.logit(y.mean())), COLUMNS, M.load_config(monotone={"pricing_views_30d": 1}), prior="base_rate")
    assert again.version == model.version and again.to_bytes() == model.to_bytes()
    other = M.train(frame, y, np.full(N, M.logit(y.mean())), COLUMNS, M.load_config(monotone={"pricing_views_30d": 1}, seed=8), prior="base_rate")
    assert other.version != model.version


def test_the_stored_model_is_json_and_scores_identically(trained) -> None:
    model, frame, *_ = trained
    raw = model.to_bytes()
    doc = json.loads(raw)  # plain JSON; the boosters are XGBoost's own JSON inside it
    assert doc["format"] == M.FORMAT
    assert b"\x80\x04" not in raw  # no pickle protocol header anywhere
    loaded = M.Model.from_bytes(raw)
    prior = np.full(frame.height, -2.0)
    assert np.array_equal(loaded.score(frame, prior).probability, model.score(frame, prior).probability)


def test_with_few_conversions_the_score_stays_near_the_prior() -> None:
    frame, y, _ = world(n=3000, seed=3)
    keep = np.flatnonzero(y == 0)[:2000].tolist() + np.flatnonzero(y == 1)[:20].tolist()
    small, ys = frame[keep], y[keep]
    prior = np.where(small["pricing_views_30d"].to_numpy() > 1, -2.0, -4.0)
    model = M.train(small, ys, prior, COLUMNS, M.load_config(), prior="rules")
    assert model.weight == pytest.approx(20 / 300)
    s = model.score(small, prior)
    # the calibrated score is (nearly) a monotone function of the prior: the rules' ranking survives
    order = np.argsort(prior, kind="stable")
    assert roc_auc_score(prior > -3, s.probability) > 0.99
    assert np.corrcoef(prior[order], s.logit[order])[0, 1] > 0.95


def test_contributions_explain_the_learned_part(trained) -> None:
    model, frame, *_ = trained
    s = model.score(frame.head(200), np.zeros(200), contributions=True)
    assert s.sources == COLUMNS
    views = frame.head(200)["pricing_views_30d"].to_numpy()
    c = s.contributions[:, 0]
    # more pricing views, more contribution (on average per value)
    means = [c[views == v].mean() for v in range(0, 4) if (views == v).any()]
    assert means == sorted(means)


def test_unusable_columns_are_named_with_the_reason() -> None:
    n = 300
    frame = pl.DataFrame({
        "ok": np.arange(n) % 7,
        "empty": [None] * n,
        "same": ["x"] * n,
        "notes": [f"called on day {i}, asked about backups" for i in range(n)],
        "service": (["Backup", "Cloud", "Security"] * n)[:n],
    }, schema_overrides={"empty": pl.Utf8})
    usable, unusable = M.check_columns(frame, frame.columns)
    assert usable == ["ok", "service"]
    reasons = {u.column: u.reason for u in unusable}
    assert set(reasons) == {"empty", "same", "notes"}
    assert "empty" in reasons["empty"] and "single value" in reasons["same"] and "free text" in reasons["notes"]


def test_a_batch_of_only_disqualified_leads_is_scored_without_the_model(trained) -> None:
    from leadgen_assets.core import rules, scoring

    model, *_ = trained
    rule_model = rules.load()
    frame = pl.DataFrame({f: [None] for f in ("company_domain",)}, schema={"company_domain": pl.Utf8})
    needed = {r.feature for r in rule_model.rules} - {"is_competitor"}
    frame = frame.with_columns([pl.lit(None).alias(f) for f in sorted(needed)]).with_columns(pl.lit(True).alias("is_test"))
    out = scoring.score(frame, rule_model, model)
    assert out["disqualified"].all() and (out["probability"] == 0).all() and (out["model_version"] == model.version).all()
