"""The store's many-at-once service calls as the simulator uses them.

Each function carries out items that are independent of one another, each at its own moment,
and returns one result per item: what was made, or the `ShopOpsError` that refused it (a
refused item leaves nothing behind). Where the store offers a set-based call it is used;
otherwise the single service function runs per item in its own savepoint with the clock set
to the item's moment — the same rows either way (the services' equivalence tests prove it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.members import service as members
from shopops.orders import service as orders
from shopops.payments import service as payments
from shopops.payments.gateway import SimulatedGateway

T = TypeVar("T")
Result = T | ShopOpsError


@dataclass(frozen=True)
class Signup:
    """A new shopper's registration at checkout: profile, tags, one delivery address."""

    at: dt.datetime
    name: str
    phone: str
    gender: str
    birthday: dt.date | None
    region: str
    city: str
    acquisition_channel: str
    address_detail: str
    tags: tuple[str, ...] = ()
    referral_code: str | None = None


@dataclass(frozen=True)
class Checkout:
    at: dt.datetime
    customer_id: int
    lines: tuple[tuple[int, int], ...]
    coupon_codes: tuple[str, ...] = ()
    points: int = 0


@dataclass(frozen=True)
class Placed:
    order_id: int
    total: int  # fen


def _each(
    session: Session, items: Sequence[Any], at: Callable[[Any], dt.datetime],
    call: Callable[[Any], T],
) -> list[Result[T]]:  # fmt: skip
    out: list[Result[T]] = []
    for item in items:
        set_clock(session, at(item))
        try:
            with session.begin_nested():
                out.append(call(item))
        except ShopOpsError as exc:
            out.append(exc)
    return out


def register(session: Session, signups: Sequence[Signup]) -> list[Result[int]]:
    """New customers' ids (refused: a taken phone, an unknown referral code)."""

    def one(s: Signup) -> int:
        customer = members.register_customer(
            session, name=s.name, phone=s.phone, gender=s.gender, birthday=s.birthday,
            region=s.region, city=s.city, acquisition_channel=s.acquisition_channel,
            registered_at=s.at, referral_code=s.referral_code,
        )  # fmt: skip
        if s.tags:
            members.set_customer_tags(session, customer_id=customer.id, tags=list(s.tags))
        members.add_address(
            session, customer_id=customer.id, recipient=s.name, phone=s.phone,
            province=s.region, city=s.city, detail=s.address_detail,
        )  # fmt: skip
        return customer.id

    return _each(session, signups, lambda s: s.at, one)


def place(session: Session, checkouts: Sequence[Checkout]) -> list[Result[Placed]]:
    """Orders placed in the given order (an earlier one may take the stock of a later one)."""

    def one(c: Checkout) -> Placed:
        order = orders.place_order(
            session, customer_id=c.customer_id, lines=list(c.lines),
            coupon_codes=list(c.coupon_codes), points=c.points,
        )  # fmt: skip
        return Placed(order.id, order.total)

    return _each(session, checkouts, lambda c: c.at, one)


def pay(
    session: Session, attempts: Sequence[tuple[int, str, dt.datetime]], gateway: SimulatedGateway
) -> list[Result[bool]]:
    """(order id, channel, at) → whether the payment succeeded."""

    def one(a: tuple[int, str, dt.datetime]) -> bool:
        payment = payments.pay_order(session, order_id=a[0], channel=a[1], gateway=gateway)
        return payment.status == "succeeded"

    return _each(session, attempts, lambda a: a[2], one)


def complete(session: Session, items: Sequence[tuple[int, dt.datetime]]) -> list[Result[int]]:
    """(order id, at) → the completed order's id."""

    def one(item: tuple[int, dt.datetime]) -> int:
        return orders.complete_order(session, order_id=item[0]).id

    return _each(session, items, lambda i: i[1], one)
