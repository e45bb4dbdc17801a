"""The sample world: a deterministic simulator of a managed-IT provider's lead sources.

    from leadgen_assets.sim import WorldConfig, Drift, PRESETS, generate_world
    cfg = WorldConfig.preset("small", seed=7)
    counts = generate_world(cfg, landing_dir, truth_dir, progress=None)

It writes the landing-zone files documented in docs/landing-zone.md and ground truth
(Parquet) for tests and benchmarks. Pure Python + numpy + polars; no Dagster.
"""

from .config import CHANNELS, PAID_CHANNELS, PRESETS, Drift, WorldConfig
from .review import simulate_review_decisions, write_review_decisions
from .world import generate_world

__all__ = [
    "CHANNELS", "PAID_CHANNELS", "PRESETS", "Drift", "WorldConfig", "generate_world",
    "simulate_review_decisions", "write_review_decisions",
]
