"""Simulated human reviewers: verdicts on queued leads, from the ground truth."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path

import numpy as np
import polars as pl

from .config import mix64
from .timeutil import epoch

REVIEW_HEADER = ["decision_id", "lead_id", "reviewer", "decided_at", "verdict", "reason"]
REVIEWERS = ("dana.reyes@ironbridge-it.com", "sam.okafor@ironbridge-it.com",
             "lee.chen@ironbridge-it.com")
JUNK_REASONS = {"spam": "spam", "test": "test entry", "competitor": "competitor",
                "student": "student / not a buyer"}
GOOD_FIT = 0.0      # persons.fit above this is a fit a reviewer accepts
ERROR_RATE = 0.03   # reviewers sometimes get a non-junk lead wrong


def _day(day, start: dt.date) -> tuple[int, dt.date]:
    if isinstance(day, int):
        return day, start + dt.timedelta(days=day)
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return (d - start).days, d


def simulate_review_decisions(queue: pl.DataFrame, truth_dir: Path | str,
                              day: int | str | dt.date) -> pl.DataFrame:
    """Verdicts for a review queue, in the review_decisions layout.

    ``queue`` needs ``lead_id``; it is matched to a form row by, in order: a ``record_id``
    column (with ``channel`` if present), ``lead_id`` equal to a record id, or ``lead_id``
    ending in ``<sep><record_id>`` for sep in ':', '/', '|' (e.g. "google_ads:GA0001...").
    Unmatched leads are left out. Junk -> reject; non-junk good fit -> accept; poor fit ->
    reject; leads whose account has an inactive CRM owner, or some at existing CRM
    accounts -> reroute; ~3 % reviewer error on non-junk leads. Deterministic per
    (world seed, day, lead_id), independent of queue order.
    """
    truth = Path(truth_dir)
    world = json.loads((truth / "world.json").read_text())
    seed = int(world["config"]["seed"])
    start = dt.date.fromisoformat(world["config"]["start"])
    di, date = _day(day, start)
    rec = pl.read_parquet(truth / "records.parquet").filter(pl.col("source") == "form_leads")
    persons = pl.read_parquet(truth / "persons.parquet").select(
        "true_person_id", "is_junk", "junk_kind", "fit")
    accounts = pl.read_parquet(truth / "accounts.parquet").select(
        "true_account_id", "crm_account_id", "crm_owner_id")
    q = queue.select(pl.col("lead_id").cast(pl.String),
                     *[pl.col(c).cast(pl.String) for c in ("record_id", "channel")
                       if c in queue.columns])
    if "record_id" not in q.columns:
        ids = set(rec["record_id"].to_list())
        q = q.with_columns(record_id=pl.col("lead_id").map_elements(
            lambda s: _match(s, ids), return_dtype=pl.String))
    on = ["record_id", "channel"] if "channel" in q.columns else ["record_id"]
    r = rec.select("record_id", "channel", "true_person_id", "true_account_id")
    if on == ["record_id"]:
        r = r.drop("channel")
    m = (q.join(r, on=on, how="inner", maintain_order="left")
         .join(persons, on="true_person_id", how="left", maintain_order="left")
         .join(accounts, on="true_account_id", how="left", maintain_order="left"))
    users_inactive = _inactive_owners(truth)
    n = m.height
    u = (mix64(np.array([zlib.crc32(s.encode()) for s in m["lead_id"].to_list()], dtype=np.uint64),
               seed * 1_000_003 + di) % np.uint64(10**6)).astype(np.float64) / 1e6
    junk = m["is_junk"].fill_null(False).to_numpy()
    kind = m["junk_kind"].to_list()
    fit = m["fit"].fill_null(-9).to_numpy()
    owner = m["crm_owner_id"].to_list()
    in_crm = m["crm_account_id"].is_not_null().to_numpy()
    verdict, reason = [], []
    for i in range(n):
        if junk[i]:
            v, why = "reject", JUNK_REASONS.get(kind[i], "junk")
        elif owner[i] is not None and owner[i] in users_inactive:
            v, why = "reroute", "account owner inactive"
        elif in_crm[i] and u[i] < 0.25:
            v, why = "reroute", "existing account: route to owner"
        elif fit[i] > GOOD_FIT:
            v, why = "accept", "good fit"
        else:
            v, why = "reject", "poor fit"
        if not junk[i] and v != "reroute" and (u[i] * 997) % 1 < ERROR_RATE:
            v = "reject" if v == "accept" else "accept"
            why = "reviewer judgement"
        verdict.append(v)
        reason.append(why)
    t = epoch(date) + 14 * 3600 + (u * 6 * 3600).astype(np.int64)
    return pl.DataFrame({
        "decision_id": [f"rd-{date.isoformat()}-{i + 1:05d}" for i in range(n)],
        "lead_id": m["lead_id"],
        "reviewer": [REVIEWERS[int(x * 1000) % len(REVIEWERS)] for x in u],
        "decided_at": pl.from_epoch(pl.Series(t, dtype=pl.Int64), time_unit="s")
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verdict": verdict, "reason": reason,
    }, schema={c: pl.String for c in REVIEW_HEADER})


def _match(lead_id: str, ids: set[str]) -> str | None:
    if lead_id in ids:
        return lead_id
    for sep in (":", "/", "|"):
        tail = lead_id.rsplit(sep, 1)[-1]
        if tail in ids:
            return tail
    return None


def _inactive_owners(truth: Path) -> set[str]:
    """Reps inactive at the end of the world (from the world's own users files)."""
    world = json.loads((truth / "world.json").read_text())
    return set(world.get("inactive_rep_ids", []))


def write_review_decisions(df: pl.DataFrame, landing_dir: Path | str,
                           day: str | dt.date) -> Path:
    """Write decisions to review_decisions/<day>/decisions-<day>.csv."""
    ds = day.isoformat() if isinstance(day, dt.date) else str(day)
    d = Path(landing_dir) / "review_decisions" / ds
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"decisions-{ds}.csv"
    df.select(REVIEW_HEADER).write_csv(p, line_terminator="\n")
    return p
