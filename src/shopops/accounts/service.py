"""Use cases of access: create, authenticate and revoke API keys."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.accounts.errors import (
    InvalidApiKey,
    InvalidCredentials,
    UnknownRole,
    UsernameTaken,
    WeakPassword,
)
from shopops.accounts.models import STAFF_ROLES, ApiKey, ConsoleUser, Role
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


# --- console accounts -------------------------------------------------------------------

_hasher = PasswordHasher()
LOCALES = ("zh_CN", "en")


def create_console_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str,
    display_name: str = "",
    locale: str = "zh_CN",
) -> ConsoleUser:
    """A console account; the password is kept only as an argon2id hash."""
    name = username.strip()
    if not name or len(name) > 64 or not name.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput(
            "username: 1-64 letters, digits, '_' or '.'", details={"field": "username"}
        )
    try:
        parsed = Role(role)
    except ValueError as exc:
        raise UnknownRole(
            f"unknown role {role!r}", details={"allowed": [r.value for r in STAFF_ROLES]}
        ) from exc
    if parsed not in STAFF_ROLES:
        raise UnknownRole(
            f"role {role!r} cannot sign in to the console",
            details={"allowed": [r.value for r in STAFF_ROLES]},
        )
    if len(password) < 8:
        raise WeakPassword(
            "the password needs at least 8 characters", details={"field": "password"}
        )
    if locale not in LOCALES:
        raise InvalidInput(f"locale must be one of {LOCALES}", details={"field": "locale"})
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == name)) is not None:
        raise UsernameTaken(f"username {name!r} is taken", details={"field": "username"})
    row = ConsoleUser(
        username=name,
        display_name=display_name or name,
        role=parsed.value,
        password_hash=_hasher.hash(password),
        locale=locale,
        active=True,
        created_at=now(session),
    )
    session.add(row)
    session.flush()
    return row


def authenticate_console_user(session: Session, *, username: str, password: str) -> ConsoleUser:
    """The active account with this username and password; one error for every failure."""
    row = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username.strip()))
    try:
        if row is None or not row.active or not _hasher.verify(row.password_hash, password):
            raise VerifyMismatchError
    except (VerifyMismatchError, InvalidHashError) as exc:
        raise InvalidCredentials("wrong username or password") from exc
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.last_login_at = now(session)
    return row


def get_console_user(session: Session, *, user_id: int) -> ConsoleUser | None:
    row = session.get(ConsoleUser, user_id)
    return row if row is not None and row.active else None


def set_console_locale(session: Session, *, user_id: int, locale: str) -> ConsoleUser:
    if locale not in LOCALES:
        raise InvalidInput(f"locale must be one of {LOCALES}", details={"field": "locale"})
    row = session.get(ConsoleUser, user_id)
    if row is None:
        raise NotFound(f"no console user {user_id}")
    row.locale = locale
    return row
