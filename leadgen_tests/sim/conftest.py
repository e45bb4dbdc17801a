"""Shared sample worlds for the simulator tests (generated once per session, in tmp)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from leadgen_assets.sim import Drift, WorldConfig, generate_world

TINY = dict(n_persons=300, days=10)


@dataclasses.dataclass
class Gen:
    cfg: WorldConfig
    landing: Path
    truth: Path
    counts: dict
    progress: list


def _gen(root: Path, cfg: WorldConfig) -> Gen:
    calls: list = []
    counts = generate_world(cfg, root / "landing", root / "truth",
                            progress=lambda s, d, t: calls.append((s, d, t)))
    return Gen(cfg, root / "landing", root / "truth", counts, calls)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Gen:
    return _gen(tmp_path_factory.mktemp("tiny"), WorldConfig.preset("small", seed=7, **TINY))


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Gen:
    """The real `small` preset."""
    return _gen(tmp_path_factory.mktemp("small"), WorldConfig.preset("small", seed=7))


@pytest.fixture(scope="session")
def make_world(tmp_path_factory):
    def make(cfg: WorldConfig, name: str) -> Gen:
        return _gen(tmp_path_factory.mktemp(name), cfg)
    return make


@pytest.fixture(scope="session")
def quality_drift(make_world) -> tuple[Gen, Gen]:
    """The small preset with and without a channel_quality drift on meta_lead_ads."""
    base = WorldConfig.preset("small", seed=11)
    drifted = dataclasses.replace(base, drift=Drift(kind="channel_quality",
                                                    channel="meta_lead_ads", start_day=12))
    return make_world(base, "q_base"), make_world(drifted, "q_drift")
