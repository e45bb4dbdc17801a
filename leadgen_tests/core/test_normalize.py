import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadgen_assets.core import normalize as n


def one(expr: pl.Expr, **cols):
    frame = pl.DataFrame({k: [v] for k, v in cols.items()}, schema={k: pl.Utf8 for k in cols})
    return frame.select(expr.alias("out"))["out"][0]


@pytest.mark.parametrize(
    ("raw", "email", "key"),
    [
        ("  John.Smith+promo@Gmail.com ", "john.smith+promo@gmail.com", "johnsmith@gmail.com"),
        ("j.o.h.n@googlemail.com", "j.o.h.n@googlemail.com", "john@gmail.com"),
        ("Jane.Doe+x@Acme-IT.com", "jane.doe+x@acme-it.com", "jane.doe@acme-it.com"),
        ("not an email", None, None),
        ("a@b", None, None),
        (None, None, None),
    ],
)
def test_email_and_match_key(raw, email, key) -> None:
    assert one(n.email(pl.col("e")), e=raw) == email
    assert one(n.email_key(n.email(pl.col("e"))), e=raw) == key


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("(415) 555-0134", "US", "+14155550134"),
        ("415.555.0134", None, "+14155550134"),
        ("+1 415 555 0134", "US", "+14155550134"),
        ("1-415-555-0134", "CA", "+14155550134"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("12345", "US", None),
        ("", "US", None),
    ],
)
def test_phone_e164(raw, country, e164) -> None:
    assert one(n.phone_e164(pl.col("p"), pl.col("c")), p=raw, c=country) == e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-06-01 13:45:12", dt.datetime(2026, 6, 1, 13, 45, 12)),
        ("2026-06-01T13:45:12+0000", dt.datetime(2026, 6, 1, 13, 45, 12)),
        ("2026-06-01T09:45:12-04:00", dt.datetime(2026, 6, 1, 13, 45, 12)),
        ("06/01/2026 13:45", dt.datetime(2026, 6, 1, 13, 45)),
        ("2026-06-01 13:45:12 UTC", dt.datetime(2026, 6, 1, 13, 45, 12)),
        ("2026-06-03T14:05:09.123Z", dt.datetime(2026, 6, 3, 14, 5, 9, 123000)),
        ("2026-06-01", dt.datetime(2026, 6, 1)),
        ("yesterday", None),
    ],
)
def test_every_source_time_format_becomes_utc(raw, expected) -> None:
    assert one(n.utc_timestamp(pl.col("t")), t=raw) == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [("Acme IT, Inc.", "acme it"), ("Smith & Sons Ltd", "smith and sons"), ("Café Co.", "cafe"), ("LLC", None)],
)
def test_company_key(raw, key) -> None:
    assert one(n.company_key(pl.col("c")), c=raw) == key


def test_url_domain_country_and_size() -> None:
    assert one(n.url_domain(pl.col("u")), u="https://www.Acme-IT.com/about?x=1") == "acme-it.com"
    assert one(n.country_iso2(pl.col("c")), c=" United Kingdom ") == "GB"
    assert one(n.country_iso2(pl.col("c")), c="U.S.A") == "US"
    assert one(n.employees_from_band(pl.col("b")), b="11-50") == 30
    assert one(n.employees_from_band(pl.col("b")), b="1,001-5,000") == 3000


@given(st.emails())
def test_email_key_is_idempotent_and_lowercase(address: str) -> None:
    normalised = one(n.email(pl.col("e")), e=address)
    if normalised is None:
        return
    key = one(n.email_key(pl.col("e")), e=normalised)
    assert key == key.lower()
    assert one(n.email_key(pl.col("e")), e=key) == key
    # the tag is gone, unless the whole local part is a tag ("+promo@x.com" stays as it is)
    assert "+" not in key.split("@")[0][1:]


@given(st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z"), st.sampled_from(["({a}) {b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "{a}{b}{c}"]))
def test_any_nanp_format_gives_the_same_e164(digits: str, fmt: str) -> None:
    typed = fmt.format(a=digits[:3], b=digits[3:6], c=digits[6:])
    assert one(n.phone_e164(pl.col("p"), pl.col("c")), p=typed, c="US") == "+1" + digits
