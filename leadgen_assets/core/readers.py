"""Read delivered files into raw records, exactly as delivered, in bounded memory.

Every source lands in the same raw shape: one row per delivered record, with the file,
the physical line and the record itself as text (a JSON object of header -> value for
CSV rows; the line as it is for JSON lines). Parsing into types is the signals layer's job,
so a source's raw table never changes schema when a sender changes theirs.

Files are streamed: ``inspect`` makes one pass over the bytes (content hash, encoding,
NUL bytes) and ``iter_records`` yields frames of at most ``chunk_rows`` records, so a
delivery larger than memory is read in pieces of a fixed size.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

RAW_SCHEMA = {
    "delivery_date": pl.Date,
    "source_file": pl.Utf8,
    "source_line": pl.Int64,
    "record": pl.Utf8,
    "read_error": pl.Utf8,  # why the line could not be read as a record (then record is null)
}

# Records per frame handed to the writer; about 100-300 MB of text for our widest sources.
CHUNK_ROWS = 500_000
_BLOCK = 16 * 1024 * 1024  # bytes read at a time


def empty_raw() -> pl.DataFrame:
    return pl.DataFrame(schema=RAW_SCHEMA)


def delivered_files(landing: Path, source: str, day: dt.date) -> list[Path]:
    folder = landing / source / day.isoformat()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


@dataclass(frozen=True)
class FileFacts:
    """What one pass over a file's bytes tells: its identity and how to decode it."""

    sha256: str
    size_bytes: int
    encoding: str  # utf-8, utf-8-sig, utf-16(-le/-be), cp1252, or utf-8-mixed (some lines not UTF-8)
    has_nul: bool


def inspect(path: Path) -> FileFacts:
    """Content hash, size and encoding of a delivered file, reading it once in blocks.

    UTF-8 (with or without a BOM) and UTF-16 with a BOM are read as such. A file with no
    valid UTF-8 beyond ASCII and some bytes that are not UTF-8 is a single-byte export
    (Latin-1 / Windows-1252) and is converted. A UTF-8 file with a few lines that are not
    UTF-8 is ``utf-8-mixed``: those lines alone are rejected.
    """
    digest, size, has_nul = hashlib.sha256(), 0, False
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid_utf8, head = True, b""
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            if not head:
                head = block[:4]
            digest.update(block)
            size += len(block)
            has_nul = has_nul or b"\x00" in block
            # An ASCII block is valid UTF-8 (and checking that is ten times cheaper than
            # decoding), unless it ends a multi-byte sequence the previous block began.
            if valid_utf8 and not (block.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid_utf8 = False
    if valid_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid_utf8 = False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(head) == 4 and head[0] and not head[1] and head[2] and not head[3]:
        encoding = "utf-16-le"  # ASCII text in UTF-16 without a BOM
    elif len(head) == 4 and not head[0] and head[1] and not head[2] and head[3]:
        encoding = "utf-16-be"
    elif head.startswith(codecs.BOM_UTF8) and valid_utf8:
        encoding = "utf-8-sig"
    elif valid_utf8:
        encoding = "utf-8"
    else:
        encoding = "utf-8-mixed" if _has_utf8_beyond_ascii(path) else "cp1252"
    return FileFacts(digest.hexdigest(), size, encoding, has_nul)


def _has_utf8_beyond_ascii(path: Path) -> bool:
    with path.open("rb") as f:
        for raw in f:
            if not raw.isascii():
                try:
                    raw.decode("utf-8")
                    return True
                except UnicodeDecodeError:
                    pass
    return False


def _lines(path: Path, encoding: str) -> Iterator[str | None]:
    """The file's lines with their endings, ``None`` for a line that cannot be decoded.
    Only ``\\n`` ends a line (not ``\\r`` alone, nor U+2028 and friends)."""
    if encoding == "utf-8-mixed":
        with path.open("rb") as f:
            start = f.read(3)
            if start != codecs.BOM_UTF8:
                f.seek(0)
            for raw in f:
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield None
        return
    if encoding.startswith("utf-16"):
        # A broken UTF-16 sequence becomes U+FFFD; that line alone is rejected.
        with path.open(encoding=encoding, errors="replace", newline="\n") as f:
            for line in f:
                yield None if "\ufffd" in line else line
        return
    errors = "replace" if encoding == "cp1252" else "strict"  # cp1252 leaves five bytes undefined
    with path.open(encoding=encoding, errors=errors, newline="\n") as f:
        yield from f


def _label(facts: FileFacts) -> str:
    return "UTF-16" if facts.encoding.startswith("utf-16") else "UTF-8"


class _Chunks:
    """Collects a file's rows and hands them out as frames of bounded size: records (a CSV
    row's fields, or a JSON line) and unreadable lines with their reason."""

    def __init__(self, source_file: str, day: dt.date, chunk_rows: int, header: list[str] | None = None):
        self.source_file, self.day, self.chunk_rows = source_file, day, chunk_rows
        self.header = header
        self.lines: list[int] = []
        self.records: list = []  # CSV: list of fields; JSON lines: the line
        self.errors: list[tuple[int, str]] = []

    def add(self, line: int, record) -> None:
        self.lines.append(line)
        self.records.append(record)

    def reject(self, line: int, why: str) -> None:
        self.errors.append((line, why))

    def full(self) -> bool:
        return len(self.lines) + len(self.errors) >= self.chunk_rows

    def take(self) -> pl.DataFrame | None:
        if not self.lines and not self.errors:
            return None
        parts = []
        if self.lines:
            parts.append(
                pl.DataFrame({"source_line": self.lines, "record": self._encoded()}, schema={"source_line": pl.Int64, "record": pl.Utf8})
                .with_columns(pl.lit(None, dtype=pl.Utf8).alias("read_error"))
            )
        if self.errors:
            parts.append(
                pl.DataFrame(self.errors, schema={"source_line": pl.Int64, "read_error": pl.Utf8}, orient="row")
                .with_columns(pl.lit(None, dtype=pl.Utf8).alias("record"))
                .select("source_line", "record", "read_error")
            )
        self.lines, self.records, self.errors = [], [], []
        return _with_lineage(pl.concat(parts), self.source_file, self.day)

    def _encoded(self) -> pl.Series:
        """CSV rows as JSON objects keyed by the header (in its order); JSON lines as they are."""
        if self.header is None:
            return pl.Series(self.records, dtype=pl.Utf8)
        if len(set(self.header)) == len(self.header):
            names = [f"c{i}" for i in range(len(self.header))]
            frame = pl.DataFrame(self.records, schema=[(n, pl.Utf8) for n in names], orient="row")
            return frame.select(
                pl.struct([pl.col(n).alias(h) for n, h in zip(names, self.header, strict=True)]).struct.json_encode()
            ).to_series()
        # A header that repeats a name: the last column of that name wins, as in a dict.
        return pl.Series([json.dumps(dict(zip(self.header, r, strict=True)), ensure_ascii=False) for r in self.records], dtype=pl.Utf8)


def _with_lineage(frame: pl.DataFrame, source_file: str, day: dt.date) -> pl.DataFrame:
    return frame.select(
        pl.lit(day, dtype=pl.Date).alias("delivery_date"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        "record",
        "read_error",
    )


def iter_csv_records(
    path: Path, source_file: str, day: dt.date, facts: FileFacts, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pl.DataFrame]:
    """One raw row per CSV record, keyed by the file's header, with its exact first line.

    Nothing is dropped: a line that cannot be a record (not UTF-8, a NUL byte, the wrong
    number of fields, inside a quote that never closes) becomes a row with ``read_error``
    set and no record, so the signals layer quarantines it with its file and line.
    """
    out = _Chunks(source_file, day, chunk_rows)
    bad: set[int] = set()  # unreadable lines at or after the current record's first line

    def clean_lines() -> Iterator[str]:
        # A bad line is fed to the CSV reader as an empty line, so its line numbers stay the file's.
        for i, line in enumerate(_lines(path, facts.encoding), 1):
            why = f"not valid {_label(facts)}" if line is None else "NUL byte in line" if facts.has_nul and "\x00" in line else None
            if why is None:
                yield line
                continue
            out.reject(i, why)
            bad.add(i)
            yield "\n"

    lines = clean_lines()
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for fields in reader:
            first_line, start = start, reader.line_num + 1
            if len(bad) > 10_000:
                bad.difference_update([i for i in bad if i < start])
            if not fields:
                continue
            if header is None:
                header = out.header = fields
                continue
            if len(fields) != len(header):
                out.reject(first_line, f"wrong number of fields: {len(fields)}, the header has {len(header)}")
            else:
                out.add(first_line, fields)
            if out.full():
                yield out.take()
    except csv.Error as exc:
        # A quote opened at line `start` never closes (or grows past the field limit):
        # every line from there to the end of the file is unread.
        last = reader.line_num + sum(1 for _ in lines)
        why = (
            f"inside a quoted field that opens on line {start} and runs past {csv.field_size_limit()} characters"
            if "field larger than field limit" in str(exc)
            else f"inside a quoted field that opens on line {start} and never closes"
        )
        for i in range(start, last + 1):
            if i not in bad:
                out.reject(i, why)
                if out.full():
                    yield out.take()
    if (chunk := out.take()) is not None:
        yield chunk


def iter_jsonl_records(
    path: Path, source_file: str, day: dt.date, facts: FileFacts, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pl.DataFrame]:
    """One raw row per non-empty line of a JSON-lines file, the line kept verbatim."""
    if facts.encoding == "utf-8" and not facts.has_nul:
        yield from _iter_clean_jsonl(path, source_file, day, chunk_rows)
        return
    out = _Chunks(source_file, day, chunk_rows)
    for i, line in enumerate(_lines(path, facts.encoding), 1):
        if line is None:
            out.reject(i, f"not valid {_label(facts)}")
        elif "\x00" in line:
            out.reject(i, "NUL byte in line")
        elif line.strip():
            out.add(i, line.rstrip("\r\n"))
        if out.full():
            yield out.take()
    if (chunk := out.take()) is not None:
        yield chunk


def _iter_clean_jsonl(path: Path, source_file: str, day: dt.date, chunk_rows: int) -> Iterator[pl.DataFrame]:
    """The fast path for a well-encoded file: polars splits blocks of whole lines, and the
    blocks are handed on in frames of ``chunk_rows`` (DuckDB writes an insert that large
    straight to disk, even inside a transaction; smaller ones wait in memory until commit)."""
    offset = 0  # physical lines before the current block
    pending, held, held_rows = b"", [], 0
    with path.open("rb") as f:
        while True:
            block = f.read(_BLOCK)
            data = pending + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # no line end yet: read on
                    pending = data
                    continue
                data, pending = data[:cut], data[cut:]
            else:
                pending = b""
            frame = _parse_lines(data) if data else pl.DataFrame(schema={"record": pl.Utf8})
            if frame.height:
                frame = frame.with_row_index("source_line", offset=offset + 1).with_columns(
                    pl.lit(None, dtype=pl.Utf8).alias("read_error")
                )
                offset += frame.height
                frame = _with_lineage(frame, source_file, day).filter(pl.col("record").str.strip_chars() != "")
                held.append(frame)
                held_rows += frame.height
            while held_rows >= chunk_rows or (not block and held_rows):
                merged = pl.concat(held)
                yield merged.slice(0, chunk_rows)
                rest = merged.slice(chunk_rows)
                held, held_rows = ([rest] if rest.height else []), rest.height
            if not block:
                break


def _parse_lines(data: bytes) -> pl.DataFrame:
    # JSON text cannot hold a raw U+001F, so splitting on it yields each line whole. Every
    # line, empty ones included, is one row, so the row index is the physical line.
    frame = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator="\x1f",
        quote_char=None,
        new_columns=["record"],
        schema_overrides={"record": pl.Utf8},
        raise_if_empty=False,
    )
    return frame.with_columns(pl.col("record").fill_null("")) if frame.width else pl.DataFrame(schema={"record": pl.Utf8})


def iter_records(
    path: Path, source_file: str, day: dt.date, fmt: str, facts: FileFacts, chunk_rows: int | None = None
) -> Iterator[pl.DataFrame]:
    """A delivered file's raw rows in frames of at most ``chunk_rows`` rows (``CHUNK_ROWS``)."""
    reader = iter_csv_records if fmt == "csv" else iter_jsonl_records
    yield from reader(path, source_file, day, facts, chunk_rows or CHUNK_ROWS)


def read_file(path: Path, source_file: str, day: dt.date, fmt: str) -> pl.DataFrame:
    """A whole file's raw rows in one frame (tests and small files)."""
    frames = list(iter_records(path, source_file, day, fmt, inspect(path)))
    return pl.concat(frames) if frames else empty_raw()
