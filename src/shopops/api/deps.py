"""Request dependencies: the unit of work and the caller's role.

The session dependency owns the transaction: it commits when the route returns and rolls back
when it raises (scope="function": before the response is sent, so a failed commit is an error
the client sees, never a 200 for lost work).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from shopops.accounts.errors import MissingApiKey, WrongRole
from shopops.accounts.models import Role
from shopops.accounts.service import Principal, authenticate
from shopops.db import session_scope

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.engine, readonly=request.method in READ_METHODS) as s:
        yield s


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


class RoleGuard:
    """A dependency that lets through only the roles it names; routes declare one each.

    `roles` is read by the test that checks every route refuses every other role.
    """

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, request: Request, session: SessionDep) -> Principal:
        key = _bearer(request)
        if key is None:
            raise MissingApiKey("send an API key: 'Authorization: Bearer sk_…'")
        principal = authenticate(session, key)
        if principal.role not in self.roles and principal.role is not Role.ADMIN:
            raise WrongRole(
                f"role {principal.role.value!r} may not do this",
                details={"allowed": sorted(r.value for r in self.roles | {Role.ADMIN})},
            )
        request.state.principal = principal
        return principal


def allow(*roles: Role) -> RoleGuard:
    """`Depends(allow(Role.OPERATOR))`: admin is always allowed too."""
    return RoleGuard(*roles)


Staff = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.AGENT, Role.ANALYST))]
Operator = Annotated[Principal, Depends(allow(Role.OPERATOR))]
OperatorOrAgent = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.AGENT))]
Analyst = Annotated[Principal, Depends(allow(Role.ANALYST, Role.OPERATOR))]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
Shopper = Annotated[Principal, Depends(allow(Role.STOREFRONT))]
