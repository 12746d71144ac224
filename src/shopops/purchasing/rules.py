"""Pure purchasing rules: the purchase-order state machine, receiving checks, supplier
scorecards and the replenishment suggestion for hit products.

Purchase order: draft → submitted → partially_received → received, and draft, submitted or
partially_received → cancelled (a partly received order is closed short: the rest will not
come). Receiving is not a free move: the status after a receipt follows from the quantities.
A received unit is either accepted (it goes into stock) or rejected for quality; both count
against the ordered quantity, so an order is received when accepted + rejected = ordered.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

MAX_QUANTITY = 1_000_000
MAX_UNIT_COST = 100_000_000  # ¥1,000,000 in fen: above this a cost is a typo
MAX_LEAD_DAYS = 365
MIN_RATING, MAX_RATING = 1, 5


class PoStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


S = PoStatus

PO_TRANSITIONS: dict[PoStatus, frozenset[PoStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
    S.PARTIALLY_RECEIVED: frozenset({S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED}),
    S.RECEIVED: frozenset(),
    S.CANCELLED: frozenset(),
}
# Goods may be received only against these.
RECEIVABLE = frozenset({S.SUBMITTED, S.PARTIALLY_RECEIVED})
OPEN = frozenset({S.DRAFT, S.SUBMITTED, S.PARTIALLY_RECEIVED})


def can_move(current: str, target: str) -> bool:
    return PoStatus(target) in PO_TRANSITIONS[PoStatus(current)]


@dataclass(frozen=True, slots=True)
class LineState:
    """One purchase-order line's quantities (units)."""

    ordered: int
    accepted: int = 0
    rejected: int = 0

    @property
    def outstanding(self) -> int:
        return self.ordered - self.accepted - self.rejected


def over_receipt(line: LineState, accepted: int, rejected: int) -> int:
    """Units a receipt would take beyond what is still outstanding on the line (0 = fine)."""
    return max(0, accepted + rejected - line.outstanding)


def status_after_receipt(lines: Iterable[LineState]) -> PoStatus:
    """Received when nothing is outstanding on any line, else partially received."""
    done = all(line.outstanding <= 0 for line in lines)
    return S.RECEIVED if done else S.PARTIALLY_RECEIVED


def is_on_time(received_at: dt.datetime, expected_at: dt.datetime) -> bool:
    """A receipt is on time when it arrives no later than the expected arrival."""
    return received_at <= expected_at


def expected_arrival(ordered_at: dt.datetime, lead_time_days: int) -> dt.datetime:
    return ordered_at + dt.timedelta(days=lead_time_days)


# ---- scorecards -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReceiptFact:
    received_at: dt.datetime
    expected_at: dt.datetime
    accepted: int
    rejected: int


@dataclass(frozen=True, slots=True)
class CostFact:
    """Units bought at `unit_cost` of a SKU whose catalogue cost is `catalogue_cost` (fen)."""

    quantity: int
    unit_cost: int
    catalogue_cost: int


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A supplier's record; a rate is None when there is nothing to measure it on."""

    receipts: int
    on_time_receipts: int
    on_time_rate: float | None
    accepted_units: int
    rejected_units: int
    reject_rate: float | None
    units_bought: int
    average_cost: int | None  # fen per unit, weighted by units ordered
    catalogue_cost: int | None  # the same units at the catalogue's cost, fen per unit
    cost_index: float | None  # average / catalogue: 1.0 at catalogue cost, below is cheaper
    # Of the supplier's SKUs in the scorecard's period: units sold, units that came back.
    units_sold: int = 0
    units_returned: int = 0
    return_rate: float | None = None


@dataclass(frozen=True, slots=True)
class SalesFact:
    """Units of one of the supplier's SKUs sold, and returned, in the period."""

    sold: int
    returned: int


def scorecard(
    receipts: Iterable[ReceiptFact],
    costs: Iterable[CostFact],
    sales: Iterable[SalesFact] = (),
) -> Scorecard:
    """On-time rate = receipts on or before the expected arrival / receipts; reject rate =
    rejected / (accepted + rejected) units; cost index = Σ paid / Σ catalogue cost; return
    rate = units returned / units sold of the supplier's SKUs."""
    n = on_time = accepted = rejected = 0
    for r in receipts:
        n += 1
        on_time += is_on_time(r.received_at, r.expected_at)
        accepted += r.accepted
        rejected += r.rejected
    units = paid = listed = 0
    for c in costs:
        units += c.quantity
        paid += c.quantity * c.unit_cost
        listed += c.quantity * c.catalogue_cost
    inspected = accepted + rejected
    sold = returned = 0
    for x in sales:
        sold += x.sold
        returned += x.returned
    return Scorecard(
        receipts=n,
        on_time_receipts=on_time,
        on_time_rate=on_time / n if n else None,
        accepted_units=accepted,
        rejected_units=rejected,
        reject_rate=rejected / inspected if inspected else None,
        units_bought=units,
        average_cost=round(paid / units) if units else None,
        catalogue_cost=round(listed / units) if units else None,
        cost_index=paid / listed if listed else None,
        units_sold=sold,
        units_returned=returned,
        return_rate=returned / sold if sold else None,
    )


def score(card: Scorecard) -> int | None:
    """A 1–5 rating from the scorecard: on time counts 60%, quality 40% (None: no receipts)."""
    if card.on_time_rate is None:
        return None
    quality = 1.0 - min(1.0, 10 * (card.reject_rate or 0.0))  # 10% rejected scores 0
    value = 0.6 * card.on_time_rate + 0.4 * quality
    return max(MIN_RATING, min(MAX_RATING, 1 + round(value * 4)))


# ---- replenishment ----------------------------------------------------------------------------

# Hits sell fast and a stock-out costs the most there: more safety days and a longer cover.
SAFETY_DAYS = {"hit": 3.0, "traffic_driver": 2.0, "long_tail": 1.0}
COVER_DAYS = {"hit": 14, "traffic_driver": 14, "long_tail": 21}


def reorder_point(daily_sales: float, lead_time_days: int, safety_stock: int) -> int:
    """Units at which to order: what sells during the lead time plus the safety stock."""
    return math.ceil(max(0.0, daily_sales) * lead_time_days) + max(0, safety_stock)


def safety_stock_for(daily_sales: float, role: str) -> int:
    return math.ceil(max(0.0, daily_sales) * SAFETY_DAYS.get(role, 1.0))


@dataclass(frozen=True, slots=True)
class Suggestion:
    sku_id: int
    reorder_point: int
    position: int  # available + already on order
    quantity: int  # 0: no order needed


def suggest(
    *,
    sku_id: int,
    available: int,
    on_order: int,
    daily_sales: float,
    lead_time_days: int,
    role: str = "hit",
    safety_stock: int | None = None,
    min_order: int = 1,
) -> Suggestion:
    """Order when stock plus what is on order is at or below the reorder point; order up to
    the reorder point plus the role's cover days of sales (fast replenishment for hits)."""
    safety = safety_stock_for(daily_sales, role) if safety_stock is None else safety_stock
    point = reorder_point(daily_sales, lead_time_days, safety)
    position = available + on_order
    if position > point:
        return Suggestion(sku_id, point, position, 0)
    target = point + math.ceil(max(0.0, daily_sales) * COVER_DAYS.get(role, 14))
    return Suggestion(sku_id, point, position, max(min_order, target - position))
