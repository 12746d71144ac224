"""The ground truth: what the simulator knows and the analytics should recover.

Kept per shop-local day and channel (visits, orders placed and paid, the true order
probability summed over visits, CPC, clicks and spend), per persona, the campaign phase and
member days, stock-outs (injected or natural) and the incidents as resolved (a stock-out's
SKU once picked). Written as `<data_dir>/ground_truth.json` (format: docs/simulator.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "shopops.sim.ground_truth/1"


@dataclass
class DayTruth:
    date: str
    visitors: dict[str, int] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)  # placed, by the visit's channel
    paid_orders: dict[str, int] = field(default_factory=dict)
    expected_orders: dict[str, float] = field(default_factory=dict)  # Σ P(order) over visits
    cpc_fen: dict[str, int] = field(default_factory=dict)
    spend_fen: dict[str, int] = field(default_factory=dict)
    campaign: str | None = None
    phase: str | None = None
    member_day: bool = False
    traffic_factor: float = 1.0
    lost_to_stockout: int = 0  # buyers who found their item sold out
    returning_visits: int = 0
    new_customers: int = 0
    events: int = 0


@dataclass
class Truth:
    seed: int
    scenario: str
    timezone: str
    days: list[DayTruth] = field(default_factory=list)
    personas: dict[str, dict[str, int]] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    stockouts: list[dict[str, Any]] = field(default_factory=list)
    pay_attempts: dict[str, int] = field(default_factory=dict)
    pay_failures: dict[str, int] = field(default_factory=dict)
    returns_requested: int = 0
    refunds: int = 0
    delivered: int = 0

    def persona(self, code: str, key: str, n: int = 1) -> None:
        row = self.personas.setdefault(code, {"visits": 0, "orders": 0, "paid_orders": 0})
        row[key] += n

    def channels(self) -> dict[str, dict[str, float]]:
        """Per channel over every day: visits, orders, paid, the true rates."""
        out: dict[str, dict[str, float]] = {}
        for day in self.days:
            for code, n in day.visitors.items():
                row = out.setdefault(
                    code, {"visits": 0, "orders": 0, "paid_orders": 0, "expected_orders": 0.0}
                )
                row["visits"] += n
                row["orders"] += day.orders.get(code, 0)
                row["paid_orders"] += day.paid_orders.get(code, 0)
                row["expected_orders"] += day.expected_orders.get(code, 0.0)
        for row in out.values():
            visits = row["visits"] or 1
            row["true_order_rate"] = row["expected_orders"] / visits
            row["order_rate"] = row["orders"] / visits
            row["paid_rate"] = row["paid_orders"] / visits
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seed": self.seed,
            "scenario": self.scenario,
            "timezone": self.timezone,
            "first_day": self.days[0].date if self.days else None,
            "last_day": self.days[-1].date if self.days else None,
            "channels": self.channels(),
            "personas": self.personas,
            "payment_completion": {
                c: 1 - self.pay_failures.get(c, 0) / n for c, n in self.pay_attempts.items() if n
            },
            "returns": {
                "delivered": self.delivered,
                "requested": self.returns_requested,
                "refunded": self.refunds,
                "rate": self.returns_requested / self.delivered if self.delivered else 0.0,
            },
            "incidents": self.incidents,
            "stockouts": self.stockouts,
            "days": [asdict(d) for d in self.days],
        }

    def write(self, path: Path) -> None:
        """Atomically (temp file + rename): a reader never sees half a file."""
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def read_truth(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def day_of(truth: dict[str, Any], day: dt.date) -> dict[str, Any] | None:
    return next((d for d in truth["days"] if d["date"] == day.isoformat()), None)
