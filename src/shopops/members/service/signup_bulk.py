"""Registering many new customers at once: a checkout wave of first-time buyers, an import.

`register_customers` gives each sign-up what `register_customer`, `set_customer_tags` and
`add_address` called in turn inside one savepoint give it — the same checks and errors, the
same customer and address rows, the same `customer.registered` event and its subscribers'
effects — in a handful of statements for the whole batch: one read of the contacts already
taken, one of the referrers, one multi-row INSERT of customers, one of addresses, one of
events (then each subscriber once over all of them, through its `subscribe_bulk` twin).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shopops.db import DriverInsertMany, now
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.members import events, rules
from shopops.members.models import Address, Customer, Gender
from shopops.members.service.addresses import _clean_address
from shopops.members.service.customers import _email, _phone, clean_tags, customer_exists
from shopops.members.service.referral import referral_code_not_found

_CUSTOMER = cast(Any, Customer.__table__)
_ADDRESS = cast(Any, Address.__table__)
_INSERT_CUSTOMER_ID = _CUSTOMER.insert().returning(_CUSTOMER.c.id)
# The counters' defaults, written out: a driver INSERT applies no Python-side default.
_COUNTERS = {
    "tier_code": "",
    "growth_value": 0,
    "paid_orders": 0,
    "total_paid": 0,
    "points_balance": 0,
    "referral_rewarded": False,
}
_CUSTOMER_COLUMNS = [
    "name",
    "phone",
    "email",
    "gender",
    "birthday",
    "age_band",
    "region",
    "city",
    "acquisition_channel",
    "registered_at",
    "tags",
    "referred_by",
    *_COUNTERS,
]
_ADDRESS_COLUMNS = [
    "customer_id",
    "recipient",
    "phone",
    "province",
    "city",
    "district",
    "detail",
    "postal_code",
    "is_default",
]
# On the driver's cursor, SQL built once per row count (the ORM's insertmanyvalues path cost
# more than the INSERTs); chunks stay well under both drivers' bind limits.
_INSERT_CUSTOMERS = DriverInsertMany(_CUSTOMER, _CUSTOMER_COLUMNS, ["id", "phone", "email"])
_INSERT_ADDRESSES = DriverInsertMany(_ADDRESS, _ADDRESS_COLUMNS, ["id", "customer_id"])
_CHUNK = 400
# A contact registered by another transaction between our check and our INSERT: check again.
_RETRIES = 2


@dataclass(frozen=True, slots=True)
class NewAddress:
    """The sign-up's first saved address (it becomes the default), as `add_address` takes."""

    recipient: str
    phone: str
    province: str
    city: str
    detail: str
    district: str = ""
    postal_code: str = ""


@dataclass(frozen=True, slots=True)
class Signup:
    """One new customer: what `register_customer` takes, their tags and first address.

    `registered_at` is the item's moment (None: the session's clock), as if the store's
    clock were set to it for the item."""

    name: str = ""
    phone: str | None = None
    email: str | None = None
    gender: str = Gender.UNKNOWN
    birthday: dt.date | None = None
    age_band: str = ""
    region: str = ""
    city: str = ""
    acquisition_channel: str = "direct"
    registered_at: dt.datetime | None = None
    referral_code: str | None = None
    tags: Sequence[str] = field(default_factory=tuple)
    address: NewAddress | None = None


@dataclass(frozen=True, slots=True)
class SignedUp:
    """A registered sign-up: the new customer's id and their default address's id."""

    customer_id: int
    address_id: int | None
    referred_by: int | None
    registered_at: dt.datetime

    @property
    def id(self) -> int:
        return self.customer_id


def register_customers(
    session: Session, *, signups: Sequence[Signup]
) -> list[SignedUp | ShopOpsError]:
    """Register `signups` in the given order; per sign-up, what it became or the error that
    refused it (invalid_phone, invalid_email, customer_exists — also against an earlier
    sign-up of the batch —, referral_code_not_found, invalid_input for tags), as the three
    single calls would. A refused sign-up writes nothing; the others go on. A code may name a
    customer registered earlier in the same batch. A naive time or an unknown gender is a
    ValueError before anything is written."""
    for signup in signups:
        if signup.registered_at is not None and signup.registered_at.tzinfo is None:
            raise ValueError("a sign-up's time needs a timezone-aware datetime")
        Gender(signup.gender)
    if not signups:
        return []
    attempt = 0
    while True:
        try:
            with session.begin_nested():
                return _register(session, signups)
        except IntegrityError:
            attempt += 1
            if attempt > _RETRIES:
                raise


@dataclass(slots=True)
class _Pending:
    index: int
    customer: dict[str, Any]
    address: dict[str, Any] | None


def _register(session: Session, signups: Sequence[Signup]) -> list[SignedUp | ShopOpsError]:
    clock = now(session)
    out: list[SignedUp | ShopOpsError | None] = [None] * len(signups)
    contacts: list[tuple[str | None, str | None] | None] = []
    for i, signup in enumerate(signups):
        try:
            contacts.append((_phone(signup.phone), _email(signup.email)))
        except ShopOpsError as exc:
            contacts.append(None)
            out[i] = exc
    phones, emails = _taken(session, [c for c in contacts if c is not None])
    referrer_ids = {
        s.referral_code: rules.decode_referral_code(s.referral_code)
        for s in signups
        if s.referral_code
    }
    wanted = {cid for cid in referrer_ids.values() if cid is not None}
    known: set[int] = (
        set(session.scalars(select(Customer.id).where(Customer.id.in_(wanted))))
        if wanted
        else set()
    )
    pending: list[_Pending] = []
    made: list[tuple[_Pending, int, int | None]] = []
    for i, (signup, contact) in enumerate(zip(signups, contacts, strict=True)):
        if contact is None:
            continue
        phone, email = contact
        try:
            if phone is not None and phone in phones:
                raise customer_exists("phone")
            if email is not None and email in emails:
                raise customer_exists("email")
            referrer = None
            if signup.referral_code:
                referrer = referrer_ids[signup.referral_code]
                if referrer is not None and referrer not in known and pending:
                    # It may be a customer of this batch: write the batch so far, then look.
                    made += _insert(session, pending)
                    known.update(cid for _, cid, _ in made[-len(pending) :])
                    pending = []
                if referrer is None or referrer not in known:
                    raise referral_code_not_found(signup.referral_code)
            tags = clean_tags(signup.tags)
            address = None
            if signup.address is not None:
                a = signup.address
                address = {
                    "recipient": a.recipient,
                    "phone": _clean_address({"phone": a.phone})["phone"],
                    "province": a.province,
                    "city": a.city,
                    "district": a.district,
                    "detail": a.detail,
                    "postal_code": a.postal_code,
                    "is_default": True,  # the first address is the default
                }
        except ShopOpsError as exc:
            out[i] = exc
            continue
        if phone is not None:
            phones.add(phone)
        if email is not None:
            emails.add(email)
        when = signup.registered_at or clock
        age_band = signup.age_band
        if signup.birthday is not None:
            age_band = rules.age_band(signup.birthday, when.date())
        row = {
            "name": signup.name,
            "phone": phone,
            "email": email,
            "gender": Gender(signup.gender).value,
            "birthday": signup.birthday,
            "age_band": age_band,
            "region": signup.region,
            "city": signup.city,
            "acquisition_channel": signup.acquisition_channel,
            "registered_at": when,
            "tags": tags,
            "referred_by": referrer,
        }
        pending.append(_Pending(i, row, address))
    if pending:
        made += _insert(session, pending)
    emit_many(
        session,
        events.CUSTOMER_REGISTERED,
        [
            (
                events.AGGREGATE,
                cid,
                events.customer_profile(cast(Customer, SimpleNamespace(id=cid, **p.customer))),
                p.customer["registered_at"],
            )
            for p, cid, _ in made
        ],
    )
    for p, cid, address_id in made:
        out[p.index] = SignedUp(
            customer_id=cid,
            address_id=address_id,
            referred_by=p.customer["referred_by"],
            registered_at=p.customer["registered_at"],
        )
    return cast(list[SignedUp | ShopOpsError], out)


# The contacts already taken, for a batch: compiled once (the values are expanding parameters).
_TAKEN_PHONES = select(_CUSTOMER.c.phone).where(
    _CUSTOMER.c.phone.in_(bindparam("phones", expanding=True))
)
_TAKEN_EMAILS = select(_CUSTOMER.c.email).where(
    _CUSTOMER.c.email.in_(bindparam("emails", expanding=True))
)


def _taken(
    session: Session, contacts: Sequence[tuple[str | None, str | None]]
) -> tuple[set[str], set[str]]:
    """The batch's phones and e-mails some customer of the store already uses."""
    phones = {p for p, _ in contacts if p is not None}
    emails = {e for _, e in contacts if e is not None}
    if not phones and not emails:
        return set(), set()
    if session.autoflush:  # a Core read: see pending customers as an ORM query would
        session.flush()
    conn = session.connection()
    taken_phones = (
        set(conn.execute(_TAKEN_PHONES, {"phones": sorted(phones)}).scalars()) if phones else set()
    )
    taken_emails = (
        set(conn.execute(_TAKEN_EMAILS, {"emails": sorted(emails)}).scalars()) if emails else set()
    )
    return taken_phones, taken_emails


def _insert(
    session: Session, pending: Sequence[_Pending]
) -> list[tuple[_Pending, int, int | None]]:
    """Write the customers and their addresses (multi-row INSERTs); ids in item order.

    RETURNING rows are matched to the items by a unique column (a customer's phone or e-mail,
    an address's customer) rather than asked for in parameter order, which SQLite can only
    give one row per statement."""
    ids: list[int] = []
    for contactless, run in groupby(pending, key=_contactless):
        rows = [p.customer for p in run]
        if contactless:  # nothing unique to match them by: one statement each (rare)
            ids += [session.execute(_INSERT_CUSTOMER_ID, row).scalar_one() for row in rows]
            continue
        made = {
            (ph, em): cid
            for cid, ph, em in _insert_many(session, _INSERT_CUSTOMERS, rows, _COUNTERS)
        }
        ids += [made[(row["phone"], row["email"])] for row in rows]
    with_address = [(p, cid) for p, cid in zip(pending, ids, strict=True) if p.address]
    address_ids: dict[int, int] = {}
    if with_address:
        rows = [{**cast(dict[str, Any], p.address), "customer_id": cid} for p, cid in with_address]
        address_ids = {cid: aid for aid, cid in _insert_many(session, _INSERT_ADDRESSES, rows, {})}
    return [(p, cid, address_ids.get(cid)) for p, cid in zip(pending, ids, strict=True)]


def _insert_many(
    session: Session, stmt: DriverInsertMany, rows: list[dict[str, Any]], extra: dict[str, Any]
) -> list[Any]:
    """`stmt` over `rows` (each with `extra`) in chunks; the RETURNING rows of all."""
    if session.autoflush:  # a driver statement does not autoflush: pending rows go first
        session.flush()
    conn = session.connection()
    out: list[Any] = []
    for start in range(0, len(rows), _CHUNK):
        out += stmt.execute(conn, [{**r, **extra} for r in rows[start : start + _CHUNK]])
    return out


def _contactless(p: _Pending) -> bool:
    return p.customer["phone"] is None and p.customer["email"] is None
