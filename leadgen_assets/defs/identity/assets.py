"""identity: who is who, which company they belong to, and the knowledge graph."""

import datetime as dt

import dagster as dg
import polars as pl

from leadgen_assets.core import graph
from leadgen_assets.core import identity as logic
from leadgen_assets.core import normalize as norm
from leadgen_assets.core import person_ids
from leadgen_assets.core import resolve as resolver
from leadgen_assets.defs.common import WarehouseResource, layer_asset, markdown_table, write_metadata
from leadgen_assets.storage.warehouse import Warehouse, WriteReport, qualified


def rebuild(store: Warehouse, table: str, sql: str, summary_sql: str) -> tuple[WriteReport, pl.DataFrame]:
    """Replace an identity table from ``sql`` and read a summary of it, in one writer session.
    Identity tables are rebuilt whole every run, so a newer leadgen's columns replace the old table."""
    with store.writer() as w:
        report = w.replace_table(table, sql, derived=True)
        summary = w.con.sql(summary_sql).pl()
    return report, summary


CHANGES = "identity.person_changes"  # append-only: every merge and split of person ids, with its reason

SIGNAL_DEPS = [
    dg.AssetKey(["signals", s]) for s in ("form_leads", "crm_contacts", "web_events", "consent_events")
]


class IdentityConfig(dg.Config):
    """Run config of identity/person_records (Launchpad, under `identity__person_records`)."""

    full_refresh: bool = False
    """Re-resolve all history instead of attaching the new records to the persons already
    resolved. Use it after a change of matching rules; ids stay stable, and every merge and
    split it causes is logged in identity.person_changes."""


PERSON_RECORD_COLUMNS = ("record_key", "source", "channel", "delivery_date", "seen_at", "person_id", "is_consent_event", "input_digest")
STORED = [c for c in resolver.STORE_COLUMNS if c != "record_id"]  # normalised once, kept for later days


def _person_records(records: pl.DataFrame, assigned: pl.DataFrame, prepared: pl.DataFrame) -> pl.DataFrame:
    """The stored rows: what a record is, its person, and its normalised link columns."""
    return (
        records.join(assigned, on="record_key")
        .with_columns(pl.col("consent_type").is_not_null().alias("is_consent_event"))
        .select(PERSON_RECORD_COLUMNS)
        .join(prepared.rename({"record_id": "record_key"}), on="record_key", how="left")
        .sort("record_key")
    )


def _stamped(changes: pl.DataFrame, run_id: str) -> pl.DataFrame:
    return changes.with_columns(
        pl.lit(run_id).alias("run_id"), pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("changed_at")
    )


def _links_by_key(records: pl.DataFrame, res: resolver.Resolution) -> pl.DataFrame:
    keys = records["record_key"]
    used = res.links.filter(pl.col("accepted"))
    return pl.DataFrame({
        "record_key_l": keys.gather(used["l"]), "record_key_r": keys.gather(used["r"]),
        "score": used["score"], "rule": used["rule"],
    })


def _resolve_all(records: pl.DataFrame, previous: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Every record resolved afresh; clusters named with the ids people already had."""
    res = resolver.resolve(records, logic.PERSON_ROLES, id_column="record_key")
    clusters = res.clusters.rename({"record_id": "record_key"})
    assigned, changes = person_ids.reconcile(records, clusters, previous, _links_by_key(records, res))
    return _person_records(records, assigned, res.prepared), changes, res.stats


def _attach_new(records: pl.DataFrame, stored: pl.DataFrame, retired: set[str]) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Records not resolved before (or changed since) attach to the persons already resolved;
    no one is renumbered. A record that left its sources leaves its person."""
    current = records.select("record_key", "input_digest")
    kept = stored.join(current, on=["record_key", "input_digest"], how="semi")
    fresh = records.join(kept.select("record_key"), on="record_key", how="anti")
    moved_from = stored.join(fresh.select("record_key"), on="record_key", how="semi").select("record_key", "person_id")
    if fresh.is_empty():
        return kept, person_ids.removals(stored, kept), {"records_new": 0, "cap_refusals": 0, "birth_date_refusals": 0}
    existing = kept.rename({"record_key": "record_id"}).with_columns(
        pl.col("seen_at").min().over("person_id").alias("person_first_seen")
    )
    inc = resolver.resolve_increment(existing, fresh, logic.PERSON_ROLES, id_column="record_key")
    # merges: every record of an absorbed person goes to its survivor
    into = dict(inc.merges.select("absorbed_person_id", "into_person_id").iter_rows())
    kept = kept.with_columns(pl.col("person_id").replace(into))
    # records that started new clusters: a new person each, named from its earliest record
    taken = set(stored["person_id"].to_list()) | retired
    starters = (
        inc.assignments.filter(pl.col("person_id").is_null())
        .join(fresh.select(pl.col("record_key").alias("record_id"), "seen_at"), on="record_id")
        .sort(["seen_at", "record_id"], nulls_last=True)
        .unique("cluster_id", keep="first", maintain_order=True)
        .sort("record_id")
    )
    names = {}
    for cluster, first in starters.select("cluster_id", "record_id").iter_rows():
        names[cluster] = person_ids.person_id_for(first, taken)
        taken.add(names[cluster])
    assigned = inc.assignments.select(
        pl.col("record_id").alias("record_key"),
        pl.coalesce(pl.col("person_id").replace(into), pl.col("cluster_id").replace_strict(names, default=None)).alias("person_id"),
    )
    prepared = resolver.prepare_for_store(fresh, logic.PERSON_ROLES, "record_key")
    frame = pl.concat([kept, _person_records(fresh, assigned, prepared)], how="vertical_relaxed").sort("record_key")
    sizes = stored.group_by(pl.col("person_id").alias("absorbed_person_id")).agg(pl.len().cast(pl.Int64).alias("records"))
    merges = inc.merges.join(sizes, on="absorbed_person_id", how="left").select(
        pl.lit("merge").alias("change"),
        pl.col("into_person_id").alias("person_id"),
        pl.col("absorbed_person_id").alias("other_person_id"),
        "records",
        "rule",
        "score",
        (pl.lit("a new record linked by ") + pl.col("rule") + pl.lit(" evidence joined the two; the person seen first survives")).alias("reason"),
    )
    moves = (
        moved_from.join(assigned, on="record_key", suffix="_now")
        .filter(pl.col("person_id") != pl.col("person_id_now"))
        .group_by("person_id", "person_id_now").agg(pl.len().cast(pl.Int64).alias("records"))
        .sort("person_id", "person_id_now")
        .select(
            pl.lit("split").alias("change"), "person_id", pl.col("person_id_now").alias("other_person_id"), "records",
            pl.lit(None, dtype=pl.Utf8).alias("rule"), pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit("the record changed at its source and now links to another person").alias("reason"),
        )
    )
    removed = person_ids.removals(stored.select("record_key", "person_id"), frame)
    return frame, pl.concat([merges.cast(person_ids.CHANGE_SCHEMA), moves.cast(person_ids.CHANGE_SCHEMA), removed]), inc.stats


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
def person_records(
    context: dg.AssetExecutionContext, config: IdentityConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        records = w.con.sql(logic.PERSON_INPUT_SQL).pl()
        stored = None
        if w.table_exists("identity.person_records"):
            stored = w.con.sql("SELECT * FROM identity.person_records").pl()
            if set(stored.columns) != {*PERSON_RECORD_COLUMNS, *STORED}:
                stored = None  # written by an older leadgen: resolve afresh; ids are kept, the table rebuilt
        incremental = stored is not None and not config.full_refresh
        if incremental:
            retired = (
                set(w.con.sql(
                    f"SELECT other_person_id AS id FROM {qualified(CHANGES)} WHERE other_person_id IS NOT NULL "
                    f"UNION SELECT person_id FROM {qualified(CHANGES)} WHERE change = 'removed'"
                ).pl()["id"].to_list())
                if w.table_exists(CHANGES) else set()
            )
            frame, changes, stats = _attach_new(records, stored, retired)
        else:
            previous = w.con.sql("SELECT record_key, person_id FROM identity.person_records").pl() if w.table_exists(
                "identity.person_records") else pl.DataFrame(schema={"record_key": pl.Utf8, "person_id": pl.Utf8})
            frame, changes, stats = _resolve_all(records, previous)
        changes = _stamped(changes, context.run.run_id)
        with w.transaction():  # the records and the log of how ids moved land together
            report = w.replace_table("identity.person_records", frame, derived=True)
            if changes.height:
                w.append(CHANGES, changes)
        largest = frame.group_by("person_id").len()["len"].max() if frame.height else 0
    n_persons = frame["person_id"].n_unique()
    merges = int((changes["change"] == "merge").sum())
    splits = int((changes["change"] == "split").sum())
    removed = int((changes["change"] == "removed").sum())
    context.log.info(
        f"{'resolved all' if not incremental else 'attached new'} person records: {frame.height} records, "
        f"{n_persons} persons; {merges} merge(s), {splits} split(s), {removed} removed"
    )
    refused = int(stats.get("cap_refusals", 0))
    return dg.MaterializeResult(
        check_results=[dg.AssetCheckResult(
            check_name="cluster_cap",
            passed=refused == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"cap_refusals": refused, "birth_date_refusals": int(stats.get("birth_date_refusals", 0)),
                      "largest_person_records": int(largest or 0), "cap": resolver.Config.max_cluster},
        )],
        metadata=write_metadata(
            store, "identity.person_records", [report],
            persons=n_persons,
            records_per_person=round(frame.height / n_persons, 3) if n_persons else 0.0,
            merges=merges,
            splits=splits,
            persons_removed=removed,
            mode="full re-resolution" if not incremental else "new records attached",
            records_resolved=int(stats.get("records", stats.get("records_new", 0))),
            links_accepted=int(stats.get("links_accepted", 0)),
            candidate_pairs=int(stats.get("candidate_pairs", 0)),
            placeholder_emails=int(stats.get("placeholder_emails", 0)),
            placeholder_phones=int(stats.get("placeholder_phones", 0)),
            never_merge_pairs=int(stats.get("never_merge_pairs", 0)),
            largest_cluster=int(largest or 0),
            resolve_seconds=float(stats.get("seconds_total", 0.0)),
            **({"blocking_reduction_ratio": round(float(stats["reduction_ratio"]), 6)} if "reduction_ratio" in stats else {}),
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
            report = w.replace_table("identity.persons", logic.PERSONS_SQL, derived=True)
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
    description="Person -> account, by the first rule that holds: the company domain is a CRM account's "
    "website; the company name, the enrichment provider's name for the domain, its acronym or a "
    "near-identical spelling matches exactly one CRM account (a name only where no domain contradicts "
    "it); otherwise a new-account candidate keyed by the company domain or name. Each match carries "
    "its rule and confidence.",
    code_version="2",
    deps=[persons, dg.AssetKey(["signals", "crm_accounts"]), dg.AssetKey(["signals", "enrichment"])],
    partitioned=False,
)
def account_matches(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        names = w.con.sql(logic.ENRICHMENT_NAMES_SQL).pl().select(
            "domain", norm.company_key(pl.col("company_name")).alias("company_key")
        ).filter(pl.col("company_key").is_not_null())
        w.con.register("enrichment_names", names)
        try:
            report = w.replace_table("identity.account_matches", logic.ACCOUNT_MATCHES_SQL, derived=True)
        finally:
            w.con.unregister("enrichment_names")
        by_rule = w.con.sql(
            "SELECT match_rule, count(*) AS persons, round(avg(confidence), 2) AS confidence "
            "FROM identity.account_matches GROUP BY ALL ORDER BY persons DESC"
        ).pl()
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
    "from the latest enrichment record for the domain, and the CRM owner. A candidate lists its "
    "evidence (`candidate_evidence`): how many known people share its domain or name, their leads, "
    "and whether the enrichment provider knows the domain.",
    code_version="2",
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
    "account_owners",
    description="Who owns each CRM account, as spans: the owner from the first delivery day a CRM export "
    "said so to the day one said otherwise (`valid_to`, exclusive; empty while current). A NULL owner "
    "is an unowned span. Features read the owner of the lead's delivery day from here, so routing "
    "never uses an owner assigned later.",
    code_version="1",
    deps=[dg.AssetKey(["signals", "crm_accounts"])],
    partitioned=False,
)
def account_owners(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, summary = rebuild(
        store, "identity.account_owners", graph.ACCOUNT_OWNERS_SQL,
        "SELECT count(DISTINCT account_id) FILTER (WHERE valid_to IS NULL AND owner_id IS NOT NULL) AS owned_accounts, "
        "count(*) FILTER (WHERE valid_to IS NOT NULL) AS ended_spans, "
        "count(DISTINCT account_id) FILTER (WHERE valid_to IS NULL AND owner_id IS NULL) AS unowned_accounts "
        "FROM identity.account_owners",
    )
    return dg.MaterializeResult(metadata=write_metadata(store, "identity.account_owners", [report], **summary.row(0, named=True)))


@layer_asset(
    "identity",
    "person_activity",
    description="Each known person's web activity per day: the events, the day they happened, the day "
    "they were delivered and the day the visitor became that person. Account engagement and "
    "buying-committee size as of any moment are filters on these three days, joined to the account by "
    "the person's company as of that moment (identity/person_companies), so a lead's account features "
    "never see later deliveries, later identifications or later company changes.",
    code_version="1",
    deps=[visitor_map, dg.AssetKey(["signals", "web_events"])],
    partitioned=False,
)
def person_activity(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, summary = rebuild(
        store, "identity.person_activity", graph.PERSON_ACTIVITY_SQL,
        "SELECT count(DISTINCT person_id) AS engaged_people, coalesce(sum(events), 0)::BIGINT AS events "
        "FROM identity.person_activity",
    )
    return dg.MaterializeResult(metadata=write_metadata(store, "identity.person_activity", [report], **summary.row(0, named=True)))


@layer_asset(
    "identity",
    "person_companies",
    description="Where each person works, as of each delivery day: the company domain and name of their "
    "latest-seen record among those delivered by then, as spans (`valid_from`, `valid_to` exclusive). "
    "Lead features find a lead's account and its colleagues through the span of the lead's delivery "
    "day, so a company a person names later never reaches an earlier lead.",
    code_version="1",
    deps=[person_records],
    partitioned=False,
)
def person_companies(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, summary = rebuild(
        store, "identity.person_companies", graph.PERSON_COMPANIES_SQL,
        "SELECT count(DISTINCT person_id) AS persons, count(*) FILTER (WHERE valid_to IS NOT NULL) AS changed_spans "
        "FROM identity.person_companies",
    )
    return dg.MaterializeResult(metadata=write_metadata(store, "identity.person_companies", [report], **summary.row(0, named=True)))


@layer_asset(
    "identity",
    "buying_committees",
    description="Today's buying committees, for sales ops: every account with people engaged on the "
    f"website in the {graph.COMMITTEE_WINDOW_DAYS} full days before the latest delivery, with the "
    "committee's size, its events and pricing views, the account's owner that day and how many of its "
    "people leadgen knows. Largest committees first.",
    code_version="1",
    deps=[person_activity, account_owners, accounts],
    partitioned=False,
)
def buying_committees(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, sizes = rebuild(
        store, "identity.buying_committees", graph.BUYING_COMMITTEES_SQL,
        "SELECT CASE WHEN committee_size_30d >= 5 THEN '5+' ELSE committee_size_30d::VARCHAR END AS committee_size, "
        "count(*) AS accounts, count(*) FILTER (WHERE owner_id IS NULL) AS without_owner "
        "FROM identity.buying_committees GROUP BY ALL ORDER BY committee_size",
    )
    with store.reader() as con:
        as_of = con.sql("SELECT max(as_of_day) AS d FROM identity.buying_committees").fetchall()[0][0]
    return dg.MaterializeResult(
        metadata=write_metadata(
            store, "identity.buying_committees", [report],
            as_of_day=str(as_of) if as_of else "no web activity yet",
            accounts_with_committee_of_3_plus=int(sizes.filter(~sizes["committee_size"].is_in(["1", "2"]))["accounts"].sum()),
            committee_sizes=dg.MetadataValue.md(markdown_table(sizes)),
        )
    )


@layer_asset(
    "identity",
    "graph_nodes",
    description="Knowledge-graph nodes: person, account, domain, channel, campaign, rep, with first and last seen.",
    code_version="2",
    deps=[accounts, person_activity, dg.AssetKey(["signals", "crm_users"])],
    partitioned=False,
)
def graph_nodes(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, by_type = rebuild(
        store, "identity.graph_nodes", graph.GRAPH_NODES_SQL,
        "SELECT node_type, count(*) AS nodes FROM identity.graph_nodes GROUP BY ALL ORDER BY 1",
    )
    return dg.MaterializeResult(
        metadata=write_metadata(store, "identity.graph_nodes", [report], by_type=dg.MetadataValue.md(markdown_table(by_type)))
    )


@layer_asset(
    "identity",
    "graph_edges",
    description="Knowledge-graph edges with provenance (source record or rule, confidence, first and last "
    "seen): same_as (record to person, account to domain), works_at (person to account, by match rule), "
    "engaged_with (person to account through web activity, person to campaign), came_from (person to "
    "channel), owns (rep to account, one edge per ownership span).",
    code_version="2",
    deps=[graph_nodes, account_owners],
    partitioned=False,
)
def graph_edges(warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    report, by_type = rebuild(
        store, "identity.graph_edges", graph.GRAPH_EDGES_SQL,
        "SELECT edge_type, count(*) AS edges FROM identity.graph_edges GROUP BY ALL ORDER BY 1",
    )
    return dg.MaterializeResult(
        metadata=write_metadata(store, "identity.graph_edges", [report], by_type=dg.MetadataValue.md(markdown_table(by_type)))
    )


defs = dg.Definitions(
    assets=[
        person_records, persons, account_matches, accounts, visitor_map, account_owners, person_activity, person_companies,
        buying_committees, graph_nodes, graph_edges,
    ]
)
