"""Membership: the profile checkout reads, tiers and their privileges, tier evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopops.config import Settings, get_settings
from shopops.db import now
from shopops.events import emit
from shopops.members import events, rules
from shopops.members.errors import CustomerNotFound, InvalidTiers, TierExists, TierNotFound
from shopops.members.models import Customer, MembershipTier, PointsEntry, PointsKind
from shopops.members.rules import Privileges, Tier


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What pricing and promotions know about a shopper: tier ('' = none), segment tags,
    paid orders so far (0 = a first order), birthday, registration time, referrer."""

    tier: str
    tags: frozenset[str]
    paid_orders: int
    birthday: dt.date | None
    registered_at: dt.datetime
    referred_by: int | None
    customer_id: int = 0
    growth_value: int = 0
    points_balance: int = 0
    total_paid: int = 0


def profile_of(customer: Customer) -> CustomerProfile:
    """The profile of an already loaded customer (no SQL)."""
    return CustomerProfile(
        tier=customer.tier_code or "",
        tags=frozenset(customer.tags or ()),
        paid_orders=customer.paid_orders or 0,
        birthday=customer.birthday,
        registered_at=customer.registered_at,
        referred_by=customer.referred_by,
        customer_id=customer.id,
        growth_value=customer.growth_value or 0,
        points_balance=customer.points_balance or 0,
        total_paid=customer.total_paid or 0,
    )


def customer_profile(session: Session, *, customer_id: int) -> CustomerProfile:
    """The shopper's profile in at most one statement (none when the customer is loaded);
    404 `customer_not_found`."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    return profile_of(customer)


def paid_order_counts(session: Session, *, customer_ids: Sequence[int]) -> dict[int, int]:
    """Paid orders so far of each of these customers, in one statement (unknown ids are left
    out): the profiles' `paid_orders` for a batch."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    session.flush()
    rows = session.execute(select(Customer.id, Customer.paid_orders).where(Customer.id.in_(ids)))
    return {cid: int(n or 0) for cid, n in rows}


# --- tiers --------------------------------------------------------------------------------

TIER_FIELDS = (
    "name_zh", "name_en", "threshold", "discount_bp", "free_shipping", "priority_shipping",
    "birthday_points", "member_day_offers", "points_multiplier_pct",
)  # fmt: skip
PRIVILEGE_FIELDS = TIER_FIELDS[3:]


def _tier(row: MembershipTier) -> Tier:
    return Tier(
        row.code,
        row.name_zh,
        row.name_en,
        row.threshold,
        Privileges(**{f: getattr(row, f) for f in PRIVILEGE_FIELDS}),
    )


def _row_values(tier: Tier) -> dict[str, Any]:
    return {
        "code": tier.code,
        "name_zh": tier.name_zh,
        "name_en": tier.name_en,
        "threshold": tier.threshold,
        **{f: getattr(tier.privileges, f) for f in PRIVILEGE_FIELDS},
    }


def list_tiers(session: Session) -> list[Tier]:
    """The tier table by threshold; the defaults until an operator has set one up."""
    rows = list(session.scalars(select(MembershipTier).order_by(MembershipTier.threshold)))
    return [_tier(r) for r in rows] if rows else list(rules.DEFAULT_TIERS)


def tier_privileges(session: Session) -> dict[str, Privileges]:
    """Tier code → privileges, for the promotions engine (one query)."""
    return {t.code: t.privileges for t in list_tiers(session)}


def _materialize(session: Session) -> dict[str, MembershipTier]:
    # The first edit writes the defaults down, so editing one tier keeps the others.
    rows = {r.code: r for r in session.scalars(select(MembershipTier))}
    if not rows:
        for tier in rules.DEFAULT_TIERS:
            row = MembershipTier(**_row_values(tier))
            session.add(row)
            rows[tier.code] = row
    return rows


def _validate(tiers: Sequence[Tier]) -> None:
    problems = rules.tier_problems(tiers)
    if problems:
        raise InvalidTiers("; ".join(problems), details={"problems": problems})


def create_tier(session: Session, *, code: str, **values: Any) -> Tier:
    """Add a tier; the whole table must stay valid (409 `tier_exists`, 422 `invalid_tiers`)."""
    rows = _materialize(session)
    if code in rows:
        raise TierExists(f"tier {code!r} already exists", details={"code": code})
    unknown = set(values) - set(TIER_FIELDS)
    if unknown:
        raise ValueError(f"not tier fields: {sorted(unknown)}")
    new = Tier(
        code,
        values.get("name_zh", code),
        values.get("name_en", code),
        values["threshold"],
        Privileges(**{f: values[f] for f in PRIVILEGE_FIELDS if f in values}),
    )
    _validate([*(_tier(r) for r in rows.values()), new])
    row = MembershipTier(**_row_values(new))
    session.add(row)
    session.flush()
    return new


def update_tier(session: Session, *, code: str, changes: Mapping[str, Any]) -> Tier:
    """Change a tier's name, threshold or privileges (the table must stay valid)."""
    unknown = set(changes) - set(TIER_FIELDS)
    if unknown:
        raise ValueError(f"not tier fields: {sorted(unknown)}")
    rows = _materialize(session)
    row = rows.get(code)
    if row is None:
        raise TierNotFound(f"no tier {code!r}", details={"code": code})
    values = {**_row_values(_tier(row)), **changes}
    changed = Tier(
        code,
        values["name_zh"],
        values["name_en"],
        values["threshold"],
        Privileges(**{f: values[f] for f in PRIVILEGE_FIELDS}),
    )
    _validate([*(_tier(r) for c, r in rows.items() if c != code), changed])
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()
    return changed


def delete_tier(session: Session, *, code: str) -> None:
    """Remove a tier; its members drop to the tier their growth reaches at the next
    evaluation."""
    rows = _materialize(session)
    row = rows.get(code)
    if row is None:
        raise TierNotFound(f"no tier {code!r}", details={"code": code})
    if len(rows) == 1:
        raise InvalidTiers("keep at least one tier", details={"code": code})
    session.delete(row)
    session.flush()


# --- evaluation ---------------------------------------------------------------------------


def set_tier(
    session: Session, *, customer: Customer, tier: str, tiers: Sequence[Tier], cause: str
) -> bool:
    """Move the customer to `tier` and emit `tier.changed` (no-op when it is theirs)."""
    old = customer.tier_code or ""
    if tier == old:
        return False
    customer.tier_code = tier
    emit(
        session,
        events.TIER_CHANGED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=customer.id,
        payload=tier_move(customer.id, old, tier, customer.growth_value, tiers=tiers, cause=cause),
    )
    return True


def tier_move(
    customer_id: int, old: str, new: str, growth: int, *, tiers: Sequence[Tier], cause: str
) -> dict[str, Any]:
    """The `tier.changed` payload of a move from `old` to `new` (up or down by rank)."""
    direction = "up" if rules.tier_rank(new, tiers) > rules.tier_rank(old, tiers) else "down"
    return events.tier_changed(customer_id, old, new, growth, direction=direction, cause=cause)


def evaluate_customer(session: Session, *, customer_id: int, cause: str = "activity") -> str:
    """Raise the customer's tier if their growth value reached a higher one (never lowers:
    that is `evaluate_tiers`'s job). Returns the tier."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    tiers = list_tiers(session)
    target = rules.evaluate_tier(customer.tier_code, customer.growth_value, tiers, downgrade=False)
    set_tier(session, customer=customer, tier=target, tiers=tiers, cause=cause)
    return target


def evaluate_tiers(session: Session, *, as_of: dt.datetime | None = None) -> dict[str, int]:
    """The periodic re-evaluation (保级): every customer's growth value becomes what the
    trailing `tier_window_months` brought, and their tier follows it up or down. Emits
    `tier.changed` for each move; returns counts {"evaluated", "up", "down"}."""
    as_of = as_of or now(session)
    since = rules.add_months(as_of, -get_settings().tier_window_months)
    tiers = list_tiers(session)
    window = dict(
        session.execute(
            select(PointsEntry.customer_id, func.sum(PointsEntry.growth))
            .where(PointsEntry.created_at > since, PointsEntry.created_at <= as_of)
            .group_by(PointsEntry.customer_id)
        ).all()
    )
    counts = {"evaluated": 0, "up": 0, "down": 0}
    stmt = select(Customer).where(
        (Customer.growth_value != 0) | (Customer.tier_code != "") | Customer.id.in_(list(window))
    )
    for customer in session.scalars(stmt):
        growth = max(0, int(window.get(customer.id, 0)))
        old_rank = rules.tier_rank(customer.tier_code, tiers)
        if customer.growth_value != growth:
            customer.growth_value = growth
        target = rules.evaluate_tier(customer.tier_code, growth, tiers, downgrade=True)
        counts["evaluated"] += 1
        if set_tier(session, customer=customer, tier=target, tiers=tiers, cause="evaluation"):
            counts["up" if rules.tier_rank(target, tiers) > old_rank else "down"] += 1
    session.flush()
    return counts


# --- reactions to orders ------------------------------------------------------------------


def order_paid_args(payload: Mapping[str, Any]) -> dict[str, int]:
    """`record_order_paid`'s arguments from an `order.paid` payload."""
    paid = int(payload.get("paid_amount") or payload["total"])
    return {
        "order_id": int(payload["order_id"]),
        "customer_id": int(payload["customer_id"]),
        "paid_amount": paid,
        # Points and growth come from what the items cost, not the shipping.
        "items_paid": max(0, paid - int(payload.get("shipping_fee") or 0)),
    }


def paid_award(
    tier_code: str, items_paid: int, *, tiers: Sequence[Tier], settings: Settings
) -> tuple[int, int]:
    """(points, growth) a paid order earns a member of `tier_code` for `items_paid`."""
    privileges = {t.code: t.privileges for t in tiers}.get(tier_code, Privileges())
    earned = rules.points_earned(
        items_paid,
        per_yuan=settings.points_per_yuan_earned,
        multiplier_pct=privileges.points_multiplier_pct,
    )
    growth = rules.order_growth(
        items_paid, per_yuan=settings.growth_per_yuan, per_order=settings.growth_per_order
    )
    return earned, growth


def record_order_paid(
    session: Session, *, order_id: int, customer_id: int, paid_amount: int, items_paid: int
) -> None:
    """A paid order: counters, growth value, points earned (at the tier's multiplier), the
    redemption announced, and the tier raised if the growth reached one. Once per order."""
    from shopops.members.service import points

    s = get_settings()
    ref = f"order:{order_id}"
    entries = points.order_entries(session, order_id=order_id)
    if any(e.kind == PointsKind.EARN for e in entries):
        return  # a replayed event
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    tiers = list_tiers(session)
    earned, growth = paid_award(customer.tier_code, items_paid, tiers=tiers, settings=s)
    session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(paid_orders=Customer.paid_orders + 1, total_paid=Customer.total_paid + paid_amount)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(customer, "paid_orders", customer.paid_orders + 1)
    set_committed_value(customer, "total_paid", customer.total_paid + paid_amount)
    for redeemed in (e for e in entries if e.kind == PointsKind.REDEEM):
        points.announce(session, entry=redeemed)
    points.post_entry(
        session,
        customer_id=customer_id,
        kind=PointsKind.EARN,
        amount=earned,
        ref=ref,
        reason=f"order {order_id} paid",
        order_id=order_id,
        growth=growth,
        settings=s,
    )
    target = rules.evaluate_tier(customer.tier_code, customer.growth_value, tiers, downgrade=False)
    set_tier(session, customer=customer, tier=target, tiers=tiers, cause="order_paid")


def grant_birthday_gifts(session: Session, *, on: dt.date | None = None) -> dict[int, int]:
    """The birthday gift (生日礼): members whose birthday is `on` (default today) get their
    tier's birthday points, once a year. Returns customer → points granted."""
    from shopops.members.service import points

    day = on or now(session).astimezone(ZoneInfo(get_settings().timezone)).date()
    gifts = {code: p.birthday_points for code, p in tier_privileges(session).items()}
    stmt = select(Customer.id, Customer.tier_code).where(
        Customer.tier_code.in_([code for code, n in gifts.items() if n > 0]),
        func.extract("month", Customer.birthday) == day.month,
        func.extract("day", Customer.birthday) == day.day,
    )
    granted: dict[int, int] = {}
    for customer_id, tier in session.execute(stmt).all():
        ref = f"birthday:{day.year}"
        if points.find_entry(session, customer_id=customer_id, kind=PointsKind.BIRTHDAY, ref=ref):
            continue
        points.post_entry(
            session,
            customer_id=customer_id,
            kind=PointsKind.BIRTHDAY,
            amount=gifts[tier],
            ref=ref,
            reason=f"{tier} birthday gift",
        )
        granted[customer_id] = gifts[tier]
    return granted
