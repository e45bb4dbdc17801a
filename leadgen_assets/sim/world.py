"""generate_world: build the sample world and write the landing zone plus ground truth."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

from . import behaviour as B
from .config import CHANNELS, OWNED_SOURCES, TRUTH_FILES, Streams, WorldConfig
from .crm import ACCOUNT_HEADER, CONTACT_HEADER, OPPORTUNITY_HEADER, make_crm
from .entities import assign_owners, make_accounts, make_persons, make_reps
from .forms import build_form_rows, channel_frames, role_accounts
from .signals import AD_SPEND_HEADER, CONSENT_HEADER, ENRICHMENT_FIELDS, make_ad_spend, \
    make_consent, make_enrichment
from .timeutil import DAY, epoch
from .truth import account_at, leads_frame, records_frame, to_jsonable, write_truth
from .writers import identify_traits, message_ids, web_lines, write_csv, write_lines

Progress = Callable[[str, int, int], None]
BUILD_STAGES = ("entities", "leads", "web", "conversion", "forms", "crm", "signals")
FORM_CHUNK_ROWS = 250_000  # form rows typed per chunk (fixed: part of the determinism)


def _day_chunks(bounds: np.ndarray, max_rows: int) -> list[tuple[int, int]]:
    """Split days [0, n) into consecutive ranges of at most ~max_rows rows each."""
    out, d0 = [], 0
    n = len(bounds) - 1
    for d in range(1, n + 1):
        if bounds[d] - bounds[d0] > max_rows and d - 1 > d0:
            out.append((d0, d - 1))
            d0 = d - 1
    out.append((d0, n))
    return out


def _by_day(df: pl.DataFrame, days: int) -> dict[int, pl.DataFrame]:
    parts = {int(k[0]): v for k, v in df.partition_by("day", as_dict=True,
                                                      maintain_order=True).items()}
    return {d: parts.get(d, df.clear()) for d in range(days)}


def generate_world(cfg: WorldConfig, landing_dir: Path | str, truth_dir: Path | str,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Generate the world described by ``cfg``.

    Wipes and rewrites the sources it owns under ``landing_dir`` (see
    ``config.OWNED_SOURCES``) and the truth files in ``truth_dir``; nothing else.
    Returns a dict of counts.
    """
    landing, truth = Path(landing_dir), Path(truth_dir)
    prog: Progress = progress or (lambda stage, done, total: None)
    rs = Streams(cfg.seed)
    ns = len(BUILD_STAGES)
    T0 = epoch(cfg.start)

    # ---------------------------------------------------------------- wipe what we own
    for s in OWNED_SOURCES:
        shutil.rmtree(landing / s, ignore_errors=True)
    truth.mkdir(parents=True, exist_ok=True)
    for f in TRUTH_FILES:
        (truth / f).unlink(missing_ok=True)

    def out(source: str, day: str, name: str) -> Path:
        d = landing / source / day
        d.mkdir(parents=True, exist_ok=True)
        return d / name

    written: list[Path] = []
    # ---------------------------------------------------------------- build
    prog("build", 0, ns)
    n_junk = B.n_junk_persons(cfg)
    n_real = cfg.n_persons - n_junk
    n_acc = max(10, int(round(n_real / cfg.persons_per_account)))
    acc = make_accounts(cfg, rs, n_acc)
    P = make_persons(cfg, rs, acc, n_real, n_junk)
    reps = make_reps(cfg, rs, acc, np.bincount(P.account[:n_real], minlength=n_acc))
    assign_owners(acc, reps, rs)
    fit = B.fit_score(acc, P)
    prog("build", 1, ns)
    L = B.schedule_leads(cfg, rs, acc, P, fit)
    prog("build", 2, ns)
    W = B.make_web(cfg, rs, acc, P, L)
    prog("build", 3, ns)
    E = B.engagement(cfg, P, L, W)
    O = B.conversion(cfg, rs, P, L, fit, E)
    prog("build", 4, ns)
    # form rows: typed and laid out in chunks of whole days to bound memory
    role_acc = role_accounts(cfg, acc, P, L)
    truths, slim = [], []
    offsets = {c: 0 for c in CHANNELS}
    bounds = np.searchsorted(L.day, np.arange(cfg.days + 1))
    chunks = _day_chunks(bounds, FORM_CHUNK_ROWS)
    for ci, (d0, d1) in enumerate(chunks):
        idx = np.arange(bounds[d0], bounds[d1])
        part = build_form_rows(cfg, rs, acc, P, L, W, idx, role_acc, ci)
        frames, tr = channel_frames(cfg, acc, part, range(d0, d1), offsets)
        for (d, c), df in frames.items():  # form CSVs are written right away
            ds = cfg.day_str(d)
            written.append(out("form_leads", ds, f"{c}-{ds}.csv"))
            write_csv(df, written[-1])
        del frames
        truths.append(tr)
        prog("forms", ci + 1, len(chunks))
        # keep only what the CRM / signals stages read
        slim.append(part.select(
            "row", "person", "ch", "t", "day", "is_junk", "kind", "src", "account",
            "personal", "first_name", "last_name", "full_name", "email", "phone", "title",
            "campaign", "first"))
        del part
    rows = pl.concat(slim)
    form_truth = pl.concat(truths).sort("row")
    prog("build", 5, ns)
    crm = make_crm(cfg, rs, acc, reps, P, L, O, rows)
    prog("build", 6, ns)
    consent = make_consent(cfg, rs, P, L, rows)
    enrichment = make_enrichment(cfg, rs, acc, rows)
    ads = make_ad_spend(cfg, rs, rows)
    traits = identify_traits(rs, P, W)
    prog("build", 7, ns)

    # ---------------------------------------------------------------- write day by day
    acc_days = _by_day(crm.accounts, cfg.days)
    con_days = _by_day(crm.contacts, cfg.days)
    opp_days = _by_day(crm.opportunities, cfg.days)
    enr_days = _by_day(enrichment, cfg.days)
    ads_days = _by_day(ads, cfg.days)
    cons_days = _by_day(consent, cfg.days)
    day_bounds = np.searchsorted(W.day, np.arange(cfg.days + 1))
    records: list[pl.DataFrame] = []
    for d in range(cfg.days):
        ds = cfg.day_str(d)
        # web events, split into files of <= max_lines
        lo, hi = int(day_bounds[d]), int(day_bounds[d + 1])
        nfile = max(1, -(-(hi - lo) // cfg.max_lines_per_file))
        for k in range(nfile):
            a, b = lo + k * cfg.max_lines_per_file, min(hi, lo + (k + 1) * cfg.max_lines_per_file)
            rel = f"web_events/{ds}/events-{ds}-{k:03d}.jsonl"
            p = out("web_events", ds, f"events-{ds}-{k:03d}.jsonl")
            write_lines(web_lines(cfg.seed, W, a, b, P, traits) if b > a
                        else pl.Series([], dtype=pl.String), p)
            written.append(p)
            idm = np.flatnonzero(W.etype[a:b] == 2)
            if idm.size:
                ip = W.ident_person[W.ident[a:b][idm]]
                records.append(records_frame(
                    "web_events", None, [rel] * idm.size, (idm + 1).tolist(),
                    message_ids(cfg.seed, a + idm), ip,
                    account_at(P, ip, W.t_ms[a:b][idm] // 1000)))
        # CRM, enrichment, ad spend, consent
        for src, name, df, cols in (
                ("crm_accounts", f"accounts-{ds}.csv", acc_days[d], ACCOUNT_HEADER),
                ("crm_contacts", f"contacts-{ds}.csv", con_days[d], CONTACT_HEADER),
                ("crm_opportunities", f"opportunities-{ds}.csv", opp_days[d], OPPORTUNITY_HEADER),
                ("crm_users", f"users-{ds}.csv", crm.users[d], None),
                ("ad_spend", f"ad_spend-{ds}.csv", ads_days[d], AD_SPEND_HEADER),
                ("consent_events", f"consent-{ds}.csv", cons_days[d], CONSENT_HEADER)):
            p = out(src, ds, name)
            write_csv(df.select(cols) if cols else df, p)
            written.append(p)
        p = out("enrichment", ds, f"enrichment-{ds}.jsonl")
        with open(p, "wb") as f:
            if enr_days[d].height:
                enr_days[d].select(ENRICHMENT_FIELDS).write_ndjson(f)
        written.append(p)
        # truth records of the day's contacts and consent events
        cd = con_days[d]
        if cd.height:
            records.append(records_frame(
                "crm_contacts", None, [f"crm_contacts/{ds}/contacts-{ds}.csv"] * cd.height,
                list(range(2, cd.height + 2)), cd["Id"], cd["person"].to_numpy(),
                cd["acct"].to_numpy()))
        cs = cons_days[d]
        if cs.height:
            who = cs["person"].to_numpy()
            records.append(records_frame(
                "consent_events", None, [f"consent_events/{ds}/consent-{ds}.csv"] * cs.height,
                list(range(2, cs.height + 2)), cs["event_id"], who,
                account_at(P, who, cs["t"].to_numpy())))
        prog("write", d + 1, cfg.days)
    n_files = len(written)
    n_bytes = sum(x.stat().st_size for x in written)
    counts_web = {"web_events": int(W.t_ms.size), "visitors": int(W.visitor_person.size),
                  "identify_events": int((W.etype == 2).sum()),
                  "late_web_events": int((W.day > (W.t_ms // 1000 - T0) // DAY).sum())}
    W.drop_events()  # the event arrays are written: free them before the truth stage

    # ---------------------------------------------------------------- truth
    ft = form_truth.with_columns(
        file=pl.concat_str([pl.lit("form_leads/"), pl.col("day").map_elements(
            cfg.day_str, return_dtype=pl.String), pl.lit("/"), pl.col("channel"), pl.lit("-"),
            pl.col("day").map_elements(cfg.day_str, return_dtype=pl.String), pl.lit(".csv")]))
    row = ft["row"].to_numpy()
    fp = L.person[row]
    form_records = records_frame("form_leads", ft["channel"], ft["file"], ft["line"],
                                 ft["record_id"], fp,
                                 np.where(P.is_junk[fp], -1, account_at(P, fp, L.t[row])))
    all_records = pl.concat([form_records] + records).sort("source", "file", "line")
    lead_rows = leads_frame(cfg, L, O, crm, ft, P)

    real_leads = (L.t0[:P.n_real] >= 0)
    won_in_world = int((crm.opportunities["StageName"] == "Closed Won").sum())
    counts = {
        "persons": int(P.n), "real_persons": int(P.n_real), "junk_persons": int(n_junk),
        "accounts": int(acc.n), "crm_accounts_day1": int(acc.in_crm.sum()),
        "reps": int(reps.n), "lead_persons": int(real_leads.sum()),
        "form_rows": int(L.person.size), "junk_form_rows": int(P.is_junk[L.person].sum()),
        **counts_web,
        "crm_account_rows": int(crm.accounts.height), "crm_contacts": int(crm.contacts.height),
        "opportunities": int(crm.opportunities["Id"].n_unique()),
        "opportunity_rows": int(crm.opportunities.height), "won": won_in_world,
        "converted_persons": int(O.converted.sum()),
        "consent_events": int(consent.height), "enrichment_records": int(enrichment.height),
        "ad_spend_rows": int(ads.height), "files": n_files + len(TRUTH_FILES), "bytes": n_bytes,
        "days": cfg.days,
    }
    inactive = [reps.rep_id[i] for i in range(reps.n) if not reps.active_on(cfg.days - 1)[i]]
    write_truth(truth, cfg, acc, P, L, W, O, crm, consent, all_records, lead_rows,
                to_jsonable(counts), extra={"inactive_rep_ids": inactive})
    prog("truth", 1, 1)
    return counts
