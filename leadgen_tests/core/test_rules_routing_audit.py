from pathlib import Path

import polars as pl
import pytest

from leadgen_assets.core import audit, routing, rules


def features(**overrides) -> pl.DataFrame:
    base = {
        "lead_id": "l1", "company_domain": "acme-it.com", "industry": "Healthcare", "employees": 120,
        "service_needed": "Managed IT", "budget": "5k-20k", "is_senior_title": True, "is_free_mail": False,
        "timeline": "ASAP", "demo_requested": True, "pricing_views_30d": 3, "engagement_decayed": 4.0,
        "case_study_views_30d": 1, "account_engaged_people_30d": 2, "prior_leads_90d": 0,
        "is_test": False, "is_student": False, "is_gibberish": False, "is_spam_like": False, "phone_is_placeholder": False,
    }
    base.update(overrides)
    return pl.DataFrame([base])


def test_rule_model_points_grade_and_reasons() -> None:
    model = rules.load()
    hot = rules.score(features(), model).row(0, named=True)
    assert hot["fit_points"] == 100 and hot["engagement_points"] == 85
    assert hot["grade"] == "A1" and not hot["disqualified"]
    # the top three contributions, largest first; ties keep config order (fit before engagement)
    assert hot["reasons"] == ["Company size in the 20-500 sweet spot", "Requested a demo", "Works in a target industry"]
    full = rules.score(features(), model, top_reasons=20).row(0, named=True)["reasons"]
    assert "Viewed pricing 3x in 30 days" in full and len(full) == 12
    cold = rules.score(
        features(industry="Retail", employees=2, service_needed=None, budget=None, is_senior_title=False,
                 is_free_mail=True, timeline=None, demo_requested=False, pricing_views_30d=0,
                 engagement_decayed=0.0, case_study_views_30d=0, account_engaged_people_30d=0),
        model,
    ).row(0, named=True)
    assert cold["points"] == 0 and cold["grade"] == "D4" and cold["reasons"] == []
    assert 0 < cold["probability"] < hot["probability"] < 1


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"is_test": True}, "Test submission"),
        ({"company_domain": "bluecoreit.com"}, "Competitor"),
        ({"is_spam_like": True}, "Spam: throwaway domain and never visited the website"),
        ({"phone_is_placeholder": True}, "Placeholder phone number shared by many leads"),
    ],
)
def test_disqualifiers_zero_the_probability(override, reason) -> None:
    row = rules.score(features(**override), rules.load()).row(0, named=True)
    assert row["disqualified"] and reason in row["disqualify_reasons"] and row["probability"] == 0.0


def test_bad_rule_config_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "rules.toml"
    cfg.write_text('[[fit]]\nfeature = "x"\npoints = -5\nequals = 1\nreason = "r"\n[grades]\nfit=[[0,"D"]]\nengagement=[[0,"4"]]\n[probability]\nintercept=0\nper_point=0\n')
    with pytest.raises(rules.RuleConfigError, match="must not be negative"):
        rules.load(cfg)


def scored(lead_id, **kw) -> dict:
    row = {"lead_id": lead_id, "person_id": "p" + lead_id, "grade": "A1", "probability": 0.6, "disqualified": False,
           "disqualify_reasons": [], "employees": 30, "country": "US", "region": "CA", "crm_owner_id": None,
           "is_suppressed": False}
    row.update(kw)
    return row


REPS = pl.DataFrame(
    [("u1", "US-West", "SMB", 2, True), ("u2", "US-West", "SMB", 2, True), ("u3", "US-West", "SMB", 9, False),
     ("u4", "US-East", "Mid-Market", 5, True)],
    schema=["user_id", "territory", "segment", "daily_capacity", "is_active"], orient="row",
)


def test_routing_order_and_capacity() -> None:
    leads = pl.DataFrame([
        scored("a"), scored("b"), scored("c"), scored("d"), scored("e"),  # five West SMB leads, capacity 4
        scored("s", is_suppressed=True),
        scored("q", disqualified=True, disqualify_reasons=["Student"]),
        scored("o", crm_owner_id="u4", region="NY", employees=200),
        scored("x", crm_owner_id="u3"),  # owner inactive -> review
        scored("u", grade="D1", probability=0.15),  # engaged, poor fit -> review
        scored("n", grade="D4", probability=0.05),
    ])
    out = {r["lead_id"]: r for r in routing.route(leads, REPS, routing.load()).iter_rows(named=True)}
    assert out["s"]["decision"] == "suppressed" and out["s"]["owner_id"] is None
    assert out["q"]["decision"] == "disqualified"
    assert (out["o"]["decision"], out["o"]["owner_id"], out["o"]["route_reason"]) == ("routed", "u4", "existing account owner")
    assert (out["x"]["decision"], out["x"]["route_reason"]) == ("review", "account owner is inactive")
    assert (out["u"]["decision"], out["u"]["route_reason"]) == ("review", "uncertain: engaged but outside the target profile")
    assert (out["n"]["decision"], out["n"]["cadence"]) == ("nurture", "marketing_nurture")
    west = [out[k] for k in "abcde"]
    owners = [r["owner_id"] for r in west if r["decision"] == "routed"]
    assert sorted(owners) == ["u1", "u1", "u2", "u2"]  # round-robin, never over capacity, never inactive u3
    overflow = [r for r in west if r["decision"] == "overflow"]
    assert [(r["route_reason"], r["owner_id"]) for r in overflow] == [("no rep with capacity in territory and segment", None)]


def test_a_wide_model_interval_sends_a_lead_to_review() -> None:
    leads = pl.DataFrame([
        scored("w", probability_low=0.2, probability_high=0.7),   # the model is unsure
        scored("t", probability_low=0.5, probability_high=0.65),  # sure enough: routed
        scored("r", probability_low=None, probability_high=None),  # the rule model: no interval
        scored("m", grade="D4", probability=0.05, probability_low=0.0, probability_high=0.5),  # nurture needs no review
    ], schema_overrides={"probability_low": pl.Float64, "probability_high": pl.Float64, "disqualify_reasons": pl.List(pl.Utf8)})
    out = {r["lead_id"]: r for r in routing.route(leads, REPS, routing.load()).iter_rows(named=True)}
    assert (out["w"]["decision"], out["w"]["route_reason"]) == ("review", "uncertain: the model's interval is wide")
    assert out["t"]["decision"] == "routed" and out["r"]["decision"] == "routed"
    assert out["m"]["decision"] == "nurture"


def test_audit_chain_detects_tampering() -> None:
    rows = list(audit.chain(({"action": "route", "subject": f"l{i}"} for i in range(5)), audit.GENESIS, 1))
    assert audit.verify(rows) == (5, None)
    rows[2] = {**rows[2], "subject": "someone else"}
    assert audit.verify(rows) == (2, 3)
    assert audit.verify(rows[:2] + rows[3:])[1] == 4  # a removed entry breaks the chain too


def test_feature_docs_are_current() -> None:
    from leadgen_assets import settings
    from leadgen_assets.core.features import catalogue_markdown

    doc = settings.repo_root() / "docs" / "features.md"
    assert doc.read_text() == catalogue_markdown(), "docs/features.md is stale: run `leadgen docs`"


def test_every_rule_names_a_known_feature() -> None:
    from leadgen_assets.core.features import FEATURES

    known = {f.name for f in FEATURES} | {"is_competitor"}
    assert {r.feature for r in rules.load().rules} <= known
