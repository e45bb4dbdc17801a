"""Typed parsing of raw records, with a reason for every row that is turned away.

A raw record is a JSON object (see ``readers.py``). A source declares the fields it needs,
each with the record key it comes from, a type and whether it is required. Parsing returns
the accepted rows and the rejected ones; ``accepted + rejected == read`` always holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import polars as pl

from leadgen_assets.core import normalize as norm

QUARANTINE_SCHEMA = {
    "delivery_date": pl.Date,
    "source": pl.Utf8,
    "source_file": pl.Utf8,
    "source_line": pl.Int64,
    "field": pl.Utf8,
    "reason": pl.Utf8,
}
LINEAGE = ("delivery_date", "source_file", "source_line")


@dataclass(frozen=True)
class Field:
    key: str  # the key in the raw JSON record; "a.b" reads field b of nested object a
    kind: str = "str"  # id | str | int | float | bool | timestamp | date
    required: bool = False
    formats: tuple[str, ...] | None = None  # time formats of a timestamp/date; None: all known


def _is_json_object(records: pl.Series) -> pl.Series:
    """True where the text is a well-formed JSON object (polars' decoder fails the whole
    column on one bad row, so bad rows are found first, by DuckDB's validator)."""
    frame = pl.DataFrame({"record": records})
    with duckdb.connect() as con:
        con.register("frame", frame)
        valid = con.sql(
            "SELECT CASE WHEN json_valid(record) THEN json_type(record) = 'OBJECT' ELSE false END "
            "AS ok FROM frame"
        ).pl()
    return valid["ok"].fill_null(False)


def _record_dtype(keys: list[str]) -> pl.Struct:
    """A struct dtype for the keys; ``a.b`` reads field ``b`` of the nested object ``a``."""
    tree: dict = {}
    for key in keys:
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(leaf, None)

    def build(node: dict) -> pl.Struct:
        return pl.Struct({k: (pl.Utf8 if v is None else build(v)) for k, v in sorted(node.items())})

    return build(tree)


def _cast(expr: pl.Expr, kind: str, formats: tuple[str, ...] | None = None) -> pl.Expr:
    if kind == "id":  # identifiers and codes: trimmed, never rewritten
        text = expr.str.strip_chars()
        return pl.when(text == "").then(None).otherwise(text)
    text = norm.clean_text(expr)
    if kind == "str":
        return text
    if kind == "int":
        return text.str.replace_all(",", "").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    if kind == "float":
        return text.str.replace_all(",", "").cast(pl.Float64, strict=False)
    if kind == "bool":
        low = text.str.to_lowercase()
        return pl.when(low.is_in(["true", "1", "yes", "y"])).then(True).when(
            low.is_in(["false", "0", "no", "n"])
        ).then(False)
    if kind == "timestamp":
        return norm.utc_timestamp(text, formats)
    if kind == "date":
        return norm.utc_timestamp(text, formats).dt.date()
    raise ValueError(f"unknown field kind {kind!r}")


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def reject_frame(frame: pl.DataFrame, source: str, field: pl.Expr, reason: pl.Expr) -> pl.DataFrame:
    return frame.select(
        pl.col("delivery_date"),
        pl.lit(source).alias("source"),
        pl.col("source_file"),
        pl.col("source_line"),
        field.cast(pl.Utf8).alias("field"),
        reason.cast(pl.Utf8).alias("reason"),
    )


def file_headers(raw: pl.DataFrame) -> dict[str, list[str]]:
    """Each file's header, from its first record (every record of a CSV file has the
    file's header as its keys, in the delivered order)."""
    firsts = raw.filter(pl.col("record").is_not_null()).group_by("source_file", maintain_order=True).agg(
        pl.col("record").first()
    )
    return {str(f): list(json.loads(r)) for f, r in firsts.iter_rows()}


def reject_files_missing_columns(
    raw: pl.DataFrame, source: str, fields: dict[str, Field]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off the CSV files whose header has no column for a required field: every row
    of such a file is rejected, naming the first missing field, and none of it is parsed.
    Returns the rows of the other files and the rejected ones."""
    required = [(name, spec.key) for name, spec in fields.items() if spec.required]
    missing = {
        file: next(name for name, key in required if key not in header)
        for file, header in file_headers(raw).items()
        if any(key not in header for _, key in required)
    }
    if not missing:
        return raw, empty_quarantine()
    whole = pl.col("source_file").is_in(list(missing))
    field = pl.col("source_file").replace_strict(missing, return_dtype=pl.Utf8)
    rejected = reject_frame(raw.filter(whole), source, field, pl.lit("file has no column for required ") + field)
    return raw.filter(~whole), rejected


def parse_records(
    raw: pl.DataFrame, source: str, fields: dict[str, Field]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decode ``raw.record`` into typed columns named after ``fields``.

    A row is rejected, with the first failing field named, when the record is not a JSON
    object, a required field is missing, or a present value cannot be read as its type.
    """
    struct = _record_dtype([f.key for f in fields.values()])
    decoded = raw.with_columns(_is_json_object(raw["record"]).alias("_is_object"))
    decoded = decoded.with_columns(
        pl.when(pl.col("_is_object")).then(pl.col("record")).otherwise(pl.lit("{}"))
        .str.json_decode(struct)
        .alias("_rec")
    )

    def raw_value(spec: Field) -> pl.Expr:
        expr = pl.col("_rec")
        for part in spec.key.split("."):
            expr = expr.struct.field(part)
        return expr

    # Stage 1: every typed value and every "was something there" flag, computed once.
    checked = {name: spec for name, spec in fields.items() if spec.required or spec.kind not in ("id", "str")}
    staged = decoded.with_columns(
        *[_cast(raw_value(spec), spec.kind, spec.formats).alias(name) for name, spec in fields.items()],
        *[
            (raw_value(spec).str.strip_chars().str.len_chars() > 0).fill_null(False).alias(f"_present_{name}")
            for name, spec in checked.items()
        ],
    )
    # Stage 2: the checks, in order, on those columns; the first failing one is the reason.
    checks: list[tuple[pl.Expr, str, str]] = [(~pl.col("_is_object"), "record", "not a JSON object")]
    for name, spec in checked.items():
        present = pl.col(f"_present_{name}")
        if spec.required:
            checks.append((~present, name, f"required {name} is missing"))
        if spec.kind not in ("id", "str"):
            checks.append((present & pl.col(name).is_null(), name, f"unparseable {spec.kind} in {name}"))
    failing = pl.lit(None, dtype=pl.Int32)
    for i, (cond, _, _) in reversed(list(enumerate(checks))):
        failing = pl.when(cond).then(pl.lit(i, dtype=pl.Int32)).otherwise(failing)
    staged = staged.with_columns(failing.alias("_fail"))
    accepted = staged.filter(pl.col("_fail").is_null()).select(*LINEAGE, *fields.keys())
    bad = staged.filter(pl.col("_fail").is_not_null())
    rejected = reject_frame(
        bad,
        source,
        pl.col("_fail").replace_strict({i: c[1] for i, c in enumerate(checks)}, return_dtype=pl.Utf8),
        pl.col("_fail").replace_strict({i: c[2] for i, c in enumerate(checks)}, return_dtype=pl.Utf8),
    )
    return accepted, rejected
