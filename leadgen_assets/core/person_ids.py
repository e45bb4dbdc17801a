"""Stable person ids: a new clustering of person records, named with the ids people already have.

The resolver (core/resolve.py) groups records into clusters. Downstream tables, the CRM
outbox and the review queue refer to persons by id, so a rerun must not renumber anyone.
``reconcile`` names each cluster from the previous record -> person map:

* Every previous person has one *heir*: the cluster holding most of its records (ties: the
  cluster holding its earliest record). A cluster that is heir to one person keeps that id.
* A cluster heir to several persons is a **merge**: the person first seen earliest (then the
  smallest id) survives; each other one is recorded as merged into it, with the strongest
  accepted link between the two as the reason.
* A previous person whose records now sit in several clusters is a **split**: its heir keeps
  the id; its other records go with their clusters (named by these same rules), and each
  move is recorded with the reason.
* A cluster of records never seen before gets a new id derived from its earliest record
  (first seen, then record key), so the same history always gives the same ids. An id is
  never reused for another person: a derived id that some previous person had is salted.

Pure polars; no Dagster, no warehouse.
"""

from __future__ import annotations

import hashlib

import polars as pl

CHANGE_SCHEMA = {
    "change": pl.Utf8,  # merge | split
    "person_id": pl.Utf8,  # merge: the survivor; split: the person records left
    "other_person_id": pl.Utf8,  # merge: the person absorbed; split: the new person they form
    "records": pl.Int64,  # records that moved
    "rule": pl.Utf8,  # merge: the link's rule (email, phone, fuzzy); split: null
    "score": pl.Float64,  # merge: the link's score in bits; split: null
    "reason": pl.Utf8,
}


def person_id_for(record_key: str, taken: frozenset[str] | set[str] = frozenset()) -> str:
    """The id a new person gets from its earliest record; salted while it collides with an
    id some other person has or had."""
    salt = 0
    while True:
        text = record_key if salt == 0 else f"{record_key}#{salt}"
        candidate = "P" + hashlib.md5(text.encode("utf-8")).hexdigest()[:15]
        if candidate not in taken:
            return candidate
        salt += 1


def reconcile(
    records: pl.DataFrame, clusters: pl.DataFrame, previous: pl.DataFrame, links: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Name the clusters of this run.

    ``records``: record_key, seen_at (the time the record was made; nulls last).
    ``clusters``: record_key, cluster_id (this run's clustering).
    ``previous``: record_key, person_id (the last run's map; empty on the first run).
    ``links``: optional accepted links as record_key_l, record_key_r, score, rule; they give
    merges their reason.

    Returns (record_key -> person_id for every record, the merges and splits as CHANGE_SCHEMA).
    """
    df = (
        records.select("record_key", "seen_at")
        .join(clusters.select("record_key", "cluster_id"), on="record_key", how="inner")
        .join(previous.select("record_key", pl.col("person_id").alias("prev_id")), on="record_key", how="left")
    )
    order = ["seen_at", "record_key"]
    # each previous person's heir: the cluster with most of its records, then its earliest record
    carried = df.filter(pl.col("prev_id").is_not_null())
    counts = carried.group_by("prev_id", "cluster_id").agg(
        pl.len().alias("n"), pl.col("seen_at").min().alias("first_at"), pl.col("record_key").min().alias("first_key")
    )
    heirs = counts.sort(
        ["prev_id", "n", "first_at", "first_key"], descending=[False, True, False, False], nulls_last=True
    ).unique("prev_id", keep="first", maintain_order=True)
    first_seen = carried.group_by("prev_id").agg(pl.col("seen_at").min().alias("person_first_at"))
    heirs = heirs.join(first_seen, on="prev_id").sort(["cluster_id", "person_first_at", "prev_id"], nulls_last=True)
    survivors = heirs.unique("cluster_id", keep="first", maintain_order=True).select(
        "cluster_id", pl.col("prev_id").alias("person_id")
    )
    absorbed = heirs.join(survivors, on="cluster_id").filter(pl.col("prev_id") != pl.col("person_id"))

    # clusters heir to no one: a new id from their earliest record
    taken = set(previous["person_id"].unique().to_list()) | set(survivors["person_id"].to_list())
    orphans = (
        df.join(survivors, on="cluster_id", how="anti")
        .sort(order, nulls_last=True)
        .unique("cluster_id", keep="first", maintain_order=True)
        .sort("record_key")
    )
    new_ids = []
    for key in orphans["record_key"].to_list():
        pid = person_id_for(key, taken)
        taken.add(pid)
        new_ids.append(pid)
    named = pl.concat([
        survivors,
        orphans.select("cluster_id").with_columns(pl.Series("person_id", new_ids, dtype=pl.Utf8)),
    ])
    assigned = df.join(named, on="cluster_id", how="left")

    merges = _merge_changes(absorbed, assigned, links)
    splits = (
        assigned.filter(pl.col("prev_id").is_not_null() & (pl.col("prev_id") != pl.col("person_id")))
        # records of an absorbed person that went to its survivor are the merge, not a split
        .join(absorbed.select("prev_id", "person_id"), on=["prev_id", "person_id"], how="anti")
        .group_by("prev_id", "person_id")
        .agg(pl.len().cast(pl.Int64).alias("records"))
        .sort("prev_id", "person_id")
        .select(
            pl.lit("split").alias("change"),
            pl.col("prev_id").alias("person_id"),
            pl.col("person_id").alias("other_person_id"),
            "records",
            pl.lit(None, dtype=pl.Utf8).alias("rule"),
            pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit("no accepted link joins these records to the rest of the person any more").alias("reason"),
        )
    )
    assigned = assigned.select("record_key", "person_id").sort("record_key")
    changes = pl.concat([merges.cast(CHANGE_SCHEMA), splits.cast(CHANGE_SCHEMA), removals(previous, assigned)])
    return assigned, changes


def removals(previous: pl.DataFrame, now: pl.DataFrame) -> pl.DataFrame:
    """Previous persons none of whose records is in ``now`` any more (each left its source:
    a CRM contact deleted, a lead erased), as CHANGE_SCHEMA rows. Their ids are not reused."""
    gone = previous.join(now.select("record_key"), on="record_key", how="anti")
    kept = previous.join(now.select("record_key"), on="record_key", how="semi").select("person_id").unique()
    return (
        gone.join(kept, on="person_id", how="anti")
        .group_by("person_id").agg(pl.len().cast(pl.Int64).alias("records"))
        .sort("person_id")
        .select(
            pl.lit("removed").alias("change"), "person_id", pl.lit(None, dtype=pl.Utf8).alias("other_person_id"),
            "records", pl.lit(None, dtype=pl.Utf8).alias("rule"), pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit("every record of the person left its sources").alias("reason"),
        )
        .cast(CHANGE_SCHEMA)
    )


def _merge_changes(absorbed: pl.DataFrame, assigned: pl.DataFrame, links: pl.DataFrame | None) -> pl.DataFrame:
    moved = (
        assigned.join(absorbed.select("prev_id", "person_id"), on=["prev_id", "person_id"], how="semi")
        .group_by("prev_id").agg(pl.len().cast(pl.Int64).alias("records"))
    )
    base = absorbed.select("prev_id", "person_id").join(moved, on="prev_id", how="left")
    if links is not None and links.height and base.height:
        prev = assigned.select("record_key", "prev_id")
        crossing = (
            links.join(prev.rename({"record_key": "record_key_l", "prev_id": "pl"}), on="record_key_l", how="left")
            .join(prev.rename({"record_key": "record_key_r", "prev_id": "pr"}), on="record_key_r", how="left")
        )
        # the strongest link from one of the absorbed person's records to a record outside it
        best = (
            pl.concat([
                crossing.select(pl.col("pl").alias("prev_id"), "pr", "score", "rule"),
                crossing.select(pl.col("pr").alias("prev_id"), pl.col("pl").alias("pr"), "score", "rule"),
            ])
            .filter(pl.col("prev_id").is_not_null() & (pl.col("pr").is_null() | (pl.col("pr") != pl.col("prev_id"))))
            .sort(["prev_id", "score", "rule"], descending=[False, True, False])
            .unique("prev_id", keep="first")
            .select("prev_id", "score", "rule")
        )
        base = base.join(best, on="prev_id", how="left")
    else:
        base = base.with_columns(pl.lit(None, dtype=pl.Float64).alias("score"), pl.lit(None, dtype=pl.Utf8).alias("rule"))
    return base.sort("person_id", "prev_id").select(
        pl.lit("merge").alias("change"),
        "person_id",
        pl.col("prev_id").alias("other_person_id"),
        pl.col("records").fill_null(0),
        "rule",
        "score",
        pl.when(pl.col("rule").is_not_null())
        .then(pl.lit("linked by ") + pl.col("rule") + pl.lit(" evidence to the surviving person, who was seen first"))
        .otherwise(pl.lit("clustered with the surviving person, who was seen first"))
        .alias("reason"),
    )
