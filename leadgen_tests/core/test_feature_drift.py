"""Feature drift profiles (core/features.py drift_profile / drift_psi): a frame against its own
profile does not drift; a shifted number, a new category and a jump in empty values do; the
profile survives JSON unchanged; columns that are not profiled or not present are handled."""

import json

import numpy as np
import polars as pl
import pytest

from leadgen_assets.core import features, training

COLUMNS = ["employees", "pageviews_30d", "industry", "is_free_mail", "engagement_decayed"]


def frame(n: int = 4000, seed: int = 1, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    employees = rng.lognormal(3.0, 1.2, n).round().astype(np.int64)
    return pl.DataFrame({
        "employees": pl.Series(employees).scatter(np.arange(0, n, 25), None),  # 4% empty
        "pageviews_30d": rng.poisson(2.0 + shift, n),  # mostly small counts, many zeros
        "industry": rng.choice(["dental", "legal", "retail", "software", "health"], n, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
        "is_free_mail": rng.random(n) < 0.35,
        "engagement_decayed": rng.exponential(3.0, n) + shift,
        "email": [f"person{i}@example.com" for i in range(n)],  # not a feature: never profiled
    })


def test_a_frame_against_its_own_profile_does_not_drift() -> None:
    f = frame()
    psis = features.drift_psi(features.drift_profile(f, COLUMNS), f)
    assert set(psis) == set(COLUMNS)
    assert all(v == pytest.approx(0.0, abs=1e-6) for v in psis.values())


def test_another_sample_of_the_same_mix_stays_well_under_the_threshold() -> None:
    psis = features.drift_psi(features.drift_profile(frame(seed=1), COLUMNS), frame(seed=2))
    assert max(psis.values()) < 0.05


def test_a_shifted_number_drifts() -> None:
    profile = features.drift_profile(frame(), COLUMNS)
    psis = features.drift_psi(profile, frame(seed=2, shift=3.0))
    assert psis["engagement_decayed"] > 0.25 and psis["pageviews_30d"] > 0.25
    assert psis["industry"] < 0.05 and psis["is_free_mail"] < 0.05  # the rest did not move


def test_a_new_category_is_detected() -> None:
    f = frame()
    profile = features.drift_profile(f, COLUMNS)
    assert profile["features"]["industry"]["other"] == 0.0
    new = f.with_columns(pl.when(pl.int_range(pl.len()) % 10 == 0).then(pl.lit("crypto")).otherwise(pl.col("industry")).alias("industry"))
    assert features.drift_psi(profile, new)["industry"] > 0.25


def test_a_jump_in_empty_values_is_detected_for_numbers_flags_and_categories() -> None:
    f = frame()
    profile = features.drift_profile(f, COLUMNS)
    assert profile["features"]["employees"]["null"] == pytest.approx(0.04)
    emptied = f.with_columns(
        pl.when(pl.int_range(pl.len()) % 4 == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("employees", "is_free_mail", "industry")
    )
    psis = features.drift_psi(profile, emptied)
    assert psis["employees"] > 0.25 and psis["is_free_mail"] > 0.25 and psis["industry"] > 0.25


def test_a_count_that_is_mostly_zero_still_shows_a_rise() -> None:
    rng = np.random.default_rng(3)
    few = pl.DataFrame({"pricing_views_30d": (rng.random(3000) < 0.05).astype(np.int64)})
    many = pl.DataFrame({"pricing_views_30d": (rng.random(3000) < 0.30).astype(np.int64)})
    profile = features.drift_profile(few, ["pricing_views_30d"])
    assert profile["features"]["pricing_views_30d"]["edges"] == [0.0]  # zeros, and anything above
    assert features.drift_psi(profile, many)["pricing_views_30d"] > 0.25


def test_profile_shapes_and_the_top_ten_values() -> None:
    f = pl.DataFrame({"channel": [f"c{i:02d}" for i in range(15) for _ in range(15 - i)] + [None] * 5,
                      "flag": [True] * 60 + [False] * 60 + [None] * 5,
                      "n": list(range(120)) + [None] * 5})
    p = features.drift_profile(f, ["channel", "flag", "n"])
    assert p["rows"] == 125 and p["format"] == features.PROFILE_FORMAT
    channel = p["features"]["channel"]
    assert channel["kind"] == "categorical" and list(channel["values"]) == [f"c{i:02d}" for i in range(10)]
    assert channel["other"] == pytest.approx(sum(range(1, 6)) / 125, abs=1e-6) and channel["null"] == 0.04
    assert p["features"]["flag"] == {"kind": "boolean", "values": {"false": 0.48, "true": 0.48}, "other": 0.0, "null": 0.04}
    n = p["features"]["n"]
    assert n["kind"] == "numeric" and len(n["edges"]) == 9 and n["edges"] == sorted(n["edges"])
    assert len(n["shares"]) == len(n["edges"]) + 1
    assert sum(n["shares"]) + n["null"] == pytest.approx(1.0, abs=1e-5)


def test_a_constant_and_an_empty_number_have_degenerate_but_usable_bins() -> None:
    f = pl.DataFrame({"const": [0] * 50, "empty": pl.Series([None] * 50, dtype=pl.Float64)})
    p = features.drift_profile(f, ["const", "empty"])
    assert p["features"]["const"]["edges"] == [0.0] and p["features"]["empty"]["edges"] == []
    assert features.drift_psi(p, f) == {"const": pytest.approx(0.0), "empty": pytest.approx(0.0)}
    assert features.drift_psi(p, f.with_columns(pl.lit(3).alias("const")))["const"] > 0.25


def test_the_profile_round_trips_through_json_unchanged() -> None:
    f = frame()
    profile = features.drift_profile(f, COLUMNS)
    text = json.dumps(profile, sort_keys=True)
    assert json.dumps(features.drift_profile(f, COLUMNS), sort_keys=True) == text  # deterministic
    back = json.loads(text)
    assert json.dumps(back, sort_keys=True) == text
    assert features.drift_psi(back, frame(seed=2)) == features.drift_psi(profile, frame(seed=2))
    # plain floats, six places at most
    for spec in back["features"].values():
        for x in [*spec.get("edges", []), *spec.get("shares", []), *spec.get("values", {}).values(), spec["null"]]:
            assert isinstance(x, float) and round(x, 6) == x


def test_unprofiled_and_missing_columns() -> None:
    f = frame()
    profile = features.drift_profile(f, [*COLUMNS, "not_a_column"])
    assert "not_a_column" not in profile["features"] and "email" not in profile["features"]
    psis = features.drift_psi(profile, f.drop("industry"))  # a feature missing from the frame is skipped
    assert set(psis) == set(COLUMNS) - {"industry"}
    assert features.drift_psi(profile, f.head(0)) == {}


def test_the_model_features_are_profiled_and_the_profile_names_no_person() -> None:
    f = frame()
    profile = features.drift_profile(f, list(training.MODEL_FEATURES))
    assert set(profile["features"]) == set(COLUMNS) & set(training.MODEL_FEATURES)
    assert "example.com" not in json.dumps(profile)


def test_psi_is_the_one_used_by_score_drift() -> None:
    from leadgen_assets.defs.monitoring import assets as monitoring

    assert monitoring.psi is features.psi
    assert features.psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert features.psi([0.9, 0.1], [0.5, 0.5]) > 0.25
