"""identity: who is who, which company they belong to, and the knowledge graph."""

import dagster as dg
import polars as pl

from leadgen_assets.core import identity as logic
from leadgen_assets.defs.common import WarehouseResource, layer_asset, markdown_table, write_metadata
from leadgen_assets.storage.warehouse import Warehouse, WriteReport


def rebuild(store: Warehouse, table: str, sql: str, summary_sql: str) -> tuple[WriteReport, pl.DataFrame]:
    """Replace an identity table from ``sql`` and read a summary of it, in one writer session."""
    with store.writer() as w:
        report = w.replace_table(table, sql)
        summary = w.con.sql(summary_sql).pl()
    return report, summary


SIGNAL_DEPS = [
    dg.AssetKey(["signals", s]) for s in ("form_leads", "crm_contacts", "web_events", "consent_events")
]


@layer_asset(
    "identity",
    "person_records",
    description="Every person-bearing source record (form lead, CRM contact, identify call, consent "
    "event) with the person it resolves to. Exact matching on email key and E.164 phone; role "
    "addresses and placeholders never link. Ids come from each cluster's earliest record, so they "
    "are stable across runs.",
    code_version="1",
    deps=SIGNAL_DEPS,
    partitioned=False,
)
def person_records(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        rounds = logic.resolve(w.con)
        report = w.replace_table("identity.person_records", logic.PERSON_RECORDS_SQL)
        stats = w.con.execute(
            """
            SELECT count(*) AS records, count(DISTINCT person_id) AS persons,
                   (SELECT count(DISTINCT match_key) FROM id_keys WHERE is_placeholder) AS placeholders
            FROM identity.person_records
            """
        ).fetchall()[0]
        largest = w.con.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM identity.person_records GROUP BY person_id)"
        ).fetchall()[0][0]
    records, persons_n, placeholders = stats
    context.log.info(f"resolved {records} records into {persons_n} persons in {rounds} rounds")
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "identity.person_records", [report],
            persons=persons_n,
            records_per_person=round(records / persons_n, 3) if persons_n else 0.0,
            placeholder_keys_blocked=placeholders,
            largest_cluster=largest or 0,
            propagation_rounds=rounds,
        )
    )


@layer_asset(
    "identity",
    "persons",
    description="One golden record per person. Survivorship: the most recent non-role email key, phone, "
    "company domain and country; the most frequent name keys. Suppressed from the first consent "
    "event of any of the person's records, and never un-suppressed by a merge.",
    code_version="1",
    deps=[person_records],
    partitioned=False,
)
def persons(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        w.con.execute(logic.RECORDS_SQL)
        report = w.replace_table("identity.persons", logic.PERSONS_SQL)
        suppressed, multi = w.con.execute(
            "SELECT count(*) FILTER (WHERE is_suppressed), count(*) FILTER (WHERE n_records > 1) FROM identity.persons"
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "identity.persons", [report], suppressed_persons=suppressed, persons_with_several_records=multi
        )
    )


@layer_asset(
    "identity",
    "account_matches",
    description="Person -> account. CRM account by company domain, then by company name key; otherwise a "
    "new-account candidate keyed by the person's company domain or name.",
    code_version="1",
    deps=[persons, dg.AssetKey(["signals", "crm_accounts"])],
    partitioned=False,
)
def account_matches(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, by_rule = rebuild(
        store, "identity.account_matches", logic.ACCOUNT_MATCHES_SQL,
        "SELECT match_rule, count(*) AS persons FROM identity.account_matches GROUP BY ALL ORDER BY persons DESC",
    )
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "identity.account_matches", [report],
            matched_to_crm=int(by_rule.filter(by_rule["match_rule"].str.starts_with("crm"))["persons"].sum()),
            by_rule=dg.MetadataValue.md(markdown_table(by_rule)),
        )
    )


@layer_asset(
    "identity",
    "accounts",
    description="Accounts: CRM accounts and new-account candidates, with firmographics from the CRM, else "
    "from the latest enrichment record for the domain, and the CRM owner.",
    code_version="1",
    deps=[account_matches, dg.AssetKey(["signals", "enrichment"])],
    partitioned=False,
)
def accounts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, summary = rebuild(
        store, "identity.accounts", logic.ACCOUNTS_SQL,
        "SELECT count(*) FILTER (WHERE is_crm_account) AS crm_accounts, "
        "count(*) FILTER (WHERE NOT is_crm_account) AS new_account_candidates FROM identity.accounts",
    )
    return dg.MaterializeResult(metadata=write_metadata(store, "identity.accounts", [report], **summary.row(0, named=True)))


@layer_asset(
    "identity",
    "visitor_map",
    description="Anonymous web visitor -> person, through identify calls and website form submits, with "
    "the time the link became known.",
    code_version="1",
    deps=[person_records],
    partitioned=False,
)
def visitor_map(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, summary = rebuild(
        store, "identity.visitor_map", logic.VISITOR_MAP_SQL,
        "SELECT count(*) AS visitors_claimed_by_several_persons FROM identity.visitor_map WHERE n_persons_claiming > 1",
    )
    return dg.MaterializeResult(metadata=write_metadata(store, "identity.visitor_map", [report], **summary.row(0, named=True)))


@layer_asset(
    "identity",
    "graph_nodes",
    description="Knowledge-graph nodes: person, account, domain, channel, campaign, rep.",
    code_version="1",
    deps=[accounts, dg.AssetKey(["signals", "crm_users"])],
    partitioned=False,
)
def graph_nodes(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, by_type = rebuild(
        store, "identity.graph_nodes", logic.GRAPH_NODES_SQL,
        "SELECT node_type, count(*) AS nodes FROM identity.graph_nodes GROUP BY ALL ORDER BY 1",
    )
    return dg.MaterializeResult(
        metadata=write_metadata(store, "identity.graph_nodes", [report], by_type=dg.MetadataValue.md(markdown_table(by_type)))
    )


@layer_asset(
    "identity",
    "graph_edges",
    description="Knowledge-graph edges with provenance (source record, confidence, first and last seen): "
    "same_as, works_at, came_from, engaged_with, owns.",
    code_version="1",
    deps=[graph_nodes],
    partitioned=False,
)
def graph_edges(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, by_type = rebuild(
        store, "identity.graph_edges", logic.GRAPH_EDGES_SQL,
        "SELECT edge_type, count(*) AS edges FROM identity.graph_edges GROUP BY ALL ORDER BY 1",
    )
    return dg.MaterializeResult(
        metadata=write_metadata(store, "identity.graph_edges", [report], by_type=dg.MetadataValue.md(markdown_table(by_type)))
    )


defs = dg.Definitions(
    assets=[person_records, persons, account_matches, accounts, visitor_map, graph_nodes, graph_edges]
)
