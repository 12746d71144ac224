"""Routes of the members domain: registration, the shopper's profile and addresses, and the
back office's customer list (PII masked for roles that do not need it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from shopops.accounts.service import Principal, create_api_key
from shopops.api.deps import Operator, SessionDep, Shopper, Staff
from shopops.db import now
from shopops.members import rules, service
from shopops.members.errors import InvalidPoints, PiiHidden
from shopops.members.models import Gender
from shopops.members.schemas import (
    AddressCreate,
    AddressRead,
    AddressUpdate,
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerRead,
    CustomerRegistered,
    CustomerUpdate,
    EvaluationRead,
    MembershipRead,
    PointsAdjust,
    PointsEntryRead,
    PointsExpire,
    PointsPage,
    PointsTotals,
    ReferralApply,
    ReferralCodeRead,
    SignInRead,
    TierCreate,
    TierRead,
    TierUpdate,
)

router = APIRouter(tags=["members"])


def shopper_id(principal: Principal) -> int:
    """The customer a storefront key acts for (storefront keys always have one)."""
    assert principal.customer_id is not None
    return principal.customer_id


def _for_role(customer: CustomerRead, principal: Principal) -> CustomerRead:
    return customer if rules.sees_pii(principal.role.value) else customer.masked()


def _address_for_role(address: AddressRead, principal: Principal) -> AddressRead:
    if rules.sees_pii(principal.role.value):
        return address
    return AddressRead.model_validate(rules.mask_address(address.model_dump()))


@router.post(
    "/storefront/customers", status_code=status.HTTP_201_CREATED, response_model=CustomerRegistered
)
def register_customer(body: CustomerCreate, session: SessionDep) -> CustomerRegistered:
    """Public: sign up with a phone number; returns a storefront API key for the new customer."""
    customer = service.register_customer(session, **body.model_dump())
    _, key = create_api_key(
        session, role="storefront", customer_id=customer.id, name=f"customer {customer.id}"
    )
    return CustomerRegistered(customer=CustomerRead.model_validate(customer), api_key=key)


@router.get("/storefront/me", response_model=CustomerRead)
def read_me(session: SessionDep, principal: Shopper) -> CustomerRead:
    customer = service.get_customer(session, customer_id=shopper_id(principal))
    return CustomerRead.model_validate(customer)


@router.patch("/storefront/me", response_model=CustomerRead)
def update_me(body: CustomerUpdate, session: SessionDep, principal: Shopper) -> CustomerRead:
    customer = service.update_customer(
        session, customer_id=shopper_id(principal), changes=body.changes()
    )
    return CustomerRead.model_validate(customer)


@router.get("/storefront/addresses", response_model=list[AddressRead])
def list_addresses(session: SessionDep, principal: Shopper) -> list[AddressRead]:
    rows = service.list_addresses(session, customer_id=shopper_id(principal))
    return [AddressRead.model_validate(a) for a in rows]


@router.post(
    "/storefront/addresses", status_code=status.HTTP_201_CREATED, response_model=AddressRead
)
def add_address(body: AddressCreate, session: SessionDep, principal: Shopper) -> AddressRead:
    address = service.add_address(session, customer_id=shopper_id(principal), **body.model_dump())
    return AddressRead.model_validate(address)


@router.get("/storefront/addresses/{address_id}", response_model=AddressRead)
def read_address(address_id: int, session: SessionDep, principal: Shopper) -> AddressRead:
    address = service.get_address(session, customer_id=shopper_id(principal), address_id=address_id)
    return AddressRead.model_validate(address)


@router.patch("/storefront/addresses/{address_id}", response_model=AddressRead)
def update_address(
    address_id: int, body: AddressUpdate, session: SessionDep, principal: Shopper
) -> AddressRead:
    address = service.update_address(
        session, customer_id=shopper_id(principal), address_id=address_id, changes=body.changes()
    )
    return AddressRead.model_validate(address)


@router.delete("/storefront/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_address(address_id: int, session: SessionDep, principal: Shopper) -> Response:
    service.delete_address(session, customer_id=shopper_id(principal), address_id=address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/admin/customers", response_model=CustomerPage)
def list_customers(
    session: SessionDep,
    principal: Staff,
    q: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=50)] = None,
    city: Annotated[str | None, Query(max_length=50)] = None,
    acquisition_channel: Annotated[str | None, Query(max_length=32)] = None,
    age_band: Annotated[str | None, Query(max_length=10)] = None,
    gender: Gender | None = None,
    registered_from: dt.datetime | None = None,
    registered_to: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CustomerPage:
    """Customers, newest first. Searching by phone or e-mail needs a role that sees them."""
    if q and not rules.sees_pii(principal.role.value):
        # A masked list must not become an oracle for "is this phone a customer?".
        raise PiiHidden(
            "searching by name, phone or e-mail needs a role that sees them",
            details={"param": "q"},
        )
    rows, total = service.list_customers(
        session,
        q=q,
        region=region,
        city=city,
        acquisition_channel=acquisition_channel,
        age_band=age_band,
        gender=gender,
        registered_from=registered_from,
        registered_to=registered_to,
        limit=limit,
        offset=offset,
    )
    items = [_for_role(CustomerRead.model_validate(c), principal) for c in rows]
    return CustomerPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/admin/customers/{customer_id}", response_model=CustomerDetail)
def read_customer(customer_id: int, session: SessionDep, principal: Staff) -> CustomerDetail:
    customer = _for_role(
        CustomerRead.model_validate(service.get_customer(session, customer_id=customer_id)),
        principal,
    )
    addresses = [
        _address_for_role(AddressRead.model_validate(a), principal)
        for a in service.list_addresses(session, customer_id=customer_id)
    ]
    return CustomerDetail(**customer.model_dump(), addresses=addresses)


# --- membership, points, referral -------------------------------------------------------------


@router.get("/storefront/membership", response_model=MembershipRead, tags=["storefront"])
def read_membership(session: SessionDep, principal: Shopper) -> MembershipRead:
    """The shopper's tier, growth value, the next tier and the points balance."""
    profile = service.customer_profile(session, customer_id=shopper_id(principal))
    tiers = service.list_tiers(session)
    current = next((t for t in tiers if t.code == profile.tier), None)
    higher = [t for t in tiers if t.threshold > (current.threshold if current else 0)]
    upcoming = min(higher, key=lambda t: t.threshold) if higher else None
    return MembershipRead(
        tier=TierRead.of(current) if current else None,
        growth_value=profile.growth_value,
        next_tier=TierRead.of(upcoming) if upcoming else None,
        growth_to_next=max(0, upcoming.threshold - profile.growth_value) if upcoming else None,
        paid_orders=profile.paid_orders,
        total_paid=profile.total_paid,
        points_balance=profile.points_balance,
        tiers=[TierRead.of(t) for t in tiers],
    )


@router.get("/storefront/points", response_model=PointsPage, tags=["storefront"])
def read_points(
    session: SessionDep,
    principal: Shopper,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PointsPage:
    """The balance and one page of the ledger, newest first."""
    customer_id = shopper_id(principal)
    rows, total = service.ledger(session, customer_id=customer_id, limit=limit, offset=offset)
    return PointsPage(
        balance=service.balance(session, customer_id=customer_id),
        items=[PointsEntryRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post("/storefront/points/sign-in", response_model=SignInRead, tags=["storefront"])
def sign_in(session: SessionDep, principal: Shopper) -> SignInRead:
    """Daily sign-in (签到): points once a day; again the same day changes nothing."""
    entry, credited = service.sign_in(session, customer_id=shopper_id(principal))
    return SignInRead(
        entry=PointsEntryRead.model_validate(entry),
        credited=credited,
        balance=service.balance(session, customer_id=shopper_id(principal)),
    )


@router.get("/storefront/referral-code", response_model=ReferralCodeRead, tags=["storefront"])
def read_referral_code(session: SessionDep, principal: Shopper) -> ReferralCodeRead:
    """The shopper's referral code to share, and who referred them."""
    customer = service.get_customer(session, customer_id=shopper_id(principal))
    return ReferralCodeRead(
        code=service.referral_code(session, customer_id=customer.id),
        referred_by=customer.referred_by,
    )


@router.post("/storefront/referral", response_model=ReferralCodeRead, tags=["storefront"])
def apply_referral(
    body: ReferralApply, session: SessionDep, principal: Shopper
) -> ReferralCodeRead:
    """Enter a friend's code after signing up (before the first paid order)."""
    customer = service.attribute_referral(
        session, customer_id=shopper_id(principal), code=body.code
    )
    return ReferralCodeRead(
        code=service.referral_code(session, customer_id=customer.id),
        referred_by=customer.referred_by,
    )


@router.get("/admin/membership/tiers", response_model=list[TierRead])
def list_tiers(session: SessionDep, principal: Staff) -> list[TierRead]:
    return [TierRead.of(t) for t in service.list_tiers(session)]


@router.post(
    "/admin/membership/tiers", response_model=TierRead, status_code=status.HTTP_201_CREATED
)
def create_tier(body: TierCreate, session: SessionDep, principal: Operator) -> TierRead:
    """Add a tier; thresholds must strictly increase and discounts never shrink upwards."""
    values = body.model_dump()
    return TierRead.of(service.create_tier(session, **values))


@router.patch("/admin/membership/tiers/{code}", response_model=TierRead)
def update_tier(code: str, body: TierUpdate, session: SessionDep, principal: Operator) -> TierRead:
    return TierRead.of(service.update_tier(session, code=code, changes=body.changes()))


@router.delete("/admin/membership/tiers/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tier(code: str, session: SessionDep, principal: Operator) -> Response:
    service.delete_tier(session, code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/admin/membership/evaluate", response_model=EvaluationRead)
def evaluate_tiers(session: SessionDep, principal: Operator) -> EvaluationRead:
    """Re-evaluate every member's tier over the trailing window (may downgrade)."""
    return EvaluationRead(**service.evaluate_tiers(session))


@router.post("/admin/membership/birthday-gifts", response_model=PointsTotals)
def grant_birthday_gifts(session: SessionDep, principal: Operator) -> PointsTotals:
    """Grant today's birthday gifts (once a year per member); a daily job calls the same."""
    granted = service.grant_birthday_gifts(session)
    return PointsTotals(customers=len(granted), points=sum(granted.values()))


@router.post("/admin/points/adjust", response_model=PointsEntryRead)
def adjust_points(body: PointsAdjust, session: SessionDep, principal: Operator) -> PointsEntryRead:
    """Credit or debit a customer's points with a reason (a debit cannot pass the balance)."""
    entry = service.adjust_points(
        session, customer_id=body.customer_id, amount=body.amount, reason=body.reason, ref=body.ref
    )
    return PointsEntryRead.model_validate(entry)


@router.post("/admin/points/expire", response_model=PointsTotals)
def expire_points(
    session: SessionDep, principal: Operator, body: PointsExpire | None = None
) -> PointsTotals:
    """Expire the points whose lots have run out (FIFO); running it twice expires nothing more."""
    as_of = body.as_of if body is not None and body.as_of is not None else None
    if as_of is not None and as_of.tzinfo is None:
        raise InvalidPoints("as_of needs a time zone", details={"field": "as_of"})
    expired = service.expire_points(session, as_of=as_of or now(session))
    return PointsTotals(customers=len(expired), points=sum(expired.values()))
