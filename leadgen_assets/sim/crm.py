"""The CRM (Salesforce-style): users, accounts, contacts and opportunities over time.

Every CRM file holds the records created or modified on that day (day 1: the full
snapshot of what already existed), except users: a full snapshot every day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import names as N
from .behaviour import Leads, Outcome
from .config import CHANNELS, Streams, WorldConfig
from .entities import INDUSTRY_NAMES, frame, Accounts, Persons, Reps, route, sf_ids
from .timeutil import DAY, ISO_MS_Z, epoch, fmt_epoch

ACCOUNT_HEADER = ["Id", "Name", "Website", "Industry", "NumberOfEmployees", "BillingCountry",
                  "BillingState", "OwnerId", "Type", "CreatedDate", "LastModifiedDate"]
CONTACT_HEADER = ["Id", "AccountId", "FirstName", "LastName", "Email", "Phone", "Title",
                  "OwnerId", "LeadSource", "CreatedDate", "LastModifiedDate"]
OPPORTUNITY_HEADER = ["Id", "AccountId", "ContactId", "Name", "StageName", "Amount", "IsClosed",
                      "IsWon", "CreatedDate", "CloseDate", "LastModifiedDate", "OwnerId"]
USER_HEADER = ["Id", "Name", "Email", "Territory", "Segment", "DailyCapacity", "IsActive"]
STAGES = ("Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
SERVICE_AMOUNT = np.array([36000, 28000, 45000, 18000, 22000, 15000])  # annual, 50 employees
HIST_LEAD_SOURCES = ("Web", "Referral", "Trade Show", "Cold Call", "Partner", "")


@dataclass
class Crm:
    accounts: pl.DataFrame       # day + ACCOUNT_HEADER, sorted
    contacts: pl.DataFrame       # day + person + CONTACT_HEADER, sorted
    opportunities: pl.DataFrame  # day + person + OPPORTUNITY_HEADER, sorted
    users: list[pl.DataFrame]    # per day
    account_crm_id: np.ndarray   # per account: the CRM id once it is in the CRM (None = never)
    account_owner: np.ndarray    # per account: owner rep at the end (-1)
    person_opp: np.ndarray       # per person: has an opportunity (created in the world)
    won_t: np.ndarray            # per person: epoch s of Closed Won (-1)
    opp_close_t: np.ndarray      # per person: close time (-1)


def _clean_name(s: pl.Expr) -> pl.Expr:
    return s.str.strip_chars().str.to_titlecase()


def make_crm(cfg: WorldConfig, rs: Streams, acc: Accounts, reps: Reps, P: Persons, L: Leads,
             O: Outcome, rows: pl.DataFrame) -> Crm:
    rng = rs("crm")
    T0 = epoch(cfg.start)
    T_end = T0 + cfg.days * DAY
    n_real = P.n_real
    acc_crm_id = np.array(acc.crm_id, dtype=object)
    owner = acc.owner.copy()
    created = np.where(acc.in_crm, acc.crm_created, -1)

    # ------------------------------------------------------------ pre-existing contacts
    r = np.arange(n_real)
    pre = acc.in_crm[P.account[r]] & (rng.random(n_real) < 0.5)
    pre_p = r[pre]
    pre_a = P.account[pre_p]
    span = np.maximum(T0 - acc.crm_created[pre_a] - DAY, DAY)
    pre_created = acc.crm_created[pre_a] + (rng.random(pre_p.size) * span).astype(np.int64)
    pre_mod = pre_created + (rng.random(pre_p.size) * (T0 - pre_created - 3600)).astype(np.int64)

    # ------------------------------------------------------------ sales-touched leads
    lead_real = np.flatnonzero(L.t0[:n_real] >= 0)
    first_rows = rows.filter(pl.col("person").is_in(lead_real) & pl.col("row").is_in(
        np.flatnonzero(L.first))).sort("person")
    # account at the lead time
    t0 = L.t0[lead_real]
    a_lead = np.where(P.moved[lead_real] & (t0 >= P.move_t[lead_real]),
                      P.new_account[lead_real], P.account[lead_real])
    p = O.p[lead_real]
    conv = O.converted[lead_real]
    opp = conv | (rng.random(lead_real.size) < np.minimum(0.9, 1.6 * p))
    touched = opp | (rng.random(lead_real.size) < 0.06 + 0.6 * p)
    has_pre = np.zeros(P.n, bool)
    has_pre[pre_p] = True
    same_acc_pre = has_pre[lead_real] & (P.account[lead_real] == a_lead)
    new_contact = touched & ~same_acc_pre
    c_created = t0 + rng.integers(2 * 3600, int(2.5 * DAY), lead_real.size)

    # accounts enter the CRM with their first new contact
    need = new_contact & (created[a_lead] < 0)
    first_t = np.full(acc.n, np.iinfo(np.int64).max)
    np.minimum.at(first_t, a_lead[need], c_created[need])
    new_acc = np.flatnonzero(first_t < np.iinfo(np.int64).max)
    created[new_acc] = first_t[new_acc]
    na_day = (first_t[new_acc] - T0) // DAY
    owner[new_acc] = route(reps, acc.territory[new_acc], acc.segment[new_acc],
                           np.minimum(na_day, cfg.days - 1), rng.random(new_acc.size))
    in_world_acc = np.flatnonzero(created >= 0)

    # ------------------------------------------------------------ opportunities
    op = np.flatnonzero(opp)
    o_person = lead_real[op]
    o_acc = a_lead[op]
    o_created = t0[op] + rng.integers(3, 21, op.size) * DAY + rng.integers(-3 * 3600, 3 * 3600,
                                                                            op.size)
    o_close = o_created + rng.integers(10, 46, op.size) * DAY + rng.integers(0, 6 * 3600, op.size)
    o_won = conv[op]
    # stages reached before closing: won ones pass all, lost ones stop somewhere
    max_stage = np.where(o_won, 3, rng.choice(4, size=op.size, p=[0.35, 0.3, 0.2, 0.15]))
    cuts = np.sort(rng.random((op.size, 3)), axis=1)
    stage_t = o_created[:, None] + (cuts * (o_close - o_created)[:, None]).astype(np.int64)
    svc = P.service[o_person]
    emp = acc.employees[o_acc]
    amount = np.round(SERVICE_AMOUNT[svc] * (emp / 50) ** 0.55
                      * np.exp(rng.normal(0, 0.35, op.size)), -2)
    amount2 = np.round(amount * rng.uniform(0.85, 1.2, op.size), -2)
    o_ids = np.array(sf_ids("006", np.arange(op.size), cfg.seed * 7 + 6), dtype=object)
    opp_day = np.minimum((o_created - T0) // DAY, cfg.days - 1)
    o_owner = np.where((owner[o_acc] >= 0) & (reps.inactive_from[np.clip(owner[o_acc], 0, None)]
                                               > opp_day), owner[o_acc],
                       route(reps, acc.territory[o_acc], acc.segment[o_acc], opp_day,
                             rng.random(op.size)))
    # contact of the opportunity: the new one, or the pre-existing one at the same account
    contact_id = np.full(P.n, None, dtype=object)
    pre_ids = np.array(sf_ids("003", np.arange(pre_p.size), cfg.seed * 7 + 3), dtype=object)
    contact_id[pre_p] = pre_ids
    nc = np.flatnonzero(new_contact)
    nc_ids = np.array(sf_ids("003", np.arange(pre_p.size, pre_p.size + nc.size),
                             cfg.seed * 7 + 3), dtype=object)
    contact_id[lead_real[nc]] = nc_ids

    events = []  # (t, opp index, stage, amount) transitions
    k = np.arange(op.size)
    events.append((o_created, k, np.zeros(op.size, int), amount))
    for s in range(1, 4):
        m = max_stage >= s
        events.append((stage_t[m, s - 1], k[m], np.full(m.sum(), s),
                       np.where(s >= 2, amount2, amount)[m]))
    events.append((o_close, k, np.where(o_won, 4, 5), np.where(max_stage >= 2, amount2, amount)))
    et = np.concatenate([e[0] for e in events])
    ek = np.concatenate([e[1] for e in events])
    es = np.concatenate([e[2] for e in events])
    ea = np.concatenate([e[3] for e in events])
    inside = et < T_end
    et, ek, es, ea = et[inside], ek[inside], es[inside], ea[inside]
    eday = (et - T0) // DAY
    # one row per opportunity and day: its state after the day's last change
    o = np.lexsort((et, eday, ek))
    et, ek, es, ea, eday = et[o], ek[o], es[o], ea[o], eday[o]
    last = np.ones(et.size, bool)
    last[:-1] = (ek[1:] != ek[:-1]) | (eday[1:] != eday[:-1])
    et, ek, es, ea, eday = et[last], ek[last], es[last], ea[last], eday[last]
    closed = es >= 4
    close_date = np.where(closed, et, np.maximum(o_created[ek] + 30 * DAY, et + DAY))
    acc_name = np.array(acc.name, dtype=object)
    opps = frame({
        "day": eday, "t": et, "person": o_person[ek],
        "Id": o_ids[ek], "AccountId": acc_crm_id[o_acc[ek]], "ContactId": contact_id[o_person[ek]],
        "Name": acc_name[o_acc[ek]] + " - " + np.array(N.SERVICES, dtype=object)[svc[ek]],
        "StageName": np.array(STAGES)[es], "Amount": ea.astype(np.int64),
        "IsClosed": closed, "IsWon": es == 4, "created": o_created[ek], "close": close_date,
        "OwnerId": np.array(reps.rep_id, dtype=object)[o_owner[ek]],
    }, schema_overrides={"Id": pl.String, "AccountId": pl.String, "ContactId": pl.String,
                         "Name": pl.String, "OwnerId": pl.String})
    opps = opps.with_columns(
        CreatedDate=fmt_epoch("created", ISO_MS_Z), CloseDate=fmt_epoch("close", "%Y-%m-%d"),
        LastModifiedDate=fmt_epoch("t", ISO_MS_Z),
        IsClosed=pl.col("IsClosed").cast(pl.String).str.to_lowercase(),
        IsWon=pl.col("IsWon").cast(pl.String).str.to_lowercase(),
    ).sort(["day", "t", "Id"]).select(["day", "person"] + OPPORTUNITY_HEADER)

    won_t = np.full(P.n, -1, dtype=np.int64)
    won_t[o_person[o_won]] = o_close[o_won]
    close_t = np.full(P.n, -1, dtype=np.int64)
    close_t[o_person] = o_close
    person_opp = np.zeros(P.n, bool)
    person_opp[o_person] = True

    # ------------------------------------------------------------ contacts frame
    rep_ids = np.array(reps.rep_id, dtype=object)
    fr = first_rows.filter(pl.col("person").is_in(lead_real[nc]))
    # names as a rep would key them: from the lead row, trimmed, capitalised
    first_col = pl.when(pl.col("first_name").is_not_null()).then(pl.col("first_name")) \
        .otherwise(pl.col("full_name").str.strip_chars().str.split(" ").list.first())
    last_col = pl.when(pl.col("last_name").is_not_null()).then(pl.col("last_name")) \
        .otherwise(pl.col("full_name").str.strip_chars().str.split(" ").list.last())
    fr = fr.with_columns(fn=_clean_name(first_col), ln=_clean_name(last_col),
                         em=pl.col("email").str.strip_chars().str.to_lowercase())
    fr_map = {int(q): i for i, q in enumerate(fr["person"].to_list())}
    idx = np.array([fr_map[int(q)] for q in lead_real[nc]], dtype=np.int64)
    nc_acc = a_lead[nc]
    nc_owner = np.where(owner[nc_acc] >= 0, owner[nc_acc], 0)
    new_contacts = frame({
        "t": c_created[nc], "person": lead_real[nc], "acct": nc_acc, "Id": nc_ids,
        "AccountId": acc_crm_id[nc_acc], "FirstName": fr["fn"].gather(idx),
        "LastName": fr["ln"].gather(idx), "Email": fr["em"].gather(idx),
        "Phone": fr["phone"].gather(idx), "Title": fr["title"].gather(idx),
        "OwnerId": rep_ids[nc_owner],
        "LeadSource": np.array([N.LEAD_SOURCE_LABELS[c] for c in CHANNELS],
                               dtype=object)[L.c0[lead_real[nc]]],
        "created": c_created[nc],
    }, schema_overrides={"Id": pl.String, "AccountId": pl.String, "OwnerId": pl.String,
                         "LeadSource": pl.String})
    pre_email = pl.select(pl.when(P.work_email.gather(pre_p).is_not_null())
                          .then(P.work_email.gather(pre_p))
                          .otherwise(P.personal_email.gather(pre_p))).to_series()
    pre_contacts = frame({
        "t": pre_mod, "person": pre_p, "acct": pre_a, "Id": pre_ids, "AccountId": acc_crm_id[pre_a],
        "FirstName": P.first.gather(pre_p), "LastName": P.last.gather(pre_p),
        "Email": pre_email, "Phone": _crm_phone(P, pre_p, rng),
        "Title": P.title.gather(pre_p), "OwnerId": rep_ids[owner[pre_a]],
        "LeadSource": np.array(HIST_LEAD_SOURCES, dtype=object)[
            rng.integers(0, len(HIST_LEAD_SOURCES), pre_p.size)],
        "created": pre_created,
    }, schema_overrides={"Id": pl.String, "AccountId": pl.String, "OwnerId": pl.String,
                         "LeadSource": pl.String})
    contacts = pl.concat([pre_contacts, new_contacts], how="vertical_relaxed")
    contacts = contacts.with_columns(day=((pl.col("t") - T0) // DAY).clip(0, None))
    contacts = contacts.filter(pl.col("t") < T_end).with_columns(
        CreatedDate=fmt_epoch("created", ISO_MS_Z), LastModifiedDate=fmt_epoch("t", ISO_MS_Z),
    ).sort(["day", "t", "Id"]).select(["day", "person", "acct"] + CONTACT_HEADER)

    # ------------------------------------------------------------ accounts frame
    # versions: (t, account, owner, type)
    ai = in_world_acc
    ver_t = [np.where(acc.in_crm[ai], acc.crm_created[ai]
                      + ((T0 - acc.crm_created[ai]) * rng.random(ai.size)).astype(np.int64),
                      created[ai])]
    ver_a = [ai]
    ver_owner = [owner[ai]]
    ver_type = [np.where(acc.in_crm[ai], acc.crm_type[ai], "Prospect")]
    # won deals make the account a customer
    wi = np.flatnonzero(o_won & (o_close < T_end))
    ver_t.append(o_close[wi])
    ver_a.append(o_acc[wi])
    ver_owner.append(np.full(wi.size, -2))  # -2: keep the owner in force
    ver_type.append(np.full(wi.size, "Customer"))
    # the leaving rep's accounts get reassigned on the day they leave
    if reps.leaving >= 0:
        lv_day = int(reps.inactive_from[reps.leaving])
        la = ai[(owner[ai] == reps.leaving) & (created[ai] < T0 + lv_day * DAY)]
        ver_t.append(T0 + lv_day * DAY + 9 * 3600 + rng.integers(0, 3600, la.size))
        ver_a.append(la)
        ver_owner.append(route(reps, acc.territory[la], acc.segment[la],
                               np.full(la.size, lv_day), rng.random(la.size)))
        ver_type.append(np.full(la.size, "", dtype=object))  # "": keep the type in force
        # accounts created for the leaving rep later do not exist: routing skips inactive reps
    vt = np.concatenate(ver_t)
    va = np.concatenate(ver_a)
    vo = np.concatenate(ver_owner)
    vty = np.concatenate([np.asarray(x, dtype=object) for x in ver_type])
    o = np.lexsort((vt, va))
    vt, va, vo, vty = vt[o], va[o], vo[o], vty[o]
    # carry owner / type forward within each account
    start = np.ones(va.size, bool)
    start[1:] = va[1:] != va[:-1]
    cur_o, cur_t = -1, ""
    for i in range(va.size):  # versions are few (accounts + wins + reassignments)
        if start[i]:
            cur_o, cur_t = vo[i], vty[i]
        else:
            cur_o = vo[i] if vo[i] >= 0 else cur_o
            cur_t = vty[i] if vty[i] else cur_t
        vo[i], vty[i] = cur_o, cur_t
    final_owner = owner.copy()
    final_owner[va] = vo  # last version wins (sorted by time)
    vday = np.clip((vt - T0) // DAY, 0, None)
    keep = vt < T_end
    vt, va, vo, vty, vday = vt[keep], va[keep], vo[keep], vty[keep], vday[keep]
    last = np.ones(vt.size, bool)
    last[:-1] = (va[1:] != va[:-1]) | (vday[1:] != vday[:-1])
    vt, va, vo, vty, vday = vt[last], va[last], vo[last], vty[last], vday[last]
    ind = np.array(INDUSTRY_NAMES, dtype=object)[acc.industry[va]]
    ind = np.where(rng.random(va.size) < 0.2, None, ind)
    emp_noisy = np.round(acc.employees[va] * np.exp(rng.normal(0, 0.2, va.size))).astype(np.int64)
    accounts = frame({
        "day": vday, "t": vt, "Id": acc_crm_id[va],
        "Name": np.array(acc.name, dtype=object)[va],
        "Website": np.array(acc.website, dtype=object)[va], "Industry": ind,
        "NumberOfEmployees": pl.Series(emp_noisy).set(pl.Series(rng.random(va.size) < 0.3), None)
        if va.size else pl.Series([], dtype=pl.Int64),
        "BillingCountry": np.array([N.COUNTRY_NAMES[c] for c in acc.country[va]], dtype=object),
        "BillingState": acc.region[va], "OwnerId": rep_ids[vo], "Type": vty,
        "created": created[va],
    }, schema_overrides={"Id": pl.String, "Name": pl.String, "Website": pl.String,
                         "Industry": pl.String, "BillingCountry": pl.String,
                         "OwnerId": pl.String, "Type": pl.String})
    accounts = accounts.with_columns(
        CreatedDate=fmt_epoch("created", ISO_MS_Z), LastModifiedDate=fmt_epoch("t", ISO_MS_Z),
    ).sort(["day", "t", "Id"]).select(["day"] + ACCOUNT_HEADER)

    # ------------------------------------------------------------ users (full snapshot)
    users = []
    for d in range(cfg.days):
        users.append(frame({
            "Id": reps.rep_id, "Name": reps.name, "Email": reps.email,
            "Territory": [N.TERRITORIES[t] for t in reps.territory],
            "Segment": [N.SEGMENTS[s] for s in reps.segment],
            "DailyCapacity": reps.capacity,
            "IsActive": ["true" if a else "false" for a in reps.active_on(d)],
        }))
    crm_id_out = np.where(created >= 0, acc_crm_id, None)
    return Crm(accounts=accounts, contacts=contacts, opportunities=opps, users=users,
               account_crm_id=crm_id_out, account_owner=final_owner, person_opp=person_opp,
               won_t=won_t, opp_close_t=close_t)


def _crm_phone(P: Persons, who: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Phones as sales keys them: mostly '(415) 555-0134' / '+44 20 7946 0958', some blank."""
    from .variation import phone_format
    df = frame({"nat": P.phone_nat.gather(who), "k": P.phone_kind[who],
                       "f": np.ones(who.size, dtype=np.int64), "r": rng.random(who.size)})
    return df.select(pl.when(pl.col("r") < 0.25).then(None)
                     .otherwise(phone_format(pl.col("nat"), pl.col("k"), pl.col("f")))).to_series()
