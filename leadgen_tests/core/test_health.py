"""Delivery health: whole-file flags with documented thresholds."""

import polars as pl

from leadgen_assets.core import health


def flags_of(frame: pl.DataFrame, source: str = "form_leads") -> pl.DataFrame:
    return health.file_flags(source, health.file_counts(source, frame))


def leads(n: int, email=lambda i: f"p{i}@acme.com", phone=lambda i: f"+1415555{i:04d}", file="form_leads/d/website-d.csv"):
    return pl.DataFrame({
        "source_file": [file] * n,
        "email": [email(i) for i in range(n)],
        "email_key": [email(i) for i in range(n)],
        "phone_e164": [phone(i) for i in range(n)],
    })


def test_a_healthy_file_has_no_flags() -> None:
    assert flags_of(leads(100)).is_empty()


def test_null_storm_thresholds() -> None:
    warn = flags_of(leads(100, email=lambda i: None if i < 60 else f"p{i}@a.com"))
    fail = flags_of(leads(100, email=lambda i: None if i < 95 else f"p{i}@a.com"))
    assert warn.select("flag", "field", "share", "severity").rows() == [("null_storm", "email", 0.6, "warning")]
    assert fail["severity"].to_list() == ["failure"]


def test_placeholder_storm_needs_share_and_repeats() -> None:
    storm = flags_of(leads(50, phone=lambda i: "+15555555555" if i < 20 else f"+1415555{i:04d}"))
    assert storm.select("flag", "field", "rows", "severity").rows() == [("placeholder_storm", "phone_e164", 50, "failure")]
    # one person submitting three times in a small file is not a storm
    assert flags_of(leads(25, email=lambda i: "same@acme.com" if i < 3 else f"p{i}@a.com")).is_empty()
    # and files under 20 rows are never judged
    assert flags_of(leads(10, email=lambda i: None)).is_empty()


def test_empty_and_header_only_files_are_warnings() -> None:
    flags = health.empty_file_flags([("a.csv", 0, 0), ("b.csv", 120, 0), ("c.csv", 500, 4)])
    assert flags.select("source_file", "flag", "severity").rows() == [
        ("a.csv", "empty_file", "warning"), ("b.csv", "header_only", "warning")
    ]


def test_null_counts_of_slices_add_up_to_the_whole_file() -> None:
    events = pl.DataFrame({
        "source_file": ["web_events/2026-06-01/e.jsonl"] * 100,
        "anonymous_id": [None if i % 10 < 6 else f"a{i}" for i in range(100)],
    })
    whole = health.file_flags("web_events", health.file_counts("web_events", events))
    slices = health.file_flags("web_events", [health.file_counts("web_events", events.slice(k, 25)) for k in range(0, 100, 25)])
    assert whole.rows() == slices.rows() == [("web_events/2026-06-01/e.jsonl", "null_storm", "anonymous_id", 0.6, 100, "warning")]


def test_sources_transformed_in_slices_have_no_repeat_counts() -> None:
    # repeat counts do not add up across slices, so a sliced source must not have any
    from leadgen_assets.core.signals import ROW_LOCAL

    assert all(not health.REPEAT_FIELDS.get(source) for source in ROW_LOCAL)
