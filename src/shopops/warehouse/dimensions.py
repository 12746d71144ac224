"""Dimensions (and today's stock) from a read-only snapshot of the store.

This is the one place the warehouse reads across the domains' tables (ARCHITECTURE.md allows
it, read only). Every dimension is left-join-safe: a key that facts use but the store no
longer has (a deleted SKU, a customer from another import) gets a placeholder row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from shopops.catalog.models import Brand, Category, Product, Sku
from shopops.inventory.models import StockLevel
from shopops.members.models import Customer
from shopops.warehouse.rules import (
    calendar_span,
    date_range,
    date_row,
    festival_of,
    shop_date,
)

UNKNOWN = "未知 unknown"


@dataclass
class StoreSnapshot:
    """The dimension rows and the per-SKU facts a run needs, read in one transaction."""

    products: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    # sku_id → (on_hand, reserved) summed over warehouses, as the store has them now.
    stock: dict[int, tuple[int, int]] = field(default_factory=dict)

    def sku_lookup(self) -> dict[int, tuple[int | None, int | None]]:
        return {r["sku_id"]: (r["category_id"], r["brand_id"]) for r in self.products}

    def sku_state(self) -> dict[int, tuple[int, bool]]:
        """sku_id → (cost, listed) for the stock facts."""
        return {r["sku_id"]: (r["cost"], r["status"] == "listed") for r in self.products}


def _top(categories: dict[int, tuple[str, int | None]], cid: int | None) -> str:
    seen = set()
    while cid is not None and cid in categories and cid not in seen:
        seen.add(cid)
        name, parent = categories[cid]
        if parent is None:
            return name
        cid = parent
    return UNKNOWN


def read_products(session: Session) -> list[dict[str, Any]]:
    categories = {
        r.id: (r.name, r.parent_id)
        for r in session.execute(select(Category.id, Category.name, Category.parent_id))
    }
    brands = {r.id: r.name for r in session.execute(select(Brand.id, Brand.name))}
    stmt = select(
        Sku.id, Sku.code, Sku.product_id, Sku.list_price, Sku.cost, Sku.active,
        Product.title, Product.category_id, Product.brand_id, Product.role, Product.tier,
        Product.status,
    ).join(Product, Product.id == Sku.product_id).order_by(Sku.id)  # fmt: skip
    rows = []
    for r in session.execute(stmt):
        rows.append(
            {
                "sku_id": r.id,
                "sku_code": r.code,
                "product_id": r.product_id,
                "title": r.title,
                "category_id": r.category_id,
                "category": categories.get(r.category_id, (UNKNOWN, None))[0],
                "top_category": _top(categories, r.category_id),
                "brand_id": r.brand_id,
                "brand": brands.get(r.brand_id, "") if r.brand_id is not None else "",
                "role": r.role,
                "tier": r.tier,
                "list_price": r.list_price,
                "cost": r.cost,
                # A SKU switched off is not on sale, whatever its product's status.
                "status": r.status if r.active else "inactive",
            }
        )
    return rows


def read_customers(session: Session, tz: str) -> list[dict[str, Any]]:
    stmt = select(
        Customer.id, Customer.registered_at, Customer.region, Customer.city, Customer.gender,
        Customer.age_band, Customer.acquisition_channel, Customer.tier_code, Customer.referred_by,
    ).order_by(Customer.id)  # fmt: skip
    return [
        {
            "customer_id": r.id,
            "registered_at": r.registered_at,
            "registered_date": shop_date(r.registered_at, tz),
            "province": r.region,
            "city": r.city,
            "gender": r.gender,
            "age_band": r.age_band,
            "acquisition_channel": r.acquisition_channel,
            "tier": r.tier_code,
            "referred_by": r.referred_by,
        }
        for r in session.execute(stmt)
    ]


def read_campaigns(session: Session, tz: str) -> list[dict[str, Any]]:
    """Campaigns with their phase starts; none when the promotions tables are not there."""
    if not inspect(session.connection()).has_table("campaign"):
        return []
    from shopops.promotions.models import Campaign, CampaignPhaseWindow

    phases: dict[int, dict[str, dt.datetime]] = {}
    for p in session.execute(
        select(
            CampaignPhaseWindow.campaign_id,
            CampaignPhaseWindow.phase,
            CampaignPhaseWindow.starts_at,
        )
    ):
        phases.setdefault(p.campaign_id, {})[p.phase] = p.starts_at
    rows = []
    for c in session.execute(
        select(
            Campaign.id, Campaign.name, Campaign.starts_at, Campaign.ends_at, Campaign.budget_amount
        ).order_by(Campaign.id)
    ):
        mine = phases.get(c.id, {})
        peak = mine.get("peak") or c.starts_at
        rows.append(
            {
                "campaign_id": c.id,
                "name": c.name,
                # The festival its peak falls in (双11, 618…), else a shop's own campaign.
                "kind": festival_of(shop_date(peak, tz) or dt.date.min) or "campaign",
                "starts_at": c.starts_at,
                "ends_at": c.ends_at,
                "budget": c.budget_amount,
                "warmup_starts_at": mine.get("warm_up"),
                "peak_starts_at": mine.get("peak"),
                "wrapup_starts_at": mine.get("wrap_up"),
            }
        )
    return rows


def read_stock(session: Session) -> dict[int, tuple[int, int]]:
    stmt = select(
        StockLevel.sku_id, func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved)
    ).group_by(StockLevel.sku_id)
    return {int(s): (int(o or 0), int(r or 0)) for s, o, r in session.execute(stmt)}


def read_snapshot(session: Session, tz: str) -> StoreSnapshot:
    """Everything the dimensions need, in the session's (read-only) transaction."""
    return StoreSnapshot(
        products=read_products(session),
        customers=read_customers(session, tz),
        campaigns=read_campaigns(session, tz),
        stock=read_stock(session),
    )


def channel_rows() -> list[dict[str, Any]]:
    """`dim_channel`: the tracking vocabulary, paid or natural."""
    from shopops.tracking.rules import CHANNEL_NAMES, PAID_CHANNELS

    return [
        {
            "channel": str(channel),
            "name_zh": zh,
            "name_en": en,
            "kind": "paid" if channel in PAID_CHANNELS else "natural",
        }
        for channel, (zh, en) in CHANNEL_NAMES.items()
    ]


def date_rows(days: Iterable[dt.date], today: dt.date) -> list[dict[str, Any]]:
    """`dim_date`: whole years around every fact date (and today), the year before included."""
    known = [d for d in days if d is not None]
    first, last = calendar_span(min(known, default=today), max([*known, today]))
    return [date_row(day) for day in date_range(first, last)]


def with_placeholders(
    rows: list[dict[str, Any]], key: str, used: Iterable[Any], fill: dict[str, Any]
) -> list[dict[str, Any]]:
    """`rows` plus one placeholder row for each used key the store does not have."""
    have = {r[key] for r in rows}
    missing = sorted({k for k in used if k is not None and k not in have})
    return rows + [{key: k, **fill} for k in missing]


PLACEHOLDERS: dict[str, tuple[str, dict[str, Any]]] = {
    "dim_product": ("sku_id", {"title": UNKNOWN, "category": UNKNOWN, "top_category": UNKNOWN,
                               "brand": "", "status": "unknown"}),
    "dim_customer": ("customer_id", {"province": "", "city": "", "gender": "unknown",
                                     "age_band": "", "acquisition_channel": "", "tier": ""}),
    "dim_campaign": ("campaign_id", {"name": UNKNOWN, "kind": "unknown"}),
    "dim_channel": ("channel", {"name_zh": UNKNOWN, "name_en": "unknown", "kind": "unknown"}),
}  # fmt: skip
