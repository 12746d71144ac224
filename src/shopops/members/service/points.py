"""The points ledger: append-only entries whose sum is the customer's balance (never < 0).

Every movement is one conditional UPDATE of `customer.points_balance` (… WHERE balance >= n
for a debit, so concurrent orders cannot overdraw) and one `points_entry` row carrying the
balance after it. Credits are FIFO lots that expire `points_expiry_months` later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from shopops.config import Settings, get_settings
from shopops.db import now
from shopops.events import emit, emit_many
from shopops.members import events, rules
from shopops.members.errors import (
    CustomerNotFound,
    InvalidPoints,
    PointsInsufficient,
)
from shopops.members.models import Customer, PointsEntry, PointsKind

CREDIT_KINDS = frozenset(
    {PointsKind.EARN, PointsKind.REVIEW, PointsKind.SIGN_IN, PointsKind.REFERRAL,
     PointsKind.BIRTHDAY, PointsKind.RETURN}
)  # fmt: skip
MAX_ADJUST = 10_000_000


def _settings(settings: Settings | None) -> Settings:
    return settings or get_settings()


def _sync(session: Session, customer_id: int, balance: int, growth: int) -> None:
    # The UPDATE bypassed the ORM: refresh a loaded customer without another SELECT.
    customer = session.identity_map.get(identity_key(Customer, customer_id))
    if customer is not None:
        set_committed_value(customer, "points_balance", balance)
        set_committed_value(customer, "growth_value", growth)


def find_entry(session: Session, *, customer_id: int, kind: str, ref: str) -> PointsEntry | None:
    return session.scalar(
        select(PointsEntry).where(
            PointsEntry.customer_id == customer_id, PointsEntry.kind == kind, PointsEntry.ref == ref
        )
    )


def entry_expiry(
    amount: int, when: dt.datetime, expires_at: dt.datetime | None, settings: Settings | None
) -> dt.datetime | None:
    """When a movement of `amount` at `when` expires: credits (by default
    `points_expiry_months` later), never a debit."""
    if amount <= 0:
        return None
    return expires_at or rules.add_months(when, _settings(settings).points_expiry_months)


def post_entry(
    session: Session,
    *,
    customer_id: int,
    kind: str,
    amount: int,
    ref: str,
    reason: str = "",
    order_id: int | None = None,
    growth: int = 0,
    expires_at: dt.datetime | None = None,
    announce: bool = True,
    settings: Settings | None = None,
) -> PointsEntry:
    """Move `amount` points (signed) and `growth` growth value; a debit larger than the
    balance is 409 `points_insufficient` (checked by the UPDATE itself, race-free).
    Credits without `expires_at` expire `points_expiry_months` from now."""
    stmt = update(Customer).where(Customer.id == customer_id)
    if amount < 0:
        stmt = stmt.where(Customer.points_balance >= -amount)
    row = session.execute(
        stmt.values(
            points_balance=Customer.points_balance + amount,
            growth_value=Customer.growth_value + growth,
        )
        .returning(Customer.points_balance, Customer.growth_value)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        if session.get(Customer, customer_id) is None:
            raise CustomerNotFound(
                f"no customer {customer_id}", details={"customer_id": customer_id}
            )
        balance = session.scalar(select(Customer.points_balance).where(Customer.id == customer_id))
        raise PointsInsufficient(
            f"{-amount} points requested, {balance} available",
            details={"requested": -amount, "balance": balance, "customer_id": customer_id},
        )
    balance, total_growth = row
    _sync(session, customer_id, balance, total_growth)
    when = now(session)
    expires_at = entry_expiry(amount, when, expires_at, settings)
    entry = PointsEntry(
        customer_id=customer_id,
        kind=str(kind),
        amount=amount,
        growth=growth,
        balance_after=balance,
        ref=ref,
        reason=reason[:200],
        order_id=order_id,
        expires_at=expires_at,
        created_at=when,
    )
    session.add(entry)
    if announce:
        session.flush()  # the event carries the entry's id
        emit(
            session,
            events.points_event_name(str(kind), amount),
            aggregate_type=events.AGGREGATE,
            aggregate_id=customer_id,
            payload=events.points_entry(entry),
            occurred_at=when,
        )
    return entry


def balance(session: Session, *, customer_id: int) -> int:
    """The customer's points balance (404 `customer_not_found`)."""
    value = session.scalar(select(Customer.points_balance).where(Customer.id == customer_id))
    if value is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    return value


def ledger(
    session: Session, *, customer_id: int, limit: int = 20, offset: int = 0
) -> tuple[list[PointsEntry], int]:
    """One page of the customer's entries (newest first) and how many there are."""
    total = session.scalar(
        select(func.count()).select_from(PointsEntry).where(PointsEntry.customer_id == customer_id)
    )
    page = session.scalars(
        select(PointsEntry)
        .where(PointsEntry.customer_id == customer_id)
        .order_by(PointsEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(page), total or 0


def earn_points(
    session: Session,
    *,
    customer_id: int,
    amount: int,
    reason: str,
    ref: str,
    kind: str = PointsKind.REVIEW,
    growth: int = 0,
) -> PointsEntry:
    """Credit points for an activity (a review, a share…) once per `ref`: the same ref again
    returns the first entry and credits nothing."""
    if amount <= 0 or amount > MAX_ADJUST:
        raise InvalidPoints(
            f"points to earn are 1..{MAX_ADJUST}", details={"field": "amount", "value": amount}
        )
    if kind not in CREDIT_KINDS or kind == PointsKind.RETURN:
        raise InvalidPoints(f"{kind!r} is not an earning kind", details={"field": "kind"})
    if not ref:
        raise InvalidPoints("a ref makes earning idempotent; give one", details={"field": "ref"})
    existing = find_entry(session, customer_id=customer_id, kind=kind, ref=ref)
    if existing is not None:
        return existing
    return post_entry(
        session,
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        ref=ref,
        reason=reason,
        growth=growth,
    )


def earn_points_many(
    session: Session,
    *,
    items: Sequence[tuple[int, int, str, str, dt.datetime]],
    kind: str = PointsKind.REVIEW,
) -> list[PointsEntry]:
    """`earn_points` of each `(customer id, amount, reason, ref, at)` in turn, each at its own
    moment: the same entries (balances after each, in order), customers and events, with one
    read of the refs, one UPDATE per customer and one batch of events. Every item is checked
    first (InvalidPoints, CustomerNotFound before anything is written)."""
    for _, amount, _, ref, _ in items:
        if amount <= 0 or amount > MAX_ADJUST:
            raise InvalidPoints(
                f"points to earn are 1..{MAX_ADJUST}", details={"field": "amount", "value": amount}
            )
        if not ref:
            raise InvalidPoints(
                "a ref makes earning idempotent; give one", details={"field": "ref"}
            )
    if kind not in CREDIT_KINDS or kind == PointsKind.RETURN:
        raise InvalidPoints(f"{kind!r} is not an earning kind", details={"field": "kind"})
    if not items:
        return []
    refs = {ref for _, _, _, ref, _ in items}
    known = {
        (e.customer_id, e.ref): e
        for e in session.scalars(
            select(PointsEntry).where(PointsEntry.kind == kind, PointsEntry.ref.in_(refs))
        )
    }
    fresh: list[tuple[int, int, str, str, dt.datetime]] = []
    taken = set(known)
    for item in items:
        if (item[0], item[3]) not in taken:  # a ref again in the batch credits nothing
            taken.add((item[0], item[3]))
            fresh.append(item)
    totals: dict[int, int] = {}
    for customer_id, amount, *_ in fresh:
        totals[customer_id] = totals.get(customer_id, 0) + amount
    balances: dict[int, int] = {}
    for customer_id, total in totals.items():
        row = session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(points_balance=Customer.points_balance + total)
            .returning(Customer.points_balance, Customer.growth_value)
            .execution_options(synchronize_session=False)
        ).first()
        if row is None:
            raise CustomerNotFound(
                f"no customer {customer_id}", details={"customer_id": customer_id}
            )
        _sync(session, customer_id, row[0], row[1])
        balances[customer_id] = row[0] - total  # before the batch: each entry adds its own
    created: list[PointsEntry] = []
    for customer_id, amount, reason, ref, at in fresh:
        balances[customer_id] += amount
        entry = PointsEntry(
            customer_id=customer_id, kind=str(kind), amount=amount, growth=0,
            balance_after=balances[customer_id], ref=ref, reason=reason[:200], order_id=None,
            expires_at=entry_expiry(amount, at, None, None), created_at=at,
        )  # fmt: skip
        session.add(entry)
        created.append(entry)
        known[(customer_id, ref)] = entry
    session.flush()  # the events carry the entries' ids
    emit_many(
        session,
        events.points_event_name(str(kind), 1),  # every entry here is a credit of `kind`
        [(events.AGGREGATE, e.customer_id, events.points_entry(e), e.created_at) for e in created],
    )
    return [known[(customer_id, ref)] for customer_id, _, _, ref, _ in items]


def sign_in(
    session: Session, *, customer_id: int, settings: Settings | None = None
) -> tuple[PointsEntry, bool]:
    """The daily sign-in (签到): points and growth once per local day; again the same day
    returns that day's entry and `False`."""
    s = _settings(settings)
    # The shop's calendar day (Asia/Shanghai by default), not UTC's.
    day = now(session).astimezone(ZoneInfo(s.timezone)).date().isoformat()
    ref = f"sign-in:{day}"
    existing = find_entry(session, customer_id=customer_id, kind=PointsKind.SIGN_IN, ref=ref)
    if existing is not None:
        return existing, False
    entry = post_entry(
        session,
        customer_id=customer_id,
        kind=PointsKind.SIGN_IN,
        amount=s.points_sign_in,
        ref=ref,
        reason="daily sign-in",
        growth=s.growth_sign_in,
        settings=s,
    )
    return entry, True


def adjust_points(
    session: Session, *, customer_id: int, amount: int, reason: str, ref: str = ""
) -> PointsEntry:
    """An operator's correction (either sign, with a reason); a debit cannot pass the balance."""
    if amount == 0 or abs(amount) > MAX_ADJUST:
        raise InvalidPoints(
            f"an adjustment is a non-zero amount within ±{MAX_ADJUST}",
            details={"field": "amount", "value": amount},
        )
    if not reason.strip():
        raise InvalidPoints("an adjustment needs a reason", details={"field": "reason"})
    ref = ref or f"adjust:{now(session).isoformat()}:{amount}"
    if find_entry(session, customer_id=customer_id, kind=PointsKind.ADJUST, ref=ref) is not None:
        raise InvalidPoints("this adjustment ref was already used", details={"field": "ref"})
    return post_entry(
        session, customer_id=customer_id, kind=PointsKind.ADJUST, amount=amount, ref=ref,
        reason=reason.strip(),
    )  # fmt: skip


def expire_points(
    session: Session, *, as_of: dt.datetime, customer_ids: Sequence[int] | None = None
) -> dict[int, int]:
    """Expire what is left of every lot whose time has come (FIFO: debits use the oldest lots
    first). Two grouped queries for all customers, then one movement per customer with
    something due; running it again expires nothing more. Returns customer → points expired."""
    credit = select(PointsEntry.customer_id, func.sum(PointsEntry.amount).label("due")).where(
        PointsEntry.amount > 0, PointsEntry.expires_at <= as_of
    )
    debit = select(PointsEntry.customer_id, func.sum(-PointsEntry.amount).label("used")).where(
        PointsEntry.amount < 0
    )
    if customer_ids is not None:
        credit = credit.where(PointsEntry.customer_id.in_(customer_ids))
        debit = debit.where(PointsEntry.customer_id.in_(customer_ids))
    due = dict(session.execute(credit.group_by(PointsEntry.customer_id)).all())
    if not due:
        return {}
    used = dict(
        session.execute(
            debit.where(PointsEntry.customer_id.in_(list(due))).group_by(PointsEntry.customer_id)
        ).all()
    )
    expired: dict[int, int] = {}
    stamp = as_of.isoformat()
    for customer_id in sorted(due):
        amount = max(0, int(due[customer_id]) - int(used.get(customer_id, 0)))
        if amount == 0:
            continue
        post_entry(
            session,
            customer_id=customer_id,
            kind=PointsKind.EXPIRE,
            amount=-amount,
            ref=f"expire:{stamp}",
            reason=f"points credited before {stamp[:10]} expired",
        )
        expired[customer_id] = amount
    return expired


def announce(session: Session, *, entry: PointsEntry) -> None:
    """Emit the event of an entry written without one (a checkout redemption, announced when
    the order is paid so that checkout stays within its statement budget)."""
    emit(
        session,
        events.points_event_name(entry.kind, entry.amount),
        aggregate_type=events.AGGREGATE,
        aggregate_id=entry.customer_id,
        payload=events.points_entry(entry),
    )


def order_entries(session: Session, *, order_id: int) -> list[PointsEntry]:
    """Every ledger entry of one order (earned, redeemed, returned, reversed), oldest first."""
    return list(
        session.scalars(
            select(PointsEntry).where(PointsEntry.order_id == order_id).order_by(PointsEntry.id)
        )
    )


def return_redeemed(session: Session, *, order_id: int, customer_id: int, reason: str) -> int:
    """Give back the points an unpaid order redeemed (order cancelled); once. Returns them."""
    entries = order_entries(session, order_id=order_id)
    redeemed = -sum(e.amount for e in entries if e.kind == PointsKind.REDEEM)
    returned = sum(e.amount for e in entries if e.kind == PointsKind.RETURN)
    due = redeemed - returned
    if due <= 0:
        return 0
    # An unpaid order's redemption was never announced: its return is not either.
    paid = any(e.kind == PointsKind.EARN for e in entries)
    post_entry(
        session,
        customer_id=customer_id,
        kind=PointsKind.RETURN,
        amount=due,
        ref=f"order:{order_id}:cancel",
        reason=reason,
        order_id=order_id,
        announce=paid,
    )
    return due


# Built once (bound order id): it runs on every refund.
_ORDER_SUMS = (
    select(PointsEntry.kind, func.sum(PointsEntry.amount), func.sum(PointsEntry.growth))
    .where(PointsEntry.order_id == bindparam("order_id"))
    .group_by(PointsEntry.kind)
)


def _order_sums(session: Session, *, order_id: int) -> dict[str, tuple[int, int]]:
    """(points, growth) of one order's ledger entries summed per kind."""
    rows = session.execute(_ORDER_SUMS, {"order_id": order_id})
    return {str(kind): (int(a or 0), int(g or 0)) for kind, a, g in rows}


def reverse_for_refund(
    session: Session, *, order_id: int, customer_id: int, refund_id: int, refunded: int, paid: int
) -> tuple[int, int]:
    """After a refund (cumulative `refunded` of `paid`): take back the same share of the
    points (and growth) the order earned, and give back the same share of the points it
    redeemed. Never below a zero balance: points already spent stay spent. Returns
    (reversed, returned)."""
    # The sums per kind come back, not every entry as an object.
    sums = _order_sums(session, order_id=order_id)
    earned, earned_growth = sums.get(PointsKind.EARN, (0, 0))
    reversed_, reversed_growth = (-x for x in sums.get(PointsKind.REVERSE, (0, 0)))
    redeemed = -sums.get(PointsKind.REDEEM, (0, 0))[0]
    returned = sums.get(PointsKind.RETURN, (0, 0))[0]
    give_back = rules.proportional(redeemed, refunded, paid) - returned
    take = rules.proportional(earned, refunded, paid) - reversed_
    growth = rules.proportional(earned_growth, refunded, paid) - reversed_growth
    if give_back > 0:
        post_entry(
            session,
            customer_id=customer_id,
            kind=PointsKind.RETURN,
            amount=give_back,
            ref=f"refund:{refund_id}",
            reason=f"order {order_id} refunded",
            order_id=order_id,
        )
    took = 0
    if take > 0 or growth > 0:
        took = min(max(take, 0), balance(session, customer_id=customer_id))
        post_entry(
            session,
            customer_id=customer_id,
            kind=PointsKind.REVERSE,
            amount=-took,
            ref=f"refund:{refund_id}",
            reason=f"order {order_id} refunded"
            + ("" if took == take else f" ({take - took} already spent)"),
            order_id=order_id,
            growth=-max(growth, 0),
        )
    return took, max(give_back, 0)
