"""Person resolution on any person records: deterministic links, blocking, Fellegi–Sunter
scoring, never-merge rules and capped clustering. Pure: polars + DuckDB, no Dagster, no I/O.

Pipeline (``resolve``):

1. ``prepare`` maps the caller's columns to ROLES and normalises each present role with
   ``normalize`` (a role that is absent is a null column, and a null never agrees or
   disagrees: its comparison weight is 0).
2. Placeholders: an email key or phone that is a known dummy (``identity`` lists) or is
   shared by more than ``max_names_per_key`` distinct surnames is treated as missing
   everywhere. Role addresses (info@, sales@ ...) are treated as missing too.
3. Deterministic links: records sharing a non-placeholder email key or E.164 phone.
   Each group is linked as a star to its smallest record (no n² pairs).
4. Blocking: BLOCK_KEYS below; blocks larger than ``max_block`` are skipped (counted in
   the stats). Candidate pairs = distinct (l < r) pairs sharing a block.
5. Scoring in DuckDB: the sum of the WEIGHTS (log2 m/u, fixed by hand, no training) of
   each comparison's level. A pair links when its score >= ``threshold`` and no NEVER-MERGE
   rule fires.
6. Clustering: Kruskal-style union-find over links in descending score order (ties by
   record ids, so the result is deterministic). A union is refused when (a) the merged
   cluster would exceed ``max_cluster`` records (so the weakest links of a would-be hub are
   the ones dropped; each refusal is counted in ``stats["cap_refusals"]`` for alerting), or
   (b) the two clusters carry different birth dates (never-merge at cluster level).
   ``cluster_id`` = the smallest record id of the cluster.

NEVER-MERGE (pair level; applies to fuzzy links; rule (a) also to whole clusters):
  a. birth dates both known and different;
  b. two different mailboxes on the same non-free domain whose local parts differ by more
     than 2 edits (two colleagues at one company, not one person's typo);
  c. emails both known and different AND phones both known and different AND surnames
     not similar (jaro-winkler < 0.92).
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
PLACEHOLDER_NAME_KEYS = ("test", "tester", "user", "asdf", "qwerty", "xxx", "abc", "none", "na", "null", "fake",
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


@dataclasses.dataclass(frozen=True)
class Config:
    threshold: float = 11.5          # bits; chosen on the seed-7 small+medium worlds (see benchmarks/resolve.py)
    max_block: int = 200             # blocks larger than this are skipped
    max_cluster: int = 50            # clusters are never grown beyond this
    max_names_per_key: int = MAX_NAMES_PER_KEY
    weights: dict[str, float] = dataclasses.field(default_factory=lambda: dict(WEIGHTS))


@dataclasses.dataclass
class Resolution:
    clusters: pl.DataFrame   # record_id, cluster_id (input order)
    links: pl.DataFrame      # l, r (row indices), score, rule, accepted
    stats: dict


# --------------------------------------------------------------------------- prepare
def _col(frame: pl.DataFrame, mapping: dict[str, str], role: str) -> pl.Expr:
    return pl.col("\x00" + role)


def prepare(frame: pl.DataFrame, mapping: dict[str, str], id_column: str | None = None,
            max_names_per_key: int = MAX_NAMES_PER_KEY) -> pl.DataFrame:
    """One row per input row: ``rid`` (row index), ``record_id`` and the normalised roles."""
    unknown = set(mapping) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}; roles are {ROLES}")
    missing = [c for c in mapping.values() if c not in frame.columns]
    if missing:
        raise ValueError(f"mapped columns not in the input: {missing}")
    # every role as a full-height text column (an absent role all null), under private names
    frame = frame.with_columns(
        *[(pl.col(mapping[r]).cast(pl.Utf8) if r in mapping else pl.lit(None, dtype=pl.Utf8)).alias("\x00" + r)
          for r in ROLES if r != "birth_date"])
    c = lambda role: _col(frame, mapping, role)  # noqa: E731
    full = nz.clean_text(c("full_name"))
    # 'Last, First' or 'First [Middle] Last'
    comma = full.str.contains(",", literal=True)
    parts = full.str.replace_all(r"[,\s]+", " ").str.strip_chars().str.split(" ")
    full_first = pl.when(comma).then(parts.list.last()).otherwise(parts.list.first())
    full_last = pl.when(comma).then(parts.list.first()).otherwise(
        pl.when(parts.list.len() > 1).then(parts.list.last()))
    has_split = ("first_name" in mapping) or ("last_name" in mapping)
    first_raw = pl.coalesce(c("first_name"), full_first) if has_split else full_first
    last_raw = pl.coalesce(c("last_name"), full_last) if has_split else full_last

    base = frame.select(
        (pl.col(id_column).cast(pl.Utf8) if id_column else pl.int_range(pl.len()).cast(pl.Utf8)).alias("record_id"),
        nz.name_key(first_raw).alias("first"),
        nz.name_key(last_raw).alias("last"),
        nz.email(c("email")).alias("email_norm"),
        c("phone").alias("phone_raw"),
        nz.country_iso2(c("country")).alias("country"),
        nz.company_key(c("company")).alias("company"),
        nz.url_domain(pl.coalesce(c("domain"), c("website"))).alias("site_domain"),
        nz.clean_text(c("street")).str.to_lowercase().alias("street"),
        nz.name_key(c("city")).alias("city"),
        c("postcode").str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "").alias("postcode"),
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
    email_names = base.group_by("email_key").agg(surname.n_unique().alias("n")).filter(pl.col("email_key").is_not_null())
    phone_names = base.group_by("phone").agg(surname.n_unique().alias("n")).filter(pl.col("phone").is_not_null())
    local = pl.col("email_key").str.split("@").list.first()
    dom = pl.col("email_key").str.split("@").list.last()
    national = pl.col("phone").str.replace(r"^\+(1|44)", "")
    base = (
        base.join(email_names.rename({"n": "email_names"}), on="email_key", how="left")
        .join(phone_names.rename({"n": "phone_names"}), on="phone", how="left")
        .with_columns(
            email_placeholder=(local.is_in(PLACEHOLDER_EMAIL_LOCALS) | dom.is_in(PLACEHOLDER_EMAIL_DOMAINS)
                               | (pl.col("email_names") > max_names_per_key)).fill_null(False),
            phone_placeholder=(pl.col("phone").is_in(PLACEHOLDER_PHONES)
                               | (national.str.split("").list.n_unique() <= 2)
                               | (pl.col("phone_names") > max_names_per_key)).fill_null(False),
        )
        .with_columns(
            pl.when(~pl.col("email_placeholder") & ~pl.col("is_role") & ~pl.col("is_placeholder_record"))
            .then(pl.col("email_key")).alias("email_link"),
            pl.when(~pl.col("phone_placeholder") & ~pl.col("is_placeholder_record")).then(pl.col("phone")).alias("phone_link"),
        )
        .with_columns(
            pl.col("email_link").str.split("@").list.first().alias("email_local"),
        )
        .sort("rid")
    )
    return base.select(
        "rid", "record_id", "first", "first_canon", "last", "email_key", "email_link", "email_local",
        "email_domain", "is_free", "is_role", "email_placeholder", "phone", "phone_link", "phone_placeholder",
        "company", "domain", "street", "city", "postcode", "country", "birth_date", "is_placeholder_record",
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


DETERMINISTIC_SQL = """
SELECT min(rid) OVER (PARTITION BY {key}) AS l, rid AS r, {rule} AS rule
FROM recs WHERE {key} IS NOT NULL
QUALIFY l < r
"""

SCORE_SQL = """
WITH j AS (
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
), lv AS (
    SELECT l, r,
        CASE WHEN f1 IS NULL OR f2 IS NULL THEN NULL WHEN f1 = f2 THEN 'first_exact'
             WHEN fc1 = fc2 THEN 'first_nick'
             WHEN jaro_winkler_similarity(f1, f2) >= 0.92 THEN 'first_jw92'
             WHEN jaro_winkler_similarity(f1, f2) >= 0.85 THEN 'first_jw85'
             WHEN (length(f1) = 1 OR length(f2) = 1) AND left(f1, 1) = left(f2, 1) THEN 'first_initial'
             ELSE 'first_diff' END AS first_lv,
        CASE WHEN l1 IS NULL OR l2 IS NULL THEN NULL WHEN l1 = l2 THEN 'last_exact'
             WHEN jaro_winkler_similarity(l1, l2) >= 0.92 THEN 'last_jw92'
             WHEN jaro_winkler_similarity(l1, l2) >= 0.85 THEN 'last_jw85'
             ELSE 'last_diff' END AS last_lv,
        CASE WHEN e1 IS NULL OR e2 IS NULL THEN NULL WHEN e1 = e2 THEN 'email_same'
             WHEN el1 = el2 THEN 'email_local' ELSE 'email_diff' END AS email_lv,
        CASE WHEN p1 IS NULL OR p2 IS NULL THEN NULL WHEN p1 = p2 THEN 'phone_same'
             WHEN right(p1, 7) = right(p2, 7) THEN 'phone_last7' ELSE 'phone_diff' END AS phone_lv,
        CASE WHEN c1 IS NULL OR c2 IS NULL THEN NULL WHEN c1 = c2 THEN 'company_exact'
             WHEN jaro_winkler_similarity(c1, c2) >= 0.90 THEN 'company_jw90' ELSE 'company_diff' END AS company_lv,
        CASE WHEN d1 IS NULL OR d2 IS NULL THEN NULL WHEN d1 = d2 THEN 'domain_same' ELSE 'domain_diff' END AS domain_lv,
        CASE WHEN pc1 IS NULL OR pc2 IS NULL THEN NULL WHEN pc1 = pc2 THEN 'postcode_same' ELSE 'postcode_diff' END AS postcode_lv,
        CASE WHEN ci1 IS NULL OR ci2 IS NULL THEN NULL WHEN ci1 = ci2 THEN 'city_same' ELSE 'city_diff' END AS city_lv,
        CASE WHEN s1 IS NULL OR s2 IS NULL THEN NULL WHEN s1 = s2 THEN 'street_same' ELSE 'street_diff' END AS street_lv,
        CASE WHEN co1 IS NULL OR co2 IS NULL OR co1 = co2 THEN NULL ELSE 'country_diff' END AS country_lv,
        CASE WHEN bd1 IS NULL OR bd2 IS NULL THEN NULL WHEN bd1 = bd2 THEN 'dob_same' ELSE 'dob_diff' END AS dob_lv,
        -- never-merge
        CASE WHEN bd1 IS NOT NULL AND bd2 IS NOT NULL AND bd1 <> bd2 THEN 'birth_date'
             WHEN e1 <> e2 AND ed1 = ed2 AND NOT free1 AND levenshtein(el1, el2) > 2 THEN 'two_mailboxes_one_domain'
             WHEN e1 <> e2 AND p1 <> p2 AND jaro_winkler_similarity(l1, l2) < 0.92 THEN 'email_phone_surname'
        END AS never_merge
    FROM j
)
SELECT lv.l, lv.r,
    coalesce(wf.w, 0) + coalesce(wl.w, 0) + coalesce(we.w, 0) + coalesce(wp.w, 0) + coalesce(wc.w, 0)
    + coalesce(wd.w, 0) + coalesce(wpc.w, 0) + coalesce(wci.w, 0) + coalesce(ws.w, 0) + coalesce(wco.w, 0)
    + coalesce(wb.w, 0) AS score,
    lv.never_merge, lv.first_lv, lv.last_lv, lv.email_lv, lv.phone_lv, lv.company_lv
FROM lv
LEFT JOIN weights wf ON wf.level = lv.first_lv
LEFT JOIN weights wl ON wl.level = lv.last_lv
LEFT JOIN weights we ON we.level = lv.email_lv
LEFT JOIN weights wp ON wp.level = lv.phone_lv
LEFT JOIN weights wc ON wc.level = lv.company_lv
LEFT JOIN weights wd ON wd.level = lv.domain_lv
LEFT JOIN weights wpc ON wpc.level = lv.postcode_lv
LEFT JOIN weights wci ON wci.level = lv.city_lv
LEFT JOIN weights ws ON ws.level = lv.street_lv
LEFT JOIN weights wco ON wco.level = lv.country_lv
LEFT JOIN weights wb ON wb.level = lv.dob_lv
"""


def _blocks_sql() -> str:
    parts = [f"SELECT rid, ? || ':' || ({expr}) AS bkey FROM recs WHERE NOT is_placeholder_record"
             for expr in BLOCK_KEYS.values()]
    return " UNION ALL ".join(parts)


PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE pairs AS
WITH k AS (SELECT rid, bkey FROM blocks WHERE bkey IS NOT NULL),
sizes AS (SELECT bkey, count(*) AS n FROM k GROUP BY bkey),
ok AS (SELECT k.rid, k.bkey FROM k JOIN sizes USING (bkey) WHERE sizes.n BETWEEN 2 AND ?)
SELECT DISTINCT a.rid AS l, b.rid AS r FROM ok a JOIN ok b ON a.bkey = b.bkey AND a.rid < b.rid
"""


# --------------------------------------------------------------------------- resolve
def resolve(frame: pl.DataFrame, mapping: dict[str, str], id_column: str | None = None,
            config: Config = Config(), con: duckdb.DuckDBPyConnection | None = None) -> Resolution:
    t0 = time.perf_counter()
    recs = prepare(frame, mapping, id_column, config.max_names_per_key)
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
    ids = recs["record_id"]
    cluster_min = pl.DataFrame({"root": root, "record_id": ids}).group_by("root").agg(
        pl.col("record_id").min().alias("cluster_id"))
    clusters = pl.DataFrame({"record_id": ids, "root": root}).join(cluster_min, on="root", how="left",
                                                                    maintain_order="left")
    stats.update(refusals)
    stats.update(records=n, clusters=int(clusters["cluster_id"].n_unique()),
                 links_accepted=int(accepted_mask.sum()), seconds_prepare=round(t_prep, 3),
                 seconds_link=round(t_link, 3), seconds_total=round(time.perf_counter() - t0, 3))
    return Resolution(clusters=clusters.select("record_id", "cluster_id"),
                      links=accepted.with_columns(pl.Series("accepted", accepted_mask)), stats=stats)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or []).pl()


def _links(con: duckdb.DuckDBPyConnection, recs: pl.DataFrame, config: Config) -> tuple[pl.DataFrame, dict]:
    con.register("recs_src", recs)
    con.execute("CREATE OR REPLACE TEMP TABLE recs AS SELECT * FROM recs_src")
    con.unregister("recs_src")
    weights = pl.DataFrame({"level": list(config.weights), "w": list(config.weights.values())})
    con.register("weights_src", weights)
    con.execute("CREATE OR REPLACE TEMP TABLE weights AS SELECT * FROM weights_src")
    con.unregister("weights_src")
    det = []
    for key, rule in (("email_link", "email"), ("phone_link", "phone")):
        det.append(_fetch(con, DETERMINISTIC_SQL.format(key=_q(key), rule="?"), [rule]))
    con.execute(f"CREATE OR REPLACE TEMP TABLE blocks AS {_blocks_sql()}", list(BLOCK_KEYS))
    block_stats = con.execute(
        "SELECT count(*) FILTER (WHERE n > ?), coalesce(sum(n) FILTER (WHERE n > ?), 0), "
        "coalesce(sum(n * (n - 1) / 2) FILTER (WHERE n <= ?), 0) "
        "FROM (SELECT count(*) AS n FROM blocks WHERE bkey IS NOT NULL GROUP BY bkey)",
        [config.max_block, config.max_block, config.max_block]).fetchall()[0]
    con.execute(PAIRS_SQL, [config.max_block])
    scored = _fetch(con, SCORE_SQL)
    n = recs.height
    total = n * (n - 1) / 2
    candidates = scored.height
    fuzzy = scored.select("l", "r", "score", "never_merge", pl.lit("fuzzy").alias("rule"))
    det_links = pl.concat(det).with_columns(pl.lit(DETERMINISTIC_SCORE).alias("score"),
                                            pl.lit(None, dtype=pl.Utf8).alias("never_merge"))
    links = pl.concat([det_links.select(fuzzy.columns).cast(fuzzy.schema), fuzzy])
    stats = {
        "candidate_pairs": candidates,
        "reduction_ratio": 1.0 - candidates / total if total else 1.0,
        "deterministic_links": det_links.height,
        "blocks_skipped": int(block_stats[0]), "records_in_skipped_blocks": int(block_stats[1]),
        "never_merge_pairs": int(scored["never_merge"].is_not_null().sum()),
        "placeholder_emails": int(recs.filter(pl.col("email_placeholder"))["email_key"].n_unique()),
        "placeholder_phones": int(recs.filter(pl.col("phone_placeholder"))["phone"].n_unique()),
    }
    return links, stats


def _cluster(n: int, links: pl.DataFrame, dob: np.ndarray | None, cap: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Kruskal-style union-find: strongest links first (ties by l, r). Returns the root of
    each record, which links were used or already implied, and refusal counts."""
    order = links.with_row_index("i").sort(["score", "l", "r"], descending=[True, False, False])
    ls, rs, idx = order["l"].to_numpy(), order["r"].to_numpy(), order["i"].to_numpy()
    parent = np.arange(n, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    bdate = None
    if dob is not None:
        bdate = np.where(np.isnan(dob.astype(float)), np.iinfo(np.int64).min, dob).astype(np.int64)
    missing = np.iinfo(np.int64).min
    ok = np.zeros(links.height, dtype=bool)
    cap_refusals = dob_refusals = 0
    p = parent.tolist()
    sz = size.tolist()
    bd = bdate.tolist() if bdate is not None else None

    def find(x: int) -> int:
        root = x
        while p[root] != root:
            root = p[root]
        while p[x] != root:
            p[x], x = root, p[x]
        return root

    for a, b, i in zip(ls.tolist(), rs.tolist(), idx.tolist()):
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
    roots = np.fromiter((find(x) for x in range(n)), dtype=np.int64, count=n)
    return roots, ok, {"cap_refusals": cap_refusals, "birth_date_refusals": dob_refusals}


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
