"""API schemas of customers and addresses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shopops.members import rules
from shopops.members.models import Gender


def _phone(value: str) -> str:
    return rules.normalize_phone(value)


def _email(value: str) -> str:
    return rules.normalize_email(value)


def _postal_code(value: str) -> str:
    if not rules.is_postal_code(value):
        raise ValueError("a postal code is 6 digits")
    return value


def _birthday(value: dt.date | None) -> dt.date | None:
    if value is not None and not dt.date(1900, 1, 1) <= value <= dt.date.today():
        raise ValueError("the birthday must be between 1900 and today")
    return value


Phone = Annotated[str, Field(min_length=11, max_length=20), AfterValidator(_phone)]
Email = Annotated[str, Field(max_length=200), AfterValidator(_email)]
PostalCode = Annotated[str, Field(max_length=10), AfterValidator(_postal_code)]
Birthday = Annotated[dt.date | None, AfterValidator(_birthday)]


class CustomerCreate(BaseModel):
    """Storefront registration: a phone number is required, the rest is optional."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100)
    phone: Phone
    email: Email | None = None
    gender: Gender = Gender.UNKNOWN
    birthday: Birthday = None
    region: str = Field(default="", max_length=50)
    city: str = Field(default="", max_length=50)
    acquisition_channel: str = Field(
        default="direct", min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$"
    )


class CustomerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=100)
    phone: Phone | None = None
    email: Email | None = None
    gender: Gender | None = None
    birthday: Birthday = None
    region: str | None = Field(default=None, max_length=50)
    city: str | None = Field(default=None, max_length=50)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent; a null clears only e-mail and birthday."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k in {"email", "birthday"}}


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    phone: str | None
    email: str | None
    gender: str
    birthday: dt.date | None
    age_band: str
    region: str
    city: str
    acquisition_channel: str
    registered_at: dt.datetime

    def masked(self) -> CustomerRead:
        """The same customer as a role without PII access sees it."""
        return CustomerRead.model_validate(rules.mask_customer(self.model_dump()))


class CustomerDetail(CustomerRead):
    addresses: list[AddressRead]


class CustomerRegistered(BaseModel):
    customer: CustomerRead
    api_key: str = Field(description="The storefront key acting for this customer, shown once")


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    total: int
    limit: int
    offset: int


class AddressCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(min_length=1, max_length=100)
    phone: Phone
    province: str = Field(min_length=1, max_length=50)
    city: str = Field(min_length=1, max_length=50)
    district: str = Field(default="", max_length=50)
    detail: str = Field(min_length=1, max_length=200)
    postal_code: PostalCode = ""
    is_default: bool = False


class AddressUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str | None = Field(default=None, min_length=1, max_length=100)
    phone: Phone | None = None
    province: str | None = Field(default=None, min_length=1, max_length=50)
    city: str | None = Field(default=None, min_length=1, max_length=50)
    district: str | None = Field(default=None, max_length=50)
    detail: str | None = Field(default=None, min_length=1, max_length=200)
    postal_code: PostalCode | None = None
    is_default: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, without nulls (a null never clears a required field)."""
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class AddressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    recipient: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    postal_code: str
    is_default: bool


CustomerDetail.model_rebuild()
