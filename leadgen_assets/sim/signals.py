"""Side signals: consent events, enrichment provider records, ad spend."""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

from . import names as N
from . import variation as V
from .behaviour import CH, Leads
from .config import PAID_CHANNELS, Streams, WorldConfig, mix64
from .entities import INDUSTRY_NAMES, frame, Accounts, Persons, employee_range
from .timeutil import DAY, ISO_Z, epoch, fmt_epoch

CONSENT_HEADER = ["event_id", "occurred_at", "email", "phone", "event_type", "source"]
CONSENT_TYPES = ("unsubscribe", "do_not_contact", "erasure_request")
AD_SPEND_HEADER = ["date", "channel", "campaign_id", "campaign_name", "impressions", "clicks",
                   "spend", "currency"]
ENRICHMENT_FIELDS = ["domain", "company_name", "industry", "employee_count", "employee_range",
                     "country", "region", "city", "founded_year", "annual_revenue_usd",
                     "confidence", "fetched_at"]
# cost per lead, cost per click, click-through rate per paid channel
CPL = {"google_ads": 120.0, "meta_lead_ads": 38.0, "linkedin": 240.0, "webinar": 75.0}
CPC = {"google_ads": 6.5, "meta_lead_ads": 1.4, "linkedin": 9.0, "webinar": 2.2}
CTR = {"google_ads": 0.045, "meta_lead_ads": 0.012, "linkedin": 0.006, "webinar": 0.009}
REVENUE_PER_EMPLOYEE = 140_000


# ============================================================================ consent

def make_consent(cfg: WorldConfig, rs: Streams, P: Persons, L: Leads, rows: pl.DataFrame
                 ) -> pl.DataFrame:
    """~2.5 % of persons unsubscribe / ask not to be contacted / ask for erasure.

    The identifier is an address as the person types it; for people with both a work
    and a personal address it is often the one they did *not* use on their first lead.
    """
    rng = rs("consent")
    T0 = epoch(cfg.start)
    n_real = P.n_real
    seen = np.zeros(n_real, bool)
    seen[L.person[L.person < n_real]] = True
    share = min(1.0, cfg.consent_share * cfg.n_persons / max(n_real, 1))
    # mostly people we have met (leads), a few others
    pick = rng.random(n_real) < np.where(seen, share * 1.15, share * 0.4)
    who = np.flatnonzero(pick)
    t0 = L.t0[who]
    t = np.where(t0 >= 0, t0 + (rng.exponential(6, who.size) * DAY).astype(np.int64) + 3600,
                 T0 + rng.integers(0, cfg.days * DAY, who.size))
    keep = t < T0 + cfg.days * DAY
    who, t = who[keep], t[keep]
    n = who.size
    etype = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    ident = rng.choice(3, size=n, p=[0.65, 0.15, 0.20])  # email / phone / both
    # which address: the first lead's one, or the other one
    first = rows.filter(pl.col("first")).select("person", "src")
    src_first = np.full(P.n, -1)
    src_first[first["person"].to_numpy()] = first["src"].to_numpy()
    both = P.email_mode[who] == 1
    other = both & (rng.random(n) < 0.5)
    use_work = np.where(P.email_mode[who] == 0, True, np.where(P.email_mode[who] == 2, False,
                        np.where(other, src_first[who] != 0, src_first[who] == 0)))
    moved = P.moved[who] & (t >= P.move_t[who])
    work = pl.select(pl.when(pl.Series(moved)).then(P.new_work_email.gather(who))
                     .otherwise(P.work_email.gather(who))).to_series()
    df = frame({
        "t": t, "person": who, "work": work, "personal": P.personal_email.gather(who),
        "use_work": use_work, "nat": P.phone_nat.gather(who), "k": P.phone_kind[who],
        "ident": ident, "etype": np.array(CONSENT_TYPES)[etype],
        "r0": rng.random(n), "r1": rng.random(n), "r2": rng.random(n), "r3": rng.random(n),
        "f": rng.integers(0, 8, n), "other": other & (ident != 1),
    }).sort("t", "person")
    email = pl.when(pl.col("use_work")).then(pl.col("work")).otherwise(
        V.gmail_variant(pl.col("personal"), pl.col("r0"), pl.col("r1"),
                        V.pick(N.PLUS_TAGS, pl.col("r2")), 0.3))
    src = (pl.when(pl.col("ident") == 1).then(pl.lit("phone_call"))
           .otherwise(V.pick(("email_link", "email_link", "preference_center", "support_ticket",
                              "crm_manual"), pl.col("r3"))))
    df = df.with_columns(
        event_id=pl.lit("ce-") + pl.Series(
            np.frombuffer(mix64(np.arange(n), cfg.seed + 29).astype(">u8").tobytes().hex()
                          .encode(), dtype="S16")).cast(pl.String).str.slice(0, 12)
        if n else pl.lit("", pl.String),
        occurred_at=fmt_epoch("t", ISO_Z),
        email=pl.when(pl.col("ident") == 1).then(None).otherwise(
            V.vary_case(email, pl.col("r3"), 0.0, 0.03, 0.05)),
        phone=pl.when(pl.col("ident") == 0).then(None).otherwise(
            V.phone_format(pl.col("nat"), pl.col("k"), pl.col("f"))),
        event_type=pl.col("etype"), source=src,
    )
    return df.with_columns(day=((pl.col("t") - T0) // DAY))


# ============================================================================ enrichment

def make_enrichment(cfg: WorldConfig, rs: Streams, acc: Accounts, rows: pl.DataFrame
                    ) -> pl.DataFrame:
    """Provider records for company domains first seen in each day's form leads."""
    rng = rs("enrichment")
    T0 = epoch(cfg.start)
    # work domains per row: work / role address -> the account domain; competitors and
    # students -> their (junk) domain. Free-mail and spam domains are not looked up.
    dom = rows.select(
        "day",
        pl.when(pl.col("src").is_in([0, 2])).then(pl.col("account"))
        .otherwise(pl.lit(-1)).alias("a"),
        pl.when(pl.col("kind").is_in([2, 3])).then(pl.col("personal").str.split("@").list.get(-1))
        .otherwise(None).alias("junk_domain"),
    )
    first_acc = (dom.filter(pl.col("a") >= 0).group_by("a").agg(pl.col("day").min())
                 .sort("a"))
    a = first_acc["a"].to_numpy()
    d = first_acc["day"].to_numpy()
    covered = (mix64(a, cfg.seed + 41) % np.uint64(1000)) < np.uint64(int(cfg.enrichment_coverage * 1000))
    a, d = a[covered], d[covered]
    # some domains come back later with other values
    again = rng.random(a.size) < 0.12
    d2 = d[again] + rng.integers(3, 26, again.sum())
    ok2 = d2 < cfg.days
    ra = np.concatenate([a, a[again][ok2]])
    rd = np.concatenate([d, d2[ok2]])
    n = ra.size
    emp_true = acc.employees[ra]
    conflict = rng.random(n) < 0.05
    emp = np.round(emp_true * np.exp(rng.normal(0, 0.25, n)))
    emp = np.where(conflict & (rng.random(n) < 0.5),
                   np.round(emp_true * np.where(rng.random(n) < 0.5, 4.0, 0.25)), emp)
    emp = np.maximum(emp, 1).astype(np.int64)
    ind = acc.industry[ra].copy()
    flip = conflict & (rng.random(n) >= 0.5)
    ind[flip] = (ind[flip] + 1 + rng.integers(0, len(INDUSTRY_NAMES) - 1, flip.sum())) % len(INDUSTRY_NAMES)
    null = rng.random((n, 6)) < 0.1
    rev = np.round(emp * REVENUE_PER_EMPLOYEE * np.exp(rng.normal(0, 0.4, n)), -5).astype(np.int64)
    iso = {"US": "US", "CA": "CA", "GB": "GB"}
    df = frame({
        "day": rd, "domain": np.array(acc.domain, dtype=object)[ra],
        "company_name": np.array(acc.base_name, dtype=object)[ra],
        "industry": np.where(null[:, 0], None, np.array(INDUSTRY_NAMES, dtype=object)[ind]),
        "employee_count": pl.Series(emp).set(pl.Series(null[:, 1]), None) if n else [],
        "employee_range": np.where(null[:, 1], None, employee_range(emp).astype(object)),
        "country": np.array([iso[c] for c in acc.country[ra]], dtype=object),
        "region": np.where(null[:, 2], None, acc.region[ra].astype(object)),
        "city": np.where(null[:, 3], None, acc.city_name[ra].astype(object)),
        "founded_year": pl.Series(rng.integers(1950, 2024, n)).set(pl.Series(null[:, 4]), None)
        if n else [],
        "annual_revenue_usd": pl.Series(rev).set(pl.Series(null[:, 5]), None) if n else [],
        "confidence": np.round(np.where(conflict, rng.uniform(0.35, 0.7, n),
                                        rng.uniform(0.6, 0.99, n)), 2),
        "t": T0 + rd * DAY + 20 * 3600 + rng.integers(0, 4 * 3600 - 1, n),
    }, schema_overrides={"domain": pl.String, "company_name": pl.String, "industry": pl.String,
                         "employee_count": pl.Int64, "employee_range": pl.String,
                         "country": pl.String, "region": pl.String, "city": pl.String,
                         "founded_year": pl.Int64, "annual_revenue_usd": pl.Int64})
    # competitor and university domains the provider knows
    jd = (dom.filter(pl.col("junk_domain").is_not_null()).group_by("junk_domain")
          .agg(pl.col("day").min()).sort("junk_domain"))
    known = {d_: (name, "Technology", 120) for name, d_ in N.COMPETITORS}
    known.update({d_: (name, "Education", 900) for name, d_ in N.UNIVERSITIES})
    jd = jd.filter(pl.col("junk_domain").is_in(list(known)))
    if jd.height:
        jn = jd.height
        extra = frame({
            "day": jd["day"], "domain": jd["junk_domain"],
            "company_name": [known[x][0] for x in jd["junk_domain"]],
            "industry": [known[x][1] for x in jd["junk_domain"]],
            "employee_count": [known[x][2] for x in jd["junk_domain"]],
            "employee_range": [employee_range(np.array([known[x][2]]))[0] for x in jd["junk_domain"]],
            "country": ["US"] * jn, "region": [None] * jn, "city": [None] * jn,
            "founded_year": [None] * jn, "annual_revenue_usd": [None] * jn,
            "confidence": [0.9] * jn,
            "t": (T0 + jd["day"].to_numpy() * DAY + 20 * 3600 + rng.integers(0, 3600, jn)),
        }, schema=df.schema)
        df = pl.concat([df, extra])
    return df.with_columns(fetched_at=fmt_epoch("t", ISO_Z)).sort(["day", "t", "domain"])


# ============================================================================ ad spend

def make_ad_spend(cfg: WorldConfig, rs: Streams, rows: pl.DataFrame) -> pl.DataFrame:
    """Rows per paid channel x campaign x day; spend tracks the leads each campaign got."""
    rng = rs("ad_spend")
    paid = rows.filter(pl.col("ch").is_in([CH[c] for c in PAID_CHANNELS]))
    counts = paid.group_by("day", "ch", "campaign").len().sort("day", "ch", "campaign")
    cnt = {(int(d), int(c), k): int(v) for d, c, k, v in counts.iter_rows()}
    out = []
    scale = cfg.n_persons / 2000
    for day in range(cfg.days):
        for c in PAID_CHANNELS:
            for j, camp in enumerate(N.CAMPAIGNS[c]):
                leads = cnt.get((day, CH[c], camp), 0)
                spend = (leads * CPL[c] * rng.lognormal(0, 0.2)
                         + scale * CPL[c] * 0.3 * rng.random())
                clicks = max(int(round(spend / CPC[c] * rng.lognormal(0, 0.1))), leads)
                imps = int(round(clicks / CTR[c] * rng.lognormal(0, 0.15)))
                out.append((cfg.day_str(day), c, f"{hash_str(c + camp) % 10**10:010d}", camp,
                            imps, clicks, f"{spend:.2f}", "USD", day))
    return pl.DataFrame(out, schema=AD_SPEND_HEADER + ["day"], orient="row")


def hash_str(s: str) -> int:
    """Stable string hash (crc32), unlike the salted built-in hash()."""
    return zlib.crc32(s.encode())
