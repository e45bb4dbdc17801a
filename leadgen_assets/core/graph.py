"""The knowledge graph: nodes, edges with provenance, and the multi-hop questions leadgen asks
of it, as SQL on a DuckDB connection that holds the signals and identity tables.

Nodes are persons, accounts, domains, channels, campaigns and reps; edges are same_as,
works_at, engaged_with, came_from and owns. Three questions are asked of the graph every run
and stored as tables, so features, routing and sales ops read answers, not traversals:

* **Who owns a person's account?** person -works_at-> account <-owns- rep. Ownership is kept
  as spans (``identity.account_owners``): the owner from the first day a CRM export said so
  to the day one said otherwise. A lead sees the owner of its delivery day, never a later one.
* **Where does a person work, on a given day?** person -works_at-> company, as spans
  (``identity.person_companies``): the company domain and name of the person's latest-seen
  record among those delivered by that day. ``identity.account_matches`` is today's answer.
* **How engaged is the account?** person -engaged_with-> account: each person's web events
  per day (``identity.person_activity``), with the day they happened, the day they were
  delivered and the day the visitor became that person, joined to the account through where
  the person worked. Filtering on those days gives the account's engagement as of any moment
  without peeking at later deliveries, identifications or company changes.
* **How big is the buying committee?** The distinct people of an account engaged in the 30
  full days before a moment. ``identity.buying_committees`` answers it for today, for sales
  ops; lead features answer it as of each lead from the same tables.
"""

from __future__ import annotations

from leadgen_assets.core.identity import PLACEHOLDER_COMPANY_KEYS, PLACEHOLDER_EMAIL_DOMAINS

COMMITTEE_WINDOW_DAYS = 30

# Ownership spans. One version of each account per delivery day (its last edit that day); a
# span starts on the first day of an owner and ends (exclusive) where the next one starts.
# An account with no owner has a span with a NULL owner, so "unowned since" is an answer too.
ACCOUNT_OWNERS_SQL = """
WITH daily AS (
    SELECT account_id, delivery_date, owner_id, source_line FROM signals.crm_accounts
    QUALIFY row_number() OVER (PARTITION BY account_id, delivery_date ORDER BY modified_at DESC, source_line DESC) = 1
),
marked AS (
    SELECT *, owner_id IS DISTINCT FROM lag(owner_id) OVER w OR row_number() OVER w = 1 AS starts
    FROM daily WINDOW w AS (PARTITION BY account_id ORDER BY delivery_date)
)
SELECT account_id, owner_id, delivery_date AS valid_from,
       lead(delivery_date) OVER (PARTITION BY account_id ORDER BY delivery_date) AS valid_to,
       'crm_accounts:' || account_id || '@' || strftime(delivery_date, '%Y-%m-%d') AS source_record
FROM marked WHERE starts
"""

# Each known person's web activity per event day, with the times that make it point-in-time:
# when the events happened, when they arrived, when the visitor became the person. Joined to
# an account by the person's company (current, for today's views; as of a day, for features).
PERSON_ACTIVITY_SQL = """
SELECT v.person_id, CAST(w.event_at AS DATE) AS event_day, w.delivery_date,
       CAST(v.linked_at AS DATE) AS link_day, v.linked_on AS link_delivered_on, count(*) AS events,
       count(*) FILTER (WHERE w.page_path = '/pricing') AS pricing_views,
       min(w.event_at) AS first_event_at, max(w.event_at) AS last_event_at
FROM signals.web_events w
JOIN identity.visitor_map v ON v.anonymous_id = w.anonymous_id
WHERE w.event_at IS NOT NULL
GROUP BY ALL
ORDER BY v.person_id, event_day
"""

# person -works_at-> company, as of each delivery day: the company domain and company name key
# of the person's latest-seen record among those delivered by then (a record delivered late
# with an older time does not override a newer one). One span per change; valid_to exclusive.
# Placeholder and academic domains and placeholder names are no company.
PERSON_COMPANIES_SQL = """
WITH rec AS (
    SELECT person_id, delivery_date, {'t': seen_at, 'k': record_key} AS recency,
           CASE WHEN domain LIKE '%.edu' OR split_part(domain, '.', -2) || '.' || split_part(domain, '.', -1)
                     IN (PLACEHOLDER_DOMAINS) THEN NULL ELSE domain END AS domain,
           CASE WHEN company IN (PLACEHOLDER_COMPANIES) THEN NULL ELSE company END AS company
    FROM identity.person_records
    WHERE NOT coalesce(is_placeholder_record, false)
),
running AS (
    SELECT person_id, delivery_date,
           arg_max(domain, recency) FILTER (WHERE domain IS NOT NULL) OVER w AS domain,
           arg_max(company, recency) FILTER (WHERE company IS NOT NULL) OVER w AS company
    FROM rec
    WINDOW w AS (PARTITION BY person_id ORDER BY delivery_date RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
daily AS (SELECT DISTINCT person_id, delivery_date, domain, company FROM running),
marked AS (
    SELECT *, row_number() OVER w = 1
              OR domain IS DISTINCT FROM lag(domain) OVER w OR company IS DISTINCT FROM lag(company) OVER w AS starts
    FROM daily WINDOW w AS (PARTITION BY person_id ORDER BY delivery_date)
)
SELECT person_id, domain, company, delivery_date AS valid_from,
       lead(delivery_date) OVER (PARTITION BY person_id ORDER BY delivery_date) AS valid_to
FROM marked WHERE starts
"""

# Today's buying committees: as of the start of the day after the latest delivered web
# events, the account's people engaged in the 30 full days before, with the account's owner
# of that day and how many of its people leadgen knows.
BUYING_COMMITTEES_SQL = f"""
WITH as_of AS (SELECT max(delivery_date) + 1 AS day FROM identity.person_activity),
window_activity AS (
    SELECT a.*, m.account_id FROM identity.person_activity a JOIN identity.account_matches m USING (person_id), as_of
    WHERE a.event_day >= as_of.day - {COMMITTEE_WINDOW_DAYS} AND a.event_day < as_of.day
      AND a.link_day < as_of.day AND a.link_delivered_on < as_of.day AND a.delivery_date < as_of.day
),
committee AS (
    SELECT account_id, count(DISTINCT person_id) AS committee_size_30d, sum(events) AS events_30d,
           sum(pricing_views) AS pricing_views_30d, count(DISTINCT event_day) AS active_days_30d,
           max(last_event_at) AS last_engaged_at, list(DISTINCT person_id ORDER BY person_id) AS committee
    FROM window_activity GROUP BY account_id
)
SELECT (SELECT day FROM as_of) AS as_of_day, c.account_id, acc.is_crm_account, acc.domain, acc.industry,
       acc.employees, o.owner_id, o.valid_from AS owned_since, acc.n_persons AS people_known,
       c.committee_size_30d, c.events_30d, c.pricing_views_30d, c.active_days_30d, c.last_engaged_at, c.committee
FROM committee c
JOIN identity.accounts acc USING (account_id)
LEFT JOIN identity.account_owners o
  ON o.account_id = c.account_id AND o.valid_from <= (SELECT day FROM as_of)
 AND (o.valid_to IS NULL OR o.valid_to > (SELECT day FROM as_of))
ORDER BY c.committee_size_30d DESC, c.events_30d DESC, c.account_id
"""

GRAPH_NODES_SQL = """
WITH reps AS (
    SELECT * FROM signals.crm_users
    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY delivery_date DESC, source_line DESC) = 1
),
activity AS (
    SELECT m.account_id, min(a.first_event_at) AS first_seen, max(a.last_event_at) AS last_seen
    FROM identity.person_activity a JOIN identity.account_matches m USING (person_id) GROUP BY m.account_id
)
SELECT 'person:' || person_id AS node_id, 'person' AS node_type, person_id AS label,
       first_seen_at AS first_seen, last_seen_at AS last_seen FROM identity.persons
UNION ALL
SELECT 'account:' || a.account_id, 'account', coalesce(a.domain, a.company_key), act.first_seen, act.last_seen
FROM identity.accounts a LEFT JOIN activity act USING (account_id)
UNION ALL
SELECT DISTINCT 'domain:' || domain, 'domain', domain, NULL, NULL FROM identity.accounts WHERE domain IS NOT NULL
UNION ALL
SELECT 'channel:' || channel, 'channel', channel, min(submitted_at), max(submitted_at)
FROM signals.form_leads GROUP BY channel
UNION ALL
SELECT 'campaign:' || channel || '/' || campaign, 'campaign', campaign, min(submitted_at), max(submitted_at)
FROM signals.form_leads WHERE campaign IS NOT NULL GROUP BY channel, campaign
UNION ALL
SELECT 'rep:' || user_id, 'rep', user_id, NULL, NULL FROM reps
"""

# Every edge names the record (or rule) it came from, how sure leadgen is of it, and when it
# was first and last seen. works_at confidence follows the match rule (see ACCOUNT_MATCHES_SQL).
GRAPH_EDGES_SQL = """
WITH leads AS (
    SELECT pr.person_id, f.channel, f.campaign, f.submitted_at, pr.record_key
    FROM signals.form_leads f JOIN identity.person_records pr ON pr.record_key = 'form_leads:' || f.lead_id
)
SELECT 'record:' || record_key AS src, 'person:' || person_id AS dst, 'same_as' AS edge_type,
       record_key AS source_record, 1.0 AS confidence, seen_at AS first_seen, seen_at AS last_seen
FROM identity.person_records
UNION ALL
SELECT 'account:' || account_id, 'domain:' || domain, 'same_as', 'identity.accounts', 1.0, NULL, NULL
FROM identity.accounts WHERE domain IS NOT NULL
UNION ALL
SELECT 'person:' || m.person_id, 'account:' || m.account_id, 'works_at', m.match_rule, m.confidence,
       p.first_seen_at, p.last_seen_at
FROM identity.account_matches m JOIN identity.persons p USING (person_id)
UNION ALL
SELECT 'person:' || a.person_id, 'account:' || m.account_id, 'engaged_with', 'web_events', 1.0,
       min(a.first_event_at), max(a.last_event_at)
FROM identity.person_activity a JOIN identity.account_matches m USING (person_id) GROUP BY a.person_id, m.account_id
UNION ALL
SELECT 'person:' || person_id, 'channel:' || channel, 'came_from', min(record_key), 1.0, min(submitted_at), max(submitted_at)
FROM leads GROUP BY person_id, channel
UNION ALL
SELECT 'person:' || person_id, 'campaign:' || channel || '/' || campaign, 'engaged_with', min(record_key), 1.0,
       min(submitted_at), max(submitted_at)
FROM leads WHERE campaign IS NOT NULL GROUP BY person_id, channel, campaign
UNION ALL
SELECT 'rep:' || owner_id, 'account:' || account_id, 'owns', source_record, 1.0,
       CAST(valid_from AS TIMESTAMP), CAST(valid_to AS TIMESTAMP)
FROM identity.account_owners WHERE owner_id IS NOT NULL
"""

PERSON_COMPANIES_SQL = PERSON_COMPANIES_SQL.replace(
    "PLACEHOLDER_DOMAINS", ", ".join(f"'{d}'" for d in PLACEHOLDER_EMAIL_DOMAINS)
).replace("PLACEHOLDER_COMPANIES", ", ".join(f"'{k}'" for k in PLACEHOLDER_COMPANY_KEYS))
