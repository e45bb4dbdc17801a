"""The fault injectors write exactly what their description says (pure: no pipeline here).

The pipeline outcome of each format fault is pinned in leadgen_tests/e2e/test_faults.py.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import shutil
import tracemalloc
from pathlib import Path

import pytest

from leadgen_assets.sim import FAULTS, WorldConfig, generate_world, inject

DAY = dt.date(2026, 6, 1)
NEXT = dt.date(2026, 6, 2)
SEED = 7
GOOGLE = f"google_ads-{DAY}.csv"
CSV_KINDS = [k for k in FAULTS if k not in ("duplicate_delivery", "corrected_redelivery", "big_file")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults-world")
    generate_world(WorldConfig.preset("small", seed=7, n_persons=200, days=2), root / "landing", root / "truth")
    return root / "landing"


@pytest.fixture
def landing(world: Path, tmp_path: Path) -> Path:
    shutil.copytree(world, tmp_path / "landing")
    return tmp_path / "landing"


def rows_of(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data, newline=""), strict=True))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------ all kinds
@pytest.mark.parametrize("kind", CSV_KINDS)
def test_the_same_seed_writes_the_same_bytes(world: Path, tmp_path: Path, kind: str) -> None:
    outs = []
    for name in ("a", "b"):
        shutil.copytree(world / "form_leads", tmp_path / name / "form_leads")
        fault = inject(kind, tmp_path / name, "form_leads", DAY, SEED)
        outs.append((fault.path.read_bytes(), fault.file, fault.lines, fault.rows, fault.detail))
    assert outs[0] == outs[1]
    assert outs[0][0] != (world / outs[0][1]).read_bytes()  # and it did change the file


def test_unknown_kinds_and_unfit_files_are_refused(landing: Path) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        inject("gremlins", landing, "form_leads", DAY, SEED)
    with pytest.raises(ValueError, match="CSV"):
        inject("ragged_rows", landing, "web_events", DAY, SEED)
    with pytest.raises(ValueError, match="form_leads"):
        inject("rename_known", landing, "crm_contacts", DAY, SEED)
    with pytest.raises(FileNotFoundError):
        inject("bom", landing, "form_leads", dt.date(2027, 1, 1), SEED)


def test_the_description_never_shows_a_value(landing: Path) -> None:
    storm = inject("placeholder_storm", landing, "form_leads", DAY, SEED, file=GOOGLE)
    names = inject("latin1", landing, "crm_contacts", DAY, SEED)
    for fault in (storm, names):
        text = fault.describe()
        assert fault.file in text and str(fault.rows) in text
        assert all(value not in text for value in fault.values.values())
    assert "test@test.com" not in storm.describe() and "@" not in storm.describe()


# ------------------------------------------------------------------------------ format faults
def test_column_faults_change_the_header_and_keep_every_value(world: Path, landing: Path) -> None:
    original = rows_of((world / "form_leads" / str(DAY) / GOOGLE).read_text())
    by_name = [dict(zip(original[0], r, strict=True)) for r in original[1:]]

    fault = inject("rename_known", landing, "form_leads", DAY, SEED, file=GOOGLE)
    assert fault.detail["renamed"] == {"Email": "E-mail Address", "Phone Number": "Phone", "Postal Code": "Zip Code"}
    got = rows_of(fault.path.read_text())
    assert got[0] == [fault.detail["renamed"].get(h, h) for h in original[0]] and got[1:] == original[1:]

    fault = inject("extra_column", landing, "form_leads", DAY, SEED, file=GOOGLE)
    got = rows_of(fault.path.read_text())
    assert got[0][fault.detail["position"]] == fault.detail["column"] and len(got[0]) == len(original[0]) + 1
    assert all(len(r) == len(got[0]) for r in got[1:]) and fault.rows == len(original) - 1

    shutil.copyfile(world / "form_leads" / str(DAY) / GOOGLE, fault.path)
    fault = inject("reorder_columns", landing, "form_leads", DAY, SEED, file=GOOGLE)
    got = rows_of(fault.path.read_text())
    assert got[0] == fault.detail["order"] != original[0] and sorted(got[0]) == sorted(original[0])
    assert [dict(zip(got[0], r, strict=True)) for r in got[1:]] == by_name

    fault = inject("missing_column", landing, "form_leads", DAY, SEED, file=GOOGLE)
    got = rows_of(fault.path.read_text())
    assert fault.detail["column"] in ("Lead ID", "Submitted At") and fault.detail["column"] not in got[0]
    assert [dict(zip(got[0], r, strict=True)) for r in got[1:]] == [
        {k: v for k, v in r.items() if k != fault.detail["column"]} for r in by_name
    ]


@pytest.mark.parametrize(("kind", "bom"), [("bom", codecs.BOM_UTF8), ("latin1", b""), ("utf16", codecs.BOM_UTF16_LE)])
def test_encodings_rewrite_the_same_records_with_accented_names(world: Path, landing: Path, kind: str, bom: bytes) -> None:
    original = rows_of((world / "crm_contacts" / str(DAY) / f"contacts-{DAY}.csv").read_text())
    fault = inject(kind, landing, "crm_contacts", DAY, SEED)
    data = fault.path.read_bytes()
    assert data.startswith(bom) and (kind != "latin1" or not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE)))
    got = rows_of(data[len(bom):].decode({"bom": "utf-8", "latin1": "cp1252", "utf16": "utf-16-le"}[kind]))
    col = got[0].index(fault.detail["name_column"])
    assert fault.detail["name_column"] == "FirstName" and len(fault.values) == 3
    for line, row in enumerate(got[1:], start=2):
        expected = list(original[line - 1])
        if line in fault.values:
            assert not fault.values[line].isascii()
            expected[col] = fault.values[line]
        assert row == expected


def test_ragged_rows_and_an_unclosed_quote_touch_only_the_lines_described(world: Path, landing: Path) -> None:
    original = (world / "form_leads" / str(DAY) / GOOGLE).read_text().splitlines()
    fault = inject("ragged_rows", landing, "form_leads", DAY, SEED, file=GOOGLE, count=4)
    lines = fault.path.read_text().splitlines()
    assert len(fault.lines) == 4 and sorted(fault.detail["fields"]) == list(fault.lines)
    for n, line in enumerate(lines, start=1):
        if n in fault.lines:
            assert len(rows_of(line)[0]) == fault.detail["fields"][n] != fault.detail["header_fields"]
        else:
            assert line == original[n - 1]

    shutil.copyfile(world / "form_leads" / str(DAY) / GOOGLE, fault.path)
    fault = inject("unclosed_quote", landing, "form_leads", DAY, SEED, file=GOOGLE)
    lines = fault.path.read_text().splitlines()
    opens = fault.detail["opens_on"]
    assert [n for n in range(1, len(lines) + 1) if lines[n - 1] != original[n - 1]] == [opens]
    assert lines[opens - 1].count('"') == 1 and lines[opens - 1].replace('"', "") == original[opens - 1]
    assert '"' not in "".join(lines[opens:]) and fault.lines == tuple(range(opens, len(lines) + 1))
    with pytest.raises(csv.Error):
        rows_of(fault.path.read_text())


def test_empty_header_only_and_storms(world: Path, landing: Path) -> None:
    empty = inject("empty_file", landing, "form_leads", DAY, SEED, file=f"linkedin-{DAY}.csv")
    assert empty.path.stat().st_size == 0 and empty.rows == 0 and empty.detail["records_removed"] > 0
    header = inject("header_only", landing, "form_leads", DAY, SEED, file=f"webinar-{DAY}.csv")
    original = (world / "form_leads" / str(DAY) / f"webinar-{DAY}.csv").read_text().splitlines()
    assert header.path.read_text() == original[0] + "\n" and header.detail["records_removed"] == len(original) - 1

    before = rows_of((world / "form_leads" / str(DAY) / GOOGLE).read_text())
    storm = inject("null_storm", landing, "form_leads", DAY, SEED, file=GOOGLE, share=0.9)
    after = rows_of(storm.path.read_text())
    col = after[0].index("Email")
    assert storm.detail["blanked"] == len(storm.lines) == -(-9 * storm.rows // 10)
    for line, (old, new) in enumerate(zip(before[1:], after[1:], strict=True), start=2):
        assert new == (old[:col] + [""] + old[col + 1:] if line in storm.lines else old)

    storm = inject("placeholder_storm", landing, "crm_contacts", DAY, SEED, what="phone", share=0.3)
    after = rows_of(storm.path.read_text())
    col = after[0].index("Phone")
    assert [n for n, r in enumerate(after[1:], start=2) if r[col] == "555-555-5555"] == list(storm.lines)
    assert storm.detail["rows_set"] == len(storm.lines) == -(-3 * storm.rows // 10)


# ------------------------------------------------------------------------------ deliveries
@pytest.mark.parametrize("to_day", [None, NEXT])
def test_a_duplicate_delivery_is_the_same_bytes_under_another_name(landing: Path, to_day: dt.date | None) -> None:
    fault = inject("duplicate_delivery", landing, "form_leads", DAY, SEED, file=GOOGLE, to_day=to_day)
    original = landing / "form_leads" / str(DAY) / GOOGLE
    assert fault.path.read_bytes() == original.read_bytes() and fault.detail["sha256"] == sha(original)
    assert fault.detail["original"] == f"form_leads/{DAY}/{GOOGLE}" and fault.detail["bytes"] == original.stat().st_size
    assert fault.file == (f"form_leads/{DAY}/google_ads-{DAY}-resent.csv" if to_day is None else f"form_leads/{NEXT}/{GOOGLE}")
    assert fault.day == (to_day or DAY) and fault.rows == len(rows_of(original.read_text())) - 1
    # the same day again under yet another name; the file it would overwrite is refused
    again = inject("duplicate_delivery", landing, "form_leads", DAY, SEED, file=GOOGLE, to_day=NEXT, name="resend.csv")
    assert again.file == f"form_leads/{NEXT}/resend.csv"
    with pytest.raises(FileExistsError):
        inject("duplicate_delivery", landing, "form_leads", DAY, SEED, file=GOOGLE, to_day=NEXT, name="resend.csv")


def test_a_corrected_csv_redelivery_changes_removes_and_adds_what_it_says(world: Path, landing: Path) -> None:
    original = world / "crm_contacts" / str(DAY) / f"contacts-{DAY}.csv"
    fault = inject("corrected_redelivery", landing, "crm_contacts", DAY, SEED, changed=3, removed=2, added=2)
    assert fault.path.name == original.name and fault.detail["sha256_before"] == sha(original) != sha(fault.path)
    assert fault.detail["sha256"] == sha(fault.path) and fault.detail["column"] == "Title"
    before = {r["Id"]: r for r in csv.DictReader(io.StringIO(original.read_text(), newline=""))}
    after = list(csv.DictReader(io.StringIO(fault.path.read_text(), newline="")))
    ids = [r["Id"] for r in after]
    d = fault.detail
    assert len(d["changed_ids"]) == 3 and len(d["removed_ids"]) == 2 and len(d["added_ids"]) == 2
    assert ids == [i for i in before if i not in d["removed_ids"]] + d["added_ids"]
    assert fault.rows == len(after) == d["records_before"] - 2 + 2 == len(before)
    for line, row in enumerate(after, start=2):
        old = before.get(row["Id"])
        if row["Id"] in d["changed_ids"]:
            assert row == {**old, "Title": f"{old['Title']} (corrected)".strip()} and line in fault.lines
        elif row["Id"] in d["added_ids"]:
            assert row["Id"].endswith(("-c1", "-c2")) and line in fault.lines
        else:
            assert row == old and line not in fault.lines
    assert len(fault.lines) == 5


def test_a_corrected_jsonl_redelivery(world: Path, landing: Path) -> None:
    original = world / "enrichment" / str(DAY) / f"enrichment-{DAY}.jsonl"
    fault = inject("corrected_redelivery", landing, "enrichment", DAY, SEED)
    before = {r["domain"]: r for r in map(json.loads, original.read_text().splitlines())}
    after = [json.loads(line) for line in fault.path.read_text().splitlines()]
    d = fault.detail
    assert [r["domain"] for r in after] == [k for k in before if k not in d["removed_ids"]] + d["added_ids"]
    assert all(r["company_name"].endswith("(corrected)") for r in after if r["domain"] in d["changed_ids"])
    assert all(r == before[r["domain"]] for r in after if r["domain"] not in d["changed_ids"] + d["added_ids"])
    assert fault.rows == len(after) and fault.lines == tuple(
        n for n, r in enumerate(after, start=1) if r["domain"] in d["changed_ids"] + d["added_ids"]
    )


# ------------------------------------------------------------------------------ big files
def _peak(landing: Path, target: int, name: str):
    tracemalloc.start()
    try:
        fault = inject("big_file", landing, "form_leads", DAY, SEED, file=GOOGLE, target_bytes=target, name=name)
        return fault, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_big_file_streams_to_its_size_with_bounded_memory(landing: Path) -> None:
    target = 12_000_000
    template = landing / "form_leads" / str(DAY) / GOOGLE
    small, small_peak = _peak(landing, target // 4, "small.csv")
    fault, peak = _peak(landing, target, f"google_ads-{DAY}-big.csv")
    # memory is a chunk of records, whatever the size written: 4x the file, not 4x the memory
    assert peak < target // 3 and peak < small_peak * 1.25 + 100_000
    small.path.unlink()
    size = fault.path.stat().st_size
    assert fault.detail["bytes"] == size and target <= size < target + 1_000
    assert fault.file == f"form_leads/{DAY}/google_ads-{DAY}-big.csv" and fault.detail["template"] == f"form_leads/{DAY}/{GOOGLE}"
    head, *records = rows_of(fault.path.read_text())
    original = rows_of(template.read_text())
    assert head == original[0] and len(records) == fault.rows > 50_000
    templates = {tuple(r[1:]) for r in original[1:]}
    assert all(tuple(r[1:]) in templates for r in records)  # valid records, only the id perturbed
    assert len({r[0] for r in records}) == len(records)  # every id unique


def test_a_big_jsonl_file_has_unique_message_ids(landing: Path) -> None:
    fault = inject("big_file", landing, "web_events", DAY, SEED, target_bytes=2_000_000)
    events = [json.loads(line) for line in fault.path.read_text().splitlines()]
    assert len(events) == fault.rows and len({e["messageId"] for e in events}) == fault.rows
    assert fault.path.stat().st_size >= 2_000_000
