"""The checkout side of promotions: the discount hook (prices, writes nothing); the order
hook that claims what it granted is in `claims`.

Statement cost of one checkout: the discount hook reads active promotions' counters, presented
coupons and the customer's per-promotion usage in ONE statement (definitions come from a
per-process cache keyed by each promotion's revision token), plus the customer's profile only
when an active promotion has customer conditions (none with members.customer_profile, which
reads the loaded customer). The claim costs one UPDATE for the counters of limited promotions,
one for the presented coupons, one upsert for per-customer counters, one UPDATE for campaign
budgets (each only when needed) and one INSERT of the redemptions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.errors import ShopOpsError
from shopops.orders.pricing import AppliedDiscount, CartSnapshot, CheckoutPolicy, Offers
from shopops.orders.rules import shipping_fee
from shopops.promotions.errors import (
    CouponConditionsNotMet,
    CouponExhausted,
    CouponExpired,
    CouponNotCombinable,
    CouponNotYetValid,
    CouponNotYours,
    CouponUnknown,
)
from shopops.promotions.models import (
    CouponStatus,
    PromotionDef,
)
from shopops.promotions.rules import (
    Cart,
    CartLine,
    CustomerContext,
    Evaluation,
    EvaluationContext,
    Limits,
    Promotion,
    PromotionKind,
    Rejection,
    Usage,
    evaluate,
    normalize_code,
)
from shopops.promotions.service import definitions, profile
from shopops.promotions.service.checkout_state import CouponRow, State, read_state

SUSPENDED: ContextVar[bool] = ContextVar("promotions_suspended", default=False)

SOURCE_PROMOTION = "promotion"
SOURCE_COUPON = "coupon"
GRANTS_KEY = "promotions.grants"  # session.info key: what the discount hook granted, for the claim


@contextmanager
def suspended() -> Iterator[None]:
    """Promotions stay out of checkouts inside the block (this thread/task only)."""
    token = SUSPENDED.set(True)
    try:
        yield
    finally:
        SUSPENDED.reset(token)


# --- the per-process cache of definitions ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Def:
    promo: Promotion  # engine form, usage zero, categories expanded to descendants
    requires_coupon: bool
    phase: str
    customer_bound: bool  # needs the customer's tier, tags, first-order flag or birthday
    # The engine form at each usage snapshot seen: (uses, customer uses, spent) → promotion.
    # `replace` re-derives the promotion's fields, and most checkouts see the same counters.
    at_usage: dict[tuple[int, int, int], Promotion] = dataclasses.field(
        default_factory=dict, compare=False
    )


_AT_USAGE_MAX = 256


def _at_usage(d: _Def, uses: int, customer_uses: int, spent: int) -> Promotion:
    """`d.promo` with this usage snapshot (the same object for the same snapshot)."""
    key = (uses, customer_uses, spent)
    p = d.at_usage.get(key)
    if p is None:
        if len(d.at_usage) >= _AT_USAGE_MAX:
            d.at_usage.clear()
        usage = Usage(uses=uses, customer_uses=customer_uses, spent=spent)
        p = d.at_usage[key] = dataclasses.replace(d.promo, usage=usage)
    return p


_CACHE: dict[tuple[int, str], _Def] = {}
_CACHE_MAX = 4096


def clear_cache() -> None:
    _CACHE.clear()


def _customer_bound(p: Promotion) -> bool:
    c = p.conditions
    return bool(
        c.customer_tiers
        or c.customer_segments
        or c.new_customers_only
        or c.birthday_month
        or p.kind is PromotionKind.FIRST_ORDER
    )


def _load_defs(session: Session, keys: Sequence[tuple[int, str]]) -> None:
    """Fill the cache for `keys` (one SELECT, plus the category tree when filters need it)."""
    rows = list(
        session.scalars(select(PromotionDef).where(PromotionDef.id.in_([k[0] for k in keys])))
    )
    promos = {r.id: (r, definitions.to_engine(r)) for r in rows}
    children: dict[int, list[int]] | None = None
    if len(_CACHE) + len(rows) > _CACHE_MAX:
        _CACHE.clear()
    for row, p in promos.values():
        if _has_categories(p):
            if children is None:
                children = profile.category_children(session)
            p = definitions.expand_categories(p, children)
        _CACHE[(row.id, row.revision)] = _Def(
            p, row.requires_coupon, row.campaign_phase, _customer_bound(p)
        )


def _has_categories(p: Promotion) -> bool:
    f = p.conditions.items
    g = getattr(p.params, "get_items", None)
    return bool(f.category_ids or f.exclude_category_ids) or bool(
        g is not None and (g.category_ids or g.exclude_category_ids)
    )


# --- the discount hook -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grant:
    """One applied promotion as priced, remembered for the order hook's claim."""

    reference: str
    promotion_id: int
    coupon_id: int | None
    code: str
    kind: str
    campaign_id: int | None
    phase: str
    amount: int
    shipping_amount: int
    cashback: int
    gifts: tuple[dict[str, int], ...]
    line_amounts: Mapping[int, int]  # sku_id → fen
    per_customer: int | None
    charged: int
    counted: bool  # has total uses or a budget: its counters move with every claim


def _refuse(rej: Rejection, details: dict[str, Any]) -> ShopOpsError:
    reason = rej.reason
    message = f"coupon {rej.code}: {rej.message_en} ({rej.message_zh})"
    d = {"code": rej.code, "reason": reason, **details}
    if reason == "unknown_code":
        return CouponUnknown(message, details=d)
    if reason == "expired":
        return CouponExpired(message, details=d)
    if reason == "not_started":
        return CouponNotYetValid(message, details=d)
    if reason in {
        "usage_limit_reached",
        "customer_limit_reached",
        "budget_exhausted",
        "campaign_budget_exhausted",
    }:
        return CouponExhausted(message, details=d)
    if reason in {"not_combinable", "exclusive_applied", "beaten_on_lines", "not_best"}:
        return CouponNotCombinable(message, details=d)
    return CouponConditionsNotMet(message, details={**d, "condition": reason})


def _check_coupon(
    code: str,
    found: CouponRow,
    *,
    customer_id: int,
    at: dt.datetime,
    active: bool,
) -> None:
    coupon_id, _pid, owner, status, valid_from, valid_until = found
    details = {"code": code, "coupon_id": coupon_id}
    if owner != customer_id:
        raise CouponNotYours("this coupon belongs to another customer", details=details)
    if status == CouponStatus.REDEEMED:
        raise CouponExhausted(
            "this coupon was already used", details={**details, "reason": "already_redeemed"}
        )
    if status == CouponStatus.VOID:
        raise CouponUnknown("this coupon was voided", details={**details, "reason": "void"})
    if status == CouponStatus.EXPIRED or (valid_until is not None and at >= valid_until):
        raise CouponExpired(
            "this coupon has expired",
            details={**details, "reason": "expired", "valid_until": _iso(valid_until)},
        )
    if at < valid_from:
        raise CouponNotYetValid(
            "this coupon is not valid yet",
            details={**details, "reason": "not_started", "valid_from": _iso(valid_from)},
        )
    if not active:
        raise CouponExpired(
            "the promotion of this coupon is not running",
            details={**details, "reason": "promotion_inactive"},
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def price_promotions(
    session: Session,
    snapshot: CartSnapshot,
    customer: Any,
    offers: Offers,
    earlier: Sequence[AppliedDiscount] = (),
    *,
    policy: CheckoutPolicy | None = None,
) -> list[AppliedDiscount]:
    """The discount hook: the best permitted promotions and presented coupons for this cart.

    Writes nothing. A presented coupon that does not apply raises its 4xx (coupon_unknown,
    coupon_expired, coupon_exhausted, coupon_not_yours, coupon_not_combinable,
    coupon_conditions_not_met with the failed condition).
    """
    if session is None or SUSPENDED.get():  # no store (pricing unit tests) or suspended
        return []
    session.info.pop(GRANTS_KEY, None)
    codes = sorted({normalize_code(c) for c in offers.coupon_codes})
    state = read_state(session, customer_id=snapshot.customer_id, codes=codes)
    return price_with_state(session, snapshot, customer, codes, state, policy=policy)


def price_with_state(
    session: Session,
    snapshot: CartSnapshot,
    customer: Any,
    codes: Sequence[str],
    state: State,
    *,
    policy: CheckoutPolicy | None = None,
) -> list[AppliedDiscount]:
    """`price_promotions` on a state already read (normalised `codes`): the rules of the hook,
    shared by the single checkout and the batch (`checkout_batch`)."""
    policy = policy or CheckoutPolicy()
    at = now(session)
    missing = [k for k in state.promos.items() if (k[0], k[1][0]) not in _CACHE]
    if missing:
        _load_defs(session, [(pid, v[0]) for pid, v in missing])
    engine_promos: list[Promotion] = []
    meta: dict[int, tuple[_Def, int | None, str]] = {}  # engine id → (def, coupon id, code)
    needs_customer = False
    shared_codes: set[str] = set()
    for pid, (rev, used, spent, _camp) in state.promos.items():
        d = _CACHE[(pid, rev)]
        if d.requires_coupon or _off_hours(d.promo, at):
            continue
        engine_promos.append(_at_usage(d, used, state.customer_uses.get(pid, 0), spent))
        meta[pid] = (d, None, d.promo.code or "")
        needs_customer = needs_customer or d.customer_bound
        if d.promo.code_key:
            shared_codes.add(d.promo.code_key)
    for code in codes:
        if code in shared_codes:
            continue
        found = state.coupons.get(code)
        if found is None:
            raise CouponUnknown(
                f"no coupon or promotion has the code {code}", details={"code": code}
            )
        pid = found[1]
        active = pid in state.promos
        _check_coupon(code, found, customer_id=snapshot.customer_id, at=at, active=active)
        rev, used, spent, _camp = state.promos[pid]
        d = _CACHE[(pid, rev)]
        usage = Usage(uses=used, customer_uses=state.customer_uses.get(pid, 0), spent=spent)
        conditions = d.promo.conditions
        if found[5] is not None and (conditions.ends_at is None or found[5] < conditions.ends_at):
            conditions = dataclasses.replace(conditions, ends_at=found[5])
        engine_id = -found[0]  # coupons never collide with promotion ids
        engine_promos.append(
            dataclasses.replace(
                d.promo, id=engine_id, code=code, usage=usage, conditions=conditions
            )
        )
        meta[engine_id] = (d, found[0], code)
        needs_customer = needs_customer or d.customer_bound
    if not engine_promos or (not codes and _out_of_reach(snapshot, engine_promos)):
        return []
    ctx = (
        profile.customer_context(session, customer)
        if needs_customer
        else CustomerContext(customer_id=snapshot.customer_id)
    )
    cart = Cart(
        lines=tuple(
            CartLine(
                sku_id=item.sku_id,
                product_id=item.product_id,
                unit_price=item.unit_price,
                quantity=item.quantity,
                category_ids=frozenset({item.category_id}),
                brand_id=item.brand_id,
            )
            for item in snapshot.items
        ),
        shipping_fee=policy.base_shipping_fee,
        codes=frozenset(codes),
    )
    result = evaluate(
        cart,
        engine_promos,
        customer=ctx,
        context=EvaluationContext(now=at, channel=snapshot.channel),
        campaigns=state.campaigns,
    )
    if result.rejected:
        first = sorted(result.rejected, key=lambda r: r.code or "")[0]
        raise _refuse(first, {})
    return _grants(session, snapshot, result, meta, policy)


def _off_hours(p: Promotion, at: dt.datetime) -> bool:
    """Whether an automatic promotion (no code) is outside its dates now: the engine's gate
    would drop it without a word (no refusal, no hint), so leaving it out prices the same;
    an ended one (a past member day) then neither keeps the engine running nor reads the
    customer's profile."""
    if p.code is not None:
        return False  # a presented code gets its refusal from the engine
    c = p.conditions
    return (c.starts_at is not None and at < c.starts_at) or (
        c.ends_at is not None and at >= c.ends_at
    )


def _out_of_reach(snapshot: CartSnapshot, promos: Sequence[Promotion]) -> bool:
    """Whether no promotion can apply because the whole cart is below each one's minimum
    spend or units (the engine would find no candidate: with no code presented, it returns
    nothing applied and nothing rejected). The engine's own input checks must hold too."""
    units = spend = 0
    for item in snapshot.items:
        if item.quantity <= 0 or item.unit_price < 0:
            return False  # the engine's ValueError, not a shortcut
        units += item.quantity
        spend += item.unit_price * item.quantity
    return all(spend < p.minimums[0] or units < p.minimums[1] for p in promos)


def _grants(
    session: Session,
    snapshot: CartSnapshot,
    result: Evaluation,
    meta: Mapping[int, tuple[_Def, int | None, str]],
    policy: CheckoutPolicy,
) -> list[AppliedDiscount]:
    # The fee the order would pay without a waiver: shipping is priced after discounts.
    fee = shipping_fee(
        result.items_total,
        free_threshold=policy.free_shipping_threshold,
        base_fee=policy.base_shipping_fee,
    )
    skus = [item.sku_id for item in snapshot.items]
    out: list[AppliedDiscount] = []
    grants: list[Grant] = []
    for a in result.applied:
        d, coupon_id, code = meta[a.promotion_id]
        pid = d.promo.id
        reference = code if coupon_id is not None or a.code else f"P{pid}"
        items_amount = 0 if a.free_shipping else a.amount
        shipping = min(fee, a.amount) if a.free_shipping else 0
        lines = {skus[i]: v for i, v in a.line_amounts.items() if v} if not a.free_shipping else {}
        gifts = tuple(
            {"sku_id": g.sku_id, "quantity": g.quantity, "unit_value": g.unit_value}
            for g in a.gifts
        )
        charged = (
            items_amount + shipping + a.cashback + sum(g.quantity * g.unit_value for g in a.gifts)
        )
        grants.append(
            Grant(
                reference=reference,
                promotion_id=pid,
                coupon_id=coupon_id,
                code=code if (coupon_id is not None or a.code) else "",
                kind=a.kind.value,
                campaign_id=a.campaign_id,
                phase=d.phase,
                amount=items_amount,
                shipping_amount=shipping,
                cashback=a.cashback,
                gifts=gifts,
                line_amounts=lines,
                per_customer=d.promo.limits.per_customer,
                charged=charged,
                counted=counted(d.promo.limits),
            )
        )
        out.append(
            AppliedDiscount(
                source=SOURCE_COUPON if coupon_id is not None or a.code else SOURCE_PROMOTION,
                reference=reference,
                description=a.explanation_zh[:200],
                amount=items_amount,
                line_amounts=lines,
                waives_shipping=a.free_shipping,
            )
        )
    session.info[GRANTS_KEY] = (snapshot.customer_id, tuple(grants))
    return out


def counted(lim: Limits) -> bool:
    """Whether a promotion keeps usage counters (uses and spend are claimed by UPDATE): those
    with a total, count or amount limit. Usage of the others is read from redemptions."""
    return (
        lim.total_uses is not None
        or lim.budget_count is not None
        or (lim.budget_amount is not None)
    )
