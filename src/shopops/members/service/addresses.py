"""Use cases of a customer's saved addresses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, bindparam, func, select, true, update
from sqlalchemy.orm import Session

from shopops.members import rules
from shopops.members.errors import (
    AddressNotFound,
    CustomerNotFound,
    InvalidPhone,
    NoDefaultAddress,
    TooManyAddresses,
)
from shopops.members.models import Address, Customer
from shopops.members.service.customers import _phone, get_customer

ADDRESS_FIELDS = frozenset(
    {"recipient", "phone", "province", "city", "district", "detail", "postal_code", "is_default"}
)


def list_addresses(session: Session, *, customer_id: int) -> list[Address]:
    """The customer's saved addresses, the default first."""
    stmt = (
        select(Address)
        .where(Address.customer_id == customer_id)
        .order_by(Address.is_default.desc(), Address.id.desc())
    )
    return list(session.scalars(stmt))


def get_address(session: Session, *, customer_id: int, address_id: int | None = None) -> Address:
    """One of the customer's addresses; `address_id=None` means the default address.

    Another customer's address is 404 `address_not_found`; no address at all is 409 `no_address`.
    """
    if address_id is not None:
        address = session.get(Address, address_id)
        if address is None or address.customer_id != customer_id:
            raise AddressNotFound(
                f"no address {address_id} for this customer", details={"address_id": address_id}
            )
        return address
    stmt = (
        select(Address)
        .where(Address.customer_id == customer_id)
        .order_by(Address.is_default.desc(), Address.id.desc())
        .limit(1)
    )
    address = session.scalar(stmt)
    if address is None:
        raise NoDefaultAddress(
            "the customer has no saved address; add one first",
            details={"customer_id": customer_id},
        )
    return address


# Checkout's read of the customer and the address to ship to, built once per variant (the
# values travel as parameters, so each call reuses the compiled statement from the cache);
# `ix_address_customer` (customer_id, is_default) serves the join.
def _customer_and_address(on_address: Any) -> Any:
    return (
        select(Customer, Address)
        .outerjoin(Address, and_(Address.customer_id == Customer.id, on_address))
        .where(Customer.id == bindparam("customer_id"))
        .order_by(Address.is_default.desc(), Address.id.desc())
        .limit(1)
    )


_WITH_DEFAULT_ADDRESS = _customer_and_address(true())
_WITH_ADDRESS = _customer_and_address(Address.id == bindparam("address_id"))


def get_customer_and_address(
    session: Session, *, customer_id: int, address_id: int | None = None
) -> tuple[Customer, Address]:
    """The customer and one of their addresses (`None` → the default) in one query, for
    checkout; the same errors as `get_customer` and `get_address`."""
    if address_id is None:
        row = session.execute(_WITH_DEFAULT_ADDRESS, {"customer_id": customer_id}).first()
    else:
        row = session.execute(
            _WITH_ADDRESS, {"customer_id": customer_id, "address_id": address_id}
        ).first()
    if row is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    customer, address = row
    if address is None:
        if address_id is not None:
            raise AddressNotFound(
                f"no address {address_id} for this customer", details={"address_id": address_id}
            )
        raise NoDefaultAddress(
            "the customer has no saved address; add one first",
            details={"customer_id": customer_id},
        )
    return customer, address


def _unset_default(session: Session, *, customer_id: int) -> None:
    # A statement of its own, before the new default is written: the partial unique index
    # would refuse two defaults inside one flush in whatever order it runs the updates.
    session.execute(
        update(Address)
        .where(Address.customer_id == customer_id, Address.is_default.is_(True))
        .values(is_default=False)
        .execution_options(synchronize_session="evaluate")
    )


def _clean_address(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "phone" in out:
        out["phone"] = _phone(out["phone"])
        if out["phone"] is None:
            raise InvalidPhone("the recipient's phone is required", details={"field": "phone"})
    return out


def add_address(
    session: Session,
    *,
    customer_id: int,
    recipient: str,
    phone: str,
    province: str,
    city: str,
    detail: str,
    district: str = "",
    postal_code: str = "",
    is_default: bool = False,
) -> Address:
    """Save an address; the first one, or one marked default, becomes the default."""
    get_customer(session, customer_id=customer_id)
    count = session.scalar(
        select(func.count()).select_from(Address).where(Address.customer_id == customer_id)
    )
    if (count or 0) >= rules.MAX_ADDRESSES:
        raise TooManyAddresses(
            f"at most {rules.MAX_ADDRESSES} saved addresses",
            details={"limit": rules.MAX_ADDRESSES},
        )
    values = _clean_address({"phone": phone})
    make_default = is_default or not count
    if make_default and count:
        _unset_default(session, customer_id=customer_id)
    address = Address(
        customer_id=customer_id,
        recipient=recipient,
        phone=values["phone"],
        province=province,
        city=city,
        district=district,
        detail=detail,
        postal_code=postal_code,
        is_default=make_default,
    )
    session.add(address)
    session.flush()
    return address


def update_address(
    session: Session, *, customer_id: int, address_id: int, changes: Mapping[str, Any]
) -> Address:
    """Change an address; making it the default unsets the old one. The default cannot be
    un-defaulted directly: another address takes over only by becoming the default."""
    unknown = set(changes) - ADDRESS_FIELDS
    if unknown:
        raise ValueError(f"not address fields: {sorted(unknown)}")
    address = get_address(session, customer_id=customer_id, address_id=address_id)
    values = _clean_address(changes)
    becomes_default = values.pop("is_default", None) is True and not address.is_default
    for key, value in values.items():
        setattr(address, key, value)
    if becomes_default:
        _unset_default(session, customer_id=customer_id)
        address.is_default = True
    session.flush()
    return address


def delete_address(session: Session, *, customer_id: int, address_id: int) -> None:
    """Delete an address; when it was the default, the newest remaining one takes over."""
    address = get_address(session, customer_id=customer_id, address_id=address_id)
    was_default = address.is_default
    session.delete(address)
    session.flush()
    if not was_default:
        return
    ids = list(session.scalars(select(Address.id).where(Address.customer_id == customer_id)))
    successor = rules.next_default_address(ids, removed=address_id)
    if successor is not None:
        session.execute(
            update(Address)
            .where(Address.id == successor)
            .values(is_default=True)
            .execution_options(synchronize_session="evaluate")
        )


def address_snapshot(address: Address) -> dict[str, Any]:
    """The address as plain values, for an order to keep however the saved one changes."""
    return {
        "address_id": address.id,
        "recipient": address.recipient,
        "phone": address.phone,
        "province": address.province,
        "city": address.city,
        "district": address.district,
        "detail": address.detail,
        "postal_code": address.postal_code,
    }
