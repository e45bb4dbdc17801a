"""The sample world: a deterministic simulator of a managed-IT provider's lead sources.

    from leadgen_assets.sim import WorldConfig, Drift, PRESETS, generate_world
    cfg = WorldConfig.preset("small", seed=7)
    counts = generate_world(cfg, landing_dir, truth_dir, progress=None)

It writes the landing-zone files documented in docs/landing-zone.md and ground truth
(Parquet) for tests and benchmarks. Pure Python + numpy + polars; no Dagster.

``inject(kind, landing, source, day, seed)`` breaks a delivered file the ways real
deliveries break (``FAULTS`` lists the kinds; see ``faults.py``) and returns a ``Fault``
describing exactly what it changed.
"""

from .config import CHANNELS, PAID_CHANNELS, PRESETS, Drift, WorldConfig
from .faults import FAULTS, Fault, inject
from .review import simulate_review_decisions, write_review_decisions
from .world import generate_world

__all__ = [
    "CHANNELS", "FAULTS", "PAID_CHANNELS", "PRESETS", "Drift", "Fault", "WorldConfig", "generate_world", "inject",
    "simulate_review_decisions", "write_review_decisions",
]
