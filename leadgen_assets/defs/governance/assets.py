"""governance: a hash-chained, tamper-evident audit log of every routing decision."""

import dagster as dg
import polars as pl

from leadgen_assets.core import audit
from leadgen_assets.defs.common import WarehouseResource, layer_asset, write_metadata
from leadgen_assets.storage.warehouse import Warehouse, qualified

AUDIT = "governance.audit_log"

AUDIT_SCHEMA = {
    "seq": pl.Int64, "action": pl.Utf8, "subject": pl.Utf8, "delivery_date": pl.Utf8,
    "detail": pl.Utf8, "digest": pl.Utf8, "run_id": pl.Utf8, "prev_hash": pl.Utf8, "entry_hash": pl.Utf8,
}

# Decisions not yet in the log. ``digest`` identifies a decision's content, so a rerun that
# decides the same thing adds nothing, and a rerun that decides differently adds an entry.
NEW_DECISIONS_SQL = """
WITH d AS (
    SELECT r.lead_id AS subject, CAST(r.delivery_date AS VARCHAR) AS delivery_date,
           to_json({decision: r.decision, owner_id: r.owner_id, cadence: r.cadence, reason: r.route_reason,
                    model_version: s.model_version, feature_set_version: s.feature_set_version,
                    grade: s.grade, score_run_id: s.run_id, route_run_id: r.run_id})::VARCHAR AS detail,
           sha256(concat_ws('|', r.lead_id, r.decision, coalesce(r.owner_id, ''), coalesce(r.cadence, ''),
                            s.model_version, s.feature_set_version)) AS digest
    FROM routing.lead_routes r JOIN scoring.lead_scores s USING (lead_id)
)
SELECT * FROM d
WHERE digest NOT IN (SELECT digest FROM governance.audit_log WHERE action = 'route')
ORDER BY delivery_date, subject
"""


@layer_asset(
    "governance",
    "audit_log",
    description="Append-only, hash-chained log of every routing decision with its model and feature-set "
    "versions and run ids. Each entry's hash covers the previous one; `leadgen audit verify` "
    "checks the whole chain.",
    code_version="1",
    deps=[dg.AssetKey(["routing", "lead_routes"])],
    partitioned=False,
)
def audit_log(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    store = warehouse.store()
    with store.writer() as w:
        if not w.table_exists(AUDIT):
            w.append(AUDIT, pl.DataFrame(schema=AUDIT_SCHEMA))
        new = w.con.sql(NEW_DECISIONS_SQL).pl()
        tail = w.con.sql("SELECT seq, entry_hash FROM " + qualified(AUDIT) + " ORDER BY seq DESC LIMIT 1").pl()
        prev_hash = tail["entry_hash"][0] if tail.height else audit.GENESIS
        first_seq = int(tail["seq"][0]) + 1 if tail.height else 1
        entries = (
            {"action": "route", "run_id": context.run.run_id, **row} for row in new.iter_rows(named=True)
        )
        chained = pl.DataFrame(list(audit.chain(entries, prev_hash, first_seq)), schema=AUDIT_SCHEMA)
        report = w.append(AUDIT, chained)
        total = w.con.sql("SELECT count(*) AS n FROM " + qualified(AUDIT)).pl()["n"][0]
    return dg.MaterializeResult(
        metadata=write_metadata(store, AUDIT, [report], entries_total=int(total), chain_head=chained["entry_hash"][-1] if chained.height else prev_hash)
    )


def verify_chain(warehouse_store: Warehouse) -> tuple[int, int | None]:
    """Verify the whole chain from the warehouse; returns (entries checked, first broken seq)."""
    rows = warehouse_store.query("SELECT * FROM " + qualified(AUDIT) + " ORDER BY seq")
    return audit.verify(rows.iter_rows(named=True))


@dg.asset_check(asset=audit_log, blocking=True, description="The audit log's hash chain is intact.")
def audit_chain_intact(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    checked, broken = verify_chain(warehouse.store())
    return dg.AssetCheckResult(
        passed=broken is None, metadata={"entries_checked": checked, "first_broken_seq": broken if broken is not None else -1}
    )


defs = dg.Definitions(assets=[audit_log], asset_checks=[audit_chain_intact])
