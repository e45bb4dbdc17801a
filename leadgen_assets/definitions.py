"""leadgen's Dagster definitions: each layer's own Definitions, merged, plus resources.

The resource set is chosen by ``LEADGEN_ENV`` (hooli pattern). ``local`` is DuckDB on this
machine; other environments put the warehouse behind the same resource interface.
"""

from __future__ import annotations

import dagster as dg

from leadgen_assets import settings
from leadgen_assets.defs import pipeline
from leadgen_assets.defs.common import LandingZoneResource, WarehouseResource
from leadgen_assets.defs.features import assets as features
from leadgen_assets.defs.governance import assets as governance
from leadgen_assets.defs.identity import assets as identity
from leadgen_assets.defs.models import assets as models
from leadgen_assets.defs.monitoring import assets as monitoring
from leadgen_assets.defs.routing import assets as routing
from leadgen_assets.defs.scoring import assets as scoring
from leadgen_assets.defs.signals import assets as signals
from leadgen_assets.defs.sources import assets as sources
from leadgen_assets.defs.sources import sensor as landing


def resources_for(env: str) -> dict[str, object]:
    if env == "local":
        return {
            "warehouse": WarehouseResource(path=str(settings.warehouse_path())),
            "landing_zone": LandingZoneResource(path=str(settings.landing_dir())),
        }
    raise ValueError(
        f"LEADGEN_ENV={env!r} has no resource set; the only one defined is 'local' (see docs/architecture.md, 'Scale path')."
    )


def build_defs(resources: dict[str, object]) -> dg.Definitions:
    """All of leadgen with the given resources (tests pass their own warehouse and landing zone)."""
    return dg.Definitions.merge(
        sources.defs,
        landing.defs,
        signals.defs,
        identity.defs,
        features.defs,
        models.defs,
        scoring.defs,
        routing.defs,
        monitoring.defs,
        governance.defs,
        pipeline.defs,
        dg.Definitions(resources=resources, executor=dg.in_process_executor),
    )


defs = build_defs(resources_for(settings.environment()))
