"""Routes of the members domain: registration, the shopper's profile and addresses, and the
back office's customer list (PII masked for roles that do not need it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from shopops.accounts.service import Principal, create_api_key
from shopops.api.deps import SessionDep, Shopper, Staff
from shopops.members import rules, service
from shopops.members.errors import PiiHidden
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
