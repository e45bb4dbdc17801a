"""Normalisation of the identifiers people type into forms and CRMs.

Pure functions, no Dagster and no I/O. Each normaliser takes a polars expression holding
the raw text and returns the normalised one; a value that cannot be normalised becomes
null (the caller decides whether that is a reject). Callers keep the raw value next to
the normalised one.

Well-kept libraries are the authority: ``phonenumbers`` for E.164, ``email-validator``
for address syntax (never DNS), ``pycountry`` for ISO 3166 country and subdivision names.
They are pure Python (10-50 µs a call) and the large world has about a million distinct
emails and phones, so every library-backed normaliser has two paths:

- a vectorised fast path in polars that decides the common, unambiguous shapes, proved
  to agree with the library by the property tests in
  ``leadgen_tests/core/test_normalize_properties.py``;
- the library itself, called once per *distinct* value the fast path leaves undecided.

Nothing here logs or raises with a value in it: values can be personal data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

import email_validator
import phonenumbers
import polars as pl
import pycountry

# The business's home market: the region a national phone number is read in, and the
# country a region/state is read in, when a record does not say. One entry per source
# that carries phones or regions (form leads use the record's country when known).
SOURCE_COUNTRY: dict[str, str] = {
    "form_leads": "US",
    "crm_contacts": "US",
    "crm_accounts": "US",
    "consent_events": "US",
    "enrichment": "US",
}
HOME_COUNTRY = "US"

FREE_MAIL_DOMAINS = (
    # Google, Yahoo, Microsoft, Apple, AOL
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.ca", "ymail.com",
    "rocketmail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.ca", "live.com",
    "live.co.uk", "live.ca", "msn.com", "passport.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "aim.com",
    # privacy and independent mailbox providers
    "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "tutanota.com", "tuta.io",
    "fastmail.com", "hey.com", "hushmail.com", "zoho.com", "zohomail.com", "mail.com",
    "email.com", "usa.com", "inbox.com", "gmx.com", "gmx.net", "gmx.de", "gmx.co.uk", "web.de",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "naver.com",
    # ISP mailboxes (personal, never a company's domain): US, Canada, UK
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
    "charter.net", "earthlink.net", "optonline.net", "frontier.com", "windstream.net",
    "shaw.ca", "rogers.com", "sympatico.ca", "bell.net", "videotron.ca", "telus.net",
    "btinternet.com", "btopenworld.com", "sky.com", "virginmedia.com", "ntlworld.com",
    "talktalk.net", "blueyonder.co.uk", "tiscali.co.uk",
)
# Country variants of the big consumer brands (yahoo.fr, hotmail.de, outlook.com.au, ...).
_FREE_MAIL_BRANDS = r"^(gmail|googlemail|yahoo|ymail|hotmail|outlook|live|gmx|aol|yandex)\.(com?\.)?[a-z]{2}$"
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
ROLE_LOCAL_PARTS = (
    "info", "sales", "office", "admin", "contact", "hello", "support", "team", "billing",
    "accounts", "marketing", "enquiries", "inquiries", "hr", "noreply", "no-reply", "reception",
)
# Legal-form suffixes, written as company_key sees them: lower case, dots removed, "&"
# read as "and". Multi-word forms are listed whole ("gmbh and co kg" strips as a run).
LEGAL_SUFFIXES = (
    "inc", "incorporated", "llc", "lllp", "llp", "lp", "pllc", "ltd", "ltda", "limited", "corp",
    "corporation", "co", "company", "and co", "and company", "plc", "pc", "ulc", "cic",
    "gmbh", "mbh", "ag", "kg", "ohg", "ug", "se", "sa", "sas", "sarl", "srl", "spa", "sl",
    "bv", "nv", "ab", "oy", "oyj", "as", "asa", "aps", "pty", "pte", "bhd", "sdn bhd", "kk",
)

# --------------------------------------------------------------------------- shapes
# Every value email() returns matches EMAIL_SHAPE (ASCII or internationalised local part,
# ASCII domain); every value phone_e164() returns matches E164_SHAPE. The contracts use both.
EMAIL_SHAPE = r"^[^\s@]+@[a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)+$"
E164_SHAPE = r"^\+[1-9][0-9]{6,14}$"
REGION_SHAPE = r"^[A-Z]{2}-[A-Z0-9]{1,3}$"
_EMAIL_SHAPE_RE = re.compile(EMAIL_SHAPE)
_E164_SHAPE_RE = re.compile(E164_SHAPE)

# The email fast path: dot-atom local part and LDH domain labels, the subset of what
# email-validator accepts that needs no IDNA or special-use decision.
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_EMAIL_FAST = rf"^[a-z0-9_%+'\-]+(?:\.[a-z0-9_%+'\-]+)*@(?:{_LABEL}\.)+[a-z]{{2,63}}$"
_SPECIAL_USE = r"\.(" + "|".join(email_validator.SPECIAL_USE_DOMAIN_NAMES) + r")$"


_FOLD = {"ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
_NON_ASCII = r"[^\x00-\x7f]"


# --------------------------------------------------------------------------- batch helpers
# The normalisers below work on whole columns (``map_batches``) so that the costly steps
# run only where they can change something: Unicode normalisation on non-ASCII values,
# whitespace collapsing where there is a run, the libraries once per distinct undecided
# value. The property tests check each against its plain, every-row formulation.
def _batch(fn: Callable[[pl.Series], pl.Series], *exprs: pl.Expr, **named: pl.Expr) -> pl.Expr:
    """``fn`` over a column (or a struct of named columns), as an elementwise expression."""
    if exprs:
        return exprs[0].map_batches(fn, return_dtype=pl.Utf8)
    out = pl.struct(**named).map_batches(fn, return_dtype=pl.Utf8)
    try:  # named after the first input column, as a plain expression would be
        return out.alias(next(iter(named.values())).meta.output_name())
    except pl.exceptions.ComputeError:
        return out


def _patch(base: pl.Series, mask: pl.Series, fn: Callable[[pl.Series], pl.Series], source: pl.Series | None = None) -> pl.Series:
    """``base`` with the rows where ``mask`` holds replaced by ``fn`` of those rows of
    ``source`` (default ``base``); ``fn`` never sees the other rows."""
    mask = mask.fill_null(False)
    hits = int(mask.sum())
    source = base if source is None else source
    if hits == 0:
        return base
    if hits == len(base):
        return fn(source).alias(base.name)
    idx = mask.arg_true()
    return base.clone().scatter(idx, fn(source.gather(idx)))


def _null_if_empty_expr(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr == "").then(None).otherwise(expr)


def _null_if_empty(s: pl.Series) -> pl.Series:
    return s.to_frame("v").select(pl.when(pl.col("v") == "").then(None).otherwise(pl.col("v"))).to_series().alias(s.name)


def _distinct(s: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``fn`` (vectorised) over the distinct values of ``s``, mapped back; directly on
    ``s`` when most values are distinct anyway."""
    u = s.drop_nulls().unique()
    if 2 * len(u) > len(s):
        return fn(s).alias(s.name)
    return s.replace_strict(u, fn(u), default=None, return_dtype=pl.Utf8)


def _on_distinct(s: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    """``fn`` (a Python function) called once per distinct non-null value of ``s``."""
    u = s.drop_nulls().unique()
    if u.is_empty():
        return pl.Series(s.name, [None] * len(s), dtype=pl.Utf8)
    return s.replace_strict(u, pl.Series([fn(v) for v in u], dtype=pl.Utf8), default=None, return_dtype=pl.Utf8)


def _fold(s: pl.Series) -> pl.Series:
    """Accents off, lower case, and the Latin letters NFKD cannot split folded: for keys.
    NFKD (-> marks removed -> lower case -> folds) on non-ASCII values, lower case on the rest."""
    s = s.cast(pl.Utf8)
    return _patch(
        s.str.to_lowercase(),
        s.str.contains(_NON_ASCII),
        lambda x: x.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_lowercase().str.replace_many(_FOLD),
        source=s,
    )


def _lookup_key(s: pl.Series) -> pl.Series:
    """Key for name lookups (countries, regions): folded, dots and apostrophes dropped,
    anything else that is not a letter or digit a single space."""
    return _fold(s).str.replace_all(r"[.'’]", "").str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


# --------------------------------------------------------------------------- text, names
def _clean_text(s: pl.Series) -> pl.Series:
    s = s.cast(pl.Utf8)
    s = _patch(s, s.str.contains(_NON_ASCII), lambda x: x.str.normalize("NFKC").str.replace_all(r"\p{Cf}", ""))
    s = _patch(s, s.str.contains(r"[^\S ]|  |\p{Cc}"), lambda x: x.str.replace_all(r"[\p{Cc}\s]+", " "))
    return _null_if_empty(s.str.strip_chars())


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Unicode NFKC, invisible format characters (zero-width, BOM) dropped, control
    characters and runs of whitespace one space, trimmed; empty becomes null."""
    return _batch(_clean_text, expr)


def _name_key(s: pl.Series) -> pl.Series:
    s = _fold(s)
    return _null_if_empty(_patch(s, s.str.contains(r"[^\p{L}]"), lambda x: x.str.replace_all(r"[^\p{L}]", "")))


def name_key(expr: pl.Expr) -> pl.Expr:
    """A person-name matching key: letters only, lower case, accents folded
    ('José-Luis' -> 'joseluis', 'Łukasz' -> 'lukasz', 'Groß' -> 'gross'); letters of other
    scripts are kept as they are."""
    return _batch(_name_key, expr)


_SUFFIX_RUN = r"((^|\s)(" + "|".join(sorted(LEGAL_SUFFIXES, key=len, reverse=True)) + r"))+$"


def _company_key(s: pl.Series) -> pl.Series:
    words = (
        _fold(s)
        .str.replace_all(r"[&+]", " and ")
        .str.replace_all(r"[.'’]", "")  # 'L.L.C.' -> 'llc', "O'Neil" -> 'oneil'
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
        .str.replace(r"^(the\s)+", "")
    )
    return _null_if_empty(words.str.replace(_SUFFIX_RUN, "").str.strip_chars())


def company_key(expr: pl.Expr) -> pl.Expr:
    """Company name without case, accents, punctuation, a leading 'the' or legal suffixes:
    'Acme IT, Inc.' -> 'acme it', 'ACME Ltd.' -> 'acme', 'Acme GmbH & Co. KG' -> 'acme'.
    A name that is only a legal form ('LLC') has no key."""
    return _batch(lambda s: _distinct(s.cast(pl.Utf8), _company_key), expr)


# --------------------------------------------------------------------------- email
def _email_library(address: str) -> str | None:
    """email-validator's verdict on one trimmed, lower-cased address: its normalised form
    with the domain in ASCII (IDNA), or None. Syntax only: no DNS."""
    try:
        v = email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return None
    out = f"{v.local_part}@{v.ascii_domain}".lower()
    return out if _EMAIL_SHAPE_RE.fullmatch(out) else None


def _email_fast(e: pl.Expr) -> pl.Expr:
    """True where a trimmed, lower-cased address is certainly valid as it is."""
    return (
        e.str.contains(_EMAIL_FAST)
        & ~e.str.contains("--", literal=True)  # IDNA rules (xn--, R-LDH) are the library's
        & ~e.str.contains(_SPECIAL_USE)
        & (e.str.len_bytes() <= 254)
    ).fill_null(False)


def _email(raw: pl.Series) -> pl.Series:
    e = raw.cast(pl.Utf8).str.strip_chars().str.to_lowercase()
    frame = e.to_frame("e").with_columns(_email_fast(pl.col("e")).alias("fast"))
    # Without exactly one "@" no address is valid (quoted local parts are not accepted).
    undecided = ~frame["fast"] & (e.str.count_matches("@", literal=True) == 1).fill_null(False)
    decided = frame.select(pl.when(pl.col("fast")).then(pl.col("e"))).to_series()
    return _patch(decided, undecided, lambda x: _on_distinct(x, _email_library), source=e).alias(raw.name)


def email(expr: pl.Expr) -> pl.Expr:
    """Trimmed, lower-cased address if email-validator accepts its syntax, else null.

    Lower-casing the local part is a policy choice (no mailbox provider we see treats it
    as case-sensitive); internationalised domains come out in ASCII (IDNA) form."""
    return _batch(_email, expr)


def _email_key(s: pl.Series) -> pl.Series:
    parts = s.cast(pl.Utf8).str.split_exact("@", 1).struct.unnest()
    local, domain = parts["field_0"], parts["field_1"]
    # the tag goes unless it is the whole local part ('+promo@x.com' stays as it is)
    local = _patch(local, local.str.contains(r"^[^+]+\+"), lambda x: x.str.replace(r"\+.*$", ""))
    domain = _patch(domain, domain == "googlemail.com", lambda x: x.str.replace(r".+", "gmail.com"))
    gmail = (domain == "gmail.com") & local.str.contains(".", literal=True)
    local = _patch(local, gmail, lambda x: x.str.replace_all(".", "", literal=True))
    return (local + "@" + domain).alias(s.name)


def email_key(expr: pl.Expr) -> pl.Expr:
    """Matching key of an already-normalised address: plus-tags dropped, gmail dots
    removed, googlemail.com read as gmail.com."""
    return _batch(_email_key, expr)


def email_domain(expr: pl.Expr) -> pl.Expr:
    """The part after the '@' of a normalised address."""
    return _null_if_empty_expr(expr.str.slice(expr.str.find("@", literal=True) + 1))


def is_free_mail(domain: pl.Expr) -> pl.Expr:
    """A consumer mailbox provider or ISP, never a company's own domain."""
    return domain.is_in(FREE_MAIL_DOMAINS) | domain.str.contains(_FREE_MAIL_BRANDS)


_ROLE = "^(" + "|".join(re.escape(r) for r in ROLE_LOCAL_PARTS) + ")[@+]"


def is_role_address(expr: pl.Expr) -> pl.Expr:
    """A normalised address of a function, not a person: info@, sales+leads@, ..."""
    return expr.str.contains(_ROLE)


def url_domain(expr: pl.Expr) -> pl.Expr:
    """The host of a website as typed, without 'www': 'https://www.Acme-IT.com/about' ->
    'acme-it.com'; also 'acme-it.com.', '//acme-it.com:8080', 'john@acme-it.com'."""
    host = (
        expr.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z][a-z0-9+.\-]*://", "")
        .str.replace(r"^//", "")
        .str.replace(r"[/?#].*$", "")
        .str.replace(r"^[^@]*@", "")
        .str.replace(r":[0-9]*$", "")
        .str.replace(r"\.$", "")
        .str.replace(r"^www[0-9]*\.", "")
    )
    shape = rf"^(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9\-]{{1,59}})$"
    return pl.when(host.str.contains(shape)).then(host).otherwise(None)


# --------------------------------------------------------------------------- phones
_NANP = ("US", "CA")
_E164 = phonenumbers.PhoneNumberFormat.E164
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE


def _phone_library(raw: str, region: str) -> str | None:
    """phonenumbers' E.164 for one number read in ``region``, or None. A number must have
    a possible length for its country (placeholders such as 555-555-5555 are kept: the
    identity layer finds them by how many people share them); a local-only number without
    an area code is not enough."""
    out = _possible_e164(raw, region)
    # What we store must read back as itself ('000000' in DE formats as '+4900000', which
    # is no possible number): normalising a normalised number changes nothing.
    return out if out is not None and _possible_e164(out, None) == out else None


def _possible_e164(raw: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != _POSSIBLE:
        return None
    out = phonenumbers.format_number(number, _E164)
    return out if _E164_SHAPE_RE.fullmatch(out) else None


def _phone_fast(frame: pl.DataFrame) -> pl.Series:
    """E.164 for the shapes that need no library: NANP and UK numbers typed with digits and
    ordinary separators only, with or without the +1 / +44 / trunk prefix. ``frame`` has
    the trimmed ``raw`` and the ``region`` to read it in. Null means "undecided", not
    "invalid"."""
    raw, region = pl.col("raw"), pl.col("region")
    nanp = r"[2-9][0-9]{2}[2-9][0-9]{6}"
    uk = r"[1-9][0-9]{9}"
    frame = frame.with_columns(
        raw.str.contains(r"^\+?[0-9(][0-9 ().\-/]*[0-9]$").fill_null(False).alias("plain"),
        raw.str.replace_all(r"[^0-9]", "").alias("digits"),
        raw.str.starts_with("+").alias("plus"),
    )
    d, plus = pl.col("digits"), pl.col("plus")
    return frame.select(
        pl.when(~pl.col("plain"))
        .then(None)
        .when(plus & d.str.contains(rf"^(1{nanp}|44{uk})$"))
        .then("+" + d)
        .when(plus & d.str.contains(rf"^440{uk}$"))  # +44 (0)20 ...
        .then("+44" + d.str.slice(3))
        .when(plus)
        .then(None)
        .when(region.is_in(_NANP) & d.str.contains(rf"^1?{nanp}$"))
        .then("+1" + d.str.slice(-10))
        .when((region == "GB") & d.str.contains(rf"^0{uk}$"))
        .then("+44" + d.str.slice(1))
        .alias("fast")
    ).to_series()


def _phone(batch: pl.Series) -> pl.Series:
    frame = batch.struct.unnest().select(pl.col("raw").cast(pl.Utf8).str.strip_chars(), pl.col("region").cast(pl.Utf8))
    fast = _phone_fast(frame)
    undecided = fast.is_null() & (frame["raw"] != "").fill_null(False)
    if not undecided.any():
        return fast
    todo = frame.filter(undecided)
    distinct = todo.unique()
    distinct = distinct.with_columns(
        pl.Series("out", [_phone_library(r, g) for r, g in distinct.iter_rows()], dtype=pl.Utf8)
    )
    out = todo.join(distinct, on=["raw", "region"], how="left", nulls_equal=True, maintain_order="left")["out"]
    return fast.scatter(undecided.arg_true(), out)


def phone_e164(expr: pl.Expr, country: pl.Expr | None = None, default_region: str = HOME_COUNTRY) -> pl.Expr:
    """E.164 of a typed phone number, else null.

    A number without a country code is read in ``country`` (the record's ISO-2 country)
    or, where that is null, in ``default_region`` (the source's, see SOURCE_COUNTRY).
    phonenumbers decides; common NANP and UK shapes are decided in polars to the same result.
    """
    region = pl.lit(default_region) if country is None else pl.coalesce(country, pl.lit(default_region))
    return _batch(_phone, raw=expr, region=region)


# --------------------------------------------------------------------------- countries, regions
_COUNTRY_ALIASES = {
    "usa": "US", "us": "US", "america": "US", "united states of america": "US", "us of a": "US",
    "uk": "GB", "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "united kingdom of great britain": "GB",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "russia": "RU", "vietnam": "VN", "iran": "IR", "syria": "SY", "laos": "LA", "bolivia": "BO",
    "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "czech republic": "CZ", "turkey": "TR",
    "ivory coast": "CI", "cote divoire": "CI", "taiwan": "TW", "macedonia": "MK", "swaziland": "SZ",
    "burma": "MM", "cape verde": "CV", "east timor": "TL", "vatican": "VA", "vatican city": "VA",
    "holy see": "VA", "palestine": "PS", "brunei": "BN", "micronesia": "FM", "holland": "NL",
    "the netherlands": "NL", "uae": "AE", "emirates": "AE", "kosovo": "XK", "xk": "XK", "xkx": "XK", "deutschland": "DE",
    "espana": "ES", "brasil": "BR", "mexico": "MX", "hong kong": "HK", "macau": "MO",
    "republic of ireland": "IE", "eire": "IE", "dr congo": "CD", "drc": "CD",
    "congo brazzaville": "CG", "congo kinshasa": "CD", "st lucia": "LC", "st kitts and nevis": "KN",
    "st vincent and the grenadines": "VC", "trinidad": "TT", "the bahamas": "BS", "the gambia": "GM",
}


def _variants(name: str) -> list[str]:
    """A pycountry name and its usual re-orderings: 'Korea, Republic of' also gives
    'Republic of Korea'; 'Wales [Cymru GB-CYM]' gives 'Wales' and 'Cymru';
    'Sofia (stolitsa)' also gives 'Sofia'."""
    out: list[str] = []
    head, _, bracket = name.partition(" [")
    out.append(head)
    if bracket:
        alt = bracket.rstrip("]").split(" ")
        out.append(" ".join(w for w in alt if "-" not in w or not w[:2].isupper()))
    for n in list(out):
        if "(" in n:
            out.append(n.split("(")[0].strip())
        if ", " in n:
            a, _, b = n.partition(", ")
            out += [f"{b} {a}", a]
        if "; " in n:
            out += n.split("; ")
    return [o for o in out if o]


def _keys(texts: Iterable[str]) -> list[str]:
    """The lookup key of every text, computed by the same expression as the data's keys."""
    return _lookup_key(pl.Series(list(texts), dtype=pl.Utf8)).to_list()


def _table(tiers: list[list[tuple[str, str]]]) -> dict[str, str]:
    """Key -> code, from (text, code) pairs in tiers of priority; within a tier a key that
    names two codes is ambiguous and dropped (a higher tier may still define it)."""
    table: dict[str, str] = {}
    for tier in tiers:
        seen: dict[str, set[str]] = {}
        for key, (_, code) in zip(_keys(t for t, _ in tier), tier, strict=True):
            if key:
                seen.setdefault(key, set()).add(code)
        for key, codes in seen.items():
            if key not in table and len(codes) == 1:
                table[key] = codes.pop()
    return table


@functools.cache
def _country_table() -> dict[str, str]:
    countries = list(pycountry.countries)
    codes = [(c.alpha_2, c.alpha_2) for c in countries] + [(c.alpha_3, c.alpha_2) for c in countries]
    names = [(c.name, c.alpha_2) for c in countries] + [
        (getattr(c, attr), c.alpha_2)
        for c in countries
        for attr in ("official_name", "common_name")
        if getattr(c, attr, None)
    ]
    derived = [(v, code) for text, code in names for v in _variants(text)[1:]]
    return _table([list(_COUNTRY_ALIASES.items()), codes, names, derived])


def _country_iso2(s: pl.Series) -> pl.Series:
    return _lookup_key(s).replace_strict(_country_table(), default=None, return_dtype=pl.Utf8)


def country_iso2(expr: pl.Expr) -> pl.Expr:
    """ISO 3166-1 alpha-2 from an alpha-2 or alpha-3 code, an ISO (short, official or
    common) name or a usual alias, in any case, accents and punctuation: 'U.S.A' -> 'US',
    'Türkiye' -> 'TR', 'Korea, Republic of' -> 'KR'. Anything else is null."""
    return _batch(lambda s: _distinct(s.cast(pl.Utf8), _country_iso2), expr)


_REGION_ALIASES = {
    ("US", "washington dc"): "US-DC", ("US", "washington d c"): "US-DC", ("US", "dc"): "US-DC",
    ("CA", "newfoundland"): "CA-NL", ("CA", "labrador"): "CA-NL", ("CA", "pei"): "CA-PE",
    ("CA", "quebec"): "CA-QC", ("CA", "nwt"): "CA-NT", ("CA", "yukon territory"): "CA-YT",
    ("GB", "ni"): "GB-NIR", ("GB", "cymru"): "GB-WLS",
}


@functools.cache
def _region_tables() -> tuple[dict[str, str], dict[str, str]]:
    """('CC|key' -> ISO 3166-2 code, code -> code). Keys are the subdivision part of the
    code ('CA' in US-CA) and the subdivision's names; first-level subdivisions win over
    the ones below them."""
    subs = list(pycountry.subdivisions)
    top = [s for s in subs if not getattr(s, "parent_code", None)]
    low = [s for s in subs if getattr(s, "parent_code", None)]

    def by_name(group):
        return [(f"{s.country_code} {v}", s.code) for s in group for v in _variants(s.name)]

    aliases = [(f"{cc} {k}", code) for (cc, k), code in _REGION_ALIASES.items()]
    suffixes = [(f"{s.country_code} {s.code.split('-', 1)[1]}", s.code) for s in subs]
    table = _table([aliases, suffixes, by_name(top), by_name(low)])
    return table, {s.code: s.code for s in subs}


def _region_iso(keys: pl.Series) -> pl.Series:
    """Region codes of distinct keys 'CC\x00region' (country given) or '*CC\x00region'
    (the source's default country: then a full code of any country is taken)."""
    by_name, codes = _region_tables()
    parts = keys.to_frame("k").select(
        pl.col("k").str.extract(r"^\*?([^\x00]*)\x00", 1).alias("cc"),
        pl.col("k").str.starts_with("*").alias("defaulted"),
        pl.col("k").str.extract(r"(?s)\x00(.*)$", 1).alias("region"),
    )
    frame = parts.with_columns(_lookup_key(parts["region"]).alias("key"))
    return frame.select(
        pl.coalesce(
            (pl.col("cc").str.to_lowercase() + " " + pl.col("key")).replace_strict(by_name, default=None, return_dtype=pl.Utf8),
            pl.col("region").str.strip_chars().str.to_uppercase().replace_strict(codes, default=None, return_dtype=pl.Utf8)
            .pipe(lambda full: pl.when(pl.col("defaulted") | (full.str.slice(0, 2) == pl.col("cc"))).then(full)),
        )
    ).to_series()


def region_iso(expr: pl.Expr, country: pl.Expr | None = None, default_country: str = HOME_COUNTRY) -> pl.Expr:
    """ISO 3166-2 code of a state, province or UK nation ('California', 'CA', 'ca' with
    country US -> 'US-CA'; 'England' or 'ENG' with GB -> 'GB-ENG'; 'Ontario' with CA ->
    'CA-ON'). The region is read in the record's ISO-2 ``country``, or ``default_country``
    when that is null; a full code ('US-CA') is taken when it is of the record's country,
    or of any country when the record has none. Anything else is null."""
    cc = pl.lit("*" + default_country) if country is None else pl.coalesce(country, pl.lit("*" + default_country))
    key = pl.when(expr.is_not_null()).then(cc + "\x00" + expr)
    return _batch(lambda s: _distinct(s, _region_iso), key)


# --------------------------------------------------------------------------- numbers, times
def employees_from_band(expr: pl.Expr) -> pl.Expr:
    """'11-50' -> 30, '1000+' -> 1000, '250' -> 250: a point estimate for sizing."""
    low = expr.str.extract(r"(\d[\d,]*)", 1).str.replace_all(",", "").cast(pl.Int64, strict=False)
    high = expr.str.extract(r"\d[\d,]*\s*[-–]\s*(\d[\d,]*)", 1).str.replace_all(",", "").cast(
        pl.Int64, strict=False
    )
    return pl.when(high.is_not_null()).then((low + high) // 2).otherwise(low)


def utc_timestamp(expr: pl.Expr, formats: tuple[str, ...] | None = None) -> pl.Expr:
    """Parse source times into a naive UTC datetime (µs).

    ``formats`` are strptime formats to try in order; with an offset directive (``%z``) the
    offset is honoured, without one the time is UTC, as every source in
    docs/landing-zone.md documents. ``None`` tries every format leadgen knows (slower).
    """
    s = expr.str.strip_chars()
    formats = formats or KNOWN_TIME_FORMATS
    parsed = []
    for fmt in formats:
        if fmt.endswith("%z"):
            text = s.str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d\d):?(\d\d)$", "$1$2")
            parsed.append(
                text.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False).dt.replace_time_zone(None)
            )
        elif fmt == "%Y-%m-%d":
            parsed.append(s.str.strptime(pl.Date, fmt, strict=False).cast(pl.Datetime("us")))
        else:
            parsed.append(s.str.strptime(pl.Datetime("us"), fmt, strict=False))
    return parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)


ISO_Z = "%Y-%m-%dT%H:%M:%S%.f%z"  # 2026-06-03T14:05:09.123Z, 2026-06-01T09:45:12-04:00, +0000
KNOWN_TIME_FORMATS = (
    ISO_Z,
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S UTC",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d",
)
