"""Splink (Fellegi–Sunter on DuckDB) on the resolver's prepared records: the comparison that
``python -m benchmarks.resolve --splink --splink-python PATH`` runs.

It runs under an interpreter that has ``splink`` (never a dependency of this project):

    uv venv /tmp/splinkenv && uv pip install --python /tmp/splinkenv splink duckdb polars
    /tmp/splinkenv/bin/python benchmarks/splink_runner.py IN.parquet OUT.parquet [--threshold 0.99999]

IN holds one row per record with the columns the resolver's ``prepare`` gives (normalised
names, email key, E.164 phone, company key, domain, postcode, city, country); OUT gets
(rid, cluster_id). The last line on stdout is a JSON object with Splink's wall seconds,
this process's peak RSS and the counts. The input is normalised by our ``prepare`` first,
so Splink's time excludes normalisation.

The model is a standard Splink model: comparisons like ours (Jaro-Winkler bands on names
and company, exact email/phone/domain/postcode/city, the email's user name), blocking rules
like our BLOCK_KEYS plus the deterministic email and phone keys, λ from the deterministic
rules, u by random sampling, m by EM on two blocking rules; pairs at or above the match
probability threshold are clustered by connected components.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    # 0.99999: the best pairwise F1 of 0.99, 0.999, 0.9999 and 0.99999 on the seed-7 medium world
    ap.add_argument("--threshold", type=float, default=0.99999, help="match probability to link at")
    ap.add_argument("--u-pairs", type=float, default=5e6, help="random pairs for the u estimates")
    args = ap.parse_args(argv)

    import duckdb
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    con = duckdb.connect()
    # the input view, with the block keys as columns (Splink blocks on columns or SQL)
    con.execute("""
        CREATE TABLE recs AS SELECT rid AS unique_id, "first", first_canon, "last", email_link, email_local,
            phone_link, right(phone_link, 7) AS phone7, company, domain, postcode, city, country
        FROM read_parquet(?)
        WHERE NOT is_placeholder_record
    """, [str(args.input)])
    n = con.execute("SELECT count(*) FROM recs").fetchall()[0][0]
    started = time.perf_counter()
    db_api = DuckDBAPI(con)
    recs = db_api.register("recs")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first", [0.92, 0.85]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("last", [0.92, 0.85]).configure(term_frequency_adjustments=True),
            cl.CustomComparison(output_column_name="email", comparison_levels=[
                cll.NullLevel("email_link"), cll.ExactMatchLevel("email_link"), cll.ExactMatchLevel("email_local"),
                cll.ElseLevel()]),
            cl.CustomComparison(output_column_name="phone", comparison_levels=[
                cll.NullLevel("phone_link"), cll.ExactMatchLevel("phone_link"), cll.ExactMatchLevel("phone7"),
                cll.ElseLevel()]),
            cl.JaroWinklerAtThresholds("company", [0.9]),
            cl.ExactMatch("domain"),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("city"),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email_link"),
            block_on("phone_link"),
            block_on("last", "first_canon"),
            block_on("phone7"),
            block_on("email_local"),
            block_on("postcode", "substr(last, 1, 3)"),
            block_on("company", "first_canon"),
            block_on("company", "last"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(recs, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email_link"), block_on("phone_link")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=args.u_pairs, seed=7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last", "first_canon"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email_link"))
    t_train = time.perf_counter() - started
    predictions = linker.inference.predict(threshold_match_probability=args.threshold)
    t_predict = time.perf_counter() - started - t_train
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=args.threshold)
    out_table = clusters.physical_name
    con.sql(f"SELECT unique_id AS rid, cluster_id FROM {_ident(out_table)}").to_parquet(str(args.output))
    wall = time.perf_counter() - started
    n_pairs = con.execute(f"SELECT count(*) FROM {_ident(predictions.physical_name)}").fetchall()[0][0]
    result = {"records": n, "links": n_pairs, "seconds_train": round(t_train, 2), "seconds_predict": round(t_predict, 2),
              "seconds_total": round(wall, 2), "peak_rss_mb": round(peak_rss_mb(), 1)}
    print(json.dumps(result))
    return result


def _ident(name: str) -> str:
    """A table name Splink generated, quoted as an identifier."""
    return '"' + name.replace('"', '""') + '"'


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
