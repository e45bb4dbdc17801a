"""A bad delivery: every bad row is quarantined with its file, line and reason; good rows load;
a later bad re-delivery never wipes what was committed."""

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from leadgen_assets.defs.common import LandingZoneResource, WarehouseResource
from leadgen_assets.defs.signals.assets import signal_assets, signal_checks
from leadgen_assets.defs.sources.assets import source_assets
from leadgen_assets.storage.warehouse import Warehouse

DAY = dt.date(2026, 6, 3)
HEADER = "Lead ID,Campaign,Submitted At,Full Name,Email,Phone Number,Company Name,Job Title,Postal Code,Country,Service Needed,Budget,Timeline"
ROWS = [
    "g1,Brand,2026-06-03 09:00:00,Ann Lee,ann.lee@brightpath.com,(415) 555-0101,Brightpath,CEO,94105,US,Managed IT,5k-20k,ASAP",
    "g2,Brand,next tuesday,Bo Chan,bo@chan-llc.com,,Chan LLC,Owner,,US,Helpdesk,1k-5k,ASAP",  # bad date
    "g3,Brand,2026-06-03 09:10:00,No Contact,,,Nowhere Inc,,,US,,,",  # no way to reach them
    "g1,Brand,2026-06-03 09:00:00,Ann Lee,ann.lee@brightpath.com,(415) 555-0101,Brightpath,CEO,94105,US,Managed IT,5k-20k,ASAP",  # same id again
    "g4,Brand,2026-06-03 10:00:00,Cy Ode,cy@ode.io,+44 20 7946 0958,Ode Ltd,CTO,,UK,Cybersecurity,20k+,1-3 months",
]


@pytest.fixture
def setup(tmp_path: Path):
    folder = tmp_path / "landing" / "form_leads" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / f"google_ads-{DAY}.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb")),
        "landing_zone": LandingZoneResource(path=str(tmp_path / "landing")),
    }
    assets = [a for a in source_assets + signal_assets if a.key.path[1] == "form_leads"]
    checks = [c for c in signal_checks if next(iter(c.check_keys)).asset_key.path[1] == "form_leads"]
    return tmp_path, folder, resources, assets, checks


def test_bad_rows_are_quarantined_with_file_line_and_reason(setup) -> None:
    tmp_path, _, resources, assets, checks = setup
    result = dg.materialize([*assets, *checks], partition_key=DAY.isoformat(), resources=resources, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    store = Warehouse(tmp_path / "wh.duckdb")
    assert store.query("SELECT lead_id FROM signals.form_leads ORDER BY 1")["lead_id"].to_list() == ["google_ads:g1", "google_ads:g4"]
    rejects = store.query("SELECT source_file, source_line, field, reason FROM signals.quarantine ORDER BY source_line")
    assert rejects.rows() == [
        (f"form_leads/{DAY}/google_ads-{DAY}.csv", 3, "submitted_at", "unparseable timestamp in submitted_at"),
        (f"form_leads/{DAY}/google_ads-{DAY}.csv", 4, "email", "no valid email or phone"),
        (f"form_leads/{DAY}/google_ads-{DAY}.csv", 5, "source_record_id", "duplicate lead id in the day's delivery"),
    ]
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["rows_reconcile"].passed and checks["rows_reconcile"].metadata["rows_read"].value == 5
    assert checks["contract"].passed  # the rows that were written keep the contract
    # the signal's metadata shows the reject rate and reasons, never a row's values
    mat = next(m for m in result.get_asset_materialization_events() if m.asset_key.path[0] == "signals")
    meta = mat.step_materialization_data.materialization.metadata
    assert meta["reject_rate"].value == 0.6
    assert meta["covers_days"].value == DAY.isoformat() and meta["days_in_run"].value == 1
    assert "ann.lee" not in str(meta) and "Bo Chan" not in str(meta)
    assert meta["reject_reasons_by_day"].value.startswith("![chart](data:image/png;base64,")


def test_a_backfill_records_each_days_figures_for_the_ui_to_plot(setup) -> None:
    tmp_path, _, resources, assets, checks = setup
    nxt = DAY + dt.timedelta(days=1)
    folder = tmp_path / "landing" / "form_leads" / nxt.isoformat()
    folder.mkdir(parents=True)
    (folder / f"google_ads-{nxt}.csv").write_text(HEADER + "\n" + ROWS[0].replace("g1,", "g9,") + "\n")
    result = dg.materialize(
        [*assets, *checks], resources=resources, instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": DAY.isoformat(), "dagster/asset_partition_range_end": nxt.isoformat()},
    )
    observed = {
        e.asset_observation_data.asset_observation.partition: {
            k: v.value for k, v in e.asset_observation_data.asset_observation.metadata.items()
        }
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION" and e.asset_key.path[0] == "signals"
    }
    assert observed == {
        DAY.isoformat(): {
            "rows_read": 5, "rows_rejected": 3, "reject_rate": 0.6,
            "rejected: unparseable timestamp in submitted_at": 1,
            "rejected: no valid email or phone": 1,
            "rejected: duplicate lead id in the day's delivery": 1,
        },
        nxt.isoformat(): {"rows_read": 1, "rows_rejected": 0, "reject_rate": 0.0},
    }


def test_a_vanished_delivery_does_not_wipe_committed_rows(setup) -> None:
    tmp_path, folder, resources, assets, _ = setup
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize(assets, partition_key=DAY.isoformat(), resources=resources, instance=instance).success
    for f in folder.iterdir():
        f.unlink()  # the day's file disappears from the landing zone
    result = dg.materialize(assets, partition_key=DAY.isoformat(), resources=resources, instance=instance)
    store = Warehouse(tmp_path / "wh.duckdb")
    assert store.row_count("sources.form_leads") == 5
    assert store.row_count("signals.form_leads") == 2
    health = next(e for e in result.get_asset_check_evaluations() if e.asset_key.path[0] == "sources")
    assert not health.passed and health.severity == dg.AssetCheckSeverity.WARN
    assert "vanished" in health.metadata["flags"].value and f"google_ads-{DAY}.csv" in health.metadata["flags"].value


def test_rows_breaking_a_contract_are_quarantined_and_the_check_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "crm_users" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / f"users-{DAY}.csv").write_text(
        "Id,Name,Email,Territory,Segment,DailyCapacity,IsActive\n"
        "u1,Ann Rep,ann@msp.example,UK,SMB,20,true\n"
        "u2,Bo Rep,bo@msp.example,UK,Enterprise,20,true\n"  # a segment the contract does not know
        "u3,Cy Rep,cy@msp.example,UK,Mid-Market,15,false\n"
    )
    resources = {
        "warehouse": WarehouseResource(path=str(tmp_path / "wh.duckdb")),
        "landing_zone": LandingZoneResource(path=str(tmp_path / "landing")),
    }
    assets = [a for a in source_assets + signal_assets if a.key.path[1] == "crm_users"]
    checks = [c for c in signal_checks if next(iter(c.check_keys)).asset_key.path[1] == "crm_users"]
    result = dg.materialize([*assets, *checks], partition_key=DAY.isoformat(), resources=resources, instance=dg.DagsterInstance.ephemeral())
    assert result.success  # one bad row never stops the rest of the delivery
    store = Warehouse(tmp_path / "wh.duckdb")
    assert store.query("SELECT user_id FROM signals.crm_users ORDER BY 1")["user_id"].to_list() == ["u1", "u3"]
    assert store.query("SELECT source_line, field, reason FROM signals.quarantine").rows() == [
        (3, "segment", "contract: isin(['SMB', 'Mid-Market'])")
    ]
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["contract"].passed and checks["contract"].metadata["rows_quarantined_by_contract"].value == 1
    assert "Enterprise" not in str(checks["contract"].metadata)
    assert checks["rows_reconcile"].passed  # 3 read = 2 accepted + 1 quarantined


def test_unreadable_lines_are_quarantined_and_the_rest_of_the_day_loads(setup) -> None:
    tmp_path, folder, resources, assets, checks = setup
    # a second file of the same day, broken in the ways exports break
    (folder / f"meta_lead_ads-{DAY}.csv").write_bytes(
        "id,created_time,full_name,email\nm1,2026-06-03T08:00:00+0000,Dée Ode,dee@ode.io\n".encode()  # UTF-8 ...
        + b"m2,2026-06-03T08:01:00+0000,Bad \xff,bad@ode.io\n"
        b"m3,2026-06-03T08:02:00+0000,too,many,fields\n"
        b'm4,2026-06-03T08:03:00+0000,"never closed,x@y.io\n'
    )
    result = dg.materialize([*assets, *checks], partition_key=DAY.isoformat(), resources=resources, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    store = Warehouse(tmp_path / "wh.duckdb")
    assert "meta_lead_ads:m1" in store.query("SELECT lead_id FROM signals.form_leads")["lead_id"].to_list()
    meta_rejects = store.query(
        "SELECT source_line, reason FROM signals.quarantine WHERE source_file LIKE '%meta_lead_ads%' ORDER BY 1"
    ).rows()
    assert meta_rejects == [
        (3, "not valid UTF-8"),
        (4, "wrong number of fields: 5, the header has 4"),
        (5, "inside a quoted field that opens on line 5 and never closes"),
    ]
    assert all(e.passed for e in result.get_asset_check_evaluations() if e.check_name == "rows_reconcile")


def test_empty_files_and_placeholder_storms_are_flagged(setup) -> None:
    tmp_path, folder, resources, assets, checks = setup
    (folder / f"linkedin-{DAY}.csv").write_bytes(b"")
    (folder / f"webinar-{DAY}.csv").write_text("Registrant ID,Registration Time,First Name,Last Name,Email,Phone\n")
    rows = [f"r{i},2026-06-03,Ann{i},Lee{i},ann{i}@lee.com,555-555-5555" for i in range(30)]
    (folder / f"referral-{DAY}.csv").write_text("referral_id,date,name_first,name_last,email,phone\n" + "\n".join(rows) + "\n")
    result = dg.materialize([*assets, *checks], partition_key=DAY.isoformat(), resources=resources, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    health = {e.asset_key.path[0]: e for e in result.get_asset_check_evaluations() if e.check_name == "delivery_health"}
    assert not health["sources"].passed and health["sources"].metadata["warnings"].value == 2
    assert not health["signals"].passed and health["signals"].metadata["failures"].value == 1
    assert "555" not in str(health["signals"].metadata)  # shares and counts, never the value
