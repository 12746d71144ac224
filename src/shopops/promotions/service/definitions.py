"""Promotion definitions: create, edit, activate, pause, end; and their engine form."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.catalog import service as catalog
from shopops.db import now
from shopops.errors import NotFound
from shopops.events import emit
from shopops.promotions import events
from shopops.promotions.errors import (
    CodeTaken,
    InvalidPromotion,
    PromotionNotEditable,
    PromotionNotFound,
    PromotionTransitionRefused,
)
from shopops.promotions.models import PromotionDef, PromotionStatus
from shopops.promotions.rules import (
    Conditions,
    DiscountClass,
    ItemFilter,
    Limits,
    Problem,
    Promotion,
    PromotionKind,
    filter_from_dict,
    filter_to_dict,
    normalize_code,
    params_from_dict,
    params_to_dict,
    validate_promotion,
)
from shopops.promotions.schemas import ConditionsIn, PromotionCreate, PromotionUpdate

S = PromotionStatus
# Which status each operator action moves a promotion to, from where.
MOVES: dict[str, tuple[frozenset[str], PromotionStatus]] = {
    "activate": (frozenset({S.DRAFT, S.PAUSED}), S.ACTIVE),
    "pause": (frozenset({S.ACTIVE}), S.PAUSED),
    "end": (frozenset({S.DRAFT, S.ACTIVE, S.PAUSED}), S.ENDED),
}
EDITABLE = frozenset({S.DRAFT, S.PAUSED})
_FILTER_KINDS = ("sku_ids", "product_ids", "category_ids", "brand_ids")


def _problem(field: str, code: str, message: str) -> Problem:
    return Problem(field, code, message, message)


def conditions_from_json(data: Mapping[str, Any], row: PromotionDef) -> Conditions:
    return Conditions(
        items=filter_from_dict(dict(data.get("items") or {})),
        min_spend=int(data.get("min_spend", 0)),
        min_quantity=int(data.get("min_quantity", 0)),
        customer_tiers=frozenset(data.get("customer_tiers", ())),
        customer_segments=frozenset(data.get("customer_segments", ())),
        new_customers_only=bool(data.get("new_customers_only", False)),
        birthday_month=bool(data.get("birthday_month", False)),
        channels=frozenset(data.get("channels", ())),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        weekdays=frozenset(int(d) for d in data.get("weekdays", ())),
        hours=frozenset(int(h) for h in data.get("hours", ())),
    )


def limits_of(row: PromotionDef) -> Limits:
    return Limits(
        total_uses=row.total_uses,
        per_customer=row.per_customer,
        max_units_per_order=row.max_units_per_order,
        budget_amount=row.budget_amount,
        budget_count=row.budget_count,
    )


def to_engine(row: PromotionDef) -> Promotion:
    """The engine's view of a stored definition (usage left at zero: the caller adds it).
    Raises ValueError when the stored JSON does not decode (the API refuses it first)."""
    kind = PromotionKind(row.kind)
    return Promotion(
        id=row.id,
        name=row.name,
        kind=kind,
        params=params_from_dict(kind, dict(row.params)),
        klass=DiscountClass(row.klass),
        conditions=conditions_from_json(row.conditions, row),
        combines_with=frozenset(DiscountClass(c) for c in row.combines_with),
        priority=row.priority,
        exclusive=row.exclusive,
        code=row.code,
        campaign_id=row.campaign_id,
        limits=limits_of(row),
    )


def expand_categories(p: Promotion, children: Mapping[int, Sequence[int]]) -> Promotion:
    """Category filters also cover every descendant category (cart lines carry one category)."""

    def down(ids: frozenset[int]) -> frozenset[int]:
        out, stack = set(ids), list(ids)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in out:
                    out.add(child)
                    stack.append(child)
        return frozenset(out)

    def fix(f: ItemFilter) -> ItemFilter:
        if not (f.category_ids or f.exclude_category_ids):
            return f
        return dataclasses.replace(
            f, category_ids=down(f.category_ids), exclude_category_ids=down(f.exclude_category_ids)
        )

    items = fix(p.conditions.items)
    params = p.params
    get_items = getattr(params, "get_items", None)
    if get_items is not None:
        params = dataclasses.replace(params, get_items=fix(get_items))  # type: ignore[type-var]
    if items is p.conditions.items and params is p.params:
        return p
    return dataclasses.replace(
        p, conditions=dataclasses.replace(p.conditions, items=items), params=params
    )


def _filters(p: Promotion) -> Iterable[ItemFilter]:
    yield p.conditions.items
    get_items = getattr(p.params, "get_items", None)
    if get_items is not None:
        yield get_items


def _known_ids(session: Session, p: Promotion) -> dict[str, set[int]]:
    """Which of the ids the filters name exist (only the kinds that are named)."""
    wanted: dict[str, set[int]] = {k: set() for k in _FILTER_KINDS}
    for f in _filters(p):
        for kind in _FILTER_KINDS:
            wanted[kind] |= getattr(f, kind) | getattr(f, "exclude_" + kind)
    gift = getattr(p.params, "sku_id", None)
    if gift is not None and p.kind is PromotionKind.GIFT:
        wanted["sku_ids"].add(gift)
    prices = getattr(p.params, "prices", None)
    if prices:
        wanted["sku_ids"] |= set(prices)
    known: dict[str, set[int]] = {}
    if wanted["sku_ids"]:
        known["sku_ids"] = set(catalog.get_sellable_skus(session, sku_ids=list(wanted["sku_ids"])))
    if wanted["category_ids"]:
        known["category_ids"] = {c.id for c in catalog.list_categories(session)}
    if wanted["brand_ids"]:
        known["brand_ids"] = {b.id for b in catalog.list_brands(session)}
    if wanted["product_ids"]:
        found = set()
        for pid in sorted(wanted["product_ids"]):
            try:
                catalog.get_product(session, product_id=pid)
                found.add(pid)
            except NotFound:
                pass
        known["product_ids"] = found
    return known


def check_definition(session: Session, row: PromotionDef) -> Promotion:
    """The engine form of `row`, or 422 `invalid_promotion` listing every problem."""
    problems: list[Problem] = []
    try:
        kind = PromotionKind(row.kind)
    except ValueError:
        kinds = ", ".join(k.value for k in PromotionKind)
        problems.append(_problem("kind", "unknown_kind", f"kind must be one of {kinds}"))
        raise InvalidPromotion(
            "the promotion definition is invalid", details=_details(problems)
        ) from None
    try:
        DiscountClass(row.klass)
        [DiscountClass(c) for c in row.combines_with]
    except ValueError:
        problems.append(
            _problem("klass", "unknown_class", "classes are product, order or shipping")
        )
    try:
        params_from_dict(kind, dict(row.params))
    except (ValueError, TypeError) as exc:
        problems.append(_problem("params", "bad_params", str(exc)))
    try:
        filter_from_dict(dict(row.conditions.get("items") or {}))
    except (ValueError, TypeError) as exc:
        problems.append(_problem("conditions.items", "bad_filter", str(exc)))
    if problems:
        raise InvalidPromotion("the promotion definition is invalid", details=_details(problems))
    p = to_engine(row)
    if row.requires_coupon and row.code is not None:
        problems.append(
            _problem("code", "code_and_coupons", "a shared code or issued coupons, not both")
        )
    if row.campaign_phase and row.campaign_id is None:
        problems.append(_problem("campaign_phase", "no_campaign", "a phase needs a campaign"))
    known = _known_ids(session, p)
    problems += validate_promotion(
        p,
        known_sku_ids=known.get("sku_ids"),
        known_category_ids=known.get("category_ids"),
        known_brand_ids=known.get("brand_ids"),
        known_product_ids=known.get("product_ids"),
    )
    if problems:
        raise InvalidPromotion(
            "; ".join(pr.message for pr in problems[:3]), details=_details(problems)
        )
    return p


def _details(problems: Sequence[Problem]) -> dict[str, Any]:
    return {"problems": [dataclasses.asdict(pr) for pr in problems]}


def _conditions_json(c: ConditionsIn) -> dict[str, Any]:
    data = c.model_dump()
    # Kept as given when it does not decode: check_definition names the problem.
    with contextlib.suppress(ValueError, TypeError):
        data["items"] = filter_to_dict(filter_from_dict(data["items"]))
    return data


def _check_code_free(session: Session, code: str | None, exclude_id: int | None = None) -> None:
    if code is None:
        return
    row = session.scalar(select(PromotionDef.id).where(PromotionDef.code == code))
    if row is not None and row != exclude_id:
        raise CodeTaken("another promotion uses this code", details={"code": code})


def create_promotion(session: Session, *, spec: PromotionCreate) -> PromotionDef:
    """Store a draft promotion after validating it (422 `invalid_promotion` with every
    problem: percentages over 100%, discounts above thresholds, windows, unknown ids…)."""
    kind_classes = {k.value for k in PromotionKind}
    klass = spec.klass
    if klass is None and spec.kind in kind_classes:
        from shopops.promotions.rules import KIND_CLASSES

        klass = KIND_CLASSES[PromotionKind(spec.kind)][0].value
    code = normalize_code(spec.code) if spec.code else None
    lim = spec.limits
    row = PromotionDef(
        name=spec.name.strip(),
        description=spec.description,
        kind=spec.kind,
        klass=klass or "",
        params=_normal_params(spec.kind, spec.params),
        conditions=_conditions_json(spec.conditions),
        combines_with=sorted(set(spec.combines_with)),
        priority=spec.priority,
        exclusive=spec.exclusive,
        status=S.DRAFT,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        code=code,
        requires_coupon=spec.requires_coupon,
        total_uses=lim.total_uses,
        per_customer=lim.per_customer,
        max_units_per_order=lim.max_units_per_order,
        budget_amount=lim.budget_amount,
        budget_count=lim.budget_count,
        used_count=0,
        spent_amount=0,
        campaign_phase="",
        revision=uuid.uuid4().hex,
        created_at=now(session),
        updated_at=now(session),
    )
    _check_tz(spec.starts_at, spec.ends_at)
    check_definition(session, row)
    _check_code_free(session, code)
    session.add(row)
    session.flush()
    emit(
        session,
        events.PROMOTION_CREATED,
        aggregate_type="promotion",
        aggregate_id=row.id,
        payload=events.promotion(row, params=row.params, conditions=row.conditions),
    )
    return row


def _check_tz(*values: Any) -> None:
    for v in values:
        if v is not None and v.tzinfo is None:
            raise InvalidPromotion(
                "times need a time zone",
                details={"problems": [dataclasses.asdict(_problem("starts_at", "naive", "tz"))]},
            )


def _normal_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The codec's canonical JSON when the parameters decode; as given otherwise (refused)."""
    try:
        return params_to_dict(params_from_dict(PromotionKind(kind), dict(params)))
    except (ValueError, TypeError):
        return dict(params)


def get_promotion(session: Session, *, promotion_id: int, for_update: bool = False) -> PromotionDef:
    stmt = select(PromotionDef).where(PromotionDef.id == promotion_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise PromotionNotFound(
            f"no promotion {promotion_id}", details={"promotion_id": promotion_id}
        )
    return row


def list_promotions(
    session: Session, *, status: str | None = None, campaign_id: int | None = None
) -> list[PromotionDef]:
    stmt = select(PromotionDef).order_by(PromotionDef.id)
    if status:
        stmt = stmt.where(PromotionDef.status == status)
    if campaign_id is not None:
        stmt = stmt.where(PromotionDef.campaign_id == campaign_id)
    return list(session.scalars(stmt))


def update_promotion(
    session: Session, *, promotion_id: int, changes: PromotionUpdate
) -> PromotionDef:
    """Edit a draft or paused promotion; the edited definition is validated again."""
    row = get_promotion(session, promotion_id=promotion_id, for_update=True)
    if row.status not in EDITABLE:
        raise PromotionNotEditable(
            f"a {row.status} promotion cannot be edited; pause it first",
            details={"promotion_id": row.id, "status": row.status},
        )
    values = changes.model_dump(exclude_unset=True)
    if "params" in values:
        row.params = _normal_params(row.kind, values.pop("params"))
    if "conditions" in values:
        assert changes.conditions is not None
        row.conditions = _conditions_json(changes.conditions)
        values.pop("conditions")
    limits_changed = "limits" in values
    if limits_changed:
        for name, value in values.pop("limits").items():
            setattr(row, name, value)
    if "combines_with" in values:
        row.combines_with = sorted(set(values.pop("combines_with")))
    for name, value in values.items():
        setattr(row, name, value)
    _check_tz(row.starts_at, row.ends_at)
    check_definition(session, row)
    row.revision = uuid.uuid4().hex
    row.updated_at = now(session)
    session.flush()
    if limits_changed:
        from shopops.promotions.service.ledger import resync_counters

        resync_counters(session, promotion_id=row.id)
        session.flush()
    return row


def change_status(session: Session, *, promotion_id: int, action: str) -> PromotionDef:
    """activate (validated again), pause or end; 409 `promotion_transition_refused` otherwise."""
    if action not in MOVES:
        raise PromotionTransitionRefused(f"unknown action {action!r}", details={"action": action})
    row = get_promotion(session, promotion_id=promotion_id, for_update=True)
    sources, target = MOVES[action]
    if row.status not in sources:
        raise PromotionTransitionRefused(
            f"cannot {action} a {row.status} promotion",
            details={"promotion_id": row.id, "status": row.status, "action": action},
        )
    if target is S.ACTIVE:
        check_definition(session, row)
    previous = row.status
    row.status = target
    row.revision = uuid.uuid4().hex
    row.updated_at = now(session)
    session.flush()
    emit(
        session,
        events.PROMOTION_STATUS_CHANGED,
        aggregate_type="promotion",
        aggregate_id=row.id,
        payload=events.promotion(row, previous_status=previous),
    )
    return row
