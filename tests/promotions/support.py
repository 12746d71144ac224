"""Small builders for promotion-engine tests: carts, customers, promotions, a fixed moment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from shopops.promotions.rules import (
    Cart,
    CartLine,
    Conditions,
    CustomerContext,
    DiscountClass,
    Evaluation,
    EvaluationContext,
    ItemFilter,
    Promotion,
    PromotionKind,
    evaluate,
    evaluate_combination,
)

UTC = dt.UTC
# 2026-11-11 12:00 in Shanghai (a Wednesday), 04:00 UTC.
NOW = dt.datetime(2026, 11, 11, 4, 0, tzinfo=UTC)
CONTEXT = EvaluationContext(now=NOW, channel="storefront")
GUEST = CustomerContext(customer_id=1)
PRODUCT, ORDER, SHIPPING = DiscountClass.PRODUCT, DiscountClass.ORDER, DiscountClass.SHIPPING
EVERYTHING = frozenset({PRODUCT, ORDER, SHIPPING})


def line(
    sku: int,
    price: int,
    qty: int = 1,
    *,
    cats: Iterable[int] = (),
    brand: int | None = None,
    product: int | None = None,
) -> CartLine:
    return CartLine(
        sku_id=sku,
        product_id=product if product is not None else sku,
        unit_price=price,
        quantity=qty,
        category_ids=frozenset(cats),
        brand_id=brand,
    )


def cart(*lines: CartLine, fee: int = 0, codes: Iterable[str] = ()) -> Cart:
    return Cart(lines=tuple(lines), shipping_fee=fee, codes=frozenset(codes))


def promo(
    pid: int,
    kind: PromotionKind,
    params: Any,
    *,
    name: str | None = None,
    klass: DiscountClass | None = None,
    combines: Iterable[DiscountClass] = (),
    items: ItemFilter | None = None,
    **kwargs: Any,
) -> Promotion:
    """A promotion; condition fields (min_spend, customer_tiers…) may be given directly."""
    cond_fields = set(Conditions.__dataclass_fields__)
    cond = {k: kwargs.pop(k) for k in list(kwargs) if k in cond_fields}
    if items is not None:
        cond["items"] = items
    return Promotion(
        id=pid,
        name=name or f"P{pid}",
        kind=kind,
        params=params,
        klass=klass,
        conditions=Conditions(**cond),
        combines_with=frozenset(combines),
        **kwargs,
    )


def run(
    c: Cart,
    promos: Iterable[Promotion],
    customer: CustomerContext = GUEST,
    context: EvaluationContext = CONTEXT,
    **kwargs: Any,
) -> Evaluation:
    return evaluate(c, list(promos), customer=customer, context=context, **kwargs)


def run_only(
    c: Cart,
    promos: Iterable[Promotion],
    ids: Iterable[int],
    customer: CustomerContext = GUEST,
    context: EvaluationContext = CONTEXT,
    **kwargs: Any,
) -> Evaluation:
    return evaluate_combination(
        c, list(promos), set(ids), customer=customer, context=context, **kwargs
    )


def applied(ev: Evaluation) -> dict[int, int]:
    """promotion id → amount deducted (or cashback / gift value when nothing is deducted)."""
    return {a.promotion_id: a.amount or a.cashback for a in ev.applied}


def rejected(ev: Evaluation) -> dict[int | None, str]:
    return {r.promotion_id: r.reason for r in ev.rejected}
