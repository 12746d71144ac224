"""Use cases of customers: registration, profile changes, the back office's list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.errors import InvalidInput
from shopops.events import emit
from shopops.members import events, rules
from shopops.members.errors import (
    CustomerExists,
    CustomerNotFound,
    InvalidEmail,
    InvalidPhone,
)
from shopops.members.models import Customer, Gender

CUSTOMER_FIELDS = frozenset(
    {"name", "phone", "email", "gender", "birthday", "age_band", "region", "city"}
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
        raise customer_exists("phone" if phone is not None and row.phone == phone else "email")


def customer_exists(field: str) -> CustomerExists:
    """The refusal of a contact (`phone` or `email`) another customer already uses."""
    return CustomerExists(
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
    referral_code: str | None = None,
) -> Customer:
    """Create a customer (phone and e-mail unique) and emit `customer.registered`.

    The age band is derived from the birthday when there is one. A `referral_code` records
    who referred them (404 `referral_code_not_found` for an unknown code).
    """
    from shopops.members.service.referral import find_referrer

    phone, email = _phone(phone), _email(email)
    _check_unique(session, phone=phone, email=email)
    referrer = find_referrer(session, code=referral_code) if referral_code else None
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
        referred_by=referrer.id if referrer is not None else None,
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


MAX_TAGS = 50
MAX_TAG_LENGTH = 32


def clean_tags(tags: Sequence[str]) -> list[str]:
    """Segment tags trimmed, unique and sorted (422 past the count or length limit)."""
    clean = sorted({t.strip() for t in tags if t.strip()})
    if len(clean) > MAX_TAGS or any(len(t) > MAX_TAG_LENGTH for t in clean):
        raise InvalidInput(
            f"at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters",
            details={"field": "tags"},
        )
    return clean


def set_customer_tags(session: Session, *, customer_id: int, tags: Sequence[str]) -> Customer:
    """Replace the customer's segment tags (trimmed, unique, sorted)."""
    clean = clean_tags(tags)
    customer = get_customer(session, customer_id=customer_id)
    customer.tags = clean
    session.flush()
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
