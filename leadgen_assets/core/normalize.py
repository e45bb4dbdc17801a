"""Normalisation of the identifiers people type into forms and CRMs.

Pure polars expressions, no Dagster and no I/O, so that millions of rows stay vectorised.
Each function takes an expression holding the raw text and returns the normalised one;
a value that cannot be normalised becomes null (and the caller decides whether that is a
reject). The raw value is always kept next to the normalised one by the callers.
"""

from __future__ import annotations

import polars as pl

FREE_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "outlook.com",
    "hotmail.com", "hotmail.co.uk", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "protonmail.com", "proton.me", "gmx.com", "mail.com", "zoho.com", "yandex.com",
)
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
ROLE_LOCAL_PARTS = (
    "info", "sales", "office", "admin", "contact", "hello", "support", "team", "billing",
    "accounts", "marketing", "enquiries", "inquiries", "hr", "noreply", "no-reply", "reception",
)
LEGAL_SUFFIXES = (
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "plc", "llp", "lp", "pllc", "gmbh", "pc",
)

_COUNTRY_ALIASES = {
    "us": "US", "usa": "US", "united states": "US", "united states of america": "US",
    "ca": "CA", "can": "CA", "canada": "CA",
    "gb": "GB", "uk": "GB", "united kingdom": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB",
}

_EMAIL_SHAPE = r"^[a-z0-9._%+'\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$"


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Unicode NFKC, collapse inner whitespace, trim; empty becomes null."""
    out = expr.str.normalize("NFKC").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(out == "").then(None).otherwise(out)


def email(expr: pl.Expr) -> pl.Expr:
    """Lower-cased, trimmed address if it has a valid shape, else null."""
    e = expr.str.strip_chars().str.to_lowercase()
    return pl.when(e.str.contains(_EMAIL_SHAPE)).then(e).otherwise(None)


def email_key(expr: pl.Expr) -> pl.Expr:
    """Matching key of an already-normalised address: plus-tags dropped, gmail dots removed."""
    local = expr.str.extract(r"^([^@]+)@", 1)
    untagged = local.str.replace(r"\+.*$", "")
    local = pl.when(untagged.str.len_chars() > 0).then(untagged).otherwise(local)
    domain = expr.str.extract(r"@(.+)$", 1).str.replace("^googlemail\\.com$", "gmail.com")
    local = pl.when(domain == "gmail.com").then(local.str.replace_all(r"\.", "")).otherwise(local)
    return pl.when(expr.is_null()).then(None).otherwise(local + "@" + domain)


def email_domain(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"@(.+)$", 1)


def is_free_mail(domain: pl.Expr) -> pl.Expr:
    return domain.is_in(FREE_MAIL_DOMAINS)


def is_role_address(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"^([^@+]+)", 1).is_in(ROLE_LOCAL_PARTS)


def phone_e164(expr: pl.Expr, country: pl.Expr) -> pl.Expr:
    """E.164 for the NANP (US, CA) and the UK; anything else that is not already +E.164 is null.

    ``country`` is the ISO-2 country of the record (null means NANP, the business's home
    market). Numbers that are all one digit or a straight run (placeholders) are kept: the
    identity layer detects placeholders by how many different people share them.
    """
    raw = expr.str.strip_chars()
    digits = raw.str.replace_all(r"[^0-9]", "")
    plus = raw.str.starts_with("+") | raw.str.starts_with("00")
    digits = pl.when(raw.str.starts_with("00")).then(digits.str.slice(2)).otherwise(digits)
    n = digits.str.len_chars()
    uk = (country == "GB").fill_null(False)
    return (
        pl.when(raw.is_null() | (n == 0))
        .then(None)
        .when(plus & (n >= 10) & (n <= 15))
        .then("+" + digits)
        .when(uk & digits.str.starts_with("44") & (n == 12))
        .then("+" + digits)
        .when(uk & digits.str.starts_with("0") & (n == 11))
        .then("+44" + digits.str.slice(1))
        .when(~uk & (n == 10))
        .then("+1" + digits)
        .when(~uk & (n == 11) & digits.str.starts_with("1"))
        .then("+" + digits)
        .otherwise(None)
    )


def country_iso2(expr: pl.Expr) -> pl.Expr:
    key = expr.str.strip_chars().str.to_lowercase().str.replace_all(r"\.", "")
    mapped = key.replace_strict(_COUNTRY_ALIASES, default=None, return_dtype=pl.Utf8)
    two_letter = pl.when(key.str.contains(r"^[a-z]{2}$")).then(key.str.to_uppercase())
    return pl.coalesce(mapped, two_letter)


def name_key(expr: pl.Expr) -> pl.Expr:
    """Lower-case letters only, for matching (accents folded by NFKD and stripping marks)."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z]", "")
        .pipe(lambda e: pl.when(e == "").then(None).otherwise(e))
    )


def company_key(expr: pl.Expr) -> pl.Expr:
    """Company name without case, punctuation or legal suffixes: 'Acme IT, Inc.' -> 'acme it'."""
    words = (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}", "")
        .str.to_lowercase()
        .str.replace_all("&", " and ")
        .str.replace_all(r"[^a-z0-9 ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    suffixes = "|".join(LEGAL_SUFFIXES)
    stripped = words.str.replace(rf"((^|\s)({suffixes}))+$", "").str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def url_domain(expr: pl.Expr) -> pl.Expr:
    """'https://www.Acme-IT.com/about' -> 'acme-it.com'."""
    host = (
        expr.str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^[a-z]+://", "")
        .str.replace(r"^www\.", "")
        .str.replace(r"[/?#:].*$", "")
    )
    return pl.when(host.str.contains(r"^[a-z0-9\-]+(\.[a-z0-9\-]+)+$")).then(host).otherwise(None)


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
