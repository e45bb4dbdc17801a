"""leadgen's DuckDB warehouse: writes that never lose data.

This module has no Dagster in it. The Dagster resource in ``resource.py`` wraps it.

Rules it enforces (see docs/architecture.md, "Storage"):

* Every write is one transaction: BEGIN, delete the slice, ``INSERT ... BY NAME``, COMMIT.
  A write that fails or is killed leaves the previous rows exactly as they were.
  ``Writer.transaction()`` groups several writes (a file's rows and its ledger event) into
  one; ``Writer.staging()`` takes rows too many for one transaction's memory and moves
  them in with one statement.
* Columns are matched by name, never by position.
* A schema change is refused before anything is touched, with an error that names the
  table, the column and the change.
* An empty frame never deletes a partition that has rows.
* Rows outside the partition slice being written are refused (they would survive the
  next overwrite and duplicate).
* Readers open the file read-only.
* SQL is never built from data: identifiers are quoted, values are bound parameters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl


class WarehouseError(Exception):
    """Base class for refusals by the warehouse. Messages never contain row values."""


class SchemaChangeError(WarehouseError):
    pass


class EmptyWriteError(WarehouseError):
    pass


class PartitionSliceError(WarehouseError):
    pass


def quote_ident(name: str) -> str:
    """Quote one SQL identifier (schema, table or column name)."""
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str) -> str:
    """``layer.table`` -> ``"layer"."table"``; a bare name stays in ``main``."""
    parts = table.split(".")
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"table name must be 'schema.table' or 'table', got {table!r}")
    return ".".join(quote_ident(p) for p in parts)


def staging_name(table: str) -> str:
    """The scratch table ``Writer.staging`` uses for ``table``."""
    schema, name = _split(table)
    return f"_staging.{schema}__{name}"


def _split(table: str) -> tuple[str, str]:
    parts = table.split(".")
    return (parts[0], parts[1]) if len(parts) == 2 else ("main", parts[0])


@dataclass(frozen=True)
class SchemaChange:
    column: str
    change: str  # "added", "removed", "type BIGINT -> VARCHAR"

    def describe(self) -> str:
        return f"column {self.column!r} {self.change}"


@dataclass(frozen=True)
class WriteReport:
    table: str
    rows_written: int
    rows_replaced: int
    seconds: float


Data = pl.DataFrame | str  # a polars frame, or a SELECT over tables already in the warehouse


def _connect(
    path: str | Path, read_only: bool, memory_limit: str, attempts: int = 40
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting briefly if another process holds the write lock."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit})
        except duckdb.IOException as exc:  # lock held by another process
            if "lock" not in str(exc).lower() or attempt == attempts - 1:
                raise WarehouseError(
                    f"cannot open the warehouse {path} ({'read-only' if read_only else 'read-write'}): "
                    f"{exc}. Another process is writing it; wait for that run to finish, or stop it."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


class Warehouse:
    """A DuckDB file with transactional, schema-checked partition writes."""

    def __init__(self, path: str | Path, memory_limit: str | None = None):
        self.path = Path(path)
        # DuckDB's own default is 80% of RAM; leadgen shares the machine with Dagster and polars.
        self.memory_limit = memory_limit or os.environ.get("LEADGEN_DUCKDB_MEMORY", "4GB")

    # ------------------------------------------------------------------ connections
    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection. Fails clearly if the warehouse does not exist yet."""
        if not self.path.exists():
            raise WarehouseError(
                f"the warehouse {self.path} does not exist yet: run `leadgen demo` or materialise "
                "the assets first."
            )
        con = _connect(self.path, read_only=True, memory_limit=self.memory_limit)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def writer(self) -> Iterator[Writer]:
        """A read-write session. Use its methods; each write is its own transaction."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = _connect(self.path, read_only=False, memory_limit=self.memory_limit)
        try:
            yield Writer(con)
        finally:
            con.close()

    # ------------------------------------------------------------------ conveniences
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        with self.reader() as con:
            return con.sql(sql, params=list(params or [])).pl()

    def row_count(self, table: str) -> int:
        with self.reader() as con:
            return con.execute(f"SELECT count(*) FROM {qualified(table)}").fetchall()[0][0]


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = _split(table)
    rows = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(rows)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """``{column: DuckDB type}`` of a stored table, in column order (empty when it does not exist)."""
    schema, name = _split(table)
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return {c: t for c, t in rows}


def schema_changes(existing: dict[str, str], incoming: dict[str, str]) -> list[SchemaChange]:
    changes = [SchemaChange(c, "added") for c in incoming if c not in existing]
    changes += [SchemaChange(c, "removed") for c in existing if c not in incoming]
    changes += [
        SchemaChange(c, f"changed type {existing[c]} -> {incoming[c]}")
        for c in incoming
        if c in existing and existing[c] != incoming[c]
    ]
    return changes


# Columns that hold delivered text verbatim (the raw layer's ``record``) are stored with
# ZSTD: they are written once and read in bulk by the signals layer. Measured on a day of
# web events, ZSTD wrote them in half the time of DuckDB's default (dictionary/FSST
# analysis at checkpoint) and in a third of the space, for about 15% slower reads.
COLUMN_COMPRESSION = {"record": "zstd"}


class Writer:
    """Write operations on an open read-write connection."""

    _INCOMING = "__leadgen_incoming"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self._in_transaction = False
        # Columns of tables this session has checked or created: a file of many small writes
        # (one per delivered file) pays for the catalogue lookups once per table.
        self._schemas: dict[str, dict[str, str]] = {}
        self._incoming_frame: pl.DataFrame | None = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one transaction: all of them land, or none does.

        The writes inside keep all their checks; a refusal or an error in any of them rolls
        the whole group back.
        """
        with self._tx():
            yield

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        if self._in_transaction:  # part of an enclosing transaction(): it commits or rolls back
            yield
            return
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            self._schemas.clear()  # a table created inside the transaction is gone again
            raise
        finally:
            self._in_transaction = False

    # -------------------------------------------------------------- public writes
    def write_partitions(
        self,
        table: str,
        data: Data,
        *,
        partition_col: str,
        keys: Sequence[dt.date],
        scope: dict[str, str] | None = None,
        allow_empty: bool = False,
        progress: Callable[[str], None] | None = None,
        params: Sequence[Any] | dict[str, Any] | None = None,
    ) -> WriteReport:
        """Atomically replace the rows of ``table`` whose ``partition_col`` is in ``keys``.

        ``scope`` narrows the slice further (for example ``{"source": "form_leads"}`` in a
        table that several assets share). ``data`` is a polars frame or a SELECT statement
        over the warehouse, with optional bound ``params``.
        """
        keys = sorted(set(keys))
        if not keys:
            raise PartitionSliceError(f"{table}: no partition keys given")
        scope = scope or {}
        started = time.perf_counter()
        with self._incoming(data, params):
            n_in = self._count(self._INCOMING)
            incoming = self._incoming_columns()
            if partition_col not in incoming:
                raise SchemaChangeError(f"{table}: the data has no partition column {partition_col!r}")
            for col in scope:
                if col not in incoming:
                    raise SchemaChangeError(f"{table}: the data has no scope column {col!r}")
            outside = self._rows_outside(partition_col, keys, scope)
            if outside:
                raise PartitionSliceError(
                    f"{table}: {outside} row(s) fall outside the slice being written "
                    f"({partition_col} in {keys[0]}..{keys[-1]}"
                    + (f", {', '.join(f'{k}={v}' for k, v in scope.items())}" if scope else "")
                    + "). They would survive the next overwrite and duplicate; nothing was written."
                )
            where, where_params = self._slice_predicate(partition_col, keys, scope)
            with self._tx():
                created = self._ensure_table(table, incoming)
                existing = {} if created else self._counts_by_key(qualified(table), partition_col, where, where_params)
                existing_rows = sum(existing.values())
                if not allow_empty:
                    arriving = self._counts_by_key(quote_ident(self._INCOMING), partition_col, "true", [])
                    emptied = sorted(k for k, n in existing.items() if n and not arriving.get(k))
                    if emptied:
                        raise EmptyWriteError(
                            f"{table}: refusing to replace the existing rows of {partition_col} "
                            f"{', '.join(str(k) for k in emptied)} with nothing "
                            f"({sum(existing[k] for k in emptied)} existing row(s)); the source delivered "
                            "nothing for that slice this time. If it really is empty now, rerun with "
                            "allow_empty (config `allow_empty: true`)."
                        )
                self.con.execute(f"DELETE FROM {qualified(table)} WHERE {where}", where_params)
                if progress:
                    progress(f"deleted {existing_rows} row(s), inserting {n_in}")
                self.con.execute(
                    f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM {quote_ident(self._INCOMING)}"
                )
        return WriteReport(table, n_in, existing_rows, time.perf_counter() - started)

    def replace_table(
        self,
        table: str,
        data: Data,
        *,
        allow_empty: bool = False,
        params: Sequence[Any] | dict[str, Any] | None = None,
        derived: bool = False,
    ) -> WriteReport:
        """Atomically replace all rows of an unpartitioned table (same schema rules).

        ``derived``: the table is rebuilt whole from other tables on every run, so a schema
        change (a newer leadgen adding a column) drops and recreates it in the same
        transaction instead of being refused: nothing is lost that the run does not rebuild."""
        started = time.perf_counter()
        with self._incoming(data, params):
            n_in = self._count(self._INCOMING)
            incoming = self._incoming_columns()
            with self._tx():
                if derived and self.table_exists(table) and schema_changes(table_columns(self.con, table), incoming):
                    self.drop_table(table)
                created = self._ensure_table(table, incoming)
                existing_rows = 0 if created else self._count(table)
                if n_in == 0 and existing_rows and not allow_empty:
                    raise EmptyWriteError(
                        f"{table}: refusing to replace {existing_rows} existing row(s) with an empty "
                        "result. If the table really is empty now, rerun with allow_empty."
                    )
                self.con.execute(f"DELETE FROM {qualified(table)}")
                self.con.execute(
                    f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM {quote_ident(self._INCOMING)}"
                )
        return WriteReport(table, n_in, existing_rows, time.perf_counter() - started)

    def append(self, table: str, data: Data, *, params: Sequence[Any] | dict[str, Any] | None = None) -> WriteReport:
        """Append rows in one transaction (ledgers and the audit log)."""
        started = time.perf_counter()
        with self._incoming(data, params):
            n_in = self._count(self._INCOMING)
            incoming = self._incoming_columns()
            with self._tx():
                self._ensure_table(table, incoming)
                self.con.execute(
                    f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM {quote_ident(self._INCOMING)}"
                )
        return WriteReport(table, n_in, 0, time.perf_counter() - started)

    def delete_in(self, table: str, slice_: dict[str, Sequence[Any]]) -> int:
        """Delete the rows whose columns all take one of the given values, e.g. the rows of
        some delivered files. Returns how many rows went. Use inside ``transaction()`` with
        the ``insert`` that replaces them."""
        if not self.table_exists(table) or not all(slice_.values()):
            return 0
        where, params = _in_predicate(slice_)
        with self._tx():
            (n,) = self.con.execute(f"SELECT count(*) FROM {qualified(table)} WHERE {where}", params).fetchall()[0]
            self.con.execute(f"DELETE FROM {qualified(table)} WHERE {where}", params)
        return n

    def insert(self, table: str, data: Data, *, slice_: dict[str, Sequence[Any]]) -> WriteReport:
        """Insert rows that all fall inside ``slice_`` (same form as ``delete_in``), with the
        schema rules of every write. Rows outside the slice are refused: a later replacement
        of the slice would not see them."""
        started = time.perf_counter()
        with self._incoming(data, None):
            n_in = self._count(self._INCOMING)
            incoming = self._incoming_columns()
            missing = [c for c in slice_ if c not in incoming]
            if missing:
                raise SchemaChangeError(f"{table}: the data has no slice column {missing[0]!r}")
            where, params = _in_predicate(slice_)
            (outside,) = self.con.execute(
                f"SELECT count(*) FROM {quote_ident(self._INCOMING)} WHERE NOT coalesce({where}, false)", params
            ).fetchall()[0]
            if outside:
                raise PartitionSliceError(
                    f"{table}: {outside} row(s) fall outside the slice being written "
                    f"({', '.join(slice_)}); nothing was written."
                )
            with self._tx():
                self._ensure_table(table, incoming)
                self.con.execute(
                    f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM {quote_ident(self._INCOMING)}"
                )
        return WriteReport(table, n_in, 0, time.perf_counter() - started)

    @contextlib.contextmanager
    def staging(self, table: str) -> Iterator[str]:
        """A scratch table for a write too large for one transaction's memory.

        DuckDB holds the rows of many inserts inside one open transaction in memory until it
        commits, whatever its memory limit. So append the rows here chunk by chunk (each
        append commits on its own, and memory stays bounded), then move them all with
        ``insert_from`` inside the transaction that must be atomic. The table is dropped
        afterwards, also after a failure; one left by a killed run is replaced on next use.
        """
        staged = staging_name(table)
        self.con.execute('CREATE SCHEMA IF NOT EXISTS "_staging"')
        self.drop_table(staged)
        try:
            yield staged
        finally:
            if not self._in_transaction:
                self.drop_table(staged)

    def insert_from(self, table: str, staged: str, *, slice_: dict[str, Sequence[Any]]) -> WriteReport:
        """Move the rows of a ``staging`` table into ``table``, with the checks of ``insert``."""
        started = time.perf_counter()
        if not self.table_exists(staged):  # nothing was staged
            return WriteReport(table, 0, 0, 0.0)
        incoming = table_columns(self.con, staged)
        where, params = _in_predicate(slice_)
        (n_in, outside) = self.con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT coalesce({where}, false)) FROM {qualified(staged)}", params
        ).fetchall()[0]
        if outside:
            raise PartitionSliceError(
                f"{table}: {outside} row(s) fall outside the slice being written ({', '.join(slice_)}); nothing was written."
            )
        with self._tx():
            self._ensure_table(table, incoming)
            self.con.execute(f"INSERT INTO {qualified(table)} BY NAME SELECT * FROM {qualified(staged)}")
        return WriteReport(table, n_in, 0, time.perf_counter() - started)

    def table_exists(self, table: str) -> bool:
        return table in self._schemas or _table_exists(self.con, table)

    def drop_table(self, table: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {qualified(table)}")
        self._schemas.pop(table, None)

    # -------------------------------------------------------------- internals
    @contextlib.contextmanager
    def _incoming(self, data: Data, params: Sequence[Any] | dict[str, Any] | None) -> Iterator[None]:
        """Expose ``data`` as a temp relation named ``_INCOMING`` for the duration of a write."""
        name = quote_ident(self._INCOMING)
        if isinstance(data, pl.DataFrame):
            self.con.register(self._INCOMING, data)
            self._incoming_frame = data
            try:
                yield
            finally:
                self._incoming_frame = None
                self.con.unregister(self._INCOMING)
        else:
            # Materialise the SELECT once so counting, checking and inserting see the same rows.
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {data}", params or [])
            try:
                yield
            finally:
                self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def _counts_by_key(self, relation: str, partition_col: str, where: str, params: list[Any]) -> dict[Any, int]:
        rows = self.con.execute(
            f"SELECT {quote_ident(partition_col)}, count(*) FROM {relation} WHERE {where} GROUP BY 1", params
        ).fetchall()
        return dict(rows)

    def _incoming_columns(self) -> dict[str, str]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {quote_ident(self._INCOMING)}").fetchall()
        return {r[0]: r[1] for r in rows}

    def _count(self, table: str) -> int:
        if table == self._INCOMING and self._incoming_frame is not None:
            return self._incoming_frame.height
        ident = quote_ident(table) if table == self._INCOMING else qualified(table)
        return self.con.execute(f"SELECT count(*) FROM {ident}").fetchall()[0][0]

    def _ensure_table(self, table: str, incoming: dict[str, str]) -> bool:
        """Create the table if missing. A newer leadgen's extra columns are added (rows written
        before have them empty); any other schema change is refused. Returns True if created."""
        schema, _ = _split(table)
        known = self._schemas.get(table)
        if known is None and _table_exists(self.con, table):
            known = self._schemas[table] = table_columns(self.con, table)
        if known is not None:
            changes = schema_changes(known, incoming)
            if changes and all(c.change == "added" for c in changes):
                for c in changes:  # additive: nothing stored changes meaning, nothing is lost
                    self.con.execute(f"ALTER TABLE {qualified(table)} ADD COLUMN {quote_ident(c.column)} {incoming[c.column]}")
                    known[c.column] = incoming[c.column]
                changes = []
            if changes:
                raise SchemaChangeError(
                    f"{table}: schema change refused ({'; '.join(c.describe() for c in changes)}). "
                    "The stored rows are unchanged. If the change is intended, drop the table with "
                    f"`leadgen warehouse drop {table}` and rematerialise its partitions."
                )
            return False
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        cols = ", ".join(
            f"{quote_ident(c)} {t}" + (f" USING COMPRESSION {COLUMN_COMPRESSION[c]}" if c in COLUMN_COMPRESSION else "")
            for c, t in incoming.items()
        )
        self.con.execute(f"CREATE TABLE {qualified(table)} ({cols})")
        self._schemas[table] = dict(incoming)
        return True

    def _slice_predicate(
        self, partition_col: str, keys: Sequence[dt.date], scope: dict[str, str]
    ) -> tuple[str, list[Any]]:
        clauses = [f"{quote_ident(partition_col)} IN (SELECT unnest(?::DATE[]))"]
        params: list[Any] = [list(keys)]
        for col, value in scope.items():
            clauses.append(f"{quote_ident(col)} = ?")
            params.append(value)
        return " AND ".join(clauses), params

    def _rows_outside(self, partition_col: str, keys: Sequence[dt.date], scope: dict[str, str]) -> int:
        where, params = self._slice_predicate(partition_col, keys, scope)
        return self.con.execute(
            f"SELECT count(*) FROM {quote_ident(self._INCOMING)} WHERE NOT coalesce({where}, false)",
            params,
        ).fetchall()[0][0]


def _in_predicate(slice_: dict[str, Sequence[Any]]) -> tuple[str, list[Any]]:
    """``col1 IN (...) AND col2 IN (...)`` with the value lists bound as parameters."""
    clauses, params = [], []
    for col, values in slice_.items():
        clauses.append(f"list_contains(?, {quote_ident(col)})")
        params.append(list(values))
    return " AND ".join(clauses) or "true", params
