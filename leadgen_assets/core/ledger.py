"""The ingestion ledger: what happened to every delivered file, so each content loads once.

Every time a source asset meets a file whose bytes it has not seen under that name, it
records one event in ``sources.ingestion_ledger`` (append-only):

| status | when | rows of the file in the raw table |
|---|---|---|
| loaded | a new file | its records are inserted |
| replaced | a corrected file under a name already loaded | the earlier version's rows are removed and the new ones inserted, in one transaction |
| reloaded | the same bytes, read again on request (`reread: true`) | replaced by a fresh read |
| duplicate | the same bytes as a file already loaded with records, under any name, any day (for a snapshot source such as `crm_users`, the same day) | nothing is inserted; `detail` names the file it repeats |
| refused_empty | a re-delivery with no records of a file whose rows are loaded | the earlier rows are kept; rerun with `allow_empty: true` to accept it |
| failed | the file could not be read | unchanged; the run fails after the other files, saying which |

The same bytes under the same name again are a no-op and are not recorded again: a day can
be rematerialised any number of times. ``active_sha256`` is the content whose rows stand for
the file after the event (null when none do); the latest event of a file is its state.

This module is the pure decision logic; the sources assets do the reading and writing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

TABLE = "sources.ingestion_ledger"

SCHEMA = {
    "event_seq": pl.Int64,
    "source": pl.Utf8,
    "delivery_date": pl.Date,
    "source_file": pl.Utf8,
    "content_sha256": pl.Utf8,
    "size_bytes": pl.Int64,
    "encoding": pl.Utf8,
    "status": pl.Utf8,
    "detail": pl.Utf8,
    "active_sha256": pl.Utf8,
    "rows_read": pl.Int64,
    "rows_unreadable": pl.Int64,
    "rows_removed": pl.Int64,
    "rows_accepted": pl.Int64,
    "rows_rejected": pl.Int64,
    "run_id": pl.Utf8,
    "recorded_at": pl.Datetime("us", "UTC"),
}

STATUSES = ("loaded", "replaced", "reloaded", "duplicate", "refused_empty", "failed")
LOADING = ("loaded", "replaced", "reloaded")

# The latest event of every file of a source, its current state, with ``active_rows``: the
# rows of the version that stands for the file (from its latest load).
LATEST_SQL = """
SELECT * EXCLUDE (newest) FROM (
    SELECT *,
        last_value(CASE WHEN status IN ('loaded', 'replaced', 'reloaded') THEN rows_read END IGNORE NULLS)
            OVER (PARTITION BY source_file ORDER BY event_seq
                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS active_rows,
        row_number() OVER (PARTITION BY source_file ORDER BY event_seq DESC) AS newest
    FROM "sources"."ingestion_ledger"
    WHERE source = $source
)
WHERE newest = 1
"""


@dataclass
class FileState:
    sha256: str  # the content last seen under this name
    status: str
    active_sha256: str | None
    active_rows: int = 0  # records of the version that stands for the file (0 when none does)


@dataclass
class Plan:
    """What to do with one delivered file."""

    action: str  # "skip", "duplicate" or "read"
    status: str = ""  # the status a read will record: loaded, replaced or reloaded
    duplicate_of: str | None = None
    was_active: bool = False


@dataclass
class LedgerState:
    """The current state of a source's files, updated as the run records events."""

    files: dict[str, FileState] = field(default_factory=dict)
    next_seq: int = 1

    @classmethod
    def from_latest(cls, latest: pl.DataFrame, next_seq: int) -> LedgerState:
        files = {
            row["source_file"]: FileState(
                row["content_sha256"], row["status"], row["active_sha256"],
                (row["active_rows"] or 0) if row["active_sha256"] else 0,
            )
            for row in latest.iter_rows(named=True)
        }
        return cls(files, next_seq)

    def loaded_file_with(self, sha256: str, other_than: str, within: str) -> str | None:
        """A file under ``within`` (a folder prefix) whose loaded records have these bytes."""
        for name, state in self.files.items():
            if (
                name != other_than and name.startswith(within) and state.active_sha256 == sha256
                and state.status in LOADING and state.active_rows > 0
            ):
                return name
        return None

    def plan(
        self, source_file: str, sha256: str, size_bytes: int, *, reread: bool, allow_empty: bool, snapshot: bool = False
    ) -> Plan:
        """What to do with a delivered file. For a snapshot source (the whole state, every
        day), the same bytes on another day are that day's snapshot, so only files of the
        same day folder can be duplicates of each other."""
        state = self.files.get(source_file)
        was_active = bool(state and state.active_sha256)
        if state and state.sha256 == sha256:
            retry = state.status == "failed" or (state.status == "refused_empty" and allow_empty)
            if not retry and not (reread and state.status in LOADING):
                return Plan("skip", was_active=was_active)
        within = source_file.rsplit("/", 1)[0] + "/" if snapshot else source_file.split("/", 1)[0] + "/"
        if size_bytes > 0 and (other := self.loaded_file_with(sha256, source_file, within)):
            return Plan("duplicate", duplicate_of=other, was_active=was_active)
        if state and state.active_sha256 == sha256:
            return Plan("read", "reloaded", was_active=True)
        return Plan("read", "replaced" if was_active else "loaded", was_active=was_active)

    def record(self, event: dict) -> dict:
        """Give ``event`` its sequence number and make it the file's state."""
        event = {**event, "event_seq": self.next_seq}
        self.next_seq += 1
        before = self.files.get(event["source_file"])
        if event["status"] in LOADING:
            active_rows = event["rows_read"]
        else:  # a refused or failed version keeps the one before it; a duplicate stands for nothing
            active_rows = before.active_rows if before and event["active_sha256"] else 0
        self.files[event["source_file"]] = FileState(
            event["content_sha256"], event["status"], event["active_sha256"], active_rows
        )
        return event

    def active_files(self, prefix: str) -> list[str]:
        return sorted(n for n, s in self.files.items() if s.active_sha256 and n.startswith(prefix))


def event(
    *,
    source: str,
    day: dt.date,
    source_file: str,
    sha256: str,
    size_bytes: int,
    encoding: str | None,
    status: str,
    active_sha256: str | None,
    run_id: str,
    detail: str | None = None,
    rows_read: int = 0,
    rows_unreadable: int = 0,
    rows_removed: int = 0,
) -> dict:
    if status not in STATUSES:
        raise ValueError(f"unknown ledger status {status!r}")
    return {
        "source": source,
        "delivery_date": day,
        "source_file": source_file,
        "content_sha256": sha256,
        "size_bytes": size_bytes,
        "encoding": encoding,
        "status": status,
        "detail": detail,
        "active_sha256": active_sha256,
        "rows_read": rows_read,
        "rows_unreadable": rows_unreadable,
        "rows_removed": rows_removed,
        "rows_accepted": None,
        "rows_rejected": None,
        "run_id": run_id,
        "recorded_at": dt.datetime.now(dt.UTC),
    }


def frame(events: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(events, schema=SCHEMA)


# Fill in what the signals layer made of each loaded file's rows. ``__file_outcome`` is
# (source_file, accepted, rejected) for the files of the days just written.
RECORD_OUTCOME_SQL = """
UPDATE "sources"."ingestion_ledger" AS l
SET rows_accepted = o.accepted, rows_rejected = o.rejected
FROM (
    SELECT o.source_file, o.accepted, o.rejected, max(e.event_seq) AS seq
    FROM __file_outcome o JOIN "sources"."ingestion_ledger" e
      ON e.source = $source AND e.source_file = o.source_file AND e.status IN ('loaded', 'replaced', 'reloaded')
    GROUP BY ALL
) o
WHERE l.event_seq = o.seq
"""
