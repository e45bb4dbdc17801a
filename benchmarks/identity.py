"""Benchmark: identity quality of the pipeline against the simulator's ground truth.

    python -m benchmarks identity --scale medium [--workdir DIR]

Materialises sources, signals and identity for every landed day of a sample world (one
run, the way `leadgen run` does), then scores what the identity assets hold:

* person resolution: pairwise precision, recall and F1 and B-cubed F1 over every person
  record the truth knows (form leads, CRM contacts, identify calls, consent events);
* lead-to-account accuracy per form lead: a lead whose true company is in the CRM must be
  matched to that CRM account; any other lead must not be matched to a CRM account;
* visitor stitching: of the anonymous visitors linked to a person, the share linked to the
  right one (a person is the true person most of its records belong to), and the share of
  the truly identifiable visitors (an identify call or a form submit) that were linked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl

from benchmarks.common import peak_rss_mb, world_folder

TRUTH_KEYS = {
    "form_leads": pl.lit("form_leads:") + pl.col("channel") + pl.lit(":") + pl.col("record_id"),
    "crm_contacts": pl.lit("crm_contacts:") + pl.col("record_id"),
    "web_events": pl.lit("web_identify:") + pl.col("record_id"),
    "consent_events": pl.lit("consent_events:") + pl.col("record_id"),
}


def materialise_identity() -> float:
    import dagster as dg

    from leadgen_assets.cli import _landed_days
    from leadgen_assets.definitions import defs

    first, last = _landed_days()
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] in ("sources", "signals", "identity")]
    started = time.perf_counter()
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=keys,
        tags={"dagster/asset_partition_range_start": first.isoformat(), "dagster/asset_partition_range_end": last.isoformat()},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        raise SystemExit("the identity run failed; see the log above")
    return time.perf_counter() - started


def evaluate(root: Path) -> dict:
    from leadgen_assets import settings
    from leadgen_assets.core.resolve import evaluate as pairwise
    from leadgen_assets.storage.warehouse import Warehouse

    store = Warehouse(settings.warehouse_path())
    truth = pl.read_parquet(root / "truth" / "records.parquet")
    truth = pl.concat([
        truth.filter(pl.col("source") == source).with_columns(expr.alias("record_key")) for source, expr in TRUTH_KEYS.items()
    ]).unique("record_key", keep="last")
    records = store.query("SELECT record_key, source, person_id FROM identity.person_records").join(
        truth.select("record_key", "true_person_id", "true_account_id"), on="record_key", how="inner"
    )
    quality = pairwise(records["person_id"], records["true_person_id"])
    by_source = {
        source: round(pairwise(part["person_id"], part["true_person_id"])["pairwise_f1"], 5)
        for (source,), part in records.group_by("source")
    }
    # each predicted person's true person: the one most of its records belong to
    majority = (
        records.group_by("person_id", "true_person_id").len()
        .sort(["person_id", "len", "true_person_id"], descending=[False, True, False])
        .unique("person_id", keep="first").select("person_id", pl.col("true_person_id").alias("majority_person"))
    )

    # lead-to-account
    accounts = pl.read_parquet(root / "truth" / "accounts.parquet").select("true_account_id", "crm_account_id")
    crm_ids = store.query("SELECT DISTINCT account_id FROM signals.crm_accounts")["account_id"]
    leads = (
        records.filter(pl.col("source") == "form_leads")
        .join(store.query("SELECT person_id, account_id, match_rule FROM identity.account_matches"), on="person_id", how="left")
        .join(accounts, on="true_account_id", how="left")
        .with_columns(
            pl.col("crm_account_id").is_in(crm_ids.implode()).fill_null(False).alias("truly_in_crm"),
            pl.col("account_id").is_in(crm_ids.implode()).fill_null(False).alias("matched_to_crm"),
        )
        .with_columns(
            pl.when(pl.col("truly_in_crm")).then(pl.col("account_id") == pl.col("crm_account_id"))
            .otherwise(~pl.col("matched_to_crm")).fill_null(False).alias("correct")
        )
    )
    in_crm = leads.filter(pl.col("truly_in_crm"))

    # visitor stitching
    visitors = pl.read_parquet(root / "truth" / "visitors.parquet")
    stitched = (
        store.query("SELECT anonymous_id, person_id FROM identity.visitor_map WHERE person_id IS NOT NULL")
        .join(majority, on="person_id", how="left")
        .join(visitors, on="anonymous_id", how="left")
    )
    identifiable = store.query(
        "SELECT DISTINCT anonymous_id FROM signals.web_events WHERE event_type = 'identify' AND anonymous_id IS NOT NULL "
        "UNION SELECT DISTINCT anonymous_id FROM signals.form_leads WHERE anonymous_id IS NOT NULL"
    )
    return {
        "person_records_scored": records.height,
        "pairwise_precision": round(quality["pairwise_precision"], 5),
        "pairwise_recall": round(quality["pairwise_recall"], 5),
        "pairwise_f1": round(quality["pairwise_f1"], 5),
        "bcubed_f1": round(quality["bcubed_f1"], 5),
        "pairwise_f1_within_source": by_source,
        "form_leads_scored": leads.height,
        "lead_to_account_accuracy": round(float(leads["correct"].mean()), 5),
        "lead_to_account_accuracy_crm_accounts": round(float(in_crm["correct"].mean()), 5) if in_crm.height else None,
        "lead_to_account_accuracy_others": round(float(leads.filter(~pl.col("truly_in_crm"))["correct"].mean()), 5),
        "leads_truly_at_crm_accounts": in_crm.height,
        "lead_to_account_by_rule": {
            rule or "no account": {"leads": n, "accuracy": round(acc, 5)}
            for rule, n, acc in leads.group_by("match_rule").agg(pl.len(), pl.col("correct").mean()).sort("len", descending=True).iter_rows()
        },
        "visitors_stitched": stitched.height,
        "stitching_accuracy": round(float((stitched["majority_person"] == stitched["true_person_id"]).mean()), 5)
        if stitched.height else None,
        "stitching_coverage": round(stitched.height / identifiable.height, 5) if identifiable.height else None,
    }


def main(scale: str = "medium", workdir: Path | None = None) -> dict:
    with world_folder(scale, workdir, regenerate=False) as root:
        from leadgen_assets import settings

        settings.warehouse_path().unlink(missing_ok=True)
        wall = materialise_identity()
        started = time.perf_counter()
        out = evaluate(root)
        out.update(scale=scale, sources_signals_identity_wall_s=round(wall, 1),
                   evaluation_s=round(time.perf_counter() - started, 1), peak_rss_mb=round(peak_rss_mb()))
        print(json.dumps(out, indent=2))
        return out
