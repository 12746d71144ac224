"""The store's many-at-once service calls as the simulator uses them.

Each function carries out items that are independent of one another, each at its own moment,
and returns one result per item: what was made, or the `ShopOpsError` that refused it (a
refused item leaves nothing behind). Each is the store's set-based call, which leaves the
same rows as the single service function on each item at its moment (the services'
equivalence tests prove it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from shopops.errors import ShopOpsError
from shopops.members import service as members
from shopops.orders import service as orders
from shopops.orders.service.checkout_bulk import CheckoutRequest, place_orders
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


def _signup(s: Signup) -> members.Signup:
    home = members.NewAddress(
        recipient=s.name, phone=s.phone, province=s.region, city=s.city, detail=s.address_detail
    )
    return members.Signup(
        name=s.name, phone=s.phone, gender=s.gender, birthday=s.birthday, region=s.region,
        city=s.city, acquisition_channel=s.acquisition_channel, registered_at=s.at,
        referral_code=s.referral_code, tags=s.tags, address=home,
    )  # fmt: skip


def register(session: Session, signups: Sequence[Signup]) -> list[Result[int]]:
    """New customers' ids (refused: a taken phone, an unknown referral code)."""
    results = members.register_customers(session, signups=[_signup(s) for s in signups])
    return [r if isinstance(r, ShopOpsError) else r.customer_id for r in results]


def place(session: Session, checkouts: Sequence[Checkout]) -> list[Result[Placed]]:
    """Orders placed in the given order (an earlier one may take the stock of a later one)."""
    results = place_orders(
        session,
        requests=[
            CheckoutRequest(c.customer_id, c.lines, c.coupon_codes, c.points, c.at)
            for c in checkouts
        ],
    )
    return [r if isinstance(r, ShopOpsError) else Placed(r.id, r.total) for r in results]


def pay(
    session: Session, attempts: Sequence[tuple[int, str, dt.datetime]], gateway: SimulatedGateway
) -> list[Result[bool]]:
    """(order id, channel, at) → whether the payment succeeded."""
    results = payments.pay_orders(
        session,
        attempts=[payments.PayAttempt(order, channel, at) for order, channel, at in attempts],
        gateway=gateway,
    )
    return [r if isinstance(r, ShopOpsError) else r.status == "succeeded" for r in results]


def complete(session: Session, items: Sequence[tuple[int, dt.datetime]]) -> list[Result[int]]:
    """(order id, at) → the completed order's id."""
    results = orders.complete_orders(session, items=list(items))
    return [r if isinstance(r, ShopOpsError) else r.id for r in results]
