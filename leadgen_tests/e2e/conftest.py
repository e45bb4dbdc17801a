"""One materialisation of the small sample world, shared by the end-to-end tests."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from leadgen_assets.definitions import build_defs
from leadgen_assets.defs.common import LandingZoneResource, WarehouseResource
from leadgen_assets.sim import WorldConfig, generate_world
from leadgen_assets.storage.warehouse import Warehouse


@dataclass
class World:
    root: Path
    landing: Path
    truth: Path
    store: Warehouse
    defs: dg.Definitions
    instance: dg.DagsterInstance
    result: dg.ExecuteInProcessResult
    first: dt.date
    last: dt.date

    def truth_table(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.truth / f"{name}.parquet")

    def run(self, first: dt.date, last: dt.date) -> dg.ExecuteInProcessResult:
        return run_range(self.defs, self.instance, first, last)


def run_range(defs: dg.Definitions, instance: dg.DagsterInstance, first: dt.date, last: dt.date):
    return defs.resolve_job_def("lead_funnel").execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=False,
    )


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("small-world")
    cfg = WorldConfig.preset("small", seed=7)
    landing, truth = root / "landing", root / "truth"
    generate_world(cfg, landing, truth)
    store = Warehouse(root / "warehouse.duckdb")
    defs = build_defs(
        {
            "warehouse": WarehouseResource(path=str(store.path)),
            "landing_zone": LandingZoneResource(path=str(landing)),
        }
    )
    instance = dg.DagsterInstance.ephemeral()
    first, last = cfg.start, cfg.start + dt.timedelta(days=cfg.days - 1)
    result = run_range(defs, instance, first, last)
    return World(root, landing, truth, store, defs, instance, result, first, last)
