"""What the benchmarks share: a working folder with a sample world, and peak RSS."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from leadgen_assets.core.procstats import peak_rss_mb  # noqa: F401 (the benchmarks' import)


@contextlib.contextmanager
def world_folder(scale: str, workdir: Path | None, *, regenerate: bool, days: int | None = None) -> Iterator[Path]:
    """``LEADGEN_DATA_DIR`` pointed at ``workdir`` (default: a temporary folder, removed
    afterwards) holding a sample world of ``scale``, generated unless one is there and
    ``regenerate`` is false. The world is generated in a child process, so this process's
    peak RSS is the measured work's alone."""
    own_tmp = workdir is None
    root = Path(tempfile.mkdtemp(prefix=f"leadgen-bench-{scale}-")) if own_tmp else Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    os.environ["LEADGEN_DATA_DIR"] = str(root)
    os.environ["DAGSTER_HOME"] = str(root / "dagster_home")
    try:
        if regenerate or not (root / "truth" / "world.json").exists():
            subprocess.run(
                [sys.executable, "-m", "leadgen_assets.cli", "simulate", "--preset", scale, "--seed", "7",
                 *(["--days", str(days)] if days else [])], check=True
            )
        yield root
    finally:
        if own_tmp:
            shutil.rmtree(root, ignore_errors=True)
