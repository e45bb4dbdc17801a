"""How people type: vectorised polars expressions that vary a clean value per row.

Every function takes the clean value as an expression plus uniform random numbers
(columns of the frame, drawn by the caller from a named stream) and returns the typed
value. Keeping the randomness outside makes the functions pure and easy to test.
"""

from __future__ import annotations

import polars as pl

from . import names as N


def u(name: str) -> pl.Expr:
    return pl.col(name)


def vary_case(s: pl.Expr, r: pl.Expr, lower: float = 0.06, upper: float = 0.02,
              title: float = 0.0) -> pl.Expr:
    """Sometimes all lower / UPPER / Title Case."""
    return (pl.when(r < lower).then(s.str.to_lowercase())
            .when(r < lower + upper).then(s.str.to_uppercase())
            .when(r < lower + upper + title).then(s.str.to_titlecase())
            .otherwise(s))


def pad(s: pl.Expr, r: pl.Expr, p: float = 0.04) -> pl.Expr:
    """Stray surrounding whitespace (leading, trailing, both)."""
    return (pl.when(r < p / 3).then(pl.lit(" ") + s)
            .when(r < 2 * p / 3).then(s + pl.lit(" "))
            .when(r < p).then(pl.lit("  ") + s + pl.lit(" "))
            .otherwise(s))


def typo(s: pl.Expr, r: pl.Expr, pos: pl.Expr, p: float = 0.03) -> pl.Expr:
    """A typo in ~p of rows: swap two adjacent chars, drop one, or double one."""
    n = s.str.len_chars()
    i = (pos * (n - 1).clip(lower_bound=1)).floor().cast(pl.Int64).clip(0, None)
    swap = (s.str.slice(0, i) + s.str.slice(i + 1, 1) + s.str.slice(i, 1) + s.str.slice(i + 2))
    drop = s.str.slice(0, i) + s.str.slice(i + 1)
    dup = s.str.slice(0, i + 1) + s.str.slice(i)
    return (pl.when((r < p / 3) & (n >= 3)).then(swap)
            .when((r < 2 * p / 3) & (n >= 4)).then(drop)
            .when((r < p) & (n >= 2)).then(dup)
            .otherwise(s))


def gmail_variant(email: pl.Expr, r: pl.Expr, pos: pl.Expr, tag: pl.Expr,
                  p: float = 0.35) -> pl.Expr:
    """Gmail ignores dots and +tags: people type john.smith, johnsmith, john.smith+promo."""
    local = email.str.split("@").list.get(0)
    nodot = local.str.replace_all(".", "", literal=True)
    n = nodot.str.len_chars()
    k = (pos * (n - 2).clip(lower_bound=0)).floor().cast(pl.Int64) + 1
    dotted = nodot.str.slice(0, k) + pl.lit(".") + nodot.str.slice(k)
    tagged = local + pl.lit("+") + tag
    is_gmail = email.str.ends_with("@gmail.com")
    typed = (pl.when(r < p * 0.4).then(nodot)
             .when(r < p * 0.7).then(dotted)
             .otherwise(tagged))
    return (pl.when(is_gmail & (r < p) & (n >= 3)).then(typed + pl.lit("@gmail.com"))
            .otherwise(email))


def email_case(email: pl.Expr, r: pl.Expr) -> pl.Expr:
    """Capitalised (John.Smith@Acme.com) ~8 %, UPPER ~2 %, trailing space ~3 %."""
    return (pl.when(r < 0.08).then(email.str.to_titlecase())
            .when(r < 0.10).then(email.str.to_uppercase())
            .when(r < 0.13).then(email + pl.lit(" "))
            .otherwise(email))


def phone_format(nat: pl.Expr, kind: pl.Expr, fmt: pl.Expr) -> pl.Expr:
    """Format a national number in one of the styles people use.

    kind: 0 NANP (10 digits), 1 UK 2-4-4, 2 UK 3-3-4, 3 UK 4-6. fmt: 0..7 (style index;
    0 is E.164 without spaces).
    """
    a, e, ln = nat.str.slice(0, 3), nat.str.slice(3, 3), nat.str.slice(6, 4)
    nanp = (pl.when(fmt == 0).then(pl.lit("+1") + nat)
            .when(fmt == 1).then(pl.concat_str([pl.lit("("), a, pl.lit(") "), e, pl.lit("-"), ln]))
            .when(fmt == 2).then(pl.concat_str([a, pl.lit("."), e, pl.lit("."), ln]))
            .when(fmt == 3).then(pl.concat_str([pl.lit("+1 "), a, pl.lit(" "), e, pl.lit(" "), ln]))
            .when(fmt == 4).then(nat)
            .when(fmt == 5).then(pl.concat_str([a, pl.lit("-"), e, pl.lit("-"), ln]))
            .when(fmt == 6).then(pl.concat_str([pl.lit("1-"), a, pl.lit("-"), e, pl.lit("-"), ln]))
            .otherwise(pl.concat_str([pl.lit("+1 ("), a, pl.lit(") "), e, pl.lit("-"), ln])))
    grouped = (pl.when(kind == 1).then(pl.concat_str([nat.str.slice(0, 2), pl.lit(" "),
                                                      nat.str.slice(2, 4), pl.lit(" "),
                                                      nat.str.slice(6, 4)]))
               .when(kind == 2).then(pl.concat_str([nat.str.slice(0, 3), pl.lit(" "),
                                                    nat.str.slice(3, 3), pl.lit(" "),
                                                    nat.str.slice(6, 4)]))
               .otherwise(pl.concat_str([nat.str.slice(0, 4), pl.lit(" "), nat.str.slice(4, 6)])))
    uk = (pl.when(fmt == 0).then(pl.lit("+44") + nat)
          .when(fmt.is_in([1, 5])).then(pl.lit("+44 ") + grouped)
          .when(fmt.is_in([2, 6])).then(pl.lit("0") + grouped)
          .when(fmt == 3).then(pl.lit("+44 (0)") + grouped)
          .otherwise(pl.lit("0") + nat))
    return pl.when(kind == 0).then(nanp).otherwise(uk)


def pick(values: tuple[str, ...] | list[str], r: pl.Expr) -> pl.Expr:
    """values[floor(r * len)] for uniform r, as an expression."""
    idx = (r * len(values)).floor().cast(pl.Int64).clip(0, len(values) - 1)
    return pl.lit(pl.Series(list(values), dtype=pl.String)).gather(idx)


def website_typed(domain: pl.Expr, r: pl.Expr) -> pl.Expr:
    """How people write their company website."""
    return (pl.when(r < 0.35).then(domain)
            .when(r < 0.6).then(pl.lit("www.") + domain)
            .when(r < 0.75).then(pl.lit("https://www.") + domain)
            .when(r < 0.82).then(pl.lit("http://") + domain + pl.lit("/"))
            .otherwise(pl.lit(None, pl.String)))


def drop_suffix(name: pl.Expr, base: pl.Expr, r: pl.Expr) -> pl.Expr:
    """Company as typed: registered name, without legal suffix, lower case."""
    return (pl.when(r < 0.28).then(base)
            .when(r < 0.36).then(name.str.to_lowercase())
            .when(r < 0.38).then(name.str.to_uppercase())
            .otherwise(name))


COUNTRY_STYLE = {"google_ads": "iso", "meta_lead_ads": "iso", "linkedin": "name",
                 "website": "typed", "webinar": "name", "referral": "name"}


def country_typed(country: pl.Expr, style: str, r: pl.Expr) -> pl.Expr:
    spell = N.COUNTRY_SPELLINGS[style]
    out = pl.lit(None, pl.String)
    expr = None
    for c, vals in spell.items():
        v = pick(vals, r) if len(vals) > 1 else pl.lit(vals[0])
        expr = (pl.when(country == c).then(v) if expr is None
                else expr.when(country == c).then(v))
    return expr.otherwise(out)
