"""Use cases of access: create, authenticate and revoke API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.accounts.errors import InvalidApiKey, UnknownRole
from shopops.accounts.models import ApiKey, Role
from shopops.accounts.rules import display_prefix, hash_key, new_key
from shopops.db import now
from shopops.errors import InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's role, and for storefront keys the customer it acts for."""

    key_id: int
    role: Role
    customer_id: int | None = None


def create_api_key(
    session: Session, *, role: str, name: str = "", customer_id: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plain key, which is shown once and never stored."""
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise UnknownRole(
            f"unknown role {role!r}", details={"allowed": [r.value for r in Role]}
        ) from exc
    if (parsed is Role.STOREFRONT) != (customer_id is not None):
        raise InvalidInput("a storefront key acts for exactly one customer; staff keys for none")
    plain = new_key()
    row = ApiKey(
        name=name,
        prefix=display_prefix(plain),
        key_hash=hash_key(plain),
        role=parsed.value,
        customer_id=customer_id,
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    return row, plain


def authenticate(session: Session, plain_key: str) -> Principal:
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plain_key)))
    if row is None or row.revoked_at is not None:
        raise InvalidApiKey("the API key is unknown or revoked")
    return Principal(key_id=row.id, role=Role(row.role), customer_id=row.customer_id)


def revoke_api_key(session: Session, *, key_id: int) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now(session)
    return row


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))
