"""Historical leads with known outcomes, imported from a business's own export to bootstrap
the learned model before the pipeline has labelled leads of its own.

A history file is a CSV (or Parquet) with one row per past lead: the outcome, the day the
lead came in, and any columns that carry leadgen features under their catalogue names
(``pageviews_30d``, ``budget``, ``is_free_mail`` ...) or mapped to them (``--map
"Company Size=employees"``). Every other column is left out and never stored: a CRM export
holds names and emails, and the model has no use for them.

* **Typing.** Each feature column is read as its catalogue kind: a yes/no flag, a number or a
  category. A cell that does not fit its kind rejects its row, with the file, line, column
  and why, never the value; the rejected rows are kept in ``models.history_rejects``.
* **Outcome.** 1/0, true/false, yes/no or won/lost; a row with another or no outcome is
  rejected the same way. So is a row whose day is not a date.
* **Once.** A file is known by the hash of its bytes: the same file twice is refused, and
  nothing changes. ``leadgen model imports --remove ID`` takes an import back out whole.
* **Training.** ``models/training_set`` adds the imported leads whose label window had passed
  by the cutoff (``source = 'history'``); the features they lack are empty, which the model
  reads as missing. The pipeline's own leads are labelled from the CRM as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

import polars as pl

from leadgen_assets.core.features import CUSTOM, FEATURES

HISTORY = "models.history_leads"
REJECTS = "models.history_rejects"
IMPORTS = "models.history_imports"

LABEL_TRUE = ("1", "1.0", "true", "t", "yes", "y", "won", "closed won")
LABEL_FALSE = ("0", "0.0", "false", "f", "no", "n", "lost", "closed lost")
FLAG_TRUE = ("1", "true", "t", "yes", "y")
FLAG_FALSE = ("0", "false", "f", "no", "n")

# Features that are yes/no flags (the rest of the catalogue with an expected range are numbers,
# everything else a category); the business's own attributes say their kind in config.
_FLAGS = {f.name for f in FEATURES if f.name.startswith("is_")} | {"demo_requested", "phone_is_placeholder"}
_CUSTOM_KIND = {a.name: {"number": "number", "flag": "flag"}.get(a.type, "category") for a in CUSTOM}


class HistoryError(ValueError):
    """An import that cannot be taken; the message says which column or file, and what to do."""


def feature_kind(name: str) -> str:
    if name in _CUSTOM_KIND:
        return _CUSTOM_KIND[name]
    if name in _FLAGS:
        return "flag"
    if any(f.name == name and f.expected_range is not None for f in FEATURES):
        return "number"
    return "category"


FEATURE_NAMES = tuple(f.name for f in FEATURES) + ("channel",)
DTYPES = {"flag": pl.Boolean, "number": pl.Float64, "category": pl.Utf8}


@dataclass
class Imported:
    import_id: str
    leads: pl.DataFrame  # one row per accepted lead: ids, day, won, the mapped features
    rejects: pl.DataFrame  # line, reason
    features: list[str]
    left_out: list[str]  # columns of the file that are not features (never stored)
    notes: list[str] = field(default_factory=list)


def file_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def plan_columns(header: list[str], label: str, created: str, mapping: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """{file column: feature} and the file's other columns. Refuses a label or day column the
    file lacks, a mapping from a column it lacks or to a feature leadgen does not have, and two
    columns for one feature."""
    for role, column in (("--label", label), ("--created", created)):
        if column not in header:
            raise HistoryError(f"the file has no column {column!r} ({role}); its columns are: {', '.join(header)}")
    for source, target in mapping.items():
        if source not in header:
            raise HistoryError(f"--map {source}={target}: the file has no column {source!r}")
        if target not in FEATURE_NAMES:
            raise HistoryError(f"--map {source}={target}: leadgen has no feature {target!r}; "
                               "`leadgen model features` lists them")
    chosen: dict[str, str] = {}
    for column in header:
        if column in (label, created):
            continue
        target = mapping.get(column, column if column in FEATURE_NAMES else None)
        if target is None:
            continue
        if target in chosen.values():
            other = next(c for c, t in chosen.items() if t == target)
            raise HistoryError(f"columns {other!r} and {column!r} both give feature {target!r}; map or rename one")
        chosen[column] = target
    left_out = [c for c in header if c not in chosen and c not in (label, created)]
    return chosen, left_out


def _day(text: pl.Series) -> pl.Series:
    """A date or a date-time (ISO, with a space or T; with an offset or Z it is taken to UTC),
    as the day and time the lead came in."""
    t = text.str.strip_chars()
    parsed = t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC").dt.replace_time_zone(None)
    parsed = parsed.fill_null(t.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False))
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        parsed = parsed.fill_null(t.str.to_datetime(fmt, strict=False))
    return parsed.fill_null(t.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")))


def read(frame: pl.DataFrame, *, raw: bytes, file: str, label: str, created: str, mapping: dict[str, str],
         first_line: int = 2) -> Imported:
    """Type and check a history file already read as text (``frame``: every column a string,
    row i from line ``first_line + i``). Nothing is written here."""
    chosen, left_out = plan_columns(frame.columns, label, created, mapping)
    import_id = file_id(raw)
    n = frame.height
    line = pl.int_range(first_line, first_line + n, dtype=pl.Int64, eager=True).alias("line")
    reasons: list[pl.Series] = []

    def reject(mask: pl.Series, why: str) -> None:
        reasons.append(pl.select(pl.when(mask.fill_null(False)).then(pl.lit(why))).to_series())

    def yes_no(text: pl.Series, yes: tuple[str, ...], no: tuple[str, ...], name: str) -> pl.Series:
        low = text.str.to_lowercase()
        return pl.select(pl.when(low.is_in(yes)).then(True).when(low.is_in(no)).then(False)
                         .otherwise(None).cast(pl.Boolean).alias(name)).to_series()

    won = yes_no(frame[label].cast(pl.Utf8).str.strip_chars(), LABEL_TRUE, LABEL_FALSE, "won")
    reject(won.is_null(), f"{label}: not an outcome (use 1/0, true/false, yes/no or won/lost)")
    when = _day(frame[created].cast(pl.Utf8))
    reject(when.is_null(), f"{created}: not a date (use YYYY-MM-DD, optionally with a time)")
    # every feature column, so that each import has the same stored shape; unmapped ones empty
    columns = {f: pl.Series(f, [None] * n, dtype=DTYPES[feature_kind(f)]) for f in FEATURE_NAMES}
    for column, feature in chosen.items():
        text = frame[column].cast(pl.Utf8).str.strip_chars().replace("", None)
        kind = feature_kind(feature)
        if kind == "flag":
            value = yes_no(text, FLAG_TRUE, FLAG_FALSE, feature)
            reject(text.is_not_null() & value.is_null(), f"{column}: not yes/no (feature {feature})")
        elif kind == "number":
            value = text.cast(pl.Float64, strict=False).alias(feature)
            reject(text.is_not_null() & value.is_null(), f"{column}: not a number (feature {feature})")
        else:  # a category keeps its spelling: "Managed IT" must meet the pipeline's "Managed IT"
            value = text.alias(feature)
        columns[feature] = value
    why = pl.Series("reason", [None] * n, dtype=pl.Utf8)
    for r in reasons:  # the first reason a row fails is the one it is kept with
        why = why.fill_null(r)
    bad = why.is_not_null()
    leads = pl.DataFrame([
        line,
        pl.Series("lead_id", [f"history:{import_id}:{i}" for i in range(first_line, first_line + n)]),
        when.alias("scored_at"), when.dt.date().alias("delivery_date"), won,
        *columns.values(),
    ]).filter(~bad).with_columns(pl.lit(import_id).alias("import_id"), pl.lit(file).alias("file"))
    rejects = pl.DataFrame([line, why]).filter(bad).with_columns(
        pl.lit(import_id).alias("import_id"), pl.lit(file).alias("file"))
    notes = []
    if leads.height and leads["won"].n_unique() < 2:
        notes.append("every accepted lead has the same outcome; a model needs both wins and losses to learn from")
    return Imported(import_id, leads, rejects, list(chosen.values()), left_out, notes)


def history_select_sql(history_columns: list[str], feature_types: dict[str, str]) -> str:
    """The imported leads as training-set rows: each feature cast to its type in
    ``features.lead_features`` (names come from the catalogue, checked against a strict
    pattern, and quoted; types from DuckDB's own schema)."""
    parts = []
    for c in history_columns:
        if c not in FEATURE_NAMES or not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", c):
            continue
        kind = feature_types.get(c)
        if kind is None or not re.fullmatch(r"[A-Z][A-Z0-9_ (),]*", kind):
            continue
        parts.append(f'CAST(h."{c}" AS {kind}) AS "{c}"')
    cols = ", ".join(parts)
    return (
        "SELECT h.lead_id, h.delivery_date, CAST(h.scored_at AS TIMESTAMP) AS scored_at, "
        "'history:' || h.import_id AS feature_set_version, h.won, "
        "CAST(NULL AS DATE) AS won_on, CAST(NULL AS VARCHAR) AS opportunity_id, "
        f"CAST($cutoff AS DATE) AS label_cutoff, 'history' AS source{', ' + cols if cols else ''} "
        f"FROM {HISTORY} h WHERE CAST(h.scored_at AS DATE) + $window <= $cutoff"
    )


def describe(imported: Imported) -> dict[str, object]:
    leads = imported.leads
    return {
        "import_id": imported.import_id,
        "accepted": leads.height,
        "rejected": imported.rejects.height,
        "conversions": int(leads["won"].sum()) if leads.height else 0,
        "first_day": str(leads["delivery_date"].min()) if leads.height else None,
        "last_day": str(leads["delivery_date"].max()) if leads.height else None,
        "features": imported.features,
        "left_out": imported.left_out,
        "imported_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    }
