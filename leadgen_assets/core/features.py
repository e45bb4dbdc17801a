"""Lead features, first version, point-in-time correct.

A lead delivered on day D is scored as of its submit time ``t``. Its features use only:

* events with an event time at or before ``t`` (event time), and
* rows delivered on or before D (arrival time): a late event that reached us after D is
  not used, even if it happened before ``t``;
* visitor -> person links that were known at ``t``.

Fit features (who the company is) and engagement features (what the person and their
account did) are separate groups. The feature set's version is a hash of its definition,
so a change in the SQL or the catalogue is a new version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadgen_assets.core import attributes

if TYPE_CHECKING:
    import polars as pl
from leadgen_assets.core.identity import placeholder_email_sql, placeholder_phone_sql


@dataclass(frozen=True)
class Feature:
    name: str
    group: str  # "fit", "engagement" or "risk"
    description: str
    expected_range: tuple[float, float] | None = None
    owner: str = "team:data"  # who answers for its definition (Dagster owner form)


FEATURES = (
    Feature("industry", "fit", "Industry from the CRM account, else enrichment, else the form."),
    Feature("employees", "fit", "Company size from the CRM, else enrichment, else the form's band.", (1, 100_000)),
    Feature("region", "fit", "State, province or UK nation of the account."),
    Feature("country", "fit", "ISO country of the lead."),
    Feature("service_needed", "fit", "Service the lead asked for, as typed on the form."),
    Feature("budget", "fit", "Budget band from the form."),
    Feature("timeline", "fit", "Buying timeline from the form."),
    Feature("is_free_mail", "fit", "The lead used a free-mail address."),
    Feature("is_role_address", "fit", "The lead used a shared role address (info@, sales@...)."),
    Feature("is_senior_title", "fit", "Job title is an owner, executive, director or head."),
    Feature("is_existing_account", "fit", "The person's account is already in the CRM."),
    Feature("pageviews_30d", "engagement", "Page views in the 30 days before submit.", (0, 500)),
    Feature("active_days_30d", "engagement", "Days with any web activity in the 30 days before submit.", (0, 30)),
    Feature("pricing_views_30d", "engagement", "Pricing page views in the 30 days before submit.", (0, 100)),
    Feature("service_page_views_30d", "engagement", "Service page views in the 30 days before submit.", (0, 200)),
    Feature("case_study_views_30d", "engagement", "Case-study views and downloads in the 30 days before submit.", (0, 100)),
    Feature("demo_requested", "engagement", "A demo request (event or /demo page) before submit."),
    Feature("engagement_decayed", "engagement", "Sum over events of exp(-age/7 days): recent activity counts more.", (0, 500)),
    Feature("days_since_last_visit", "engagement", "Days from the last web event before submit to submit.", (0, 30)),
    Feature("prior_leads_90d", "engagement", "The person's earlier form submits in the last 90 days.", (0, 50)),
    Feature("prior_channels_90d", "engagement", "Distinct channels of those earlier submits.", (0, 6)),
    Feature("account_engaged_people_30d", "engagement", "Other people of the same account with web activity in the 30 full days before the lead's day.", (0, 100)),
    Feature("account_events_30d", "engagement", "Web events of the whole account in the 30 full days before the lead's day.", (0, 10_000)),
    Feature("buying_committee_size_30d", "engagement", "People of the account, the lead included, with web activity in the 30 full days before the lead's day (from the knowledge graph).", (0, 100)),
    Feature("is_test", "risk", "Looks like a test submission (test names, test domains)."),
    Feature("is_student", "risk", "A student (.edu address or student title)."),
    Feature("is_gibberish", "risk", "Name with no vowels or keyboard mashing."),
    Feature("is_spam_like", "risk", "Email on a throwaway top-level domain (.xyz, .top, .click...) and no website visit before submitting."),
    Feature("phone_is_placeholder", "risk", "A dummy phone number, or one shared by more than three different surnames."),
)

# The business's own form attributes (config/lead_attributes.toml), as fit features.
CUSTOM = attributes.load(reserved=frozenset(f.name for f in FEATURES) | {"channel", "lead_id", "person_id", "account_id"})
FEATURES = FEATURES + tuple(
    Feature(a.name, "fit", f"{a.description} (custom attribute, form column '{a.field}', {a.type})", a.expected_range, a.owner)
    for a in CUSTOM
)

FEATURE_SET = "lead_v1"

# Leads delivered from $first to $last. Every "known by" constraint uses the lead's own
# delivery day (l.delivery_date), so computing many days at once gives the same values as
# computing each day alone.
LEAD_FEATURES_SQL = """
WITH leads AS (
    SELECT f.lead_id, f.delivery_date, f.submitted_at AS scored_at, f.channel, f.campaign,
           pr.person_id, f.company_domain, f.email_domain, f.is_free_mail,
           f.is_role_address, f.job_title, f.service_needed, f.budget, f.timeline,
           f.employees AS form_employees, f.industry AS form_industry, f.country,
           f.first_name_key, f.last_name_key, f.phone_e164, f.email, f.custom_attributes
    FROM signals.form_leads f
    JOIN identity.person_records pr ON pr.record_key = 'form_leads:' || f.lead_id
    WHERE f.delivery_date BETWEEN $first AND $last
),
-- The lead's company as of its delivery day (person -works_at-> company, identity.person_companies)
company AS (
    SELECT l.lead_id, s.domain, s.company
    FROM leads l JOIN identity.person_companies s
      ON s.person_id = l.person_id AND s.valid_from <= l.delivery_date AND (s.valid_to IS NULL OR l.delivery_date < s.valid_to)
),
-- ... and its account then: the CRM account with that website domain, else the one CRM account
-- with that name (where no domain contradicts it), among accounts delivered by that day; else
-- the new-account candidate of the domain (or name), keyed as identity.account_matches keys it.
crm_known AS (
    SELECT account_id, domain, company_key, min(delivery_date) AS known_from FROM signals.crm_accounts GROUP BY ALL
),
by_domain AS (
    SELECT c.lead_id, min(k.account_id) AS account_id FROM company c JOIN leads l USING (lead_id)
    JOIN crm_known k ON k.domain = c.domain AND k.known_from <= l.delivery_date GROUP BY c.lead_id
),
by_name AS (
    SELECT c.lead_id, min(k.account_id) AS account_id FROM company c JOIN leads l USING (lead_id)
    JOIN crm_known k ON k.company_key = c.company AND k.known_from <= l.delivery_date
    WHERE c.domain IS NULL OR k.domain IS NULL
    GROUP BY c.lead_id HAVING count(DISTINCT k.account_id) = 1
),
lead_account AS (
    SELECT c.lead_id, c.domain, c.company,
           coalesce(d.account_id, n.account_id,
                    'A' || substr(md5(coalesce('domain:' || c.domain, 'name:' || c.company)), 1, 15)) AS account_id
    FROM company c LEFT JOIN by_domain d USING (lead_id) LEFT JOIN by_name n USING (lead_id)
    WHERE c.domain IS NOT NULL OR c.company IS NOT NULL
),
visits AS (
    SELECT l.lead_id, l.scored_at, w.event_at, w.event_id, w.event_type, w.event_name, w.page_path
    FROM leads l
    JOIN identity.visitor_map v ON v.person_id = l.person_id AND v.linked_at <= l.scored_at
     AND v.linked_on <= l.delivery_date
    JOIN signals.web_events w ON w.anonymous_id = v.anonymous_id
    WHERE w.event_at <= l.scored_at AND w.event_at > l.scored_at - INTERVAL 30 DAY
      AND w.delivery_date <= l.delivery_date
),
eng AS (
    SELECT lead_id,
           count(*) FILTER (WHERE event_type = 'page') AS pageviews_30d,
           count(DISTINCT CAST(event_at AS DATE)) AS active_days_30d,
           count(*) FILTER (WHERE page_path = '/pricing') AS pricing_views_30d,
           count(*) FILTER (WHERE page_path LIKE '/services/%') AS service_page_views_30d,
           count(*) FILTER (WHERE page_path LIKE '/case-studies/%' OR event_name = 'Case Study Downloaded') AS case_study_views_30d,
           bool_or(event_name = 'Demo Requested' OR page_path = '/demo') AS demo_requested,
           -- summed in a fixed order: the same events always give the same bits
           sum(exp(-(epoch(scored_at) - epoch(event_at)) / 86400.0 / 7.0) ORDER BY event_at, event_id) AS engagement_decayed,
           min((epoch(scored_at) - epoch(event_at)) / 86400.0) AS days_since_last_visit
    FROM visits GROUP BY lead_id
),
prior AS (
    SELECT l.lead_id, count(*) AS prior_leads_90d, count(DISTINCT pr.channel) AS prior_channels_90d
    FROM leads l
    JOIN identity.person_records pr ON pr.person_id = l.person_id AND pr.source = 'form_leads'
    WHERE pr.seen_at < l.scored_at AND pr.seen_at > l.scored_at - INTERVAL 90 DAY
      AND pr.delivery_date <= l.delivery_date
    GROUP BY l.lead_id
),
-- Account engagement and the buying committee count whole days: the 30 full days before the
-- lead's submit day. Colleagues are the people who worked at the same company domain (or, with
-- no domain, the same company name) as of the lead's delivery day; their activity counts only
-- where it was delivered by that day and their visitor was identified before the submit day.
colleagues AS (
    SELECT a.lead_id, s.person_id FROM lead_account a JOIN leads l USING (lead_id)
    JOIN identity.person_companies s ON s.domain = a.domain
     AND s.valid_from <= l.delivery_date AND (s.valid_to IS NULL OR l.delivery_date < s.valid_to)
    WHERE a.domain IS NOT NULL
    UNION ALL
    SELECT a.lead_id, s.person_id FROM lead_account a JOIN leads l USING (lead_id)
    JOIN identity.person_companies s ON s.company = a.company AND s.domain IS NULL
     AND s.valid_from <= l.delivery_date AND (s.valid_to IS NULL OR l.delivery_date < s.valid_to)
    WHERE a.domain IS NULL
),
acct AS (
    SELECT l.lead_id,
           count(DISTINCT p.person_id) AS buying_committee_size_30d,
           count(DISTINCT p.person_id) FILTER (WHERE p.person_id <> l.person_id) AS account_engaged_people_30d,
           sum(p.events) AS account_events_30d
    FROM leads l
    JOIN colleagues c USING (lead_id)
    JOIN identity.person_activity p ON p.person_id = c.person_id
    WHERE p.event_day >= CAST(l.scored_at AS DATE) - 30 AND p.event_day < CAST(l.scored_at AS DATE)
      AND p.link_day < CAST(l.scored_at AS DATE) AND p.link_delivered_on <= l.delivery_date
      AND p.delivery_date <= l.delivery_date
    GROUP BY l.lead_id
),
-- The existing owner of the person's account (person -works_at-> account <-owns- rep), as of
-- the lead's delivery day: the ownership span of identity.account_owners that covers it.
owner AS (
    SELECT l.lead_id, o.owner_id
    FROM leads l JOIN lead_account a USING (lead_id) JOIN identity.account_owners o
      ON o.account_id = a.account_id AND o.valid_from <= l.delivery_date
     AND (o.valid_to IS NULL OR l.delivery_date < o.valid_to)
),
-- One version of each CRM account and enrichment record per delivery day; a lead sees the
-- latest version delivered on or before its own delivery day. (A hash join plus a window
-- over the few versions of each record: DuckDB's ASOF join fanned out badly here.)
crm_versions AS (
    SELECT account_id, delivery_date, industry, employees, region, country FROM signals.crm_accounts
    QUALIFY row_number() OVER (PARTITION BY account_id, delivery_date ORDER BY modified_at DESC, source_line DESC) = 1
),
enr_versions AS (
    SELECT domain, delivery_date, industry, employee_count, region, country FROM signals.enrichment
    QUALIFY row_number() OVER (PARTITION BY domain, delivery_date ORDER BY source_file DESC, source_line DESC) = 1
),
crm AS (
    SELECT l.lead_id, c.account_id AS crm_account_id, c.industry, c.employees, c.region, c.country
    FROM leads l JOIN lead_account a USING (lead_id)
    JOIN crm_versions c ON c.account_id = a.account_id AND c.delivery_date <= l.delivery_date
    QUALIFY row_number() OVER (PARTITION BY l.lead_id ORDER BY c.delivery_date DESC) = 1
),
enr AS (
    SELECT l.lead_id, e.industry, e.employee_count, e.region, e.country
    FROM leads l JOIN enr_versions e ON e.domain = l.company_domain AND e.delivery_date <= l.delivery_date
    QUALIFY row_number() OVER (PARTITION BY l.lead_id ORDER BY e.delivery_date DESC) = 1
),
-- A phone becomes a placeholder on the day its fourth different surname arrives.
phone_names AS (
    SELECT phone_e164, last_name_key, min(delivery_date) AS first_day FROM signals.form_leads
    WHERE phone_e164 IS NOT NULL AND last_name_key IS NOT NULL GROUP BY ALL
),
crowded_phones AS (
    SELECT phone_e164, first_day AS crowded_from FROM phone_names
    QUALIFY row_number() OVER (PARTITION BY phone_e164 ORDER BY first_day, last_name_key) = 4
)
SELECT l.lead_id, l.delivery_date, l.scored_at, l.person_id, la.account_id, l.channel, l.campaign,
       l.company_domain, owner.owner_id AS crm_owner_id,
       coalesce(crm.industry, enr.industry, l.form_industry) AS industry,
       coalesce(crm.employees, enr.employee_count, l.form_employees) AS employees,
       coalesce(crm.region, enr.region) AS region,
       coalesce(l.country, crm.country, enr.country) AS country,
       l.service_needed, l.budget, l.timeline,
       coalesce(l.is_free_mail, false) AS is_free_mail,
       coalesce(l.is_role_address, false) AS is_role_address,
       coalesce(regexp_matches(lower(l.job_title), '(owner|founder|ceo|cfo|cto|coo|cio|president|chief|director|head|vp|vice president|partner|principal)'), false) AS is_senior_title,
       crm.crm_account_id IS NOT NULL AS is_existing_account,
       coalesce(eng.pageviews_30d, 0) AS pageviews_30d,
       coalesce(eng.active_days_30d, 0) AS active_days_30d,
       coalesce(eng.pricing_views_30d, 0) AS pricing_views_30d,
       coalesce(eng.service_page_views_30d, 0) AS service_page_views_30d,
       coalesce(eng.case_study_views_30d, 0) AS case_study_views_30d,
       coalesce(eng.demo_requested, false) AS demo_requested,
       coalesce(eng.engagement_decayed, 0.0) AS engagement_decayed,
       eng.days_since_last_visit,
       coalesce(prior.prior_leads_90d, 0) AS prior_leads_90d,
       coalesce(prior.prior_channels_90d, 0) AS prior_channels_90d,
       coalesce(acct.account_engaged_people_30d, 0) AS account_engaged_people_30d,
       coalesce(acct.account_events_30d, 0) AS account_events_30d,
       coalesce(acct.buying_committee_size_30d, 0) AS buying_committee_size_30d,
       coalesce(l.first_name_key IN ('test', 'testing', 'tester', 'asdf', 'qwerty', 'foo', 'xxx')
                OR l.last_name_key IN ('test', 'testing', 'tester', 'asdf', 'qwerty', 'bar', 'xxx')
                OR PLACEHOLDER_EMAIL, false) AS is_test,
       coalesce(l.email_domain LIKE '%.edu' OR lower(l.job_title) LIKE '%student%', false) AS is_student,
       coalesce(regexp_matches(l.first_name_key, '^[^aeiouy]{4,}$') OR regexp_matches(l.last_name_key, '^[^aeiouy]{5,}$'),
                false) AS is_gibberish,
       coalesce(regexp_matches(l.email_domain, '\\.(SPAM_TLDS)$') AND eng.pageviews_30d IS NULL, false) AS is_spam_like,
       coalesce(PLACEHOLDER_PHONE OR cp.crowded_from <= l.delivery_date, false) AS phone_is_placeholder
       CUSTOM_ATTRIBUTES
FROM leads l
LEFT JOIN eng USING (lead_id)
LEFT JOIN prior USING (lead_id)
LEFT JOIN lead_account la USING (lead_id)
LEFT JOIN acct USING (lead_id)
LEFT JOIN owner USING (lead_id)
LEFT JOIN crm USING (lead_id)
LEFT JOIN enr USING (lead_id)
LEFT JOIN crowded_phones cp ON cp.phone_e164 = l.phone_e164
"""

# Top-level domains that real prospects of a service business almost never use and form
# spam nearly always does; on their own they are not enough (see is_spam_like).
SPAM_TLDS = ("xyz", "top", "ru", "click", "site", "online", "info", "biz", "buzz", "loan")

LEAD_FEATURES_SQL = (
    LEAD_FEATURES_SQL.replace("CUSTOM_ATTRIBUTES", "".join(
        f",\n       {attributes.feature_sql(a, 'l.custom_attributes')} AS {a.name}" for a in CUSTOM))
    .replace("PLACEHOLDER_PHONE", placeholder_phone_sql("l.phone_e164"))
    .replace("PLACEHOLDER_EMAIL", placeholder_email_sql("l.email"))
    .replace("SPAM_TLDS", "|".join(SPAM_TLDS))
)


def feature_set_version() -> str:
    """A short hash of the SQL and the catalogue: any change is a new version."""
    text = LEAD_FEATURES_SQL + repr(FEATURES)
    return FEATURE_SET + "-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def baselines(frame: pl.DataFrame) -> dict[str, str]:
    """Each feature's drift baseline on ``frame`` (a training set), in words: the spread of a
    number (10th, 50th and 90th percentile, share empty), the share of yes for a flag, the
    three most common values of a category. Drift is judged against these."""
    import polars as pl

    out: dict[str, str] = {}
    n = max(frame.height, 1)
    for f in FEATURES:
        if f.name not in frame.columns:
            continue
        s = frame[f.name]
        empty = s.null_count() / n
        if s.dtype == pl.Boolean:
            text = f"{(s.fill_null(False).sum() / n):.1%} yes"
        elif s.dtype.is_numeric():
            q = s.drop_nulls().cast(pl.Float64)
            text = (f"p10 {q.quantile(0.1):.3g}, p50 {q.quantile(0.5):.3g}, p90 {q.quantile(0.9):.3g}" if q.len() else "no values")
        else:
            top = s.drop_nulls().value_counts(sort=True, name="n").head(3)
            text = ", ".join(f"{v} {c / n:.0%}" for v, c in top.iter_rows()) or "no values"
        out[f.name] = text + (f"; {empty:.0%} empty" if empty >= 0.005 else "")
    return out


# --- drift profiles: a machine-usable baseline of each feature, and PSI against it ---------

PROFILE_FORMAT = 1
PROFILE_QUANTILES = tuple(q / 10 for q in range(1, 10))  # 10% .. 90%: the bin edges of a number
PROFILE_TOP_VALUES = 10  # a category's (or flag's) most common values, each with its share


def psi(reference: list[float], current: list[float], floor: float = 1e-4) -> float:
    """Population stability index; 0.1 is a shift worth a look, 0.25 a real one."""
    import math

    return sum(
        (max(c, floor) - max(r, floor)) * math.log(max(c, floor) / max(r, floor))
        for r, c in zip(reference, current, strict=True)
    )


def _r(x: float) -> float:
    return round(float(x), 6)


def _numeric_counts(values: pl.Series, edges: list[float]) -> list[int]:
    """Non-null values per bin: up to the first edge, (edge i, edge i+1], above the last. Bins
    closed on the right keep a count's zeros apart from its ones even when most leads have none."""
    import numpy as np

    idx = np.searchsorted(np.asarray(edges, dtype=float), values.to_numpy(), side="left")
    return np.bincount(idx, minlength=len(edges) + 1).tolist()


def _profile_column(s: pl.Series) -> dict:
    import polars as pl

    n = s.len()
    nulls = s.null_count()
    share = (lambda k: _r(k / n)) if n else (lambda k: 0.0)
    if s.dtype.is_numeric() and s.dtype != pl.Boolean:
        values = s.drop_nulls().cast(pl.Float64)
        values = values.filter(values.is_not_nan())
        nulls = n - values.len()  # NaN counts as empty
        edges = sorted({_r(values.quantile(q, interpolation="nearest")) for q in PROFILE_QUANTILES}) if values.len() else []
        return {"kind": "numeric", "edges": edges, "shares": [share(k) for k in _numeric_counts(values, edges)],
                "null": share(nulls)}
    keys = s.cast(pl.Utf8).drop_nulls().rename("value")
    counts = keys.value_counts(name="n").sort(["n", "value"], descending=[True, False]).head(PROFILE_TOP_VALUES)
    top = {str(v): int(c) for v, c in counts.iter_rows()}
    return {"kind": "boolean" if s.dtype == pl.Boolean else "categorical",
            "values": {v: share(c) for v, c in top.items()},
            "other": share(keys.len() - sum(top.values())), "null": share(nulls)}


def drift_profile(frame: pl.DataFrame, columns: list[str]) -> dict:
    """Each of ``columns``' distribution in ``frame`` (a training set, or a reference period),
    for drift: a number's bins (edges at its unique 10%..90% quantiles, each bin closed on the
    right) with the share of rows in each and the share empty; a flag's or category's share of each of its ten most common
    values, of the rest ("other") and of empty. Shares are of all rows, plain floats rounded to
    six places, so ``json.dumps(profile, sort_keys=True)`` is deterministic. Columns not in
    ``frame`` are left out."""
    return {
        "format": PROFILE_FORMAT,
        "rows": frame.height,
        "features": {c: _profile_column(frame[c]) for c in columns if c in frame.columns},
    }


def _current_shares(spec: dict, s: pl.Series) -> tuple[list[float], list[float]]:
    """(reference, current) shares of one profiled feature, bucket by bucket."""
    import polars as pl

    n = max(s.len(), 1)
    if spec["kind"] == "numeric":
        values = s.cast(pl.Float64, strict=False).drop_nulls()
        values = values.filter(values.is_not_nan())
        counts = _numeric_counts(values, spec["edges"])
        return ([*spec["shares"], spec["null"]], [*(k / n for k in counts), (s.len() - values.len()) / n])
    keys = s.cast(pl.Utf8, strict=False)
    profiled = sorted(spec["values"])  # the same order before and after a JSON round trip
    counts = dict(keys.drop_nulls().rename("value").value_counts(name="n").iter_rows())
    known = [counts.get(v, 0) for v in profiled]
    other = keys.len() - keys.null_count() - sum(known)
    return ([*(spec["values"][v] for v in profiled), spec["other"], spec["null"]],
            [*(k / n for k in known), other / n, keys.null_count() / n])


def drift_psi(profile: dict, frame: pl.DataFrame, floor: float = 1e-4) -> dict[str, float]:
    """PSI of each profiled feature of ``frame`` against ``profile`` (from drift_profile), on
    the profile's own buckets: a value the profile never saw counts as "other", a rise in empty
    values shows in the empty bucket. Features missing from ``frame`` are skipped; an empty
    ``frame`` gives no PSI at all."""
    if frame.height == 0:
        return {}
    out: dict[str, float] = {}
    for name, spec in profile.get("features", {}).items():
        if name in frame.columns:
            reference, current = _current_shares(spec, frame[name])
            out[name] = psi(reference, current, floor)
    return out


def catalogue_markdown(baseline: dict[str, str] | None = None, source: str | None = None) -> str:
    """docs/features.md: every feature with its group, version and expected range; with
    ``baseline`` (from a model's training set, named by ``source``), its drift baseline too."""
    lines = [
        "# Lead features",
        "",
        ("Generated from `leadgen_assets/core/features.py` by `leadgen docs`; a test fails when it is stale."
         if baseline is None else f"Generated by `leadgen model features`, with drift baselines from {source}."),
        "",
        f"Feature set `{FEATURE_SET}`, version `{feature_set_version()}`. Every value is as of the lead's",
        "submit time: only events that happened before it and were delivered by its delivery day.",
        "",
        "| feature | group | owner | expected range | description |" + (" drift baseline |" if baseline is not None else ""),
        "|---|---|---|---|---|" + ("---|" if baseline is not None else ""),
    ]
    for f in FEATURES:
        rng = f"{f.expected_range[0]:g} to {f.expected_range[1]:g}" if f.expected_range else ""
        extra = f" {baseline.get(f.name, '')} |" if baseline is not None else ""
        lines.append(f"| `{f.name}` | {f.group} | {f.owner} | {rng} | {f.description} |{extra}")
    return "\n".join(lines) + "\n"
