"""The shop's suppliers and purchase orders, through the purchasing service.

Five strategic suppliers in Shenzhen (chargers and cables, power banks, audio, cases and
protectors, peripherals and wearables), lead times 3–7 days, one of them VMI. Every SKU of the
shop is supplied by the maker of its category at the SKU's cost price. A restock is a
purchase order opened with `open_purchase_order` and delivered with `receive_purchase_order`
at (or after) its expected arrival: some suppliers are late or ship in two parts, and about
1.5% of units fail the quality check at receiving.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shopops.catalog import service as catalog
from shopops.db import set_clock
from shopops.purchasing import service as purchasing
from shopops.purchasing.rules import RECEIVABLE, PoStatus

# (code, name, contact, phone, lead days, VMI, rating, late share, category slugs)
SUPPLIERS: list[tuple[str, str, str, str, int, bool, int, float, tuple[str, ...]]] = [
    (
        "SZ-CHG",
        "深圳市迅充电子有限公司",
        "陈志强",
        "0755-2860 1123",
        3,
        False,
        4,
        0.08,
        ("chargers", "cables"),
    ),
    (
        "SZ-PWR",
        "深圳市能派新能源科技有限公司",
        "李晓梅",
        "0755-8612 5530",
        5,
        True,  # watches our stock and ships itself: never late
        5,
        0.0,
        ("power-banks",),
    ),
    (
        "SZ-AUD",
        "深圳市声韵电声有限公司",
        "黄伟",
        "0755-2733 9081",
        6,
        False,
        3,
        0.18,
        ("earphones",),
    ),
    (
        "SZ-CAS",
        "深圳市盾甲精密科技有限公司",
        "张丽",
        "0755-2998 4417",
        4,
        False,
        4,
        0.10,
        ("phone-cases", "screen-protectors"),
    ),
    (
        "SZ-PER",
        "深圳市联拓智能设备有限公司",
        "刘洋",
        "0755-8320 7765",
        7,
        False,
        3,
        0.14,
        ("keyboards-mice", "wearables", "storage"),
    ),
]
SPLIT_SHARE = 0.10  # a delivery comes in two parts this often
REJECT_RATE = (0.005, 0.025)  # units failing inspection: ~1.5% on average
LATE_DAYS = (1.0, 3.0)
NOTE = "补货 replenishment"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a call of `receive_purchase_order` received; `next_at`: when the rest arrives
    (call it again then), None when the order is complete (or no longer open)."""

    accepted: int
    rejected: int
    next_at: dt.datetime | None


def seed_suppliers(session: Session, *, sku_ids: Sequence[int]) -> dict[int, int]:
    """Create the five suppliers and give each SKU to its category's maker at the SKU's cost
    price (a SKU of another category goes to one by its id). Returns {sku_id: supplier_id}."""
    suppliers = []
    for code, name, contact, phone, lead, vmi, rating, _late, _cats in SUPPLIERS:
        row = purchasing.create_supplier(
            session,
            code=code,
            name=name,
            contact_name=contact,
            contact_phone=phone,
            lead_time_days=lead,
            vmi=vmi,
            rating=rating,
        )
        suppliers.append(row.id)
    by_slug = {slug: suppliers[i] for i, (*_, cats) in enumerate(SUPPLIERS) for slug in cats}
    slugs = {c.id: c.slug for c in catalog.list_categories(session)}
    skus = catalog.get_sellable_skus(session, sku_ids=sku_ids)
    costs: dict[int, dict[int, int]] = {}
    owner: dict[int, int] = {}
    for sku_id, snap in sorted(skus.items()):
        supplier = by_slug.get(slugs.get(snap.category_id, ""))
        supplier = supplier or suppliers[sku_id % len(suppliers)]
        costs.setdefault(supplier, {})[sku_id] = snap.cost
        owner[sku_id] = supplier
    for supplier, terms in costs.items():
        purchasing.set_supplier_costs(session, supplier_id=supplier, costs=terms)
    return owner


def open_purchase_order(
    session: Session,
    *,
    lines: Sequence[tuple[int, int]],
    warehouse_id: int,
    at: dt.datetime,
    expected_at: dt.datetime | None = None,
) -> tuple[int, dt.datetime]:
    """A submitted order of `lines` ((sku, units), all from one supplier, as a buyer orders)
    at their agreed costs, into `warehouse_id`, placed at `at` and expected `expected_at`
    (default: at + the supplier's lead time). Returns (purchase order id, expected arrival)."""
    set_clock(session, at)
    terms = purchasing.supplier_for_sku(session, sku_id=lines[0][0])
    po = purchasing.create_purchase_order(
        session,
        supplier_id=terms.supplier_id,
        warehouse_id=warehouse_id,
        lines=[purchasing.LineSpec(sku, quantity) for sku, quantity in lines],
        expected_at=expected_at,
        note=NOTE,
        submit=True,
    )
    return po.id, po.expected_at


def _late_share(code: str) -> float:
    return next(late for c, *_, late, _cats in SUPPLIERS if c == code)


def _rejected(rng: random.Random, units: int) -> int:
    # Unbiased rounding, so small deliveries fail inspection at the same rate on average.
    exact = units * rng.uniform(*REJECT_RATE)
    return min(units, math.floor(exact) + (rng.random() < exact - math.floor(exact)))


def receive_purchase_order(
    session: Session, *, po_id: int, at: dt.datetime, rng: random.Random
) -> Delivery:
    """The supplier's delivery of purchase order `po_id` arriving at `at`: sometimes late
    (nothing today, come back in 1–3 days), sometimes in two parts; each part's units are
    inspected and the accepted ones go into stock (through purchasing → inventory)."""
    set_clock(session, at)
    po = purchasing.get_purchase_order(session, po_id=po_id)
    if PoStatus(po.status) not in RECEIVABLE:
        return Delivery(0, 0, None)
    supplier = purchasing.get_supplier(session, supplier_id=po.supplier_id)
    later = at + dt.timedelta(days=rng.uniform(*LATE_DAYS))
    first = po.status == PoStatus.SUBMITTED
    late_share = _late_share(supplier.code)
    if first and at <= po.expected_at and rng.random() < late_share:
        return Delivery(0, 0, later)
    # A VMI supplier (late share 0) ships whole orders on time.
    split = first and late_share > 0 and rng.random() < SPLIT_SHARE
    specs = []
    for line in po.lines:
        left = line.quantity - line.accepted - line.rejected
        units = max(1, math.floor(left * rng.uniform(0.5, 0.8))) if split and left > 1 else left
        if units <= 0:
            continue
        bad = _rejected(rng, units)
        specs.append(purchasing.ReceiptSpec(line.sku_id, units - bad, bad))
    if not specs:
        return Delivery(0, 0, None)
    purchasing.receive_purchase_order(session, po_id=po_id, lines=specs, note=NOTE)
    done = po.status == PoStatus.RECEIVED
    return Delivery(
        sum(s.accepted for s in specs), sum(s.rejected for s in specs), None if done else later
    )
