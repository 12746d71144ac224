"""Helpers of the bulk-checkout tests: a store built the same way twice (same names, codes and
stock), and a dump of every table and the run's outbox events with order ids and numbers
replaced by the order's place in the run (so two runs that number rows differently compare)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select, update
from tests import factories as f

from shopops.db import Base, session_scope, utcnow
from shopops.events import OutboxEvent
from shopops.members.service import adjust_points
from shopops.promotions import service as promotions
from shopops.promotions.models import Coupon
from shopops.promotions.schemas import LimitsIn, PromotionCreate, TemplateCreate


@dataclass
class BulkShop:
    skus: dict[str, int]  # A, B, C (listed), X (delisted)
    customers: dict[str, int]  # c1, c2, c3 (addresses), bare (no address)
    coupons: dict[str, str]  # name → code
    base: dt.datetime


def build_bulk_shop(engine: Engine, base: dt.datetime | None = None) -> BulkShop:
    """Two warehouses; A: 3 + 2 units (priority order), B: 6, C: 1; an automatic spend ¥50
    save ¥5 (once a customer, 2 uses); a 10 % coupon promotion (10 uses) with two coupons of c3
    and one each of c1 and c2; 1,000 points for c1."""
    f._seq = itertools.count(1)  # the same names and codes in every store built
    promotions.clear_cache()
    with session_scope(engine) as s:
        w1 = f.warehouse(s, code="W1", priority=1)
        w2 = f.warehouse(s, code="W2", priority=2)
        a = f.product(s, price=3000, cost=1800, stock=3, wh=w1, skus=1)
        f.receive(s, a.skus[0], w2, 2)
        b = f.product(s, price=2000, cost=1000, stock=6, wh=w1)
        c = f.product(s, price=9900, cost=5000, stock=1, wh=w2)
        x = f.product(s, status="delisted", stock=5, wh=w1)
        c1, c2, c3 = f.customer(s), f.customer(s), f.customer(s)
        bare = f.Customer(name="无地址", phone="13900000001")
        s.add(bare)
        s.flush()
        adjust_points(s, customer_id=c1.id, amount=1000, reason="test", ref="seed")
        auto = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="满50减5",
                kind="spend_save",
                params={"tiers": [[5000, 500]]},
                limits=LimitsIn(per_customer=1, total_uses=2),
            ),
        )
        promotions.change_status(s, promotion_id=auto.id, action="activate")
        coupon_promo = promotions.create_promotion(
            s,
            spec=PromotionCreate(
                name="九折券",
                kind="percent_off",
                params={"percent_bp": 1000},
                requires_coupon=True,
                limits=LimitsIn(budget_count=10),
            ),
        )
        promotions.change_status(s, promotion_id=coupon_promo.id, action="activate")
        template = promotions.create_template(
            s, spec=TemplateCreate(promotion_id=coupon_promo.id, name="券", per_customer=5)
        )
        codes: dict[str, str] = {}
        for name, cust in (("c3a", c3), ("c3b", c3), ("c1a", c1), ("c2a", c2)):
            coupon = promotions.issue_coupon(
                s, template_id=template.id, customer_id=cust.id, reason="test"
            )
            codes[name] = f"BULK{name.upper()}"
            s.execute(update(Coupon).where(Coupon.id == coupon.id).values(code=codes[name]))
        return BulkShop(
            skus={"A": a.skus[0].id, "B": b.skus[0].id, "C": c.skus[0].id, "X": x.skus[0].id},
            customers={"c1": c1.id, "c2": c2.id, "c3": c3.id, "bare": bare.id},
            coupons=codes,
            base=base or utcnow() + dt.timedelta(minutes=1),
        )


def last_seq(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as s:
        return int(s.scalar(select(func.max(OutboxEvent.seq))) or 0)


Normalizer = Callable[[Any], Any]


def _walk(value: Any, fix: Callable[[str, Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(fix(k, v), fix) for k, v in sorted(value.items()) if k != "line_id"}
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    return value


_UUID = re.compile(r"^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def dump(
    engine: Engine, orders: list[int], numbers: list[str], since_seq: int, base: dt.datetime
) -> dict[str, Any]:
    """Every table's rows (without surrogate ids, sorted) and the events after `since_seq`,
    with order ids → ("order", position) and order numbers → ("number", position). Times
    outside the run's day (the store's build, far expiries) become "<build time>"."""
    pos = {oid: i for i, oid in enumerate(orders)}
    num = {n: i for i, n in enumerate(numbers)}

    def when(v: Any) -> Any:
        t = v
        if isinstance(v, str) and _ISO.match(v):
            t = dt.datetime.fromisoformat(v)
        if isinstance(t, dt.datetime):
            t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
            if not base <= t <= base + dt.timedelta(days=1):
                return "<build time>"
        return v

    def order_ref(v: Any) -> Any:
        try:
            return ("order", pos[int(v)]) if v is not None else None
        except (ValueError, KeyError):
            return v

    def text(v: Any) -> Any:
        v = when(v)
        if isinstance(v, str) and _UUID.match(v):
            return "<uuid>"
        if isinstance(v, str):
            for n, i in num.items():
                v = v.replace(n, f"<number {i}>")
            for oid, i in pos.items():
                v = v.replace(f"order:{oid}", f"order:<{i}>")
        return v

    def fix(key: str, v: Any) -> Any:
        if key in ("order_id",):
            return order_ref(v)
        if key == "number":
            return ("number", num.get(v, v))
        return text(v)

    out: dict[str, Any] = {}
    with session_scope(engine, readonly=True) as s:
        for table in Base.metadata.sorted_tables:
            if table.name == "outbox_event":
                continue
            rows = []
            for r in s.execute(select(table)).mappings():
                row = dict(r)
                if table.name == "order":
                    row["order_id"] = row.pop("id")
                else:
                    row.pop("id", None)
                if row.get("ref_type") == "order":
                    row["ref_id"] = order_ref(row["ref_id"])
                rows.append(repr(_walk(row, fix)))
            out[table.name] = sorted(rows)
        evs = []
        for e in s.scalars(select(OutboxEvent).where(OutboxEvent.seq > since_seq)):
            agg = order_ref(e.aggregate_id) if e.aggregate_type == "order" else e.aggregate_id
            payload = dict(e.payload)
            if payload.get("ref_type") == "order":
                payload["ref_id"] = order_ref(payload["ref_id"])
            at = when(e.occurred_at)
            evs.append(repr((e.name, e.aggregate_type, agg, at, _walk(payload, fix))))
        out["events"] = sorted(evs)
    return out
