"""The landing sensor: a new or changed file under ``landing/<source>/<day>/`` launches the
ingestion of that source and day.

Each tick lists the landing zone (names, sizes and modification times; no file is read)
and compares every ``<source>/<day>`` folder with the cursor. A folder whose listing
changed gets one run of its source and signals assets for that day partition. The run key
is the folder plus a digest of its listing, so a tick that is retried after a crash of the
daemon asks for the same runs again and Dagster launches each only once; the cursor is
stored by Dagster with the tick, so a restarted daemon carries on where it stopped. What
the run does with each file (load, replace, skip a duplicate) is decided by the ingestion
ledger, not by the sensor.

A file modified within the last ``SETTLE_SECONDS`` may still be being written; its folder
waits for the next tick. Files whose name starts with a dot are temporary and never count.
A folder dated today waits until its daily partition opens at 00:00 UTC.
"""

import datetime as dt
import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from leadgen_assets import settings
from leadgen_assets.defs.common import LandingZoneResource
from leadgen_assets.defs.sources.assets import SOURCES

SENSOR_NAME = "landing_sensor"
SETTLE_SECONDS = 30


def _listing(folder: Path, settle_before: float) -> tuple[str, int, bool]:
    """A digest of a day folder's delivered files, their count, and whether any is still
    settling (modified after ``settle_before``)."""
    entries, settling = [], False
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        st = p.stat()
        settling |= st.st_mtime > settle_before
        entries.append(f"{p.name}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:20], len(entries), settling


def landing_requests(
    landing: Path, cursor: dict[str, str], now: dt.datetime, settle_before: float
) -> tuple[list[dg.RunRequest], dict[str, str], list[str]]:
    """Run requests for the day folders whose listing changed since ``cursor``, the new
    cursor, and notes on folders that were ignored or deferred (for the tick's log)."""
    first = settings.start_date()
    # daily_partitions are UTC days; a day's partition exists once the day has ended.
    last = now.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    requests, notes, new_cursor = [], [], dict(cursor)
    for spec in SOURCES:
        root = landing / spec.name
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            try:
                day = dt.date.fromisoformat(folder.name)
            except ValueError:
                notes.append(f"{spec.name}/{folder.name}: not a YYYY-MM-DD folder, ignored")
                continue
            if day < first:
                notes.append(f"{spec.name}/{folder.name}: before the first partition {first}, ignored")
                continue
            if day > last:  # today's partition opens when the day ends (00:00 UTC)
                notes.append(f"{spec.name}/{folder.name}: its partition is not open yet, deferred")
                continue
            key = f"{spec.name}/{day.isoformat()}"
            digest, n_files, settling = _listing(folder, settle_before)
            if cursor.get(key) == digest:
                continue
            if settling:
                notes.append(f"{key}: a file is still being written, deferred to the next tick")
                continue
            new_cursor[key] = digest
            if n_files == 0:
                continue
            requests.append(
                dg.RunRequest(
                    run_key=f"{key}/{digest}",
                    partition_key=day.isoformat(),
                    asset_selection=[dg.AssetKey(["sources", spec.name]), dg.AssetKey(["signals", spec.name])],
                    tags={"leadgen/source": spec.name, "leadgen/landing_files": str(n_files)},
                )
            )
    return requests, new_cursor, notes


@dg.sensor(
    name=SENSOR_NAME,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    target=dg.AssetSelection.groups("sources", "signals"),
    description="Launches the ingestion of a source and day when files land or change under "
    "landing/<source>/<day>/. One run per changed folder; the ingestion ledger loads each "
    "file's content once. Turn it on in Automation, with the daemon running (`leadgen ui`).",
)
def landing_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZoneResource) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests, new_cursor, notes = landing_requests(
        Path(landing_zone.path), cursor, dt.datetime.now(dt.UTC), time.time() - SETTLE_SECONDS
    )
    for note in notes[:20]:
        context.log.info(note)
    if not requests and new_cursor == cursor:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed files in the landing zone"))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(new_cursor, sort_keys=True))


defs = dg.Definitions(sensors=[landing_sensor])
