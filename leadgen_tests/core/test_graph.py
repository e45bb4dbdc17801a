"""The knowledge graph's answers (core/graph.py) and the fuzzy lead-to-account rules of
core/identity.py, on small hand-made tables:

* ownership spans start where the owner changes and end where the next owner starts;
* account engagement and the buying committee, as of a moment, ignore events delivered later
  and visitors identified later;
* a company name matches a CRM account through the enrichment provider's name for the
  domain, an acronym or a near-identical spelling, only when exactly one account fits and no
  domain contradicts it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from leadgen_assets.core import graph, identity

D = dt.date(2026, 6, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("CREATE SCHEMA signals; CREATE SCHEMA identity")
    return c


def test_ownership_spans_follow_owner_changes(con: duckdb.DuckDBPyConnection) -> None:
    # (account, delivery day, modified hour, owner, line): the last edit of a day is that day's version
    rows = [
        ("001A", 0, 9, "rep1", 1), ("001A", 1, 9, "rep1", 1),   # unchanged on day 1: one span
        ("001A", 3, 9, "rep9", 1), ("001A", 3, 15, "rep2", 2),  # two edits on day 3: the later wins
        ("001A", 5, 9, None, 1),                                # unassigned on day 5
        ("001B", 2, 9, "rep3", 1),
    ]
    con.execute("CREATE TABLE signals.crm_accounts (account_id VARCHAR, delivery_date DATE, modified_at TIMESTAMP, owner_id VARCHAR, source_line INT)")
    con.executemany(
        "INSERT INTO signals.crm_accounts VALUES (?, ?, ?, ?, ?)",
        [(a, day(d), dt.datetime.combine(day(d), dt.time(h)), o, line) for a, d, h, o, line in rows],
    )
    spans = con.execute(f"SELECT account_id, owner_id, valid_from, valid_to FROM ({graph.ACCOUNT_OWNERS_SQL}) ORDER BY ALL").fetchall()
    assert spans == [  # NULLs sort last
        ("001A", "rep1", day(0), day(3)),
        ("001A", "rep2", day(3), day(5)),
        ("001A", None, day(5), None),
        ("001B", "rep3", day(2), None),
    ]
    con.execute(f"CREATE TABLE identity.account_owners AS {graph.ACCOUNT_OWNERS_SQL}")

    def owner_on(n: int) -> str | None:
        found = con.execute(
            "SELECT owner_id FROM identity.account_owners WHERE account_id = '001A' AND valid_from <= ? "
            "AND (valid_to IS NULL OR ? < valid_to)", [day(n), day(n)]
        ).fetchall()
        assert len(found) <= 1  # spans never overlap
        return found[0][0] if found else None

    assert [owner_on(n) for n in range(-1, 7)] == [None, "rep1", "rep1", "rep1", "rep2", "rep2", None, None]


def _activity_world(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE TABLE signals.web_events AS SELECT * FROM (VALUES
        ('e1', 'v1', TIMESTAMP '2026-06-20 10:00:00', DATE '2026-06-20', '/pricing'),
        ('e2', 'v1', TIMESTAMP '2026-06-21 10:00:00', DATE '2026-06-21', '/services/it'),
        ('e3', 'v2', TIMESTAMP '2026-06-22 10:00:00', DATE '2026-06-22', '/'),
        ('e4', 'v3', TIMESTAMP '2026-06-23 10:00:00', DATE '2026-07-05', '/'),       -- delivered 12 days late
        ('e5', 'v4', TIMESTAMP '2026-06-24 10:00:00', DATE '2026-06-24', '/'),
        ('e6', 'v5', TIMESTAMP '2026-04-01 10:00:00', DATE '2026-04-01', '/'),       -- long before the window
        ('e7', 'v6', TIMESTAMP '2026-06-22 10:00:00', DATE '2026-06-22', '/')
    ) t(event_id, anonymous_id, event_at, delivery_date, page_path)""")
    con.execute("""CREATE TABLE identity.visitor_map AS SELECT * FROM (VALUES
        ('v1', 'P1', TIMESTAMP '2026-06-21 10:05:00', DATE '2026-06-21'),
        ('v2', 'P2', TIMESTAMP '2026-06-22 09:00:00', DATE '2026-06-22'),
        ('v3', 'P3', TIMESTAMP '2026-06-23 09:00:00', DATE '2026-06-23'),
        ('v4', 'P4', TIMESTAMP '2026-07-10 09:00:00', DATE '2026-07-10'),  -- identified only later
        ('v5', 'P5', TIMESTAMP '2026-04-01 09:00:00', DATE '2026-04-01'),
        ('v6', 'P6', TIMESTAMP '2026-06-22 09:00:00', DATE '2026-07-03')   -- identified early, the call delivered late
    ) t(anonymous_id, person_id, linked_at, linked_on)""")
    con.execute("""CREATE TABLE identity.account_matches AS SELECT * FROM (VALUES
        ('P1', 'ACC'), ('P2', 'ACC'), ('P3', 'ACC'), ('P4', 'ACC'), ('P5', 'ACC'), ('P6', 'ACC')
    ) t(person_id, account_id)""")
    con.execute(f"CREATE TABLE identity.person_activity AS {graph.PERSON_ACTIVITY_SQL}")


def _committee_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> tuple[int, int]:
    """The filters the lead features use: full days before ``as_of``, delivered and identified by then."""
    return con.execute(
        """SELECT count(DISTINCT person_id), coalesce(sum(events), 0)
           FROM identity.person_activity JOIN identity.account_matches USING (person_id)
           WHERE account_id = 'ACC' AND event_day >= ?::DATE - 30 AND event_day < ? AND link_day < ?
             AND link_delivered_on <= ? AND delivery_date <= ?""",
        [as_of, as_of, as_of, as_of, as_of],
    ).fetchall()[0]


def test_account_engagement_as_of_a_day_uses_only_what_was_known_then(con: duckdb.DuckDBPyConnection) -> None:
    _activity_world(con)
    # on 25 June: P1 and P2 (P3's event arrives on 5 July, P4 is identified on 10 July, P5 is too
    # old, and P6's identify call, made on 22 June, arrives only on 3 July)
    assert _committee_as_of(con, dt.date(2026, 6, 25)) == (2, 3)
    # on 6 July the late deliveries have arrived: P3's event and P6's identify call
    assert _committee_as_of(con, dt.date(2026, 7, 6)) == (4, 5)
    # on 11 July P4 is known too: anonymous browsing before identification counts
    assert _committee_as_of(con, dt.date(2026, 7, 11)) == (5, 6)
    # P1's pricing view is kept per person and day
    assert con.execute("SELECT sum(pricing_views) FROM identity.person_activity WHERE person_id = 'P1'").fetchall() == [(1,)]


def test_buying_committees_are_as_of_the_day_after_the_latest_delivery(con: duckdb.DuckDBPyConnection) -> None:
    _activity_world(con)
    con.execute("""CREATE TABLE identity.accounts AS SELECT 'ACC' AS account_id, true AS is_crm_account,
                   'acc.com' AS domain, 'IT' AS industry, 40 AS employees, 5 AS n_persons""")
    con.execute("""CREATE TABLE identity.account_owners AS SELECT * FROM (VALUES
        ('ACC', 'rep1', DATE '2026-06-01', DATE '2026-07-01'), ('ACC', 'rep2', DATE '2026-07-01', NULL)
    ) t(account_id, owner_id, valid_from, valid_to)""")
    rows = con.sql(graph.BUYING_COMMITTEES_SQL).pl()
    assert rows.height == 1
    row = rows.row(0, named=True)
    # latest delivery 5 July -> as of 6 July: P4 is not identified yet, P5 is out of the window,
    # P6's late identify call has arrived
    assert row["as_of_day"] == dt.date(2026, 7, 6)
    assert (row["committee_size_30d"], row["events_30d"], row["committee"]) == (4, 5, ["P1", "P2", "P3", "P6"])
    assert (row["owner_id"], row["owned_since"], row["people_known"]) == ("rep2", dt.date(2026, 7, 1), 5)


def test_where_a_person_works_is_known_from_the_day_it_was_delivered(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE TABLE identity.person_records AS SELECT * FROM (VALUES
        ('r1', 'P1', DATE '2026-06-01', TIMESTAMP '2026-06-01 09:00:00', 'acme.com', 'acme', false),
        ('r2', 'P1', DATE '2026-06-05', TIMESTAMP '2026-06-05 09:00:00', 'globex.com', 'globex', false),  -- moved
        ('r3', 'P1', DATE '2026-06-07', TIMESTAMP '2026-05-20 09:00:00', 'acme.com', 'acme', false),      -- old record, delivered late
        ('r4', 'P1', DATE '2026-06-09', TIMESTAMP '2026-06-09 09:00:00', 'test.com', 'test', false),      -- a placeholder
        ('r5', 'P2', DATE '2026-06-02', TIMESTAMP '2026-06-02 09:00:00', NULL, 'initech', false),
        ('r6', 'P3', DATE '2026-06-02', TIMESTAMP '2026-06-02 09:00:00', 'nobody.com', 'x', true)         -- placeholder record
    ) t(record_key, person_id, delivery_date, seen_at, domain, company, is_placeholder_record)""")
    spans = con.execute(f"SELECT person_id, domain, company, valid_from, valid_to FROM ({graph.PERSON_COMPANIES_SQL}) ORDER BY ALL").fetchall()
    assert spans == [
        ("P1", "acme.com", "acme", dt.date(2026, 6, 1), dt.date(2026, 6, 5)),
        ("P1", "globex.com", "globex", dt.date(2026, 6, 5), None),  # neither the late old record nor test.com changes it
        ("P2", None, "initech", dt.date(2026, 6, 2), None),
    ]


def _match(con: duckdb.DuckDBPyConnection, crm: list[tuple], persons: list[tuple], enrichment: list[tuple] = ()) -> dict:
    con.execute("CREATE TABLE signals.crm_accounts (account_id VARCHAR, company_key VARCHAR, domain VARCHAR, country VARCHAR, "
                "modified_at TIMESTAMP, delivery_date DATE, source_line INT)")
    con.executemany("INSERT INTO signals.crm_accounts VALUES (?, ?, ?, ?, TIMESTAMP '2026-06-01 00:00:00', DATE '2026-06-01', 1)", crm)
    con.execute("CREATE TABLE identity.persons (person_id VARCHAR, company_key VARCHAR, company_domain VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO identity.persons VALUES (?, ?, ?, ?)", persons)
    con.execute("CREATE TABLE enrichment_names (domain VARCHAR, company_key VARCHAR)")
    if enrichment:
        con.executemany("INSERT INTO enrichment_names VALUES (?, ?)", enrichment)
    return {p: (a, rule, conf) for p, a, rule, conf in con.execute(
        f"SELECT person_id, account_id, match_rule, confidence FROM ({identity.ACCOUNT_MATCHES_SQL})").fetchall()}


def test_enrichment_names_the_company_behind_a_domain(con: duckdb.DuckDBPyConnection) -> None:
    m = _match(
        con,
        crm=[("001A", "harbour dental group", None, "GB"), ("001B", "kestrel legal", "kestrel.law", "GB")],
        persons=[
            ("P1", "hdg dental", "harbourdental.co.uk", "GB"),  # typed something else; enrichment knows the domain
            ("P2", None, "kestrel-legal.co.uk", "GB"),          # enrichment says Kestrel Legal, but that account has its own website
        ],
        enrichment=[("harbourdental.co.uk", "harbour dental group"), ("kestrel-legal.co.uk", "kestrel legal")],
    )
    assert m["P1"][:2] == ("001A", "crm_enrichment_name")
    assert m["P2"][1] == "candidate_domain"


def test_an_acronym_matches_one_account_of_several_words(con: duckdb.DuckDBPyConnection) -> None:
    m = _match(
        con,
        crm=[
            ("001A", "pacific northwest roofing", None, "US"),
            ("001B", "blue river and sons", None, "US"),   # 'and' is not an initial: brs
            ("001C", "metro legal", None, "US"), ("001D", "midtown law", None, "US"),  # both 'ml': ambiguous
            ("001E", "acme", None, "US"),                  # one word: no acronym
        ],
        persons=[("P1", "pnr", None, "US"), ("P2", "brs", None, "US"), ("P3", "ml", None, "US"), ("P4", "a", None, "US"),
                 ("P5", "pnr", "pnr-consulting.com", "US")],  # a domain of its own does not contradict a CRM account without one
    )
    assert m["P1"][:2] == ("001A", "crm_company_acronym")
    assert m["P2"][:2] == ("001B", "crm_company_acronym")
    assert m["P3"][1] == "candidate_company_name"
    assert m["P4"][1] == "candidate_company_name"
    assert m["P5"][:2] == ("001A", "crm_company_acronym")
    assert m["P1"][2] < identity.MATCH_CONFIDENCE["crm_company_name"]


def test_a_near_identical_spelling_matches_only_one_close_account(con: duckdb.DuckDBPyConnection) -> None:
    m = _match(
        con,
        crm=[
            ("001A", "brightwater plumbing", None, "GB"),
            ("001B", "stonebridge dental", None, "GB"), ("001C", "stonebridge dentak", None, "GB"),  # two equally close
            ("001D", "riverside accountants", "riverside.co.uk", "GB"),
            ("001E", "lakeshore legal", None, "US"),
            ("001F", "warren electric", "warrenelectric.com", "US"),
        ],
        persons=[
            ("P1", "brightwater plumbng", None, "GB"),                     # one slip
            ("P2", "stonebridge dentaj", None, "GB"),                      # as close to two accounts: no match
            ("P3", "riverside accountant", "riversideacc.co.uk", "GB"),    # close, but another website
            ("P4", "lakeshore legl", None, "GB"),                          # close, but another country
            ("P5", "brightwater pumps", None, "GB"),                       # too different
            ("P6", "warner electric", None, "US"),                         # another firm: that one has a website
            ("P7", "brihgtwater plumbing", None, "GB"),                    # two letters swapped
        ],
    )
    assert m["P1"][:2] == ("001A", "crm_company_fuzzy")
    assert m["P7"][:2] == ("001A", "crm_company_fuzzy")
    assert all(m[p][1].startswith("candidate") for p in ("P2", "P3", "P4", "P5", "P6"))


def test_exact_rules_win_over_fuzzy_ones(con: duckdb.DuckDBPyConnection) -> None:
    m = _match(
        con,
        crm=[("001A", "acme it", "acme-it.com", "GB"), ("001B", "acme its", None, "GB")],
        persons=[("P1", "acme its", "acme-it.com", "GB")],
    )
    assert m["P1"] == ("001A", "crm_domain", identity.MATCH_CONFIDENCE["crm_domain"])
