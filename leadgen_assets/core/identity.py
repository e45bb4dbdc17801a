"""Identity: person records for the resolver, golden records, accounts, visitors, graph.

Runs as SQL on a DuckDB connection that holds the signals tables; no Dagster here.

* ``PERSON_INPUT_SQL`` gathers every person-bearing record (form leads, the latest version
  of each CRM contact with its account's name and website, identify calls, consent events)
  in the resolver's roles. The person resolver (core/resolve.py) links them: deterministic
  on email and phone (never on a role address or a placeholder), fuzzy on names, company,
  domain and place, with blocking, never-merge rules and a cluster cap.
* Person ids stay stable across runs (core/person_ids.py): merges and splits are logged.
* Suppression is monotone and sticky: a person is suppressed from the first consent event
  of any of its records, and every record of a suppressed person stays suppressed
  (``identity.suppressed_records``), so neither a merge nor a later split un-suppresses
  anyone.
"""

from __future__ import annotations

MAX_NAMES_PER_KEY = 3

# Values people type when they do not want to give theirs. They are never identifiers.
PLACEHOLDER_EMAIL_LOCALS = ("test", "testing", "tester", "noreply", "no-reply", "none", "na", "asdf", "null", "fake", "example", "abc", "xxx")
PLACEHOLDER_EMAIL_DOMAINS = ("example.com", "test.com", "asdf.com", "mailinator.com", "email.com", "domain.com")
PLACEHOLDER_COMPANY_KEYS = ("test", "asdf", "none", "na", "n a", "company", "xxx", "self", "self employed", "private", "individual")
PLACEHOLDER_PHONES = ("+11234567890", "+10123456789", "+19876543210", "+12345678901")


def placeholder_email_sql(col: str) -> str:
    """SQL predicate: the email match key in ``col`` (a constant column name) is a placeholder."""
    locals_ = ", ".join(f"'{v}'" for v in PLACEHOLDER_EMAIL_LOCALS)
    domains = ", ".join(f"'{v}'" for v in PLACEHOLDER_EMAIL_DOMAINS)
    return f"(split_part({col}, '@', 1) IN ({locals_}) OR split_part({col}, '@', 2) IN ({domains}))"


def placeholder_phone_sql(col: str) -> str:
    """SQL predicate: the E.164 phone in ``col`` is a placeholder (one or two distinct digits
    after the country code, a straight run, or 555-555-5555-style fill)."""
    phones = ", ".join(f"'{v}'" for v in PLACEHOLDER_PHONES)
    national = f"regexp_replace({col}, '^\\+(1|44)', '')"
    return f"({col} IN ({phones}) OR len(list_distinct(string_split({national}, ''))) <= 2)"

RECORDS_SQL = """
CREATE OR REPLACE TEMP TABLE id_records AS
WITH contacts AS (
    SELECT * FROM signals.crm_contacts
    QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY modified_at DESC, delivery_date DESC, source_line DESC) = 1
)
SELECT 'form_leads:' || lead_id AS record_key, 'form_leads' AS source, channel,
       email_key, is_role_address, phone_e164, last_name_key, first_name_key,
       company_domain, company_key, country, submitted_at AS seen_at, delivery_date,
       CAST(NULL AS VARCHAR) AS consent_type
FROM signals.form_leads
UNION ALL
SELECT 'crm_contacts:' || contact_id, 'crm_contacts', NULL,
       email_key, is_role_address, phone_e164, last_name_key, first_name_key,
       CASE WHEN NOT is_free_mail THEN email_domain END, NULL, NULL,
       coalesce(created_at, modified_at), delivery_date, NULL
FROM contacts
UNION ALL
SELECT 'web_identify:' || event_id, 'web_events', NULL,
       email_key, is_role_address, NULL, NULL, NULL,
       CASE WHEN NOT is_free_mail THEN email_domain END, NULL, NULL,
       event_at, delivery_date, NULL
FROM signals.web_events WHERE event_type = 'identify' AND email_key IS NOT NULL
UNION ALL
SELECT 'consent_events:' || event_id, 'consent_events', NULL,
       email_key, is_role_address, phone_e164, NULL, NULL, NULL, NULL, NULL,
       occurred_at, delivery_date, event_type
FROM signals.consent_events
"""

# Every person-bearing record, in the resolver's roles (the input of PERSON_INPUT_SQL below).
PERSON_RECORDS_UNION_SQL = """
WITH contacts AS (
    SELECT * FROM signals.crm_contacts
    QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY modified_at DESC, delivery_date DESC, source_line DESC) = 1
),
crm AS (
    SELECT * FROM signals.crm_accounts
    QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY modified_at DESC, delivery_date DESC, source_line DESC) = 1
)
SELECT 'form_leads:' || lead_id AS record_key, 'form_leads' AS source, channel, delivery_date,
       submitted_at AS seen_at, CAST(NULL AS VARCHAR) AS consent_type,
       first_name, last_name, email, phone_e164 AS phone, company, website_domain AS website,
       city, postal_code AS postcode, country
FROM signals.form_leads
UNION ALL
SELECT 'crm_contacts:' || c.contact_id, 'crm_contacts', NULL, c.delivery_date,
       coalesce(c.created_at, c.modified_at), NULL,
       c.first_name, c.last_name, c.email, c.phone_e164, a.name, a.domain, NULL, NULL, a.country
FROM contacts c LEFT JOIN crm a USING (account_id)
UNION ALL
SELECT 'web_identify:' || event_id, 'web_events', NULL, delivery_date, event_at, NULL,
       NULL, NULL, email, NULL, NULL, NULL, NULL, NULL, NULL
FROM signals.web_events WHERE event_type = 'identify' AND email IS NOT NULL
UNION ALL
SELECT 'consent_events:' || event_id, 'consent_events', NULL, delivery_date, occurred_at, event_type,
       NULL, NULL, email, phone_e164, NULL, NULL, NULL, NULL, NULL
FROM signals.consent_events
"""
# The resolver's input: one row per person-bearing record, columns named by their role, and
# a digest of them that tells a record changed at its source (a CRM contact edited) since
# it was resolved.
PERSON_INPUT_SQL = f"""
WITH input AS ({PERSON_RECORDS_UNION_SQL})
SELECT *, md5(list_value(first_name, last_name, email, phone, company, website, city, postcode, country)::VARCHAR)
       AS input_digest
FROM input
-- a record delivered again on a later day (the same lead id re-exported) is one record: its latest delivery
QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY delivery_date DESC, seen_at DESC NULLS LAST) = 1
"""

# role -> column of PERSON_INPUT_SQL
PERSON_ROLES = {
    "first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
    "company": "company", "website": "website", "city": "city", "postcode": "postcode", "country": "country",
}
PERSON_META = ("record_key", "source", "channel", "delivery_date", "seen_at", "consent_type")

SUPPRESSED_RECORDS_DDL = """
CREATE TABLE IF NOT EXISTS identity.suppressed_records (
    record_key VARCHAR, suppressed_at TIMESTAMP, person_id VARCHAR, reasons VARCHAR[]
)
"""

# Every record of a suppressed person that is not yet on the sticky list.
NEW_SUPPRESSED_RECORDS_SQL = """
SELECT pr.record_key, p.suppressed_at, p.person_id, p.suppression_reasons AS reasons
FROM identity.person_records pr JOIN identity.persons p USING (person_id)
WHERE p.is_suppressed AND pr.record_key NOT IN (SELECT record_key FROM identity.suppressed_records)
"""

# Golden record. Survivorship: the most frequent name keys; the most recent non-role email
# key, phone, company domain, company key and country. Every field names the record it was
# taken from (<field>_source: the latest record carrying the chosen value).
GOLDEN_FIELDS = ("first_name_key", "last_name_key", "email_key", "phone_e164", "company_domain", "company_key", "country")
PERSONS_SQL = """
WITH rec AS (
    SELECT r.*, pr.person_id, sr.suppressed_at AS sticky_at, sr.reasons AS sticky_reasons
    FROM id_records r JOIN identity.person_records pr USING (record_key)
    LEFT JOIN identity.suppressed_records sr USING (record_key)
),
named AS (
    SELECT person_id,
           mode(first_name_key) FILTER (WHERE first_name_key IS NOT NULL) AS first_name_key,
           mode(last_name_key) FILTER (WHERE last_name_key IS NOT NULL) AS last_name_key,
           arg_max(email_key, seen_at) FILTER (WHERE email_key IS NOT NULL AND NOT is_role_address) AS email_key,
           arg_max(phone_e164, seen_at) FILTER (WHERE phone_e164 IS NOT NULL) AS phone_e164,
           arg_max(company_domain, seen_at) FILTER (WHERE company_domain IS NOT NULL) AS company_domain,
           arg_max(company_key, seen_at) FILTER (WHERE company_key IS NOT NULL) AS company_key,
           arg_max(country, seen_at) FILTER (WHERE country IS NOT NULL) AS country,
           min(seen_at) AS first_seen_at, max(seen_at) AS last_seen_at,
           count(*) AS n_records,
           count(*) FILTER (WHERE source = 'form_leads') AS n_leads,
           list_sort(list_distinct(list(source))) AS sources,
           least(min(seen_at) FILTER (WHERE consent_type IS NOT NULL), min(sticky_at)) AS suppressed_at,
           nullif(list_sort(list_distinct(flatten(
               [coalesce(list(consent_type) FILTER (WHERE consent_type IS NOT NULL), []::VARCHAR[])]
               || coalesce(list(sticky_reasons) FILTER (WHERE sticky_reasons IS NOT NULL), []::VARCHAR[][])
           ))), []::VARCHAR[]) AS suppression_reasons
    FROM rec GROUP BY person_id
),
sources AS (
    SELECT n.person_id,
           {sources}
    FROM rec r JOIN named n USING (person_id) GROUP BY n.person_id
)
SELECT named.*, suppressed_at IS NOT NULL AS is_suppressed, sources.* EXCLUDE (person_id)
FROM named JOIN sources USING (person_id)
""".replace("{sources}", ",\n           ".join(
    f"arg_max(r.record_key, r.seen_at) FILTER (WHERE r.{f} = n.{f}) AS {f}_source" for f in GOLDEN_FIELDS
))


# Lead-to-account matching. The first rule that holds wins:
#
# 1. crm_domain: the person's company domain is a CRM account's website domain.
# 2. crm_company_name: the company name key equals exactly one CRM account's.
# 3. crm_enrichment_name: the enrichment provider names the company behind the person's
#    domain, and that name key equals exactly one CRM account's.
# 4. crm_company_acronym: the person wrote the initials of exactly one CRM account's name of
#    two or more words ('IBM' for 'International Business Machines').
# 5. crm_company_fuzzy: the name key is one typing slip (a letter added, dropped, changed or
#    two swapped) from exactly one CRM account's that has no website, with the same first
#    three letters and at least FUZZY_MIN_LENGTH characters; the person has no company domain.
# 6. candidate_domain / candidate_company_name: no CRM account; a new-account candidate keyed
#    by the company domain (or name), with the evidence for it in identity.accounts.
#
# Rules 2-5 match a name only where no domain can contradict it: when both the person and the
# CRM account have a domain, they differ, and the same name on two websites is two companies.
# A placeholder domain (test.com) or an academic one (.edu: students are not buyers) never
# makes a candidate account; it still matches a CRM account that really has it.
#
# ``enrichment_names`` (domain, company_key) is the latest enrichment name of each domain,
# keyed by core.normalize.company_key; the asset registers it before running this SQL.
FUZZY_MIN_LENGTH = 8
MATCH_CONFIDENCE = {
    "crm_domain": 0.97, "crm_company_name": 0.9, "crm_enrichment_name": 0.85, "crm_company_acronym": 0.75,
    "crm_company_fuzzy": 0.7, "candidate_domain": 0.6, "candidate_company_name": 0.5,
}
ACRONYM_STOP_WORDS = ("and", "of", "the", "for", "de", "und")
ACCOUNT_MATCHES_SQL = """
WITH crm AS (
    SELECT * FROM signals.crm_accounts
    QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY modified_at DESC, delivery_date DESC, source_line DESC) = 1
),
crm_domain AS (SELECT domain, min(account_id) AS account_id FROM crm WHERE domain IS NOT NULL GROUP BY domain),
crm_name AS (
    SELECT company_key, min(account_id) AS account_id, min(domain) AS domain, min(country) AS country
    FROM crm WHERE company_key IS NOT NULL
    GROUP BY company_key HAVING count(*) = 1
),
crm_acronym AS (
    SELECT acronym, min(account_id) AS account_id, min(domain) AS domain FROM (
        SELECT account_id, domain, list_filter(string_split(company_key, ' '), lambda w: w NOT IN (STOP_WORDS)) AS words
        FROM crm WHERE company_key IS NOT NULL
    ), LATERAL (SELECT array_to_string(list_transform(words, lambda w: w[1]), '') AS acronym)
    WHERE len(words) >= 2
    GROUP BY acronym HAVING count(*) = 1
),
p AS (
    SELECT person_id, company_key, country,
           CASE WHEN company_domain LIKE '%.edu' OR split_part(company_domain, '.', -2) || '.' || split_part(company_domain, '.', -1)
                     IN (PLACEHOLDER_DOMAINS) THEN NULL ELSE company_domain END AS candidate_domain,
           company_domain
    FROM identity.persons
),
by_domain AS (SELECT p.person_id, d.account_id FROM p JOIN crm_domain d ON d.domain = p.company_domain),
by_name AS (
    SELECT p.person_id, n.account_id FROM p JOIN crm_name n
      ON n.company_key = p.company_key AND (p.company_domain IS NULL OR n.domain IS NULL)
),
by_enrichment AS (
    SELECT p.person_id, n.account_id FROM p
    JOIN enrichment_names e ON e.domain = p.company_domain
    JOIN crm_name n ON n.company_key = e.company_key AND n.domain IS NULL
),
by_acronym AS (
    SELECT p.person_id, a.account_id FROM p JOIN crm_acronym a
      ON a.acronym = p.company_key AND (p.company_domain IS NULL OR a.domain IS NULL)
    WHERE regexp_matches(p.company_key, '^[a-z]{2,6}$')
),
-- Only persons no exact rule placed, and only CRM accounts without a website: near-identical
-- names of different firms are common ('warren electric', 'warner electric'), and a CRM account
-- with a website would have been matched by its domain had the person worked there.
unplaced AS (
    SELECT * FROM p WHERE company_domain IS NULL AND length(company_key) >= FUZZY_MIN_LENGTH
      AND person_id NOT IN (SELECT person_id FROM by_domain UNION ALL SELECT person_id FROM by_name
                            UNION ALL SELECT person_id FROM by_enrichment UNION ALL SELECT person_id FROM by_acronym)
),
fuzzy_pairs AS (
    SELECT u.person_id, n.account_id, jaro_winkler_similarity(u.company_key, n.company_key) AS similarity
    FROM unplaced u JOIN crm_name n
      ON left(n.company_key, 3) = left(u.company_key, 3) AND abs(length(n.company_key) - length(u.company_key)) <= 1
     AND n.domain IS NULL
     AND (u.country IS NULL OR n.country IS NULL OR u.country = n.country)
    WHERE n.company_key <> u.company_key AND damerau_levenshtein(u.company_key, n.company_key) = 1
),
ranked AS (SELECT *, max(similarity) OVER (PARTITION BY person_id) AS best FROM fuzzy_pairs),
by_fuzzy AS (  -- the closest CRM account, and only when no other one is as close
    SELECT person_id, min(account_id) AS account_id, max(similarity) AS similarity
    FROM ranked WHERE similarity = best GROUP BY person_id HAVING count(*) = 1
),
crm_match AS (
    SELECT person_id, account_id, rule FROM (
        SELECT person_id, account_id, 'crm_domain' AS rule, 1 AS rank FROM by_domain
        UNION ALL SELECT person_id, account_id, 'crm_company_name', 2 FROM by_name
        UNION ALL SELECT person_id, account_id, 'crm_enrichment_name', 3 FROM by_enrichment
        UNION ALL SELECT person_id, account_id, 'crm_company_acronym', 4 FROM by_acronym
        UNION ALL SELECT person_id, account_id, 'crm_company_fuzzy', 5 FROM by_fuzzy
    ) QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY rank) = 1
)
SELECT p.person_id,
       coalesce(c.account_id, 'A' || substr(md5(coalesce('domain:' || p.candidate_domain, 'name:' || p.company_key)), 1, 15)) AS account_id,
       coalesce(c.rule, CASE WHEN p.candidate_domain IS NOT NULL THEN 'candidate_domain' ELSE 'candidate_company_name' END) AS match_rule,
       c.account_id IS NOT NULL AS is_crm_account,
       CASE coalesce(c.rule, CASE WHEN p.candidate_domain IS NOT NULL THEN 'candidate_domain' ELSE 'candidate_company_name' END)
           CONFIDENCE_CASES END::DOUBLE AS confidence,
       f.similarity AS name_similarity
FROM p
LEFT JOIN crm_match c USING (person_id)
LEFT JOIN by_fuzzy f ON f.person_id = p.person_id AND c.rule = 'crm_company_fuzzy'
WHERE c.account_id IS NOT NULL
   OR p.candidate_domain IS NOT NULL
   OR (p.company_domain IS NULL AND p.company_key IS NOT NULL AND p.company_key NOT IN (PLACEHOLDER_COMPANIES))
""".replace("PLACEHOLDER_DOMAINS", ", ".join(f"'{d}'" for d in PLACEHOLDER_EMAIL_DOMAINS)).replace(
    "PLACEHOLDER_COMPANIES", ", ".join(f"'{k}'" for k in PLACEHOLDER_COMPANY_KEYS)
).replace("FUZZY_MIN_LENGTH", str(FUZZY_MIN_LENGTH)).replace("STOP_WORDS", ", ".join(f"'{w}'" for w in ACRONYM_STOP_WORDS)).replace(
    "CONFIDENCE_CASES", " ".join(f"WHEN '{rule}' THEN {c}" for rule, c in MATCH_CONFIDENCE.items())
)

# The latest enrichment record of each domain: the company name the provider gives it.
ENRICHMENT_NAMES_SQL = """
SELECT domain, company_name FROM signals.enrichment WHERE company_name IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY domain ORDER BY fetched_at DESC NULLS LAST, delivery_date DESC, source_line DESC) = 1
"""

ACCOUNTS_SQL = """
WITH crm AS (
    SELECT * FROM signals.crm_accounts
    QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY modified_at DESC, delivery_date DESC, source_line DESC) = 1
),
members AS (
    SELECT m.account_id, count(*) AS n_persons,
           arg_max(p.company_domain, p.last_seen_at) FILTER (WHERE m.match_rule = 'candidate_domain') AS candidate_domain,
           arg_max(p.company_key, p.last_seen_at) AS candidate_company_key,
           any_value(m.is_crm_account) AS is_crm_account,
           sum(p.n_leads) AS n_leads, min(p.first_seen_at) AS first_seen_at, max(p.last_seen_at) AS last_seen_at
    FROM identity.account_matches m JOIN identity.persons p USING (person_id)
    GROUP BY m.account_id
),
enr AS (
    SELECT * FROM signals.enrichment
    QUALIFY row_number() OVER (PARTITION BY domain ORDER BY fetched_at DESC NULLS LAST, delivery_date DESC, source_line DESC) = 1
)
SELECT coalesce(c.account_id, m.account_id) AS account_id,
       c.account_id IS NOT NULL AS is_crm_account,
       coalesce(c.domain, m.candidate_domain) AS domain,
       coalesce(c.company_key, m.candidate_company_key) AS company_key,
       coalesce(c.industry, e.industry) AS industry,
       coalesce(c.employees, e.employee_count) AS employees,
       coalesce(c.country, e.country) AS country,
       coalesce(c.region, e.region) AS region,
       c.owner_id,
       coalesce(m.n_persons, 0) AS n_persons,
       coalesce(m.n_leads, 0) AS n_leads,
       m.first_seen_at, m.last_seen_at,
       e.confidence AS enrichment_confidence,
       CASE WHEN c.account_id IS NOT NULL THEN 'crm' WHEN e.domain IS NOT NULL THEN 'candidate+enrichment'
            ELSE 'candidate' END AS evidence,
       -- why a new-account candidate is one: what leadgen saw of it, for the rep who creates it
       CASE WHEN c.account_id IS NULL THEN list_filter([
           CASE WHEN m.candidate_domain IS NOT NULL THEN 'company domain of ' || m.n_persons || ' known people, on no CRM account'
                ELSE 'company name of ' || m.n_persons || ' known people without a company domain, on no CRM account' END,
           CASE WHEN m.n_leads > 0 THEN m.n_leads || ' form leads' END,
           CASE WHEN e.domain IS NOT NULL THEN 'enrichment record for the domain (confidence ' || coalesce(round(e.confidence, 2)::VARCHAR, 'unknown') || ')' END
       ], lambda x: x IS NOT NULL) END AS candidate_evidence
FROM crm c
FULL OUTER JOIN members m ON m.account_id = c.account_id
LEFT JOIN enr e ON e.domain = coalesce(c.domain, m.candidate_domain)
"""

# Anonymous visitor -> person, through identify calls and website form submits. The first
# link wins; features use a link only once it had happened (``linked_at``) and been delivered
# (``linked_on``, the delivery day of the call or form that made it): an identify call that
# arrives days late does not link the visitor for a lead scored before it arrived.
VISITOR_MAP_SQL = """
WITH links AS (
    SELECT w.anonymous_id, pr.person_id, w.event_at AS linked_at, w.delivery_date AS linked_on, 'identify' AS via
    FROM signals.web_events w
    JOIN identity.person_records pr ON pr.record_key = 'web_identify:' || w.event_id
    WHERE w.event_type = 'identify' AND w.anonymous_id IS NOT NULL
    UNION ALL
    SELECT f.anonymous_id, pr.person_id, f.submitted_at, f.delivery_date, 'form_submit'
    FROM signals.form_leads f
    JOIN identity.person_records pr ON pr.record_key = 'form_leads:' || f.lead_id
    WHERE f.anonymous_id IS NOT NULL
)
SELECT anonymous_id,
       arg_min(person_id, linked_at) AS person_id,
       min(linked_at) AS linked_at,
       arg_min(linked_on, linked_at) AS linked_on,
       arg_min(via, linked_at) AS via,
       count(DISTINCT person_id) AS n_persons_claiming
FROM links GROUP BY anonymous_id
"""
