"""A hash-chained, tamper-evident audit log.

Each entry's hash is ``sha256(previous hash + canonical JSON of the entry)``. Changing,
removing or reordering any entry breaks every hash after it, which ``verify`` reports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


def chain(entries: Iterable[dict[str, Any]], prev_hash: str, first_seq: int) -> Iterator[dict[str, Any]]:
    """Yield entries with ``seq``, ``prev_hash`` and ``entry_hash`` filled in."""
    for seq, entry in enumerate(entries, start=first_seq):
        body = {"seq": seq, **entry}
        digest = entry_hash(prev_hash, body)
        yield {**body, "prev_hash": prev_hash, "entry_hash": digest}
        prev_hash = digest


def verify(rows: Iterable[dict[str, Any]]) -> tuple[int, int | None]:
    """Check rows in ``seq`` order. Returns (entries checked, first broken seq or None)."""
    prev, checked = GENESIS, 0
    for row in rows:
        body = {k: v for k, v in row.items() if k not in ("prev_hash", "entry_hash")}
        if row["prev_hash"] != prev or entry_hash(prev, body) != row["entry_hash"]:
            return checked, row["seq"]
        prev = row["entry_hash"]
        checked += 1
    return checked, None
