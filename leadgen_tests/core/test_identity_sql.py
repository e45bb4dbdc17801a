"""The identity SQL of core/identity.py on small hand-made tables: suppression is safe (a person
with any suppressed record is suppressed, and no later merge or split of person ids ever
un-suppresses a record), golden-record fields name their source, and lead-to-account
matching by company name never overrides a contradicting domain."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgen_assets.core import identity

T0 = dt.datetime(2026, 6, 1)
N = 8  # records r0..r7


def _records(consents: list[bool]) -> pl.DataFrame:
    return pl.DataFrame({
        "record_key": [f"r{i}" for i in range(N)],
        "source": ["consent_events" if c else "form_leads" for c in consents],
        "email_key": [f"p{i}@acme-it.com" for i in range(N)],
        "is_role_address": [False] * N,
        "phone_e164": [None] * N,
        "first_name_key": ["ann"] * N,
        "last_name_key": ["smith"] * N,
        "company_domain": ["acme-it.com"] * N,
        "company_key": ["acme it"] * N,
        "country": ["GB"] * N,
        "seen_at": [T0 + dt.timedelta(hours=i) for i in range(N)],
        "delivery_date": [T0.date()] * N,
        "consent_type": ["unsubscribe" if c else None for c in consents],
    }, schema_overrides={"phone_e164": pl.Utf8, "consent_type": pl.Utf8})


def _run(con: duckdb.DuckDBPyConnection, labels: list[int]) -> dict[str, bool]:
    """One identity run with records grouped by ``labels``: returns record -> suppressed."""
    assignment = pl.DataFrame({"record_key": [f"r{i}" for i in range(N)], "person_id": [f"P{g}" for g in labels]})
    con.register("assignment", assignment)
    con.execute("CREATE OR REPLACE TABLE identity.person_records AS SELECT * FROM assignment")
    con.unregister("assignment")
    con.execute(f"CREATE OR REPLACE TABLE identity.persons AS {identity.PERSONS_SQL}")
    con.execute(f"INSERT INTO identity.suppressed_records BY NAME {identity.NEW_SUPPRESSED_RECORDS_SQL}")
    rows = con.execute(
        "SELECT pr.record_key, p.is_suppressed FROM identity.person_records pr JOIN identity.persons p USING (person_id)"
    ).fetchall()
    return dict(rows)


labels = st.lists(st.integers(min_value=0, max_value=3), min_size=N, max_size=N)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.booleans(), min_size=N, max_size=N), st.lists(labels, min_size=1, max_size=4))
def test_no_merge_or_split_ever_unsuppresses_a_record(consents: list[bool], runs: list[list[int]]) -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA identity")
    con.execute(identity.SUPPRESSED_RECORDS_DDL)
    records = _records(consents)
    con.register("records_src", records)
    con.execute("CREATE TEMP TABLE id_records AS SELECT * FROM records_src")
    ever_suppressed: set[str] = set()
    for grouping in runs:
        suppressed = _run(con, grouping)
        persons_with_consent = {g for g, c in zip(grouping, consents, strict=True) if c}
        for i, g in enumerate(grouping):
            key = f"r{i}"
            # a person with any suppressed record is suppressed ...
            if g in persons_with_consent or key in ever_suppressed:
                assert suppressed[key], f"{key} lost its suppression"
        # ... and whoever was suppressed once stays suppressed, whatever the new grouping
        assert all(suppressed[k] for k in ever_suppressed)
        ever_suppressed |= {k for k, s in suppressed.items() if s}
    reasons = con.execute("SELECT suppression_reasons FROM identity.persons WHERE is_suppressed").fetchall()
    assert all(r == ["unsubscribe"] for (r,) in reasons)


def test_golden_record_fields_name_their_source_record() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA identity")
    con.execute(identity.SUPPRESSED_RECORDS_DDL)
    records = _records([False] * N).with_columns(
        pl.when(pl.col("record_key") == "r5").then(pl.lit("+441632960001")).otherwise(None).alias("phone_e164")
    )
    con.register("records_src", records)
    con.execute("CREATE TEMP TABLE id_records AS SELECT * FROM records_src")
    _run(con, [0] * N)
    row = con.execute("SELECT email_key, email_key_source, phone_e164, phone_e164_source FROM identity.persons").fetchall()[0]
    assert row == ("p7@acme-it.com", "r7", "+441632960001", "r5")  # the latest email; the only phone


def test_a_company_name_matches_a_crm_account_only_where_no_domain_contradicts_it() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA signals; CREATE SCHEMA identity")
    con.execute("""CREATE TABLE signals.crm_accounts AS SELECT *, NULL::VARCHAR AS country FROM (VALUES
        ('001A', 'northwind it', 'northwind.com', TIMESTAMP '2026-06-01 00:00:00', DATE '2026-06-01', 2),
        ('001B', 'contoso', NULL, TIMESTAMP '2026-06-01 00:00:00', DATE '2026-06-01', 3)
    ) t(account_id, company_key, domain, modified_at, delivery_date, source_line)""")
    con.execute("""CREATE TABLE identity.persons AS SELECT *, NULL::VARCHAR AS country FROM (VALUES
        ('P1', 'northwind it', 'northwind-it.co.uk'),  -- same name, another website: another company
        ('P2', 'northwind it', NULL),                  -- free mail, no website: the name is the evidence
        ('P3', 'contoso', 'contoso.io'),               -- the CRM account has no domain to contradict
        ('P4', 'other', 'northwind.com')               -- the CRM account's own domain
    ) t(person_id, company_key, company_domain)""")
    con.execute("CREATE TABLE enrichment_names (domain VARCHAR, company_key VARCHAR)")
    matches = dict(
        (p, (a, rule)) for p, a, rule in con.execute(
            f"SELECT person_id, account_id, match_rule FROM ({identity.ACCOUNT_MATCHES_SQL})"
        ).fetchall()
    )
    assert matches["P1"][1] == "candidate_domain" and not matches["P1"][0].startswith("001")
    assert matches["P2"] == ("001A", "crm_company_name")
    assert matches["P3"] == ("001B", "crm_company_name")
    assert matches["P4"] == ("001A", "crm_domain")
