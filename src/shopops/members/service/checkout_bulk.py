"""Checkout's read of customers and their default addresses for a batch of orders (bulk
checkout): one query for the whole batch instead of `get_customer_and_address` per order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from shopops.errors import ShopOpsError
from shopops.members.errors import CustomerNotFound, NoDefaultAddress
from shopops.members.models import Address, Customer


def get_customers_and_default_addresses(
    session: Session, *, customer_ids: Sequence[int]
) -> dict[int, tuple[Customer, Address] | ShopOpsError]:
    """Each customer with the address `get_customer_and_address` picks when no address is
    named (the default, else the newest), in one query; a customer who cannot check out gets
    the error that function raises (404 `customer_not_found`, 409 `no_default_address`)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Customer, Address)
        .outerjoin(Address, Address.customer_id == Customer.id)
        .where(Customer.id.in_(ids))
        .order_by(Customer.id, Address.is_default.desc(), Address.id.desc())
    ).all()
    found: dict[int, tuple[Customer, Address] | ShopOpsError] = {}
    for customer, address in rows:
        if customer.id in found:
            continue  # the first row of a customer is the address checkout ships to
        if address is None:
            found[customer.id] = NoDefaultAddress(
                "the customer has no saved address; add one first",
                details={"customer_id": customer.id},
            )
        else:
            found[customer.id] = (customer, address)
    for customer_id in ids:
        if customer_id not in found:
            found[customer_id] = CustomerNotFound(
                f"no customer {customer_id}", details={"customer_id": customer_id}
            )
    return found


_BALANCES = select(Customer.__table__.c.id, Customer.__table__.c.points_balance).where(
    Customer.__table__.c.id.in_(bindparam("ids", expanding=True))
)


def points_balances(session: Session, *, customer_ids: Sequence[int]) -> dict[int, int]:
    """`balance(customer_id=…)` for many customers in one statement (a missing customer is
    left out, where `balance` raises 404)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    if session.autoflush:  # a Core read: see pending rows as balance's ORM query would
        session.flush()
    return {cid: points for cid, points in session.connection().execute(_BALANCES, {"ids": ids})}
