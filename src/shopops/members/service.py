"""Use cases of customers and their saved addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.events import emit
from shopops.members import events, rules
from shopops.members.errors import (
    AddressNotFound,
    CustomerExists,
    CustomerNotFound,
    InvalidEmail,
    InvalidPhone,
    NoDefaultAddress,
    TooManyAddresses,
)
from shopops.members.models import Address, Customer, Gender

CUSTOMER_FIELDS = frozenset(
    {"name", "phone", "email", "gender", "birthday", "age_band", "region", "city"}
)
ADDRESS_FIELDS = frozenset(
    {"recipient", "phone", "province", "city", "district", "detail", "postal_code", "is_default"}
)


def _phone(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return rules.normalize_phone(raw)
    except ValueError as exc:
        raise InvalidPhone(str(exc), details={"field": "phone", "value": raw}) from exc


def _email(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return rules.normalize_email(raw)
    except ValueError as exc:
        raise InvalidEmail(str(exc), details={"field": "email", "value": raw}) from exc


def _check_unique(
    session: Session, *, phone: str | None, email: str | None, exclude_id: int | None = None
) -> None:
    """Refuse a phone or e-mail another customer already uses (409 customer_exists)."""
    conditions = []
    if phone is not None:
        conditions.append(Customer.phone == phone)
    if email is not None:
        conditions.append(Customer.email == email)
    if not conditions:
        return
    stmt = select(Customer.id, Customer.phone, Customer.email).where(or_(*conditions))
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    row = session.execute(stmt.limit(1)).first()
    if row is not None:
        field = "phone" if phone is not None and row.phone == phone else "email"
        raise CustomerExists(
            f"a customer with this {field} is already registered", details={"field": field}
        )


def _flush_unique(
    session: Session, *, phone: str | None, email: str | None, exclude_id: int | None = None
) -> None:
    """Flush in a savepoint: a concurrent registration of the same contact becomes a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        # The other transaction has committed by now: name the field that clashed.
        _check_unique(session, phone=phone, email=email, exclude_id=exclude_id)
        raise CustomerExists(
            "a customer with this phone or e-mail is already registered",
            details={"field": "phone" if phone else "email"},
        ) from exc


def register_customer(
    session: Session,
    *,
    name: str = "",
    phone: str | None = None,
    email: str | None = None,
    gender: str = Gender.UNKNOWN,
    birthday: dt.date | None = None,
    age_band: str = "",
    region: str = "",
    city: str = "",
    acquisition_channel: str = "direct",
    registered_at: dt.datetime | None = None,
) -> Customer:
    """Create a customer (phone and e-mail unique) and emit `customer.registered`.

    The age band is derived from the birthday when there is one.
    """
    phone, email = _phone(phone), _email(email)
    _check_unique(session, phone=phone, email=email)
    when = registered_at or now(session)
    if birthday is not None:
        age_band = rules.age_band(birthday, when.date())
    customer = Customer(
        name=name,
        phone=phone,
        email=email,
        gender=Gender(gender).value,
        birthday=birthday,
        age_band=age_band,
        region=region,
        city=city,
        acquisition_channel=acquisition_channel,
        registered_at=when,
    )
    session.add(customer)
    _flush_unique(session, phone=phone, email=email)
    emit(
        session,
        events.CUSTOMER_REGISTERED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=customer.id,
        payload=events.customer_profile(customer),
        occurred_at=when,
    )
    return customer


def get_customer(session: Session, *, customer_id: int) -> Customer:
    """The customer, or 404 `customer_not_found`."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}", details={"customer_id": customer_id})
    return customer


def update_customer(session: Session, *, customer_id: int, changes: Mapping[str, Any]) -> Customer:
    """Apply profile changes (only the fields given); emits `customer.updated` if any changed."""
    unknown = set(changes) - CUSTOMER_FIELDS
    if unknown:
        raise ValueError(f"not customer fields: {sorted(unknown)}")
    customer = get_customer(session, customer_id=customer_id)
    values = dict(changes)
    if "phone" in values:
        values["phone"] = _phone(values["phone"])
    if "email" in values:
        values["email"] = _email(values["email"])
    if "gender" in values:
        values["gender"] = Gender(values["gender"]).value
    new_phone = values["phone"] if values.get("phone", customer.phone) != customer.phone else None
    new_email = values["email"] if values.get("email", customer.email) != customer.email else None
    _check_unique(session, phone=new_phone, email=new_email, exclude_id=customer.id)
    birthday = values.get("birthday", customer.birthday)
    if birthday is not None and ("birthday" in values or "age_band" in values):
        values["age_band"] = rules.age_band(birthday, now(session).date())
    changed = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if not changed:
        return customer
    for key, value in changed.items():
        setattr(customer, key, value)
    _flush_unique(
        session, phone=changed.get("phone"), email=changed.get("email"), exclude_id=customer.id
    )
    emit(
        session,
        events.CUSTOMER_UPDATED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=customer.id,
        payload={**events.customer_profile(customer), "changed": sorted(changed)},
    )
    return customer


def list_customers(
    session: Session,
    *,
    q: str | None = None,
    region: str | None = None,
    city: str | None = None,
    acquisition_channel: str | None = None,
    age_band: str | None = None,
    gender: str | None = None,
    registered_from: dt.datetime | None = None,
    registered_to: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Customer], int]:
    """One page of customers (newest first) and how many match in all."""
    stmt = select(Customer)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(Customer.name.like(like), Customer.phone.like(like), Customer.email.like(like))
        )
    for column, value in (
        (Customer.region, region),
        (Customer.city, city),
        (Customer.acquisition_channel, acquisition_channel),
        (Customer.age_band, age_band),
        (Customer.gender, gender),
    ):
        if value:
            stmt = stmt.where(column == value)
    if registered_from is not None:
        stmt = stmt.where(Customer.registered_at >= registered_from)
    if registered_to is not None:
        stmt = stmt.where(Customer.registered_at < registered_to)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = session.scalars(
        stmt.order_by(Customer.registered_at.desc(), Customer.id.desc()).limit(limit).offset(offset)
    )
    return list(page), total


# --- addresses -------------------------------------------------------------------------------


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


def get_customer_and_address(
    session: Session, *, customer_id: int, address_id: int | None = None
) -> tuple[Customer, Address]:
    """The customer and one of their addresses (`None` → the default) in one query, for
    checkout; the same errors as `get_customer` and `get_address`."""
    on = Address.customer_id == Customer.id
    if address_id is not None:
        on = and_(on, Address.id == address_id)
    stmt = (
        select(Customer, Address)
        .outerjoin(Address, on)
        .where(Customer.id == customer_id)
        .order_by(Address.is_default.desc(), Address.id.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
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
