"""Every format fault the simulator injects, through the sources and signals assets of one
delivery day, with its exact outcome: which rows load, which are quarantined with which
file, line, field and reason, and what the checks say. A tiny world's day is generated once;
each test copies one source's folder, breaks one or two files and materialises that source.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from leadgen_assets.defs.common import LandingZoneResource, WarehouseResource
from leadgen_assets.defs.signals.assets import signal_assets, signal_checks
from leadgen_assets.defs.sources.assets import source_assets
from leadgen_assets.sim import WorldConfig, generate_world, inject
from leadgen_assets.sim.forms import LAYOUTS
from leadgen_assets.storage.warehouse import Warehouse

DAY = dt.date(2026, 6, 1)
WORLD = WorldConfig.preset("small", seed=7, n_persons=200, days=1)
SEED = 7


def form_file(channel: str) -> str:
    return f"{channel}-{DAY}.csv"


CONTACTS = f"contacts-{DAY}.csv"
# simulator field of a form layout -> the signals.form_leads column it lands in
FORM_FIELD = {
    "record_id": "source_record_id", "email": "email_raw", "phone": "phone_raw", "company": "company",
    "title": "job_title", "postal": "postal_code", "service": "service_needed", "budget": "budget",
    "timeline": "timeline", "campaign": "campaign", "country": None, "first_name": "first_name",
    "last_name": "last_name",
}
CONTACT_FIELD = {
    "Id": "contact_id", "AccountId": "account_id", "FirstName": "first_name", "LastName": "last_name",
    "Email": "email_raw", "Phone": "phone_raw", "Title": "job_title", "OwnerId": "owner_id", "LeadSource": "lead_source",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fault-world")
    generate_world(WORLD, root / "landing", root / "truth")
    return root / "landing"


@dataclass
class Day:
    """One source's delivery day, copied from the world, ready to break and run."""

    root: Path
    source: str
    clean: dict[str, list[dict[str, str]]]  # file (as source_file) -> its records before any fault

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def inject(self, kind: str, **options):
        return inject(kind, self.landing, self.source, DAY, SEED, **options)

    def rel(self, name: str) -> str:
        return f"{self.source}/{DAY}/{name}"

    def lines(self, rel: str) -> list[int]:
        """The data lines of a clean file (every record is one line in the simulator's files)."""
        return list(range(2, len(self.clean[rel]) + 2))

    def run(self) -> Run:
        resources = {
            "warehouse": WarehouseResource(path=str(self.root / "wh.duckdb")),
            "landing_zone": LandingZoneResource(path=str(self.landing)),
        }
        assets = [a for a in source_assets + signal_assets if a.key.path[1] == self.source]
        checks = [c for c in signal_checks if next(iter(c.check_keys)).asset_key.path[1] == self.source]
        result = dg.materialize(
            [*assets, *checks], partition_key=DAY.isoformat(), resources=resources,
            instance=dg.DagsterInstance.ephemeral(),
        )
        assert result.success
        return Run(self, result, Warehouse(self.root / "wh.duckdb"))


@dataclass
class Run:
    day: Day
    result: dg.ExecuteInProcessResult
    store: Warehouse

    def signals(self, *columns: str) -> pl.DataFrame:
        cols = ", ".join(("source_file", "source_line", *columns))
        return self.store.query(f"SELECT {cols} FROM signals.{self.day.source} ORDER BY source_file, source_line")

    def accepted(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for f, line in self.signals().iter_rows():
            out.setdefault(f, []).append(line)
        return out

    def quarantine(self) -> list[tuple]:
        return self.store.query(
            "SELECT source_file, source_line, field, reason FROM signals.quarantine WHERE source = ? ORDER BY ALL",
            [self.day.source],
        ).rows()

    def check(self, layer: str, name: str) -> dg.AssetCheckEvaluation:
        return next(
            e for e in self.result.get_asset_check_evaluations()
            if e.asset_key.path[0] == layer and e.check_name == name
        )

    def assert_reconciled(self, read: int, rejected: int) -> None:
        """rows read = accepted + rejected, by the blocking check and by the tables themselves."""
        reconcile = self.check("signals", "rows_reconcile")
        assert reconcile.passed
        assert reconcile.metadata["rows_read"].value == read
        assert reconcile.metadata["rows_rejected"].value == rejected
        assert reconcile.metadata["rows_accepted"].value == read - rejected
        assert self.store.row_count(f"sources.{self.day.source}") == read
        assert self.store.row_count(f"signals.{self.day.source}") == read - rejected
        assert len(self.quarantine()) == rejected

    def assert_healthy(self) -> None:
        assert self.check("sources", "delivery_health").passed
        assert self.check("signals", "delivery_health").passed
        assert self.check("signals", "contract").passed


def signal_metadata(run: Run) -> dict:
    mat = next(m for m in run.result.get_asset_materialization_events() if m.asset_key.path[0] == "signals")
    return mat.step_materialization_data.materialization.metadata


def _records(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def make_day(world: Path, tmp_path: Path, source: str) -> Day:
    folder = tmp_path / "landing" / source / DAY.isoformat()
    shutil.copytree(world / source / DAY.isoformat(), folder)
    clean = {f"{source}/{DAY}/{p.name}": _records(p) for p in sorted(folder.iterdir())}
    return Day(tmp_path, source, clean)


@pytest.fixture
def leads(world: Path, tmp_path: Path) -> Day:
    day = make_day(world, tmp_path, "form_leads")
    assert len(day.clean) == 6 and all(len(rows) >= 10 for rows in day.clean.values())
    return day


@pytest.fixture
def contacts(world: Path, tmp_path: Path) -> Day:
    day = make_day(world, tmp_path, "crm_contacts")
    assert list(day.clean) == [day.rel(CONTACTS)] and len(day.clean[day.rel(CONTACTS)]) >= 20  # storms need 20
    return day


def clean_text(value: str) -> str | None:
    return " ".join(value.split()) or None


def all_lines(day: Day, minus: dict[str, set[int]] | None = None) -> dict[str, list[int]]:
    minus = minus or {}
    out = {rel: [n for n in day.lines(rel) if n not in minus.get(rel, set())] for rel in day.clean}
    return {rel: lines for rel, lines in out.items() if lines}


def total(day: Day) -> int:
    return sum(len(rows) for rows in day.clean.values())


# ------------------------------------------------------------------------------ columns
def test_known_header_variants_map_onto_the_lead_schema(leads: Day) -> None:
    faults = {f.file: f for f in (leads.inject("rename_known", file=form_file(c)) for c in LAYOUTS)}
    assert all(f.detail["renamed"] for f in faults.values())
    run = leads.run()
    assert run.accepted() == all_lines(leads) and run.quarantine() == []
    run.assert_reconciled(read=total(leads), rejected=0)
    run.assert_healthy()
    rows = run.signals("email_raw", "phone_raw", "company", "postal_code", "service_needed", "unmapped_columns")
    for rel, fault in faults.items():
        mine = rows.filter(pl.col("source_file") == rel)
        channel = rel.rsplit("/", 1)[1].rsplit("-", 3)[0]
        for old, new in fault.detail["renamed"].items():
            column = FORM_FIELD[LAYOUTS[channel][old]]
            # every value of a renamed column still lands in its field, row by row
            expected = [clean_text(r[old]) for r in leads.clean[rel]]
            assert mine[column].to_list() == expected, (rel, old, new)
            assert all(new not in (u or "").split(",") for u in mine["unmapped_columns"]), (rel, new)


@pytest.mark.parametrize("kind", ["rename_unknown", "missing_column"])
def test_a_lost_required_column_rejects_the_whole_file_and_nothing_of_it_loads(leads: Day, kind: str) -> None:
    fault = leads.inject(kind, file=form_file("google_ads"))
    field = {"record_id": "source_record_id", "time": "submitted_at"}[LAYOUTS["google_ads"][fault.detail["column"]]]
    run = leads.run()
    assert run.quarantine() == [
        (fault.file, line, field, f"file has no column for required {field}") for line in leads.lines(fault.file)
    ]
    assert run.accepted() == all_lines(leads, {fault.file: set(leads.lines(fault.file))})
    run.assert_reconciled(read=total(leads), rejected=fault.rows)
    run.assert_healthy()


@pytest.mark.parametrize("kind", ["rename_unknown", "missing_column"])
def test_a_crm_export_without_a_required_column_is_rejected_whole(contacts: Day, kind: str) -> None:
    fault = contacts.inject(kind)
    field = {"Id": "contact_id", "LastModifiedDate": "modified_at"}[fault.detail["column"]]
    run = contacts.run()
    assert run.quarantine() == [
        (fault.file, line, field, f"file has no column for required {field}") for line in contacts.lines(fault.file)
    ]
    assert run.accepted() == {}
    run.assert_reconciled(read=fault.rows, rejected=fault.rows)
    run.assert_healthy()


def test_an_extra_column_is_kept_and_reported(leads: Day) -> None:
    fault = leads.inject("extra_column", file=form_file("google_ads"))
    name = fault.detail["column"]
    run = leads.run()
    assert run.accepted() == all_lines(leads) and run.quarantine() == []
    run.assert_reconciled(read=total(leads), rejected=0)
    run.assert_healthy()
    unmapped = dict(run.signals("unmapped_columns").select("source_file", "unmapped_columns").unique().iter_rows())
    assert unmapped[fault.file] == name  # google_ads maps every other column
    assert all(name not in (u or "") for rel, u in unmapped.items() if rel != fault.file)
    # kept: the raw table holds the column's values, as delivered
    raw = run.store.query(
        "SELECT source_line, record FROM sources.form_leads WHERE source_file = ? ORDER BY 1", [fault.file]
    )
    written = _records(fault.path)
    assert [json.loads(r)[name] for r in raw["record"]] == [r[name] for r in written]
    assert list(json.loads(raw["record"][0])) == list(written[0])  # every column, in the delivered order
    # reported: by file in the signal's metadata, names only
    assert f"| {fault.file} | {name} |" in signal_metadata(run)["extra_columns"].value


def test_an_extra_column_in_a_crm_export_is_kept_and_reported(contacts: Day) -> None:
    fault = contacts.inject("extra_column")
    name = fault.detail["column"]
    run = contacts.run()
    assert run.accepted() == all_lines(contacts) and run.quarantine() == []
    run.assert_reconciled(read=fault.rows, rejected=0)
    run.assert_healthy()
    raw = run.store.query("SELECT record FROM sources.crm_contacts ORDER BY source_line")
    assert [json.loads(r)[name] for r in raw["record"]] == [r[name] for r in _records(fault.path)]
    extra = signal_metadata(run)["extra_columns"].value
    assert extra == f"| source_file | column |\n|---|---|\n| {fault.file} | {name} |"


@pytest.mark.parametrize("source", ["form_leads", "crm_contacts"])
def test_column_order_never_matters(world: Path, tmp_path: Path, source: str) -> None:
    day = make_day(world, tmp_path, source)
    name = form_file("google_ads") if source == "form_leads" else CONTACTS
    fault = day.inject("reorder_columns", file=name)
    assert fault.detail["order"] != list(day.clean[fault.file][0])
    run = day.run()
    assert run.accepted() == all_lines(day) and run.quarantine() == []
    run.assert_reconciled(read=total(day), rejected=0)
    run.assert_healthy()
    fields = (
        {h: FORM_FIELD[f] for h, f in LAYOUTS["google_ads"].items() if FORM_FIELD.get(f)}
        if source == "form_leads" else CONTACT_FIELD
    )
    rows = run.signals(*fields.values()).filter(pl.col("source_file") == fault.file)
    for header, column in fields.items():
        assert rows[column].to_list() == [clean_text(r[header]) for r in day.clean[fault.file]], header


# ------------------------------------------------------------------------------ encodings
@pytest.mark.parametrize(
    ("source", "encoding"),
    [("form_leads", "bom"), ("form_leads", "latin1"), ("form_leads", "utf16"), ("crm_contacts", "bom")],  # BOM + "Id"
)
def test_other_encodings_are_detected_and_converted(world: Path, tmp_path: Path, source: str, encoding: str) -> None:
    day = make_day(world, tmp_path, source)
    fault = day.inject(encoding, file=form_file("google_ads") if source == "form_leads" else CONTACTS)
    head = fault.path.read_bytes()[:4]
    assert {"bom": head.startswith(b"\xef\xbb\xbf"), "latin1": b"\xef\xbb\xbf" not in head,
            "utf16": head.startswith(b"\xff\xfe")}[encoding]
    assert len(fault.values) == 3 and not all(v.isascii() for v in fault.values.values())
    run = day.run()
    assert run.accepted() == all_lines(day) and run.quarantine() == []
    run.assert_reconciled(read=total(day), rejected=0)
    run.assert_healthy()
    rows = run.signals("source_record_id" if source == "form_leads" else "contact_id", "first_name", "last_name")
    mine = rows.filter(pl.col("source_file") == fault.file)
    ids = [r["Lead ID" if source == "form_leads" else "Id"] for r in day.clean[fault.file]]
    assert mine[rows.columns[2]].to_list() == ids  # the first column's name survived the BOM
    names = dict(mine.select("source_line", "first_name").iter_rows())
    for line, value in fault.values.items():
        assert names[line] == value.split()[0]  # decoded, not mojibake
    if source == "form_leads":
        last = dict(mine.select("source_line", "last_name").iter_rows())
        assert all(last[line] == value.split()[-1] for line, value in fault.values.items())


# ------------------------------------------------------------------------------ broken records
def test_ragged_rows_are_quarantined_and_the_rest_of_the_day_loads(leads: Day) -> None:
    fault = leads.inject("ragged_rows", file=form_file("google_ads"), count=3)
    width = fault.detail["header_fields"]
    run = leads.run()
    assert run.quarantine() == [
        (fault.file, line, "record", f"wrong number of fields: {n}, the header has {width}")
        for line, n in sorted(fault.detail["fields"].items())
    ]
    assert {n - width for n in fault.detail["fields"].values()} == {1, -1}  # too many and too few
    assert run.accepted() == all_lines(leads, {fault.file: set(fault.lines)})
    run.assert_reconciled(read=total(leads), rejected=3)
    run.assert_healthy()


def test_an_unclosed_quote_quarantines_the_lines_it_swallows_and_nothing_before(leads: Day) -> None:
    fault = leads.inject("unclosed_quote", file=form_file("google_ads"))
    opens = fault.detail["opens_on"]
    assert 2 < opens and fault.lines == tuple(range(opens, fault.detail["physical_lines"] + 1))
    run = leads.run()
    assert run.quarantine() == [
        (fault.file, line, "record", f"inside a quoted field that opens on line {opens} and never closes")
        for line in fault.lines
    ]
    assert run.accepted() == all_lines(leads, {fault.file: set(fault.lines)})
    assert run.accepted()[fault.file] == list(range(2, opens))
    run.assert_reconciled(read=total(leads), rejected=len(fault.lines))
    run.assert_healthy()


# ------------------------------------------------------------------------------ empty files
def test_empty_and_header_only_files_are_flagged_and_the_day_loads(leads: Day) -> None:
    empty = leads.inject("empty_file", file=form_file("linkedin"))
    header = leads.inject("header_only", file=form_file("webinar"))
    assert empty.path.stat().st_size == 0 and header.path.read_text().count("\n") == 1
    run = leads.run()
    gone = {empty.file, header.file}
    assert run.accepted() == {rel: lines for rel, lines in all_lines(leads).items() if rel not in gone}
    assert run.quarantine() == []
    run.assert_reconciled(read=total(leads) - empty.detail["records_removed"] - header.detail["records_removed"], rejected=0)
    health = run.check("sources", "delivery_health")
    assert not health.passed and health.severity == dg.AssetCheckSeverity.WARN
    assert health.metadata["warnings"].value == 2 and health.metadata["failures"].value == 0
    flags = health.metadata["flags"].value
    assert f"| {empty.file} | empty_file |" in flags and f"| {header.file} | header_only |" in flags
    assert run.check("signals", "delivery_health").passed


# ------------------------------------------------------------------------------ storms
@pytest.mark.parametrize(("share", "severity"), [(0.6, "warning"), (0.95, "failure")])
def test_a_null_storm_is_flagged_with_its_share(contacts: Day, share: float, severity: str) -> None:
    fault = contacts.inject("null_storm", share=share)
    n, empty = fault.rows, fault.detail["empty_after"]
    assert fault.detail["column"] == "Email" and empty == fault.detail["blanked"] == len(fault.lines)
    run = contacts.run()
    assert run.accepted() == all_lines(contacts) and run.quarantine() == []  # a contact's email is optional
    run.assert_reconciled(read=n, rejected=0)
    emails = run.signals("email_raw")
    assert emails.filter(pl.col("email_raw").is_null())["source_line"].to_list() == list(fault.lines)
    health = run.check("signals", "delivery_health")
    assert not health.passed
    assert health.severity == (dg.AssetCheckSeverity.ERROR if severity == "failure" else dg.AssetCheckSeverity.WARN)
    assert health.metadata[f"{severity}s"].value == 1
    assert f"| {fault.file} | null_storm | email | {round(empty / n, 4)} | {n} | {severity} |" in health.metadata["flags"].value
    assert run.check("sources", "delivery_health").passed and run.check("signals", "contract").passed


@pytest.mark.parametrize(("share", "severity"), [(0.15, "warning"), (0.5, "failure")])
def test_a_placeholder_email_storm_is_flagged_with_its_share(leads: Day, share: float, severity: str) -> None:
    fault = leads.inject("placeholder_storm", file=form_file("google_ads"), share=share)
    n, k = fault.rows, fault.detail["rows_set"]
    run = leads.run()
    assert run.accepted() == all_lines(leads) and run.quarantine() == []
    run.assert_reconciled(read=total(leads), rejected=0)
    keys = run.signals("email_key").filter(pl.col("source_file") == fault.file)
    assert keys.filter(pl.col("email_key") == "test@test.com")["source_line"].to_list() == list(fault.lines)
    health = run.check("signals", "delivery_health")
    assert not health.passed and health.metadata[f"{severity}s"].value == 1
    assert health.metadata["failures"].value + health.metadata["warnings"].value == 1  # only the broken file
    flags = health.metadata["flags"].value
    assert f"| {fault.file} | placeholder_storm | email_key | {round(k / n, 4)} | {n} | {severity} |" in flags
    assert "test@test.com" not in str(health.metadata)  # shares and counts, never the value
    assert run.check("sources", "delivery_health").passed and run.check("signals", "contract").passed


def test_a_placeholder_phone_storm_is_flagged(contacts: Day) -> None:
    fault = contacts.inject("placeholder_storm", what="phone", share=0.5)
    n, k = fault.rows, fault.detail["rows_set"]
    run = contacts.run()
    assert run.accepted() == all_lines(contacts) and run.quarantine() == []
    run.assert_reconciled(read=n, rejected=0)
    phones = run.signals("phone_e164")
    assert phones.filter(pl.col("phone_e164") == "+15555555555")["source_line"].to_list() == list(fault.lines)
    health = run.check("signals", "delivery_health")
    assert not health.passed and health.severity == dg.AssetCheckSeverity.ERROR
    assert f"| {fault.file} | placeholder_storm | phone_e164 | {round(k / n, 4)} | {n} | failure |" in health.metadata["flags"].value
    assert "555" not in str(health.metadata)
    assert run.check("sources", "delivery_health").passed and run.check("signals", "contract").passed


# ------------------------------------------------------------------------------ re-deliveries
def ledger_rows(run: Run) -> list[tuple]:
    return run.store.query(
        "SELECT source_file, status, detail, rows_read FROM sources.ingestion_ledger "
        "WHERE status <> 'loaded' ORDER BY event_seq"
    ).rows()


def test_a_duplicate_delivery_is_recorded_and_loads_nothing(contacts: Day) -> None:
    first = contacts.run()
    fault = contacts.inject("duplicate_delivery", file=CONTACTS)
    run = contacts.run()
    assert ledger_rows(run) == [(fault.file, "duplicate", f"same bytes as {fault.detail['original']}", 0)]
    assert run.store.row_count("signals.crm_contacts") == first.store.row_count("signals.crm_contacts") == total(contacts)
    health = run.check("sources", "delivery_health")
    assert not health.passed and health.metadata["warnings"].value == 1


def test_a_corrected_redelivery_replaces_exactly_its_rows(contacts: Day) -> None:
    contacts.run()
    fault = contacts.inject("corrected_redelivery", file=CONTACTS, changed=3, removed=2, added=4)
    run = contacts.run()
    ids = run.signals("contact_id", "job_title")
    assert ids.height == fault.rows == total(contacts) - 2 + 4
    present = set(ids["contact_id"])
    assert not present & set(fault.detail["removed_ids"]) and set(fault.detail["added_ids"]) <= present
    corrected = ids.filter(pl.col("contact_id").is_in(fault.detail["changed_ids"]))
    assert corrected.height == 3 and all(t.endswith("(corrected)") for t in corrected["job_title"])
    assert ledger_rows(run) == [(fault.file, "replaced", None, fault.rows)]
    run.assert_reconciled(read=fault.rows, rejected=0)


def test_a_big_file_streams_through_in_bounded_chunks(world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from leadgen_assets.core import readers
    from leadgen_assets.storage import warehouse

    folder = tmp_path / "landing" / "web_events" / DAY.isoformat()
    shutil.copytree(world / "web_events" / DAY.isoformat(), folder)
    day = Day(tmp_path, "web_events", {})  # JSON lines: no CSV records to keep
    fault = day.inject("big_file", target_bytes=8 << 20)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 5_000)
    monkeypatch.setattr("leadgen_assets.defs.sources.assets.SMALL_FILE_BYTES", 4 << 20)  # 8 MB is big here
    chunks: list[int] = []
    real = warehouse.Writer.append

    def spy(self, table, data, **kwargs):
        if table == warehouse.staging_name("sources.web_events"):
            chunks.append(data.height)
        return real(self, table, data, **kwargs)

    monkeypatch.setattr(warehouse.Writer, "append", spy)
    run = day.run()
    loaded = run.store.query(
        "SELECT source_file, rows_read, rows_accepted FROM sources.ingestion_ledger WHERE source_file = ?", [fault.file]
    ).rows()
    assert loaded == [(fault.file, fault.rows, fault.rows)]
    assert max(chunks) <= 5_000 and len(chunks) >= fault.rows // 5_000


def test_a_day_larger_than_a_batch_is_transformed_in_slices_with_the_same_result(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_events(root: Path) -> Run:
        shutil.copytree(world / "web_events" / DAY.isoformat(), root / "landing" / "web_events" / DAY.isoformat())
        return Day(root, "web_events", {}).run()

    whole = run_events(tmp_path / "whole")
    rows = whole.store.row_count("sources.web_events")
    monkeypatch.setattr("leadgen_assets.defs.signals.assets.BATCH_ROWS", rows // 4)  # five slices
    sliced = run_events(tmp_path / "sliced")
    table = "SELECT * FROM signals.web_events ORDER BY source_file, source_line"
    assert sliced.store.query(table).equals(whole.store.query(table))
    ledger = "SELECT source_file, rows_read, rows_accepted, rows_rejected FROM sources.ingestion_ledger ORDER BY 1"
    assert sliced.store.query(ledger).rows() == whole.store.query(ledger).rows()
    assert sliced.quarantine() == whole.quarantine()
    sliced.assert_reconciled(read=rows, rejected=len(whole.quarantine()))
    assert signal_metadata(sliced)["rows_read"].value == rows
