"""``leadgen resolve`` and ``leadgen resolve-eval`` on small files: outputs, summaries and
the one-line errors (exit code 2, no traceback, no record value in any message)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from leadgen_assets.cli import app

SECRET = "zq-secret-value"  # a record value that must never appear in any output

ROWS = [
    # id, first, last, email, phone, truth
    ("c1", "Robert", "Mueller", "rob@acme.com", None, "P1"),
    ("c2", "Bob", "Mueller", "rob@acme.com", "+44 131 357 7390", "P1"),
    ("c3", "Robert", "Mueller", None, "+441313577390", "P1"),
    ("c4", "Ann", "Lee", f"{SECRET}@lee.com", "(415) 555-0134", "P2"),
    ("c5", "Anne", "Lee", None, "+1 415 555 0134", "P2"),
    ("c6", "Peter", "Nash", "peter@nash.io", None, "P3"),
]
MAPS = ["--map", "First Name=first_name", "--map", "Surname=last_name", "--map", "E-mail=email", "--map", "Tel=phone"]


@pytest.fixture()
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    pl.DataFrame(ROWS, schema=["Id", "First Name", "Surname", "E-mail", "Tel", "Person"], orient="row").write_csv(path)
    return path


def invoke(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert SECRET not in result.output
    return result


def summary(output: str) -> dict[str, str]:
    out = {}
    for line in output.splitlines():
        key, _, value = line.strip().rpartition("  ")
        if key:
            out[key.strip()] = value.strip()
    return out


def test_resolve_writes_clusters_and_prints_the_summary(people: Path, tmp_path: Path) -> None:
    out = tmp_path / "clusters.csv"
    result = invoke("resolve", people, *MAPS, "--id", "Id", "--out", out)
    assert result.exit_code == 0, result.output
    clusters = dict(pl.read_csv(out).iter_rows())
    assert clusters == {"c1": "c1", "c2": "c1", "c3": "c1", "c4": "c4", "c5": "c4", "c6": "c6"}
    s = summary(result.output)
    assert s["records"] == "6" and s["clusters"] == "3"
    assert int(s["links"]) >= 4 and s["cap refusals"] == "0"
    for key in ("reduction ratio", "wall seconds", "peak RSS MB"):
        assert float(s[key].replace(",", "")) > 0


def test_resolve_reads_parquet_writes_parquet_and_numbers_rows_without_an_id(people: Path, tmp_path: Path) -> None:
    src = tmp_path / "people.parquet"
    pl.read_csv(people).write_parquet(src)
    out = tmp_path / "out" / "clusters.parquet"
    result = invoke("resolve", src, *MAPS, "--out", out)
    assert result.exit_code == 0, result.output
    got = pl.read_parquet(out)
    assert got.columns == ["record_id", "cluster_id"]
    assert got["record_id"].to_list() == [str(i) for i in range(6)]
    assert got["cluster_id"].to_list() == ["0", "0", "0", "3", "3", "5"]


def test_a_higher_threshold_links_less(people: Path, tmp_path: Path) -> None:
    loose = summary(invoke("resolve", people, *MAPS, "--out", tmp_path / "a.csv").output)
    strict = summary(invoke("resolve", people, *MAPS, "--out", tmp_path / "b.csv", "--threshold", "2000").output)
    assert int(strict["links"]) < int(loose["links"]) and int(strict["clusters"]) == 6


def test_resolve_eval_prints_the_scores(people: Path) -> None:
    result = invoke("resolve-eval", people, *MAPS, "--id", "Id", "--truth", "Person")
    assert result.exit_code == 0, result.output
    s = summary(result.output)
    for key in ("pairwise precision", "pairwise recall", "pairwise F1", "B-cubed precision", "B-cubed recall", "B-cubed F1"):
        assert float(s[key]) == pytest.approx(1.0), key
    assert s["true pairs"] == "4"
    assert 0 < float(s["reduction ratio"]) < 1
    assert float(s["peak RSS MB"].replace(",", "")) > 0 and float(s["wall seconds"]) > 0


def test_resolve_eval_scores_a_wrong_truth_lower(people: Path, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    pl.read_csv(people).with_columns(pl.lit("same").alias("Person")).write_csv(path)
    s = summary(invoke("resolve-eval", path, *MAPS, "--truth", "Person").output)
    assert float(s["pairwise precision"]) == 1.0 and float(s["pairwise recall"]) < 0.5


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--map", "First Name=firstname"], "unknown role 'firstname'"),
        (["--map", "Nope=first_name"], "column 'Nope' is not in"),
        (["--map", "First Name"], "--map expects COLUMN=ROLE"),
        (["--map", "First Name=first_name", "--map", "Surname=first_name"], "mapped twice"),
        (["--map", "First Name=first_name", "--id", "Missing"], "column 'Missing' is not in"),
        (["--map", "First Name=first_name", "--id", "Surname"], "repeated values"),
        (["--map", "First Name=first_name", "--out", "clusters.json"], "must end in .parquet or .csv"),
        ([], "give at least one --map"),
    ],
)
def test_resolve_errors_are_one_line_and_exit_2(people: Path, args: list[str], needle: str) -> None:
    result = invoke("resolve", people, *args)
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_unreadable_or_missing_input_exits_2_without_quoting_it(tmp_path: Path) -> None:
    missing = invoke("resolve", tmp_path / "none.csv", "--map", "a=email")
    assert missing.exit_code == 2 and "does not exist" in missing.output
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1" + SECRET.encode() * 10)
    bad = invoke("resolve", broken, "--map", "a=email")
    assert bad.exit_code == 2 and "cannot read" in bad.output and "Traceback" not in bad.output
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(f"a,b\nx@y.com,1\n{SECRET}@y.com,2,3,4\n")
    result = invoke("resolve", ragged, "--map", "a=email")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "line 3: wrong number of fields: 4, the header has 2 (1 such line(s))" in result.output
    assert SECRET not in result.output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("a,b\nJos\u00e9@y.com,1\n".encode("cp1252"))
    result = invoke("resolve", latin1, "--map", "a=email")
    assert result.exit_code == 2 and "is encoded as cp1252, not UTF-8" in result.output


def test_resolve_eval_without_the_truth_column_exits_2(people: Path) -> None:
    result = invoke("resolve-eval", people, *MAPS, "--truth", "Truth")
    assert result.exit_code == 2
    assert "--truth column 'Truth' is not in" in result.output and "Traceback" not in result.output


def test_empty_ids_are_refused_with_a_count(people: Path, tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    pl.read_csv(people).with_columns(pl.when(pl.col("Id") == "c2").then(None).otherwise(pl.col("Id")).alias("Id")).write_csv(path)
    result = invoke("resolve", path, *MAPS, "--id", "Id")
    assert result.exit_code == 2 and "1 empty values" in result.output
