"""Delivery health: whole-file flags with documented thresholds."""

import polars as pl

from leadgen_assets.core import health


def leads(n: int, email=lambda i: f"p{i}@acme.com", phone=lambda i: f"+1415555{i:04d}", file="form_leads/d/website-d.csv"):
    return pl.DataFrame({
        "source_file": [file] * n,
        "email": [email(i) for i in range(n)],
        "email_key": [email(i) for i in range(n)],
        "phone_e164": [phone(i) for i in range(n)],
    })


def test_a_healthy_file_has_no_flags() -> None:
    assert health.file_flags("form_leads", leads(100)).is_empty()


def test_null_storm_thresholds() -> None:
    warn = health.file_flags("form_leads", leads(100, email=lambda i: None if i < 60 else f"p{i}@a.com"))
    fail = health.file_flags("form_leads", leads(100, email=lambda i: None if i < 95 else f"p{i}@a.com"))
    assert warn.select("flag", "field", "share", "severity").rows() == [("null_storm", "email", 0.6, "warning")]
    assert fail["severity"].to_list() == ["failure"]


def test_placeholder_storm_needs_share_and_repeats() -> None:
    storm = health.file_flags("form_leads", leads(50, phone=lambda i: "+15555555555" if i < 20 else f"+1415555{i:04d}"))
    assert storm.select("flag", "field", "rows", "severity").rows() == [("placeholder_storm", "phone_e164", 50, "failure")]
    # one person submitting three times in a small file is not a storm
    assert health.file_flags("form_leads", leads(25, email=lambda i: "same@acme.com" if i < 3 else f"p{i}@a.com")).is_empty()
    # and files under 20 rows are never judged
    assert health.file_flags("form_leads", leads(10, email=lambda i: None)).is_empty()


def test_empty_and_header_only_files_are_warnings() -> None:
    flags = health.empty_file_flags([("a.csv", 0, 0), ("b.csv", 120, 0), ("c.csv", 500, 4)])
    assert flags.select("source_file", "flag", "severity").rows() == [
        ("a.csv", "empty_file", "warning"), ("b.csv", "header_only", "warning")
    ]
