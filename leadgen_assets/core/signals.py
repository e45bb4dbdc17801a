"""From raw records to typed, normalised signals, one pure function per source.

Each function takes one delivery day's raw rows (``readers.RAW_SCHEMA``) and returns
``(accepted, rejected)``. Accepted rows carry their lineage (delivery day, file, line);
rejected rows carry the field and the reason. No value of a rejected row is kept outside
the raw table it came from, so quarantine never spreads PII.
"""

from __future__ import annotations

import json

import duckdb
import polars as pl

from leadgen_assets.core import attributes, layouts
from leadgen_assets.core import normalize as norm
from leadgen_assets.core.parsing import (
    Field,
    empty_quarantine,
    file_headers,
    parse_records,
    reject_files_missing_columns,
    reject_frame,
)

Result = tuple[pl.DataFrame, pl.DataFrame]
ISO = (norm.ISO_Z,)
DAY = ("%Y-%m-%d",)


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
    "anonymous_id": pl.Utf8, "referred_by": pl.Utf8, "unmapped_columns": pl.Utf8, "custom_attributes": pl.Utf8,
}


def _layouts(raw: pl.DataFrame) -> dict[tuple[str | None, tuple[str, ...]], list[str]]:
    """Files grouped by (channel, header): files that share a layout are parsed together."""
    firsts = raw.group_by("source_file", maintain_order=True).agg(pl.col("record").first())
    groups: dict[tuple[str | None, tuple[str, ...]], list[str]] = {}
    for source_file, record in firsts.iter_rows():
        channel = layouts.channel_of(str(source_file).rsplit("/", 1)[-1])
        groups.setdefault((channel, tuple(json.loads(record).keys())), []).append(source_file)
    return groups


def form_leads(raw: pl.DataFrame) -> Result:
    """Map each channel file's layout onto the lead schema, then normalise. The business's
    declared lead attributes (config/lead_attributes.toml) the layout carries are kept as a
    JSON object in ``custom_attributes``; other unmapped columns only by name."""
    declared = attributes.load()
    accepted, rejected = [], []
    for (channel, columns), files in _layouts(raw).items():
        rows = raw.filter(pl.col("source_file").is_in(files))
        if channel is None:
            rejected.append(reject_frame(rows, "form_leads", pl.lit("file"), pl.lit("file name names no known channel")))
            continue
        mapping, unmapped = layouts.map_header(list(columns))
        missing = [f for f in layouts.REQUIRED_FIELDS if f not in mapping]
        if missing:
            rejected.append(
                reject_frame(rows, "form_leads", pl.lit(missing[0]), pl.lit(f"file has no column for required {missing[0]}"))
            )
            continue
        fields = {
            f: Field(
                col,
                "timestamp" if f == "submitted_at" else "id" if f in ("source_record_id", "anonymous_id") else "str",
                required=f in layouts.REQUIRED_FIELDS,
                formats=layouts.TIME_FORMATS[channel] if f == "submitted_at" else None,
            )
            for f, col in mapping.items()
        }
        carried = attributes.extract([c for c in columns if c not in mapping.values()], declared)
        fields |= {f"attr__{name}": Field(col, "str") for name, col in carried.items()}
        ok, bad = parse_records(rows, "form_leads", fields)
        rejected.append(bad)
        absent = [pl.lit(None, dtype=pl.Utf8).alias(f) for f in layouts.FIELD_KEYS if f not in mapping]
        custom = (
            pl.struct([pl.col(f"attr__{name}").alias(name) for name in carried]).struct.json_encode()
            if carried else pl.lit(None, dtype=pl.Utf8)
        )
        ok = ok.with_columns(
            *absent, pl.lit(channel).alias("channel"), pl.lit(",".join(unmapped) or None, dtype=pl.Utf8).alias("unmapped_columns"),
            custom.alias("custom_attributes"),
        ).drop([f"attr__{name}" for name in carried])
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
        norm.phone_e164(
            pl.col("phone_raw"), pl.col("country"), default_region=norm.SOURCE_COUNTRY["form_leads"]
        ).alias("phone_e164"),
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
        (pl.int_range(pl.len()).over("delivery_date", "lead_id") > 0).alias("_duplicate"),
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
# Web events are the high-volume source (tens of millions of rows), so they are parsed by
# DuckDB's vectorised JSON reader, in process, on the polars frame. The contract is strict:
# event times are UTC ISO 8601 with a Z (docs/landing-zone.md); anything else is a reject.
WEB_EVENT_STRUCTURE = (
    '{"messageId": "VARCHAR", "type": "VARCHAR", "anonymousId": "VARCHAR", "userId": "VARCHAR", '
    '"timestamp": "VARCHAR", "event": "VARCHAR", "properties": {"path": "VARCHAR", "referrer": "VARCHAR"}, '
    '"traits": {"email": "VARCHAR"}}'
)
WEB_EVENTS_SQL = """
WITH parsed AS (
    -- one parse: text that is not JSON gives NULL (try), and a JSON object starts with "{"
    SELECT delivery_date, source_file, source_line,
           CASE WHEN starts_with(ltrim(record), '{') THEN try(from_json(record, $structure)) END AS parsed_doc
    FROM frame
),
j AS (
    SELECT delivery_date, source_file, source_line, parsed_doc IS NOT NULL AS is_object,
           coalesce(parsed_doc, from_json('{}', $structure)) AS doc
    FROM parsed
),
v AS (
    SELECT delivery_date, source_file, source_line, is_object,
           nullif(trim(doc.messageId), '') AS event_id,
           nullif(trim(doc.type), '') AS event_type,
           nullif(trim(doc.anonymousId), '') AS anonymous_id,
           nullif(trim(doc.userId), '') AS user_id,
           nullif(trim(doc.timestamp), '') AS ts_text,
           nullif(trim(doc.event), '') AS event_name,
           nullif(trim(doc.properties.path), '') AS page_path,
           nullif(trim(doc.properties.referrer), '') AS referrer,
           doc.traits.email AS email_raw
    FROM j
)
SELECT *, try_strptime(ts_text, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ']) AS event_at,
       CASE WHEN NOT is_object THEN 'record'
            WHEN event_id IS NULL THEN 'event_id'
            WHEN event_type IS NULL THEN 'event_type'
            WHEN ts_text IS NULL THEN 'event_at'
            WHEN event_at IS NULL THEN 'event_at'
            WHEN anonymous_id IS NULL AND user_id IS NULL THEN 'anonymous_id' END AS reject_field,
       CASE WHEN NOT is_object THEN 'not a JSON object'
            WHEN event_id IS NULL THEN 'required event_id is missing'
            WHEN event_type IS NULL THEN 'required event_type is missing'
            WHEN ts_text IS NULL THEN 'required event_at is missing'
            WHEN event_at IS NULL THEN 'unparseable timestamp in event_at'
            WHEN anonymous_id IS NULL AND user_id IS NULL THEN 'no anonymous id or user id' END AS reason
FROM v
"""

WEB_COLUMNS = (
    "delivery_date", "source_file", "source_line", "event_id", "event_type", "anonymous_id", "user_id",
    "event_at", "event_name", "page_path", "referrer", "email_raw",
)


# Sources whose transform looks at each row on its own (no rule across rows, such as a
# duplicate id within the day): a day of them can be transformed in slices.
ROW_LOCAL = frozenset({"web_events"})


def web_events(raw: pl.DataFrame) -> Result:
    with duckdb.connect() as con:
        con.register("frame", raw)
        parsed = con.sql(WEB_EVENTS_SQL, params={"structure": WEB_EVENT_STRUCTURE}).pl()
    bad = reject_frame(parsed.filter(pl.col("reason").is_not_null()), "web_events", pl.col("reject_field"), pl.col("reason"))
    ok = parsed.filter(pl.col("reason").is_null()).select(WEB_COLUMNS).with_columns(
        pl.col("event_at").cast(pl.Datetime("us"))
    )
    ok = _with_email(ok).with_columns(
        (pl.col("event_at").dt.date() < pl.col("delivery_date")).alias("is_late")
    )
    return ok.drop("email_raw"), bad


# --------------------------------------------------------------------------- CRM
ACCOUNT_FIELDS = {
    "account_id": Field("Id", "id", required=True), "name": Field("Name"), "website": Field("Website"),
    "industry": Field("Industry"), "employees": Field("NumberOfEmployees", "int"),
    "country": Field("BillingCountry"), "region": Field("BillingState"), "owner_id": Field("OwnerId", "id"),
    "account_type": Field("Type"), "created_at": Field("CreatedDate", "timestamp", formats=ISO),
    "modified_at": Field("LastModifiedDate", "timestamp", required=True, formats=ISO),
}
CONTACT_FIELDS = {
    "contact_id": Field("Id", "id", required=True), "account_id": Field("AccountId", "id"),
    "first_name": Field("FirstName"), "last_name": Field("LastName"), "email_raw": Field("Email"),
    "phone_raw": Field("Phone"), "job_title": Field("Title"), "owner_id": Field("OwnerId", "id"),
    "lead_source": Field("LeadSource"), "created_at": Field("CreatedDate", "timestamp", formats=ISO),
    "modified_at": Field("LastModifiedDate", "timestamp", required=True, formats=ISO),
}
OPPORTUNITY_FIELDS = {
    "opportunity_id": Field("Id", "id", required=True), "account_id": Field("AccountId", "id"),
    "contact_id": Field("ContactId", "id"), "stage": Field("StageName", required=True),
    "amount": Field("Amount", "float"), "is_closed": Field("IsClosed", "bool"),
    "is_won": Field("IsWon", "bool"), "created_at": Field("CreatedDate", "timestamp", required=True, formats=ISO),
    "close_date": Field("CloseDate", "date", formats=DAY), "modified_at": Field("LastModifiedDate", "timestamp", required=True, formats=ISO),
    "owner_id": Field("OwnerId", "id"),
}
USER_FIELDS = {
    "user_id": Field("Id", "id", required=True), "territory": Field("Territory", required=True),
    "segment": Field("Segment", required=True), "daily_capacity": Field("DailyCapacity", "int", required=True),
    "is_active": Field("IsActive", "bool", required=True),
}


def _with_geography(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """ISO country, and the ISO 3166-2 region of the delivered region (the source's default
    country where the row names none)."""
    return frame.with_columns(norm.country_iso2(pl.col("country")).alias("country")).with_columns(
        norm.region_iso(pl.col("region"), pl.col("country"), default_country=norm.SOURCE_COUNTRY[source]).alias("region_iso"),
    )


def crm_accounts(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "crm_accounts", ACCOUNT_FIELDS)
    ok = ok.with_columns(
        norm.url_domain(pl.col("website")).alias("domain"),
        norm.company_key(pl.col("name")).alias("company_key"),
    )
    return _with_geography(ok, "crm_accounts"), bad


def crm_contacts(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "crm_contacts", CONTACT_FIELDS)
    ok = _with_email(ok).with_columns(
        norm.phone_e164(pl.col("phone_raw"), default_region=norm.SOURCE_COUNTRY["crm_contacts"]).alias("phone_e164"),
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
    "fetched_at": Field("fetched_at", "timestamp", formats=ISO),
}
AD_SPEND_FIELDS = {
    "spend_date": Field("date", "date", required=True, formats=DAY), "channel": Field("channel", "id", required=True),
    "campaign_id": Field("campaign_id", "id"), "campaign_name": Field("campaign_name"),
    "impressions": Field("impressions", "int"), "clicks": Field("clicks", "int"),
    "spend": Field("spend", "float", required=True), "currency": Field("currency"),
}
CONSENT_FIELDS = {
    "event_id": Field("event_id", "id", required=True), "occurred_at": Field("occurred_at", "timestamp", required=True, formats=ISO),
    "email_raw": Field("email"), "phone_raw": Field("phone"), "event_type": Field("event_type", required=True),
    "consent_source": Field("source"),
}
REVIEW_FIELDS = {
    "decision_id": Field("decision_id", "id", required=True), "lead_id": Field("lead_id", "id", required=True),
    "reviewer": Field("reviewer"), "decided_at": Field("decided_at", "timestamp", required=True, formats=ISO),
    "verdict": Field("verdict", required=True), "reason": Field("reason"),
}
CONSENT_TYPES = ("unsubscribe", "do_not_contact", "erasure_request")


def enrichment(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "enrichment", ENRICHMENT_FIELDS)
    ok = ok.with_columns(norm.url_domain(pl.col("domain")).alias("domain"))
    return _with_geography(ok, "enrichment"), bad


def ad_spend(raw: pl.DataFrame) -> Result:
    return parse_records(raw, "ad_spend", AD_SPEND_FIELDS)


def consent_events(raw: pl.DataFrame) -> Result:
    ok, bad = parse_records(raw, "consent_events", CONSENT_FIELDS)
    ok = _with_email(ok).with_columns(
        norm.phone_e164(pl.col("phone_raw"), default_region=norm.SOURCE_COUNTRY["consent_events"]).alias("phone_e164"),
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


def transform(source: str, raw: pl.DataFrame) -> Result:
    """Signals of one batch of a source's raw rows. Lines the reader could not read as
    records (``read_error``) are quarantined here with the reader's reason, and so is every
    row of a CSV file whose header has no column for a required field."""
    if "read_error" in raw.columns:
        unreadable = raw.filter(pl.col("read_error").is_not_null())
        raw = raw.filter(pl.col("read_error").is_null()).drop("read_error")
    else:
        unreadable = raw.clear()
    rejected = [reject_frame(unreadable, source, pl.lit("record"), pl.col("read_error"))] if unreadable.height else []
    if source in CSV_FIELDS:  # a file without a required column is rejected whole (form_leads: per layout)
        raw, whole_files = reject_files_missing_columns(raw, source, CSV_FIELDS[source])
        rejected.append(whole_files)
    ok, bad = TRANSFORMS[source](raw)
    return ok, pl.concat([*rejected, bad])


EXTRA_SCHEMA = {"source_file": pl.Utf8, "column": pl.Utf8}


def extra_columns(source: str, raw: pl.DataFrame) -> pl.DataFrame:
    """(source_file, column) for every delivered CSV column that feeds no field of the
    source. Such columns are kept (the raw table holds every column as delivered) and
    reported here, never dropped silently. Names only: a header holds no personal data."""
    rows: list[tuple[str, str]] = []
    if source == "form_leads" or source in CSV_FIELDS:
        known = {spec.key for spec in CSV_FIELDS.get(source, {}).values()} | set(UNUSED_COLUMNS.get(source, ()))
        for file, header in file_headers(raw).items():
            unused = layouts.map_header(header)[1] if source == "form_leads" else [c for c in header if c not in known]
            rows += [(file, column) for column in unused]
    return pl.DataFrame(rows, schema=EXTRA_SCHEMA, orient="row")


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

# The CSV sources parsed against one fixed field list (form_leads maps each channel's layout).
CSV_FIELDS = {
    "crm_accounts": ACCOUNT_FIELDS,
    "crm_contacts": CONTACT_FIELDS,
    "crm_opportunities": OPPORTUNITY_FIELDS,
    "crm_users": USER_FIELDS,
    "ad_spend": AD_SPEND_FIELDS,
    "consent_events": CONSENT_FIELDS,
    "review_decisions": REVIEW_FIELDS,
}
# Documented columns that no field reads (docs/landing-zone.md): delivered as expected, not extra.
UNUSED_COLUMNS = {"crm_users": ("Name", "Email"), "crm_opportunities": ("Name",)}
