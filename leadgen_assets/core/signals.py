"""From raw records to typed, normalised signals, one pure function per source.

Each function takes one delivery day's raw rows (``readers.RAW_SCHEMA``) and returns
``(accepted, rejected)``. Accepted rows carry their lineage (delivery day, file, line);
rejected rows carry the field and the reason. No value of a rejected row is kept outside
the raw table it came from, so quarantine never spreads PII.
"""

from __future__ import annotations

import json

import polars as pl

from leadgen_assets.core import layouts
from leadgen_assets.core import normalize as norm
from leadgen_assets.core.parsing import LINEAGE, Field, empty_quarantine, parse_records, reject_frame

Result = tuple[pl.DataFrame, pl.DataFrame]


def _with_email(frame: pl.DataFrame, col: str = "email_raw") -> pl.DataFrame:
    return frame.with_columns(norm.email(pl.col(col)).alias("email")).with_columns(
        norm.email_key(pl.col("email")).alias("email_key"),
        norm.email_domain(pl.col("email")).alias("email_domain"),
    ).with_columns(
        norm.is_free_mail(pl.col("email_domain")).fill_null(False).alias("is_free_mail"),
        norm.is_role_address(pl.col("email")).fill_null(False).alias("is_role_address"),
    )


# --------------------------------------------------------------------------- form leads
LEAD_COLUMNS = {
    "delivery_date": pl.Date, "source_file": pl.Utf8, "source_line": pl.Int64,
    "lead_id": pl.Utf8, "channel": pl.Utf8, "source_record_id": pl.Utf8, "submitted_at": pl.Datetime("us"),
    "campaign": pl.Utf8, "first_name": pl.Utf8, "last_name": pl.Utf8, "first_name_key": pl.Utf8,
    "last_name_key": pl.Utf8, "email_raw": pl.Utf8, "email": pl.Utf8, "email_key": pl.Utf8,
    "email_domain": pl.Utf8, "is_free_mail": pl.Boolean, "is_role_address": pl.Boolean,
    "phone_raw": pl.Utf8, "phone_e164": pl.Utf8, "company": pl.Utf8, "company_key": pl.Utf8,
    "website_domain": pl.Utf8, "company_domain": pl.Utf8, "job_title": pl.Utf8, "postal_code": pl.Utf8,
    "city": pl.Utf8, "country": pl.Utf8, "service_needed": pl.Utf8, "budget": pl.Utf8,
    "timeline": pl.Utf8, "company_size": pl.Utf8, "employees": pl.Int64, "industry": pl.Utf8,
    "anonymous_id": pl.Utf8, "referred_by": pl.Utf8, "unmapped_columns": pl.Utf8,
}


def _file_columns(file_rows: pl.DataFrame) -> list[str]:
    return list(json.loads(file_rows["record"][0]).keys())


def form_leads(raw: pl.DataFrame) -> Result:
    """Map each channel file's layout onto the lead schema, then normalise."""
    accepted, rejected = [], []
    for (source_file,), rows in raw.group_by("source_file", maintain_order=True):
        channel = layouts.channel_of(str(source_file).rsplit("/", 1)[-1])
        if channel is None:
            rejected.append(reject_frame(rows, "form_leads", pl.lit("file"), pl.lit("file name names no known channel")))
            continue
        columns = _file_columns(rows)
        mapping, unmapped = layouts.map_header(columns)
        missing = [f for f in layouts.REQUIRED_FIELDS if f not in mapping]
        if missing:
            rejected.append(
                reject_frame(rows, "form_leads", pl.lit(missing[0]), pl.lit(f"file has no column for required {missing[0]}"))
            )
            continue
        kinds = {"submitted_at": "timestamp"}
        fields = {
            f: Field(col, kinds.get(f, "str"), required=f in layouts.REQUIRED_FIELDS) for f, col in mapping.items()
        }
        ok, bad = parse_records(rows, "form_leads", fields)
        rejected.append(bad)
        absent = [pl.lit(None, dtype=pl.Utf8).alias(f) for f in layouts.FIELD_KEYS if f not in mapping]
        ok = ok.with_columns(*absent, pl.lit(channel).alias("channel"), pl.lit(",".join(unmapped) or None, dtype=pl.Utf8).alias("unmapped_columns"))
        accepted.append(ok)
    if not accepted:
        return pl.DataFrame(schema=LEAD_COLUMNS), pl.concat(rejected) if rejected else empty_quarantine()
    leads = pl.concat(accepted, how="diagonal_relaxed")
    full = norm.clean_text(pl.col("full_name"))
    leads = leads.with_columns(
        pl.coalesce(norm.clean_text(pl.col("first_name")), full.str.extract(r"^(\S+)", 1)).alias("first_name"),
        pl.coalesce(norm.clean_text(pl.col("last_name")), full.str.extract(r"\s(\S+)$", 1)).alias("last_name"),
        norm.country_iso2(pl.col("country")).alias("country"),
        pl.col("email").alias("email_raw"),
        pl.col("phone").alias("phone_raw"),
    )
    leads = _with_email(leads).with_columns(
        (pl.col("channel") + ":" + pl.col("source_record_id")).alias("lead_id"),
        norm.phone_e164(pl.col("phone_raw"), pl.col("country")).alias("phone_e164"),
        norm.name_key(pl.col("first_name")).alias("first_name_key"),
        norm.name_key(pl.col("last_name")).alias("last_name_key"),
        norm.company_key(pl.col("company")).alias("company_key"),
        norm.url_domain(pl.col("website")).alias("website_domain"),
        norm.employees_from_band(pl.col("company_size")).alias("employees"),
    ).with_columns(
        pl.coalesce(
            pl.col("website_domain"),
            pl.when(~pl.col("is_free_mail")).then(pl.col("email_domain")),
        ).alias("company_domain"),
    )
    # A lead must be reachable; a lead id delivered twice in one day is a duplicate.
    leads = leads.with_columns(
        (pl.col("email").is_null() & pl.col("phone_e164").is_null()).alias("_unreachable"),
        (pl.int_range(pl.len()).over("lead_id") > 0).alias("_duplicate"),
    )
    bad = leads.filter(pl.col("_unreachable") | pl.col("_duplicate"))
    rejected.append(
        reject_frame(
            bad,
            "form_leads",
            pl.when(pl.col("_duplicate")).then(pl.lit("source_record_id")).otherwise(pl.lit("email")),
            pl.when(pl.col("_duplicate"))
            .then(pl.lit("duplicate lead id in the day's delivery"))
            .otherwise(pl.lit("no valid email or phone")),
        )
    )
    leads = leads.filter(~(pl.col("_unreachable") | pl.col("_duplicate"))).select(
        [pl.col(c).cast(t) for c, t in LEAD_COLUMNS.items()]
    )
    return leads, pl.concat(rejected)


# --------------------------------------------------------------------------- web events
WEB_FIELDS = {
    "event_id": Field("messageId", required=True),
    "event_type": Field("type", required=True),
    "anonymous_id": Field("anonymousId"),
    "user_id": Field("userId"),
    "event_at": Field("timestamp", "timestamp", required=True),
    "event_name": Field("event"),
    "page_path": Field("properties.path"),
    "referrer": Field("properties.referrer"),
    "email_raw": Field("traits.email"),
}


def web_events(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "web_events", WEB_FIELDS)
    ok = _with_email(ok)
    no_visitor = pl.col("anonymous_id").is_null() & pl.col("user_id").is_null()
    bad = pl.concat([bad, reject_frame(ok.filter(no_visitor), "web_events", pl.lit("anonymous_id"), pl.lit("no anonymous id or user id"))])
    ok = ok.filter(~no_visitor).with_columns(
        (pl.col("event_at").dt.date() < pl.col("delivery_date")).alias("is_late")
    )
    return ok.drop("email_raw"), bad


# --------------------------------------------------------------------------- CRM
ACCOUNT_FIELDS = {
    "account_id": Field("Id", required=True), "name": Field("Name"), "website": Field("Website"),
    "industry": Field("Industry"), "employees": Field("NumberOfEmployees", "int"),
    "country": Field("BillingCountry"), "region": Field("BillingState"), "owner_id": Field("OwnerId"),
    "account_type": Field("Type"), "created_at": Field("CreatedDate", "timestamp"),
    "modified_at": Field("LastModifiedDate", "timestamp", required=True),
}
CONTACT_FIELDS = {
    "contact_id": Field("Id", required=True), "account_id": Field("AccountId"),
    "first_name": Field("FirstName"), "last_name": Field("LastName"), "email_raw": Field("Email"),
    "phone_raw": Field("Phone"), "job_title": Field("Title"), "owner_id": Field("OwnerId"),
    "lead_source": Field("LeadSource"), "created_at": Field("CreatedDate", "timestamp"),
    "modified_at": Field("LastModifiedDate", "timestamp", required=True),
}
OPPORTUNITY_FIELDS = {
    "opportunity_id": Field("Id", required=True), "account_id": Field("AccountId"),
    "contact_id": Field("ContactId"), "stage": Field("StageName", required=True),
    "amount": Field("Amount", "float"), "is_closed": Field("IsClosed", "bool"),
    "is_won": Field("IsWon", "bool"), "created_at": Field("CreatedDate", "timestamp", required=True),
    "close_date": Field("CloseDate", "date"), "modified_at": Field("LastModifiedDate", "timestamp", required=True),
    "owner_id": Field("OwnerId"),
}
USER_FIELDS = {
    "user_id": Field("Id", required=True), "territory": Field("Territory", required=True),
    "segment": Field("Segment", required=True), "daily_capacity": Field("DailyCapacity", "int", required=True),
    "is_active": Field("IsActive", "bool", required=True),
}


def crm_accounts(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "crm_accounts", ACCOUNT_FIELDS)
    ok = ok.with_columns(
        norm.url_domain(pl.col("website")).alias("domain"),
        norm.company_key(pl.col("name")).alias("company_key"),
        norm.country_iso2(pl.col("country")).alias("country"),
    )
    return ok, bad


def crm_contacts(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "crm_contacts", CONTACT_FIELDS)
    ok = _with_email(ok).with_columns(
        norm.phone_e164(pl.col("phone_raw"), pl.lit(None, dtype=pl.Utf8)).alias("phone_e164"),
        norm.name_key(pl.col("first_name")).alias("first_name_key"),
        norm.name_key(pl.col("last_name")).alias("last_name_key"),
    )
    return ok, bad


def crm_opportunities(raw: pl.DataFrame) -> Result:
    return parse_records(raw, "crm_opportunities", OPPORTUNITY_FIELDS)


def crm_users(raw: pl.DataFrame) -> Result:
    # Rep names and emails are not needed downstream; routing works on the CRM user id.
    return parse_records(raw, "crm_users", USER_FIELDS)


# --------------------------------------------------------------------------- others
ENRICHMENT_FIELDS = {
    "domain": Field("domain", required=True), "company_name": Field("company_name"),
    "industry": Field("industry"), "employee_count": Field("employee_count", "int"),
    "employee_range": Field("employee_range"), "country": Field("country"), "region": Field("region"),
    "city": Field("city"), "founded_year": Field("founded_year", "int"),
    "annual_revenue_usd": Field("annual_revenue_usd", "float"), "confidence": Field("confidence", "float"),
    "fetched_at": Field("fetched_at", "timestamp"),
}
AD_SPEND_FIELDS = {
    "spend_date": Field("date", "date", required=True), "channel": Field("channel", required=True),
    "campaign_id": Field("campaign_id"), "campaign_name": Field("campaign_name"),
    "impressions": Field("impressions", "int"), "clicks": Field("clicks", "int"),
    "spend": Field("spend", "float", required=True), "currency": Field("currency"),
}
CONSENT_FIELDS = {
    "event_id": Field("event_id", required=True), "occurred_at": Field("occurred_at", "timestamp", required=True),
    "email_raw": Field("email"), "phone_raw": Field("phone"), "event_type": Field("event_type", required=True),
    "consent_source": Field("source"),
}
REVIEW_FIELDS = {
    "decision_id": Field("decision_id", required=True), "lead_id": Field("lead_id", required=True),
    "reviewer": Field("reviewer"), "decided_at": Field("decided_at", "timestamp", required=True),
    "verdict": Field("verdict", required=True), "reason": Field("reason"),
}
CONSENT_TYPES = ("unsubscribe", "do_not_contact", "erasure_request")


def enrichment(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "enrichment", ENRICHMENT_FIELDS)
    return ok.with_columns(norm.url_domain(pl.col("domain")).alias("domain")), bad


def ad_spend(raw: pl.DataFrame) -> Result:
    return parse_records(raw, "ad_spend", AD_SPEND_FIELDS)


def consent_events(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "consent_events", CONSENT_FIELDS)
    ok = _with_email(ok).with_columns(
        norm.phone_e164(pl.col("phone_raw"), pl.lit(None, dtype=pl.Utf8)).alias("phone_e164"),
        pl.col("event_type").str.to_lowercase(),
    )
    unknown = ~pl.col("event_type").is_in(CONSENT_TYPES)
    no_key = pl.col("email_key").is_null() & pl.col("phone_e164").is_null()
    bad = pl.concat([
        bad,
        reject_frame(ok.filter(unknown | no_key), "consent_events",
                     pl.when(unknown).then(pl.lit("event_type")).otherwise(pl.lit("email")),
                     pl.when(unknown).then(pl.lit("unknown consent event type")).otherwise(pl.lit("no valid email or phone"))),
    ])
    return ok.filter(~(unknown | no_key)), bad


def review_decisions(raw: pl.DataFrame) -> Result:
    return parse_records(raw, "review_decisions", REVIEW_FIELDS)


TRANSFORMS = {
    "web_events": web_events,
    "form_leads": form_leads,
    "crm_accounts": crm_accounts,
    "crm_contacts": crm_contacts,
    "crm_opportunities": crm_opportunities,
    "crm_users": crm_users,
    "enrichment": enrichment,
    "ad_spend": ad_spend,
    "consent_events": consent_events,
    "review_decisions": review_decisions,
}
