"""Tests of the sample-world simulator: determinism, layout, truth consistency, realism."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from leadgen_assets.sim import CHANNELS, Drift, WorldConfig, generate_world
from leadgen_assets.sim import simulate_review_decisions, write_review_decisions
from leadgen_assets.sim.config import WORLD_SOURCES

DOC = Path(__file__).resolve().parents[2] / "docs" / "landing-zone.md"


# ----------------------------------------------------------------------------- helpers

def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def days_of(g) -> list[str]:
    return [g.cfg.day_str(i) for i in range(g.cfg.days)]


def read_csv(p: Path) -> pl.DataFrame:
    return pl.read_csv(p, infer_schema=False)


def form_rows(g) -> pl.DataFrame:
    """Every form row with its file (relative to landing) and physical line."""
    out = []
    for p in sorted((g.landing / "form_leads").rglob("*.csv")):
        df = read_csv(p)
        rel = str(p.relative_to(g.landing))
        idcol = df.columns[0]
        out.append(df.select(
            pl.lit(rel).alias("file"), (pl.int_range(pl.len()) + 2).alias("line"),
            pl.col(idcol).alias("record_id"),
            pl.lit(p.name.rsplit("-", 3)[0]).alias("channel"),
            pl.concat_str([pl.col(c).fill_null("") for c in df.columns], separator="|")
            .alias("raw"),
            *[pl.col(c).alias(f"c:{c}") for c in df.columns],
        ).with_columns(pl.col("line").cast(pl.Int64)))
    return pl.concat(out, how="diagonal")


def truth(g, name: str) -> pl.DataFrame:
    return pl.read_parquet(g.truth / f"{name}.parquet")


def email_col(df: pl.DataFrame) -> pl.Expr:
    cols = [c for c in df.columns if c.startswith("c:") and "mail" in c.lower()]
    return pl.coalesce([pl.col(c) for c in cols])


def full(col: pl.Series, pattern: str) -> bool:
    return bool(col.str.contains(f"^(?:{pattern})$").all())


def auc(score: np.ndarray, y: np.ndarray) -> float:
    r = pl.Series(score).rank("average").to_numpy()
    y = y.astype(bool)
    n1, n0 = y.sum(), (~y).sum()
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def doc_headers() -> dict[str, list[str]]:
    """Headers as docs/landing-zone.md lists them."""
    text = DOC.read_text()
    out = {}
    for m in re.finditer(r"^\s*\| `(\w+)` \| `([^`]+)` \|", text, re.M):
        key = f"form:{m.group(1)}" if f"form:{m.group(1)}" not in out else f"drift:{m.group(1)}"
        out[key] = m.group(2).split(",")  # first table: layouts; second: drifted layouts
    for name in ("accounts", "contacts", "opportunities", "users"):
        m = re.search(rf"- `{name}`: `([^`]+)`", text)
        out[f"crm:{name}"] = m.group(1).split(",")
    for key, first in (("ad_spend", "date,channel"), ("consent", "event_id,"),
                       ("review", "decision_id,")):
        m = re.search(rf"`({re.escape(first)}[^`]+)`", text)
        out[key] = m.group(1).split(",")
    return out


# ----------------------------------------------------------------------------- determinism

def test_same_seed_same_bytes_other_seed_differs(tiny, make_world):
    again = make_world(tiny.cfg, "tiny_again")
    assert digest(tiny.landing) == digest(again.landing)
    assert digest(tiny.truth) == digest(again.truth)
    other = make_world(dataclasses.replace(tiny.cfg, seed=8), "tiny_other")
    a, b = digest(tiny.landing), digest(other.landing)
    assert a.keys() == b.keys()
    assert sum(a[k] != b[k] for k in a) > len(a) // 2


def test_wipes_only_what_it_owns(tmp_path):
    cfg = WorldConfig.preset("small", seed=3, n_persons=120, days=3)
    landing, tr = tmp_path / "landing", tmp_path / "truth"
    (landing / "form_leads" / "1999-01-01").mkdir(parents=True)
    (landing / "form_leads" / "1999-01-01" / "stale.csv").write_text("x\n")
    (landing / "review_decisions" / "1999-01-01").mkdir(parents=True)
    (landing / "other_source").mkdir(parents=True)
    (landing / "other_source" / "keep.txt").write_text("keep")
    tr.mkdir()
    (tr / "notes.txt").write_text("keep")
    generate_world(cfg, landing, tr)
    assert not (landing / "form_leads" / "1999-01-01").exists()
    assert not (landing / "review_decisions").exists()
    assert (landing / "other_source" / "keep.txt").read_text() == "keep"
    assert (tr / "notes.txt").read_text() == "keep"


# ----------------------------------------------------------------------------- scale

def test_small_preset_scale_and_file_set(small):
    c, cfg = small.counts, small.cfg
    assert cfg.n_persons == 2000 and cfg.days == 30 and c["persons"] == 2000
    assert 1.7 <= c["form_rows"] / c["persons"] <= 2.3
    assert 17 <= c["web_events"] / c["persons"] <= 23
    assert 0.08 <= c["junk_form_rows"] / c["form_rows"] <= 0.12
    assert 0.15 <= c["crm_accounts_day1"] / c["accounts"] <= 0.25
    assert c["reps"] >= 6 and c["opportunities"] > 50 and c["consent_events"] > 20
    for d in days_of(small):
        names = {
            "web_events": [f"events-{d}-000.jsonl"],
            "form_leads": [f"{ch}-{d}.csv" for ch in CHANNELS],
            "crm_accounts": [f"accounts-{d}.csv"], "crm_contacts": [f"contacts-{d}.csv"],
            "crm_opportunities": [f"opportunities-{d}.csv"], "crm_users": [f"users-{d}.csv"],
            "enrichment": [f"enrichment-{d}.jsonl"], "ad_spend": [f"ad_spend-{d}.csv"],
            "consent_events": [f"consent-{d}.csv"],
        }
        assert set(names) == set(WORLD_SOURCES)
        for src, files in names.items():
            got = sorted(p.name for p in (small.landing / src / d).iterdir())
            assert got == sorted(files), (src, d)
    assert {p.name for p in small.truth.iterdir()} >= {
        "accounts.parquet", "persons.parquet", "records.parquet", "visitors.parquet",
        "leads.parquet", "world.json"}
    writes = [x for x in small.progress if x[0] == "write"]
    assert [x[1] for x in writes] == list(range(1, cfg.days + 1))


# ----------------------------------------------------------------------------- layout

def test_headers_match_the_doc(tiny):
    h = doc_headers()
    d = tiny.cfg.day_str(0)
    for ch in CHANNELS:
        got = (tiny.landing / "form_leads" / d / f"{ch}-{d}.csv").read_text().split("\n")[0]
        assert got.split(",") == h[f"form:{ch}"], ch
    for src, name, key in (("crm_accounts", "accounts", "crm:accounts"),
                           ("crm_contacts", "contacts", "crm:contacts"),
                           ("crm_opportunities", "opportunities", "crm:opportunities"),
                           ("crm_users", "users", "crm:users"), ("ad_spend", "ad_spend", "ad_spend"),
                           ("consent_events", "consent", "consent")):
        got = (tiny.landing / src / d / f"{name}-{d}.csv").read_text().split("\n")[0]
        assert got.split(",") == h[key], src


TIME_RE = {
    "google_ads": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
    "meta_lead_ads": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000",
    "linkedin": r"\d\d/\d\d/\d{4} \d\d:\d\d",
    "website": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d",
    "webinar": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
    "referral": r"\d{4}-\d\d-\d\d",
}
TIME_COL = {"google_ads": "Submitted At", "meta_lead_ads": "created_time",
            "linkedin": "Submitted On", "website": "submitted_at",
            "webinar": "Registration Time", "referral": "date"}
CRM_TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_time_formats_and_file_encoding(small):
    rows = form_rows(small)
    for ch in CHANNELS:
        col = rows.filter(pl.col("channel") == ch)[f"c:{TIME_COL[ch]}"]
        assert col.len() > 0 and full(col, TIME_RE[ch]), ch
    for p in (small.landing / "form_leads").rglob("*.csv"):
        b = p.read_bytes()
        assert not b.startswith(b"\xef\xbb\xbf") and b"\r" not in b and b.endswith(b"\n")
        assert b.count(b"\n") == read_csv(p).height + 1  # no embedded newlines
    opp = pl.concat([read_csv(p) for p in (small.landing / "crm_opportunities").rglob("*.csv")])
    assert full(opp["CreatedDate"], CRM_TS)
    assert full(opp["LastModifiedDate"], CRM_TS)
    assert full(opp["CloseDate"], r"\d{4}-\d\d-\d\d")
    assert set(opp["IsWon"].unique()) <= {"true", "false"}
    assert set(opp["StageName"]) <= {"Qualification", "Discovery", "Proposal", "Negotiation",
                                      "Closed Won", "Closed Lost"}
    d = small.cfg.day_str(5)
    lines = (small.landing / "web_events" / d / f"events-{d}-000.jsonl").read_text().splitlines()
    keys = ["messageId", "type", "anonymousId", "userId", "timestamp", "receivedAt", "event",
            "properties", "traits"]
    for line in lines:
        ev = json.loads(line)
        assert list(ev) == keys
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev["timestamp"])
        assert ev["type"] in ("page", "track", "identify")
        assert ev["anonymousId"].startswith("v-")
        if ev["type"] == "track":
            assert ev["event"] in ("Demo Requested", "Pricing Calculator Used",
                                   "Case Study Downloaded", "Contact Form Submitted",
                                   "Webinar Registered")
        if ev["type"] == "identify":
            assert "email" in ev["traits"]
    enr = (small.landing / "enrichment" / d / f"enrichment-{d}.jsonl").read_text().splitlines()
    assert enr and all(list(json.loads(x))[0] == "domain" for x in enr)


# ----------------------------------------------------------------------------- truth

def test_every_form_row_has_exactly_one_truth_row(small):
    rows = form_rows(small).select("file", "line", "record_id", "channel")
    rec = truth(small, "records").filter(pl.col("source") == "form_leads")
    assert rec.height == rows.height == small.counts["form_rows"]
    assert rec.select("file", "line").is_unique().all()
    j = rows.join(rec, on=["file", "line"], how="full", coalesce=True, suffix="_t")
    assert j["record_id_t"].null_count() == 0 and j["record_id"].null_count() == 0
    assert (j["record_id"] == j["record_id_t"]).all()
    assert (j["channel"] == j["channel_t"]).all()
    leads = truth(small, "leads")
    assert set(leads["record_id"]) == set(rows["record_id"])
    # every record id in the world is unique across channels
    assert rows["record_id"].is_unique().all()


def test_other_truth_records_point_at_real_lines(small):
    rec = truth(small, "records")
    for src in ("crm_contacts", "consent_events"):
        r = rec.filter(pl.col("source") == src)
        assert r.height > 0
        for f, grp in r.group_by("file"):
            df = read_csv(small.landing / f[0])
            ids = df[df.columns[0]].to_list()
            for line, rid in grp.select("line", "record_id").iter_rows():
                assert ids[line - 2] == rid
    ident = rec.filter(pl.col("source") == "web_events")
    assert ident.height == small.counts["identify_events"]
    for f, grp in ident.group_by("file"):
        lines = (small.landing / f[0]).read_text().splitlines()
        for line, rid in grp.select("line", "record_id").iter_rows():
            ev = json.loads(lines[line - 1])
            assert ev["messageId"] == rid and ev["type"] == "identify"


def test_website_anonymous_id_maps_to_the_same_person(small):
    rows = form_rows(small).filter(pl.col("channel") == "website")
    rec = truth(small, "records").filter(pl.col("source") == "form_leads")
    vis = truth(small, "visitors")
    j = (rows.select("file", "line", pl.col("c:anonymous_id").alias("anonymous_id"))
         .join(rec, on=["file", "line"]).join(vis, on="anonymous_id", how="left",
                                              suffix="_v"))
    assert j.height == rows.height > 0
    assert (j["true_person_id"] == j["true_person_id_v"]).all()


def test_won_opportunities_belong_to_converted_persons(small):
    opp = pl.concat([read_csv(p) for p in (small.landing / "crm_opportunities").rglob("*.csv")])
    won = opp.filter(pl.col("StageName") == "Closed Won")
    assert won.height > 0
    contacts = (truth(small, "records").filter(pl.col("source") == "crm_contacts")
                .select(pl.col("record_id").alias("ContactId"), "true_person_id").unique())
    persons = truth(small, "persons")
    j = won.join(contacts, on="ContactId", how="left").join(persons, on="true_person_id",
                                                            how="left")
    assert j["true_person_id"].null_count() == 0
    assert j["converted"].all() and not j["is_junk"].any()


def test_junk_never_converts_and_leads_truth(small):
    leads = truth(small, "leads")
    assert not leads.filter(pl.col("is_junk"))["converted"].any()
    assert (leads.filter(pl.col("is_junk"))["p_convert"] == 0).all()
    won = leads.filter(pl.col("converted"))
    assert won["won_at"].null_count() == 0
    assert (won["won_at"] > won["created_at"]).all()
    p = truth(small, "persons")
    assert not p.filter(pl.col("is_junk"))["converted"].any()
    assert set(p["junk_kind"].drop_nulls()) == {"spam", "test", "competitor", "student"}


def test_oracle_auc_conversion_rate_and_channels(small):
    leads = truth(small, "leads").filter(~pl.col("is_junk"))
    first = leads.filter(pl.col("first_of_person"))
    rate = first["converted"].mean()
    assert 0.05 <= rate <= 0.11
    a = auc(first["p_convert"].to_numpy(), first["converted"].to_numpy())
    assert 0.75 <= a <= 0.92
    by = dict(leads.group_by("channel").agg(pl.col("converted").mean()).iter_rows())
    assert by["referral"] > 2 * by["meta_lead_ads"]
    assert max(by.values()) / min(by.values()) > 2


# ----------------------------------------------------------------------------- realism

def _canon_gmail(e: pl.Expr) -> pl.Expr:
    local = e.str.split("@").list.get(0).str.split("+").list.get(0).str.replace_all(".", "",
                                                                                   literal=True)
    return local + pl.lit("@gmail.com")


def test_gmail_variants_and_spelling_variation(small):
    rows = form_rows(small)
    rows = rows.with_columns(email=email_col(rows).str.strip_chars().str.to_lowercase())
    rec = truth(small, "records").filter(pl.col("source") == "form_leads")
    j = rows.join(rec.select("file", "line", "true_person_id"), on=["file", "line"])
    g = j.filter(pl.col("email").str.ends_with("@gmail.com")).with_columns(
        canon=_canon_gmail(pl.col("email")))
    per = g.group_by("true_person_id", "canon").agg(pl.col("email").n_unique().alias("n"))
    assert per.filter(pl.col("n") >= 2).height >= 1
    assert g["email"].str.contains(r"\+", literal=False).any()
    # the same person shows up with >= 2 distinct raw spellings of name/email
    spell = j.with_columns(
        name=pl.coalesce([pl.col(c) for c in j.columns if c in (
            "c:Full Name", "c:full_name", "c:name")]).fill_null("")
        + pl.coalesce([pl.col(c) for c in j.columns if c in (
            "c:First Name", "c:first_name")]).fill_null(""))
    n = spell.group_by("true_person_id").agg(pl.col("name").n_unique())
    assert n.filter(pl.col("name") >= 2).height >= 10


def test_late_web_events_exist(small):
    late = 0
    for d in days_of(small)[3:6]:
        for line in (small.landing / "web_events" / d / f"events-{d}-000.jsonl").open():
            if json.loads(line)["timestamp"][:10] < d:
                late += 1
    assert late > 0
    assert small.counts["late_web_events"] > 0.01 * small.counts["web_events"]


def test_role_addresses_shared_and_placeholder_phones(small):
    rows = form_rows(small)
    rows = rows.with_columns(email=email_col(rows).str.strip_chars().str.to_lowercase())
    rec = truth(small, "records").filter(pl.col("source") == "form_leads")
    persons = truth(small, "persons").select("true_person_id", "is_junk")
    j = rows.join(rec.select("file", "line", "true_person_id"), on=["file", "line"]) \
        .join(persons, on="true_person_id")
    role = j.filter(pl.col("email").str.contains(r"^(info|sales|office|admin)@"))
    shared = role.group_by("email").agg(pl.col("true_person_id").n_unique().alias("n"))
    assert shared.filter(pl.col("n") >= 2).height >= 1
    assert 0.01 <= role.height / j.height <= 0.06
    phone_cols = [c for c in j.columns if c.startswith("c:") and "phone" in c.lower()]
    ph = j.with_columns(phone=pl.coalesce([pl.col(c) for c in phone_cols]))
    placeholder = ph.filter(pl.col("phone") == "555-555-5555")
    assert placeholder.height >= 5 and placeholder["is_junk"].all()
    assert placeholder["true_person_id"].n_unique() >= 3


# ----------------------------------------------------------------------------- drift

def test_form_layout_drift_changes_header_from_start_day(make_world, tiny):
    cfg = dataclasses.replace(tiny.cfg, drift=Drift(kind="form_layout", channel="google_ads",
                                                    start_day=4))
    g = make_world(cfg, "layout_drift")
    base = doc_headers()["form:google_ads"]
    for i, d in enumerate(days_of(g)):
        for ch in CHANNELS:
            head = (g.landing / "form_leads" / d / f"{ch}-{d}.csv").read_text().split("\n")[0]
            if ch == "google_ads" and i >= 4:
                cols = head.split(",")
                assert cols != base and "E-mail Address" in cols and "Email" not in cols
                assert cols == doc_headers()["drift:google_ads"]
                assert len(cols) == len(base) + 1
            else:
                assert head.split(",") == doc_headers()[f"form:{ch}"]
    # the truth still matches the rows
    rec = truth(g, "records").filter(pl.col("source") == "form_leads")
    assert rec.height == form_rows(g).height
    assert json.loads((g.truth / "world.json").read_text())["drift"]["kind"] == "form_layout"


def test_channel_quality_drift_lowers_that_channel(quality_drift):
    base, drifted = quality_drift

    def stats(g):
        lf = truth(g, "leads").filter(pl.col("channel") == "meta_lead_ads")
        after = lf.filter(pl.col("day") >= 12)
        first = after.filter(~pl.col("is_junk") & pl.col("first_of_person"))
        return after["is_junk"].mean(), first["p_convert"].mean(), first["converted"].mean()

    junk0, p0, c0 = stats(base)
    junk1, p1, c1 = stats(drifted)
    assert junk1 > 2 * junk0
    assert p1 < 0.4 * p0 and c1 < c0
    before = truth(drifted, "leads").filter((pl.col("channel") == "meta_lead_ads")
                                           & (pl.col("day") < 12))
    assert before["is_junk"].mean() < 1.6 * junk0


# ----------------------------------------------------------------------------- review

def test_review_decisions(small, tmp_path):
    leads = truth(small, "leads")
    q = leads.filter(pl.col("day") == 3).select(
        pl.concat_str([pl.col("channel"), pl.col("record_id")], separator=":").alias("lead_id"))
    q = pl.concat([q, pl.DataFrame({"lead_id": ["not-a-lead"]})])
    out = simulate_review_decisions(q, small.truth, small.cfg.day_str(3))
    assert out.columns == doc_headers()["review"]
    assert out.height == q.height - 1
    assert set(out["verdict"]) <= {"accept", "reject", "reroute"}
    j = out.with_columns(record_id=pl.col("lead_id").str.split(":").list.get(1)).join(
        leads.select("record_id", "is_junk"), on="record_id")
    assert (j.filter(pl.col("is_junk"))["verdict"] == "reject").all()
    assert (j.filter(~pl.col("is_junk"))["verdict"] == "accept").any()
    again = simulate_review_decisions(q.reverse(), small.truth, 3)
    assert set(again.select("lead_id", "verdict").iter_rows()) == \
        set(out.select("lead_id", "verdict").iter_rows())
    p = write_review_decisions(out, tmp_path, small.cfg.day_str(3))
    assert p == tmp_path / "review_decisions" / "2026-06-04" / "decisions-2026-06-04.csv"
    assert read_csv(p).height == out.height


def test_config_presets_and_validation():
    from leadgen_assets.sim import PRESETS
    assert PRESETS["medium"].n_persons == 100_000 and PRESETS["medium"].days == 60
    assert PRESETS["large"].n_persons == 1_000_000 and PRESETS["large"].days == 90
    cfg = WorldConfig.preset("small", seed=7)
    assert cfg.seed == 7 and dataclasses.is_dataclass(cfg)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        Drift(kind="nope", start_day=1)
    assert Drift(kind="form_layout", start_day=2).channel == "google_ads"
    d = WorldConfig.from_dict(json.loads(json.dumps(dataclasses.replace(
        cfg, drift=Drift(kind="channel_quality", start_day=5)).to_dict())))
    assert d.drift == Drift(kind="channel_quality", start_day=5, channel="meta_lead_ads")
