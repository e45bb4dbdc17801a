"""Typed parsing of raw records, with a reason for every row that is turned away.

A raw record is a JSON object (see ``readers.py``). A source declares the fields it needs,
each with the record key it comes from, a type and whether it is required. Parsing returns
the accepted rows and the rejected ones; ``accepted + rejected == read`` always holds.
"""

from __future__ import annotations

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
    key: str  # the key in the raw JSON record
    kind: str = "str"  # str | int | float | bool | timestamp | date
    required: bool = False


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


def _cast(expr: pl.Expr, kind: str) -> pl.Expr:
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
        return norm.utc_timestamp(text)
    if kind == "date":
        return norm.utc_timestamp(text).dt.date()
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
    typed = []
    checks: list[tuple[pl.Expr, str, str]] = [(~pl.col("_is_object"), "record", "not a JSON object")]
    for name, spec in fields.items():
        raw_value = pl.col("_rec")
        for part in spec.key.split("."):
            raw_value = raw_value.struct.field(part)
        value = _cast(raw_value, spec.kind)
        typed.append(value.alias(name))
        present = norm.clean_text(raw_value).is_not_null()
        if spec.required:
            checks.append((~present, name, f"required {name} is missing"))
        if spec.kind != "str":
            checks.append((present & value.is_null(), name, f"unparseable {spec.kind} in {name}"))
    field_expr = pl.lit(None, dtype=pl.Utf8)
    reason_expr = pl.lit(None, dtype=pl.Utf8)
    for cond, name, why in reversed(checks):
        field_expr = pl.when(cond).then(pl.lit(name)).otherwise(field_expr)
        reason_expr = pl.when(cond).then(pl.lit(why)).otherwise(reason_expr)
    staged = decoded.with_columns(*typed, field_expr.alias("_field"), reason_expr.alias("_reason"))
    accepted = staged.filter(pl.col("_reason").is_null()).select(*LINEAGE, *fields.keys())
    rejected = reject_frame(
        staged.filter(pl.col("_reason").is_not_null()), source, pl.col("_field"), pl.col("_reason")
    )
    return accepted, rejected
