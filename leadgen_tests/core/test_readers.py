"""Delivered files are read in full: every line is a record or an unreadable line with its reason."""

import codecs
import datetime as dt
import json
from pathlib import Path

import pytest

import polars as pl

from leadgen_assets.core.readers import delivered_files, read_file

DAY = dt.date(2026, 6, 1)
HEADER = "Lead ID,Submitted At,Full Name,Email\n"


def land(tmp_path: Path, name: str, data: bytes, source: str = "form_leads") -> Path:
    folder = tmp_path / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return tmp_path


def read(tmp_path: Path, source: str = "form_leads", fmt: str = "csv"):
    paths = delivered_files(tmp_path, source, DAY)
    frames = [read_file(p, str(p.relative_to(tmp_path)), DAY, fmt) for p in paths]
    return pl.concat(frames), len(paths), sum(p.stat().st_size for p in paths)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("cp1252"),  # Latin-1 style export
        lambda t: t.encode("utf-16"),  # with its BOM
    ],
    ids=["utf-8", "utf-8-bom", "latin-1", "utf-16"],
)
def test_encodings_are_detected_and_converted(tmp_path: Path, encode) -> None:
    text = HEADER + "1,2026-06-01 10:00:00,José Núñez,j@n.es\n"
    frame, _, _ = read(land(tmp_path, "google_ads-2026-06-01.csv", encode(text)))
    assert frame["read_error"].to_list() == [None]
    assert json.loads(frame["record"][0]) == {
        "Lead ID": "1", "Submitted At": "2026-06-01 10:00:00", "Full Name": "José Núñez", "Email": "j@n.es"
    }


def test_every_physical_line_is_accounted_for(tmp_path: Path) -> None:
    body = (
        HEADER
        + '1,2026-06-01 10:00:00,"Smith, Jo",a@b.com\n'  # line 2
        + '2,2026-06-01 10:00:00,"Two\nlines",c@d.com\n'  # lines 3-4: one record
        + "3,x,ragged\n"  # line 5
        + "4,2026-06-01,Zoë,z@u.com\n"  # line 6
    ).encode() + b"5,2026-06-01,Bad \xff byte,q@w.com\n" + b"6,2026-06-01,Nul\x00here,n@u.com\n" + (
        '7,ok,"never closed,e@f.com\n'  # line 9
        + "8,2026-06-01,swallowed,s@w.com\n"  # line 10
    ).encode()
    frame, files, size = read(land(tmp_path, "google_ads-2026-06-01.csv", body))
    assert (files, size) == (1, len(body))
    got = dict(zip(frame["source_line"], frame["read_error"], strict=True))
    assert got == {
        2: None,
        3: None,
        5: "wrong number of fields: 3, the header has 4",
        6: None,
        7: "not valid UTF-8",
        8: "NUL byte in line",
        9: "inside a quoted field that opens on line 9 and never closes",
        10: "inside a quoted field that opens on line 9 and never closes",
    }
    assert json.loads(frame.filter(frame["source_line"] == 3)["record"][0])["Full Name"] == "Two\nlines"


def test_empty_and_header_only_files_give_no_rows(tmp_path: Path) -> None:
    land(tmp_path, "google_ads-2026-06-01.csv", b"")
    land(tmp_path, "meta_lead_ads-2026-06-01.csv", HEADER.encode())
    frame, files, _ = read(tmp_path)
    assert files == 2 and frame.is_empty()


def test_jsonl_lines_keep_their_numbers_and_bad_lines_are_kept(tmp_path: Path) -> None:
    good = b'{"messageId": "m1"}\n\n{"messageId": "m2"}\n'
    frame, _, _ = read(land(tmp_path, "events-2026-06-01-000.jsonl", good, "web_events"), "web_events", "jsonl")
    assert frame.select("source_line", "read_error").rows() == [(1, None), (3, None)]
    # clearly UTF-8 (the first line has an é), so the lone \xff is a broken line, not Latin-1
    bad = '{"messageId": "m1", "title": "Café"}\n'.encode() + b'{"messageId": "\xff"}\n{"a": "\x00"}\n'
    (tmp_path / "web_events" / DAY.isoformat() / "events-2026-06-01-000.jsonl").write_bytes(bad)
    frame, _, _ = read(tmp_path, "web_events", "jsonl")
    assert frame.select("source_line", "read_error").rows() == [(1, None), (2, "not valid UTF-8"), (3, "NUL byte in line")]


def test_a_single_byte_export_is_converted_not_rejected(tmp_path: Path) -> None:
    # no UTF-8 beyond ASCII anywhere and a byte that is not UTF-8: a Latin-1 export
    frame, _, _ = read(land(tmp_path, "google_ads-2026-06-01.csv", (HEADER + "1,2026-06-01,Ren\xe9e,r@e.fr\n").encode("latin-1")))
    assert frame["read_error"].to_list() == [None] and json.loads(frame["record"][0])["Full Name"] == "Renée"


def test_utf16_without_a_bom_is_recognised_and_a_broken_sequence_rejects_its_line(tmp_path: Path) -> None:
    text = HEADER + "1,2026-06-01 10:00:00,José Núñez,j@n.es\n"
    data = text.encode("utf-16-le") + "2,2026-06-01,Bad,b@n.es\n".encode("utf-16-le")[:-2] + b"\x00\xd8\n\x00"  # a lone surrogate
    frame, _, _ = read(land(tmp_path, "google_ads-2026-06-01.csv", data))
    assert frame.select("source_line", "read_error").rows() == [(2, None), (3, "not valid UTF-16")]
    assert json.loads(frame["record"][0])["Full Name"] == "José Núñez"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"ab\xc3\xa9cdef\n", "utf-8"),  # a two-byte character split across blocks
        # a lead byte followed by a plain ASCII block: that block must not be skipped, or the
        # continuation byte after it would complete the character
        (b"ab\xc3def\xa9\n", "cp1252"),
        (b"abcdefgh\n", "utf-8"),
    ],
)
def test_utf8_is_checked_across_block_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, encoding: str) -> None:
    from leadgen_assets.core import readers

    monkeypatch.setattr(readers, "_BLOCK", 3)  # blocks: b"ab\xc3", then the rest in threes
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert readers.inspect(path).encoding == encoding
