"""The ledger's decisions: what a delivered file's bytes mean given what was loaded before."""

import datetime as dt

import pytest

from leadgen_assets.core import ledger

DAY = dt.date(2026, 6, 3)


def loaded(state: ledger.LedgerState, name: str, sha: str, rows: int = 10, status: str = "loaded") -> None:
    state.record(ledger.event(
        source="x", day=DAY, source_file=name, sha256=sha, size_bytes=100, encoding="utf-8", status=status,
        active_sha256=sha if status in ledger.LOADING else None, run_id="r", rows_read=rows,
    ))


def plan(state: ledger.LedgerState, name: str, sha: str, **kw) -> tuple[str, str, str | None]:
    p = state.plan(name, sha, 100, reread=kw.pop("reread", False), allow_empty=kw.pop("allow_empty", False), **kw)
    return p.action, p.status, p.duplicate_of


def test_new_seen_corrected_and_reread_files() -> None:
    state = ledger.LedgerState()
    assert plan(state, "x/2026-06-03/a.csv", "h1") == ("read", "loaded", None)
    loaded(state, "x/2026-06-03/a.csv", "h1")
    assert plan(state, "x/2026-06-03/a.csv", "h1") == ("skip", "", None)
    assert plan(state, "x/2026-06-03/a.csv", "h2") == ("read", "replaced", None)
    assert plan(state, "x/2026-06-03/a.csv", "h1", reread=True) == ("read", "reloaded", None)


@pytest.mark.parametrize("other", ["x/2026-06-03/b.csv", "x/2026-06-04/a.csv"])
def test_the_same_bytes_elsewhere_are_a_duplicate(other: str) -> None:
    state = ledger.LedgerState()
    loaded(state, "x/2026-06-03/a.csv", "h1")
    assert plan(state, other, "h1") == ("duplicate", "", "x/2026-06-03/a.csv")


def test_a_snapshot_source_repeats_itself_on_purpose_across_days() -> None:
    state = ledger.LedgerState()
    loaded(state, "x/2026-06-03/users.csv", "h1")
    assert plan(state, "x/2026-06-04/users.csv", "h1", snapshot=True) == ("read", "loaded", None)
    assert plan(state, "x/2026-06-03/users-again.csv", "h1", snapshot=True) == ("duplicate", "", "x/2026-06-03/users.csv")


def test_files_without_records_never_make_duplicates() -> None:
    state = ledger.LedgerState()
    loaded(state, "x/2026-06-03/a.csv", "h-header", rows=0)  # a header-only file
    assert plan(state, "x/2026-06-04/a.csv", "h-header") == ("read", "loaded", None)


def test_failed_files_are_retried_and_refused_ones_only_when_allowed() -> None:
    state = ledger.LedgerState()
    loaded(state, "x/2026-06-03/a.csv", "h1", rows=0, status="failed")
    assert plan(state, "x/2026-06-03/a.csv", "h1") == ("read", "loaded", None)
    loaded(state, "x/2026-06-03/b.csv", "h2")
    state.record(ledger.event(
        source="x", day=DAY, source_file="x/2026-06-03/b.csv", sha256="h-empty", size_bytes=0, encoding="utf-8",
        status="refused_empty", active_sha256="h2", run_id="r",
    ))
    assert plan(state, "x/2026-06-03/b.csv", "h-empty") == ("skip", "", None)
    assert plan(state, "x/2026-06-03/b.csv", "h-empty", allow_empty=True) == ("read", "replaced", None)


def test_events_are_numbered_in_order_and_statuses_are_checked() -> None:
    state = ledger.LedgerState(next_seq=41)
    loaded(state, "x/2026-06-03/a.csv", "h1")
    loaded(state, "x/2026-06-03/b.csv", "h2")
    assert state.next_seq == 43
    with pytest.raises(ValueError, match="unknown ledger status"):
        ledger.event(source="x", day=DAY, source_file="f", sha256="h", size_bytes=1, encoding=None,
                     status="skipped", active_sha256=None, run_id="r")
