"""The people and companies of the sample world: accounts, sales reps, persons.

All columns are numpy arrays (numbers, codes) or polars Series (strings), aligned by
entity index. Nothing here knows about files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl

from . import names as N
from .config import Streams, WorldConfig, mix64
from .timeutil import DAY, epoch

JUNK_KINDS = ("spam", "test", "competitor", "student")
EMAIL_WORK, EMAIL_BOTH, EMAIL_FREE = 0, 1, 2
INDUSTRY_NAMES = tuple(N.INDUSTRIES)
_CITY = {k: np.array([c[i] for c in N.CITIES]) for i, k in enumerate(
    ("country", "region", "city", "weight", "tz", "dst", "postal"))}


def frame(data: dict, **kw) -> pl.DataFrame:
    """pl.DataFrame from a dict whose numpy object arrays (strings with None) are passed
    as lists: polars infers object arrays from their first values, which is fragile."""
    fixed = {k: (v.tolist() if isinstance(v, np.ndarray) and v.dtype == object else v)
             for k, v in data.items()}
    return pl.DataFrame(fixed, **kw)


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower().replace("&", "and"))


def employee_range(emp: np.ndarray) -> np.ndarray:
    """Employee count -> printed range label ('11-50')."""
    bounds = np.array([b for b, _ in N.EMPLOYEE_RANGES])
    labels = np.array([lab for _, lab in N.EMPLOYEE_RANGES])
    return labels[np.searchsorted(bounds, emp)]


def territory_of(country: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Sales territory index (into names.TERRITORIES)."""
    t = np.full(country.shape, 2, dtype=np.int8)  # US-East by default
    t[np.isin(region, list(N.US_WEST)) & (country == "US")] = 0
    t[np.isin(region, list(N.US_CENTRAL)) & (country == "US")] = 1
    t[country == "CA"] = 3
    t[country == "GB"] = 4
    return t


def sf_ids(prefix: str, idx: np.ndarray, salt: int) -> list[str]:
    """Salesforce-looking 18-char ids, unique per (prefix, idx): the 64-bit mix of idx
    written in 11 base-62 digits (62**11 > 2**64, so no collisions)."""
    alphabet = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                             dtype=np.uint8)
    v = mix64(np.asarray(idx), salt)
    digits = np.empty((v.size, 11), dtype=np.uint8)
    for k in range(11):
        digits[:, 10 - k] = alphabet[(v % np.uint64(62)).astype(np.int64)]
        v = v // np.uint64(62)
    body = np.ascontiguousarray(digits).view("S11").ravel().astype(str)
    return [f"{prefix}Hs{b}AA" for b in body]


# ============================================================================ accounts

@dataclass
class Accounts:
    n: int
    city: np.ndarray          # index into names.CITIES
    country: np.ndarray       # "US" / "CA" / "GB"
    region: np.ndarray        # ISO subdivision code
    city_name: np.ndarray
    industry: np.ndarray      # index into INDUSTRY_NAMES
    employees: np.ndarray
    name: list[str]
    base_name: list[str]      # name without legal suffix
    domain: list[str]
    website: list[str]
    postal: list[str]
    territory: np.ndarray
    segment: np.ndarray       # 0 SMB (< 50 employees), 1 Mid-Market
    served: np.ndarray
    target_industry: np.ndarray
    email_fmt: np.ndarray     # 0 first.last, 1 flast, 2 first, 3 firstl
    in_crm: np.ndarray        # exists in the CRM on day 1
    crm_id: list[str]         # Salesforce id for every account (used once it is in the CRM)
    owner: np.ndarray         # rep index owning the CRM account (-1 if not in the CRM)
    crm_type: np.ndarray      # for day-1 CRM accounts: Customer / Prospect / Former Customer
    crm_created: np.ndarray   # epoch s of CRM creation (day-1 accounts: in the past)


def make_accounts(cfg: WorldConfig, rs: Streams, n: int) -> Accounts:
    rng = rs("accounts")
    w = _CITY["weight"].astype(float)
    city = rng.choice(len(w), size=n, p=w / w.sum())
    country, region = _CITY["country"][city], _CITY["region"][city]
    ind_w = np.array([v[0] for v in N.INDUSTRIES.values()])
    industry = rng.choice(len(ind_w), size=n, p=ind_w / ind_w.sum())
    # log-normal size, 5..1000 employees, many small firms
    employees = np.clip(np.round(np.exp(rng.normal(np.log(35), 1.15, n))), 5, 1000).astype(np.int32)

    # --- names: a few realistic patterns, built per account (cheap: <= ~0.5M accounts)
    pattern = rng.choice(5, size=n, p=[0.30, 0.26, 0.14, 0.15, 0.15])
    last = rng.integers(0, len(N.LAST_NAMES), (n, 2))
    adj = rng.integers(0, len(N.COMPANY_ADJECTIVES), n)
    word_u = rng.random(n)
    suffix_u = rng.random(n)
    has_suffix = rng.random(n) < 0.8
    tld_u = rng.random(n)
    ind_words = [v[3] for v in N.INDUSTRIES.values()]
    base, full, domains, sites = [], [], [], []
    taken: set[str] = set()
    www_u = rng.random(n)
    for i in range(n):
        words = ind_words[industry[i]]
        word = words[int(word_u[i] * len(words))]
        l1, l2 = N.LAST_NAMES[last[i, 0]], N.LAST_NAMES[last[i, 1]]
        p = pattern[i]
        if p == 0:
            b = f"{l1} {word}"
        elif p == 1:
            b = f"{N.COMPANY_ADJECTIVES[adj[i]]} {word}"
        elif p == 2:
            b = f"{l1} & {l2}" + (f" {word}" if word_u[i] < 0.5 else "")
        elif p == 3:
            b = f"{_CITY['city'][city[i]]} {word}"
        else:
            b = f"{N.COMPANY_ADJECTIVES[adj[i]]} {l1} {word}" if word_u[i] < 0.4 \
                else f"{l1} {N.COMPANY_ADJECTIVES[adj[i]]}"
        b = b.replace("& & ", "& ")
        sufs = N.LEGAL_SUFFIXES[country[i]]
        base.append(b)
        full.append(f"{b} {sufs[int(suffix_u[i] * len(sufs))]}" if has_suffix[i] else b)
        # domain: slug + country-typical TLD, made unique
        s = slug(b)[:40]
        if country[i] == "GB":
            tld = "co.uk" if tld_u[i] < 0.65 else "com"
        elif country[i] == "CA":
            tld = "ca" if tld_u[i] < 0.45 else "com"
        else:
            tld = "com" if tld_u[i] < 0.88 else ("net" if tld_u[i] < 0.95 else "us")
        d = f"{s}.{tld}"
        if d in taken:
            d = f"{s}{slug(_CITY['city'][city[i]])}.{tld}"
            k = 2
            while d in taken:
                d = f"{s}{k}.{tld}"
                k += 1
        taken.add(d)
        domains.append(d)
        u = www_u[i]
        sites.append(f"https://www.{d}" if u < 0.7 else (f"https://{d}" if u < 0.9 else f"http://www.{d}"))

    # postal codes consistent with the city
    pr = rng.integers(0, 10**6, n)
    postal = []
    for i in range(n):
        c, pre, r = country[i], _CITY["postal"][city[i]], int(pr[i])
        if c == "US":
            postal.append(f"{pre}{r % 100:02d}")
        elif c == "CA":
            postal.append(f"{pre} {r % 10}{chr(65 + (r // 10) % 26)}{(r // 260) % 10}")
        else:
            postal.append(f"{pre}{1 + r % 20} {r // 20 % 10}{chr(65 + r // 200 % 26)}"
                          f"{chr(65 + r // 5200 % 26)}")

    segment = (employees >= 50).astype(np.int8)
    # CRM presence: bigger and better-fitting companies are likelier to be known already
    crm_p = cfg.crm_account_share * np.exp(0.35 * (np.log(employees) - np.log(35)))
    in_crm = rng.random(n) < np.clip(crm_p / crm_p.mean() * cfg.crm_account_share, 0, 0.9)
    crm_type = rng.choice(np.array(["Prospect", "Customer", "Former Customer"]), size=n,
                          p=[0.62, 0.28, 0.10])
    t0 = epoch(cfg.start)
    crm_created = t0 - rng.integers(30 * DAY, 5 * 365 * DAY, n)
    fmt = rng.choice(4, size=n, p=[0.55, 0.30, 0.10, 0.05])
    fmt[(employees < 15) & (rng.random(n) < 0.5)] = 2  # tiny firms: first@
    return Accounts(
        n=n, city=city, country=country, region=region, city_name=_CITY["city"][city],
        industry=industry, employees=employees, name=full, base_name=base, domain=domains,
        website=sites, postal=postal, territory=territory_of(country, region),
        segment=segment, served=~np.isin(region, list(N.UNSERVED_REGIONS)),
        target_industry=np.array([v[1] for v in N.INDUSTRIES.values()])[industry],
        email_fmt=fmt, in_crm=in_crm, crm_id=sf_ids("001", np.arange(n), cfg.seed * 7 + 1),
        owner=np.full(n, -1, dtype=np.int32), crm_type=crm_type, crm_created=crm_created,
    )


# ============================================================================ reps

@dataclass
class Reps:
    n: int
    rep_id: list[str]
    name: list[str]
    email: list[str]
    territory: np.ndarray
    segment: np.ndarray
    capacity: np.ndarray
    inactive_from: np.ndarray   # first day index on which the rep is inactive (days = never)
    departed: int               # inactive from day 0 and still owns CRM accounts
    leaving: int                # deactivated mid-world; its accounts get reassigned

    def active_on(self, day: int) -> np.ndarray:
        return self.inactive_from > day


def make_reps(cfg: WorldConfig, rs: Streams, acc: Accounts, persons_per_acc: np.ndarray
              ) -> Reps:
    """One rep per ~150 daily leads (at least one per territory x segment cell), plus a few
    inactive ones. Cells get reps in proportion to their share of people."""
    rng = rs("reps")
    cell = acc.territory.astype(int) * 2 + acc.segment
    share = np.bincount(cell, weights=persons_per_acc, minlength=10)
    share = share / share.sum()
    daily_leads = cfg.n_persons * cfg.form_rows_per_person / cfg.days
    n_active = max(10, int(round(daily_leads / cfg.rep_leads_per_day)))
    alloc = np.ones(10, dtype=int) + np.floor(share * (n_active - 10)).astype(int)
    rest = n_active - alloc.sum()
    if rest > 0:
        alloc[np.argsort(-(share * (n_active - 10) % 1), kind="stable")[:rest]] += 1
    n_inactive = max(2, int(round(0.04 * n_active)))
    cells = np.concatenate([np.repeat(np.arange(10), alloc),
                            rng.choice(10, size=n_inactive, p=share)])
    n = len(cells)
    first = rng.integers(0, len(N.FIRST_NAMES), n)
    last = rng.integers(0, len(N.LAST_NAMES), n)
    names_ = [f"{N.FIRST_NAMES[f]} {N.LAST_NAMES[la]}" for f, la in zip(first, last)]
    emails, seen = [], set()
    for f, la in zip(first, last):
        e = f"{slug(N.FIRST_NAMES[f])}.{slug(N.LAST_NAMES[la])}"
        k, cand = 2, e
        while cand in seen:
            cand, k = f"{e}{k}", k + 1
        seen.add(cand)
        emails.append(f"{cand}@{N.OUR_DOMAIN}")
    per_rep = daily_leads / n_active
    capacity = np.clip(np.round(0.3 * per_rep * rng.uniform(0.7, 1.3, n)), 15, 60).astype(int)
    inactive_from = np.full(n, cfg.days, dtype=np.int32)
    inactive_from[n_active:] = 0
    departed = n_active  # first inactive rep keeps owning CRM accounts
    leaving = int(rng.integers(0, n_active)) if cfg.days >= 6 else -1
    if leaving >= 0:
        inactive_from[leaving] = (2 * cfg.days) // 3
    return Reps(n=n, rep_id=sf_ids("005", np.arange(n), cfg.seed * 7 + 5), name=names_,
                email=emails, territory=(cells // 2).astype(np.int8),
                segment=(cells % 2).astype(np.int8), capacity=capacity,
                inactive_from=inactive_from, departed=departed, leaving=leaving)


def route(reps: Reps, territory: np.ndarray, segment: np.ndarray, day: np.ndarray,
          u: np.ndarray) -> np.ndarray:
    """Pick an active rep of the matching cell (any active rep if the cell has none)."""
    out = np.empty(len(territory), dtype=np.int32)
    cell = territory.astype(int) * 2 + segment
    rep_cell = reps.territory.astype(int) * 2 + reps.segment
    for c in np.unique(cell):
        m = cell == c
        for d in np.unique(day[m]):
            mm = m & (day == d)
            pool = np.flatnonzero((rep_cell == c) & reps.active_on(int(d)))
            if pool.size == 0:
                pool = np.flatnonzero(reps.active_on(int(d)))
            out[mm] = pool[(u[mm] * pool.size).astype(int)]
    return out


def assign_owners(acc: Accounts, reps: Reps, rs: Streams) -> None:
    """Owners of day-1 CRM accounts: a rep of the matching cell; ~10 % of the departed
    rep's cell goes to the departed (inactive) rep."""
    rng = rs("owners")
    idx = np.flatnonzero(acc.in_crm)
    owner = route(reps, acc.territory[idx], acc.segment[idx], np.zeros(idx.size, int),
                  rng.random(idx.size))
    dep_cell = reps.territory[reps.departed] * 2 + reps.segment[reps.departed]
    cell = acc.territory[idx].astype(int) * 2 + acc.segment[idx]
    take = (cell == dep_cell) & (rng.random(idx.size) < 0.10)
    if not take.any() and idx.size:
        take[np.flatnonzero(cell == dep_cell)[:1] if (cell == dep_cell).any() else 0] = True
    owner[take] = reps.departed
    acc.owner[idx] = owner


# ============================================================================ persons

@dataclass
class Persons:
    n: int
    n_real: int                 # persons [0, n_real) are real, the rest junk
    is_junk: np.ndarray
    junk_kind: np.ndarray       # -1 real, else index into JUNK_KINDS
    account: np.ndarray         # account at the start (-1 for junk)
    first: pl.Series
    last: pl.Series
    nick: pl.Series             # a nickname (null if the name has none)
    nick_pref: np.ndarray       # prefers the nickname
    title: pl.Series
    decision_maker: np.ndarray
    service: np.ndarray         # index into names.SERVICES
    budget: np.ndarray          # index into names.BUDGETS
    timeline: np.ndarray        # index into names.TIMELINES
    intent: np.ndarray          # latent intent z ~ N(0, 1)
    email_mode: np.ndarray      # EMAIL_WORK / EMAIL_BOTH / EMAIL_FREE
    work_email: pl.Series       # at the starting account (null for free-only / junk)
    personal_email: pl.Series   # free-mail (null if none); junk: their one address
    free_domain: pl.Series
    phone_e164: pl.Series       # null if the person has no phone (some junk)
    phone_nat: pl.Series        # national significant number (10 digits)
    phone_kind: np.ndarray      # 0 NANP, 1 UK 2-4-4, 2 UK 3-3-4, 3 UK 4-6
    moved: np.ndarray
    move_t: np.ndarray          # epoch s of the job change (moved only)
    new_account: np.ndarray     # -1 unless moved
    new_work_email: pl.Series
    user_id: pl.Series          # web app userId (null for most)
    junk_company: pl.Series     # junk only: what they type as company
    junk_phone_typed: pl.Series  # junk only: phone as typed (placeholders ...)


def _zipf_choice(rng: np.random.Generator, k: int, n: int, a: float = 0.9) -> np.ndarray:
    w = 1.0 / (np.arange(k) + 8.0) ** a
    return rng.choice(k, size=n, p=w / w.sum())


def _unique_locals(key_dom: pl.Series, local: pl.Series, rng: np.random.Generator,
                   canon=None) -> pl.Series:
    """Make local parts unique per domain by appending digits to later duplicates."""
    local = local.clone()
    for attempt in range(20):
        ck = canon(local) if canon else local
        key = pl.select(pl.concat_str([key_dom, ck], separator="@")).to_series()
        dup = (~key.is_first_distinct()).to_numpy() & local.is_not_null().to_numpy()
        if not dup.any():
            break
        idx = np.flatnonzero(dup)
        hi = 100 if attempt < 3 else 10**(2 + attempt // 3)
        num = rng.integers(1, hi, idx.size)
        new = pl.select(local.gather(idx) + pl.Series(num).cast(pl.String)).to_series()
        local = local.scatter(idx, new)
    return local


def _name_slugs(names: tuple[str, ...]) -> np.ndarray:
    return np.array([slug(x) for x in names])


def make_phones(rng: np.random.Generator, city: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Unique phone numbers fitting each city: (e164, national number, kind).

    NANP: area code of the city + exchange (not N11 / 555) + line. UK: the city's area
    code padded to a 10-digit national number, or a mobile (07xxx) for ~35 %.
    Kind: 0 NANP, 1 UK 2-4-4, 2 UK 3-3-4, 3 UK 4-6.
    """
    n = city.size
    areas = [c[7] for c in N.CITIES]
    n_area = np.array([len(a) for a in areas])
    code = np.zeros((len(areas), 4), dtype=np.int64)
    code_len = np.zeros((len(areas), 4), dtype=np.int64)
    for i, a in enumerate(areas):
        code[i, :len(a)] = [int(x) for x in a]
        code_len[i, :len(a)] = [len(x) for x in a]
    uk = _CITY["country"][city] == "GB"
    nat = np.zeros(n, dtype=np.int64)
    kind = np.zeros(n, dtype=np.int8)
    todo = np.arange(n)
    for _ in range(20):  # redraw duplicates until unique
        m = todo.size
        if m == 0:
            break
        c = city[todo]
        k = (rng.random(m) * n_area[c]).astype(np.int64)
        ac, al = code[c, k], code_len[c, k]
        exch = rng.integers(200, 1000, m)
        exch = np.where((exch % 100 == 11) | (exch == 555), exch + 1, exch)
        line = rng.integers(0, 10_000, m)
        digits = rng.integers(0, 10**9, m)
        mob = rng.random(m) < 0.35
        is_uk = uk[todo]
        rest = 10 - al
        nat[todo] = np.where(
            ~is_uk, ac * 10**7 + exch * 10**4 + line,
            np.where(mob, 7 * 10**9 + (4 + digits % 6) * 10**8 + digits // 10 % 10**8,
                     ac * 10**rest + digits % (10**rest)))
        kind[todo] = np.where(~is_uk, 0, np.where(mob, 3, np.select([al == 2, al == 3], [1, 2], 3)))
        _, first, counts = np.unique(nat, return_index=True, return_counts=True)
        keep = np.zeros(n, bool)
        keep[first] = True
        todo = np.flatnonzero(~keep)
    nat_s = pl.Series(nat).cast(pl.String)
    e164 = pl.select(pl.when(pl.Series(uk)).then(pl.lit("+44")).otherwise(pl.lit("+1"))
                     + nat_s).to_series()
    return e164.to_numpy(), nat_s.to_numpy(), kind


def make_persons(cfg: WorldConfig, rs: Streams, acc: Accounts, n_real: int, n_junk: int
                 ) -> Persons:
    rng = rs("persons")
    n = n_real + n_junk
    # --- accounts: every account gets one person, the rest by size
    extra = n_real - acc.n
    w = acc.employees.astype(float) ** 0.6
    account = np.concatenate([np.arange(acc.n), rng.choice(acc.n, size=extra, p=w / w.sum())])
    account = rng.permutation(account).astype(np.int32)
    fi = _zipf_choice(rng, len(N.FIRST_NAMES), n)
    li = _zipf_choice(rng, len(N.LAST_NAMES), n, 0.7)
    first_arr = np.array(N.FIRST_NAMES)[fi]
    last_arr = np.array(N.LAST_NAMES)[li]
    has_nick = np.isin(first_arr, list(N.NICKNAMES))
    nick_u = rng.random(n)
    opts = [N.NICKNAMES.get(f, ()) for f in N.FIRST_NAMES]
    n_opt = np.array([len(o) for o in opts])
    nick_mat = np.array([list(o) + [""] * (3 - len(o)) for o in opts], dtype=object)
    nick = np.where(has_nick, nick_mat[fi, (nick_u * np.maximum(n_opt[fi], 1)).astype(int)],
                    None)
    nick_pref = has_nick & (rng.random(n) < 0.4)

    ti = rng.integers(0, len(N.TITLES), n)
    title = np.array([t for t, _ in N.TITLES], dtype=object)[ti]
    decision = np.array([d for _, d in N.TITLES])[ti]
    # decision makers are rarer in big firms: demote some to staff titles
    is_real = np.arange(n) < n_real
    account_full = np.concatenate([account, np.full(n_junk, -1, np.int32)])
    emp = np.where(is_real, acc.employees[np.clip(account_full, 0, None)], 30)
    demote = decision & (rng.random(n) < np.clip((np.log(emp) - np.log(20)) / 6, 0, 0.6))
    staff = np.flatnonzero(~np.array([d for _, d in N.TITLES]))
    ti2 = staff[rng.integers(0, staff.size, n)]
    title = np.where(demote, np.array([t for t, _ in N.TITLES], dtype=object)[ti2], title)
    decision = decision & ~demote

    service = rng.choice(len(N.SERVICES), size=n, p=[0.30, 0.22, 0.12, 0.16, 0.08, 0.12])
    # budgets grow with company size
    size_z = (np.log(emp) - np.log(35)) / 1.15
    bud_latent = 0.9 * size_z + rng.normal(0, 0.8, n)
    budget = np.digitize(bud_latent, [-0.9, 0.1, 1.0]).astype(np.int8)
    intent = rng.normal(0, 1, n)
    timeline = np.digitize(-0.8 * intent + rng.normal(0, 0.9, n), [-0.9, 0.1, 0.9]).astype(np.int8)

    # --- e-mail addresses
    mode = rng.choice(3, size=n, p=[0.75, 0.15, 0.10]).astype(np.int8)
    fs, ls = _name_slugs(N.FIRST_NAMES)[fi], _name_slugs(N.LAST_NAMES)[li]
    fmt = np.where(is_real, acc.email_fmt[np.clip(account_full, 0, None)], 0)
    dom = np.where(is_real, np.array(acc.domain, dtype=object)[np.clip(account_full, 0, None)], "")
    work_local = _work_local(fs, ls, fmt)
    work_local = _unique_locals(pl.Series(dom), work_local, rng)
    work_email = (work_local + "@" + pl.Series(dom, dtype=pl.String))
    work_email = pl.select(pl.when(pl.Series(is_real & (mode != EMAIL_FREE)))
                           .then(work_email).otherwise(None)).to_series()

    fm_w = np.array([w for _, w in N.FREE_MAIL])
    free_dom = np.array([d for d, _ in N.FREE_MAIL])[rng.choice(len(fm_w), size=n, p=fm_w)]
    pp = rng.choice(7, size=n, p=[0.25, 0.2, 0.12, 0.15, 0.08, 0.12, 0.08])
    yy = rng.integers(60, 100, n)
    nn = rng.integers(1, 999, n)
    lp = pl.DataFrame({"f": fs, "l": ls, "p": pp, "y": yy, "k": nn})
    f_, l_ = pl.col("f"), pl.col("l")
    pl_local = lp.select(
        pl.when(pl.col("p") == 0).then(f_ + "." + l_)
        .when(pl.col("p") == 1).then(f_ + l_)
        .when(pl.col("p") == 2).then(f_.str.slice(0, 1) + l_)
        .when(pl.col("p") == 3).then(f_ + "." + l_ + pl.col("y").cast(pl.String))
        .when(pl.col("p") == 4).then(f_ + "_" + l_)
        .when(pl.col("p") == 5).then(f_ + l_.str.slice(0, 1) + pl.col("k").cast(pl.String))
        .otherwise(l_ + f_)).to_series()

    def canon(s: pl.Series) -> pl.Series:  # gmail ignores dots
        return pl.select(pl.when(pl.Series(free_dom) == "gmail.com")
                         .then(s.str.replace_all(".", "", literal=True)).otherwise(s)).to_series()

    pl_local = _unique_locals(pl.Series(free_dom), pl_local, rng, canon)
    personal = pl_local + "@" + pl.Series(free_dom)
    personal = pl.select(pl.when(pl.Series(is_real & (mode != EMAIL_WORK)))
                         .then(personal).otherwise(None)).to_series()

    # --- phones (real persons: unique, fit the account's city)
    rcity = np.where(is_real, acc.city[np.clip(account_full, 0, None)], 0)
    e164, nat, pkind = make_phones(rs("phones"), rcity)

    # --- job changes: ~2 % move to another account of the same country mid-world
    moved = is_real & (rng.random(n) < cfg.mover_share)
    t0 = epoch(cfg.start)
    lo, hi = min(3, cfg.days - 1), max(min(3, cfg.days - 1) + 1, cfg.days - 2)
    move_t = np.where(moved, t0 + rng.integers(lo * DAY, hi * DAY, n), 0)
    new_account = np.full(n, -1, dtype=np.int32)
    mi = np.flatnonzero(moved)
    cand = rng.integers(0, acc.n, (mi.size, 8))
    for j, i in enumerate(mi):
        same = [c for c in cand[j] if acc.country[c] == acc.country[account_full[i]]
                and c != account_full[i]]
        new_account[i] = same[0] if same else (account_full[i] + 1) % acc.n
    new_dom = np.where(moved, np.array(acc.domain, dtype=object)[np.clip(new_account, 0, None)], "")
    new_local = _work_local(fs, ls, np.where(moved, acc.email_fmt[np.clip(new_account, 0, None)], 0))
    new_local = _unique_locals(pl.concat([pl.Series(dom), pl.Series(new_dom)]),
                               pl.concat([work_local, new_local]), rng)[n:]
    new_work = pl.select(pl.when(pl.Series(moved)).then(new_local + "@" + pl.Series(new_dom))
                         .otherwise(None)).to_series()
    # a moved free-mail-only person has no work address anywhere; keep them simple
    has_uid = is_real & (rng.random(n) < 0.2)
    # a bijective scramble of the person index: unique 8-digit user ids
    uid_num = pl.Series((np.arange(n, dtype=np.int64) * 48_271 + cfg.seed * 7_919) % 10**8)
    uid = pl.select(pl.when(pl.Series(has_uid)).then(
        pl.lit("u_") + uid_num.cast(pl.String).str.zfill(8))).to_series()

    p = Persons(
        n=n, n_real=n_real, is_junk=~is_real, junk_kind=np.full(n, -1, dtype=np.int8),
        account=account_full, first=pl.Series(first_arr), last=pl.Series(last_arr),
        nick=pl.Series(nick.tolist(), dtype=pl.String), nick_pref=nick_pref,
        title=pl.Series(title.astype(str)), decision_maker=decision, service=service,
        budget=budget, timeline=timeline, intent=intent, email_mode=mode,
        work_email=work_email, personal_email=personal, free_domain=pl.Series(free_dom),
        phone_e164=pl.Series(e164, dtype=pl.String), phone_nat=pl.Series(nat),
        phone_kind=pkind, moved=moved, move_t=move_t, new_account=new_account,
        new_work_email=new_work, user_id=uid,
        junk_company=pl.Series([None] * n, dtype=pl.String),
        junk_phone_typed=pl.Series([None] * n, dtype=pl.String),
    )
    _make_junk(p, rs("junk"), n_real)
    return p


def _work_local(fs: np.ndarray, ls: np.ndarray, fmt: np.ndarray) -> pl.Series:
    """Work address local part by the account's convention."""
    f, la = pl.col("f"), pl.col("l")
    return pl.DataFrame({"f": fs, "l": ls, "k": fmt}).select(
        pl.when(pl.col("k") == 0).then(f + "." + la)
        .when(pl.col("k") == 1).then(f.str.slice(0, 1) + la)
        .when(pl.col("k") == 2).then(f)
        .otherwise(f + la.str.slice(0, 1))).to_series()


def _gibberish(rng: np.random.Generator, n: int, lo: int = 4, hi: int = 9) -> list[str]:
    letters = np.frombuffer(b"bcdfghjklmnpqrstvwxzaeiouy", dtype="S1")
    lens = rng.integers(lo, hi, n)
    raw = letters[rng.integers(0, len(letters), (n, hi))].astype(str)
    return ["".join(raw[i, :lens[i]]) for i in range(n)]


def _make_junk(p: Persons, rng: np.random.Generator, n_real: int) -> None:
    """Fill the junk persons' identities (kind-specific names, addresses, phones)."""
    n_j = p.n - n_real
    if n_j == 0:
        return
    kind = rng.choice(4, size=n_j, p=[0.45, 0.15, 0.12, 0.28]).astype(np.int8)
    p.junk_kind[n_real:] = kind
    first = p.first.to_list()
    last = p.last.to_list()
    title = p.title.to_list()
    email = p.personal_email.to_list()
    e164 = p.phone_e164.to_list()
    company = [None] * p.n
    typed_phone = [None] * p.n
    g1, g2, g3 = _gibberish(rng, n_j), _gibberish(rng, n_j), _gibberish(rng, n_j, 5, 12)
    u = rng.random((n_j, 6))
    digits = rng.integers(2 * 10**9, 10**10, n_j)
    for j in range(n_j):
        i, k = n_real + j, kind[j]
        if k == 0:  # spam bot: gibberish, random domain, sometimes a phone
            first[i], last[i] = g1[j].capitalize(), g2[j].capitalize()
            tld = N.SPAM_TLDS[int(u[j, 0] * len(N.SPAM_TLDS))]
            email[i] = f"{g1[j]}{int(u[j, 1] * 1000)}@{g3[j]}.{tld}"
            company[i] = N.SPAM_COMPANIES[int(u[j, 2] * len(N.SPAM_COMPANIES))] or None
            title[i] = "" if u[j, 3] < 0.7 else "Manager"
            e164[i] = f"+1{digits[j]}" if u[j, 4] < 0.5 else None
            typed_phone[i] = str(digits[j]) if e164[i] else None
        elif k == 1:  # test entry: placeholders
            tf, tl = N.TEST_NAMES[int(u[j, 0] * len(N.TEST_NAMES))]
            first[i], last[i] = tf, tl
            email[i] = N.TEST_EMAILS[int(u[j, 1] * len(N.TEST_EMAILS))]
            company[i] = ("Test", "Test Company", "asdf", None, "Acme")[int(u[j, 2] * 5)]
            title[i] = ("Test", "", "Tester")[int(u[j, 3] * 3)]
            typed_phone[i] = N.TEST_PHONES[int(u[j, 4] * len(N.TEST_PHONES))] \
                if u[j, 5] < 0.9 else None
            e164[i] = None
        elif k == 2:  # competitor MSP staff checking us out
            cname, cdom = N.COMPETITORS[int(u[j, 0] * len(N.COMPETITORS))]
            email[i] = f"{slug(first[i])}.{slug(last[i])}@{cdom}"
            company[i] = cname
            title[i] = ("Account Executive", "Sales Manager", "Marketing Coordinator",
                        "Solutions Architect")[int(u[j, 1] * 4)]
        else:  # student
            uname, udom = N.UNIVERSITIES[int(u[j, 0] * len(N.UNIVERSITIES))]
            email[i] = f"{slug(first[i])[0]}{slug(last[i])}{int(u[j, 1] * 90) + 10}@{udom}"
            company[i] = uname if u[j, 2] < 0.7 else None
            title[i] = N.STUDENT_TITLES[int(u[j, 3] * len(N.STUDENT_TITLES))]
            if u[j, 4] < 0.4:
                e164[i] = None
    p.first = pl.Series(first, dtype=pl.String)
    p.last = pl.Series(last, dtype=pl.String)
    p.title = pl.Series(title, dtype=pl.String)
    p.personal_email = pl.Series(email, dtype=pl.String)
    p.phone_e164 = pl.Series(e164, dtype=pl.String)
    p.junk_company = pl.Series(company, dtype=pl.String)
    p.junk_phone_typed = pl.Series(typed_phone, dtype=pl.String)
    p.email_mode[n_real:] = EMAIL_FREE
    p.nick = p.nick.scatter(np.arange(n_real, p.n), None)
    p.nick_pref[n_real:] = False
    p.moved[n_real:] = False
