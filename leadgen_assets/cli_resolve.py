"""``leadgen resolve`` and ``leadgen resolve-eval``: the person resolver on anyone's records.

    leadgen resolve people.csv --map "First Name=first_name" --map Surname=last_name \\
        --map Email=email --id CustomerId --out clusters.parquet
    leadgen resolve-eval people.csv --map ... --truth PersonId

INPUT is CSV (read as text, UTF-8; undecodable bytes replaced) or Parquet (by the
extension .parquet/.pq, or the Parquet magic bytes). Every ``--map COLUMN=ROLE`` names an
input column and the role it plays (``leadgen_assets.core.resolve.ROLES``); a role that is
not mapped is not used. Clusters are written as (record_id, cluster_id), Parquet or CSV by
the extension of ``--out``; ``cluster_id`` is the smallest record id of the cluster (without
``--id``, records are numbered from 0 in file order and a cluster takes its first number).

Errors the user can fix (an unknown role, a column not in the input, an unreadable file,
a missing truth column, ...) are one line on stderr and exit code 2. No message or log line
here ever holds a value from the records: only column names, counts and file paths.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from leadgen_assets.core.procstats import peak_rss_mb

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


class UsageProblem(Exception):
    """A problem with the command line or the input that the user can fix (exit code 2)."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def parse_mapping(items: list[str] | None) -> dict[str, str]:
    """``["Col A=first_name", ...]`` -> ``{"first_name": "Col A", ...}`` (role -> column)."""
    from leadgen_assets.core.resolve import ROLES

    if not items:
        raise UsageProblem(f"give at least one --map COLUMN=ROLE; roles are {', '.join(ROLES)}")
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, role = item.rpartition("=")
        role = role.strip()
        if not sep or not column:
            raise UsageProblem(f"--map expects COLUMN=ROLE, got {item!r}")
        if role not in ROLES:
            raise UsageProblem(f"unknown role {role!r} in --map {item!r}; roles are {', '.join(ROLES)}")
        if role in mapping:
            raise UsageProblem(f"role {role!r} is mapped twice (columns {mapping[role]!r} and {column!r}); map one column per role")
        mapping[role] = column
    return mapping


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    if path.suffix.lower() in CSV_SUFFIXES:
        return False
    try:
        with path.open("rb") as f:
            return f.read(4) == b"PAR1"
    except OSError:
        return False


def _reader(path: Path):
    """(kind, header, read) for INPUT; ``read(columns)`` returns those columns as a frame."""
    import polars as pl

    if not path.exists():
        raise UsageProblem(f"input file {str(path)!r} does not exist")
    if not path.is_file():
        raise UsageProblem(f"input {str(path)!r} is not a file")
    parquet = _is_parquet(path)
    kind = "Parquet" if parquet else "CSV"
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        if parquet:
            header = list(pl.read_parquet_schema(path))
        else:
            header = pl.read_csv(path, n_rows=0, infer_schema=False, separator=sep, encoding="utf8-lossy").columns
    except Exception as exc:  # noqa: BLE001 - the library's message may quote the file's contents
        raise UsageProblem(f"cannot read {str(path)!r} as {kind} ({type(exc).__name__}); "
                           f"give a CSV file with a header row, or a Parquet file") from None

    if not parquet:
        _check_csv_lines(path)

    def read(columns: list[str]):
        try:
            if parquet:
                return pl.read_parquet(path, columns=columns)
            return pl.read_csv(path, columns=columns, infer_schema=False, separator=sep, encoding="utf8-lossy")
        except Exception as exc:  # noqa: BLE001 - see above
            raise UsageProblem(f"cannot read {str(path)!r} as {kind} ({type(exc).__name__}); "
                               "check that every row has as many fields as the header") from None

    return kind, header, read


def _check_csv_lines(path: Path) -> None:
    """Refuse a CSV file that is not UTF-8 or has lines that are not records, naming the
    first bad line and why (leadgen's own reader: exact line numbers, no values quoted).
    Reading it anyway would drop or pad fields without a word. The check is a pass of its
    own, about 5 s per million rows; Parquet input needs none."""
    import datetime as dt

    import polars as pl

    from leadgen_assets.core.readers import inspect, iter_csv_records

    facts = inspect(path)
    if facts.encoding not in ("utf-8", "utf-8-sig"):
        raise UsageProblem(f"{str(path)!r} is encoded as {facts.encoding}, not UTF-8; save it as UTF-8 "
                           "(for example with `iconv -t utf-8`) and run again")
    first, bad = None, 0
    for chunk in iter_csv_records(path, path.name, dt.date.today(), facts):
        errors = chunk.filter(pl.col("read_error").is_not_null()).sort("source_line")
        if errors.height and first is None:
            first = errors.row(0, named=True)
        bad += errors.height
    if first is not None:
        raise UsageProblem(f"{str(path)!r} line {first['source_line']}: {first['read_error']} "
                           f"({bad} such line(s)); fix or remove them and run again")


def read_input(path: Path, columns: list[str], reader=None):
    """The ``columns`` of INPUT as a polars frame; CSV cells as text. ``reader``: what
    ``_reader(path)`` gave, when the caller has it already (a CSV is checked once)."""
    _, header, read = reader or _reader(path)
    absent = [c for c in columns if c not in header]
    if absent:
        raise UsageProblem(f"column {absent[0]!r} is not in {str(path)!r} ({len(header)} columns); "
                           "check the spelling and case of the header")
    return read(columns)


def _check_ids(frame, id_column: str | None) -> None:
    if id_column is None:
        return
    ids = frame.get_column(id_column)
    nulls = ids.null_count()
    if nulls:
        raise UsageProblem(f"--id column {id_column!r} has {nulls} empty values; ids must be present and unique "
                           "(or leave out --id to number the rows from 0)")
    repeated = frame.height - ids.n_unique()
    if repeated:
        raise UsageProblem(f"--id column {id_column!r} has {repeated} repeated values; ids must be unique "
                           "(or leave out --id to number the rows from 0)")


def _out_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise UsageProblem(f"--out {str(out)!r} must end in .parquet or .csv")


def _load(input_path: Path, mapping: dict[str, str], id_column: str | None, extra: list[str], reader=None):
    columns = list(dict.fromkeys([*mapping.values(), *([id_column] if id_column else []), *extra]))
    frame = read_input(input_path, columns, reader)
    _check_ids(frame, id_column)
    return frame


def _run(frame, mapping: dict[str, str], id_column: str | None, threshold: float | None, max_cluster: int | None):
    import dataclasses

    from leadgen_assets.core import resolve as R

    config = R.Config()
    if threshold is not None:
        config = dataclasses.replace(config, threshold=threshold)
    if max_cluster is not None:
        config = dataclasses.replace(config, max_cluster=max_cluster)
    return R.resolve(frame, mapping, id_column=id_column, config=config)


def _print(rows: list[tuple[str, object]]) -> None:
    """Aligned ``name  value`` lines; integers with thousands separators, ratios to 6 places."""
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        if isinstance(value, bool):
            value = str(value)
        elif isinstance(value, int):
            value = f"{value:,}"
        elif isinstance(value, float):
            value = f"{value:.6f}"
        typer.echo(f"{key:<{width}}  {value}")


def _costs(started: float, t_read: float, stats: dict) -> list[tuple[str, object]]:
    return [("wall seconds", f"{time.perf_counter() - started:.2f}"), ("  read seconds", f"{t_read:.2f}"),
            ("  resolve seconds", f"{stats['seconds_total']:.2f}"), ("peak RSS MB", f"{peak_rss_mb():,.0f}")]


def _cap_alert(stats: dict, max_cluster: int | None) -> None:
    if stats.get("cap_refusals"):
        from leadgen_assets.core.resolve import Config

        cap = max_cluster or Config.max_cluster
        typer.echo(f"warning: {stats['cap_refusals']} links were refused by the cluster cap ({cap} records): "
                   "a shared placeholder value may be building a hub; see the cap_refusals count", err=True)


MapOption = Annotated[list[str], typer.Option("--map", help="COLUMN=ROLE, repeatable. Roles: first_name, last_name, full_name, email, phone, company, domain, website, street, city, postcode, country, birth_date.")]
IdOption = Annotated[str | None, typer.Option("--id", help="Column with each record's unique id (default: the row number, from 0).")]
ThresholdOption = Annotated[float | None, typer.Option(help="Link score threshold in bits (default: the resolver's, 11.5).")]
MaxClusterOption = Annotated[int | None, typer.Option(help="Largest cluster allowed (default 50); links beyond it are refused and counted.")]


def resolve_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet file of person records.")],
    mapping: MapOption = None,  # type: ignore[assignment]
    id_column: IdOption = None,
    out: Annotated[Path | None, typer.Option(help="Where to write (record_id, cluster_id): .parquet or .csv (default: INPUT's name + .clusters.parquet, beside it).")] = None,
    threshold: ThresholdOption = None,
    max_cluster: MaxClusterOption = None,
) -> None:
    """Resolve person records into clusters (one per person) and write them."""
    started = time.perf_counter()
    try:
        roles = parse_mapping(mapping)
        out_path = out or input_path.with_name(input_path.name + ".clusters.parquet")
        fmt = _out_format(out_path)
        frame = _load(input_path, roles, id_column, [])
    except UsageProblem as problem:
        raise _fail(str(problem)) from None
    t_read = time.perf_counter() - started
    res = _run(frame, roles, id_column, threshold, max_cluster)
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            res.clusters.write_parquet(out_path)
        else:
            res.clusters.write_csv(out_path)
    except OSError as exc:
        raise _fail(f"cannot write {str(out_path)!r} ({type(exc).__name__}); choose another path with --out") from None
    s = res.stats
    _print([
        ("records", s["records"]), ("clusters", s["clusters"]), ("links", s["links_accepted"]),
        ("deterministic links", s["deterministic_links"]), ("candidate pairs", s["candidate_pairs"]),
        ("reduction ratio", f"{s['reduction_ratio']:.8f}"), ("blocks skipped", s["blocks_skipped"]),
        ("cap refusals", s["cap_refusals"]), ("birth-date refusals", s["birth_date_refusals"]),
        *_costs(started, t_read, s),
        ("written", str(out_path)),
    ])
    _cap_alert(s, max_cluster)


def resolve_eval_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet file of person records.")],
    truth: Annotated[str, typer.Option(help="Column holding each record's true person id (empty: a person of its own).")],
    mapping: MapOption = None,  # type: ignore[assignment]
    id_column: IdOption = None,
    threshold: ThresholdOption = None,
    max_cluster: MaxClusterOption = None,
) -> None:
    """Resolve person records and score the clusters against a truth column."""
    from leadgen_assets.core.resolve import evaluate

    started = time.perf_counter()
    try:
        roles = parse_mapping(mapping)
        reader = _reader(input_path)
        if truth not in reader[1]:
            raise UsageProblem(f"--truth column {truth!r} is not in {str(input_path)!r}; "
                               "name the column that holds the true person ids")
        frame = _load(input_path, roles, id_column, [truth], reader)
    except UsageProblem as problem:
        raise _fail(str(problem)) from None
    t_read = time.perf_counter() - started
    res = _run(frame, roles, id_column, threshold, max_cluster)
    m = evaluate(res.clusters["cluster_id"], frame.get_column(truth))
    s = res.stats
    _print([
        ("records", s["records"]), ("clusters", s["clusters"]),
        ("pairwise precision", m["pairwise_precision"]), ("pairwise recall", m["pairwise_recall"]),
        ("pairwise F1", m["pairwise_f1"]),
        ("B-cubed precision", m["bcubed_precision"]), ("B-cubed recall", m["bcubed_recall"]),
        ("B-cubed F1", m["bcubed_f1"]),
        ("true pairs", m["true_pairs"]), ("predicted pairs", m["predicted_pairs"]),
        ("reduction ratio", f"{s['reduction_ratio']:.8f}"), ("candidate pairs", s["candidate_pairs"]),
        ("cap refusals", s["cap_refusals"]),
        *_costs(started, t_read, s),
    ])
    _cap_alert(s, max_cluster)


def register(app: typer.Typer) -> None:
    """Add ``resolve`` and ``resolve-eval`` to the ``leadgen`` command."""
    app.command("resolve")(resolve_command)
    app.command("resolve-eval")(resolve_eval_command)
