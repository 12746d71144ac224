"""The store simulator: a living sample shop (seed 000's 3C-accessories store) built through
the real services and the tracking ingestion, with its ground truth written next to the data.

`simulate` builds or continues the shop; `build_sample_shop` also loads the warehouse so the
analytics can read it (what tests use). See docs/simulator.md.
"""

from shopops.sim.model import (
    INCIDENT_KINDS,
    SCENARIOS,
    Incident,
    SimulationConfig,
    SimulationResult,
)
from shopops.sim.run import GROUND_TRUTH, StoreNotEmpty, build_sample_shop, simulate

__all__ = [
    "GROUND_TRUTH",
    "INCIDENT_KINDS",
    "SCENARIOS",
    "Incident",
    "SimulationConfig",
    "SimulationResult",
    "StoreNotEmpty",
    "build_sample_shop",
    "simulate",
]
