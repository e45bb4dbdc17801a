"""Ground-truth tables (Parquet) that tests and benchmarks read; the pipeline never does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .behaviour import Leads, Outcome, Web
from .config import WorldConfig
from .crm import Crm
from .entities import INDUSTRY_NAMES, JUNK_KINDS, Accounts, Persons
from .forms import anon_ids
from .timeutil import DAY, epoch

RECORD_SCHEMA = {"source": pl.String, "channel": pl.String, "file": pl.String,
                 "line": pl.Int64, "record_id": pl.String, "true_person_id": pl.String,
                 "true_account_id": pl.String}


def person_ids(idx: np.ndarray) -> pl.Series:
    return pl.select(pl.lit("P") + pl.Series(np.asarray(idx, dtype=np.int64)).cast(pl.String)
                     .str.zfill(7)).to_series()


def account_ids(idx: np.ndarray) -> pl.Series:
    """'A0000123'; negative index -> null."""
    idx = np.asarray(idx, dtype=np.int64)
    s = pl.select(pl.lit("A") + pl.Series(np.clip(idx, 0, None)).cast(pl.String).str.zfill(7)
                  ).to_series()
    return pl.select(pl.when(pl.Series(idx >= 0)).then(s).otherwise(None)).to_series()


def account_at(P: Persons, who: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The account a person works at, at time t (epoch s); -1 for junk."""
    moved = P.moved[who] & (t >= P.move_t[who])
    return np.where(moved, P.new_account[who], P.account[who])


def records_frame(source: str, channel, file, line, record_id, person, account) -> pl.DataFrame:
    n = len(record_id)
    person = np.asarray(person)
    return pl.DataFrame({
        "source": [source] * n,
        "channel": channel if not isinstance(channel, (str, type(None))) else [channel] * n,
        "file": file, "line": line, "record_id": record_id,
        "true_person_id": pl.select(pl.when(pl.Series(person >= 0)).then(
            person_ids(np.clip(person, 0, None))).otherwise(None)).to_series() if n else [],
        "true_account_id": account_ids(account) if n else [],
    }, schema=RECORD_SCHEMA)


def write_truth(truth_dir: Path, cfg: WorldConfig, acc: Accounts, P: Persons, L: Leads,
                W: Web, O: Outcome, crm: Crm, consent: pl.DataFrame, records: pl.DataFrame,
                lead_rows: pl.DataFrame, counts: dict[str, Any],
                extra: dict[str, Any] | None = None) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    # accounts
    owner = crm.account_owner
    pl.DataFrame({
        "true_account_id": account_ids(np.arange(acc.n)), "name": acc.name,
        "domain": acc.domain, "website": acc.website,
        "industry": np.array(INDUSTRY_NAMES)[acc.industry], "employees": acc.employees,
        "country": acc.country, "region": acc.region, "city": acc.city_name,
        "crm_account_id": pl.Series(crm.account_crm_id.tolist(), dtype=pl.String),
        "crm_owner_id": pl.Series([None if o < 0 or c is None else r for o, c, r in zip(
            owner, crm.account_crm_id, _rep_ids(crm, owner))], dtype=pl.String),
        "in_crm_day1": acc.in_crm, "served_region": acc.served,
        "target_industry": acc.target_industry,
    }).write_parquet(truth_dir / "accounts.parquet")

    # persons
    n = P.n
    cur_acc = np.where(P.moved, P.new_account, P.account)
    cur_work = pl.select(pl.when(pl.Series(P.moved)).then(P.new_work_email)
                         .otherwise(P.work_email)).to_series()
    ctype = np.full(n, None, dtype=object)
    cday = np.full(n, None, dtype=object)
    if consent.height:
        cp = consent["person"].to_numpy()
        ctype[cp] = consent["event_type"].to_numpy()
        cday[cp] = consent["day"].to_numpy()
    T0 = epoch(cfg.start)
    pl.DataFrame({
        "true_person_id": person_ids(np.arange(n)),
        "true_account_id": account_ids(cur_acc),
        "first_name": P.first, "last_name": P.last, "nickname": P.nick,
        "email": pl.select(pl.coalesce(cur_work, P.personal_email)).to_series(),
        "work_email": cur_work, "personal_email": P.personal_email,
        "phone_e164": P.phone_e164, "title": P.title,
        "is_junk": P.is_junk,
        "junk_kind": pl.Series([JUNK_KINDS[k] if k >= 0 else None for k in P.junk_kind],
                               dtype=pl.String),
        "fit": np.where(P.is_junk, np.nan, O.fit), "intent": P.intent,
        # all the person's site activity before the lead, identified or not: more than a business sees
        "engagement": np.where(P.is_junk, np.nan, O.engagement),
        "is_lead": L.t0 >= 0, "converted": O.converted,
        "consent_event": pl.Series(ctype.tolist(), dtype=pl.String),
        "consent_day": pl.Series(cday.tolist(), dtype=pl.Int64),
        "moved_account_id": account_ids(np.where(P.moved, P.account, -1)),
        "moved_day": pl.Series(np.where(P.moved, (P.move_t - T0) // DAY, -1)).set(
            pl.Series(~P.moved), None),
        "user_id": P.user_id,
    }).write_parquet(truth_dir / "persons.parquet")

    records.write_parquet(truth_dir / "records.parquet")

    # visitors
    pl.DataFrame({
        "anonymous_id": anon_ids(np.arange(W.visitor_person.size), cfg.seed),
        "true_person_id": pl.select(pl.when(pl.Series(W.visitor_person >= 0)).then(
            person_ids(np.clip(W.visitor_person, 0, None))).otherwise(None)).to_series(),
    }).write_parquet(truth_dir / "visitors.parquet")

    lead_rows.write_parquet(truth_dir / "leads.parquet")

    world = {"config": cfg.to_dict(), "counts": counts,
             "drift": cfg.drift.__dict__ if cfg.drift else None,
             "conversion_intercept": round(float(O.intercept), 6), **(extra or {})}
    (truth_dir / "world.json").write_text(json.dumps(world, indent=2, sort_keys=True) + "\n")


def _rep_ids(crm: Crm, owner: np.ndarray) -> list:
    # users frame holds the rep ids in rep-index order
    ids = crm.users[0]["Id"].to_list()
    return [ids[o] if o >= 0 else None for o in owner]


def leads_frame(cfg: WorldConfig, L: Leads, O: Outcome, crm: Crm, form_truth: pl.DataFrame,
                P: Persons) -> pl.DataFrame:
    """One row per form row: the label the pipeline should learn."""
    row = form_truth["row"].to_numpy()
    person = L.person[row]
    won = crm.won_t[person]
    return pl.DataFrame({
        "channel": form_truth["channel"], "record_id": form_truth["record_id"],
        "file": form_truth["file"], "line": form_truth["line"],
        "true_person_id": person_ids(person),
        "created_at": pl.from_epoch(pl.Series(L.t[row]), time_unit="s").dt.replace_time_zone("UTC"),
        "p_convert": O.p[person], "converted": O.converted[person],
        "won_at": pl.from_epoch(pl.Series(np.where(won >= 0, won, 0)), time_unit="s")
        .dt.replace_time_zone("UTC").set(pl.Series(won < 0), None),
        "is_junk": P.is_junk[person], "first_of_person": L.first[row],
        "day": L.day[row].astype(np.int32),
    }).sort("created_at", "channel", "record_id")


def to_jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, dt.date):
        return x.isoformat()
    return x
