"""The ingestion ledger: every delivered file's content is loaded exactly once.

Duplicates under another name are recorded and not loaded, a corrected file replaces the
rows it contributed, an empty re-delivery never wipes a file's rows, an unreadable file
fails the run without holding back the others, and a run killed mid-file leaves nothing
of that file behind.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from leadgen_assets.core import readers
from leadgen_assets.defs.common import LandingZoneResource, WarehouseResource
from leadgen_assets.defs.signals.assets import signal_assets, signal_checks
from leadgen_assets.defs.sources.assets import source_assets
from leadgen_assets.storage import warehouse
from leadgen_assets.storage.warehouse import Warehouse

DAY = dt.date(2026, 6, 3)
NEXT = DAY + dt.timedelta(days=1)
HEADER = "Lead ID,Campaign,Submitted At,Full Name,Email,Phone Number,Company Name,Job Title,Postal Code,Country,Service Needed,Budget,Timeline"


def lead(i: int, day: dt.date = DAY, name: str = "Ann Lee") -> str:
    return f"g{i},Brand,{day} 09:{i % 60:02d}:00,{name},person{i}@brightpath{i}.com,,Brightpath,CEO,94105,US,Managed IT,5k-20k,ASAP"


def csv_bytes(ids, day: dt.date = DAY, name: str = "Ann Lee") -> bytes:
    return ("\n".join([HEADER, *(lead(i, day, name) for i in ids)]) + "\n").encode()


@dataclass
class Env:
    root: Path
    landing: Path
    store: Warehouse
    instance: dg.DagsterInstance

    def deliver(self, name: str, data: bytes, day: dt.date = DAY) -> Path:
        folder = self.landing / "form_leads" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(data)
        return path

    def ingest(self, day: dt.date = DAY, config: dict | None = None, raise_on_error: bool = True):
        assets = [a for a in source_assets + signal_assets if a.key.path[1] == "form_leads"]
        checks = [c for c in signal_checks if next(iter(c.check_keys)).asset_key.path[1] == "form_leads"]
        return dg.materialize(
            [*assets, *checks],
            partition_key=day.isoformat(),
            resources={
                "warehouse": WarehouseResource(path=str(self.store.path)),
                "landing_zone": LandingZoneResource(path=str(self.landing)),
            },
            instance=self.instance,
            run_config={"ops": {"sources__form_leads": {"config": config}}} if config else None,
            raise_on_error=raise_on_error,
        )

    def ledger(self) -> pl.DataFrame:
        return self.store.query("SELECT * FROM sources.ingestion_ledger ORDER BY event_seq")

    def raw_ids(self) -> list[str]:
        query = "SELECT coalesce(record->>'$.\"Lead ID\"', record->>'$.id') AS id FROM sources.form_leads"
        return sorted(self.store.query(query)["id"].to_list())


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path, tmp_path / "landing", Warehouse(tmp_path / "wh.duckdb"), dg.DagsterInstance.ephemeral())


def health_of(result, layer: str = "sources") -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.asset_key.path[0] == layer and e.check_name == "delivery_health")


def test_each_file_is_recorded_with_hash_size_rows_and_outcome(env: Env) -> None:
    data = csv_bytes(range(5))
    env.deliver(f"google_ads-{DAY}.csv", data)
    result = env.ingest()
    row = env.ledger().row(0, named=True)
    assert row["status"] == "loaded" and row["source_file"] == f"form_leads/{DAY}/google_ads-{DAY}.csv"
    assert row["size_bytes"] == len(data) and len(row["content_sha256"]) == 64
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (5, 5, 0)
    assert row["run_id"] == result.run_id
    # rematerialising the day is a no-op: nothing re-read, nothing recorded again
    env.ingest()
    assert env.ledger().height == 1 and env.raw_ids() == [f"g{i}" for i in range(5)]


def test_the_same_bytes_under_another_name_or_day_are_a_recorded_no_op(env: Env) -> None:
    data = csv_bytes(range(3))
    env.deliver(f"google_ads-{DAY}.csv", data)
    env.deliver(f"google_ads-{DAY}-resent.csv", data)
    result = env.ingest()
    env.deliver(f"google_ads-{NEXT}.csv", data, day=NEXT)  # re-sent the next day too
    env.ingest(NEXT)
    ledger = env.ledger().select("source_file", "status", "detail", "rows_read")
    assert ledger.rows() == [
        (f"form_leads/{DAY}/google_ads-{DAY}-resent.csv", "loaded", None, 3),  # the first name in order loads
        (f"form_leads/{DAY}/google_ads-{DAY}.csv", "duplicate", f"same bytes as form_leads/{DAY}/google_ads-{DAY}-resent.csv", 0),
        (f"form_leads/{NEXT}/google_ads-{NEXT}.csv", "duplicate", f"same bytes as form_leads/{DAY}/google_ads-{DAY}-resent.csv", 0),
    ]
    assert env.raw_ids() == ["g0", "g1", "g2"] and env.store.row_count("signals.form_leads") == 3
    meta = next(m for m in result.get_asset_materialization_events() if m.asset_key.path[0] == "sources")
    assert meta.materialization.metadata["files_duplicate"].value == 1
    assert "duplicate" in health_of(result).metadata["flags"].value


def test_a_corrected_file_replaces_exactly_the_rows_it_contributed(env: Env) -> None:
    env.deliver(f"google_ads-{DAY}.csv", csv_bytes([1, 2, 3]))
    env.deliver(f"meta_lead_ads-{DAY}.csv", b"id,created_time,full_name,email\nm1,2026-06-03T08:00:00+0000,Dee Ode,dee@ode.io\n")
    env.ingest()
    env.deliver(f"google_ads-{DAY}.csv", csv_bytes([1, 3, 4], name="Ann Corrected"))  # 2 removed, 4 added
    env.ingest()
    assert env.raw_ids() == ["g1", "g3", "g4", "m1"]
    assert sorted(env.store.query("SELECT lead_id FROM signals.form_leads")["lead_id"]) == [
        "google_ads:g1", "google_ads:g3", "google_ads:g4", "meta_lead_ads:m1"
    ]
    assert set(env.store.query("SELECT first_name FROM signals.form_leads WHERE channel = 'google_ads'")["first_name"]) == {"Ann"}
    ledger = env.ledger().filter(pl.col("source_file").str.contains("google_ads"))
    assert ledger.select("status", "rows_read", "rows_removed", "rows_accepted").rows() == [
        ("loaded", 3, 0, 3), ("replaced", 3, 3, 3)
    ]
    assert ledger["active_sha256"][1] == ledger["content_sha256"][1] != ledger["content_sha256"][0]


def test_an_empty_redelivery_keeps_the_rows_until_it_is_accepted(env: Env) -> None:
    path = env.deliver(f"google_ads-{DAY}.csv", csv_bytes(range(4)))
    env.ingest()
    path.write_bytes(b"")  # the export job failed and wrote nothing
    result = env.ingest()
    assert env.raw_ids() == ["g0", "g1", "g2", "g3"]
    assert env.ledger()["status"].to_list() == ["loaded", "refused_empty"]
    assert "refused_empty" in health_of(result).metadata["flags"].value
    env.ingest()  # seen again: still refused, not recorded twice
    assert env.ledger().height == 2
    path.write_text(HEADER + "\n")  # and then a header and nothing else: still no records
    env.ingest()
    assert env.raw_ids() == ["g0", "g1", "g2", "g3"]
    assert env.ledger()["status"].to_list() == ["loaded", "refused_empty", "refused_empty"]
    env.ingest(config={"allow_empty": True})  # the day really is empty now
    assert env.raw_ids() == [] and env.ledger()["status"].to_list()[-1] == "replaced"


def test_an_unreadable_file_fails_the_run_after_the_others_load(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.deliver(f"google_ads-{DAY}.csv", csv_bytes(range(2)))
    broken = env.deliver(f"meta_lead_ads-{DAY}.csv", b"id,created_time,full_name,email\nm1,2026-06-03T08:00:00+0000,Dee Ode,dee@ode.io\n")
    real = readers.iter_records

    def flaky(path, *args, **kwargs):
        if path == broken:
            raise OSError("device not ready")  # a network share dropping mid-read
        return real(path, *args, **kwargs)

    monkeypatch.setattr("leadgen_assets.defs.sources.assets.iter_records", flaky)
    result = env.ingest(raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    assert f"meta_lead_ads-{DAY}.csv" in failure.message and "rematerialise the day" in failure.message
    assert env.raw_ids() == ["g0", "g1"]
    assert env.ledger().select("status", "detail").rows()[-1] == ("failed", "could not be read (OSError); nothing of it was loaded")
    monkeypatch.setattr("leadgen_assets.defs.sources.assets.iter_records", real)
    assert env.ingest().success  # the share is back: only the failed file is read
    assert env.raw_ids() == ["g0", "g1", "m1"]
    assert env.ledger()["status"].to_list() == ["loaded", "failed", "loaded"]


def test_a_large_file_is_read_in_bounded_chunks(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "CHUNK_ROWS", 100)
    monkeypatch.setattr("leadgen_assets.defs.sources.assets.SMALL_FILE_BYTES", 0)  # every file counts as large
    env.deliver(f"google_ads-{DAY}.csv", csv_bytes(range(1050)))
    sizes: list[int] = []
    real_append = warehouse.Writer.append

    def spy(self, table, data, **kwargs):
        if table == warehouse.staging_name("sources.form_leads"):
            sizes.append(data.height)
        return real_append(self, table, data, **kwargs)

    monkeypatch.setattr(warehouse.Writer, "append", spy)
    env.ingest()
    assert max(sizes) == 100 and sum(sizes) == 1050  # staged chunk by chunk, then moved in one transaction
    assert not env.store.query("SELECT * FROM information_schema.tables WHERE table_schema = '_staging'").height
    assert env.store.query("SELECT count(DISTINCT source_line) AS n FROM sources.form_leads")["n"][0] == 1050


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import dagster as dg
    from leadgen_assets.core import readers
    from leadgen_assets.defs.common import LandingZoneResource, WarehouseResource
    from leadgen_assets.defs.sources import assets
    from leadgen_assets.defs.sources.assets import source_assets
    from leadgen_assets.storage import warehouse

    readers.CHUNK_ROWS = 100
    method, nth, streaming = sys.argv[3], int(sys.argv[5]), sys.argv[6] == "stream"
    if streaming:
        assets.SMALL_FILE_BYTES = 0  # the file streams in chunks of 100 rows
    real = getattr(warehouse.Writer, method)
    calls = []

    def then_die(self, table, data, **kwargs):
        real(self, table, data, **kwargs)
        calls.append(1)
        if len(calls) == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    setattr(warehouse.Writer, method, then_die)
    asset = next(a for a in source_assets if a.key.path[1] == "form_leads")
    dg.materialize([asset], partition_key=sys.argv[4], resources={
        "warehouse": WarehouseResource(path=sys.argv[1]), "landing_zone": LandingZoneResource(path=sys.argv[2])})
    """
)


@pytest.mark.parametrize(
    "method, nth, mode",
    [
        ("append", 2, "stream"),  # a large file, killed while its chunks are staged
        ("insert", 1, "batch"),  # small files, killed after their rows and before their ledger events
    ],
)
def test_a_run_killed_mid_file_leaves_nothing_of_that_file(env: Env, method: str, nth: int, mode: str) -> None:
    env.deliver(f"google_ads-{DAY}.csv", csv_bytes(range(50)))
    env.ingest()  # committed before the crash
    env.deliver(f"meta_lead_ads-{DAY}.csv", b"id,created_time,full_name,email\n" + b"".join(
        f"m{i},2026-06-03T08:00:00+0000,Dee Ode,dee{i}@ode.io\n".encode() for i in range(350)
    ))
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(env.store.path), str(env.landing), method, DAY.isoformat(), str(nth), mode],
        capture_output=True, env={**os.environ, "DAGSTER_HOME": str(env.root)},
    )
    assert proc.returncode == -signal.SIGKILL
    # the killed file's first chunk was never committed; the earlier file is intact
    assert len(env.raw_ids()) == 50 and env.ledger().height == 1
    assert env.ingest().success  # the rerun loads the file once
    assert len(env.raw_ids()) == 400
    assert env.ledger()["status"].to_list() == ["loaded", "loaded"]
    assert not env.store.query("SELECT * FROM information_schema.tables WHERE table_schema = '_staging'").height
    assert env.store.row_count("signals.form_leads") == 400


def test_a_file_gone_between_listing_and_reading_fails_alone(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.deliver(f"google_ads-{DAY}.csv", csv_bytes(range(2)))
    gone = env.deliver(f"meta_lead_ads-{DAY}.csv", b"id,created_time,full_name,email\nm1,2026-06-03T08:00:00+0000,Dee Ode,dee@ode.io\n")
    real = readers.inspect

    def vanishing(path):
        if path == gone:
            raise FileNotFoundError("moved away by the export job")
        return real(path)

    monkeypatch.setattr("leadgen_assets.defs.sources.assets.inspect", vanishing)
    result = env.ingest(raise_on_error=False)
    assert not result.success and env.raw_ids() == ["g0", "g1"]
    assert env.ledger().select("source_file", "status", "detail").rows()[-1] == (
        f"form_leads/{DAY}/meta_lead_ads-{DAY}.csv", "failed", "could not be read (FileNotFoundError); nothing of it was loaded"
    )
    monkeypatch.setattr("leadgen_assets.defs.sources.assets.inspect", real)
    assert env.ingest().success and env.raw_ids() == ["g0", "g1", "m1"]
