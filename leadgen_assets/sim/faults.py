"""Fault injection: break a landing zone the ways real deliveries break, on demand.

Every injector works on one source-day folder of a landing zone written by
``generate_world`` (``<landing>/<source>/<YYYY-MM-DD>/<file>``), changes or adds exactly one
file, and returns a :class:`Fault` that says what it did: the file (relative to the landing
zone, as the pipeline's ``source_file``), the physical lines it touched (the header is line
1), the records in the file afterwards, and kind-specific facts (columns, encodings, counts)
that tests assert exact outcomes against. The same arguments always write the same bytes.

    from leadgen_assets.sim import inject
    fault = inject("ragged_rows", landing, "form_leads", day, seed=7)
    fault.lines            # (5, 12, 30): the lines that now have the wrong field count
    print(fault.describe())  # no values, only names and counts

An injector takes ``(landing, source, day, seed)`` plus keyword options; ``file`` picks the
file by name, otherwise the file with the most records is used (ties: by name). Values it
writes (accented names, placeholders) are synthetic, kept in ``Fault.values`` and never
printed by ``describe``. Pure Python; no Dagster, no pipeline code.

| kind | what it does | formats |
|---|---|---|
| ``rename_known`` | renames columns to the header variant the form channel is known to use | form_leads |
| ``rename_unknown`` | renames one required column to a name nobody maps | CSV |
| ``missing_column`` | removes one required column (header and values) | CSV |
| ``extra_column`` | inserts a column nobody knows, with values | CSV |
| ``reorder_columns`` | shuffles the columns | CSV |
| ``bom`` / ``latin1`` / ``utf16`` | re-encodes the file (UTF-8 with BOM, cp1252, UTF-16 LE with BOM); CSV files get accented names on a few rows | CSV, JSONL |
| ``ragged_rows`` | gives a few records one field too many or too few | CSV |
| ``unclosed_quote`` | opens a quote that never closes | CSV |
| ``empty_file`` / ``header_only`` | truncates to 0 bytes / to the header line | CSV, JSONL / CSV |
| ``null_storm`` | empties a normally-present field (email) on most rows | CSV |
| ``placeholder_storm`` | puts one dummy email or phone on many rows | CSV |
| ``duplicate_delivery`` | the same bytes again under another name, same or another day | any |
| ``corrected_redelivery`` | rewrites the file under its own name with rows changed, removed and added | CSV, JSONL |
| ``big_file`` | streams a large valid file of perturbed copies of the file's records | CSV, JSONL |
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import math
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .forms import DRIFTED_LAYOUTS, LAYOUTS

# Columns a source cannot do without (docs/landing-zone.md): losing one breaks every row.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_accounts": ("Id", "LastModifiedDate"),
    "crm_contacts": ("Id", "LastModifiedDate"),
    "crm_opportunities": ("Id", "StageName", "CreatedDate", "LastModifiedDate"),
    "crm_users": ("Id", "Territory", "Segment", "DailyCapacity", "IsActive"),
    "ad_spend": ("date", "channel", "spend"),
    "consent_events": ("event_id", "occurred_at", "event_type"),
    "review_decisions": ("decision_id", "lead_id", "decided_at", "verdict"),
}
# The column (CSV) or key (JSONL) that identifies a record; form_leads: the file's first column.
ID_COLUMNS: dict[str, str] = {
    "crm_accounts": "Id", "crm_contacts": "Id", "crm_opportunities": "Id", "crm_users": "Id",
    "ad_spend": "campaign_id", "consent_events": "event_id", "review_decisions": "decision_id",
    "web_events": "messageId", "enrichment": "domain",
}
# A free-text column a sender corrects in a re-delivery (header keys, first present wins).
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "form_leads": ("jobtitle", "companyname", "company", "organization"),
    "crm_accounts": ("industry",), "crm_contacts": ("title",), "crm_opportunities": ("name",),
    "crm_users": ("name",), "ad_spend": ("campaignname",), "consent_events": ("source",),
    "review_decisions": ("reason",), "enrichment": ("companyname",),
}
# Names a cp1252 export can carry (all in Windows-1252); synthetic.
ACCENTED_NAMES = ("José Álvarez", "Zoë Brontë", "François Lefèvre", "Jürgen Müller", "Inês Conceição",
                  "Søren Åberg", "Núria Peña", "Chloé Dubois")
EXTRA_COLUMNS = ("gclid", "Lead Score", "utm_content", "Consent Text Version", "Internal Notes")
PLACEHOLDERS = {"email": "test@test.com", "phone": "555-555-5555"}
ENCODINGS = {"bom": "utf-8-sig", "latin1": "cp1252", "utf16": "utf-16"}
BIG_FILE_BYTES = 1 << 30  # the CLI's default size for big_file


@dataclass(frozen=True)
class Fault:
    """What an injector did, for tests to assert against and people to read."""

    kind: str
    source: str
    day: dt.date
    path: Path                  # the file written
    file: str                   # ``path`` relative to the landing zone: the pipeline's source_file
    lines: tuple[int, ...]      # physical lines touched, in the file as written (header = 1)
    rows: int                   # records in the file as written (data rows of a CSV)
    detail: dict[str, Any] = field(default_factory=dict)  # names, encodings, counts: no values
    values: dict[int, str] = field(default_factory=dict)  # line -> synthetic value written; never printed

    def describe(self) -> str:
        """One line, without any value from the file (ids and values stay out)."""
        shown = []
        for key, value in self.detail.items():
            if isinstance(value, (list, tuple, set)):
                shown.append(f"{key}={len(value)}")
            elif isinstance(value, dict):
                shown.append(f"{key}={len(value)}" if key.endswith("_ids") or len(value) > 6 else f"{key}={value}")
            elif not key.startswith("sha256") and key != "placeholder":
                shown.append(f"{key}={value}")
        lines = ",".join(map(str, self.lines[:8])) + (",…" if len(self.lines) > 8 else "")
        return (f"{self.kind}: {self.file}, {self.rows} record(s)"
                + (f", {len(self.lines)} line(s) touched [{lines}]" if self.lines else "")
                + (f"; {'; '.join(shown)}" if shown else ""))


# --------------------------------------------------------------------------- helpers
def header_key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum() and c.isascii())


def _rng(seed: int, kind: str, source: str, day: dt.date) -> np.random.Generator:
    ss = np.random.SeedSequence([seed, zlib.crc32(kind.encode()), zlib.crc32(source.encode()), day.toordinal()])
    return np.random.Generator(np.random.PCG64(ss))


def _folder(landing: Path, source: str, day: dt.date) -> Path:
    folder = Path(landing) / source / day.isoformat()
    if not folder.is_dir():
        raise FileNotFoundError(f"nothing delivered for {source} on {day}: {folder} does not exist")
    return folder


def _count_records(path: Path) -> int:
    """Records in a clean file (-1 if it is not clean UTF-8 CSV / JSON lines any more)."""
    try:
        if path.suffix == ".csv":
            return len(_read_csv(path)[1]) if path.stat().st_size else 0
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except (UnicodeDecodeError, csv.Error, ValueError):
        return -1


def _target(landing: Path, source: str, day: dt.date, file: str | None) -> Path:
    folder = _folder(landing, source, day)
    if file is not None:
        path = folder / file
        if not path.is_file():
            raise FileNotFoundError(f"{source}/{day}/{file} does not exist")
        return path
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"no file delivered for {source} on {day}")
    return min(files, key=lambda p: (-_count_records(p), p.name))


def _rel(landing: Path, path: Path) -> str:
    return str(path.relative_to(landing))


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and records of a clean (UTF-8, RFC 4180) CSV, as the simulator writes them."""
    text = path.read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not rows:
        raise ValueError(f"{path.name} is empty: nothing to break")
    return rows[0], rows[1:]


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _csv_line(row: list[str]) -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _spans(text: str) -> list[tuple[int, int]]:
    """(first, last) physical line of each data record (a quoted field can span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    spans, nxt = [], 1
    for i, _ in enumerate(reader):
        if i:
            spans.append((nxt, reader.line_num))
        nxt = reader.line_num + 1
    return spans


def _first_lines(text: str) -> list[int]:
    return [first for first, _ in _spans(text)]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> list[int]:
    text = _csv_text(header, rows)
    path.write_bytes(_encode(text, encoding))
    return _first_lines(text)


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16":  # explicit little-endian with a BOM, the same bytes on every machine
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def _csv_only(path: Path, kind: str) -> None:
    if path.suffix != ".csv":
        raise ValueError(f"{kind} applies to CSV files, not {path.name}")


def _pick(rng: np.random.Generator, n: int, k: int) -> list[int]:
    """k distinct indexes of range(n), sorted."""
    if k > n:
        raise ValueError(f"cannot pick {k} of {n} records")
    return sorted(int(i) for i in rng.choice(n, size=k, replace=False))


def _column(header: list[str], keys: tuple[str, ...], what: str, path: Path) -> int:
    by_key = {header_key(h): i for i, h in reversed(list(enumerate(header)))}
    for key in keys:
        if key in by_key:
            return by_key[key]
    raise ValueError(f"{path.name} has no {what} column (looked for {', '.join(keys)})")


def _required(source: str, path: Path, header: list[str]) -> list[str]:
    if source == "form_leads":
        channel = _channel(path)
        wanted = [h for h, f in {**LAYOUTS[channel], **DRIFTED_LAYOUTS[channel]}.items() if f in ("record_id", "time")]
    else:
        wanted = list(REQUIRED_COLUMNS.get(source, ()))
    present = [h for h in header if h in wanted]
    if not present:
        raise ValueError(f"no required column known for {source} in {path.name}")
    return present


def _channel(path: Path) -> str:
    for channel in sorted(LAYOUTS, key=len, reverse=True):
        if path.name.startswith(channel + "-"):
            return channel
    raise ValueError(f"{path.name} names no form channel")


def _id_column(source: str, header: list[str]) -> int:
    return 0 if source == "form_leads" else header.index(ID_COLUMNS[source])


def _fault(kind: str, source: str, day: dt.date, landing: Path, path: Path, lines, rows: int,
           detail: dict[str, Any] | None = None, values: dict[int, str] | None = None) -> Fault:
    return Fault(kind, source, day, path, _rel(Path(landing), path), tuple(lines), rows, detail or {}, values or {})


# --------------------------------------------------------------------------- columns
def rename_known(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Rename columns to the header variant the form channel is known to use (its drifted
    layout, docs/landing-zone.md): every column the two layouts name differently. Values and
    order are unchanged. (``seed`` is not needed: the variant is fixed.)"""
    if source != "form_leads":
        raise ValueError("known header variants exist for the form_leads channels only")
    path = _target(landing, source, day, file)
    _csv_only(path, "rename_known")
    header, rows = _read_csv(path)
    channel = _channel(path)
    variant = {f: h for h, f in DRIFTED_LAYOUTS[channel].items()}
    renamed = {h: variant[f] for h, f in LAYOUTS[channel].items() if h in header and f in variant and variant[f] != h}
    if not renamed:
        raise ValueError(f"{path.name}: no column has a known variant")
    _write_csv(path, [renamed.get(h, h) for h in header], rows)
    return _fault("rename_known", source, day, landing, path, [1], len(rows), {"renamed": renamed})


def rename_unknown(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Rename one required column (seeded choice) to a name no layout knows."""
    rng = _rng(seed, "rename_unknown", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "rename_unknown")
    header, rows = _read_csv(path)
    candidates = _required(source, path, header)
    old = candidates[int(rng.integers(len(candidates)))]
    new = f"{old}_x{int(rng.integers(10, 100))}"
    _write_csv(path, [new if h == old else h for h in header], rows)
    return _fault("rename_unknown", source, day, landing, path, [1], len(rows), {"column": old, "renamed": {old: new}})


def missing_column(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Remove one required column (seeded choice), header and values."""
    rng = _rng(seed, "missing_column", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "missing_column")
    header, rows = _read_csv(path)
    candidates = _required(source, path, header)
    col = header.index(candidates[int(rng.integers(len(candidates)))])
    keep = [i for i in range(len(header)) if i != col]
    _write_csv(path, [header[i] for i in keep], [[r[i] for i in keep] for r in rows])
    return _fault("missing_column", source, day, landing, path, [1], len(rows), {"column": header[col]})


def extra_column(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None,
                 name: str | None = None) -> Fault:
    """Insert a column no layout knows (seeded name and position) with a token on every row."""
    rng = _rng(seed, "extra_column", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "extra_column")
    header, rows = _read_csv(path)
    name = name or EXTRA_COLUMNS[int(rng.integers(len(EXTRA_COLUMNS)))]
    if header_key(name) in {header_key(h) for h in header}:
        raise ValueError(f"{path.name} already has a column like {name!r}")
    pos = int(rng.integers(1, len(header) + 1))
    tokens = [f"x{int(t):06d}" for t in rng.integers(0, 10**6, size=len(rows))]
    header = header[:pos] + [name] + header[pos:]
    rows = [r[:pos] + [t] + r[pos:] for r, t in zip(rows, tokens, strict=True)]
    _write_csv(path, header, rows)
    return _fault("extra_column", source, day, landing, path, [1], len(rows), {"column": name, "position": pos})


def reorder_columns(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Shuffle the columns (seeded; never the original order), values moving with them."""
    rng = _rng(seed, "reorder_columns", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "reorder_columns")
    header, rows = _read_csv(path)
    if len(header) < 2:
        raise ValueError(f"{path.name} has one column: nothing to reorder")
    order = list(range(len(header)))
    while order == sorted(order):
        order = [int(i) for i in rng.permutation(len(header))]
    _write_csv(path, [header[i] for i in order], [[r[i] for i in order] for r in rows])
    return _fault("reorder_columns", source, day, landing, path, [1], len(rows), {"order": [header[i] for i in order]})


# --------------------------------------------------------------------------- encodings
def reencode(landing: Path, source: str, day: dt.date, seed: int, *, encoding: str, names: int = 3,
             file: str | None = None) -> Fault:
    """Re-encode the file (``bom``, ``latin1`` or ``utf16``). A CSV first gets accented names
    on ``names`` records (seeded), in its first name-like column, so the encoding shows."""
    kind = {v: k for k, v in ENCODINGS.items()}.get(encoding, encoding)
    if kind not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; expected one of {sorted(ENCODINGS)}")
    rng = _rng(seed, kind, source, day)
    path = _target(landing, source, day, file)
    values: dict[int, str] = {}
    detail: dict[str, Any] = {"encoding": ENCODINGS[kind]}
    if path.suffix != ".csv":
        records = _count_records(path)
        path.write_bytes(_encode(path.read_bytes().decode("utf-8"), ENCODINGS[kind]))
        return _fault(kind, source, day, landing, path, [], records, detail)
    header, rows = _read_csv(path)
    lines: list[int] = []
    if names and rows:
        col = _column(header, ("fullname", "name", "firstname", "lastname"), "name", path)
        key = header_key(header[col])
        picked = _pick(rng, len(rows), min(names, len(rows)))
        for n, i in enumerate(picked):
            full = ACCENTED_NAMES[(n + int(rng.integers(len(ACCENTED_NAMES)))) % len(ACCENTED_NAMES)]
            rows[i][col] = full.split()[0] if key == "firstname" else full.split()[-1] if key == "lastname" else full
        detail["name_column"] = header[col]
    starts = _write_csv(path, header, rows, ENCODINGS[kind])
    if names and rows:
        values = {starts[i]: rows[i][col] for i in picked}
        lines = sorted(values)
    return _fault(kind, source, day, landing, path, lines, len(rows), detail, values)


def bom(landing: Path, source: str, day: dt.date, seed: int, **options: Any) -> Fault:
    return reencode(landing, source, day, seed, encoding="bom", **options)


def latin1(landing: Path, source: str, day: dt.date, seed: int, **options: Any) -> Fault:
    return reencode(landing, source, day, seed, encoding="latin1", **options)


def utf16(landing: Path, source: str, day: dt.date, seed: int, **options: Any) -> Fault:
    return reencode(landing, source, day, seed, encoding="utf16", **options)


# --------------------------------------------------------------------------- broken records
def ragged_rows(landing: Path, source: str, day: dt.date, seed: int, *, count: int = 3,
                file: str | None = None) -> Fault:
    """Give ``count`` single-line records (seeded) the wrong number of fields: alternately
    one too many (an extra trailing field) and one too few (the last field removed)."""
    rng = _rng(seed, "ragged_rows", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "ragged_rows")
    header, rows = _read_csv(path)
    if len(header) < 2:
        raise ValueError(f"{path.name} has one column: a record cannot lose one")
    spans = _spans(_csv_text(header, rows))
    starts = [first for first, _ in spans]
    single = [i for i, (first, last) in enumerate(spans) if first == last]
    picked = [single[j] for j in _pick(rng, len(single), count)]
    fields: dict[int, int] = {}
    for n, i in enumerate(picked):
        rows[i] = rows[i] + ["x"] if n % 2 == 0 else rows[i][:-1]
        fields[starts[i]] = len(rows[i])
    _write_csv(path, header, rows)
    return _fault("ragged_rows", source, day, landing, path, sorted(fields), len(rows),
                  {"header_fields": len(header), "fields": fields})


def unclosed_quote(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Open a quote at the start of a field of one record (seeded, among the records after
    the file's last quote character, so nothing can close it): from that line to the end of
    the file, every line is inside the quote. The records before it are untouched."""
    rng = _rng(seed, "unclosed_quote", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "unclosed_quote")
    header, rows = _read_csv(path)
    text = _csv_text(header, rows)
    lines = text.split("\n")[:-1]
    last_quote = max((i + 1 for i, line in enumerate(lines) if '"' in line), default=1)
    candidates = [s for s in _first_lines(text) if s > max(last_quote, 2)] or [
        s for s in _first_lines(text) if s > last_quote
    ]
    if not candidates:
        raise ValueError(f"{path.name}: no record after the last quote character")
    line = candidates[int(rng.integers(len(candidates)))]
    cells = lines[line - 1].split(",")
    at = int(rng.integers(1, len(cells))) if len(cells) > 1 else 0
    cells[at] = '"' + cells[at]
    lines[line - 1] = ",".join(cells)
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return _fault("unclosed_quote", source, day, landing, path, range(line, len(lines) + 1), len(rows),
                  {"opens_on": line, "physical_lines": len(lines)})


# --------------------------------------------------------------------------- empty files
def empty_file(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Truncate the file to 0 bytes."""
    path = _target(landing, source, day, file)
    before = _count_records(path)
    path.write_bytes(b"")
    return _fault("empty_file", source, day, landing, path, [], 0, {"records_removed": before})


def header_only(landing: Path, source: str, day: dt.date, seed: int, *, file: str | None = None) -> Fault:
    """Keep the header line and nothing else."""
    path = _target(landing, source, day, file)
    _csv_only(path, "header_only")
    header, rows = _read_csv(path)
    _write_csv(path, header, [])
    return _fault("header_only", source, day, landing, path, [], 0, {"records_removed": len(rows)})


# --------------------------------------------------------------------------- storms
def null_storm(landing: Path, source: str, day: dt.date, seed: int, *, share: float = 0.95,
               column: str | None = None, file: str | None = None) -> Fault:
    """Empty ``column`` (default: the email column) on ceil(share x records) records (seeded)."""
    rng = _rng(seed, "null_storm", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "null_storm")
    header, rows = _read_csv(path)
    col = header.index(column) if column else _column(header, ("email", "emailaddress"), "email", path)
    picked = _pick(rng, len(rows), math.ceil(share * len(rows)))
    for i in picked:
        rows[i][col] = ""
    starts = _write_csv(path, header, rows)
    empty = sum(1 for r in rows if not r[col].strip())
    return _fault("null_storm", source, day, landing, path, [starts[i] for i in picked], len(rows),
                  {"column": header[col], "blanked": len(picked), "empty_after": empty})


def placeholder_storm(landing: Path, source: str, day: dt.date, seed: int, *, share: float = 0.5,
                      what: str = "email", value: str | None = None, column: str | None = None,
                      file: str | None = None) -> Fault:
    """Put one dummy ``what`` (email or phone; default ``test@test.com`` / ``555-555-5555``) on
    ceil(share x records) records (seeded)."""
    if what not in PLACEHOLDERS:
        raise ValueError(f"what must be one of {sorted(PLACEHOLDERS)}")
    rng = _rng(seed, f"placeholder_storm:{what}", source, day)
    path = _target(landing, source, day, file)
    _csv_only(path, "placeholder_storm")
    header, rows = _read_csv(path)
    keys = ("email", "emailaddress") if what == "email" else ("phone", "phonenumber")
    col = header.index(column) if column else _column(header, keys, what, path)
    value = value or PLACEHOLDERS[what]
    picked = _pick(rng, len(rows), math.ceil(share * len(rows)))
    for i in picked:
        rows[i][col] = value
    starts = _write_csv(path, header, rows)
    return _fault("placeholder_storm", source, day, landing, path, [starts[i] for i in picked], len(rows),
                  {"column": header[col], "what": what, "rows_set": len(picked), "placeholder": value},
                  {starts[i]: value for i in picked})


# --------------------------------------------------------------------------- deliveries
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def duplicate_delivery(landing: Path, source: str, day: dt.date, seed: int, *, to_day: dt.date | None = None,
                       name: str | None = None, file: str | None = None) -> Fault:
    """Deliver the file's exact bytes again: on ``to_day`` (default the same day) under
    ``name`` (default: the same name on another day, ``<stem>-resent<suffix>`` on the same)."""
    path = _target(landing, source, day, file)
    to_day = to_day or day
    folder = Path(landing) / source / to_day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    name = name or (path.name if to_day != day and not (folder / path.name).exists() else f"{path.stem}-resent{path.suffix}")
    copy = folder / name
    if copy.exists():
        raise FileExistsError(f"{_rel(Path(landing), copy)} already exists")
    shutil.copyfile(path, copy)
    return _fault("duplicate_delivery", source, to_day, landing, copy, [], _count_records(copy),
                  {"original": _rel(Path(landing), path), "sha256": _sha256(copy), "bytes": copy.stat().st_size})


def corrected_redelivery(landing: Path, source: str, day: dt.date, seed: int, *, changed: int = 2, removed: int = 1,
                         added: int = 1, file: str | None = None) -> Fault:
    """Deliver the file again under the same name, corrected: ``changed`` records get a new
    value in a free-text column, ``removed`` records are gone, ``added`` new records (copies
    of others with new ids) are appended. ``lines`` are the changed and added records' lines
    in the new file; ``detail`` has the ids of each."""
    rng = _rng(seed, "corrected_redelivery", source, day)
    path = _target(landing, source, day, file)
    before = _sha256(path)
    if path.suffix == ".csv":
        header, rows = _read_csv(path)
        id_col = _id_column(source, header)
        col = _column(header, CORRECTABLE[source], "correctable", path)
        ids = [r[id_col] for r in rows]
    else:
        if source not in CORRECTABLE or source not in ID_COLUMNS:
            raise ValueError(f"corrected_redelivery does not know how to correct {source}")
        header = []
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        id_col, col = ID_COLUMNS[source], next(k for k in rows[0] if header_key(k) in CORRECTABLE[source]) if rows else ""
        ids = [r[id_col] for r in rows]
    if changed + removed > len(rows):
        raise ValueError(f"{path.name} has {len(rows)} records: cannot change {changed} and remove {removed}")
    picked = [int(i) for i in rng.permutation(len(rows))[: changed + removed]]
    change, drop = set(picked[:changed]), set(picked[changed:])
    for i in change:
        rows[i][col] = f"{rows[i][col] or ''} (corrected)".strip()
    kept = [i for i in range(len(rows)) if i not in drop]
    new_rows = [rows[i] for i in kept]
    added_ids = []
    for k in range(added):
        template = rows[kept[int(rng.integers(len(kept)))]]
        row = list(template) if header else dict(template)
        row[id_col] = _new_id(source, template[id_col], f"c{k + 1}")
        added_ids.append(row[id_col])
        new_rows.append(row)
    if header:
        starts = _write_csv(path, header, new_rows)
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in new_rows),
                        encoding="utf-8")
        starts = list(range(1, len(new_rows) + 1))
    position = {i: n for n, i in enumerate(kept)}
    lines = sorted([starts[position[i]] for i in change] + starts[len(kept):])
    return _fault("corrected_redelivery", source, day, landing, path, lines, len(new_rows), {
        "column": header[col] if header else col,
        "changed_ids": sorted(ids[i] for i in change), "removed_ids": sorted(ids[i] for i in drop),
        "added_ids": added_ids, "records_before": len(rows), "sha256_before": before, "sha256": _sha256(path),
    })


def _new_id(source: str, old: str, tag: str) -> str:
    return f"{tag}-{old}" if source == "enrichment" else f"{old}-{tag}"  # a domain stays a domain


# --------------------------------------------------------------------------- big files
def _templates(source: str, path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """(header text, [(text before the id, the id, text after it)] per record)."""
    sentinel = "@@ID@@"
    out = []
    if path.suffix == ".csv":
        header, rows = _read_csv(path)
        id_col = _id_column(source, header)
        for row in rows:
            text = _csv_line(row[:id_col] + [sentinel] + row[id_col + 1:])
            if text.count("\n") == 1:  # single-line records only: the writer cuts at newlines
                before, after = text.split(sentinel)
                out.append((before, row[id_col], after))
        return _csv_text(header, []), out
    key = ID_COLUMNS[source]
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            old, obj[key] = obj[key], sentinel
            before, after = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).split(sentinel)
            out.append((before, old, after + "\n"))
    return "", out


def big_file(landing: Path, source: str, day: dt.date, seed: int, *, target_bytes: int = BIG_FILE_BYTES,
             name: str | None = None, file: str | None = None, chunk_records: int = 2_000) -> Fault:
    """Write a new valid file of at least ``target_bytes`` next to the source's file: its
    records repeated in a seeded order, each with a unique new id (``<id>-<n>``). The write
    streams in chunks, so memory stays bounded by the template file, not the output."""
    rng = _rng(seed, "big_file", source, day)
    template_path = _target(landing, source, day, file)
    header, templates = _templates(source, template_path)
    if not templates:
        raise ValueError(f"{template_path.name} has no records to repeat")
    path = template_path.with_name(name or f"{template_path.stem}-big{template_path.suffix}")
    if path.exists():
        raise FileExistsError(f"{_rel(Path(landing), path)} already exists")
    written, records = 0, 0

    def chunks() -> Iterator[str]:
        nonlocal records
        n = 0
        while True:
            order = rng.integers(0, len(templates), size=chunk_records)
            parts = []
            for t in order:
                before, old, after = templates[int(t)]
                parts.append(f"{before}{_new_id(source, old, f'b{n:09d}')}{after}")
                n += 1
            records = n
            yield "".join(parts)

    with open(path, "wb", buffering=1 << 20) as out:
        data = header.encode("utf-8")
        out.write(data)
        written = len(data)
        for chunk in chunks():
            data = chunk.encode("utf-8")
            # the last chunk is cut at a record boundary once the target is reached
            if written + len(data) >= target_bytes:
                cut, lines_kept = _cut(data, target_bytes - written)
                out.write(data[:cut])
                written += cut
                records -= chunk_records - lines_kept
                break
            out.write(data)
            written += len(data)
    return _fault("big_file", source, day, landing, path, [], records,
                  {"template": _rel(Path(landing), template_path), "bytes": written, "template_records": len(templates)})


def _cut(data: bytes, need: int) -> tuple[int, int]:
    """The end of the first record that reaches ``need`` bytes, and how many records that keeps
    (the templates are single-line records: every record ends with one newline)."""
    end = data.index(b"\n", max(0, need - 1)) + 1 if need > 0 else data.index(b"\n") + 1
    return end, data.count(b"\n", 0, end)


# --------------------------------------------------------------------------- registry
FAULTS: dict[str, Callable[..., Fault]] = {
    "rename_known": rename_known,
    "rename_unknown": rename_unknown,
    "missing_column": missing_column,
    "extra_column": extra_column,
    "reorder_columns": reorder_columns,
    "bom": bom,
    "latin1": latin1,
    "utf16": utf16,
    "ragged_rows": ragged_rows,
    "unclosed_quote": unclosed_quote,
    "empty_file": empty_file,
    "header_only": header_only,
    "null_storm": null_storm,
    "placeholder_storm": placeholder_storm,
    "duplicate_delivery": duplicate_delivery,
    "corrected_redelivery": corrected_redelivery,
    "big_file": big_file,
}


def inject(kind: str, landing: Path | str, source: str, day: dt.date, seed: int, **options: Any) -> Fault:
    """Inject fault ``kind`` (see ``FAULTS``) into ``<landing>/<source>/<day>/``."""
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULTS)}")
    return FAULTS[kind](Path(landing), source, day, seed, **options)
