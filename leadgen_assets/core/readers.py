"""Read delivered files into raw records, exactly as delivered.

Every source lands in the same raw shape: one row per delivered record, with the file,
the physical line and the record itself as text (a JSON object of header -> value for
CSV rows; the line as it is for JSON lines). Parsing into types is the signals layer's job,
so a source's raw table never changes schema when a sender changes theirs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

RAW_SCHEMA = {
    "delivery_date": pl.Date,
    "source_file": pl.Utf8,
    "source_line": pl.Int64,
    "record": pl.Utf8,
}


class DeliveryError(Exception):
    """A delivered file could not be read. The message names the file and the cause."""


def empty_raw() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_SCHEMA)


def delivered_files(landing: Path, source: str, day: dt.date) -> list[Path]:
    folder = landing / source / day.isoformat()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def read_csv_records(path: Path, landing: Path, day: dt.date) -> pl.DataFrame:
    """One raw row per CSV data row; ``record`` is a JSON object keyed by the file's header."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False)
    except Exception as exc:  # polars' own message names the line; keep it, add the file
        raise DeliveryError(f"{path.relative_to(landing)}: cannot read as CSV: {exc}") from exc
    if frame.width == 0:
        return empty_raw()
    record = pl.struct(pl.all()).struct.json_encode()
    return frame.select(
        pl.lit(day, dtype=pl.Date).alias("delivery_date"),
        pl.lit(str(path.relative_to(landing))).alias("source_file"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias("source_line"),  # header is line 1
        record.alias("record"),
    )


def read_jsonl_records(path: Path, landing: Path, day: dt.date) -> pl.DataFrame:
    """One raw row per non-empty line of a JSON-lines file, the line kept verbatim."""
    # JSON text cannot hold a raw U+001F, so splitting on it yields each line whole.
    frame = pl.read_csv(
        path,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["record"],
        schema_overrides={"record": pl.Utf8},
        raise_if_empty=False,
    )
    if frame.width == 0:
        return empty_raw()
    return frame.with_row_index("source_line", offset=1).select(
        pl.lit(day, dtype=pl.Date).alias("delivery_date"),
        pl.lit(str(path.relative_to(landing))).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.col("record"),
    ).filter(pl.col("record").str.strip_chars() != "")


def read_day(landing: Path, source: str, day: dt.date, fmt: str) -> tuple[pl.DataFrame, int, int]:
    """All records a source delivered on ``day``; also returns the file count and bytes."""
    files = delivered_files(landing, source, day)
    reader = read_csv_records if fmt == "csv" else read_jsonl_records
    frames = [reader(f, landing, day) for f in files]
    size = sum(f.stat().st_size for f in files)
    return (pl.concat(frames) if frames else empty_raw()), len(files), size
