"""Data contracts of the signals tables, as pandera (polars) schemas.

A contract is checked on the rows about to be written, before the transaction: invalid
data never becomes visible. Validation is eager and at full data depth (pandera checks
only the schema of a LazyFrame unless told otherwise, so it is told). Failures are
reported as (column, check, rows) only: pandera's failure cases hold raw values, which
can be personal data, and they never leave this module.

``docs/contracts.md`` is generated from these schemas (``leadgen docs``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from leadgen_assets.core import layouts
from leadgen_assets.core.normalize import E164_SHAPE, EMAIL_SHAPE, REGION_SHAPE

E164 = E164_SHAPE
ISO2 = r"^[A-Z]{2}$"


def _col(dtype: type[pl.DataType] | pl.DataType, required: bool = False, *checks: pa.Check) -> pa.Column:
    return pa.Column(dtype, nullable=not required, checks=list(checks) or None)


LINEAGE = {
    "delivery_date": _col(pl.Date, True),
    "source_file": _col(pl.Utf8, True),
    "source_line": _col(pl.Int64, True, pa.Check.ge(1)),
}
EMAIL = {
    "email": _col(pl.Utf8, False, pa.Check.str_matches(EMAIL_SHAPE)),
    "email_key": _col(pl.Utf8, False, pa.Check.str_matches(EMAIL_SHAPE)),
    "email_domain": _col(pl.Utf8),
    "is_free_mail": _col(pl.Boolean, True),
    "is_role_address": _col(pl.Boolean, True),
}
PHONE = {"phone_e164": _col(pl.Utf8, False, pa.Check.str_matches(E164))}
NAME_KEYS = {"first_name_key": _col(pl.Utf8), "last_name_key": _col(pl.Utf8)}

reachable = pa.Check(
    lambda data: data.lazyframe.select(pl.col("email").is_not_null() | pl.col("phone_e164").is_not_null()),
    name="reachable_by_email_or_phone",
)


def _schema(name: str, columns: dict[str, pa.Column], unique: list[str] | None = None, checks=None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({**LINEAGE, **columns}, strict=True, name=name, unique=unique, checks=checks)


CONTRACTS: dict[str, pa.DataFrameSchema] = {
    "web_events": _schema(
        "signals.web_events",
        {
            "event_id": _col(pl.Utf8, True),
            "event_type": _col(pl.Utf8, True, pa.Check.isin(["page", "track", "identify", "screen", "group", "alias"])),
            "anonymous_id": _col(pl.Utf8),
            "user_id": _col(pl.Utf8),
            "event_at": _col(pl.Datetime("us"), True),
            "event_name": _col(pl.Utf8),
            "page_path": _col(pl.Utf8),
            "referrer": _col(pl.Utf8),
            **EMAIL,
            "is_late": _col(pl.Boolean, True),
        },
    ),
    "form_leads": _schema(
        "signals.form_leads",
        {
            "lead_id": _col(pl.Utf8, True),
            "channel": _col(pl.Utf8, True, pa.Check.isin(list(layouts.CHANNELS))),
            "source_record_id": _col(pl.Utf8, True),
            "submitted_at": _col(pl.Datetime("us"), True),
            "campaign": _col(pl.Utf8),
            "first_name": _col(pl.Utf8),
            "last_name": _col(pl.Utf8),
            **NAME_KEYS,
            "email_raw": _col(pl.Utf8),
            **EMAIL,
            "phone_raw": _col(pl.Utf8),
            **PHONE,
            "company": _col(pl.Utf8),
            "company_key": _col(pl.Utf8),
            "website_domain": _col(pl.Utf8),
            "company_domain": _col(pl.Utf8),
            "job_title": _col(pl.Utf8),
            "postal_code": _col(pl.Utf8),
            "city": _col(pl.Utf8),
            "country": _col(pl.Utf8, False, pa.Check.str_matches(ISO2)),
            "service_needed": _col(pl.Utf8),
            "budget": _col(pl.Utf8),
            "timeline": _col(pl.Utf8),
            "company_size": _col(pl.Utf8),
            "employees": _col(pl.Int64, False, pa.Check.ge(0)),
            "industry": _col(pl.Utf8),
            "anonymous_id": _col(pl.Utf8),
            "referred_by": _col(pl.Utf8),
            "unmapped_columns": _col(pl.Utf8),
            "custom_attributes": _col(pl.Utf8),
        },
        unique=["delivery_date", "lead_id"],
        checks=[reachable],
    ),
    "crm_accounts": _schema(
        "signals.crm_accounts",
        {
            "account_id": _col(pl.Utf8, True),
            "name": _col(pl.Utf8),
            "website": _col(pl.Utf8),
            "industry": _col(pl.Utf8),
            "employees": _col(pl.Int64, False, pa.Check.ge(0)),
            "country": _col(pl.Utf8, False, pa.Check.str_matches(ISO2)),
            "region": _col(pl.Utf8),
            "region_iso": _col(pl.Utf8, False, pa.Check.str_matches(REGION_SHAPE)),
            "owner_id": _col(pl.Utf8),
            "account_type": _col(pl.Utf8),
            "created_at": _col(pl.Datetime("us")),
            "modified_at": _col(pl.Datetime("us"), True),
            "domain": _col(pl.Utf8),
            "company_key": _col(pl.Utf8),
        },
    ),
    "crm_contacts": _schema(
        "signals.crm_contacts",
        {
            "contact_id": _col(pl.Utf8, True),
            "account_id": _col(pl.Utf8),
            "first_name": _col(pl.Utf8),
            "last_name": _col(pl.Utf8),
            "email_raw": _col(pl.Utf8),
            "phone_raw": _col(pl.Utf8),
            "job_title": _col(pl.Utf8),
            "owner_id": _col(pl.Utf8),
            "lead_source": _col(pl.Utf8),
            "created_at": _col(pl.Datetime("us")),
            "modified_at": _col(pl.Datetime("us"), True),
            **EMAIL,
            **PHONE,
            **NAME_KEYS,
        },
    ),
    "crm_opportunities": _schema(
        "signals.crm_opportunities",
        {
            "opportunity_id": _col(pl.Utf8, True),
            "account_id": _col(pl.Utf8),
            "contact_id": _col(pl.Utf8),
            "stage": _col(pl.Utf8, True),
            "amount": _col(pl.Float64, False, pa.Check.ge(0)),
            "is_closed": _col(pl.Boolean),
            "is_won": _col(pl.Boolean),
            "created_at": _col(pl.Datetime("us"), True),
            "close_date": _col(pl.Date),
            "modified_at": _col(pl.Datetime("us"), True),
            "owner_id": _col(pl.Utf8),
        },
    ),
    "crm_users": _schema(
        "signals.crm_users",
        {
            "user_id": _col(pl.Utf8, True),
            "territory": _col(pl.Utf8, True),
            "segment": _col(pl.Utf8, True, pa.Check.isin(["SMB", "Mid-Market"])),
            "daily_capacity": _col(pl.Int64, True, pa.Check.ge(0)),
            "is_active": _col(pl.Boolean, True),
        },
        unique=["delivery_date", "user_id"],
    ),
    "enrichment": _schema(
        "signals.enrichment",
        {
            "domain": _col(pl.Utf8, True),
            "company_name": _col(pl.Utf8),
            "industry": _col(pl.Utf8),
            "employee_count": _col(pl.Int64, False, pa.Check.ge(0)),
            "employee_range": _col(pl.Utf8),
            "country": _col(pl.Utf8, False, pa.Check.str_matches(ISO2)),
            "region": _col(pl.Utf8),
            "region_iso": _col(pl.Utf8, False, pa.Check.str_matches(REGION_SHAPE)),
            "city": _col(pl.Utf8),
            "founded_year": _col(pl.Int64),
            "annual_revenue_usd": _col(pl.Float64, False, pa.Check.ge(0)),
            "confidence": _col(pl.Float64, False, pa.Check.in_range(0, 1)),
            "fetched_at": _col(pl.Datetime("us")),
        },
    ),
    "ad_spend": _schema(
        "signals.ad_spend",
        {
            "spend_date": _col(pl.Date, True),
            "channel": _col(pl.Utf8, True),
            "campaign_id": _col(pl.Utf8),
            "campaign_name": _col(pl.Utf8),
            "impressions": _col(pl.Int64, False, pa.Check.ge(0)),
            "clicks": _col(pl.Int64, False, pa.Check.ge(0)),
            "spend": _col(pl.Float64, True, pa.Check.ge(0)),
            "currency": _col(pl.Utf8),
        },
    ),
    "consent_events": _schema(
        "signals.consent_events",
        {
            "event_id": _col(pl.Utf8, True),
            "occurred_at": _col(pl.Datetime("us"), True),
            "email_raw": _col(pl.Utf8),
            "phone_raw": _col(pl.Utf8),
            "event_type": _col(pl.Utf8, True, pa.Check.isin(["unsubscribe", "do_not_contact", "erasure_request"])),
            "consent_source": _col(pl.Utf8),
            **EMAIL,
            **PHONE,
        },
        checks=[reachable],
    ),
    "review_decisions": _schema(
        "signals.review_decisions",
        {
            "decision_id": _col(pl.Utf8, True),
            "lead_id": _col(pl.Utf8, True),
            "reviewer": _col(pl.Utf8),
            "decided_at": _col(pl.Datetime("us"), True),
            "verdict": _col(pl.Utf8, True, pa.Check.isin(["accept", "reject", "reroute"])),
            "reason": _col(pl.Utf8),
        },
    ),
}


class ContractViolation(Exception):
    """Rows broke a contract; nothing was written. The message has counts, never values."""


@dataclass(frozen=True)
class ContractReport:
    table: str
    rows: int
    failures: pl.DataFrame  # column, check, rows: no values

    @property
    def passed(self) -> bool:
        return self.failures.is_empty()

    def describe(self) -> str:
        parts = [f"{c}: {k} ({n} rows)" for c, k, n in self.failures.iter_rows()]
        return f"{self.table}: {len(parts)} contract failure(s): " + "; ".join(parts)


FAILURE_SCHEMA = {"column": pl.Utf8, "check": pl.Utf8, "rows": pl.UInt32}


def enforce(source: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, ContractReport]:
    """Split ``frame`` into rows that keep the contract and quarantine rows for those that
    break it (file, line, column and check; no values). A break of the table itself (a
    missing column, a wrong type) is a bug in leadgen and raises ``ContractViolation``."""
    schema = CONTRACTS[source]
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        try:
            schema.validate(frame, lazy=True)
            return frame, _quarantine(frame.clear(), source), ContractReport(schema.name or source, frame.height, pl.DataFrame(schema=FAILURE_SCHEMA))
        except pa.errors.SchemaErrors as err:
            failure_cases = err.failure_cases
    cases = failure_cases.select(
        pl.col("index").cast(pl.Int64),
        pl.col("column").fill_null("(table)").cast(pl.Utf8),
        pl.col("check").cast(pl.Utf8),
    )
    table_level = failure_cases.filter(pl.col("index").is_null())
    if table_level.height:
        # Table-level failure cases are column names and dtypes, not row values: safe to show.
        what = "; ".join(f"{c} {v}" for c, v in table_level.select("check", "failure_case").iter_rows())
        raise ContractViolation(
            f"{schema.name}: the table breaks its contract ({what}). Nothing was written; the signals "
            "code and its contract disagree: fix one of them (leadgen_assets/core/signals.py, "
            "leadgen_assets/core/contracts.py)."
        )
    # one reason per row: the first failing column and check
    first = cases.sort("index", "column", "check").unique("index", keep="first", maintain_order=True)
    indexed = frame.with_row_index("_i")
    rejects = _quarantine(indexed.join(first, left_on="_i", right_on="index", how="inner"), source)
    kept = indexed.join(first, left_on="_i", right_on="index", how="anti").drop("_i")
    return kept, rejects, ContractReport(schema.name or source, frame.height, _summary(cases))


def _summary(cases: pl.DataFrame) -> pl.DataFrame:
    return (
        cases.group_by("column", "check").len("rows").sort("rows", "column", descending=[True, False])
        .select("column", "check", pl.col("rows").cast(pl.UInt32))
    )


def _quarantine(rows: pl.DataFrame, source: str) -> pl.DataFrame:
    has_case = "column" in rows.columns
    return rows.select(
        pl.col("delivery_date"),
        pl.lit(source).alias("source"),
        pl.col("source_file"),
        pl.col("source_line"),
        (pl.col("column") if has_case else pl.lit(None, dtype=pl.Utf8)).alias("field"),
        (pl.lit("contract: ") + pl.col("check") if has_case else pl.lit(None, dtype=pl.Utf8)).alias("reason"),
    )


def contracts_markdown() -> str:
    """docs/contracts.md: every signals table's columns, types and checks."""
    lines = [
        "# Data contracts of the signals tables",
        "",
        "Generated from `leadgen_assets/core/contracts.py` by `leadgen docs`; a test fails when it is stale.",
        "Each contract is checked, at full data depth, on the rows about to be written. A row that",
        "breaks it goes to `signals.quarantine` (file, line, column, check) instead of the table; a",
        "table that breaks it (a missing, extra or retyped column) is not written at all. The asset",
        "check `contract` reports failures as column, check and row count, never values. Tables are",
        "strict: no column beyond these.",
    ]
    for source, schema in CONTRACTS.items():
        lines += ["", f"## {schema.name}", ""]
        extras = []
        if schema.unique:
            extras.append(f"unique: ({', '.join(schema.unique)})")
        extras += [f"table check: `{c.name}`" for c in schema.checks or []]
        if extras:
            lines += ["; ".join(extras), ""]
        lines += ["| column | type | required | checks |", "|---|---|---|---|"]
        for name, col in schema.columns.items():
            checks = ", ".join(f"`{_check_text(c)}`" for c in col.checks)
            lines.append(f"| `{name}` | {col.dtype} | {'yes' if not col.nullable else ''} | {checks} |")
    return "\n".join(lines) + "\n"


def _check_text(check: pa.Check) -> str:
    stats = check.statistics or {}
    if not stats:
        return check.name
    return f"{check.name}(" + ", ".join(f"{k}={v}" for k, v in stats.items()) + ")"
