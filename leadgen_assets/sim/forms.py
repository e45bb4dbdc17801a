"""Form submissions as the platforms export them: typed values and per-channel layouts."""

from __future__ import annotations

import numpy as np
import polars as pl

from . import names as N
from . import variation as V
from .behaviour import CH, Leads, Web
from .config import CHANNELS, Streams, WorldConfig, mix64
from .entities import _CITY, EMAIL_FREE, EMAIL_WORK, INDUSTRY_NAMES, Accounts, Persons, \
    employee_range
from .timeutil import fmt_epoch, fmt_offset, utc_offset_minutes

# --------------------------------------------------------------------------- layouts
# header (in file order) -> internal field, exactly as docs/landing-zone.md lists them.
LAYOUTS: dict[str, dict[str, str]] = {
    "google_ads": {
        "Lead ID": "record_id", "Campaign": "campaign", "Submitted At": "time",
        "Full Name": "full_name", "Email": "email", "Phone Number": "phone",
        "Company Name": "company", "Job Title": "title", "Postal Code": "postal",
        "Country": "country", "Service Needed": "service", "Budget": "budget",
        "Timeline": "timeline"},
    "meta_lead_ads": {
        "id": "record_id", "created_time": "time", "ad_name": "ad_name",
        "campaign_name": "campaign", "form_name": "form_name", "full_name": "full_name",
        "email": "email", "phone_number": "phone", "company_name": "company",
        "job_title": "title", "city": "city", "country": "country",
        "what_service_are_you_interested_in": "service"},
    "linkedin": {
        "Lead ID": "record_id", "Submitted On": "time", "Campaign Name": "campaign",
        "First Name": "first_name", "Last Name": "last_name", "Email Address": "email",
        "Phone": "phone", "Company": "company", "Job Title": "title",
        "Company Size": "company_size", "Industry": "industry", "Country/Region": "country"},
    "website": {
        "submission_id": "record_id", "submitted_at": "time", "page_url": "page_url",
        "first_name": "first_name", "last_name": "last_name", "email": "email",
        "phone": "phone", "company": "company", "website": "website",
        "employees": "employees", "service": "service", "budget": "budget",
        "timeline": "timeline", "message": "message", "anonymous_id": "anonymous_id",
        "utm_source": "utm_source", "utm_campaign": "utm_campaign"},
    "webinar": {
        "Registrant ID": "record_id", "Registration Time": "time", "Webinar": "campaign",
        "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Organization": "company", "Job Title": "title", "Phone": "phone",
        "Attended": "attended", "Minutes Attended": "minutes", "Country": "country"},
    "referral": {
        "referral_id": "record_id", "date": "time", "referred_by": "referred_by",
        "name": "full_name", "email": "email", "phone": "phone", "company": "company",
        "notes": "notes", "service": "service"},
}

# The changed layouts of a form_layout drift (from drift.start_day on): two or three
# renamed columns, one new column, and a different column order. Time formats unchanged.
DRIFTED_LAYOUTS: dict[str, dict[str, str]] = {
    "google_ads": {
        "Lead ID": "record_id", "Submitted At": "time", "Campaign": "campaign",
        "Ad Group": "ad_group", "Full Name": "full_name", "E-mail Address": "email",
        "Phone": "phone", "Company Name": "company", "Job Title": "title",
        "Zip Code": "postal", "Country": "country", "Service Needed": "service",
        "Budget": "budget", "Timeline": "timeline"},
    "meta_lead_ads": {
        "id": "record_id", "created_time": "time", "campaign_name": "campaign",
        "adset_name": "adset_name", "ad_name": "ad_name", "form_name": "form_name",
        "full_name": "full_name", "email_address": "email", "phone": "phone",
        "company_name": "company", "job_title": "title", "city": "city", "country": "country",
        "which_service_do_you_need": "service"},
    "linkedin": {
        "Lead ID": "record_id", "Submitted On": "time", "Lead Form": "lead_form",
        "Campaign Name": "campaign", "Email": "email", "First Name": "first_name",
        "Last Name": "last_name", "Phone Number": "phone", "Company Name": "company",
        "Job Title": "title", "Company Size": "company_size", "Industry": "industry",
        "Country/Region": "country"},
    "website": {
        "submission_id": "record_id", "submitted_at": "time", "anonymous_id": "anonymous_id",
        "page_url": "page_url", "email_address": "email", "first_name": "first_name",
        "last_name": "last_name", "phone_number": "phone", "company": "company",
        "website": "website", "employees": "employees", "service": "service",
        "budget": "budget", "timeline": "timeline", "message": "message",
        "utm_source": "utm_source", "utm_medium": "utm_medium", "utm_campaign": "utm_campaign"},
    "webinar": {
        "Registrant ID": "record_id", "Registration Time": "time", "Webinar": "campaign",
        "Email Address": "email", "First Name": "first_name", "Last Name": "last_name",
        "Company": "company", "Job Title": "title", "Phone Number": "phone",
        "Attended": "attended", "Minutes Attended": "minutes", "Country": "country",
        "Source": "source"},
    "referral": {
        "referral_id": "record_id", "date": "time", "referred_by": "referred_by",
        "referrer_email": "referrer_email", "name": "full_name", "email_address": "email",
        "phone": "phone", "company": "company", "service": "service", "notes": "notes"},
}

# Time formats (the row's UTC time; website: the visitor's local time with its offset).
TIME_FORMATS = {
    "google_ads": "%Y-%m-%d %H:%M:%S", "meta_lead_ads": "%Y-%m-%dT%H:%M:%S+0000",
    "linkedin": "%m/%d/%Y %H:%M", "website": "%Y-%m-%dT%H:%M:%S",
    "webinar": "%Y-%m-%d %H:%M:%S UTC", "referral": "%Y-%m-%d",
}

# P(work address) per channel for people who have both a work and a personal address.
P_WORK = np.array([0.55, 0.30, 0.85, 0.75, 0.50, 0.80])
P_PHONE_MISSING = np.array([0.25, 0.05, 0.55, 0.35, 0.40, 0.30])
P_COMPANY_MISSING = np.array([0.10, 0.15, 0.0, 0.05, 0.08, 0.06])
P_TITLE_MISSING = np.array([0.25, 0.30, 0.0, 0.0, 0.10, 0.0])
P_E164 = np.array([0.10, 0.70, 0.05, 0.08, 0.10, 0.05])  # platform-normalised phones
ROLE_ROW_P = 0.3        # rows of a role-address account's persons that use it
ROLE_ACCOUNT_P = 0.2    # accounts (with >= 2 leads) whose people use a role address

_ANON_SALT = 0x5EED_0A11


def hex16(x: np.ndarray, salt: int) -> pl.Series:
    """16 lowercase hex digits of mix64(x, salt), vectorised."""
    h = mix64(x, salt).astype(">u8").tobytes().hex()
    return pl.Series(np.frombuffer(h.encode(), dtype="S16")).cast(pl.String)


def anon_ids(visitor: np.ndarray, seed: int) -> pl.Series:
    """'v-' + 16 hex digits, unique per visitor index."""
    return pl.select(pl.lit("v-") + hex16(visitor, seed ^ _ANON_SALT)).to_series()


def record_ids(channel: str, seq: np.ndarray, seed: int) -> pl.Series:
    """Platform-looking, unique, deterministic ids (no ':' or '/')."""
    s = seq.astype(np.uint64)
    if channel == "website":
        return pl.select(pl.lit("sub_") + hex16(s, seed + 17).str.slice(0, 12)).to_series()
    if channel == "referral":
        return pl.select(pl.lit("REF-") + pl.Series((10001 + seq).astype(np.int64))
                         .cast(pl.String)).to_series()
    # bijective scramble of the sequence number inside a fixed number of digits
    mod, pre, width = {"google_ads": (10**12, "GA", 12), "meta_lead_ads": (9 * 10**15, "", 16),
                       "linkedin": (10**10, "LI", 10), "webinar": (10**9, "WR", 9)}[channel]
    v = (s * np.uint64(982451653) + np.uint64((seed * 7919) % mod)) % np.uint64(mod)
    if channel == "meta_lead_ads":
        v = v + np.uint64(10**15)
    return pl.select(pl.lit(pre) + pl.Series(v.astype(np.int64)).cast(pl.String)
                     .str.zfill(width)).to_series()


def role_accounts(cfg: WorldConfig, acc: Accounts, P: Persons, L: Leads) -> np.ndarray:
    """Accounts (with >= 2 lead persons) whose people sometimes type info@ / sales@ ..."""
    real = L.person[~P.is_junk[L.person]]
    lead_p = np.zeros(P.n, bool)
    lead_p[real] = True
    n_lead_acc = np.bincount(P.account[:P.n_real][lead_p[:P.n_real]], minlength=acc.n)
    return (n_lead_acc >= 2) & (mix64(np.arange(acc.n), cfg.seed + 3) % np.uint64(1000)
                                < np.uint64(int(ROLE_ACCOUNT_P * 1000)))


def build_form_rows(cfg: WorldConfig, rs: Streams, acc: Accounts, P: Persons, L: Leads,
                    W: Web, idx: np.ndarray, role_acc: np.ndarray, chunk: int) -> pl.DataFrame:
    """Typed values (all layouts' fields) of the form rows ``idx`` (indexes into L)."""
    rng = rs("forms", chunk)
    n = idx.size
    p = L.person[idx].astype(np.int64)
    ch = L.channel[idx].astype(np.int64)
    t = L.t[idx]
    junk = P.is_junk[p]
    kind = P.junk_kind[p]
    # account at the time of the row (movers switch), -1 for junk
    a = P.account[p].astype(np.int64)
    moved_now = P.moved[p] & (t >= P.move_t[p])
    a = np.where(moved_now, P.new_account[p], a)
    ac = np.clip(a, 0, None)

    # --- which address is typed: work / personal / role / junk's own
    mode = P.email_mode[p]
    src = np.where(mode == EMAIL_WORK, 0, np.where(mode == EMAIL_FREE, 1,
                   (rng.random(n) >= P_WORK[ch]).astype(int)))
    use_role = ~junk & role_acc[ac] & (rng.random(n) < ROLE_ROW_P) & (a == P.account[p])
    src = np.where(use_role, 2, src)
    src = np.where(junk, 3, src)

    R = rng.random((n, 24), dtype=np.float32)
    r = {f"r{i}": R[:, i] for i in range(R.shape[1])}
    work_now = pl.select(pl.when(pl.Series(moved_now)).then(P.new_work_email.gather(p))
                         .otherwise(P.work_email.gather(p))).to_series()
    acc_name = pl.Series(acc.name, dtype=pl.String)
    acc_base = pl.Series(acc.base_name, dtype=pl.String)
    acc_dom = pl.Series(acc.domain, dtype=pl.String)
    df = pl.DataFrame({
        "row": idx, "person": p, "ch": ch, "t": t, "day": L.day[idx], "first": L.first[idx],
        "is_junk": junk, "kind": kind, "src": src, "account": a,
        "first0": P.first.gather(p), "nick": P.nick.gather(p),
        "nick_pref": P.nick_pref[p], "last0": P.last.gather(p),
        "title0": P.title.gather(p),
        "work": work_now, "personal": P.personal_email.gather(p),
        "role_local": np.array(N.ROLE_LOCALS)[ac % len(N.ROLE_LOCALS)],
        "domain": acc_dom.gather(ac), "acc_name": acc_name.gather(ac),
        "acc_base": acc_base.gather(ac), "junk_company": P.junk_company.gather(p),
        "nat": P.phone_nat.gather(p), "pkind": P.phone_kind[p],
        "has_phone": P.phone_e164.gather(p).is_not_null(),
        "junk_phone": P.junk_phone_typed.gather(p),
        "country0": np.where(junk, "US", acc.country[ac]),
        "city0": acc.city_name[ac], "postal0": pl.Series(acc.postal).gather(ac),
        "emp": acc.employees[ac], "industry0": np.array(INDUSTRY_NAMES)[acc.industry[ac]],
        "service0": np.array(N.SERVICES)[P.service[p]],
        "budget0": np.array(N.BUDGETS)[P.budget[p]],
        "timeline0": np.array(N.TIMELINES)[P.timeline[p]],
        "intent": P.intent[p], **r,
        "p_e164": P_E164[ch], "p_phone_miss": P_PHONE_MISSING[ch],
        "p_comp_miss": P_COMPANY_MISSING[ch], "p_title_miss": P_TITLE_MISSING[ch],
    })
    tags = pl.Series(list(N.PLUS_TAGS))
    first_core = (pl.when(pl.col("nick").is_not_null()
                          & (pl.col("r0") < pl.when(pl.col("nick_pref")).then(0.65).otherwise(0.06)))
                  .then(pl.col("nick")).otherwise(pl.col("first0")))
    first_core = V.typo(first_core, pl.when(pl.col("is_junk")).then(1.0).otherwise(pl.col("r1")),
                        pl.col("r2"), 0.015)
    last_core = V.typo(pl.col("last0"), pl.when(pl.col("is_junk")).then(1.0).otherwise(pl.col("r3")),
                       pl.col("r2"), 0.015)
    df = df.with_columns(first_core=V.vary_case(first_core, pl.col("r4"), 0.06, 0.02),
                         last_core=V.vary_case(last_core, pl.col("r4"), 0.06, 0.02))
    email = (pl.when(pl.col("src") == 0).then(pl.col("work"))
             .when(pl.col("src") == 1).then(V.gmail_variant(pl.col("personal"), pl.col("r5"),
                                                            pl.col("r6"), V.pick(tuple(tags), pl.col("r7"))))
             .when(pl.col("src") == 2).then(pl.col("role_local") + pl.lit("@") + pl.col("domain"))
             .otherwise(pl.col("personal")))
    phone_fmt = (pl.when(pl.col("r9") < pl.col("p_e164")).then(0)
                 .otherwise(1 + (pl.col("r10") * 7).floor().cast(pl.Int64)))
    phone_real = V.phone_format(pl.col("nat"), pl.col("pkind"), phone_fmt)
    phone = (pl.when(pl.col("kind").is_in([0, 1])).then(pl.col("junk_phone"))
             .when(~pl.col("has_phone")).then(None)
             .when(pl.col("r8") < pl.col("p_phone_miss")).then(None)
             .otherwise(phone_real))
    company = (pl.when(pl.col("is_junk")).then(pl.col("junk_company"))
               .when(pl.col("r11") < pl.col("p_comp_miss")).then(None)
               .otherwise(V.drop_suffix(pl.col("acc_name"), pl.col("acc_base"), pl.col("r12"))))
    title = (pl.when(pl.col("r13") < pl.col("p_title_miss")).then(None)
             .otherwise(V.vary_case(pl.col("title0"), pl.col("r14"), 0.05, 0.01)))
    other_service = V.pick(N.SERVICES, pl.col("r16"))
    service = (pl.when(pl.col("is_junk")).then(other_service)
               .when(pl.col("r15") < 0.08).then(None)
               .when(pl.col("r15") < 0.20).then(other_service)
               .otherwise(pl.col("service0")))
    budget = (pl.when(pl.col("r17") < 0.2).then(None)
              .when(pl.col("r17") < 0.28).then(V.pick(N.BUDGETS, pl.col("r16")))
              .otherwise(pl.col("budget0")))
    timeline = (pl.when(pl.col("r18") < 0.2).then(None)
                .when(pl.col("r18") < 0.26).then(V.pick(N.TIMELINES, pl.col("r16")))
                .otherwise(pl.col("timeline0")))
    df = df.with_columns(
        first_name=V.pad(pl.col("first_core"), pl.col("r19")),
        last_name=V.pad(pl.col("last_core"), pl.col("r20")),
        full_name=V.pad(pl.col("first_core") + pl.when(pl.col("r21") < 0.02).then(pl.lit("  "))
                        .otherwise(pl.lit(" ")) + pl.col("last_core"), pl.col("r19")),
        email=V.email_case(email, pl.col("r22")),
        phone=phone, company=company, title=title, service=service, budget=budget,
        timeline=timeline,
    )
    df = _channel_fields(cfg, rs, W, df, idx, chunk)
    return df.drop([c for c in df.columns if (c.startswith("r") and c[1:].isdigit())
                    or c.startswith("p_")])


def _channel_fields(cfg: WorldConfig, rs: Streams, W: Web, df: pl.DataFrame, idx: np.ndarray,
                    chunk: int) -> pl.DataFrame:
    """Fields only some layouts have: campaign, country spelling, website, message ..."""
    rng = rs("form_fields", chunk)
    n = df.height
    R = rng.random((n, 12), dtype=np.float32)
    chn = np.array(CHANNELS)[df["ch"].to_numpy()]
    # campaigns: Google search campaigns follow the stated need
    camp = np.empty(n, dtype=object)
    svc0 = df["service0"].to_numpy()
    for c, names_ in N.CAMPAIGNS.items():
        m = chn == c
        camp[m] = np.array(names_)[(R[m, 0] * len(names_)).astype(int)]
        if c == "google_ads":
            for s, cn in (("Managed IT", 0), ("Cybersecurity", 1), ("Cloud Migration", 2)):
                mm = m & (svc0 == s) & (R[:, 1] < 0.7)
                camp[mm] = names_[cn]
    # website rows: submitting visitor and its utm
    anon = np.full(n, None, dtype=object)
    utm_s = np.full(n, None, dtype=object)
    wmask = chn == "website"
    wr = W.form_rank[idx[wmask]]  # rank among all website rows (aligned with W.form_*)
    anon[wmask] = anon_ids(W.form_visitor[wr], cfg.seed).to_numpy()
    utm_s[wmask] = np.array([s for _, s in N.REFERRERS], dtype=object)[W.form_utm[wr]]
    svc_slug = pl.col("service0").str.to_lowercase().str.replace_all(r"[^a-z]+", "-")
    utm_c = (pl.when(pl.col("utm_source") == "google").then(pl.lit("search-") + svc_slug)
             .when(pl.col("utm_source") == "linkedin").then(pl.lit("li-sponsored"))
             .when(pl.col("utm_source") == "facebook").then(pl.lit("fb-retargeting"))
             .when(pl.col("utm_source") == "newsletter").then(pl.lit("newsletter-monthly"))
             .otherwise(None))
    utm_m = (pl.when(pl.col("utm_source").is_in(["google", "linkedin", "facebook"]))
             .then(pl.lit("cpc")).when(pl.col("utm_source") == "newsletter").then(pl.lit("email"))
             .when(pl.col("utm_source").is_not_null()).then(pl.lit("organic")).otherwise(None))
    df = df.with_columns(campaign=pl.Series(camp.tolist(), dtype=pl.String),
                         anonymous_id=pl.Series(anon.tolist(), dtype=pl.String),
                         utm_source=pl.Series(utm_s.tolist(), dtype=pl.String),
                         **{f"q{i}": R[:, i] for i in range(2, 12)})
    country = pl.lit(None, pl.String)
    for c, style in V.COUNTRY_STYLE.items():
        country = pl.when(pl.col("ch") == CH[c]).then(
            V.country_typed(pl.col("country0"), style, pl.col("q2"))).otherwise(country)
    # employee range as typed on the website: sometimes one bucket off
    rng_true = employee_range(df["emp"].to_numpy())
    labels = [lab for _, lab in N.EMPLOYEE_RANGES]
    k = np.array([labels.index(x) for x in rng_true]) if n else np.zeros(0, int)
    off = np.where(R[:, 3] < 0.08, -1, np.where(R[:, 3] < 0.15, 1, 0))
    typed_rng = np.array(labels)[np.clip(k + off, 0, len(labels) - 2)] if n else np.zeros(0, str)
    li_ind = np.array([v[2] for v in N.INDUSTRIES.values()])
    ind_idx = np.array([INDUSTRY_NAMES.index(x) for x in df["industry0"].to_numpy()]) if n \
        else np.zeros(0, int)
    ind_idx = np.where(R[:, 4] < 0.05, (R[:, 5] * len(li_ind)).astype(int), ind_idx)
    is_junk, kind = pl.col("is_junk"), pl.col("kind")
    spam_dom = pl.col("personal").str.split("@").list.get(-1)
    spam_msg = V.pick(N.SPAM_MESSAGES, pl.col("q6")).str.replace("{d}", spam_dom, literal=True)
    message = (pl.when(kind == 0).then(spam_msg)
               .when(kind == 1).then(pl.lit("test"))
               .when(kind == 2).then(pl.lit("Curious about your pricing model."))
               .when(kind == 3).then(pl.lit("Hi, I'm researching MSPs for a class project."))
               .otherwise(V.pick(N.MESSAGES, pl.col("q6"))))
    attended = pl.col("q7") < (1 / (1 + (-(pl.col("intent") * 0.8 - 0.2)).exp()))
    referrer_name = V.pick(N.FIRST_NAMES, pl.col("q9")) + pl.lit(" ") + V.pick(N.LAST_NAMES, pl.col("q10"))
    df = df.with_columns(
        country=country,
        postal=pl.when(is_junk | (pl.col("q8") < 0.15)).then(None).otherwise(pl.col("postal0")),
        city=pl.when(is_junk | (pl.col("q8") < 0.1)).then(None)
        .otherwise(V.vary_case(pl.col("city0"), pl.col("q3"), 0.2, 0.0)),
        company_size=pl.when(is_junk).then(pl.lit("1-10")).otherwise(pl.Series(rng_true)),
        industry=pl.when(is_junk).then(pl.lit("Higher Education")).otherwise(pl.Series(li_ind[ind_idx])),
        employees=pl.when(is_junk | (pl.col("q4") < 0.2)).then(None).otherwise(pl.Series(typed_rng)),
        website=pl.when(is_junk).then(None).otherwise(V.website_typed(pl.col("domain"), pl.col("q5"))),
        page_url=pl.lit(N.OUR_SITE) + V.pick(list(("/contact",) * 6 + ("/demo",) * 3 + ("/pricing",)),
                                            pl.col("q11")),
        message=message,
        utm_campaign=utm_c, utm_medium=utm_m,
        ad_name=V.pick(N.META_ADS, pl.col("q2")), form_name=V.pick(N.META_FORMS, pl.col("q3")),
        adset_name=pl.lit("Adset - ") + V.pick(("SMB Owners", "IT Decision Makers", "Lookalike 1%"),
                                               pl.col("q4")),
        ad_group=pl.col("campaign").str.replace("Search - ", "", literal=True) + pl.lit(" - Exact"),
        lead_form=V.pick(("IT Assessment Form", "Guide Download Form", "Contact Sales Form"),
                         pl.col("q5")),
        attended=pl.when(is_junk | ~attended).then(pl.lit("No")).otherwise(pl.lit("Yes")),
        minutes=pl.when(is_junk | ~attended).then(pl.lit("0"))
        .otherwise((5 + pl.col("q8") * 55).floor().cast(pl.Int64).cast(pl.String)),
        source=V.pick(("email", "linkedin", "website", "partner"), pl.col("q9")),
        referred_by=pl.when(pl.col("q7") < 0.5).then(V.pick(N.REFERRAL_PARTNERS, pl.col("q9")))
        .otherwise(referrer_name),
        referrer_email=pl.when(pl.col("q7") < 0.5).then(None)
        .otherwise(referrer_name.str.to_lowercase().str.replace(" ", ".", literal=True)
                   + pl.lit("@") + V.pick(("gmail.com", "outlook.com"), pl.col("q10"))),
        notes=pl.when(kind == 0).then(spam_msg).otherwise(V.pick(N.REFERRAL_NOTES, pl.col("q6"))),
    )
    return df.drop([f"q{i}" for i in range(2, 12)])


def channel_frames(cfg: WorldConfig, acc: Accounts, rows: pl.DataFrame, days: range,
                   seq_offset: dict[str, int]
                   ) -> tuple[dict[tuple[int, str], pl.DataFrame], pl.DataFrame]:
    """Split rows (all rows of ``days``) into output frames per (day, channel), each in
    its layout. ``seq_offset`` counts each channel's rows so far (record ids) and is
    advanced. Returns the frames and a truth frame: channel, day, line, record_id, row.
    """
    out: dict[tuple[int, str], pl.DataFrame] = {}
    truth = []
    fields = {f for lay in (LAYOUTS, DRIFTED_LAYOUTS) for m in lay.values() for f in m.values()}
    rows = rows.select(["row", "ch", "t", "day", "account", "is_junk"]
                       + sorted(fields - {"record_id", "time"}))
    # local offset for website timestamps
    a = rows["account"].to_numpy()
    junk = rows["is_junk"].to_numpy()
    city = np.where(junk, 35, acc.city[np.clip(a, 0, None)])
    off = utc_offset_minutes(rows["t"].to_numpy(), _CITY["tz"][city].astype(int),
                             _CITY["dst"][city])
    rows = rows.with_columns(offset=off)
    for ci, c in enumerate(CHANNELS):
        sub = rows.filter(pl.col("ch") == ci)
        seq = np.arange(seq_offset[c], seq_offset[c] + sub.height)
        seq_offset[c] += sub.height
        sub = sub.with_columns(record_id=record_ids(c, seq, cfg.seed))
        if c == "website":
            time = (pl.from_epoch(pl.col("t") + pl.col("offset") * 60, time_unit="s")
                    .dt.strftime(TIME_FORMATS[c]) + fmt_offset(pl.col("offset")))
        else:
            time = fmt_epoch("t", TIME_FORMATS[c])
        sub = sub.with_columns(time=time)
        sub = sub.with_columns(line=pl.int_range(pl.len()).over("day") + 2)
        truth.append(sub.select(pl.lit(c).alias("channel"), "day", "line", "record_id", "row"))
        for day in days:
            part = sub.filter(pl.col("day") == day)
            drift = cfg.drift is not None and cfg.drift.active("form_layout", c, day)
            layout = DRIFTED_LAYOUTS[c] if drift else LAYOUTS[c]
            out[(day, c)] = part.select([pl.col(f).alias(h) for h, f in layout.items()])
    return out, pl.concat(truth)
