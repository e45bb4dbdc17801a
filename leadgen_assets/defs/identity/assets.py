"""identity: who is who, which company they belong to, and the knowledge graph."""

import datetime as dt

import dagster as dg
import polars as pl

from leadgen_assets.core import identity as logic
from leadgen_assets.core import person_ids
from leadgen_assets.core import resolve as resolver
from leadgen_assets.defs.common import WarehouseResource, layer_asset, markdown_table, write_metadata
from leadgen_assets.storage.warehouse import Warehouse, WriteReport


def rebuild(store: Warehouse, table: str, sql: str, summary_sql: str) -> tuple[WriteReport, pl.DataFrame]:
    """Replace an identity table from ``sql`` and read a summary of it, in one writer session."""
    with store.writer() as w:
        report = w.replace_table(table, sql)
        summary = w.con.sql(summary_sql).pl()
    return report, summary


CHANGES = "identity.person_changes"  # append-only: every merge and split of person ids, with its reason

SIGNAL_DEPS = [
    dg.AssetKey(["signals", s]) for s in ("form_leads", "crm_contacts", "web_events", "consent_events")
]


def _resolve_persons(w, run_id: str) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Resolve every person record and name the clusters with the ids people already have.
    Returns (person records, merges and splits of this run, resolver stats)."""
    records = w.con.sql(logic.PERSON_INPUT_SQL).pl()
    res = resolver.resolve(records, logic.PERSON_ROLES, id_column="record_key")
    keys = records["record_key"]
    used = res.links.filter(pl.col("accepted"))
    links = pl.DataFrame({
        "record_key_l": keys.gather(used["l"]), "record_key_r": keys.gather(used["r"]),
        "score": used["score"], "rule": used["rule"],
    })
    previous = (
        w.con.sql("SELECT record_key, person_id FROM identity.person_records").pl()
        if w.table_exists("identity.person_records")
        else pl.DataFrame(schema={"record_key": pl.Utf8, "person_id": pl.Utf8})
    )
    clusters = res.clusters.rename({"record_id": "record_key"})
    assigned, changes = person_ids.reconcile(records, clusters, previous, links)
    person_records_frame = records.select(logic.PERSON_META).join(assigned, on="record_key").select(
        "record_key", "source", "channel", "delivery_date", "seen_at", "person_id",
        pl.col("consent_type").is_not_null().alias("is_consent_event"),
    ).sort("record_key")
    changes = changes.with_columns(pl.lit(run_id).alias("run_id"), pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("changed_at"))
    return person_records_frame, changes, res.stats


@layer_asset(
    "identity",
    "person_records",
    description="Every person-bearing source record (form lead, CRM contact, identify call, consent "
    "event) with the person it resolves to. The person resolver links records on email and phone "
    "(never on a role address or a placeholder) and on names, company, domain and place "
    "(Fellegi-Sunter weights over blocked pairs), with never-merge rules and a cluster cap. Person "
    "ids are stable across runs; every merge and split is logged in `identity.person_changes` with "
    "its reason.",
    code_version="2",
    deps=SIGNAL_DEPS,
    partitioned=False,
    check_specs=[dg.AssetCheckSpec(
        "cluster_cap", asset=dg.AssetKey(["identity", "person_records"]),
        description=f"Links refused because they would grow a person beyond {resolver.Config.max_cluster} "
        "records (a placeholder value building a hub, usually), and links refused for conflicting birth dates.",
    )],
)
def person_records(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        frame, changes, stats = _resolve_persons(w, context.run.run_id)
        with w.transaction():  # the records and the log of how ids moved land together
            report = w.replace_table("identity.person_records", frame)
            if changes.height:
                w.append(CHANGES, changes)
        largest = frame.group_by("person_id").len()["len"].max() if frame.height else 0
    n_persons = frame["person_id"].n_unique()
    merges = int((changes["change"] == "merge").sum())
    splits = int((changes["change"] == "split").sum())
    context.log.info(f"resolved {frame.height} records into {n_persons} persons; {merges} merge(s), {splits} split(s)")
    refused = int(stats["cap_refusals"])
    return dg.MaterializeResult(
        check_results=[dg.AssetCheckResult(
            check_name="cluster_cap",
            passed=refused == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"cap_refusals": refused, "birth_date_refusals": int(stats["birth_date_refusals"]),
                      "largest_person_records": int(largest or 0), "cap": resolver.Config.max_cluster},
        )],
        metadata=write_metadata(
            store, "identity.person_records", [report],
            persons=n_persons,
            records_per_person=round(frame.height / n_persons, 3) if n_persons else 0.0,
            merges=merges,
            splits=splits,
            deterministic_links=int(stats["deterministic_links"]),
            links_accepted=int(stats["links_accepted"]),
            candidate_pairs=int(stats["candidate_pairs"]),
            blocking_reduction_ratio=round(float(stats["reduction_ratio"]), 6),
            placeholder_emails=int(stats["placeholder_emails"]),
            placeholder_phones=int(stats["placeholder_phones"]),
            never_merge_pairs=int(stats["never_merge_pairs"]),
            largest_cluster=int(largest or 0),
            resolve_seconds=float(stats["seconds_total"]),
        ),
    )


@layer_asset(
    "identity",
    "persons",
    description="One golden record per person. Survivorship: the most frequent name keys; the most recent "
    "non-role email key, phone, company domain and country; each field names the record it came from "
    "(`<field>_source`). Suppressed from the first consent event of any of the person's records; "
    "suppression is sticky per record (`identity.suppressed_records`), so no merge or split ever "
    "un-suppresses anyone.",
    code_version="2",
    deps=[person_records],
    partitioned=False,
)
def persons(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        w.con.execute(logic.RECORDS_SQL)
        w.con.execute("CREATE SCHEMA IF NOT EXISTS identity")
        w.con.execute(logic.SUPPRESSED_RECORDS_DDL)
        with w.transaction():
            report = w.replace_table("identity.persons", logic.PERSONS_SQL)
            w.append("identity.suppressed_records", logic.NEW_SUPPRESSED_RECORDS_SQL)
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
