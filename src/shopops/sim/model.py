"""The simulator's public data: what to simulate (`SimulationConfig`, `Incident`) and what
was built (`SimulationResult`). Validation here, so the CLI and the API give the same errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from shopops.sim.traffic import BY_CODE

INCIDENT_KINDS = ("traffic_drop", "conversion_slump", "stockout", "complaint_spike", "cpc_spike")
MAX_DAYS = 3660
MAX_VISITORS = 200_000


@dataclass(frozen=True)
class Incident:
    """An injected event, recorded in the ground truth."""

    kind: str  # "traffic_drop" | "conversion_slump" | "stockout" | "complaint_spike" | "cpc_spike"
    day: dt.date  # first shop-local day it applies
    days: int = 1
    channel: str | None = (
        None  # traffic channel code (traffic_drop / cpc_spike), e.g. "paid_search"
    )
    sku_id: int | None = None  # stockout (None: the simulator picks a hit SKU and records it)
    depth: float = 0.5  # relative size: 0.5 = traffic/conversion halved, CPC x1.5 ...

    def covers(self, day: dt.date) -> bool:
        return self.day <= day < self.day + dt.timedelta(days=self.days)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    ramp: bool = True  # traffic grows from ~35% to the target over the first run
    campaigns: bool = True


SCENARIOS = {
    "default": Scenario("default", "120 days of a growing shop with its campaign calendar"),
    "flat": Scenario("flat", "the target traffic every day (benchmarks)", ramp=False),
    "quiet": Scenario("quiet", "no campaigns or member days: a plain baseline", campaigns=False),
    "incidents": Scenario(
        "incidents", "default plus a traffic drop, a stock-out and a CPC spike near the end"
    ),
}


@dataclass(frozen=True)
class SimulationConfig:
    days: int = 120
    visitors: int = 5000  # daily visitors at the end of the period
    seed: int = 618
    end: dt.date | None = None  # last simulated shop-local day; default today
    incidents: tuple[Incident, ...] = ()
    scenario: str = "default"

    def validated(self) -> SimulationConfig:
        """The config, checked: ValueError with what is wrong (the CLI shows it, exit 2)."""
        if isinstance(self.days, bool) or not isinstance(self.days, int) or self.days < 1:
            raise ValueError(f"days must be a whole number ≥ 1, got {self.days!r}")
        if self.days > MAX_DAYS:
            raise ValueError(f"days must be at most {MAX_DAYS}, got {self.days}")
        if isinstance(self.visitors, bool) or not isinstance(self.visitors, int):
            raise ValueError(f"visitors must be a whole number, got {self.visitors!r}")
        if not 1 <= self.visitors <= MAX_VISITORS:
            raise ValueError(f"visitors must be between 1 and {MAX_VISITORS}, got {self.visitors}")
        if self.scenario not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise ValueError(f"unknown scenario {self.scenario!r}; known: {known}")
        for incident in self.incidents:
            check_incident(incident)
        return self


def check_incident(incident: Incident) -> None:
    if incident.kind not in INCIDENT_KINDS:
        raise ValueError(
            f"unknown incident kind {incident.kind!r}; known: {', '.join(INCIDENT_KINDS)}"
        )
    if incident.days < 1:
        raise ValueError(f"an incident lasts at least 1 day, got {incident.days}")
    if not 0 < incident.depth <= 10:
        raise ValueError(f"incident depth must be in (0, 10], got {incident.depth}")
    if incident.kind in ("traffic_drop", "conversion_slump") and incident.depth > 1:
        raise ValueError(f"a {incident.kind} depth is a fraction ≤ 1, got {incident.depth}")
    if incident.channel is not None and incident.channel not in BY_CODE:
        raise ValueError(f"unknown channel {incident.channel!r}; known: {', '.join(BY_CODE)}")
    if incident.kind in ("traffic_drop", "cpc_spike") and incident.channel is None:
        raise ValueError(f"a {incident.kind} needs a channel")


def preset_incidents(config: SimulationConfig, end: dt.date) -> tuple[Incident, ...]:
    """The scenario's own incidents (the `incidents` preset), placed relative to the end."""
    if config.scenario != "incidents":
        return config.incidents
    span = min(config.days, 30)
    back = lambda n: end - dt.timedelta(days=min(n, span - 1))  # noqa: E731
    preset = (
        Incident("traffic_drop", back(6), 1, channel="paid_search", depth=0.6),
        Incident("stockout", back(12), 3),
        Incident("cpc_spike", back(9), 2, channel="feed_ads", depth=0.8),
    )
    return config.incidents + preset


@dataclass
class SimulationResult:
    days: int = 0
    visitors: int = 0
    sessions: int = 0
    events: int = 0
    orders: int = 0
    paid_orders: int = 0
    gmv_fen: int = 0
    customers: int = 0
    new_customers: int = 0
    returns: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    seconds: float = 0.0
    ground_truth_path: Path | None = None
    ad_spend_path: Path | None = None
    operator_key: str = ""
    console_username: str | None = None
    console_password: str | None = None
    continued: bool = False
    interrupted: bool = False
    incidents: list[Incident] = field(default_factory=list)

    def with_keys(self, **changes: object) -> SimulationResult:
        return replace(self, **changes)  # type: ignore[arg-type]
