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
        ("", None, None),
        ("a..b@acme.com", None, None),  # email-validator: two periods in a row
        ("a.@acme.com", None, None),
        ("a@-acme.com", None, None),
        ("a@acme.test", None, None),  # special-use domain
        ("a@@acme.com", None, None),
        ("first last@acme.com", None, None),
        ("a@b.c", "a@b.c", "a@b.c"),  # one-letter TLDs are valid syntax
        ("José@Exämple.com", "josé@xn--exmple-cua.com", "josé@xn--exmple-cua.com"),  # IDNA domain
        ("+promo@acme.com", "+promo@acme.com", "+promo@acme.com"),  # all tag: kept
        ("a.b+c+d@GoogleMail.com", "a.b+c+d@googlemail.com", "ab@gmail.com"),
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
        (None, "US", None),
        ("+44 (0)20 7946 0958", None, "+442079460958"),  # the trunk 0 in brackets goes
        ("+44 020 7946 0958", "US", "+442079460958"),
        ("011 44 20 7946 0958", "US", "+442079460958"),  # US international prefix
        ("00 1 415 555 0134", "GB", "+14155550134"),  # UK international prefix
        ("0044 20 7946 0958", "US", None),  # 00 is not an international prefix in the US
        ("00123456789", "GB", None),  # +1 23456789: too short
        ("415-555-0134 ext. 12", "US", "+14155550134"),  # extension dropped
        ("1-800-FLOWERS", "US", "+18003569377"),  # letters as on a keypad
        ("030 901820", "DE", "+4930901820"),  # any country phonenumbers knows
        ("+49 30 901820", "GB", "+4930901820"),
        ("555-0134", "US", None),  # local only: no area code
        ("555-555-5555", None, "+15555555555"),  # placeholders are kept (identity finds them)
        ("0000000000", None, "+10000000000"),
        ("(415) 555-0134", "GB", "+444155550134"),  # read where the record says it is
        ("not a phone", "US", None),
    ],
)
def test_phone_e164(raw, country, e164) -> None:
    assert one(n.phone_e164(pl.col("p"), pl.col("c")), p=raw, c=country) == e164


def test_phone_default_region_is_the_sources() -> None:
    frame = pl.DataFrame({"p": ["020 7946 0958", "(415) 555-0134"], "c": [None, None]}, schema={"p": pl.Utf8, "c": pl.Utf8})
    assert frame.select(n.phone_e164(pl.col("p"), pl.col("c"), default_region="GB"))["p"].to_list() == [
        "+442079460958", "+444155550134"
    ]
    assert frame.select(n.phone_e164(pl.col("p")))["p"].to_list() == [None, "+14155550134"]
    assert set(n.SOURCE_COUNTRY) >= {"form_leads", "crm_contacts", "crm_accounts", "consent_events", "enrichment"}


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
    [
        ("Acme IT, Inc.", "acme it"),
        ("Smith & Sons Ltd", "smith and sons"),
        ("Café Co.", "cafe"),
        ("LLC", None),
        ("Acme, Inc.", "acme"),
        ("ACME Ltd.", "acme"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Smith & Co.", "smith"),
        ("The Acme Company", "acme"),
        ("Acme L.L.C.", "acme"),
        ("Nørd Groß AG", "nord gross"),
        ("Acme Pty Ltd", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("O'Neil Plumbing", "oneil plumbing"),
        ("Acme Holdings", "acme holdings"),  # not a legal form
        ("  ", None),
        (None, None),
    ],
)
def test_company_key(raw, key) -> None:
    assert one(n.company_key(pl.col("c")), c=raw) == key


@pytest.mark.parametrize(
    ("raw", "cleaned", "key"),
    [
        ("  José\u00a0 Luis ", "José Luis", "joseluis"),
        ("Zoë\u200b", "Zoë", "zoe"),  # zero-width space dropped
        ("Ｊｏｈｎ", "John", "john"),  # full-width letters (NFKC)
        ("Łukasz\tBrzęczyszczykiewicz", "Łukasz Brzęczyszczykiewicz", "lukaszbrzeczyszczykiewicz"),
        ("O'Brien-Smith", "O'Brien-Smith", "obriensmith"),
        ("Groß", "Groß", "gross"),
        ("李小龍", "李小龍", "李小龍"),
        (" \t ", None, None),
    ],
)
def test_person_names(raw, cleaned, key) -> None:
    assert one(n.clean_text(pl.col("t")), t=raw) == cleaned
    assert one(n.name_key(pl.col("t")), t=raw) == key


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("US", "US"), ("usa", "US"), ("U.S.", "US"), ("United States of America", "US"), ("America", "US"),
        ("GBR", "GB"), ("England", "GB"), ("Great Britain", "GB"), ("uk", "GB"),
        ("CAN", "CA"), ("canada", "CA"), ("Deutschland", "DE"), ("Türkiye", "TR"), ("Turkey", "TR"),
        ("Korea, Republic of", "KR"), ("South Korea", "KR"), ("Côte d'Ivoire", "CI"), ("Viet Nam", "VN"),
        ("xx", None), ("Atlantis", None), ("", None), (None, None),
    ],
)
def test_country_iso2(raw, iso) -> None:
    assert one(n.country_iso2(pl.col("c")), c=raw) == iso


@pytest.mark.parametrize(
    ("region", "country", "iso"),
    [
        ("CA", "US", "US-CA"), ("California", "US", "US-CA"), ("ca", None, "US-CA"), ("US-NY", "US", "US-NY"),
        ("District of Columbia", "US", "US-DC"), ("Washington, D.C.", "US", "US-DC"),
        ("ON", "CA", "CA-ON"), ("Québec", "CA", "CA-QC"), ("Newfoundland", "CA", "CA-NL"),
        ("ENG", "GB", "GB-ENG"), ("England", "GB", "GB-ENG"), ("Scotland", "GB", "GB-SCT"), ("Wales", "GB", "GB-WLS"),
        ("Cymru", "GB", "GB-WLS"), ("NIR", "GB", "GB-NIR"),
        ("GB-ENG", None, "GB-ENG"),  # a full code, no country on the record
        ("GB-ENG", "US", None),  # a full code of another country than the record's
        ("ON", None, None),  # read in the default country (US): no such state
        ("Narnia", "US", None), (None, "US", None),
    ],
)
def test_region_iso(region, country, iso) -> None:
    assert one(n.region_iso(pl.col("r"), pl.col("c")), r=region, c=country) == iso


def test_free_mail() -> None:
    domains = ["gmail.com", "yahoo.co.uk", "yahoo.fr", "comcast.net", "btinternet.com", "acme-it.com", "gmail.acme.com"]
    assert [one(n.is_free_mail(pl.col("d")), d=d) for d in domains] == [True, True, True, True, True, False, False]


def test_url_domain_country_and_size() -> None:
    assert one(n.url_domain(pl.col("u")), u="https://www.Acme-IT.com/about?x=1") == "acme-it.com"
    assert one(n.url_domain(pl.col("u")), u="john@acme-it.com") == "acme-it.com"
    assert one(n.url_domain(pl.col("u")), u="acme-it.com.:443") == "acme-it.com"
    assert one(n.url_domain(pl.col("u")), u="not a website") is None
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


def test_signals_use_the_record_country_and_iso_regions() -> None:
    """The signals call the normalisers as documented: a lead's phone is read in its
    country, CRM accounts and enrichment carry ISO 3166-2 regions."""
    import json

    from leadgen_assets.core import signals

    def raw(records: list[dict], file: str) -> pl.DataFrame:
        return pl.DataFrame(
            {"delivery_date": [dt.date(2026, 6, 1)] * len(records), "source_file": [file] * len(records),
             "source_line": list(range(2, len(records) + 2)), "record": [json.dumps(r) for r in records]},
            schema={"delivery_date": pl.Date, "source_file": pl.Utf8, "source_line": pl.Int64, "record": pl.Utf8},
        )

    leads, _ = signals.form_leads(raw(
        [{"Lead ID": "1", "Submitted At": "2026-06-01 10:00:00", "Phone Number": "020 7946 0958", "Country": "UK"},
         {"Lead ID": "2", "Submitted At": "2026-06-01 10:00:00", "Phone Number": "(415) 555-0134", "Country": ""}],
        "form_leads/2026-06-01/google_ads-2026-06-01.csv",
    ))
    assert leads.select("country", "phone_e164").rows() == [("GB", "+442079460958"), (None, "+14155550134")]
    accounts, _ = signals.crm_accounts(raw(
        [{"Id": "a1", "BillingCountry": "United Kingdom", "BillingState": "ENG", "LastModifiedDate": "2026-06-01T00:00:00Z"},
         {"Id": "a2", "BillingCountry": "", "BillingState": "California", "LastModifiedDate": "2026-06-01T00:00:00Z"}],
        "crm_accounts/2026-06-01/accounts.csv",
    ))
    assert accounts.select("country", "region", "region_iso").rows() == [("GB", "ENG", "GB-ENG"), (None, "California", "US-CA")]
    enriched, _ = signals.enrichment(raw(
        [{"domain": "https://www.acme.co.uk/", "country": "GB", "region": "Scotland"}],
        "enrichment/2026-06-01/enrichment.jsonl",
    ))
    assert enriched.select("domain", "country", "region_iso").rows() == [("acme.co.uk", "GB", "GB-SCT")]
