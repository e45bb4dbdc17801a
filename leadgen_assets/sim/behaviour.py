"""What people do: form submissions (leads), website visits, and whether they buy.

Order of generation (each step only looks back):
1. lead schedule of real persons (days, channels), 2. junk submissions, 3. web sessions and
events, 4. observable engagement before each person's first lead, 5. conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import names as N
from .config import CHANNELS, Streams, WorldConfig
from .entities import Accounts, Persons, _CITY
from .timeutil import DAY, business_seconds, day_weights, epoch, place_in_day, utc_offset_minutes

CH = {c: i for i, c in enumerate(CHANNELS)}
N_CH = len(CHANNELS)
# Share of (non-junk) form rows by channel, and how a person's latent intent / fit tilts
# the channel they come through (positive = better people arrive there).
CHANNEL_SHARE = np.array([0.26, 0.24, 0.12, 0.20, 0.10, 0.08])
CHANNEL_INTENT_TILT = np.array([0.0, -0.45, 0.15, 0.35, -0.1, 0.5])
CHANNEL_FIT_TILT = np.array([0.0, -0.35, 0.35, 0.1, 0.0, 0.35])
# Junk share of each channel's rows, and the channel's own effect on the conversion logit.
JUNK_RATE = np.array([0.10, 0.17, 0.04, 0.11, 0.09, 0.01])
CHANNEL_LOGIT = np.array([0.0, -0.6, 0.25, 0.35, -0.2, 0.7])
# Mean extra form rows per junk person by kind (spam, test, competitor, student).
JUNK_EXTRA_ROWS = np.array([0.9, 0.6, 0.3, 0.3])
JUNK_KIND_P = np.array([0.45, 0.15, 0.12, 0.28])
# Drift of kind channel_quality.
DRIFT_JUNK_FACTOR = 3.0
DRIFT_LOGIT = -2.5
# Shrinks the systematic part of the conversion logit: sets how predictable outcomes are
# (oracle AUC of the true p ~0.84).
LOGIT_SCALE = 0.65

PAGE_CAT = np.array([N.PAGE_CATEGORIES.index(c) for _, _, c in N.PAGES])
CAT_PAGES = [np.flatnonzero(PAGE_CAT == k) for k in range(len(N.PAGE_CATEGORIES))]
# base page-category weights and their tilt with intent
# (home, services, pricing, case, blog, about, contact, demo, webinars)
CAT_BASE = np.array([0.18, 0.20, 0.06, 0.06, 0.32, 0.07, 0.05, 0.02, 0.04])
CAT_TILT = np.array([0.0, 0.15, 0.75, 0.45, -0.35, 0.0, 0.35, 1.0, 0.1])
T_PRICING, T_CASE, T_DEMO = 2, 3, 7
TRACK = {e: i for i, e in enumerate(N.TRACK_EVENTS)}
FORM_PAGE = {"/contact": 27, "/demo": 28, "/pricing": 7}  # indexes into names.PAGES


def junk_rate(cfg: WorldConfig) -> np.ndarray:
    """Junk rate per (day, channel), drift applied."""
    jr = np.tile(JUNK_RATE, (cfg.days, 1))
    d = cfg.drift
    if d is not None and d.kind == "channel_quality":
        c = CH[d.channel]
        jr[d.start_day:, c] = np.minimum(jr[d.start_day:, c] * DRIFT_JUNK_FACTOR, 0.6)
    return jr


def n_junk_persons(cfg: WorldConfig) -> int:
    """Junk persons so that junk is ~junk_row_share of rows (more under quality drift)."""
    kmean = float((JUNK_KIND_P * (1 + JUNK_EXTRA_ROWS)).sum())
    base = cfg.n_persons * cfg.form_rows_per_person * cfg.junk_row_share / kmean
    share = np.outer(day_weights(cfg.start, cfg.days), CHANNEL_SHARE)
    q = JUNK_RATE / (1 - JUNK_RATE)
    jr = junk_rate(cfg)
    factor = (share * jr / (1 - jr)).sum() / (share * q).sum()
    return int(round(base * factor))


# ============================================================================ fit

def fit_score(acc: Accounts, P: Persons) -> np.ndarray:
    """Observable firmographic / stated-need fit (a logit contribution), junk = 0."""
    r = np.arange(P.n_real)
    a = P.account[r]
    emp = acc.employees[a]
    svc = np.array(N.SERVICES)[P.service[r]]
    mid = emp >= 50
    f = np.where(acc.target_industry[a], 0.6, -0.35)
    f += np.where((emp >= 20) & (emp <= 500), 0.55, np.where(emp < 20, -0.35, -0.2))
    # small companies only buy the simple, recurring services
    f += np.where((emp < 20) & ~np.isin(svc, list(N.SMALL_COMPANY_SERVICES)), -1.8, 0.0)
    f += np.where(acc.served[a], 0.25, -1.2)
    f += np.where(np.isin(svc, list(N.CORE_SERVICES)), 0.3, -0.25)
    # budget: '20k+' only matters for Mid-Market
    b = P.budget[r]
    f += np.select([b == 0, b == 1, b == 2, (b == 3) & mid], [-0.9, -0.1, 0.35, 0.9], -0.1)
    f += np.array([0.45, 0.25, 0.0, -0.6])[P.timeline[r]]
    f += np.where(P.decision_maker[r], 0.35, -0.15)
    out = np.zeros(P.n)
    out[r] = f
    return out


# ============================================================================ leads

@dataclass
class Leads:
    """Form submissions, one per row, sorted by (day, channel, t, person)."""
    person: np.ndarray
    channel: np.ndarray
    t: np.ndarray            # epoch seconds (UTC)
    day: np.ndarray          # delivery day index
    first: np.ndarray        # the person's first row in the world
    # per person
    t0: np.ndarray           # first lead time (-1: never a lead)
    c0: np.ndarray           # first lead channel (-1)
    n_channels: np.ndarray


def person_offsets(acc: Accounts, P: Persons, t: np.ndarray, who: np.ndarray) -> np.ndarray:
    """UTC offset (minutes) of each person's city at time t (junk: US Eastern)."""
    a = P.account[who]
    city = np.where(a >= 0, acc.city[np.clip(a, 0, None)], 35)
    return utc_offset_minutes(t, _CITY["tz"][city].astype(int), _CITY["dst"][city])


def schedule_leads(cfg: WorldConfig, rs: Streams, acc: Accounts, P: Persons,
                   fit: np.ndarray) -> Leads:
    rng = rs("leads")
    n_real, days = P.n_real, cfg.days
    T0 = epoch(cfg.start)
    z = P.intent[:n_real]
    fz = (fit[:n_real] - fit[:n_real].mean()) / (fit[:n_real].std() + 1e-9)
    # --- candidate schedule for every real person
    d0 = rng.choice(days, size=n_real, p=day_weights(cfg.start, days))
    logw = (np.log(CHANNEL_SHARE)[None, :] + np.outer(z, CHANNEL_INTENT_TILT)
            + np.outer(fz, CHANNEL_FIT_TILT))
    keys = logw + rng.gumbel(size=logw.shape)
    order = np.argsort(-keys, axis=1, kind="stable")       # channel preference order
    n_ch = 1 + rng.binomial(5, 1 / (1 + np.exp(-(-1.05 + 0.45 * z))))
    repeat = rng.random((n_real, N_CH)) < 0.10
    gap_days = np.minimum(np.floor(rng.exponential(3.5, (n_real, N_CH))), 21).astype(int)
    tod = business_seconds(rng, n_real * N_CH).reshape(n_real, N_CH)
    rep_gap = np.minimum(np.floor(rng.exponential(2.0, (n_real, N_CH))), 10).astype(int) + 1

    rank = np.arange(N_CH)[None, :]
    used = rank < n_ch[:, None]
    day_r = np.where(rank == 0, 0, gap_days) + d0[:, None]
    pid = np.repeat(np.arange(n_real)[:, None], N_CH, axis=1)
    rows_p = [pid[used], pid[used & repeat]]
    rows_c = [order[used], order[used & repeat]]
    rows_d = [day_r[used], (day_r + rep_gap)[used & repeat]]
    rows_tod = [tod[used], np.roll(tod, 1, axis=1)[used & repeat]]
    rows_rank = [np.broadcast_to(rank, used.shape)[used], np.full((used & repeat).sum(), 9)]
    p_, c_, d_, tod_, rk = (np.concatenate(x) for x in (rows_p, rows_c, rows_d, rows_tod,
                                                        rows_rank))
    off = person_offsets(acc, P, T0 + d_ * DAY, p_)
    t_ = place_in_day(T0 + d_ * DAY, tod_, off)
    # later rows of the same day come after the first one
    t_first = np.zeros(n_real, dtype=np.int64)
    t_first[p_[rk == 0]] = t_[rk == 0]
    clash = (rk > 0) & (t_ <= t_first[p_])
    t_[clash] = t_first[p_[clash]] + rng.integers(120, 4 * 3600, clash.sum())
    d_ = (t_ - T0) // DAY
    inside = d_ < days

    # --- choose lead persons: keep higher-intent people first until the row budget is met
    rows_in = np.bincount(p_[inside], minlength=n_real)
    target = cfg.n_persons * cfg.form_rows_per_person * (1 - cfg.junk_row_share)
    key = 0.8 * z + rng.gumbel(size=n_real)
    by_key = np.argsort(-key, kind="stable")
    k = int(np.searchsorted(np.cumsum(rows_in[by_key]), target)) + 1
    is_lead = np.zeros(n_real, dtype=bool)
    is_lead[by_key[:k]] = True
    keep = inside & is_lead[p_]
    # website form fills need a site visit: every website lead is web-active (see web)
    person, channel, t = p_[keep], c_[keep], t_[keep]

    t0 = np.full(P.n, -1, dtype=np.int64)
    c0 = np.full(P.n, -1, dtype=np.int8)
    first_rows = keep & (rk == 0)
    t0[p_[first_rows]] = t_[first_rows]
    c0[p_[first_rows]] = c_[first_rows]
    nch = np.zeros(P.n, dtype=np.int8)
    nch[:n_real] = np.where(is_lead, n_ch, 0)

    # --- junk submissions: placed where real volume is, at each channel's junk rate
    jr = junk_rate(cfg)
    real_cnt = np.zeros((days, N_CH))
    np.add.at(real_cnt, ((t - T0) // DAY, channel), 1)
    w = (real_cnt + 0.2) * jr / (1 - jr)
    jrng = rs("junk_rows")
    junk = np.arange(n_real, P.n)
    cell = jrng.choice(w.size, size=junk.size, p=(w / w.sum()).ravel())
    jd, jc = cell // N_CH, cell % N_CH
    kind = P.junk_kind[junk]
    extra = jrng.poisson(JUNK_EXTRA_ROWS[kind])
    jp = np.repeat(junk, 1 + extra)
    jrank = np.concatenate([np.arange(1 + e) for e in extra]) if junk.size else np.zeros(0, int)
    jday = np.repeat(jd, 1 + extra) + np.where(jrank > 0, jrng.integers(0, 4, jp.size), 0)
    jch = np.where((jrank > 0) & (jrng.random(jp.size) < 0.3),
                   jrng.choice(N_CH, size=jp.size, p=CHANNEL_SHARE), np.repeat(jc, 1 + extra))
    bots = jrng.random(jp.size) < 0.4
    jtod = np.where(bots, jrng.integers(0, DAY, jp.size), business_seconds(jrng, jp.size))
    jt = T0 + jday * DAY + jtod - 4 * 3600  # typed around US Eastern office hours
    jt = np.clip(jt, T0 + jday * DAY, T0 + jday * DAY + DAY - 1)
    jt = jt + jrank  # same-second duplicates stay ordered
    ok = jday < days
    jp, jch, jt, jrank = jp[ok], jch[ok], jt[ok], jrank[ok]
    t0[jp[jrank == 0]] = jt[jrank == 0]
    c0[jp[jrank == 0]] = jch[jrank == 0]

    person = np.concatenate([person, jp]).astype(np.int32)
    channel = np.concatenate([channel, jch]).astype(np.int8)
    t = np.concatenate([t, jt]).astype(np.int64)
    day = ((t - T0) // DAY).astype(np.int32)
    o = np.lexsort((person, t, channel, day))
    person, channel, t, day = person[o], channel[o], t[o], day[o]
    # the person's first row (real: its first-channel row; junk: rank 0)
    first = np.zeros(person.size, dtype=bool)
    tt = t0[person]
    first = (t == tt) & (channel == c0[person])
    # guard against two rows matching (same second): keep the first occurrence
    fi = np.flatnonzero(first)
    _, u = np.unique(person[fi], return_index=True)
    first[:] = False
    first[fi[u]] = True
    return Leads(person=person, channel=channel, t=t, day=day, first=first, t0=t0, c0=c0,
                 n_channels=nch)


# ============================================================================ web

@dataclass
class Web:
    """All web events (before delivery filtering), plus visitors and identify traits."""
    visitor_person: np.ndarray   # per visitor: person or -1 (noise)
    # per event
    t_ms: np.ndarray
    recv_ms: np.ndarray
    day: np.ndarray              # delivery day
    visitor: np.ndarray
    etype: np.ndarray            # 0 page, 1 track, 2 identify
    page: np.ndarray             # index into names.PAGES (-1)
    track: np.ndarray            # index into names.TRACK_EVENTS (-1)
    referrer: np.ndarray         # <100: index into names.REFERRERS; >=100: internal page+100
    user: np.ndarray             # person whose userId is set (-1)
    ident: np.ndarray            # identify row -> index into ident_* (-1)
    ident_person: np.ndarray     # per identify event
    ident_email_src: np.ndarray  # 0 work, 1 personal
    ident_t: np.ndarray          # per identify event: epoch ms
    # per website form row (aligned with leads rows where channel == website): visitor
    form_visitor: np.ndarray
    form_utm: np.ndarray         # referrer index of the form session
    form_rank: np.ndarray        # per leads row: its rank among website rows (else -1)

    def drop_events(self) -> None:
        """Release the per-event arrays (after writing); visitors and forms stay."""
        for name in ("t_ms", "recv_ms", "day", "visitor", "etype", "page", "track",
                     "referrer", "user", "ident"):
            setattr(self, name, np.zeros(0, dtype=getattr(self, name).dtype))


def _cat_probs(z: np.ndarray) -> np.ndarray:
    w = CAT_BASE[None, :] * np.exp(np.outer(z, CAT_TILT))
    return w / w.sum(axis=1, keepdims=True)


def make_web(cfg: WorldConfig, rs: Streams, acc: Accounts, P: Persons, L: Leads) -> Web:
    rng = rs("web")
    T0 = epoch(cfg.start)
    days = cfg.days
    n_real = P.n_real
    z = P.intent
    is_lead = L.t0[:n_real] >= 0
    # --- who browses: most leads, some non-leads; website leads always
    web_lead_rows = L.channel == CH["website"]
    p_web = np.where(is_lead, 1 / (1 + np.exp(-(0.5 + 0.9 * z[:n_real]))), 0.45)
    active = rng.random(n_real) < p_web
    active[np.unique(L.person[web_lead_rows & (L.person < n_real)])] = True
    # junk bots that hit the website form get a visitor of their own
    junk_web = np.unique(L.person[web_lead_rows & (L.person >= n_real)])
    persons_web = np.concatenate([np.flatnonzero(active), junk_web]).astype(np.int32)
    n_vis_p = np.where(persons_web < n_real, 1 + rng.binomial(2, 0.25, persons_web.size), 1)
    vis_start = np.concatenate([[0], np.cumsum(n_vis_p)])
    visitor_person = np.repeat(persons_web, n_vis_p)
    n_pvis = visitor_person.size

    # --- sessions of real web persons (two passes: calibrate to the event budget)
    real_web = persons_web[persons_web < n_real]
    zr = z[real_web]
    n_form = int(web_lead_rows.sum())
    # budget for browsing sessions = person events - form sessions - identify events
    target = (cfg.n_persons * cfg.web_events_per_person * (1 - cfg.noise_event_share)
              - n_form * 4.3 - 0.5 * n_pvis)
    e_p = (2.5 + 0.5 * np.maximum(zr, 0)) * 1.1   # events per session (pages + tracks)
    wz = np.exp(0.45 * zr)
    lam = 1.0
    # sessions S = 1 + Poisson(lam * wz); a share phi of them falls inside the world, so
    # E[events] = phi * (sum(e_p) + lam * sum(e_p * wz)); pass 0 measures phi.
    for _pass in range(2):
        srng = rs("web_sessions", _pass)
        S = 1 + srng.poisson(lam * wz)
        sp = np.repeat(real_web, S)
        spz = z[sp]
        t0 = L.t0[sp]
        lead = t0 >= 0
        before = srng.random(sp.size) < 0.78
        gap = srng.exponential(1, sp.size) * 5.0 * np.exp(-0.4 * spz) * DAY
        ts = np.where(lead, np.where(before, t0 - gap, t0 + srng.exponential(4 * DAY, sp.size)),
                      T0 + srng.uniform(-3 * DAY, days * DAY, sp.size))
        sday = np.floor((ts - T0) / DAY).astype(np.int64)
        inside = (sday >= 0) & (sday < days)
        phi = max(float(inside.mean()), 0.2)
        lam = max((target / phi - e_p.sum()) / (e_p * wz).sum(), 0.0)
    sp, sday, spz = sp[inside], sday[inside], spz[inside]
    off = person_offsets(acc, P, T0 + sday * DAY, sp)
    s_t = place_in_day(T0 + sday * DAY, business_seconds(srng, sp.size, 3.2), off) * 1000
    # device: first visitor is the main one
    k = n_vis_p[np.searchsorted(persons_web, sp)]
    pos = np.searchsorted(persons_web, sp)
    dev = np.minimum((srng.random(sp.size) ** 1.7 * k).astype(int), k - 1)
    s_vis = vis_start[pos] + dev
    s_pages = 1 + srng.poisson(1.5 + 0.5 * np.maximum(spz, 0))
    s_ref = srng.choice(len(N.REFERRERS), size=sp.size, p=[0.38, 0.22, 0.06, 0.1, 0.08, 0.04,
                                                             0.12])
    s_form = np.full(sp.size, -1)  # page index forced as last page (form sessions)

    # --- website form sessions: the submitting visitor browses, then submits
    frng = rs("web_forms")
    wrows = np.flatnonzero(web_lead_rows)
    fp = L.person[wrows]
    fpos = np.searchsorted(persons_web, fp)
    fdev = np.minimum((frng.random(wrows.size) ** 1.7 * n_vis_p[fpos]).astype(int),
                      n_vis_p[fpos] - 1)
    f_vis = vis_start[fpos] + fdev
    f_pages = 1 + frng.poisson(1.2, wrows.size)
    f_page = np.array(list(FORM_PAGE.values()))[frng.choice(3, size=wrows.size,
                                                             p=[0.6, 0.25, 0.15])]
    f_ref = frng.choice(len(N.REFERRERS), size=wrows.size, p=[0.38, 0.22, 0.06, 0.1, 0.08,
                                                                0.04, 0.12])
    f_t = (L.t[wrows] * 1000 - (f_pages * 50_000)).astype(np.int64)

    # --- noise visitors: anonymous traffic, never identified
    nrng = rs("web_noise")
    target_noise = cfg.n_persons * cfg.web_events_per_person * cfg.noise_event_share
    per_vis = 1.4 * (1 + 1.2) * 1.02
    n_noise = int(round(target_noise / per_vis))
    ns = 1 + nrng.poisson(0.4, n_noise)
    nv = np.repeat(np.arange(n_pvis, n_pvis + n_noise), ns)
    nday = nrng.choice(days, size=nv.size, p=day_weights(cfg.start, days))
    n_t = (T0 + nday * DAY + nrng.integers(0, DAY, nv.size)) * 1000
    n_pages = 1 + nrng.poisson(1.2, nv.size)
    n_ref = nrng.choice(len(N.REFERRERS), size=nv.size, p=[0.45, 0.2, 0.08, 0.04, 0.12, 0.06,
                                                            0.05])

    visitor_person = np.concatenate([visitor_person, np.full(n_noise, -1, np.int32)])
    n_vis = visitor_person.size
    # --- all sessions together
    S_vis = np.concatenate([s_vis, f_vis, nv]).astype(np.int32)
    S_t = np.concatenate([s_t, f_t, n_t]).astype(np.int64)
    S_np = np.concatenate([s_pages, f_pages + 1, n_pages]).astype(np.int32)
    S_ref = np.concatenate([s_ref, f_ref, n_ref]).astype(np.int16)
    S_form = np.concatenate([s_form, f_page, np.full(nv.size, -1)]).astype(np.int16)
    S_z = np.concatenate([spz, z[fp], np.full(nv.size, -1.0)]).astype(np.float32)
    S_submit = np.concatenate([np.full(sp.size, -1), L.t[wrows] * 1000,
                               np.full(nv.size, -1)]).astype(np.int64)
    del s_vis, s_t, s_pages, s_ref, s_form, spz, nv, n_t, n_pages, n_ref, sp, sday
    n_s = S_vis.size
    erng = rs("web_events")
    S_lag = np.where(erng.random(n_s) < cfg.late_event_share, erng.integers(1, 4, n_s),
                     0).astype(np.int8)
    # page views and track events, generated in chunks of sessions to bound memory
    parts = []
    step = 1_000_000
    for lo in range(0, n_s, step):
        hi = min(n_s, lo + step)
        parts.append(_session_events(rs("web_events", lo // step), visitor_person, P,
                                     S_vis[lo:hi], S_t[lo:hi], S_np[lo:hi], S_ref[lo:hi],
                                     S_form[lo:hi], S_z[lo:hi], S_submit[lo:hi],
                                     S_lag[lo:hi]))
    ev = {k: np.concatenate([p_[k] for p_ in parts]) for k in parts[0]}
    del parts

    # webinar registrations of browsing webinar leads
    wb = np.flatnonzero((L.channel == CH["webinar"]) & (L.person < n_real))
    wb = wb[active[L.person[wb]]]
    wbp = L.person[wb]
    wpos = np.searchsorted(persons_web, wbp)
    w_vis = vis_start[wpos]
    w_t = L.t[wb] * 1000 + erng.integers(0, 2000, wb.size)

    # --- identify: ~half of person visitors (always some for form submitters)
    irng = rs("web_identify")
    pv = np.arange(n_pvis)
    vperson = visitor_person[:n_pvis]
    real_v = vperson < n_real
    lead_v = np.zeros(n_pvis, bool)
    lead_v[real_v] = L.t0[vperson[real_v]] >= 0
    p_id = np.where(lead_v, 0.55, 0.35)
    form_vis = np.zeros(n_vis, bool)
    form_vis[f_vis] = True
    p_id = np.where(form_vis[:n_pvis], 0.85, p_id)
    ident_v = real_v & (irng.random(n_pvis) < p_id)
    # time: the visitor's first form submit, else shortly into its first session
    first_s_t = np.full(n_vis, np.iinfo(np.int64).max)
    np.minimum.at(first_s_t, S_vis, S_t)
    form_t = np.full(n_vis, np.iinfo(np.int64).max)
    np.minimum.at(form_t, f_vis, L.t[wrows] * 1000 + 1500)
    id_t = np.where(form_t[:n_pvis] < np.iinfo(np.int64).max, form_t[:n_pvis],
                    first_s_t[:n_pvis] + irng.integers(10_000, 300_000, n_pvis))
    ident_v &= (id_t < (T0 + days * DAY) * 1000)
    iv = pv[ident_v]
    i_t = id_t[iv]
    i_person = vperson[iv]
    i_src = np.where(P.email_mode[i_person] == 0, 0, np.where(P.email_mode[i_person] == 2, 1,
                                                              (irng.random(iv.size) < 0.5)))
    # the identify event belongs to the session that contains its time (lateness)
    # -> we simply give it its own lag draw
    i_lag = np.where(irng.random(iv.size) < cfg.late_event_share, irng.integers(1, 4, iv.size), 0)

    # --- assemble
    n_wb, n_id = wb.size, iv.size
    t_ms = np.concatenate([ev["t"], w_t, i_t])
    visitor = np.concatenate([ev["visitor"], w_vis, iv]).astype(np.int32)
    etype = np.concatenate([ev["etype"], np.ones(n_wb), np.full(n_id, 2)]).astype(np.int8)
    page_c = np.concatenate([ev["page"], np.full(n_wb, 29), np.full(n_id, -1)]).astype(np.int16)
    track_c = np.concatenate([ev["track"], np.full(n_wb, TRACK["Webinar Registered"]),
                              np.full(n_id, -1)]).astype(np.int8)
    ref_c = np.concatenate([ev["ref"], np.full(n_wb + n_id, -1)]).astype(np.int16)
    lag_c = np.concatenate([ev["lag"], np.zeros(n_wb, np.int8), i_lag]).astype(np.int8)
    ident_c = np.concatenate([np.full(ev["t"].size + n_wb, -1), np.arange(n_id)]).astype(np.int32)
    del ev
    # userId: set on events of identified visitors of persons with an app account, from
    # the identify on
    vis_id_t = np.full(n_vis, np.iinfo(np.int64).max)
    vis_id_t[iv] = i_t
    vp_all = visitor_person[visitor]
    has_uid = (vp_all >= 0) & (vp_all < n_real)
    has_uid[has_uid] = P.user_id.is_not_null().to_numpy()[vp_all[has_uid]]
    user = np.where(has_uid & (t_ms >= vis_id_t[visitor]), vp_all, -1).astype(np.int32)
    del vp_all, has_uid, vis_id_t
    # delivery: late sessions arrive 1-3 days later, the rest within seconds
    arng = rs("web_arrival")
    recv = t_ms + arng.integers(40, 2500, t_ms.size)
    late = np.flatnonzero(lag_c > 0)
    recv[late] = (((t_ms[late] // 1000 - T0) // DAY + lag_c[late]) * DAY + T0) * 1000 \
        + arng.integers(0, 6 * 3600 * 1000, late.size)
    dday = ((recv // 1000 - T0) // DAY).astype(np.int32)
    keep = (t_ms >= T0 * 1000) & (dday >= 0) & (dday < days)
    sel = np.flatnonzero(keep)
    del keep
    sel = sel[np.lexsort((t_ms[sel], recv[sel], dday[sel]))]
    return Web(
        visitor_person=visitor_person,
        t_ms=t_ms[sel], recv_ms=recv[sel], day=dday[sel],
        visitor=visitor[sel], etype=etype[sel], page=page_c[sel], track=track_c[sel],
        referrer=ref_c[sel], user=user[sel], ident=ident_c[sel],
        ident_person=i_person, ident_email_src=i_src.astype(np.int8), ident_t=i_t,
        form_visitor=f_vis.astype(np.int32), form_utm=f_ref.astype(np.int8),
        form_rank=np.where(web_lead_rows, np.cumsum(web_lead_rows) - 1, -1),
    )


def _session_events(rng: np.random.Generator, visitor_person: np.ndarray, P: Persons,
                    S_vis, S_t, S_np, S_ref, S_form, S_z, S_submit, S_lag) -> dict:
    """Page views (+ the track events they trigger) of a chunk of sessions."""
    n_s = S_vis.size
    ev_s = np.repeat(np.arange(n_s, dtype=np.int32), S_np)
    n = ev_s.size
    first_of_s = np.concatenate([[0], np.cumsum(S_np)[:-1]]).astype(np.int64)
    k_in_s = np.arange(n) - first_of_s[ev_s]
    last_in_s = k_in_s == S_np[ev_s] - 1
    # page category by intent bin (width 0.5), then a page of the category
    zbin = np.clip(np.round(S_z[ev_s] * 2), -5, 5).astype(np.int8)
    cat = np.empty(n, dtype=np.int8)
    u = rng.random(n, dtype=np.float32)
    for b in np.unique(zbin):
        m = zbin == b
        cp = np.cumsum(_cat_probs(np.array([b / 2.0]))[0])
        cat[m] = np.minimum(np.searchsorted(cp, u[m]), len(cp) - 1)
    u = rng.random(n, dtype=np.float32)
    page = np.empty(n, dtype=np.int16)
    for c, pages in enumerate(CAT_PAGES):
        m = cat == c
        page[m] = pages[(u[m] * pages.size).astype(np.int64)]
    # service pages follow the person's need 60 % of the time
    vp = visitor_person[S_vis[ev_s]]
    svc_m = (cat == 1) & (vp >= 0) & (rng.random(n, dtype=np.float32) < 0.6)
    page[svc_m] = 1 + P.service[vp[svc_m]]
    del vp, svc_m, cat, zbin
    forced = last_in_s & (S_form[ev_s] >= 0)
    page[forced] = S_form[ev_s][forced]
    dt_ms = rng.exponential(55_000, n).astype(np.int64) + 3000
    dt_ms[k_in_s == 0] = 0
    csum = np.cumsum(dt_ms)
    t_page = S_t[ev_s] + csum - csum[first_of_s[ev_s]]
    del dt_ms, csum
    # form sessions end on the form page shortly before the submission
    fs = np.flatnonzero(S_submit >= 0)
    last_pg = first_of_s[fs] + S_np[fs] - 1
    shift = np.zeros(n_s, dtype=np.int64)
    shift[fs] = (S_submit[fs] - rng.integers(15_000, 120_000, fs.size)) - t_page[last_pg]
    t_page += shift[ev_s]
    ref = np.where(k_in_s == 0, S_ref[ev_s], 100 + np.roll(page, 1)).astype(np.int16)
    # track events triggered on pricing / case study / demo / webinar pages
    pcat = PAGE_CAT[page]
    tp = np.select([pcat == T_PRICING, pcat == T_CASE, pcat == T_DEMO,
                    pcat == N.PAGE_CATEGORIES.index("webinars")], [0.3, 0.35, 0.5, 0.15], 0.0)
    tr_idx = np.flatnonzero((rng.random(n, dtype=np.float32) < tp) & ~forced)
    tname = np.select([pcat == T_PRICING, pcat == T_CASE, pcat == T_DEMO],
                      [TRACK["Pricing Calculator Used"], TRACK["Case Study Downloaded"],
                       TRACK["Demo Requested"]], TRACK["Webinar Registered"])[tr_idx]
    # the website form rows' submit time is the Contact Form Submitted event
    form_idx = np.flatnonzero(forced)
    t_form = S_submit[ev_s[form_idx]] + rng.integers(0, 999, form_idx.size)
    track_s = np.concatenate([ev_s[tr_idx], ev_s[form_idx]])
    n_tr = track_s.size
    return {
        "t": np.concatenate([t_page, t_page[tr_idx] + rng.integers(5_000, 90_000, tr_idx.size),
                             t_form]),
        "visitor": np.concatenate([S_vis[ev_s], S_vis[track_s]]).astype(np.int32),
        "etype": np.concatenate([np.zeros(n, np.int8), np.ones(n_tr, np.int8)]),
        "page": np.concatenate([page, page[tr_idx], page[form_idx]]).astype(np.int16),
        "track": np.concatenate([np.full(n, -1, np.int8), tname.astype(np.int8),
                                 np.full(form_idx.size, TRACK["Contact Form Submitted"],
                                         np.int8)]),
        "ref": np.concatenate([ref, np.full(n_tr, -1, np.int16)]),
        "lag": np.concatenate([S_lag[ev_s], S_lag[track_s]]).astype(np.int8),
    }


# ============================================================================ engagement

@dataclass
class Engagement:
    sessions: np.ndarray
    pricing: np.ndarray
    demo: np.ndarray
    case: np.ndarray
    recency_days: np.ndarray      # days from last activity to the lead (99 = none)
    account_interest: np.ndarray  # other engaged persons of the same account


def engagement(cfg: WorldConfig, P: Persons, L: Leads, W: Web) -> Engagement:
    """What a person did on the site *before* their first lead (truth, all visitors)."""
    n = P.n
    vp = W.visitor_person[W.visitor]
    ok = (vp >= 0) & (W.etype < 2)
    vp_ok = vp[ok]
    t0 = L.t0[vp_ok]
    pre = (t0 >= 0) & (W.t_ms[ok] < t0 * 1000)
    p = vp_ok[pre]
    page = W.page[ok][pre]
    track = W.track[ok][pre]
    et = W.etype[ok][pre]
    pcat = np.where(page >= 0, PAGE_CAT[np.clip(page, 0, None)], -1)
    landing = (et == 0) & (W.referrer[ok][pre] < 100)
    sessions = np.bincount(p[landing], minlength=n)
    pricing = np.bincount(p[((et == 0) & (pcat == T_PRICING)) | (track == 1)], minlength=n)
    demo = np.bincount(p[(track == 0) | ((et == 0) & (pcat == T_DEMO))], minlength=n) > 0
    case = np.bincount(p[track == 2], minlength=n)
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, p, W.t_ms[ok][pre])
    rec = np.where(last >= 0, (L.t0 * 1000 - last) / (DAY * 1000), 99.0)
    # account interest: other persons of the account who engage (lead or browse)
    engaged = np.zeros(n, bool)
    engaged[L.t0 >= 0] = True
    engaged[np.unique(vp[vp >= 0])] = True
    engaged[P.n_real:] = False
    acc = P.account
    cnt = np.bincount(acc[engaged & (acc >= 0)], minlength=acc.max() + 1)
    ai = np.where(acc >= 0, cnt[np.clip(acc, 0, None)] - engaged, 0)
    return Engagement(sessions=sessions, pricing=pricing, demo=demo, case=case,
                      recency_days=rec, account_interest=ai)


def engagement_score(E: Engagement) -> np.ndarray:
    r = E.recency_days
    return (0.3 * np.minimum(E.pricing, 4) + 0.9 * E.demo + 0.3 * np.minimum(E.case, 3)
            + np.where(r <= 3, 0.45, np.where(r <= 14, 0.15, 0.0))
            + 0.3 * np.minimum(E.account_interest, 3) + 0.2 * np.log1p(E.sessions))


# ============================================================================ conversion

@dataclass
class Outcome:
    p: np.ndarray          # per person: probability the first lead episode ends Won
    converted: np.ndarray  # per person
    fit: np.ndarray
    intercept: float
    engagement: np.ndarray  # per person: the engagement term of the logit, as the world saw it (truth only)


def conversion(cfg: WorldConfig, rs: Streams, P: Persons, L: Leads, fit: np.ndarray,
               E: Engagement) -> Outcome:
    """p = sigmoid(b0 + fit + engagement + fit x engagement + channel + latent intent)."""
    rng = rs("conversion")
    n_real = P.n_real
    lead = np.flatnonzero(L.t0[:n_real] >= 0)
    eng = engagement_score(E)
    f, e = fit[lead], eng[lead]
    fz = (f - f.mean()) / (f.std() + 1e-9)
    ez = (e - e.mean()) / (e.std() + 1e-9)
    multi = 0.2 * (L.n_channels[lead] - 1)
    latent = 0.45 * P.intent[lead] + rng.normal(0, 0.55, lead.size)  # partly unobserved
    c0 = L.c0[lead]
    logit = LOGIT_SCALE * (f + e + 0.6 * fz * ez + CHANNEL_LOGIT[c0] + multi + latent)
    d = cfg.drift
    if d is not None and d.kind == "channel_quality":
        day0 = (L.t0[lead] - epoch(cfg.start)) // DAY
        logit = logit + np.where((c0 == CH[d.channel]) & (day0 >= d.start_day), DRIFT_LOGIT, 0)
    # calibrate the intercept: mean p over non-junk lead persons = target
    lo, hi = -20.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (1 / (1 + np.exp(-(mid + logit)))).mean() > cfg.target_conversion:
            hi = mid
        else:
            lo = mid
    p_lead = 1 / (1 + np.exp(-(lo + logit)))
    p = np.zeros(P.n)
    p[lead] = p_lead
    converted = np.zeros(P.n, bool)
    converted[lead] = rng.random(lead.size) < p_lead
    return Outcome(p=p, converted=converted, fit=fit, intercept=lo, engagement=eng)
