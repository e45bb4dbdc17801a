import datetime as dt
import json

import polars as pl

from leadgen_assets.core import layouts, signals
from leadgen_assets.core.parsing import Field, parse_records

DAY = dt.date(2026, 6, 1)


def raw(records: list, file: str = "form_leads/2026-06-01/google_ads-2026-06-01.csv") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "delivery_date": [DAY] * len(records),
            "source_file": [file] * len(records),
            "source_line": list(range(2, len(records) + 2)),
            "record": [r if isinstance(r, str) else json.dumps(r) for r in records],
        },
        schema={"delivery_date": pl.Date, "source_file": pl.Utf8, "source_line": pl.Int64, "record": pl.Utf8},
    )


def test_header_variants_map_to_one_field() -> None:
    mapping, unmapped = layouts.map_header(["E-mail Address", "Lead ID", "Submitted On", "Favourite Colour"])
    assert mapping["email"] == "E-mail Address"
    assert mapping["source_record_id"] == "Lead ID"
    assert unmapped == ["Favourite Colour"]
    assert layouts.channel_of("meta_lead_ads-2026-06-01.csv") == "meta_lead_ads"
    assert layouts.channel_of("unknown-2026-06-01.csv") is None


def test_parse_records_accounts_for_every_row() -> None:
    fields = {"n": Field("n", "int", required=True), "name": Field("name")}
    frame = raw([{"n": "1", "name": "a"}, {"n": "x"}, {"name": "b"}, "not json", "[1, 2]"])
    ok, bad = parse_records(frame, "test", fields)
    assert ok["n"].to_list() == [1]
    assert ok.height + bad.height == frame.height
    assert dict(zip(bad["source_line"], bad["reason"], strict=True)) == {
        3: "unparseable int in n",
        4: "required n is missing",
        5: "not a JSON object",
        6: "not a JSON object",
    }


def test_form_leads_layouts_and_rejects() -> None:
    google = raw(
        [
            {"Lead ID": "g1", "Submitted At": "2026-06-01 10:00:00", "Full Name": "Robert  Smith", "Email": " Rob.Smith@Acme-IT.com",
             "Phone Number": "(415) 555-0134", "Country": "United States", "Company Name": "Acme IT, Inc."},
            {"Lead ID": "g2", "Submitted At": "2026-06-01 10:05:00", "Full Name": "No Contact", "Email": "", "Phone Number": ""},
            {"Lead ID": "g1", "Submitted At": "2026-06-01 10:00:00", "Full Name": "Robert Smith", "Email": "rob.smith@acme-it.com"},
            {"Lead ID": "g3", "Submitted At": "soon", "Email": "x@y.com"},
        ]
    )
    reordered_missing = raw(
        [{"email": "a@b.com", "first_name": "A"}],
        file="form_leads/2026-06-01/website-2026-06-01.csv",
    )
    leads, rejected = signals.form_leads(pl.concat([google, reordered_missing]))
    assert leads["lead_id"].to_list() == ["google_ads:g1"]
    row = leads.row(0, named=True)
    assert (row["first_name"], row["last_name"], row["email_key"], row["phone_e164"], row["company_domain"], row["country"]) == (
        "Robert", "Smith", "rob.smith@acme-it.com", "+14155550134", "acme-it.com", "US"
    )
    reasons = sorted(zip(rejected["source_line"], rejected["reason"], strict=True))
    assert reasons == [
        (2, "file has no column for required source_record_id"),
        (3, "no valid email or phone"),
        (4, "duplicate lead id in the day's delivery"),
        (5, "unparseable timestamp in submitted_at"),
    ]
    assert leads.height + rejected.height == 5
    # rejects carry no values from the row: only where and why
    assert set(rejected.columns) == {"delivery_date", "source", "source_file", "source_line", "field", "reason"}


def test_web_events_parse_and_reject_reasons() -> None:
    frame = raw(
        [
            {"messageId": "m1", "type": "page", "anonymousId": "v-1", "timestamp": "2026-05-31T23:59:00.5Z",
             "properties": {"path": "/pricing", "referrer": "https://www.google.com/"}},
            {"messageId": "m2", "type": "identify", "anonymousId": "v-1", "timestamp": "2026-06-01T08:00:00Z",
             "traits": {"email": " Bob.Smith+x@GMAIL.com"}},
            "not json",
            "[1, 2]",
            {"messageId": "m3", "type": "page", "anonymousId": "v-2", "timestamp": "2026-06-01 10:00:00"},
            {"messageId": "m4", "type": "page", "timestamp": "2026-06-01T10:00:00Z"},
            {"type": "page", "anonymousId": "v-3", "timestamp": "2026-06-01T10:00:00Z"},
            '{"messageId": "m5", "type": "page", "anonymousId": "v-4"',  # an object cut off mid-line
            '{"messageId": "m6"} trailing',
        ],
        file="web_events/2026-06-01/events-2026-06-01-000.jsonl",
    )
    ok, bad = signals.web_events(frame)
    assert ok["event_id"].to_list() == ["m1", "m2"]
    first, second = ok.row(0, named=True), ok.row(1, named=True)
    assert first["page_path"] == "/pricing" and first["is_late"] and first["event_at"] == dt.datetime(2026, 5, 31, 23, 59, 0, 500000)
    assert second["email_key"] == "bobsmith@gmail.com" and not second["is_late"]
    assert sorted(zip(bad["source_line"], bad["reason"], strict=True)) == [
        (4, "not a JSON object"),
        (5, "not a JSON object"),
        (6, "unparseable timestamp in event_at"),
        (7, "no anonymous id or user id"),
        (8, "required event_id is missing"),
        (9, "not a JSON object"),
        (10, "not a JSON object"),
    ]


def test_a_csv_file_without_a_required_column_is_rejected_whole_and_extra_columns_are_listed() -> None:
    header = ["Id", "Name", "Email", "Territory", "Segment", "DailyCapacity", "IsActive"]
    good = raw([dict(zip(header, ["u1", "Ann", "a@x.io", "UK", "SMB", "20", "true"], strict=True)) | {"Desk": "3"}],
               file="crm_users/2026-06-01/users-2026-06-01.csv")
    lacking = raw([{k: "x" for k in header if k != "Segment"}] * 2, file="crm_users/2026-06-01/users-b.csv")
    ok, bad = signals.transform("crm_users", pl.concat([good, lacking]))
    assert ok["user_id"].to_list() == ["u1"]
    assert bad.select("source_file", "source_line", "field", "reason").rows() == [
        ("crm_users/2026-06-01/users-b.csv", line, "segment", "file has no column for required segment") for line in (2, 3)
    ]
    # documented columns no field reads (a rep's name and email) are not extra; "Desk" is
    assert signals.extra_columns("crm_users", pl.concat([good, lacking])).rows() == [
        ("crm_users/2026-06-01/users-2026-06-01.csv", "Desk")
    ]
    assert signals.extra_columns("web_events", good).is_empty()  # JSON lines have no header


def test_every_drifted_channel_header_maps_what_the_original_mapped() -> None:
    """The simulator's form_layout drift is the channels' known header variant: whatever
    the original header fed, the drifted one feeds too, from the same column."""
    from leadgen_assets.sim.forms import DRIFTED_LAYOUTS, LAYOUTS

    for channel in layouts.CHANNELS:
        base, _ = layouts.map_header(list(LAYOUTS[channel]))
        drifted, _ = layouts.map_header(list(DRIFTED_LAYOUTS[channel]))
        assert {f: LAYOUTS[channel][c] for f, c in base.items()} == {
            f: DRIFTED_LAYOUTS[channel][c] for f, c in drifted.items() if f in base
        }, channel
        assert set(base) <= set(drifted), channel
