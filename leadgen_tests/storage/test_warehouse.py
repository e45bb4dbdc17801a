"""The warehouse's promises, each shown on a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from leadgen_assets.storage.warehouse import (
    EmptyWriteError,
    PartitionSliceError,
    SchemaChangeError,
    Warehouse,
)

D1, D2 = dt.date(2026, 6, 1), dt.date(2026, 6, 2)


def day_frame(day: dt.date, n: int, start: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "delivery_date": [day] * n,
            "lead_id": [f"l{i}" for i in range(start, start + n)],
            "score": [float(i) for i in range(start, start + n)],
        },
        schema={"delivery_date": pl.Date, "lead_id": pl.Utf8, "score": pl.Float64},
    )


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path / "wh.duckdb")


def rows(wh: Warehouse, day: dt.date) -> pl.DataFrame:
    return wh.query(
        "SELECT lead_id, score FROM signals.leads WHERE delivery_date = ? ORDER BY lead_id", [day]
    )


def test_overwrite_replaces_only_its_partition(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        w.write_partitions("signals.leads", day_frame(D2, 2), partition_col="delivery_date", keys=[D2])
        report = w.write_partitions(
            "signals.leads", day_frame(D1, 5, start=10), partition_col="delivery_date", keys=[D1]
        )
    assert (report.rows_written, report.rows_replaced) == (5, 3)
    assert rows(wh, D1)["lead_id"].to_list() == [f"l{i}" for i in range(10, 15)]
    assert rows(wh, D2)["lead_id"].to_list() == ["l0", "l1"]


def test_insert_is_by_column_name_not_position(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 2), partition_col="delivery_date", keys=[D1])
        reordered = day_frame(D1, 2, start=5).select("score", "delivery_date", "lead_id")
        w.write_partitions("signals.leads", reordered, partition_col="delivery_date", keys=[D1])
    got = rows(wh, D1)
    assert got["lead_id"].to_list() == ["l5", "l6"]
    assert got["score"].to_list() == [5.0, 6.0]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop("score"), "column 'score' removed"),
        (
            lambda f: f.with_columns(pl.col("score").cast(pl.Utf8)),
            "column 'score' changed type DOUBLE -> VARCHAR",
        ),
    ],
)
def test_schema_change_is_refused_and_old_rows_stay(wh: Warehouse, mutate, expected: str) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        with pytest.raises(SchemaChangeError) as err:
            w.write_partitions(
                "signals.leads", mutate(day_frame(D1, 4, start=7)), partition_col="delivery_date", keys=[D1]
            )
    message = str(err.value)
    assert "signals.leads" in message and expected in message
    assert "leadgen warehouse drop" in message  # tells the user what to do
    assert rows(wh, D1)["lead_id"].to_list() == ["l0", "l1", "l2"]


def test_an_added_column_is_added_and_earlier_rows_keep_their_values(wh: Warehouse) -> None:
    # a newer leadgen writes one more column: the table gains it, rows written before have it
    # empty, and nothing stored changes
    D2 = D1 + dt.timedelta(days=1)
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        w.write_partitions("signals.leads", day_frame(D2, 2).with_columns(pl.lit("web").alias("channel")),
                           partition_col="delivery_date", keys=[D2])
    def read(day):
        return wh.query("SELECT lead_id, score, channel FROM signals.leads WHERE delivery_date = ? ORDER BY lead_id", [day])

    old, new = read(D1), read(D2)
    assert old["lead_id"].to_list() == ["l0", "l1", "l2"] and old["channel"].is_null().all()
    assert old["score"].to_list() == [0.0, 1.0, 2.0]
    assert new["channel"].to_list() == ["web", "web"]


def test_empty_frame_does_not_delete_a_partition(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        with pytest.raises(EmptyWriteError, match="2026-06-01 with nothing .3 existing row"):
            w.write_partitions("signals.leads", day_frame(D1, 0), partition_col="delivery_date", keys=[D1])
    assert len(rows(wh, D1)) == 3
    # an empty write to a slice that holds nothing is simply a no-op
    with wh.writer() as w:
        report = w.write_partitions("signals.leads", day_frame(D2, 0), partition_col="delivery_date", keys=[D2])
    assert report.rows_written == 0
    # and an explicit allow_empty does clear it
    with wh.writer() as w:
        w.write_partitions(
            "signals.leads", day_frame(D1, 0), partition_col="delivery_date", keys=[D1], allow_empty=True
        )
    assert rows(wh, D1).is_empty()


def test_a_multi_day_write_cannot_silently_empty_one_day(wh: Warehouse) -> None:
    with wh.writer() as w:
        both = pl.concat([day_frame(D1, 3), day_frame(D2, 2, start=5)])
        w.write_partitions("signals.leads", both, partition_col="delivery_date", keys=[D1, D2])
        with pytest.raises(EmptyWriteError, match="2026-06-02 with nothing"):
            w.write_partitions("signals.leads", day_frame(D1, 4), partition_col="delivery_date", keys=[D1, D2])
    assert len(rows(wh, D1)) == 3 and len(rows(wh, D2)) == 2


def test_rows_outside_the_slice_are_refused(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        with pytest.raises(PartitionSliceError, match="1 row"):
            w.write_partitions(
                "signals.leads",
                pl.concat([day_frame(D1, 2), day_frame(D2, 1, start=9)]),
                partition_col="delivery_date",
                keys=[D1],
            )
    assert len(rows(wh, D1)) == 3


def test_a_failing_insert_rolls_back_the_delete(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        w.con.execute('ALTER TABLE signals.leads ALTER COLUMN lead_id SET NOT NULL')
        bad = day_frame(D1, 2).with_columns(pl.lit(None, dtype=pl.Utf8).alias("lead_id"))
        with pytest.raises(Exception, match="NOT NULL"):
            w.write_partitions("signals.leads", bad, partition_col="delivery_date", keys=[D1])
    assert rows(wh, D1)["lead_id"].to_list() == ["l0", "l1", "l2"]


def test_scoped_writes_share_a_table(wh: Warehouse) -> None:
    def q(source: str, n: int) -> pl.DataFrame:
        return day_frame(D1, n).with_columns(pl.lit(source).alias("source"))

    with wh.writer() as w:
        kw = dict(partition_col="delivery_date", keys=[D1])
        w.write_partitions("signals.quarantine", q("form_leads", 2), scope={"source": "form_leads"}, **kw)
        w.write_partitions("signals.quarantine", q("crm_contacts", 4), scope={"source": "crm_contacts"}, **kw)
        w.write_partitions("signals.quarantine", q("form_leads", 1), scope={"source": "form_leads"}, **kw)
    counts = dict(
        wh.query("SELECT source, count(*) FROM signals.quarantine GROUP BY ALL").iter_rows()
    )
    assert counts == {"form_leads": 1, "crm_contacts": 4}


def test_sql_source_and_reader_is_read_only(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        w.replace_table(
            "scoring.top",
            "SELECT lead_id, score FROM signals.leads WHERE score >= ?",
            params=[1.0],
        )
    assert wh.query("SELECT count(*) AS n FROM scoring.top")["n"][0] == 2
    with wh.reader() as con, pytest.raises(Exception, match="read-only"):
        con.execute("DELETE FROM signals.leads")


def test_hostile_names_are_quoted(wh: Warehouse) -> None:
    frame = day_frame(D1, 1).with_columns(pl.lit("x").alias('we"ird; DROP TABLE x --'))
    with wh.writer() as w:
        w.write_partitions("signals.odd", frame, partition_col="delivery_date", keys=[D1])
    assert wh.row_count("signals.odd") == 1


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from leadgen_assets.storage.warehouse import Warehouse
    day = dt.date(2026, 6, 1)
    # A slow overwrite: 60M generated rows, so the kill lands while the INSERT runs.
    sql = (
        "SELECT DATE '2026-06-01' AS delivery_date, 'new' || i::VARCHAR AS lead_id, "
        "i::DOUBLE AS score FROM range(60000000) t(i)"
    )
    def progress(stage):
        print(stage, flush=True)
    with Warehouse(sys.argv[1]).writer() as w:
        w.write_partitions("signals.leads", sql, partition_col="delivery_date", keys=[day], progress=progress)
    print("committed", flush=True)
    """
)


def test_sigkill_mid_overwrite_keeps_previous_rows(wh: Warehouse, tmp_path: Path) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 1000), partition_col="delivery_date", keys=[D1])
        w.write_partitions("signals.leads", day_frame(D2, 10), partition_col="delivery_date", keys=[D2])
    before = rows(wh, D1)

    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(wh.path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed after the DELETE ran, inside the transaction
    assert line.startswith("deleted 1000 row(s)"), line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    after = rows(wh, D1)
    assert after.equals(before)
    assert len(rows(wh, D2)) == 10



def test_staged_rows_move_in_one_transaction_and_the_connection_stays_usable(wh: Warehouse) -> None:
    with wh.writer() as w:
        w.write_partitions("signals.leads", day_frame(D1, 3), partition_col="delivery_date", keys=[D1])
        with w.staging("signals.leads") as staged:
            for start in (10, 20, 30):  # chunk by chunk, each append its own commit
                w.append(staged, day_frame(D2, 5, start))
            with w.transaction():
                assert w.delete_in("signals.leads", {"delivery_date": [D2]}) == 0
                report = w.insert_from("signals.leads", staged, slice_={"delivery_date": [D2]})
        assert report.rows_written == 15
        # every write leaves the connection ready for a query (duckdb 2 refuses one while a
        # fetched result is unfinished)
        assert w.con.sql("SELECT count(*) FROM signals.leads").fetchall() == [(18,)]
        assert not w.table_exists(staged)
        with w.staging("signals.leads") as staged, pytest.raises(PartitionSliceError):
            w.append(staged, day_frame(D1, 1, 99))
            w.insert_from("signals.leads", staged, slice_={"delivery_date": [D2]})
    assert rows(wh, D1).height == 3 and rows(wh, D2).height == 15


def test_delivered_text_is_stored_with_zstd(wh: Warehouse) -> None:
    raw = pl.DataFrame({"delivery_date": [D1] * 3000, "record": [f'{{"n": {i}, "pad": "{"x" * 40}"}}' for i in range(3000)]})
    with wh.writer() as w:
        w.write_partitions("sources.raw", raw, partition_col="delivery_date", keys=[D1])
        w.con.execute("CHECKPOINT")
        used = dict(w.con.execute(
            "SELECT column_name, list(DISTINCT compression) FROM pragma_storage_info('sources.raw') GROUP BY ALL"
        ).fetchall())
    assert "ZSTD" in used["record"]
    assert wh.query("SELECT record FROM sources.raw WHERE delivery_date = ?", [D1])["record"].to_list() == raw["record"].to_list()


def test_a_derived_table_is_rebuilt_on_a_schema_change_and_any_other_refuses(wh: Warehouse) -> None:
    old = pl.DataFrame({"person_id": ["P1", "P2"], "n_records": [1, 2]})
    new = pl.DataFrame({"person_id": ["P1"], "email_key_source": ["form_leads:g1"]})  # n_records removed
    with wh.writer() as w:
        w.replace_table("identity.persons", old)
        w.replace_table("identity.accounts", old)
        w.replace_table("identity.persons", new, derived=True)
        with pytest.raises(SchemaChangeError):
            w.replace_table("identity.accounts", new)
    assert wh.query("SELECT * FROM identity.persons").rows() == [("P1", "form_leads:g1")]
    assert wh.query("SELECT * FROM identity.accounts ORDER BY 1").rows() == [("P1", 1), ("P2", 2)]
