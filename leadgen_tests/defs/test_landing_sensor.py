"""The landing sensor launches one ingestion run per changed source/day folder, and keeps
doing so exactly once across daemon crashes and restarts.

The restart tests tick the real sensor daemon code against a real on-disk instance, each
tick in a fresh process (a daemon restart), one of them killed mid-tick, the way Dagster
tests its own sensors (dagster_tests/daemon_sensor_tests/test_sensor_failure_recovery.py).
"""

import datetime as dt
import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, TickStatus
from dagster._core.storage.tags import RUN_KEY_TAG, SENSOR_NAME_TAG
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time, instance_for_test
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget

from leadgen_assets.defs.sources.sensor import SENSOR_NAME, landing_requests

DAY = dt.date(2026, 6, 3)
NOW = dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC)
LONG_AGO = time.time() - 3600  # files finished writing an hour ago


def deliver(landing: Path, source: str, day: dt.date, name: str, data: bytes = b"a,b\n1,2\n", settled: bool = True) -> Path:
    folder = landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    if settled:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return path


# ----------------------------------------------------------------------------- the tick logic
def test_a_new_folder_is_one_run_of_its_source_and_signals_for_that_day(tmp_path: Path) -> None:
    deliver(tmp_path, "form_leads", DAY, "google_ads-2026-06-03.csv")
    deliver(tmp_path, "form_leads", DAY, "meta_lead_ads-2026-06-03.csv")
    deliver(tmp_path, "crm_users", DAY, "users-2026-06-03.csv")
    requests, cursor, notes = landing_requests(tmp_path, {}, NOW, time.time())
    assert [(r.partition_key, r.tags["leadgen/source"], r.tags["leadgen/landing_files"]) for r in requests] == [
        ("2026-06-03", "form_leads", "2"), ("2026-06-03", "crm_users", "1"),
    ]
    assert requests[0].asset_selection == [dg.AssetKey(["sources", "form_leads"]), dg.AssetKey(["signals", "form_leads"])]
    assert set(cursor) == {"form_leads/2026-06-03", "crm_users/2026-06-03"} and notes == []
    # nothing changed: nothing to do
    assert landing_requests(tmp_path, cursor, NOW, time.time())[0] == []


def test_a_changed_or_added_file_asks_again_under_a_new_run_key(tmp_path: Path) -> None:
    path = deliver(tmp_path, "form_leads", DAY, "google_ads-2026-06-03.csv")
    first, cursor, _ = landing_requests(tmp_path, {}, NOW, time.time())
    path.write_bytes(b"a,b\n1,3\n")  # a corrected re-delivery under the same name
    os.utime(path, (LONG_AGO + 5, LONG_AGO + 5))
    again, cursor2, _ = landing_requests(tmp_path, cursor, NOW, time.time())
    assert len(again) == 1 and again[0].run_key != first[0].run_key
    deliver(tmp_path, "form_leads", DAY, "linkedin-2026-06-03.csv")
    third, _, _ = landing_requests(tmp_path, cursor2, NOW, time.time())
    assert len(third) == 1 and third[0].run_key not in {first[0].run_key, again[0].run_key}


def test_files_still_being_written_and_odd_folders_wait_or_are_ignored(tmp_path: Path) -> None:
    deliver(tmp_path, "form_leads", DAY, "google_ads-2026-06-03.csv", settled=False)  # just modified
    deliver(tmp_path, "form_leads", DAY, ".google_ads-2026-06-03.csv.part")  # a temporary upload
    deliver(tmp_path, "crm_users", dt.date(2026, 11, 24), "users.csv")  # today's partition is not open yet
    deliver(tmp_path, "crm_users", dt.date(2026, 1, 1), "users.csv")  # before the first partition
    (tmp_path / "crm_users" / "latest").mkdir()
    requests, cursor, notes = landing_requests(tmp_path, {}, NOW, time.time() - 30)
    assert requests == [] and cursor == {}
    assert sorted(notes) == [
        "crm_users/2026-01-01: before the first partition 2026-06-01, ignored",
        "crm_users/2026-11-24: its partition is not open yet, deferred",
        "crm_users/latest: not a YYYY-MM-DD folder, ignored",
        "form_leads/2026-06-03: a file is still being written, deferred to the next tick",
    ]
    # once the upload has settled, the folder is one run; the dot-file never counts
    requests, _, _ = landing_requests(tmp_path, {}, NOW, time.time() + 60)
    assert [r.tags["leadgen/landing_files"] for r in requests] == ["1"]


# ----------------------------------------------------------------------------- the daemon
spawn = multiprocessing.get_context("spawn")


def _workspace_target() -> InProcessWorkspaceLoadTarget:
    return InProcessWorkspaceLoadTarget(
        InProcessCodeLocationOrigin(
            LoadableTargetOrigin(module_name="leadgen_assets.definitions", attribute="defs"),
            location_name="leadgen",
        )
    )


def _tick(instance_ref, when: float, crash_at: str | None) -> None:
    """One iteration of the sensor daemon in this (fresh) process, optionally killed at
    ``crash_at`` (a Dagster debug crash point)."""
    from dagster._daemon import get_default_daemon_logger
    from dagster._daemon.sensor import execute_sensor_iteration

    with dg.DagsterInstance.from_ref(instance_ref) as instance, freeze_time(when):
        with create_test_daemon_workspace_context(_workspace_target(), instance) as workspace:
            crash = {SENSOR_NAME: {crash_at: signal.SIGKILL}} if crash_at else None
            list(
                execute_sensor_iteration(
                    workspace, get_default_daemon_logger("SensorDaemon"), None, None, debug_crash_flags=crash
                )
            )


def _run_tick(instance: dg.DagsterInstance, when: float, crash_at: str | None = None) -> int | None:
    proc = spawn.Process(target=_tick, args=[instance.get_ref(), when, crash_at])
    proc.start()
    proc.join(timeout=120)
    return proc.exitcode


@pytest.fixture
def daemon_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    landing = tmp_path / "landing"
    monkeypatch.setenv("LEADGEN_LANDING_DIR", str(landing))
    monkeypatch.setenv("LEADGEN_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    with instance_for_test(
        temp_dir=str(tmp_path),
        overrides={"run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}},
    ) as instance:
        with create_test_daemon_workspace_context(_workspace_target(), instance) as workspace:
            repo = next(iter(workspace.create_request_context().get_code_location("leadgen").get_repositories().values()))
            sensor = repo.get_sensor(SENSOR_NAME)
        instance.add_instigator_state(
            InstigatorState(sensor.get_remote_origin(), InstigatorType.SENSOR, InstigatorStatus.RUNNING)
        )
        yield instance, landing, sensor


def _runs(instance: dg.DagsterInstance) -> list[tuple[str, str]]:
    return sorted((r.tags[RUN_KEY_TAG].rsplit("/", 1)[0], r.tags[SENSOR_NAME_TAG]) for r in instance.get_runs())


def test_each_delivery_is_one_run_across_a_crash_and_restarts(daemon_instance) -> None:
    instance, landing, sensor = daemon_instance
    deliver(landing, "form_leads", DAY, "google_ads-2026-06-03.csv")
    deliver(landing, "form_leads", DAY, "meta_lead_ads-2026-06-03.csv")
    deliver(landing, "crm_users", DAY, "users-2026-06-03.csv")
    start = NOW.timestamp()

    # the daemon is killed after the first run of the tick is created, before the tick ends
    assert _run_tick(instance, start, crash_at="RUN_CREATED") == -signal.SIGKILL
    ticks = instance.get_ticks(sensor.get_remote_origin_id(), sensor.selector_id)
    assert [t.status for t in ticks] == [TickStatus.STARTED] and instance.get_runs_count() == 1

    # the restarted daemon finishes the interrupted tick: every folder has exactly one run
    assert _run_tick(instance, start + 61) == 0
    assert _runs(instance) == [("crm_users/2026-06-03", SENSOR_NAME), ("form_leads/2026-06-03", SENSOR_NAME)]
    assert instance.get_ticks(sensor.get_remote_origin_id(), sensor.selector_id)[0].status == TickStatus.SUCCESS

    # another restart with nothing new: the stored cursor says so, no run is added
    assert _run_tick(instance, start + 122) == 0
    assert instance.get_runs_count() == 2

    # a corrected file: one more run, for that folder only
    path = landing / "crm_users" / DAY.isoformat() / "users-2026-06-03.csv"
    path.write_bytes(b"a,b\n1,3\n")
    os.utime(path, (LONG_AGO + 5, LONG_AGO + 5))
    assert _run_tick(instance, start + 183) == 0
    assert _runs(instance) == [
        ("crm_users/2026-06-03", SENSOR_NAME), ("crm_users/2026-06-03", SENSOR_NAME), ("form_leads/2026-06-03", SENSOR_NAME)
    ]
    cursor = json.loads(instance.get_instigator_state(sensor.get_remote_origin_id(), sensor.selector_id).instigator_data.cursor)
    assert set(cursor) == {"crm_users/2026-06-03", "form_leads/2026-06-03"}
    launched = {r.tags["leadgen/source"]: r.asset_selection for r in instance.get_runs()}
    assert launched["form_leads"] == {dg.AssetKey(["sources", "form_leads"]), dg.AssetKey(["signals", "form_leads"])}
