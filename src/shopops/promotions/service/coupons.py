"""Coupon templates, issuing (one, bulk, on events), claiming and the customer's wallet."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from shopops.db import DriverInsertMany, now
from shopops.events import OutboxEvent, emit, emit_many
from shopops.members import service as members
from shopops.promotions import events
from shopops.promotions.errors import (
    CouponNotClaimable,
    CouponTemplateNotFound,
    InvalidPromotion,
)
from shopops.promotions.models import (
    Coupon,
    CouponBatch,
    CouponStatus,
    CouponTemplate,
    PromotionDef,
    PromotionStatus,
)
from shopops.promotions.schemas import TemplateCreate
from shopops.promotions.service import profile
from shopops.promotions.service.definitions import get_promotion

# Codes avoid 0/O and 1/I so they can be read out over the phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 12
MATCH_FIELDS = frozenset({"region", "city", "acquisition_channel", "age_band", "gender", "q"})
MAX_BULK = 10_000


def _new_code() -> str:
    # One urandom read, not one a character; 32 letters make `& 31` exactly uniform.
    return "C" + "".join([_ALPHABET[b & 31] for b in secrets.token_bytes(_CODE_LENGTH - 1)])


def create_template(session: Session, *, spec: TemplateCreate) -> CouponTemplate:
    """A way to issue coupons of a promotion that `requires_coupon` (422 otherwise)."""
    promo = get_promotion(session, promotion_id=spec.promotion_id)
    if not promo.requires_coupon:
        raise InvalidPromotion(
            "coupons can be issued only for a promotion that requires a coupon",
            details={"promotion_id": promo.id, "problems": []},
        )
    if spec.valid_until is not None and spec.valid_until.tzinfo is None:
        raise InvalidPromotion("valid_until needs a time zone", details={"problems": []})
    row = CouponTemplate(**spec.model_dump(), issued_count=0, active=True, created_at=now(session))
    session.add(row)
    session.flush()
    return row


def get_template(session: Session, *, template_id: int) -> CouponTemplate:
    row = session.get(CouponTemplate, template_id)
    if row is None:
        raise CouponTemplateNotFound(
            f"no coupon template {template_id}", details={"template_id": template_id}
        )
    return row


def list_templates(session: Session, *, claimable: bool | None = None) -> list[CouponTemplate]:
    stmt = select(CouponTemplate).order_by(CouponTemplate.id)
    if claimable is not None:
        stmt = stmt.where(CouponTemplate.claimable == claimable, CouponTemplate.active.is_(True))
    return list(session.scalars(stmt))


def _valid_until(t: CouponTemplate, promo: PromotionDef, at: dt.datetime) -> dt.datetime | None:
    ends = [x for x in (t.valid_until, promo.ends_at) if x is not None]
    if t.valid_days is not None:
        ends.append(at + dt.timedelta(days=t.valid_days))
    return min(ends) if ends else None


# Built once (their shape never changes): each call only binds its values.
_ct = CouponTemplate
_TAKE_STOCK = (
    update(_ct)
    .where(
        _ct.id == bindparam("tid"),
        (_ct.issue_limit.is_(None)) | (_ct.issued_count + bindparam("n") <= _ct.issue_limit),
    )
    .values(issued_count=_ct.issued_count + bindparam("n"))
)
_ISSUED_FOR_UPDATE = select(_ct.issued_count).where(_ct.id == bindparam("tid")).with_for_update()
# By customer, every template: the customer index finds a few rows, where a filter on the
# template made SQLite walk all of that template's coupons (every customer's sign-up coupon).
_HELD = (
    select(Coupon.customer_id, Coupon.template_id, func.count())
    .where(Coupon.customer_id.in_(bindparam("cids", expanding=True)))
    .group_by(Coupon.customer_id, Coupon.template_id)
)
_TRIGGER_TEMPLATES = (
    select(CouponTemplate, PromotionDef)
    .join(PromotionDef, PromotionDef.id == CouponTemplate.promotion_id)
    .where(
        CouponTemplate.trigger == bindparam("trigger"),
        CouponTemplate.active.is_(True),
        PromotionDef.status.in_([PromotionStatus.ACTIVE, PromotionStatus.DRAFT]),
    )
    .order_by(CouponTemplate.id)
)
_coupons = cast(Any, Coupon.__table__)
_COUPON_COLUMNS = [
    "template_id",
    "promotion_id",
    "batch_id",
    "code",
    "customer_id",
    "status",
    "reason",
    "valid_from",
    "valid_until",
    "issued_at",
    "release_count",
]
# On the driver's cursor, SQL built once per row count: the ORM's insertmanyvalues path cost
# more than the INSERT itself for a window's sign-up coupons.
_INSERT_COUPONS = DriverInsertMany(_coupons, _COUPON_COLUMNS, ["code", "id"])
# 11 columns a row: well under both drivers' bind limits.
_COUPON_CHUNK = 500


def _take_stock(session: Session, t: CouponTemplate, n: int) -> None:
    """Count `n` more coupons issued, unless that passes the template's issue limit (409)."""
    res = session.execute(
        _TAKE_STOCK,
        {"tid": t.id, "n": n},
        execution_options={"synchronize_session": False},
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise CouponNotClaimable(
            "no coupons of this kind are left to issue",
            details={"template_id": t.id, "reason": "out_of_stock", "requested": n},
        )
    session.expire(t, ["issued_count"])


def _check_issuable(t: CouponTemplate, promo: PromotionDef) -> None:
    if promo.status in (PromotionStatus.ENDED,) or not t.active:
        raise CouponNotClaimable(
            "this coupon's promotion has ended or its template is disabled",
            details={"template_id": t.id, "reason": "inactive"},
        )


def _take_stock_upto(session: Session, t: CouponTemplate, n: int) -> int:
    """Take up to `n` from the template's stock; how many it had left to take."""
    if n and t.issue_limit is not None:
        issued = session.scalar(_ISSUED_FOR_UPDATE, {"tid": t.id})
        n = max(0, min(n, t.issue_limit - (issued or 0)))
    if n:
        _take_stock(session, t, n)
    return n


def _held(session: Session, template_id: int, customer_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(_HELD, {"cids": list(customer_ids)})
    return {cid: n for cid, tid, n in rows if tid == template_id}


def _issue_many(
    session: Session,
    t: CouponTemplate,
    customer_ids: Sequence[int],
    *,
    reason: str,
    batch: CouponBatch | None = None,
) -> list[Coupon]:
    promo = get_promotion(session, promotion_id=t.promotion_id)
    _check_issuable(t, promo)
    if not customer_ids:
        return []
    _take_stock(session, t, len(customer_ids))
    at = now(session)
    until = _valid_until(t, promo, at)
    coupons = [
        Coupon(
            template_id=t.id,
            promotion_id=t.promotion_id,
            batch_id=batch.id if batch is not None else None,
            code=_new_code(),
            customer_id=cid,
            status=CouponStatus.ISSUED,
            reason=reason[:100],
            valid_from=at,
            valid_until=until,
            issued_at=at,
            release_count=0,
        )
        for cid in customer_ids
    ]
    session.add_all(coupons)
    session.flush()
    for c in coupons:
        emit(
            session,
            events.COUPON_ISSUED,
            aggregate_type="coupon",
            aggregate_id=c.id,
            payload=events.coupon(c, campaign_id=promo.campaign_id),
            occurred_at=at,
        )
    return coupons


def issue_coupon(session: Session, *, template_id: int, customer_id: int, reason: str) -> Coupon:
    """Put one coupon of the template in the customer's wallet (emits `coupon.issued`).

    409 `coupon_not_claimable` when the template is out of stock, inactive, or the customer
    already holds `per_customer` coupons of it; 404 for an unknown customer or template.
    """
    t = get_template(session, template_id=template_id)
    members.get_customer(session, customer_id=customer_id)
    if _held(session, t.id, [customer_id]).get(customer_id, 0) >= t.per_customer:
        raise CouponNotClaimable(
            "you already hold this coupon",
            details={"template_id": t.id, "reason": "per_customer", "limit": t.per_customer},
        )
    return _issue_many(session, t, [customer_id], reason=reason)[0]


def claim_coupon(session: Session, *, template_id: int, customer_id: int) -> Coupon:
    """A shopper takes a public coupon (409 `coupon_not_claimable` for a private one)."""
    t = get_template(session, template_id=template_id)
    if not t.claimable:
        raise CouponNotClaimable(
            "this coupon cannot be claimed", details={"template_id": t.id, "reason": "private"}
        )
    return issue_coupon(session, template_id=template_id, customer_id=customer_id, reason="claimed")


def issue_bulk(
    session: Session,
    *,
    template_id: int,
    customer_ids: Sequence[int] = (),
    match: Mapping[str, str] | None = None,
    reason: str = "bulk",
) -> tuple[CouponBatch, int]:
    """Issue to a list of customers and/or to every customer matching simple attributes
    (region, city, acquisition_channel, age_band, gender, q); customers who already hold
    `per_customer` coupons of the template are skipped. Returns the batch and the skip count."""
    t = get_template(session, template_id=template_id)
    match = dict(match or {})
    unknown = set(match) - MATCH_FIELDS
    if unknown:
        raise InvalidPromotion(
            f"cannot match customers on {sorted(unknown)}",
            details={"problems": [], "match": sorted(unknown), "allowed": sorted(MATCH_FIELDS)},
        )
    wanted = list(dict.fromkeys(customer_ids))
    if match:
        found, _ = members.list_customers(session, **match, limit=MAX_BULK)
        wanted += [c.id for c in found if c.id not in set(wanted)]
    for cid in customer_ids:
        members.get_customer(session, customer_id=cid)
    if len(wanted) > MAX_BULK:
        raise InvalidPromotion(
            f"at most {MAX_BULK} customers per batch",
            details={"problems": [], "count": len(wanted)},
        )
    held = _held(session, t.id, wanted) if wanted else {}
    chosen = [cid for cid in wanted if held.get(cid, 0) < t.per_customer]
    batch = CouponBatch(
        template_id=t.id,
        reason=reason[:100],
        criteria={"customer_ids": len(customer_ids), "match": match},
        issued=len(chosen),
        created_at=now(session),
    )
    session.add(batch)
    session.flush()
    _issue_many(session, t, chosen, reason=reason, batch=batch)
    return batch, len(wanted) - len(chosen)


def wallet(
    session: Session, *, customer_id: int, include_used: bool = False
) -> list[tuple[Coupon, str, bool]]:
    """The customer's coupons, newest first, with their template's name and whether they can
    be used now (issued, inside the validity window, promotion running)."""
    at = now(session)
    stmt = (
        select(Coupon, CouponTemplate.name, PromotionDef.status)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .join(PromotionDef, PromotionDef.id == Coupon.promotion_id)
        .where(Coupon.customer_id == customer_id)
        .order_by(Coupon.id.desc())
    )
    if not include_used:
        stmt = stmt.where(Coupon.status == CouponStatus.ISSUED)
    out = []
    for coupon, name, status in session.execute(stmt):
        usable = (
            coupon.status == CouponStatus.ISSUED
            and coupon.valid_from <= at
            and (coupon.valid_until is None or at < coupon.valid_until)
            and status == PromotionStatus.ACTIVE
        )
        out.append((coupon, name, usable))
    return out


def expire_coupons(session: Session) -> int:
    """Mark issued coupons past their validity as expired (a timed job); how many."""
    res = session.execute(
        update(Coupon)
        .where(
            Coupon.status == CouponStatus.ISSUED,
            Coupon.valid_until.is_not(None),
            Coupon.valid_until <= now(session),
        )
        .values(status=CouponStatus.EXPIRED),
        execution_options={"synchronize_session": False},
    )
    return int(res.rowcount)  # type: ignore[attr-defined]


def _trigger_templates(session: Session, trigger: str) -> Sequence[CouponTemplate]:
    """The active templates an event issues from, in the order they issue."""
    return session.scalars(
        select(CouponTemplate)
        .join(PromotionDef, PromotionDef.id == CouponTemplate.promotion_id)
        .where(
            CouponTemplate.trigger == trigger,
            CouponTemplate.active.is_(True),
            PromotionDef.status.in_([PromotionStatus.ACTIVE, PromotionStatus.DRAFT]),
        )
        .order_by(CouponTemplate.id)
    ).all()


def _issue_on_trigger(session: Session, *, trigger: str, customer_id: int) -> list[Coupon]:
    templates = _trigger_templates(session, trigger)
    issued: list[Coupon] = []
    for t in templates:
        if _held(session, t.id, [customer_id]).get(customer_id, 0) >= t.per_customer:
            continue
        try:
            issued += _issue_many(session, t, [customer_id], reason=trigger)
        except CouponNotClaimable:
            continue  # out of stock: the customer simply gets none
    return issued


def issue_on_trigger_many(
    session: Session, *, trigger: str, grants: Sequence[tuple[int, dt.datetime]]
) -> list[int]:
    """`_issue_on_trigger` for each (customer id, moment) in order, as with the clock set to
    each moment: the same coupons, stock and `coupon.issued` events (per-customer caps and
    stock counted across the grants in order), in one INSERT of coupons. The new ids."""
    # The templates with their promotions in one statement (get_promotion's row each).
    pairs = session.execute(_TRIGGER_TEMPLATES, {"trigger": trigger}).all() if grants else []
    customer_ids = sorted({cid for cid, _ in grants})
    plan: list[tuple[CouponTemplate, PromotionDef, set[int]]] = []
    for t, promo in pairs:
        try:
            _check_issuable(t, promo)
        except CouponNotClaimable:
            continue
        held = _held(session, t.id, customer_ids)
        served: list[int] = []
        for i, (cid, _) in enumerate(grants):
            if held.get(cid, 0) < t.per_customer:
                held[cid] = held.get(cid, 0) + 1
                served.append(i)
        # Stock runs out in grant order: the first ones get it, the rest none.
        served = served[: _take_stock_upto(session, t, len(served))]
        if served:
            plan.append((t, promo, set(served)))
    rows: list[dict[str, Any]] = []
    campaigns: list[int | None] = []
    # Grants of a batch mostly share a moment: each template's end date once per moment.
    until_of: dict[tuple[int, dt.datetime], dt.datetime | None] = {}
    for i, (cid, at) in enumerate(grants):
        for t, promo, served_set in plan:
            if i not in served_set:
                continue
            key = (t.id, at)
            if key not in until_of:
                until_of[key] = _valid_until(t, promo, at)
            rows.append(
                {
                    "template_id": t.id,
                    "promotion_id": t.promotion_id,
                    "batch_id": None,
                    "code": _new_code(),
                    "customer_id": cid,
                    "status": CouponStatus.ISSUED,
                    "reason": trigger[:100],
                    "valid_from": at,
                    "valid_until": until_of[key],
                    "issued_at": at,
                    "release_count": 0,
                }
            )
            campaigns.append(promo.campaign_id)
    if not rows:
        return []
    # Matched by the unique code: RETURNING in parameter order is one row a statement on SQLite.
    if session.autoflush:  # a driver statement does not autoflush: pending rows go first
        session.flush()
    conn = session.connection()
    made: dict[str, int] = {}
    for start in range(0, len(rows), _COUPON_CHUNK):
        made.update(_INSERT_COUPONS.execute(conn, rows[start : start + _COUPON_CHUNK]))
    ids = [made[row["code"]] for row in rows]
    emit_many(
        session,
        events.COUPON_ISSUED,
        [
            (
                "coupon",
                cid,
                events.coupon(cast(Coupon, SimpleNamespace(id=cid, **row)), campaign_id=campaign),
                row["issued_at"],
            )
            for cid, row, campaign in zip(ids, rows, campaigns, strict=True)
        ],
    )
    return ids


def on_customer_registered(session: Session, event: OutboxEvent) -> None:
    """Registration coupons (首单券 and the like) go to every new customer."""
    _issue_on_trigger(
        session, trigger="registration", customer_id=int(event.payload["customer_id"])
    )


def on_customers_registered(session: Session, batch: list[OutboxEvent]) -> None:
    """`on_customer_registered` over many events at once (its `subscribe_bulk` twin): each
    customer's coupons at their event's time, as the clock set to it would date them."""
    issue_on_trigger_many(
        session,
        trigger="registration",
        grants=[(int(e.payload["customer_id"]), e.occurred_at) for e in batch],
    )


def on_order_paid(session: Session, event: OutboxEvent) -> None:
    """First-order rewards: issued when a customer's first order is paid."""
    customer_id = int(event.payload["customer_id"])
    exists = session.scalar(
        select(CouponTemplate.id)
        .where(CouponTemplate.trigger == "first_order", CouponTemplate.active.is_(True))
        .limit(1)
    )
    if exists is None:
        return
    if profile.paid_orders(session, customer_id=customer_id) > 1:
        return
    _issue_on_trigger(session, trigger="first_order", customer_id=customer_id)


def coupon_summary(coupon: Coupon) -> dict[str, Any]:
    return events.coupon(coupon)


def template_counts(
    session: Session,
    *,
    issued_from: dt.datetime | None = None,
    issued_to: dt.datetime | None = None,
) -> dict[int, dict[str, int]]:
    """Per template, of the coupons issued in [issued_from, issued_to): how many were issued,
    claimed by shoppers themselves (`claim_coupon`) and are redeemed (held by an order)."""
    window = []
    if issued_from is not None:
        window.append(Coupon.issued_at >= issued_from)
    if issued_to is not None:
        window.append(Coupon.issued_at < issued_to)
    rows = session.execute(
        select(
            Coupon.template_id,
            func.count(),
            func.count().filter(Coupon.reason == "claimed"),
            func.count().filter(Coupon.status == CouponStatus.REDEEMED),
        )
        .where(*window)
        .group_by(Coupon.template_id)
    )
    return {tid: {"issued": int(i), "claimed": int(c), "redeemed": int(r)} for tid, i, c, r in rows}
