"""Where leadgen keeps its files. Every location can be moved with an environment variable.

| variable | default | what |
|---|---|---|
| ``LEADGEN_DATA_DIR`` | ``<repo>/data`` | root of everything below |
| ``LEADGEN_LANDING_DIR`` | ``$LEADGEN_DATA_DIR/landing`` | files as delivered, ``<source>/<YYYY-MM-DD>/`` |
| ``LEADGEN_WAREHOUSE`` | ``$LEADGEN_DATA_DIR/warehouse/leadgen.duckdb`` | the DuckDB warehouse |
| ``LEADGEN_START_DATE`` | ``2026-06-01`` | first delivery-day partition |
| ``LEADGEN_DUCKDB_MEMORY`` | ``4GB`` | DuckDB memory limit (read in ``storage/warehouse.py``) |
| ``LEADGEN_ENV`` | ``local`` | which resource set the definitions use |
| ``DAGSTER_HOME`` | ``$LEADGEN_DATA_DIR/dagster_home`` (set by the ``leadgen`` CLI) | Dagster instance |
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE_ROOT.parent


def repo_root() -> Path:
    """The source checkout when running from one (the usual case), else the working directory."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else Path.cwd()


def data_dir() -> Path:
    return Path(os.environ.get("LEADGEN_DATA_DIR") or repo_root() / "data")


def landing_dir() -> Path:
    return Path(os.environ.get("LEADGEN_LANDING_DIR") or data_dir() / "landing")


def truth_dir() -> Path:
    """Ground truth of the sample world. Tests and benchmarks only; the pipeline never reads it."""
    return data_dir() / "truth"


def warehouse_path() -> Path:
    return Path(os.environ.get("LEADGEN_WAREHOUSE") or data_dir() / "warehouse" / "leadgen.duckdb")


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home")


def start_date() -> dt.date:
    return dt.date.fromisoformat(os.environ.get("LEADGEN_START_DATE", "2026-06-01"))


def environment() -> str:
    return os.environ.get("LEADGEN_ENV", "local")


CONFIG_DIR = _PACKAGE_ROOT / "config"
