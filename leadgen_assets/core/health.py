"""Delivery health: flags on whole files that are wrong in bulk, not row by row.

A file can parse cleanly and still be broken: empty, a header and nothing else, a field
that is suddenly empty on most rows (a NULL storm: an export lost a column mapping), or
the same dummy value on many rows (a placeholder storm: a form's field was made optional
and people type 555-555-5555). Each flag has a documented threshold that makes it a
warning or a failure; the ``delivery_health`` asset checks report them per file, with
counts and shares, never values.

| flag | warning | failure |
|---|---|---|
| empty file (no bytes) | always | never |
| header only (no rows) | always | never |
| NULL storm: share of a watched field (one that is normally always there) that is empty, in a file of 20 rows or more | >= 50 % | >= 90 % |
| placeholder storm: share of rows carrying the file's most repeated email key or phone, when it repeats at least 5 times, in a file of 20 rows or more | >= 10 % | >= 30 % |

Optional fields (a phone, a company) are not watched: they are often empty by design.
"""

from __future__ import annotations

import polars as pl

MIN_ROWS = 20
NULL_STORM = (0.50, 0.90)
PLACEHOLDER_STORM = (0.10, 0.30)
PLACEHOLDER_MIN_REPEATS = 5

# Fields that are normally always there, whose sudden emptiness means a broken export.
WATCHED_FIELDS: dict[str, tuple[str, ...]] = {
    "form_leads": ("email",),
    "crm_contacts": ("email",),
    "web_events": ("anonymous_id",),
}
# Fields where one value repeated on many rows is a placeholder, not a popular person.
REPEAT_FIELDS: dict[str, tuple[str, ...]] = {
    "form_leads": ("email_key", "phone_e164"),
    "crm_contacts": ("email_key", "phone_e164"),
    "consent_events": ("email_key", "phone_e164"),
}

FLAG_SCHEMA = {"source_file": pl.Utf8, "flag": pl.Utf8, "field": pl.Utf8, "share": pl.Float64, "rows": pl.Int64, "severity": pl.Utf8}


def _severity(share: float, thresholds: tuple[float, float]) -> str | None:
    warn, fail = thresholds
    return "failure" if share >= fail else "warning" if share >= warn else None


def file_counts(source: str, accepted: pl.DataFrame) -> pl.DataFrame:
    """Per file of ``accepted`` (typed signals rows): its rows, the empty values of each
    watched field and the count of each repeat field's most repeated value. The first two
    add up across slices of a file; the repeat counts do not, so a source with repeat fields
    must be counted whole (see core/signals.py, ROW_LOCAL)."""
    watched = [f for f in WATCHED_FIELDS.get(source, ()) if f in accepted.columns]
    repeated = [f for f in REPEAT_FIELDS.get(source, ()) if f in accepted.columns]
    return accepted.group_by("source_file").agg(
        pl.len().alias("rows"),
        *[pl.col(f).null_count().alias(f"null:{f}") for f in watched],
        *[pl.col(f).drop_nulls().value_counts(sort=True).first().struct.field("count").alias(f"top:{f}") for f in repeated],
    )


def file_flags(source: str, counts: pl.DataFrame | list[pl.DataFrame]) -> pl.DataFrame:
    """NULL and placeholder storms per file, from ``file_counts`` (of a whole batch, or of
    the slices of one, which are added up)."""
    parts = [c for c in (counts if isinstance(counts, list) else [counts]) if not c.is_empty()]
    if not parts:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    per_file = pl.concat(parts, how="diagonal").group_by("source_file").agg(pl.all().sum())
    watched = [c.split(":", 1)[1] for c in per_file.columns if c.startswith("null:")]
    repeated = [c.split(":", 1)[1] for c in per_file.columns if c.startswith("top:")]
    flags: list[tuple] = []
    for row in per_file.filter(pl.col("rows") >= MIN_ROWS).sort("source_file").iter_rows(named=True):
        n = row["rows"]
        for f in watched:
            share = row[f"null:{f}"] / n
            if sev := _severity(share, NULL_STORM):
                flags.append((row["source_file"], "null_storm", f, round(share, 4), n, sev))
        for f in repeated:
            top = row[f"top:{f}"] or 0
            share = top / n
            if top >= PLACEHOLDER_MIN_REPEATS and (sev := _severity(share, PLACEHOLDER_STORM)):
                flags.append((row["source_file"], "placeholder_storm", f, round(share, 4), n, sev))
    return pl.DataFrame(flags, schema=FLAG_SCHEMA, orient="row")


def empty_file_flags(files: list[tuple[str, int, int]]) -> pl.DataFrame:
    """``files`` is (relative path, bytes, rows read); empty and header-only files are warnings."""
    flags = [
        (path, "empty_file" if size == 0 else "header_only", None, None, 0, "warning")
        for path, size, rows in files
        if rows == 0
    ]
    return pl.DataFrame(flags, schema=FLAG_SCHEMA, orient="row")
