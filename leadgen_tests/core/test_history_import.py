"""Importing a business's past leads with outcomes (``leadgen model import``): which columns
become features and which are left out (never stored), typed values, rejected rows kept with
their line and reason (never the value), a file imported once, and an import taken back out
whole."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from leadgen_assets.cli import app
from leadgen_assets.core import history

SECRET = "zq-secret@example.com"


def export(n: int = 40) -> pl.DataFrame:
    return pl.DataFrame({
        "Email": [SECRET] * n,
        "Created": [f"2025-0{1 + i % 9}-1{i % 10}" for i in range(n)],
        "Outcome": ["won" if i % 4 == 0 else "lost" for i in range(n)],
        "pricing_views_30d": [str(i % 5) for i in range(n)],
        "Company Size": [str(10 * (i % 7) + 1) for i in range(n)],
        "budget": ["5k+" if i % 3 else "<1k" for i in range(n)],
        "is_free_mail": ["yes" if i % 2 else "no" for i in range(n)],
        "service_needed": ["Managed IT" if i % 2 else "Cybersecurity" for i in range(n)],
    })


def read(frame: pl.DataFrame, **kw) -> history.Imported:
    args = {"label": "Outcome", "created": "Created", "mapping": {"Company Size": "employees"}} | kw
    return history.read(frame, raw=frame.write_csv().encode(), file="export.csv", **args)


def test_feature_columns_are_typed_and_the_rest_left_out() -> None:
    got = read(export())
    assert got.rejects.height == 0
    assert set(got.features) == {"pricing_views_30d", "employees", "budget", "is_free_mail", "service_needed"}
    assert got.left_out == ["Email"]
    leads = got.leads
    assert leads.height == 40 and int(leads["won"].sum()) == 10
    assert leads.schema["pricing_views_30d"] == pl.Float64 and leads.schema["is_free_mail"] == pl.Boolean
    assert leads.schema["employees"] == pl.Float64 and leads["employees"].max() == 61
    assert "Email" not in leads.columns and SECRET not in str(leads.to_dicts())
    # every catalogue feature is a column (so every import has the same shape); unmapped ones are empty
    assert leads["demo_requested"].null_count() == 40
    # a category keeps its spelling, so it meets the pipeline's own values
    assert set(leads["service_needed"]) == {"Managed IT", "Cybersecurity"}
    assert leads["lead_id"][0] == f"history:{got.import_id}:2" and leads["line"][0] == 2


def test_bad_cells_reject_their_row_with_line_and_reason_never_the_value() -> None:
    frame = export(10).with_columns(
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("maybe")).otherwise(pl.col("Outcome")).alias("Outcome"),
        pl.when(pl.int_range(pl.len()) == 5).then(pl.lit(SECRET)).otherwise(pl.col("pricing_views_30d")).alias("pricing_views_30d"),
        pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("last tuesday")).otherwise(pl.col("Created")).alias("Created"),
    )
    got = read(frame)
    assert got.leads.height == 7
    rejected = dict(zip(got.rejects["line"].to_list(), got.rejects["reason"].to_list(), strict=True))
    assert set(rejected) == {5, 7, 9}  # header is line 1, so row i is line i + 2
    assert rejected[5].startswith("Outcome: not an outcome")
    assert rejected[7].startswith("pricing_views_30d: not a number")
    assert rejected[9].startswith("Created: not a date")
    assert SECRET not in " ".join(rejected.values())


@pytest.mark.parametrize(("kw", "message"), [
    ({"label": "Result"}, "no column 'Result' (--label)"),
    ({"created": "When"}, "no column 'When' (--created)"),
    ({"mapping": {"Size": "employees"}}, "the file has no column 'Size'"),
    ({"mapping": {"Company Size": "headcount"}}, "leadgen has no feature 'headcount'"),
    ({"mapping": {"Company Size": "budget"}}, "both give feature 'budget'"),
])
def test_a_plan_that_cannot_work_is_refused_by_name(kw: dict, message: str) -> None:
    with pytest.raises(history.HistoryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(export(), **kw)


def test_training_rows_select_casts_to_the_warehouse_types_and_keeps_only_mature_leads() -> None:
    got = read(export())
    con = duckdb.connect()
    con.execute("CREATE SCHEMA models")
    con.register("incoming", got.leads.to_arrow())
    con.execute(f"CREATE TABLE {history.HISTORY} AS SELECT * FROM incoming")
    sql = history.history_select_sql(got.leads.columns, {"pricing_views_30d": "BIGINT", "is_free_mail": "BOOLEAN", "budget": "VARCHAR"})
    rows = con.sql(sql, params={"cutoff": "2025-08-01", "window": 60}).pl()
    import datetime as dt

    mature = got.leads.filter(pl.col("delivery_date") <= dt.date(2025, 6, 2)).height
    assert 0 < mature < got.leads.height and rows.height == mature
    assert rows.schema["pricing_views_30d"] == pl.Int64 and set(rows["source"]) == {"history"}
    assert "Email" not in rows.columns and "employees" not in rows.columns  # no warehouse type given


def test_the_cli_imports_once_lists_and_removes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADGEN_WAREHOUSE", str(tmp_path / "w.duckdb"))
    path = tmp_path / "export.csv"
    export().write_csv(path)
    runner = CliRunner()
    args = ["model", "import", str(path), "--label", "Outcome", "--created", "Created", "--map", "Company Size=employees"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "40 leads (10 won)" in first.output and "Left out, not stored: Email" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already imported" in again.output and "nothing changed" in again.output
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (import_id,) = con.execute(f"SELECT import_id FROM {history.IMPORTS}").fetchall()[0]
    assert con.execute(f"SELECT count(*) FROM {history.HISTORY}").fetchall()[0][0] == 40
    assert SECRET not in str(con.execute(f"SELECT * FROM {history.HISTORY}").fetchall())
    con.close()
    listed = runner.invoke(app, ["model", "imports"])
    assert listed.exit_code == 0 and import_id in listed.output
    removed = runner.invoke(app, ["model", "imports", "--remove", import_id])
    assert removed.exit_code == 0, removed.output
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute(f"SELECT count(*) FROM {history.HISTORY}").fetchall()[0][0] == 0
    con.close()
    # removed, the same file can be imported again, also after a feature left the catalogue
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(f"ALTER TABLE {history.HISTORY} ADD COLUMN retired_feature DOUBLE")
    con.close()
    again_after_remove = runner.invoke(app, args)
    assert again_after_remove.exit_code == 0, again_after_remove.output
    for out in (first.output, again.output, listed.output, removed.output):
        assert SECRET not in out


def test_a_file_whose_every_row_is_bad_imports_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADGEN_WAREHOUSE", str(tmp_path / "w.duckdb"))
    path = tmp_path / "export.csv"
    export(5).with_columns(pl.lit("?").alias("Outcome")).write_csv(path)
    result = CliRunner().invoke(app, ["model", "import", str(path), "--label", "Outcome", "--created", "Created"])
    assert result.exit_code == 2 and "no row of export.csv could be imported" in result.output and "line 2" in result.output
    assert not (tmp_path / "w.duckdb").exists()


def test_the_holdout_is_the_latest_whole_days_holding_a_fifth_of_the_leads() -> None:
    import datetime as dt

    from leadgen_assets.core import training

    # a long, thin history (one lead a day for 300 days) before 10 busy days of 100 leads
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(300)]
    busy = [dt.date(2026, 6, 1) + dt.timedelta(days=i) for i in range(10) for _ in range(100)]
    frame = pl.DataFrame({"delivery_date": days + busy, "lead_id": [str(i) for i in range(1300)]})
    train, holdout = training.time_split(frame, 0.2)
    assert train.height + holdout.height == 1300
    assert holdout["delivery_date"].min() > train["delivery_date"].max()  # whole days, later than training
    assert 260 <= holdout.height < 360  # about a fifth of the leads, not a fifth of the days (60 thin days)
    assert holdout["delivery_date"].min() >= dt.date(2026, 6, 1)
    with pytest.raises(ValueError, match="two delivery days"):
        training.time_split(frame.head(1), 0.2)


def test_days_read_in_the_forms_exports_use() -> None:
    import datetime as dt

    text = pl.Series(["2025-03-04", "2025-03-04 10:30:00", "2025-03-04T10:30", "2025-03-04T23:30:00-02:00",
                      "2025-03-04T10:30:00.250Z", "04/03/2025"])
    got = history._day(text).to_list()
    assert got[0] == dt.datetime(2025, 3, 4) and got[1] == dt.datetime(2025, 3, 4, 10, 30)
    assert got[2] == dt.datetime(2025, 3, 4, 10, 30)
    assert got[3] == dt.datetime(2025, 3, 5, 1, 30)  # an offset is taken to UTC
    assert got[4] == dt.datetime(2025, 3, 4, 10, 30, 0, 250000)
    assert got[5] is None  # ambiguous day/month order: refused, never guessed
