"""Person resolution on any person records: deterministic links, blocking, Fellegi–Sunter
scoring, never-merge rules and capped clustering. Pure: polars + DuckDB, no Dagster, no I/O.

Pipeline (``resolve``):

0. Records are put in the order of their ids (then input position, for repeated ids), so
   that every tie below is decided by the ids alone and the result does not depend on the
   input's row order. ``clusters`` comes back in input order.
1. ``prepare`` maps the caller's columns to ROLES and normalises each present role with
   ``normalize`` (a role that is absent is a null column, and a null never agrees or
   disagrees: its comparison weight is 0). Names, streets, cities, postcodes and websites
   are normalised once per distinct value.
2. Placeholders: an email key or phone that is a known dummy (``identity`` lists) or is
   shared by more than ``max_names_per_key`` distinct surnames is treated as missing
   everywhere. Role addresses (info@, sales@ ...) are treated as missing too.
3. Deterministic links: records sharing a non-placeholder email key or E.164 phone.
   Each group is linked as a star to its smallest record (no n² pairs).
4. Blocking: BLOCK_KEYS below; a block larger than its limit (``max_block``, or the
   tighter BLOCK_LIMITS of a key) is skipped (counted in the stats). Blocks get integer
   ids; candidate pairs = distinct (l < r) pairs sharing a block.
5. Scoring in DuckDB: the sum of the WEIGHTS (log2 m/u, fixed by hand, no training) of
   each comparison's level, bound as parameters. A pair links when its score >=
   ``threshold`` and no NEVER-MERGE rule fires. Similarities are computed only for pairs
   whose exact-match levels leave them a chance to reach the threshold; only the pairs
   over the threshold leave DuckDB (``stats["never_merge_pairs"]``: those a rule kept apart).
6. Clustering, defined as Kruskal-style union-find over links in descending score order
   (ties by record order, so the result is deterministic). A union is refused when (a) the
   merged cluster would exceed ``max_cluster`` records (so the weakest links of a would-be
   hub are the ones dropped; each refusal is counted in ``stats["cap_refusals"]`` for
   alerting), or (b) the two clusters carry different birth dates (never-merge at cluster
   level). ``_cluster`` computes it vectorised: connected components in numpy, and the
   sequential rule only inside the components it can change (larger than the cap, or
   holding two birth dates). ``cluster_id`` = the smallest record id of the cluster.

NEVER-MERGE (pair level; applies to fuzzy links; rule (a) also to whole clusters):
  a. birth dates both known and different;
  b. two different mailboxes on the same non-free domain whose local parts differ by more
     than 2 edits (two colleagues at one company, not one person's typo);
  c. emails both known and different AND phones both known and different AND surnames
     not similar (jaro-winkler < 0.92).

Incremental (``resolve_increment``): a new day's records are linked, by the same rules, to
the stored records of the persons already resolved (``prepare_for_store``) and to each
other, and attach to those persons or start new ones; history is not re-resolved, persons
are never split or renumbered, and a union of two persons is a merge recorded with the
bridging record, score and rule (see its docstring).

``stats`` has the counts above and the seconds of each stage (``seconds_prepare``,
``seconds_link`` with its parts ``seconds_link_*``, ``seconds_cluster``, ``seconds_total``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import duckdb
import numpy as np
import polars as pl

from . import normalize as nz
from .identity import MAX_NAMES_PER_KEY, PLACEHOLDER_EMAIL_DOMAINS, PLACEHOLDER_EMAIL_LOCALS, PLACEHOLDER_PHONES

ROLES = (
    "first_name", "last_name", "full_name", "email", "phone", "company", "domain", "website",
    "street", "city", "postcode", "country", "birth_date",
)

# Compact nickname table (canonical -> nicknames), common English forms. A nickname shared
# by two canonical names (chris, alex, sam, pat) maps to the first listed; the jaro-winkler
# bands and the other blocks still catch most of those.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "robert": ("bob", "rob", "bobby", "robbie", "bert"), "william": ("bill", "will", "billy", "willy", "liam"),
    "elizabeth": ("liz", "beth", "lizzie", "betty", "eliza", "libby"), "katherine": ("kate", "katie", "kathy", "kat"),
    "catherine": ("cathy", "cat", "cate"), "michael": ("mike", "mikey", "mick"),
    "james": ("jim", "jimmy", "jamie"), "jennifer": ("jen", "jenny", "jenn"),
    "richard": ("rick", "dick", "rich", "ricky"), "margaret": ("peggy", "maggie", "meg", "marge"),
    "thomas": ("tom", "tommy"), "christopher": ("chris", "kit"), "daniel": ("dan", "danny"),
    "joseph": ("joe", "joey"), "alexander": ("alex", "xander"), "samuel": ("sam", "sammy"),
    "anthony": ("tony",), "patricia": ("pat", "trish", "patty", "tricia"), "steven": ("steve",),
    "stephen": ("steve",), "andrew": ("andy", "drew"), "benjamin": ("ben", "benny"),
    "nicholas": ("nick", "nicky"), "jonathan": ("jon",), "matthew": ("matt",),
    "deborah": ("debbie", "deb", "debra"), "susan": ("sue", "suzy", "susie"),
    "edward": ("ed", "eddie", "ted", "ned"), "charles": ("charlie", "chuck", "chas"),
    "timothy": ("tim", "timmy"), "gregory": ("greg",), "jeffrey": ("jeff",), "kenneth": ("ken", "kenny"),
    "ronald": ("ron", "ronnie"), "donald": ("don", "donnie"), "lawrence": ("larry",), "gerald": ("jerry",),
    "raymond": ("ray",), "douglas": ("doug",), "peter": ("pete",), "frederick": ("fred", "freddie"),
    "victoria": ("vicky", "tori", "vicki"), "rebecca": ("becky", "becca"), "jessica": ("jess", "jessie"),
    "christine": ("chrissy", "tina"), "kimberly": ("kim",), "pamela": ("pam",), "cynthia": ("cindy",),
    "barbara": ("barb", "babs"), "theresa": ("terry", "tess", "tessa"), "abigail": ("abby", "gail"),
    "samantha": ("sammie",), "alexandra": ("lexi", "sandra", "sasha"), "jacqueline": ("jackie",),
    "stephanie": ("steph",), "zachary": ("zach", "zack"), "joshua": ("josh",),
    "nathaniel": ("nate", "nat"), "nathan": ("nate",), "dorothy": ("dot", "dottie", "dolly"),
    "frances": ("fran", "frankie"), "francis": ("frank",), "judith": ("judy",), "kristopher": ("kris",),
    "philip": ("phil",), "phillip": ("phil",), "vincent": ("vince", "vinny"), "leonard": ("len", "lenny", "leo"),
    "maximilian": ("max",), "maxwell": ("max",), "david": ("dave", "davy"), "john": ("jack", "johnny"),
    "henry": ("hank", "harry"), "harold": ("hal",), "albert": ("al", "bert"), "allan": ("al",),
    "eugene": ("gene",), "walter": ("walt", "wally"), "gabriel": ("gabe",), "isabella": ("bella", "izzy"),
    "jonathon": ("jon",), "mary": ("molly", "polly", "mae"), "ann": ("annie", "nan"), "anne": ("annie",),
    "sarah": ("sally", "sadie"), "virginia": ("ginny",), "helen": ("nell", "ellie"), "eleanor": ("ellie", "nora"),
    "suzanne": ("suzy",), "ashley": ("ash",), "madison": ("maddie",), "olivia": ("liv", "livvy"),
}
# nickname (and spelling variant) -> canonical; canonical names map to themselves.
NICK_TO_CANON: dict[str, str] = {}
for _canon, _nicks in NICKNAMES.items():
    for _n in _nicks:
        NICK_TO_CANON.setdefault(_n, _canon)
for _canon in NICKNAMES:
    NICK_TO_CANON[_canon] = _canon  # a canonical name is never re-mapped by another group's nickname

# Fixed log2(m/u) weights per comparison level. Missing (either side null) is 0 everywhere.
# m and u are rough by-hand figures for B2B lead data: e.g. surnames agree exactly for
# ~95% of true pairs and ~1/64 of random same-block pairs -> ~+6; typed emails differ for
# ~35% of true pairs (work vs personal) but ~100% of non-matches -> mild -1.5. The same
# local part on another domain is weak (+1): 'first.last' is mostly the name again.
WEIGHTS: dict[str, float] = {
    "first_exact": 4.0, "first_nick": 3.5, "first_jw92": 2.5, "first_jw85": 0.5, "first_initial": 0.5, "first_diff": -4.0,
    "last_exact": 6.0, "last_jw92": 4.0, "last_jw85": 1.0, "last_diff": -6.0,
    "email_same": 14.0, "email_local": 1.0, "email_diff": -1.5,
    "phone_same": 12.0, "phone_last7": 6.0, "phone_diff": -4.0,
    "company_exact": 3.0, "company_jw90": 2.0, "company_diff": -2.0,
    "domain_same": 3.0, "domain_diff": -2.0,
    "postcode_same": 3.0, "postcode_diff": -1.0,
    "city_same": 1.5, "city_diff": -0.5,
    "street_same": 3.0, "street_diff": -0.5,
    "country_diff": -2.0,
    "dob_same": 6.0, "dob_diff": -10.0,
}
DETERMINISTIC_SCORE = 1000.0

# Name keys people type when they do not want to give theirs. A record whose first or last
# name is one of these (or who is 'john doe' / 'jane doe') is a placeholder record: it
# never links, deterministically or fuzzily (its emails and phones are not identifiers).
PLACEHOLDER_NAME_KEYS = ("test", "tester", "testing", "user", "asdf", "qwerty", "xxx", "abc", "none", "na", "null", "fake",
                         "noname", "anonymous", "unknown", "sample", "demo")
PLACEHOLDER_FULL_NAMES = (("john", "doe"), ("jane", "doe"))

# Blocking keys: (name, SQL over prepared columns). Nulls make no key.
BLOCK_KEYS: dict[str, str] = {
    "name": "last || '|' || first_canon",
    "last_initial": "last || '|' || left(first_canon, 1)",
    "phone7": "right(phone_link, 7)",
    "email_local": "CASE WHEN length(email_local) >= 3 THEN email_local END",
    "postcode_last3": "postcode || '|' || left(last, 3)",
    "company_first": "company || '|' || first_canon",
    "company_last": "company || '|' || last",
}

# Tighter size limits for the keys whose large blocks are mostly different people (a common
# surname with an initial; a common mailbox name on many domains). On 1M records of the
# large simulated world the last_initial blocks of 26..200 records gave 25.7M of the 36M
# candidate pairs and 550 of the 1.11M true pairs that no other key found; email_local
# blocks of 51..200 gave 5.0M pairs and 1,585 such true pairs. Most of those still end up
# in one cluster through their other links: with these limits the candidate pairs fell from
# 36.1M to 10.8M there (medium world: 4.48M to 1.47M) and pairwise recall from 0.99169 to
# 0.99166 (medium: 0.99150 to 0.99144), precision unchanged.
BLOCK_LIMITS: dict[str, int] = {"last_initial": 25, "email_local": 50}


@dataclasses.dataclass(frozen=True)
class Config:
    threshold: float = 11.5          # bits; chosen on the seed-7 small+medium worlds (see benchmarks/resolve.py)
    max_block: int = 200             # blocks larger than this are skipped
    block_limits: dict[str, int] = dataclasses.field(default_factory=lambda: dict(BLOCK_LIMITS))  # per key, if tighter
    max_cluster: int = 50            # clusters are never grown beyond this
    max_names_per_key: int = MAX_NAMES_PER_KEY
    weights: dict[str, float] = dataclasses.field(default_factory=lambda: dict(WEIGHTS))


@dataclasses.dataclass
class Resolution:
    clusters: pl.DataFrame   # record_id, cluster_id (input order)
    links: pl.DataFrame      # links over the threshold: l, r (input row indices), score, rule, never_merge, accepted
    stats: dict
    prepared: pl.DataFrame | None = None  # STORE_COLUMNS of every record (id order): what prepare_for_store gives


# --------------------------------------------------------------------------- prepare
def _on_distinct(expr: pl.Expr, fn) -> pl.Expr:
    """``fn`` (Series -> Series, elementwise) evaluated once per distinct non-null value of
    ``expr`` and mapped back: names, companies and websites repeat a lot in person records."""
    def batch(s: pl.Series) -> pl.Series:
        u = s.drop_nulls().unique()
        if u.is_empty():
            return pl.Series(s.name, [None] * len(s), dtype=pl.Utf8)
        return s.replace_strict(u, fn(u), default=None, return_dtype=pl.Utf8)
    return expr.map_batches(batch, return_dtype=pl.Utf8)


def _series_fn(expr_fn):
    """A Series -> Series function from an expression builder (``pl.col('v')`` in, one column out)."""
    return lambda s: s.to_frame("v").select(expr_fn(pl.col("v"))).to_series()


def _full_first(full: pl.Expr) -> pl.Expr:
    """The first name of a full name: 'Last, First' or 'First [Middle] Last'."""
    full = nz.clean_text(full)
    parts = full.str.replace_all(r"[,\s]+", " ").str.strip_chars().str.split(" ")
    return pl.when(full.str.contains(",", literal=True)).then(parts.list.last()).otherwise(parts.list.first())


def _full_last(full: pl.Expr) -> pl.Expr:
    full = nz.clean_text(full)
    parts = full.str.replace_all(r"[,\s]+", " ").str.strip_chars().str.split(" ")
    return pl.when(full.str.contains(",", literal=True)).then(parts.list.first()).otherwise(
        pl.when(parts.list.len() > 1).then(parts.list.last()))


def _name_key_of(given: pl.Expr | None, full: pl.Expr | None, from_full) -> pl.Expr:
    """name_key(coalesce(given, part of full)), each name keyed once per distinct value."""
    key_given = _on_distinct(given, _series_fn(nz.name_key)) if given is not None else None
    key_full = _on_distinct(full, _series_fn(lambda v: nz.name_key(from_full(v)))) if full is not None else None
    if key_given is None:
        return key_full if key_full is not None else pl.lit(None, dtype=pl.Utf8)
    if key_full is None:
        return key_given
    return pl.when(given.is_not_null()).then(key_given).otherwise(key_full)


def _few_digits(phone: pl.Expr) -> pl.Expr:
    """An E.164 number whose national part (after +1 / +44) has at most two distinct
    characters: 555-555-5555, 000-000-0000 style fill."""
    national = phone.str.replace(r"^\+(1|44)", "")
    return (national.str.split("").list.n_unique() <= 2).fill_null(False)


def prepare(frame: pl.DataFrame, mapping: dict[str, str], id_column: str | None = None,
            max_names_per_key: int = MAX_NAMES_PER_KEY) -> pl.DataFrame:
    """One row per input row, in input order: ``rid`` (row index), ``record_id`` and the
    normalised roles. Names, cities, postcodes, streets and websites are normalised once
    per distinct value."""
    unknown = set(mapping) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}; roles are {ROLES}")
    missing = [c for c in mapping.values() if c not in frame.columns]
    if id_column is not None and id_column not in frame.columns:
        missing.append(id_column)
    if missing:
        raise ValueError(f"mapped columns not in the input: {missing}")

    def c(role: str) -> pl.Expr | None:
        return pl.col(mapping[role]).cast(pl.Utf8) if role in mapping else None

    def c_or_null(role: str) -> pl.Expr:  # an absent role is a full-height null column
        return c(role) if role in mapping else pl.repeat(None, pl.len(), dtype=pl.Utf8)

    distinct = lambda role, fn: _on_distinct(c(role), _series_fn(fn)) if role in mapping else pl.lit(None, dtype=pl.Utf8)  # noqa: E731
    site = (pl.coalesce(c("domain"), c("website")) if "domain" in mapping and "website" in mapping
            else c("domain") if "domain" in mapping else c("website"))
    base = frame.select(
        (pl.col(id_column).cast(pl.Utf8) if id_column else pl.int_range(pl.len()).cast(pl.Utf8)).alias("record_id"),
        _name_key_of(c("first_name"), c("full_name"), _full_first).alias("first"),
        _name_key_of(c("last_name"), c("full_name"), _full_last).alias("last"),
        nz.email(c_or_null("email")).alias("email_norm"),
        c_or_null("phone").alias("phone_raw"),
        nz.country_iso2(c_or_null("country")).alias("country"),
        nz.company_key(c_or_null("company")).alias("company"),
        (_on_distinct(site, _series_fn(nz.url_domain)) if site is not None else pl.lit(None, dtype=pl.Utf8)).alias("site_domain"),
        distinct("street", lambda v: nz.clean_text(v).str.to_lowercase()).alias("street"),
        distinct("city", nz.name_key).alias("city"),
        distinct("postcode", lambda v: v.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")).alias("postcode"),
        _date(frame, mapping).alias("birth_date"),
    ).with_row_index("rid")
    base = base.with_columns(
        nz.email_key(pl.col("email_norm")).alias("email_key"),
        nz.is_role_address(pl.col("email_norm")).fill_null(False).alias("is_role"),
        nz.email_domain(pl.col("email_norm")).alias("email_domain"),
        nz.phone_e164(pl.col("phone_raw"), pl.col("country")).alias("phone"),
        pl.col("first").replace_strict(NICK_TO_CANON, default=pl.col("first"), return_dtype=pl.Utf8).alias("first_canon"),
        pl.col("postcode").replace("", None),
    )
    free = nz.is_free_mail(pl.col("email_domain")).fill_null(False)
    base = base.with_columns(
        pl.coalesce(pl.col("site_domain"), pl.when(~free).then(pl.col("email_domain"))).alias("domain"),
        free.alias("is_free"),
    )
    # placeholders: the known dummies, and any value shared by too many surnames
    surname = pl.coalesce(pl.col("last"), pl.col("first"))
    junk_name = (pl.col("first").is_in(PLACEHOLDER_NAME_KEYS) | pl.col("last").is_in(PLACEHOLDER_NAME_KEYS)).fill_null(False)
    for f, l in PLACEHOLDER_FULL_NAMES:
        junk_name = junk_name | ((pl.col("first") == f) & (pl.col("last") == l)).fill_null(False)
    base = base.with_columns(junk_name.alias("is_placeholder_record"))
    email_names = pl.when(pl.col("email_key").is_not_null()).then(surname.n_unique().over("email_key"))
    phone_names = pl.when(pl.col("phone").is_not_null()).then(surname.n_unique().over("phone"))
    at = pl.col("email_key").str.find("@", literal=True)
    local = pl.col("email_key").str.slice(0, at)
    dom = pl.col("email_key").str.slice(at + 1)
    base = (
        base.with_columns(
            email_placeholder=(local.is_in(PLACEHOLDER_EMAIL_LOCALS) | dom.is_in(PLACEHOLDER_EMAIL_DOMAINS)
                               | (email_names > max_names_per_key)).fill_null(False),
            phone_placeholder=(pl.col("phone").is_in(PLACEHOLDER_PHONES) | _few_digits(pl.col("phone"))
                               | (phone_names > max_names_per_key)).fill_null(False),
        )
    )
    base = _with_link_keys(base)
    return base.select(
        "rid", "record_id", "first", "first_canon", "last", "email_key", "email_link", "email_local",
        "email_domain", "is_free", "is_role", "email_placeholder", "phone", "phone_link", "phone_placeholder",
        "company", "domain", "street", "city", "postcode", "country", "birth_date", "is_placeholder_record",
    )


def _with_link_keys(base: pl.DataFrame) -> pl.DataFrame:
    """``email_link``, ``phone_link`` and ``email_local`` from the keys and the placeholder
    flags: a placeholder value, a role address or a placeholder record is no identifier."""
    local = pl.col("email_key").str.slice(0, pl.col("email_key").str.find("@", literal=True))
    return (
        base.with_columns(
            pl.when(~pl.col("email_placeholder") & ~pl.col("is_role") & ~pl.col("is_placeholder_record"))
            .then(pl.col("email_key")).alias("email_link"),
            pl.when(~pl.col("phone_placeholder") & ~pl.col("is_placeholder_record")).then(pl.col("phone")).alias("phone_link"),
        )
        .with_columns(local.alias("email_local_all"))
        .with_columns(pl.when(pl.col("email_link").is_not_null()).then(pl.col("email_local_all")).alias("email_local"))
    )


def _date(frame: pl.DataFrame, mapping: dict[str, str]) -> pl.Expr:
    if "birth_date" not in mapping:
        return pl.lit(None, dtype=pl.Date)
    col = mapping["birth_date"]
    if frame.schema[col] in (pl.Date, pl.Datetime):
        return pl.col(col).cast(pl.Date)
    s = pl.col(col).cast(pl.Utf8).str.strip_chars()
    return pl.coalesce(s.str.to_date("%Y-%m-%d", strict=False), s.str.to_date("%m/%d/%Y", strict=False),
                       s.str.to_date("%d.%m.%Y", strict=False))


# --------------------------------------------------------------------------- SQL
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# The prepared columns the link stage reads (a narrow copy of the records in DuckDB).
LINK_COLUMNS = ("rid", "first", "first_canon", "last", "email_link", "email_local", "email_domain", "is_free",
                "phone_link", "company", "domain", "street", "city", "postcode", "country", "birth_date",
                "is_placeholder_record")

DETERMINISTIC_SQL = """
SELECT min(rid) OVER (PARTITION BY {key}) AS l, rid AS r, {rule} AS rule
FROM recs WHERE {key} IS NOT NULL
QUALIFY l < r
"""

# One row per (record, blocking key): k is the key's position in BLOCK_KEYS.
BLOCK_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE block_keys AS
SELECT rid, k, bkey FROM ({keys}) WHERE bkey IS NOT NULL
"""
BLOCK_KEY_SQL = "SELECT rid, CAST(? AS UTINYINT) AS k, ({expr}) AS bkey FROM {table} WHERE NOT is_placeholder_record"

BLOCKS_SQL = """
CREATE OR REPLACE TEMP TABLE blocks AS
SELECT k, bkey, count(*) AS n FROM block_keys GROUP BY k, bkey
"""

# Blocks that are used get a dense integer id; members are joined on it, not on the text key.
PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE pairs AS
WITH used AS (
    SELECT b.k, b.bkey, row_number() OVER () AS bid
    FROM blocks b JOIN block_limits lim USING (k) WHERE b.n BETWEEN 2 AND lim.max_n
), members AS (
    SELECT u.bid, bk.rid FROM block_keys bk JOIN used u USING (k, bkey)
)
SELECT DISTINCT a.rid AS l, b.rid AS r FROM members a JOIN members b ON a.bid = b.bid AND a.rid < b.rid
"""

BLOCK_STATS_SQL = """
SELECT count(*) FILTER (WHERE b.n > lim.max_n), coalesce(sum(b.n) FILTER (WHERE b.n > lim.max_n), 0)
FROM blocks b JOIN block_limits lim USING (k)
"""

# Fellegi-Sunter score of every candidate pair: the sum of the weights ($w_<level>, bound
# parameters) of each comparison's level; a missing value (either side null) weighs 0.
# In two steps: the levels decided by equality alone are summed for every pair, with the
# best possible weight in place of each similarity-graded comparison (first and last name,
# company); only the pairs whose bound reaches the threshold (about 1 in 8 on the large
# world) get the similarities, the exact score and the never-merge rules. Only pairs that
# link, or that a never-merge rule stops from linking, come back.
SCORE_SQL = """WITH j AS (
    SELECT p.l, p.r,
        a.first AS f1, b.first AS f2, a.first_canon AS fc1, b.first_canon AS fc2,
        a.last AS l1, b.last AS l2,
        a.email_link AS e1, b.email_link AS e2, a.email_local AS el1, b.email_local AS el2,
        a.email_domain AS ed1, b.email_domain AS ed2, a.is_free AS free1,
        a.phone_link AS p1, b.phone_link AS p2, a.company AS c1, b.company AS c2,
        a.domain AS d1, b.domain AS d2, a.postcode AS pc1, b.postcode AS pc2,
        a.city AS ci1, b.city AS ci2, a.street AS s1, b.street AS s2,
        a.country AS co1, b.country AS co2, a.birth_date AS bd1, b.birth_date AS bd2
    FROM pairs p JOIN recs a ON a.rid = p.l JOIN recs b ON b.rid = p.r
), cheap AS (
    SELECT *,
        CASE WHEN e1 IS NULL OR e2 IS NULL THEN 0.0 WHEN e1 = e2 THEN $w_email_same
             WHEN el1 = el2 THEN $w_email_local ELSE $w_email_diff END AS we,
        CASE WHEN p1 IS NULL OR p2 IS NULL THEN 0.0 WHEN p1 = p2 THEN $w_phone_same
             WHEN right(p1, 7) = right(p2, 7) THEN $w_phone_last7 ELSE $w_phone_diff END AS wp,
        CASE WHEN d1 IS NULL OR d2 IS NULL THEN 0.0 WHEN d1 = d2 THEN $w_domain_same ELSE $w_domain_diff END AS wd,
        CASE WHEN pc1 IS NULL OR pc2 IS NULL THEN 0.0 WHEN pc1 = pc2 THEN $w_postcode_same ELSE $w_postcode_diff END AS wpc,
        CASE WHEN ci1 IS NULL OR ci2 IS NULL THEN 0.0 WHEN ci1 = ci2 THEN $w_city_same ELSE $w_city_diff END AS wci,
        CASE WHEN s1 IS NULL OR s2 IS NULL THEN 0.0 WHEN s1 = s2 THEN $w_street_same ELSE $w_street_diff END AS ws,
        CASE WHEN co1 IS NULL OR co2 IS NULL OR co1 = co2 THEN 0.0 ELSE $w_country_diff END AS wco,
        CASE WHEN bd1 IS NULL OR bd2 IS NULL THEN 0.0 WHEN bd1 = bd2 THEN $w_dob_same ELSE $w_dob_diff END AS wb,
        CASE WHEN f1 IS NULL OR f2 IS NULL THEN 0.0 WHEN f1 = f2 THEN $w_first_exact ELSE $max_first END
        + CASE WHEN l1 IS NULL OR l2 IS NULL THEN 0.0 WHEN l1 = l2 THEN $w_last_exact ELSE $max_last END
        + CASE WHEN c1 IS NULL OR c2 IS NULL THEN 0.0 WHEN c1 = c2 THEN $w_company_exact ELSE $max_company END AS wmax
    FROM j
), hopeful AS (
    -- the bound (summed in another order than the score, hence the room for rounding)
    SELECT * FROM cheap WHERE we + wp + wd + wpc + wci + ws + wco + wb + wmax >= $threshold - 1e-9
), sim AS (
    SELECT *,
        CASE WHEN f1 <> f2 AND fc1 <> fc2 THEN jaro_winkler_similarity(f1, f2) END AS jf,
        CASE WHEN l1 <> l2 THEN jaro_winkler_similarity(l1, l2) END AS jl,
        CASE WHEN c1 <> c2 THEN jaro_winkler_similarity(c1, c2) END AS jc
    FROM hopeful
), scored AS (
    SELECT l, r,
        CASE WHEN f1 IS NULL OR f2 IS NULL THEN 0.0 WHEN f1 = f2 THEN $w_first_exact
             WHEN fc1 = fc2 THEN $w_first_nick
             WHEN jf >= 0.92 THEN $w_first_jw92
             WHEN jf >= 0.85 THEN $w_first_jw85
             WHEN (length(f1) = 1 OR length(f2) = 1) AND left(f1, 1) = left(f2, 1) THEN $w_first_initial
             ELSE $w_first_diff END
        + CASE WHEN l1 IS NULL OR l2 IS NULL THEN 0.0 WHEN l1 = l2 THEN $w_last_exact
             WHEN jl >= 0.92 THEN $w_last_jw92 WHEN jl >= 0.85 THEN $w_last_jw85 ELSE $w_last_diff END
        + we + wp
        + CASE WHEN c1 IS NULL OR c2 IS NULL THEN 0.0 WHEN c1 = c2 THEN $w_company_exact
             WHEN jc >= 0.90 THEN $w_company_jw90 ELSE $w_company_diff END
        + wd + wpc + wci + ws + wco + wb AS score,
        -- never-merge
        CASE WHEN bd1 IS NOT NULL AND bd2 IS NOT NULL AND bd1 <> bd2 THEN 'birth_date'
             WHEN e1 <> e2 AND ed1 = ed2 AND NOT free1 AND levenshtein(el1, el2) > 2 THEN 'two_mailboxes_one_domain'
             WHEN e1 <> e2 AND p1 <> p2 AND coalesce(jl, 1.0) < 0.92 THEN 'email_phone_surname'
        END AS never_merge
    FROM sim
)
SELECT l, r, score, never_merge FROM scored WHERE score >= $threshold
"""

# The levels of each similarity-graded comparison below its exact match: the best of them
# bounds that comparison's weight for a pair that is not an exact match.
GRADED_LEVELS = {
    "max_first": ("first_nick", "first_jw92", "first_jw85", "first_initial", "first_diff"),
    "max_last": ("last_jw92", "last_jw85", "last_diff"),
    "max_company": ("company_jw90", "company_diff"),
}


def _score_params(config: Config) -> dict[str, float]:
    params = {f"w_{level}": float(config.weights.get(level, 0.0)) for level in WEIGHTS}
    for name, levels in GRADED_LEVELS.items():
        params[name] = max(params[f"w_{level}"] for level in levels)
    params["threshold"] = float(config.threshold)
    return params


def _block_limits(config: Config) -> pl.DataFrame:
    keys = list(BLOCK_KEYS)
    return pl.DataFrame({"k": list(range(len(keys))),
                         "max_n": [min(config.max_block, config.block_limits.get(k, config.max_block)) for k in keys]},
                        schema={"k": pl.UInt8, "max_n": pl.Int64})


# --------------------------------------------------------------------------- resolve
def resolve(frame: pl.DataFrame, mapping: dict[str, str], id_column: str | None = None,
            config: Config = Config(), con: duckdb.DuckDBPyConnection | None = None) -> Resolution:
    """Resolve ``frame``'s records into clusters (see the module docstring).

    With ``id_column`` the result does not depend on the input's row order: records are
    processed in the order of their ids (then of their input position, for repeated ids),
    so ties between equal scores and the cluster ids are decided by the ids alone. Without
    it the ids are the row numbers (0, 1, ...) and a cluster is named by its first row.
    ``clusters`` is in input order; ``links``' ``l`` and ``r`` are input row indices."""
    t0 = time.perf_counter()
    if id_column is not None and id_column not in frame.columns:
        raise ValueError(f"id column not in the input: {id_column!r}")
    if id_column is None:  # the ids are the row numbers: the input order is their order
        order = pl.int_range(frame.height, eager=True, dtype=pl.UInt32)
        canonical = frame
    else:
        ids = frame.get_column(id_column).cast(pl.Utf8)
        order = pl.DataFrame({"id": ids}).with_row_index("i").sort(["id", "i"], nulls_last=True)["i"]
        used = [c for c in frame.columns if c in set(mapping.values()) or c == id_column]
        canonical = frame.select(pl.col(used).gather(order))
    recs = prepare(canonical, mapping, id_column, config.max_names_per_key)
    t_prep = time.perf_counter() - t0
    own = con is None
    con = con or duckdb.connect()
    try:
        links, stats = _links(con, recs, config)
    finally:
        if own:
            con.close()
    t_link = time.perf_counter() - t0 - t_prep
    n = recs.height
    dob = recs["birth_date"].cast(pl.Int32).to_numpy() if recs["birth_date"].null_count() < n else None
    accepted = links.filter(pl.col("never_merge").is_null() & (pl.col("score") >= config.threshold))
    root, accepted_mask, refusals = _cluster(n, accepted, dob, config.max_cluster)
    # a cluster's id is its smallest record id: records are in id order, so its first record's
    rep = np.full(n, n, dtype=np.int64)
    np.minimum.at(rep, root, np.arange(n, dtype=np.int64))
    canon_ids = recs["record_id"]
    cluster_ids = canon_ids.gather(rep[root])
    inverse = order.arg_sort()
    clusters = pl.DataFrame({"record_id": canon_ids, "cluster_id": cluster_ids}).select(pl.all().gather(inverse))
    order_np = order.to_numpy()
    out_links = accepted.with_columns(
        pl.Series("l", order_np[accepted["l"].to_numpy()], dtype=pl.UInt32),
        pl.Series("r", order_np[accepted["r"].to_numpy()], dtype=pl.UInt32),
        pl.Series("accepted", accepted_mask))
    t_cluster = time.perf_counter() - t0 - t_prep - t_link
    stats.update(refusals)
    stats.update(records=n, clusters=int(np.count_nonzero(rep < n)),
                 links_accepted=int(accepted_mask.sum()), seconds_prepare=round(t_prep, 3),
                 seconds_link=round(t_link, 3), seconds_cluster=round(t_cluster, 3),
                 seconds_total=round(time.perf_counter() - t0, 3))
    return Resolution(clusters=clusters, links=out_links, stats=stats, prepared=recs.select(STORE_COLUMNS))


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or []).pl()


def _register_table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register("_src", frame)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_q(name)} AS SELECT * FROM _src")
    finally:
        con.unregister("_src")


def _links(con: duckdb.DuckDBPyConnection, recs: pl.DataFrame, config: Config) -> tuple[pl.DataFrame, dict]:
    timings: dict[str, float] = {}
    t = time.perf_counter()
    _register_table(con, "recs", recs.select(LINK_COLUMNS))
    _register_table(con, "block_limits", _block_limits(config))
    timings["load"] = time.perf_counter() - t
    t = time.perf_counter()
    det = pl.concat([_fetch(con, DETERMINISTIC_SQL.format(key=_q(key), rule="?"), [rule])
                     for key, rule in (("email_link", "email"), ("phone_link", "phone"))])
    timings["deterministic"] = time.perf_counter() - t
    t = time.perf_counter()
    keys = " UNION ALL ".join(BLOCK_KEY_SQL.format(expr=expr, table="recs") for expr in BLOCK_KEYS.values())
    con.execute(BLOCK_KEYS_SQL.format(keys=keys), list(range(len(BLOCK_KEYS))))
    con.execute(BLOCKS_SQL)
    skipped, skipped_records = con.execute(BLOCK_STATS_SQL).fetchall()[0]
    con.execute(PAIRS_SQL)
    candidates = con.execute("SELECT count(*) FROM pairs").fetchall()[0][0]
    con.execute("DROP TABLE block_keys; DROP TABLE blocks")
    timings["blocking"] = time.perf_counter() - t
    t = time.perf_counter()
    scored = _fetch(con, SCORE_SQL, _score_params(config))
    con.execute("DROP TABLE pairs")
    timings["score"] = time.perf_counter() - t
    n = recs.height
    total = n * (n - 1) / 2
    links, stats = _combine_links(det, scored, recs, candidates, skipped, skipped_records, timings)
    stats["reduction_ratio"] = 1.0 - candidates / total if total else 1.0
    return links, stats


def _combine_links(det: pl.DataFrame, scored: pl.DataFrame, recs: pl.DataFrame, candidates: int, skipped: int,
                   skipped_records: int, timings: dict[str, float]) -> tuple[pl.DataFrame, dict]:
    """Deterministic and scored links in one frame (l, r, score, never_merge, rule), and the
    link stage's figures; ``recs`` are the records whose placeholders are counted."""
    fuzzy = scored.select(pl.col("l").cast(pl.Int64), pl.col("r").cast(pl.Int64), "score", "never_merge",
                          pl.lit("fuzzy").alias("rule"))
    det_links = det.select(pl.col("l").cast(pl.Int64), pl.col("r").cast(pl.Int64),
                           pl.lit(DETERMINISTIC_SCORE).alias("score"), pl.lit(None, dtype=pl.Utf8).alias("never_merge"),
                           "rule")
    links = pl.concat([det_links.cast(fuzzy.schema), fuzzy])
    stats = {
        "candidate_pairs": int(candidates),
        "deterministic_links": det_links.height,
        "blocks_skipped": int(skipped), "records_in_skipped_blocks": int(skipped_records),
        "never_merge_pairs": int(scored["never_merge"].is_not_null().sum()),
        "placeholder_emails": int(recs.filter(pl.col("email_placeholder"))["email_key"].n_unique()),
        "placeholder_phones": int(recs.filter(pl.col("phone_placeholder"))["phone"].n_unique()),
        **{f"seconds_link_{k}": round(v, 3) for k, v in timings.items()},
    }
    return links, stats


# --------------------------------------------------------------------------- clustering
def _union_find(n: int, ls: list[int], rs: list[int], bdate: list[int] | None, cap: int,
                missing: int) -> tuple[list[int], list[bool], int, int]:
    """The sequential rule, over links already in processing order: a union is refused when
    the merged cluster would exceed ``cap`` or the two clusters carry different birth dates."""
    p = list(range(n))
    sz = [1] * n
    bd = list(bdate) if bdate is not None else None
    ok = [False] * len(ls)
    cap_refusals = dob_refusals = 0

    def find(x: int) -> int:
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    for i, (a, b) in enumerate(zip(ls, rs)):
        ra, rb = find(a), find(b)
        if ra == rb:
            ok[i] = True
            continue
        if sz[ra] + sz[rb] > cap:
            cap_refusals += 1
            continue
        if bd is not None and bd[ra] != missing and bd[rb] != missing and bd[ra] != bd[rb]:
            dob_refusals += 1
            continue
        if sz[ra] < sz[rb]:
            ra, rb = rb, ra
        p[rb] = ra
        sz[ra] += sz[rb]
        if bd is not None and bd[ra] == missing:
            bd[ra] = bd[rb]
        ok[i] = True
    return [find(x) for x in range(n)], ok, cap_refusals, dob_refusals


_MISSING_DOB = np.iinfo(np.int64).min


def _dob_codes(dob: np.ndarray | None) -> np.ndarray | None:
    if dob is None:
        return None
    return np.where(np.isnan(dob.astype(float)), _MISSING_DOB, dob).astype(np.int64)


def _link_order(links: pl.DataFrame) -> np.ndarray:
    """Positions of ``links`` in processing order: strongest first, ties by (l, r)."""
    return links.with_row_index("i").sort(["score", "l", "r"], descending=[True, False, False])["i"].to_numpy()


def _cluster_reference(n: int, links: pl.DataFrame, dob: np.ndarray | None, cap: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Kruskal-style union-find over every link, strongest first (ties by l, r): the
    definition that ``_cluster`` computes faster. Returns the root of each record, which
    links were used or already implied, and refusal counts."""
    idx = _link_order(links)
    ls, rs = links["l"].to_numpy()[idx], links["r"].to_numpy()[idx]
    bdate = _dob_codes(dob)
    roots, ok_sorted, cap_refusals, dob_refusals = _union_find(
        n, ls.tolist(), rs.tolist(), bdate.tolist() if bdate is not None else None, cap, _MISSING_DOB)
    ok = np.zeros(links.height, dtype=bool)
    ok[idx] = ok_sorted
    return np.asarray(roots, dtype=np.int64), ok, {"cap_refusals": cap_refusals, "birth_date_refusals": dob_refusals}


def _components(n: int, ls: np.ndarray, rs: np.ndarray) -> np.ndarray:
    """Connected components of an undirected graph: each node's label is the smallest node
    of its component. Hooking and pointer jumping in numpy: every round hooks each root that
    has an edge to a smaller root onto the smallest such root, then flattens the trees."""
    parent = np.arange(n, dtype=np.int64)
    a, b = ls.astype(np.int64), rs.astype(np.int64)
    while a.size:
        pa, pb = parent[a], parent[b]
        cross = pa != pb
        if not cross.any():
            break
        a, b, pa, pb = a[cross], b[cross], pa[cross], pb[cross]
        np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def _cluster(n: int, links: pl.DataFrame, dob: np.ndarray | None, cap: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The same result as ``_cluster_reference``, vectorised.

    Components are independent: a link only ever joins clusters inside its own connected
    component. In a component of at most ``cap`` records with at most one distinct birth
    date no union can be refused, so the sequential rule ends with the whole component as
    one cluster and every link used. Those components are found with vectorised connected
    components; only the links of the others (too big, or with conflicting birth dates) go
    through the sequential rule, in the same order."""
    ls, rs = links["l"].to_numpy().astype(np.int64), links["r"].to_numpy().astype(np.int64)
    comp = _components(n, ls, rs)
    size = np.bincount(comp, minlength=n)
    hard = size > cap
    bdate = _dob_codes(dob)
    if bdate is not None:
        known = bdate != _MISSING_DOB
        pairs = np.unique(np.stack([comp[known], bdate[known]]), axis=1)
        kinds = np.bincount(pairs[0], minlength=n) if pairs.size else np.zeros(n, dtype=np.int64)
        hard |= kinds > 1
    ok = np.ones(links.height, dtype=bool)
    roots = comp
    cap_refusals = dob_refusals = 0
    hard_links = hard[comp[ls]] if links.height else np.zeros(0, dtype=bool)
    if hard_links.any():
        sub = links.filter(pl.Series(hard_links))
        nodes = np.flatnonzero(hard[comp])  # every record of a hard component, ascending
        local = lambda x: np.searchsorted(nodes, x)  # noqa: E731
        sub_local = sub.with_columns(pl.Series("l", local(sub["l"].to_numpy())), pl.Series("r", local(sub["r"].to_numpy())))
        sub_dob = None if dob is None else dob[nodes]
        sub_roots, sub_ok, counts = _cluster_reference(len(nodes), sub_local, sub_dob, cap)
        roots = comp.copy()
        roots[nodes] = nodes[sub_roots]
        ok[np.flatnonzero(hard_links)] = sub_ok
        cap_refusals, dob_refusals = counts["cap_refusals"], counts["birth_date_refusals"]
    return roots, ok, {"cap_refusals": cap_refusals, "birth_date_refusals": dob_refusals}


# --------------------------------------------------------------------------- incremental
# What a caller stores per resolved record (``prepare_for_store``), and what
# ``resolve_increment`` reads of it: the link columns, the keys the placeholder counts use,
# and the record's person.
STORE_COLUMNS = (
    "record_id", "first", "first_canon", "last", "email_key", "email_link", "email_local", "email_domain", "is_free",
    "is_role", "email_placeholder", "phone", "phone_link", "phone_placeholder", "company", "domain", "street", "city",
    "postcode", "country", "birth_date", "is_placeholder_record",
)
EXISTING_COLUMNS = (*(c for c in LINK_COLUMNS if c != "rid"), "record_id", "email_key", "phone", "person_id",
                    "person_first_seen")

INC_NEW_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE inc_new_keys AS
SELECT rid, k, bkey FROM ({keys}) WHERE bkey IS NOT NULL
"""
# Only the existing records' keys that some new record carries: the others make no pair.
INC_OLD_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE inc_old_keys AS
SELECT x.rid, x.k, x.bkey FROM ({keys}) x
SEMI JOIN (SELECT DISTINCT k, bkey FROM inc_new_keys) n ON x.k = n.k AND x.bkey = n.bkey
"""
# Block sizes over existing + new, for the blocks that hold a new record.
INC_BLOCKS_SQL = """
CREATE OR REPLACE TEMP TABLE inc_blocks AS
SELECT k, bkey, count(*) AS n FROM (SELECT k, bkey FROM inc_new_keys UNION ALL SELECT k, bkey FROM inc_old_keys)
GROUP BY k, bkey
"""
INC_BLOCK_STATS_SQL = BLOCK_STATS_SQL.replace("FROM blocks b", "FROM inc_blocks b")
# Pairs with at least one new record: new-new (l < r) and new-existing (new rids are all
# below the existing ones, so l < r there too).
INC_PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE pairs AS
WITH used AS (
    SELECT b.k, b.bkey, row_number() OVER () AS bid
    FROM inc_blocks b JOIN block_limits lim USING (k) WHERE b.n BETWEEN 2 AND lim.max_n
), nm AS (
    SELECT u.bid, x.rid FROM inc_new_keys x JOIN used u USING (k, bkey)
), om AS (
    SELECT u.bid, x.rid FROM inc_old_keys x JOIN used u USING (k, bkey)
)
SELECT a.rid AS l, b.rid AS r FROM nm a JOIN nm b ON a.bid = b.bid AND a.rid < b.rid
UNION
SELECT a.rid AS l, b.rid AS r FROM nm a JOIN om b ON a.bid = b.bid
"""
# Deterministic links as in ``resolve``: each group of records (existing + new) sharing a
# value is a star on its smallest record id; only the rays with a new end are kept.
INC_DETERMINISTIC_SQL = """
WITH g AS (
    SELECT rid, record_id, {key} AS v, TRUE AS is_new FROM inc_new WHERE {key} IS NOT NULL
    UNION ALL
    SELECT rid, record_id, {key} AS v, FALSE AS is_new FROM inc_old
    WHERE {key} IN (SELECT {key} FROM inc_new WHERE {key} IS NOT NULL)
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY v ORDER BY record_id, rid) AS pos FROM g
), centre AS (
    SELECT v, rid AS c, is_new AS c_new FROM ranked WHERE pos = 1
)
SELECT least(c, rid) AS l, greatest(c, rid) AS r, {rule} AS rule
FROM ranked JOIN centre USING (v) WHERE pos > 1 AND (is_new OR c_new)
"""
INC_RECS_SQL = """
CREATE OR REPLACE TEMP TABLE recs AS
SELECT {cols} FROM inc_new
UNION ALL
SELECT {cols} FROM inc_old WHERE rid IN (SELECT DISTINCT r FROM pairs)
"""


@dataclasses.dataclass
class Increment:
    # record_id, person_id (null: joins no existing person), cluster_id (for those: the smallest
    # new record id of its new cluster, else null); in ``new``'s row order
    assignments: pl.DataFrame
    merges: pl.DataFrame       # absorbed_person_id, into_person_id (the final survivor), via_record_id, score, rule
    stats: dict


def prepare_for_store(frame: pl.DataFrame, mapping: dict[str, str], id_column: str,
                      config: Config = Config()) -> pl.DataFrame:
    """The normalised columns to store for each resolved record (``STORE_COLUMNS``: what
    ``prepare`` gives, without the row index), in input order. The caller adds ``person_id``
    and ``person_first_seen`` and passes the stored rows to ``resolve_increment`` as
    ``existing``: history is normalised once, never again. The placeholder flags stored are
    those of the batch prepared; ``resolve_increment`` recounts the values new records carry."""
    return prepare(frame, mapping, id_column, config.max_names_per_key).select(STORE_COLUMNS)


def _recount_placeholders(new: pl.DataFrame, existing: pl.DataFrame, max_names: int) -> pl.DataFrame:
    """``new`` (prepared) with its email / phone placeholder flags, and so its link keys,
    recomputed from the distinct surnames over existing + new records of each value it
    carries: a value that becomes a placeholder only with today's records does not link them."""
    surname = pl.coalesce(pl.col("last"), pl.col("first")).alias("surname")
    out = new
    for key, flag in (("email_key", "email_placeholder"), ("phone", "phone_placeholder")):
        values = out.get_column(key).drop_nulls().unique()
        if values.is_empty():
            continue
        old = existing.filter(pl.col(key).is_in(values.implode())).select(key, surname)
        names = (pl.concat([old, out.select(key, surname)]).filter(pl.col(key).is_not_null())
                 .group_by(key).agg(pl.col("surname").n_unique().alias("_names")))
        out = (out.join(names, on=key, how="left", maintain_order="left")
               .with_columns((pl.col(flag) | (pl.col("_names") > max_names).fill_null(False)).alias(flag))
               .drop("_names"))
    return _with_link_keys(out.drop("email_link", "phone_link", "email_local")).select(new.columns)


def resolve_increment(existing: pl.DataFrame, new: pl.DataFrame, mapping: dict[str, str], id_column: str,
                      config: Config = Config(), con: duckdb.DuckDBPyConnection | None = None) -> Increment:
    """Attach a new day's records to the persons already resolved, without re-resolving
    history and without renumbering.

    ``existing``: the stored records of the persons resolved so far, as ``prepare_for_store``
    gives them (any extra column, ``rid`` included, is ignored), with ``person_id`` and
    ``person_first_seen`` (the person's earliest record time). Record ids are expected to be
    unique across ``existing``; a new record id already there is refused. ``new``: raw records
    with the ``mapping``'s columns and ``id_column``, like ``resolve``'s input.

    The same rules as ``resolve``, restricted to pairs with at least one new record:
    - placeholders: an email key / phone the new records carry is a placeholder when more
      than ``max_names_per_key`` distinct surnames carry it over existing + new. Links that
      history already made on a value that becomes a placeholder now are NOT undone (no
      re-resolution); the value only stops linking new records;
    - deterministic links: a new record sharing an email / phone link key with any existing
      or new record (each group a star on its smallest record id, as in ``resolve``);
    - fuzzy links: the same BLOCK_KEYS and limits, block sizes counted over existing + new;
      the same SCORE_SQL, weights, threshold and never-merge rules.
    Clustering: Kruskal-style union-find, strongest link first (ties by the two record ids,
    then the rule), over nodes = each existing person touched (its size = its record count;
    its birth date = its records' earliest, which ``resolve`` keeps unique) and each new
    record. A union is refused when the merged size would exceed ``max_cluster``
    (``stats['cap_refusals']``: alert on it) or two different birth dates would meet
    (``birth_date_refusals``); a person already over the cap takes no new record. A union of two existing persons is a merge: the person with the
    earliest ``person_first_seen`` (nulls last, then the smallest person_id) survives, the other
    is recorded in ``merges`` with the new record whose link joined them (for a link between
    two new records, the smaller id), the link's score and rule, and ``into_person_id`` = the
    final survivor (chains are flattened). Existing persons are never split or renumbered, so
    a merge only ever adds records to a person: suppression (the OR over a person's records)
    can only grow. ``assignments``: each new record's person, or (person_id null) the new
    cluster it starts, named by its smallest new record id. The same inputs in any row order
    give the same output (up to ``assignments``' row order, which is ``new``'s)."""
    t0 = time.perf_counter()
    if id_column not in new.columns:
        raise ValueError(f"id column not in the input: {id_column!r}")
    missing = [c for c in EXISTING_COLUMNS if c not in existing.columns]
    if missing:
        raise ValueError(f"existing records lack columns: {missing}")
    if existing.get_column("person_id").null_count():
        raise ValueError("existing records without a person_id")
    ids = new.get_column(id_column).cast(pl.Utf8)
    order = pl.DataFrame({"id": ids}).with_row_index("i").sort(["id", "i"], nulls_last=True)["i"]
    used = [c for c in new.columns if c in set(mapping.values()) or c == id_column]
    fresh = prepare(new.select(pl.col(used).gather(order)), mapping, id_column, config.max_names_per_key)
    n = fresh.height
    schema = fresh.schema
    old = existing.select([pl.col(c).cast(schema[c]) for c in EXISTING_COLUMNS if c in schema]
                          + [pl.col("person_id").cast(pl.Utf8), "person_first_seen"])
    new_ids = fresh.get_column("record_id").drop_nulls().unique()
    clash = int(old.get_column("record_id").is_in(new_ids.implode()).sum())
    if clash:
        raise ValueError(f"{clash} new record ids are already among the existing records")
    fresh = _recount_placeholders(fresh, old, config.max_names_per_key)
    fresh = fresh.with_columns(pl.col("rid").cast(pl.Int64))
    t_prep = time.perf_counter() - t0

    own = con is None
    con = con or duckdb.connect()
    try:
        links, stats = _increment_links(con, fresh, old, config)
    finally:
        if own:
            con.close()
    t_link = time.perf_counter() - t0 - t_prep

    accepted = links.filter(pl.col("never_merge").is_null() & (pl.col("score") >= config.threshold))
    assignments, merges, counts = _cluster_increment(fresh, old, accepted, config.max_cluster)
    inverse = order.arg_sort()
    assignments = assignments.select(pl.all().gather(inverse))
    t_cluster = time.perf_counter() - t0 - t_prep - t_link
    stats.update(counts)
    stats.update(records_new=n, existing_records=old.height,
                 attached=int(assignments["person_id"].is_not_null().sum()),
                 new_clusters=int(assignments["cluster_id"].drop_nulls().n_unique()), merges=merges.height,
                 seconds_prepare=round(t_prep, 3), seconds_link=round(t_link, 3),
                 seconds_cluster=round(t_cluster, 3), seconds_total=round(time.perf_counter() - t0, 3))
    return Increment(assignments=assignments, merges=merges, stats=stats)


def _increment_links(con: duckdb.DuckDBPyConnection, fresh: pl.DataFrame, old: pl.DataFrame,
                     config: Config) -> tuple[pl.DataFrame, dict]:
    """Links (l, r, score, rule, never_merge) of the pairs with a new record. rid: new
    records 0..n-1 (id order), existing record i of ``old`` n + i."""
    n = fresh.height
    timings: dict[str, float] = {}
    t = time.perf_counter()
    cols = [c for c in LINK_COLUMNS if c != "rid"]
    con.register("inc_new", fresh.select("rid", "record_id", *cols))
    con.register("inc_old", old.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + n).alias("rid"), "record_id", *cols))
    _register_table(con, "block_limits", _block_limits(config))
    timings["load"] = time.perf_counter() - t
    try:
        t = time.perf_counter()
        det = pl.concat([_fetch(con, INC_DETERMINISTIC_SQL.format(key=_q(key), rule="?"), [rule])
                         for key, rule in (("email_link", "email"), ("phone_link", "phone"))])
        timings["deterministic"] = time.perf_counter() - t
        t = time.perf_counter()
        positions = list(range(len(BLOCK_KEYS)))
        keys_new = " UNION ALL ".join(BLOCK_KEY_SQL.format(expr=e, table="inc_new") for e in BLOCK_KEYS.values())
        keys_old = " UNION ALL ".join(BLOCK_KEY_SQL.format(expr=e, table="inc_old") for e in BLOCK_KEYS.values())
        con.execute(INC_NEW_KEYS_SQL.format(keys=keys_new), positions)
        con.execute(INC_OLD_KEYS_SQL.format(keys=keys_old), positions)
        con.execute(INC_BLOCKS_SQL)
        skipped, skipped_records = con.execute(INC_BLOCK_STATS_SQL).fetchall()[0]
        con.execute(INC_PAIRS_SQL)
        candidates, old_compared = con.execute(
            "SELECT count(*), count(DISTINCT r) FILTER (WHERE r >= ?) FROM pairs", [n]).fetchall()[0]
        con.execute(INC_RECS_SQL.format(cols=", ".join(_q(c) for c in LINK_COLUMNS)))
        timings["blocking"] = time.perf_counter() - t
        t = time.perf_counter()
        scored = _fetch(con, SCORE_SQL, _score_params(config))
        timings["score"] = time.perf_counter() - t
    finally:
        con.execute("DROP TABLE IF EXISTS inc_new_keys; DROP TABLE IF EXISTS inc_old_keys; "
                    "DROP TABLE IF EXISTS inc_blocks; DROP TABLE IF EXISTS pairs; DROP TABLE IF EXISTS recs")
        con.unregister("inc_new")
        con.unregister("inc_old")
    links, stats = _combine_links(det, scored, fresh, candidates, skipped, skipped_records, timings)
    stats["existing_records_compared"] = int(old_compared)
    return links, stats


MERGE_SCHEMA = {"absorbed_person_id": pl.Utf8, "into_person_id": pl.Utf8, "via_record_id": pl.Utf8,
                "score": pl.Float64, "rule": pl.Utf8}


def _cluster_increment(fresh: pl.DataFrame, old: pl.DataFrame, links: pl.DataFrame,
                       cap: int) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Union-find over existing persons and new records (see ``resolve_increment``)."""
    n = fresh.height
    new_ids = fresh.get_column("record_id").to_list()
    old_rids = np.unique(np.concatenate([links["l"].to_numpy(), links["r"].to_numpy()]))
    old_rids = old_rids[old_rids >= n]
    touched = old.select(pl.col("record_id", "person_id").gather(pl.Series(old_rids - n, dtype=pl.Int64)))
    rec_of_old = dict(zip(old_rids.tolist(), touched["record_id"].to_list()))
    person_of_old = dict(zip(old_rids.tolist(), touched["person_id"].to_list()))
    persons = (old.filter(pl.col("person_id").is_in(touched["person_id"].unique().implode()))
               .group_by("person_id").agg(pl.len().alias("size"), pl.col("birth_date").min().alias("dob"),
                                          pl.col("person_first_seen").min().alias("first_seen"))
               .sort("person_id"))
    p = persons.height
    pids = persons["person_id"].to_list()
    node_of_person = {pid: i for i, pid in enumerate(pids)}
    # survivorship order: earliest first_seen (nulls last), then the smallest person_id
    rank = persons.with_row_index("node").sort(["first_seen", "person_id"], nulls_last=True)["node"].to_list()
    person_rank = [0] * p
    for pos, node in enumerate(rank):
        person_rank[node] = pos

    total = p + n
    parent = list(range(total))
    size = persons["size"].to_list() + [1] * n
    missing = None
    dob = persons["dob"].to_list() + fresh["birth_date"].to_list()
    best: list[int | None] = list(range(p)) + [None] * n  # a root's surviving person node

    def node(rid: int) -> int:
        return p + rid if rid < n else node_of_person[person_of_old[rid]]

    def rec(rid: int) -> str:
        return new_ids[rid] if rid < n else rec_of_old[rid]

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    ordered = (links.with_columns(
        pl.Series("id_l", [rec(x) for x in links["l"].to_list()], dtype=pl.Utf8),
        pl.Series("id_r", [rec(x) for x in links["r"].to_list()], dtype=pl.Utf8))
        .with_columns(pl.min_horizontal("id_l", "id_r").alias("lo"), pl.max_horizontal("id_l", "id_r").alias("hi"))
        .sort(["score", "lo", "hi", "rule", "l", "r"], descending=[True, False, False, False, False, False]))
    merges = []
    used = cap_refusals = dob_refusals = 0
    for l, r, score, rule in ordered.select("l", "r", "score", "rule").iter_rows():
        ra, rb = find(node(l)), find(node(r))
        if ra == rb:
            used += 1
            continue
        if size[ra] + size[rb] > cap:
            cap_refusals += 1
            continue
        if dob[ra] is not missing and dob[rb] is not missing and dob[ra] != dob[rb]:
            dob_refusals += 1
            continue
        pa, pb = best[ra], best[rb]
        if pa is not None and pb is not None:
            survivor, absorbed = (pa, pb) if person_rank[pa] < person_rank[pb] else (pb, pa)
            via = min(rec(x) for x in (l, r) if x < n)
            merges.append((absorbed, via, score, rule))
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        if dob[ra] is missing:
            dob[ra] = dob[rb]
        if pa is None or pb is None:
            best[ra] = pa if pb is None else pb
        else:
            best[ra] = pa if person_rank[pa] < person_rank[pb] else pb
        used += 1

    person_id: list[str | None] = []
    cluster_id: list[str | None] = []
    first_new: dict[int, str] = {}
    for rid in range(n):  # id order: a new cluster's first record is its smallest id
        root = find(p + rid)
        if best[root] is not None:
            person_id.append(pids[best[root]])
            cluster_id.append(None)
        else:
            person_id.append(None)
            cluster_id.append(first_new.setdefault(root, new_ids[rid]))
    assignments = pl.DataFrame({"record_id": new_ids, "person_id": person_id, "cluster_id": cluster_id},
                               schema={"record_id": pl.Utf8, "person_id": pl.Utf8, "cluster_id": pl.Utf8})
    merge_rows = [(pids[a], pids[best[find(a)]], via, float(score), rule) for a, via, score, rule in merges]
    merge_frame = pl.DataFrame(merge_rows, schema=MERGE_SCHEMA, orient="row").sort("absorbed_person_id")
    counts = {"links_accepted": used, "cap_refusals": cap_refusals, "birth_date_refusals": dob_refusals,
              "persons_touched": p}
    return assignments, merge_frame, counts


# --------------------------------------------------------------------------- evaluate
def evaluate(pred_cluster: Sequence | pl.Series, true_cluster: Sequence | pl.Series) -> dict:
    """Pairwise and B-cubed precision / recall / F1 of a clustering against the truth.
    A null true id is a singleton. Counts come from the contingency table (no pairs)."""
    df = pl.DataFrame({"p": pl.Series(list(pred_cluster) if not isinstance(pred_cluster, pl.Series) else pred_cluster).cast(pl.Utf8),
                       "t": pl.Series(list(true_cluster) if not isinstance(true_cluster, pl.Series) else true_cluster).cast(pl.Utf8)})
    df = df.with_row_index("i").with_columns(
        pl.coalesce(pl.col("t"), pl.lit("\x00null:") + pl.col("i").cast(pl.Utf8)).alias("t"),
        pl.coalesce(pl.col("p"), pl.lit("\x00null:") + pl.col("i").cast(pl.Utf8)).alias("p"))
    n = df.height
    cell = df.group_by("p", "t").agg(pl.len().alias("n")).with_columns(pl.col("n").cast(pl.Float64))
    psize = df.group_by("p").agg(pl.len().cast(pl.Float64).alias("np"))
    tsize = df.group_by("t").agg(pl.len().cast(pl.Float64).alias("nt"))
    c2 = lambda e: e * (e - 1) / 2  # noqa: E731
    tp = cell.select(c2(pl.col("n")).sum()).item()
    pred_pairs = psize.select(c2(pl.col("np")).sum()).item()
    true_pairs = tsize.select(c2(pl.col("nt")).sum()).item()
    cell = cell.join(psize, on="p").join(tsize, on="t")
    b_p = cell.select((pl.col("n") ** 2 / pl.col("np")).sum()).item() / n if n else 1.0
    b_r = cell.select((pl.col("n") ** 2 / pl.col("nt")).sum()).item() / n if n else 1.0
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    f = lambda a, b: 2 * a * b / (a + b) if a + b else 0.0  # noqa: E731
    return {"pairwise_precision": p, "pairwise_recall": r, "pairwise_f1": f(p, r),
            "bcubed_precision": b_p, "bcubed_recall": b_r, "bcubed_f1": f(b_p, b_r),
            "true_pairs": int(true_pairs), "predicted_pairs": int(pred_pairs), "true_positive_pairs": int(tp)}
