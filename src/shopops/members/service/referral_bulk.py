"""Referral rewards for many completed orders at once: the set-based twin of the members'
`order.completed` subscriber.

One query finds which of the batch's customers were referred and are not rewarded yet (most
were never referred). With points rewards (no coupon template configured, the usual case)
the due rewards are worked out as `reward_referral` on each event in order would make them —
the referrer's entry, then the new customer's, each balance after the one before, at the
event's time — then written in one read of the balances, one executemany of balances, one
INSERT of entries, one UPDATE of the rewarded flags and one `emit_many` per event name. With
a coupon template, each due reward goes through `reward_referral` itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from shopops.config import Settings, get_settings
from shopops.db import DriverInsertMany
from shopops.events import OutboxEvent, emit_many
from shopops.members import events as member_events
from shopops.members.errors import CustomerNotFound
from shopops.members.models import Customer, PointsEntry, PointsKind
from shopops.members.service.points import entry_expiry
from shopops.members.service.referral import reward_referral

_CUSTOMER = Customer.__table__
_C = _CUSTOMER.c
_DUE = select(_C.id, _C.referred_by).where(
    _C.id.in_(bindparam("ids", expanding=True)),
    _C.referred_by.is_not(None),
    _C.referral_rewarded.is_(False),
)
_BALANCES = (
    select(_C.id, _C.points_balance, _C.growth_value)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .order_by(_C.id)
    .with_for_update()
)
_SET_BALANCE = (
    update(_CUSTOMER).where(_C.id == bindparam("cid")).values(points_balance=bindparam("v"))
)
_SET_REWARDED = (
    update(_CUSTOMER)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .values(referral_rewarded=True)
)
_ENTRY_COLUMNS = [
    "customer_id", "kind", "amount", "growth", "balance_after", "ref", "reason", "order_id",
    "expires_at", "created_at",
]  # fmt: skip
# A (customer, kind, ref) is unique: RETURNING rows are matched by customer and ref.
_INSERT = DriverInsertMany(PointsEntry.__table__, _ENTRY_COLUMNS, ["id", "customer_id", "ref"])
CHUNK = 500  # rows per INSERT: well inside every driver's parameter limit
Item = tuple[str, int | str, dict[str, Any], dt.datetime | None]


def on_orders_completed(session: Session, events: list[OutboxEvent]) -> None:
    """`reward_referral` for each event's customer and order, in order, with one read."""
    ids = sorted({int(e.payload["customer_id"]) for e in events})
    if not ids:
        return
    due = dict(session.execute(_DUE, {"ids": ids}).all())
    if not due:
        return
    s = get_settings()
    if (
        s.referral_referrer_coupon_template_id is not None
        or s.referral_new_customer_coupon_template_id is not None
    ):
        _one_by_one(session, events, set(due))
        return
    _points_rewards(session, events, due, s)


def _one_by_one(session: Session, events: list[OutboxEvent], due: set[int]) -> None:
    clock = session.info.get("now")
    try:
        for event in events:
            p = event.payload
            if int(p["customer_id"]) in due:
                session.info["now"] = event.occurred_at
                reward_referral(
                    session, customer_id=int(p["customer_id"]), order_id=int(p["order_id"])
                )
    finally:
        session.info["now"] = clock


def _points_rewards(
    session: Session, events: list[OutboxEvent], due: dict[int, int], s: Settings
) -> None:
    """The points-only rewards of `due` (customer → referrer), each at its event's time."""
    session.flush()  # pending ORM changes first: the balances read below see them
    who = sorted(set(due) | set(due.values()))
    balances = {
        r.id: [r.points_balance, r.growth_value] for r in session.execute(_BALANCES, {"ids": who})
    }
    entries: list[dict[str, Any]] = []
    rewarded: list[tuple[int, int, int, dict[str, dict[str, Any]], dt.datetime]] = []
    for event in events:
        customer_id = int(event.payload["customer_id"])
        referrer = due.pop(customer_id, None)
        if referrer is None:
            continue  # never referred, rewarded already, or earlier in this batch
        order_id, at = int(event.payload["order_id"]), event.occurred_at
        rewards: dict[str, dict[str, Any]] = {}
        for side, to, pts in (
            ("referrer", referrer, s.referral_referrer_points),
            ("new_customer", customer_id, s.referral_new_customer_points),
        ):
            if pts <= 0:
                continue
            balance = balances.get(to)
            if balance is None:
                raise CustomerNotFound(f"no customer {to}", details={"customer_id": to})
            balance[0] += pts
            entries.append(
                {
                    "customer_id": to,
                    "kind": PointsKind.REFERRAL.value,
                    "amount": pts,
                    "growth": 0,
                    "balance_after": balance[0],
                    "ref": f"referral:{customer_id}",
                    "reason": f"referral of customer {customer_id}, order {order_id}"[:200],
                    "order_id": None,
                    "expires_at": entry_expiry(pts, at, None, s),
                    "created_at": at,
                }
            )
            rewards[side] = {"customer_id": to, "points": pts}
        rewarded.append((customer_id, referrer, order_id, rewards, at))
    if not rewarded:
        return
    _write(session, balances, entries, rewarded)


def _write(
    session: Session,
    balances: dict[int, list[int]],
    entries: list[dict[str, Any]],
    rewarded: list[tuple[int, int, int, dict[str, dict[str, Any]], dt.datetime]],
) -> None:
    moved = sorted({e["customer_id"] for e in entries})
    if moved:
        session.execute(
            _SET_BALANCE,
            [{"cid": cid, "v": balances[cid][0]} for cid in moved],
            execution_options={"synchronize_session": False},
        )
    done = sorted(c for c, *_ in rewarded)
    session.execute(_SET_REWARDED, {"ids": done}, execution_options={"synchronize_session": False})
    held = session.identity_map
    for cid in set(moved) | set(done):
        obj = held.get(identity_key(Customer, cid))
        if obj is None:
            continue
        if cid in balances:
            set_committed_value(obj, "points_balance", balances[cid][0])
            set_committed_value(obj, "growth_value", balances[cid][1])
        if cid in done:
            set_committed_value(obj, "referral_rewarded", True)
    ids: dict[tuple[int, str], int] = {}
    if entries:
        conn = session.connection()
        for k in range(0, len(entries), CHUNK):
            rows = _INSERT.execute(conn, entries[k : k + CHUNK])
            ids.update(((c, ref), eid) for eid, c, ref in rows)
    earned: list[Item] = []
    for e in entries:
        entry = dict(e, id=ids[(e["customer_id"], e["ref"])])
        payload = member_events.points_entry(_Entry(entry))
        earned.append((member_events.AGGREGATE, e["customer_id"], payload, e["created_at"]))
    emit_many(session, member_events.points_event_name(PointsKind.REFERRAL.value, 1), earned)
    emit_many(
        session,
        member_events.REFERRAL_REWARDED,
        [
            (
                member_events.AGGREGATE,
                customer_id,
                {
                    "customer_id": customer_id,
                    "referrer_id": referrer,
                    "order_id": order_id,
                    "rewards": rewards,
                },
                at,
            )
            for customer_id, referrer, order_id, rewards, at in rewarded
        ],
    )


class _Entry:
    """A written entry's values as attributes (what `events.points_entry` reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
