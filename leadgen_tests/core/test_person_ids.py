"""Stable person ids across reruns: merges, splits and new persons (core/person_ids.py)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from leadgen_assets.core.person_ids import person_id_for, reconcile, removals

T0 = dt.datetime(2026, 6, 1)


def records(*keys: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"record_key": list(keys), "seen_at": [T0 + dt.timedelta(hours=i) for i in range(len(keys))]}
    )


def clusters(groups: list[list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(k, min(g)) for g in groups for k in g], schema={"record_key": pl.Utf8, "cluster_id": pl.Utf8}, orient="row"
    )


def mapping(assigned: pl.DataFrame) -> dict[str, str]:
    return dict(assigned.iter_rows())


NO_PREVIOUS = pl.DataFrame(schema={"record_key": pl.Utf8, "person_id": pl.Utf8})


def test_first_run_ids_come_from_each_clusters_earliest_record() -> None:
    recs = records("b", "a", "c")  # b is seen first
    assigned, changes = reconcile(recs, clusters([["a", "b"], ["c"]]), NO_PREVIOUS)
    ids = mapping(assigned)
    assert ids["a"] == ids["b"] == person_id_for("b")
    assert ids["c"] == person_id_for("c")
    assert changes.is_empty()


def test_a_rerun_of_the_same_clustering_changes_nothing() -> None:
    recs = records("a", "b", "c")
    first, _ = reconcile(recs, clusters([["a", "b"], ["c"]]), NO_PREVIOUS)
    again, changes = reconcile(recs, clusters([["a", "b"], ["c"]]), first)
    assert again.equals(first)
    assert changes.is_empty()


def test_new_records_join_an_existing_person_without_renumbering() -> None:
    before, _ = reconcile(records("a", "b"), clusters([["a"], ["b"]]), NO_PREVIOUS)
    # a new record z, seen after both, joins b's person
    recs = records("a", "b", "z")
    after, changes = reconcile(recs, clusters([["a"], ["b", "z"]]), before)
    ids, old = mapping(after), mapping(before)
    assert ids["a"] == old["a"] and ids["b"] == old["b"] == ids["z"]
    assert changes.is_empty()


def test_a_merge_keeps_the_person_seen_first_and_records_the_link() -> None:
    before, _ = reconcile(records("a", "b", "c"), clusters([["a"], ["b", "c"]]), NO_PREVIOUS)
    old = mapping(before)
    links = pl.DataFrame({"record_key_l": ["a", "c"], "record_key_r": ["x", "x"], "score": [1000.0, 14.5], "rule": ["email", "fuzzy"]})
    after, changes = reconcile(records("a", "b", "c", "x"), clusters([["a", "b", "c", "x"]]), before, links)
    ids = mapping(after)
    assert set(ids.values()) == {old["a"]}  # a was seen first
    assert changes.rows(named=True) == [{
        "change": "merge", "person_id": old["a"], "other_person_id": old["b"], "records": 2,
        "rule": "fuzzy", "score": 14.5,
        "reason": "linked by fuzzy evidence to the surviving person, who was seen first",
    }]


def test_a_split_keeps_the_id_with_most_records_and_never_reuses_an_id() -> None:
    before, _ = reconcile(records("a", "b", "c"), clusters([["a", "b", "c"]]), NO_PREVIOUS)
    pid = mapping(before)["a"]
    assert pid == person_id_for("a")
    # a leaves: b and c keep the id (two records against one), a gets a new one
    after, changes = reconcile(records("a", "b", "c"), clusters([["a"], ["b", "c"]]), before)
    ids = mapping(after)
    assert ids["b"] == ids["c"] == pid
    assert ids["a"] != pid and ids["a"].startswith("P")  # a's derived id is taken: salted
    assert changes.select("change", "person_id", "other_person_id", "records").rows() == [("split", pid, ids["a"], 1)]

def test_a_person_whose_records_all_left_is_logged_as_removed() -> None:
    before, _ = reconcile(records("a", "b", "c", "d"), clusters([["a", "b"], ["c"], ["d"]]), NO_PREVIOUS)
    # c's only record was deleted at its source; b left too, but a still carries that person
    after, changes = reconcile(records("a", "d"), clusters([["a"], ["d"]]), before)
    old = mapping(before)
    assert changes.select("change", "person_id", "records").rows() == [("removed", old["c"], 1)]
    assert changes["reason"][0] == "every record of the person left its sources"
    # the same answer for the incremental path, which compares stored and kept records directly
    assert removals(before, after).equals(changes)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=14),
    st.lists(st.integers(min_value=0, max_value=5), min_size=14, max_size=14),
)
def test_ids_are_unique_per_cluster_and_every_previous_id_survives_somewhere_or_is_logged(first: list[int], second: list[int]) -> None:
    keys = [f"r{i:02d}" for i in range(len(first))]
    recs = records(*keys)
    group = lambda labels: [[k for k, g in zip(keys, labels, strict=False) if g == label] for label in sorted(set(labels[: len(keys)]))]  # noqa: E731
    before, _ = reconcile(recs, clusters(group(first)), NO_PREVIOUS)
    after, changes = reconcile(recs, clusters(group(second[: len(keys)])), before)
    # one id per cluster, one cluster per id
    per_cluster = after.join(clusters(group(second[: len(keys)])), on="record_key")
    assert per_cluster.group_by("cluster_id").agg(pl.col("person_id").n_unique())["person_id"].max() == 1
    assert per_cluster.group_by("person_id").agg(pl.col("cluster_id").n_unique())["cluster_id"].max() == 1
    # every previous id is still in use, or the log says where its records went
    gone = set(before["person_id"]) - set(after["person_id"])
    assert gone <= set(changes.filter(pl.col("change") == "merge")["other_person_id"])
    # no record moves between ids without a merge or split naming both
    moved = before.join(after, on="record_key", suffix="_now").filter(pl.col("person_id") != pl.col("person_id_now"))
    logged = {(r["person_id"], r["other_person_id"]) for r in changes.iter_rows(named=True)}
    for old, new in moved.select("person_id", "person_id_now").unique().iter_rows():
        assert (new, old) in logged or (old, new) in logged
