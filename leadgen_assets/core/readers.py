"""Read delivered files into raw records, exactly as delivered.

Every source lands in the same raw shape: one row per delivered record, with the file,
the physical line and the record itself as text (a JSON object of header -> value for
CSV rows; the line as it is for JSON lines). Parsing into types is the signals layer's job,
so a source's raw table never changes schema when a sender changes theirs.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl

RAW_SCHEMA = {
    "delivery_date": pl.Date,
    "source_file": pl.Utf8,
    "source_line": pl.Int64,
    "record": pl.Utf8,
    "read_error": pl.Utf8,  # why the line could not be read as a record (then record is null)
}


def empty_raw() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_SCHEMA)


def delivered_files(landing: Path, source: str, day: dt.date) -> list[Path]:
    folder = landing / source / day.isoformat()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _split(data, newline):
    """Lines with their endings kept; only ``\\n`` ends a line (not U+2028 and friends)."""
    parts = data.split(newline)
    return [p + newline for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def decode(data: bytes) -> tuple[list[str | None], str]:
    """The file's lines as text, and the encoding it was read as.

    UTF-8 (with or without a BOM) and UTF-16 with a BOM are read as such. A file with no
    valid UTF-8 beyond ASCII and some bytes that are not UTF-8 is a single-byte export
    (Latin-1 / Windows-1252) and is converted. Otherwise a line that is not valid UTF-8
    stays ``None``: the caller rejects that line alone.
    """
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return _split(data.decode("utf-16"), "\n"), "utf-16"
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8):], "utf-8-sig"
    try:
        return _split(data.decode("utf-8"), "\n"), encoding
    except UnicodeDecodeError:
        pass
    raw_lines = _split(data, b"\n")
    decoded: list[str | None] = []
    utf8_beyond_ascii = False
    for raw in raw_lines:
        try:
            text = raw.decode("utf-8")
            utf8_beyond_ascii |= not text.isascii()
            decoded.append(text)
        except UnicodeDecodeError:
            decoded.append(None)
    if not utf8_beyond_ascii:
        return [raw.decode("cp1252", errors="replace") for raw in raw_lines], "cp1252"
    return decoded, encoding


def _raw_frame(path: Path, landing: Path, day: dt.date, rows: list[tuple[int, str | None, str | None]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={"source_line": pl.Int64, "record": pl.Utf8, "read_error": pl.Utf8}, orient="row")
    return frame.select(
        pl.lit(day, dtype=pl.Date).alias("delivery_date"),
        pl.lit(str(path.relative_to(landing))).alias("source_file"),
        "source_line",
        "record",
        "read_error",
    )


def read_csv_records(path: Path, landing: Path, day: dt.date) -> pl.DataFrame:
    """One raw row per CSV record, keyed by the file's header, with its exact first line.

    Nothing is dropped: a line that cannot be a record (not UTF-8, a NUL byte, the wrong
    number of fields, inside a quote that never closes) becomes a row with ``read_error``
    set and no record, so the signals layer quarantines it with its file and line.
    """
    lines, _ = decode(path.read_bytes())
    rows: list[tuple[int, str | None, str | None]] = []
    bad = {i: "not valid UTF-8" for i, line in enumerate(lines, 1) if line is None}
    bad |= {i: "NUL byte in line" for i, line in enumerate(lines, 1) if line is not None and "\x00" in line}
    # Bad lines are read as empty lines, so the reader's line numbers stay the file's.
    clean = ("\n" if i in bad else line for i, line in enumerate(lines, 1))
    reader = csv.reader(clean, strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for fields in reader:
            first_line, start = start, reader.line_num + 1
            if not fields:
                continue
            if header is None:
                header = fields
                continue
            if len(fields) != len(header):
                rows.append((first_line, None, f"wrong number of fields: {len(fields)}, the header has {len(header)}"))
            else:
                rows.append((first_line, json.dumps(dict(zip(header, fields, strict=True)), ensure_ascii=False), None))
    except csv.Error:
        # A quote opened at line `start` never closes: every line from there on is unread.
        rows += [
            (i, None, f"inside a quoted field that opens on line {start} and never closes")
            for i in range(start, len(lines) + 1)
            if i not in bad
        ]
    rows += [(i, None, why) for i, why in bad.items()]
    if header is None and not rows:
        return empty_raw()
    return _raw_frame(path, landing, day, sorted(rows))


def read_jsonl_records(path: Path, landing: Path, day: dt.date) -> pl.DataFrame:
    """One raw row per non-empty line of a JSON-lines file, the line kept verbatim."""
    data = path.read_bytes()
    if b"\x00" not in data and not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data.decode("utf-8")
            return _read_clean_jsonl(path, landing, day)
        except UnicodeDecodeError:
            pass
    lines, _ = decode(data)
    rows = [
        (i, None, "not valid UTF-8") if line is None
        else (i, None, "NUL byte in line") if "\x00" in line
        else (i, line.rstrip("\r\n"), None)
        for i, line in enumerate(lines, 1)
        if line is None or line.strip()
    ]
    return _raw_frame(path, landing, day, rows) if rows else empty_raw()


def _read_clean_jsonl(path: Path, landing: Path, day: dt.date) -> pl.DataFrame:
    """The fast path for a well-encoded file: polars reads the lines whole."""
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
        pl.lit(None, dtype=pl.Utf8).alias("read_error"),
    ).filter(pl.col("record").str.strip_chars() != "")


def read_day(landing: Path, source: str, day: dt.date, fmt: str) -> tuple[pl.DataFrame, list[tuple[str, int, int]]]:
    """All records a source delivered on ``day``, and (file, bytes, rows) for each file."""
    reader = read_csv_records if fmt == "csv" else read_jsonl_records
    frames, files = [], []
    for path in delivered_files(landing, source, day):
        frame = reader(path, landing, day)
        frames.append(frame)
        files.append((str(path.relative_to(landing)), path.stat().st_size, frame.height))
    return (pl.concat(frames) if frames else empty_raw()), files
