"""The retrain_on_drift sensor: a drifted day (pooled score PSI at or above the threshold, on
enough leads) requests one train_challenger run, and the same day never asks twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from leadgen_assets.defs.common import WarehouseResource
from leadgen_assets.defs.models.assets import DRIFT_PSI, retrain_on_drift
from leadgen_assets.storage.warehouse import Warehouse

D = dt.date(2026, 6, 1)


def drift_table(path: Path, psis: list[tuple[float, int]]) -> WarehouseResource:
    frame = pl.DataFrame({
        "delivery_date": [D + dt.timedelta(days=i) for i in range(len(psis))],
        "psi_window": [p for p, _ in psis], "window_leads": [n for _, n in psis],
    })
    with Warehouse(path).writer() as w:
        w.replace_table("monitoring.score_drift", frame)
    return WarehouseResource(path=str(path))


def evaluate(resource: WarehouseResource, cursor: str | None):
    return retrain_on_drift(dg.build_sensor_context(cursor=cursor, resources={"warehouse": resource}))


def test_a_drifted_day_requests_one_training_run(tmp_path: Path) -> None:
    resource = drift_table(tmp_path / "w.duckdb", [(0.05, 900), (DRIFT_PSI + 0.1, 900), (0.02, 900), (0.9, 50)])
    result = evaluate(resource, None)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert request.run_key == "drift-2026-06-02" and request.tags["leadgen/trigger"] == "score drift"
    assert result.cursor == "2026-06-02"  # the 0.9 day had too few leads to call drift
    again = evaluate(resource, result.cursor)
    assert isinstance(again, dg.SkipReason)


def test_no_warehouse_or_no_drift_skips(tmp_path: Path) -> None:
    assert isinstance(evaluate(WarehouseResource(path=str(tmp_path / "none.duckdb")), None), dg.SkipReason)
    resource = drift_table(tmp_path / "w.duckdb", [(0.05, 900), (0.1, 900)])
    assert isinstance(evaluate(resource, None), dg.SkipReason)


def test_a_drifted_feature_of_the_champion_also_requests_a_run_and_names_the_feature(tmp_path: Path) -> None:
    resource = drift_table(tmp_path / "w.duckdb", [(0.05, 900), (0.05, 900), (0.05, 900)])
    features = pl.DataFrame({
        "delivery_date": [D + dt.timedelta(days=i) for i in (0, 1, 1, 2)],
        "feature": ["budget", "budget", "pageviews_30d", "pageviews_30d"],
        "psi_window": [0.01, DRIFT_PSI + 0.2, DRIFT_PSI + 0.05, 0.9],
        "window_leads": [900, 900, 900, 40],  # the 0.9 on the last day rests on too few leads
    })
    with Warehouse(tmp_path / "w.duckdb").writer() as w:
        w.replace_table("monitoring.feature_drift", features)
    result = evaluate(resource, None)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests
    assert request.run_key == "drift-2026-06-02" and request.tags["leadgen/trigger"] == "feature drift"
    assert request.tags["leadgen/drifted_feature"] == "budget"  # the larger of that day's two
    assert isinstance(evaluate(resource, result.cursor), dg.SkipReason)
