"""File writing: landing-zone paths, CSV and JSON-lines output, web event JSON."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from . import names as N
from . import variation as V
from .behaviour import Web
from .entities import Persons
from .forms import anon_ids, hex16
from .timeutil import ISO_MS_Z, fmt_epoch

_MSG_SALT = 0x3E55A6E


def day_dir(landing: Path, source: str, day: str) -> Path:
    d = landing / source / day
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_csv(df: pl.DataFrame, path: Path) -> None:
    """UTF-8, no BOM, '\\n' line endings, one header row, RFC 4180 quoting."""
    blank = [pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
             for c, t in df.schema.items() if t == pl.String]
    df.with_columns(blank).write_csv(path, include_header=True, line_terminator="\n",
                                     quote_style="necessary")


def write_lines(lines: pl.Series, path: Path) -> None:
    """Write pre-built text lines (e.g. JSON objects) verbatim, one per line."""
    with open(path, "wb") as f:
        if lines.len():
            pl.DataFrame({"l": lines}).write_csv(f, include_header=False, quote_style="never",
                                                 line_terminator="\n")


def json_str(e: pl.Expr) -> pl.Expr:
    """A JSON string literal of a text expression (null -> null)."""
    esc = e.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    return pl.when(e.is_null()).then(pl.lit("null")).otherwise(pl.lit('"') + esc + pl.lit('"'))


# ---------------------------------------------------------------- web events

_TYPES = pl.Series(["page", "track", "identify"])
_PAGE_HEAD = pl.Series([f'{{"path":"{p}","url":"{N.OUR_SITE}{p}","referrer":'
                        for p, _, _ in N.PAGES])
_PAGE_TAIL = pl.Series([f',"title":"{t}"}}' for _, t, _ in N.PAGES])
_TRACK_PROPS = pl.Series([f'{{"path":"{p}","url":"{N.OUR_SITE}{p}"}}' for p, _, _ in N.PAGES])
_EVENTS = pl.Series([f'"{e}"' for e in N.TRACK_EVENTS])
# referrer code -> JSON value: < 100 external (names.REFERRERS), >= 100 an internal page
_REF = pl.Series(["null"] * (100 + len(N.PAGES)))
for _i, (_u, _) in enumerate(N.REFERRERS):
    _REF[_i] = f'"{_u}"' if _u else "null"
for _i, (_p, _, _) in enumerate(N.PAGES):
    _REF[100 + _i] = f'"{N.OUR_SITE}{_p}"'


def identify_traits(rs, P: Persons, W: Web) -> pl.Series:
    """Typed traits of every identify event: email (as typed), optional names."""
    rng = rs("identify_traits")
    ip = W.ident_person
    n = ip.size
    R = rng.random((n, 8))
    df = pl.DataFrame({
        "src": W.ident_email_src, "work": work_email_at(P, ip, W.ident_t // 1000),
        "personal": P.personal_email.gather(ip),
        "first": P.first.gather(ip), "nick": P.nick.gather(ip), "last": P.last.gather(ip),
        **{f"r{i}": R[:, i] for i in range(8)},
    })
    email = pl.when(pl.col("src") == 0).then(pl.col("work")).otherwise(
        V.gmail_variant(pl.col("personal"), pl.col("r0"), pl.col("r1"),
                        V.pick(N.PLUS_TAGS, pl.col("r2"))))
    email = pl.when(pl.col("r3") < 0.06).then(email.str.to_titlecase()).otherwise(email)
    first = pl.when(pl.col("nick").is_not_null() & (pl.col("r4") < 0.3)).then(pl.col("nick")) \
        .otherwise(pl.col("first"))
    first = V.vary_case(first, pl.col("r7"), 0.15, 0.0)
    traits = pl.concat_str([
        pl.lit('{"email":') + json_str(email),
        pl.when(pl.col("r5") < 0.7).then(pl.lit(',"first_name":') + json_str(first)),
        pl.when(pl.col("r6") < 0.6).then(pl.lit(',"last_name":') + json_str(V.vary_case(
            pl.col("last"), pl.col("r7"), 0.15, 0.0))),
        pl.lit("}"),
    ], ignore_nulls=True)
    return df.select(traits=traits).to_series()


def work_email_at(P: Persons, who: np.ndarray, t: np.ndarray) -> pl.Series:
    """The work address a person has at time t (movers switch at move_t)."""
    moved = P.moved[who] & (t >= P.move_t[who])
    return pl.select(pl.when(pl.Series(moved)).then(P.new_work_email.gather(who))
                     .otherwise(P.work_email.gather(who))).to_series()


def web_lines(seed: int, W: Web, lo: int, hi: int, P: Persons, traits: pl.Series) -> pl.Series:
    """JSON lines for events [lo, hi) of the (day-sorted) event arrays."""
    sl = slice(lo, hi)
    etype = W.etype[sl]
    page = W.page[sl].astype(np.int64)
    track = W.track[sl].astype(np.int64)
    ref = W.referrer[sl].astype(np.int64)
    user = W.user[sl].astype(np.int64)
    ident = W.ident[sl].astype(np.int64)
    df = pl.DataFrame({
        "mid": hex16(np.arange(lo, hi), seed ^ _MSG_SALT),
        "anon": anon_ids(W.visitor[sl], seed),
        "t": W.t_ms[sl], "r": W.recv_ms[sl], "et": etype,
        "page": np.clip(page, 0, None), "track": np.clip(track, 0, None),
        "ref": np.clip(ref, 0, None), "user": np.clip(user, 0, None), "has_user": user >= 0,
        "ident": np.clip(ident, 0, None),
    })
    uid = P.user_id
    props = (pl.when(pl.col("et") == 0)
             .then(pl.lit(_PAGE_HEAD).gather(pl.col("page")) + pl.lit(_REF).gather(pl.col("ref"))
                   + pl.lit(_PAGE_TAIL).gather(pl.col("page")))
             .when(pl.col("et") == 1).then(pl.lit(_TRACK_PROPS).gather(pl.col("page")))
             .otherwise(pl.lit("null")))
    line = pl.concat_str([
        pl.lit('{"messageId":"m-'), pl.col("mid"),
        pl.lit('","type":"'), pl.lit(_TYPES).gather(pl.col("et")),
        pl.lit('","anonymousId":"'), pl.col("anon"),
        pl.lit('","userId":'),
        pl.when(pl.col("has_user")).then(json_str(pl.lit(uid).gather(pl.col("user"))))
        .otherwise(pl.lit("null")),
        pl.lit(',"timestamp":"'), fmt_epoch("t", ISO_MS_Z, "ms"),
        pl.lit('","receivedAt":"'), fmt_epoch("r", ISO_MS_Z, "ms"),
        pl.lit('","event":'),
        pl.when(pl.col("et") == 1).then(pl.lit(_EVENTS).gather(pl.col("track")))
        .otherwise(pl.lit("null")),
        pl.lit(',"properties":'), props,
        pl.lit(',"traits":'),
        pl.when(pl.col("et") == 2).then(pl.lit(traits).gather(pl.col("ident")))
        .otherwise(pl.lit("null")),
        pl.lit("}"),
    ])
    return df.select(line).to_series()


def message_ids(seed: int, idx: np.ndarray) -> pl.Series:
    return pl.select(pl.lit("m-") + hex16(idx, seed ^ _MSG_SALT)).to_series()
