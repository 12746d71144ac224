"""Helpers of the store-level promotion tests: definitions, coupons and orders in one call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine

from shopops.db import session_scope
from shopops.orders import service as orders
from shopops.promotions import service
from shopops.promotions.schemas import PromotionCreate, TemplateCreate

ORDER, PRODUCT, SHIPPING = "order", "product", "shipping"


def make_promotion(engine: Engine, *, activate: bool = True, **fields: Any) -> int:
    """A stored promotion (active unless told), built from `PromotionCreate` fields."""
    fields.setdefault("name", "promo")
    with session_scope(engine) as s:
        row = service.create_promotion(s, spec=PromotionCreate(**fields))
        if activate:
            service.change_status(s, promotion_id=row.id, action="activate")
        return row.id


def make_template(engine: Engine, promotion_id: int, **fields: Any) -> int:
    fields.setdefault("name", "券")
    with session_scope(engine) as s:
        return service.create_template(
            s, spec=TemplateCreate(promotion_id=promotion_id, **fields)
        ).id


def coupon_for(engine: Engine, template_id: int, customer_id: int) -> str:
    with session_scope(engine) as s:
        return service.issue_coupon(
            s, template_id=template_id, customer_id=customer_id, reason="test"
        ).code


def coupon_promotion(engine: Engine, **fields: Any) -> tuple[int, int]:
    """(promotion id, template id) of an active coupon-only promotion."""
    fields.setdefault("requires_coupon", True)
    pid = make_promotion(engine, **fields)
    return pid, make_template(engine, pid, per_customer=fields.pop("per_customer", 5))


def place(engine: Engine, customer_id: int, lines: list[tuple[int, int]], *codes: str) -> Any:
    with session_scope(engine) as s:
        return orders.place_order(s, customer_id=customer_id, lines=lines, coupon_codes=codes)


def ledger(engine: Engine) -> list[str]:
    with session_scope(engine, readonly=True) as s:
        return service.ledger_problems(s)


def spend_save(threshold: int, amount: int, **fields: Any) -> dict[str, Any]:
    return {"kind": "spend_save", "params": {"tiers": [[threshold, amount]]}, **fields}


def percent(bp: int, **fields: Any) -> dict[str, Any]:
    return {"kind": "percent_off", "params": {"percent_bp": bp}, **fields}


UTC = dt.UTC
