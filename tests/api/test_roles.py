"""Every route declares who may call it, and refuses everyone else.

Walks the app's routes: a route is either public (listed below, on purpose) or guarded by a
`RoleGuard`; for a guarded route, a request without a key gets 401 and a request with a key of
any role it does not allow gets 403 — before any body validation or work happens.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from shopops.accounts.models import Role
from shopops.api.deps import RoleGuard

PUBLIC_PREFIXES = (
    "/healthz",
    "/metrics",
    "/storefront/categories",
    "/storefront/products",
    "/payments/callback",
)
# Sign-up, and behavioural tracking from anonymous browsers (PostHog-style public ingestion;
# the events carry no authority and are validated one by one).
PUBLIC_EXACT = {
    ("POST", "/storefront/customers"),
    ("POST", "/t/batch"),
    ("POST", "/t/events"),
}


def _guards(dependant) -> list[RoleGuard]:  # type: ignore[no-untyped-def]
    found = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, RoleGuard):
            found.append(dep.call)
        found.extend(_guards(dep))
    return found


def _walk(routes):  # type: ignore[no-untyped-def]
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI keeps included routers nested
            yield from _walk(route.original_router.routes)


def _routes(app) -> list[tuple[str, str, APIRoute]]:  # type: ignore[no-untyped-def]
    out = []
    for route in _walk(app.routes):
        if route.include_in_schema:
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                out.append((method, route.path, route))
    return out


def _is_public(method: str, path: str) -> bool:
    return (
        (method, path) in PUBLIC_EXACT
        or (method == "GET" and path.startswith(PUBLIC_PREFIXES))
        or path == "/payments/callback"
    )


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_is_public_on_purpose_or_guarded(client):
    unguarded = [
        f"{m} {p}"
        for m, p, r in _routes(client.app)
        if not _guards(r.dependant) and not _is_public(m, p)
    ]
    assert unguarded == []


def test_guarded_routes_refuse_missing_and_wrong_roles(client, api_headers):
    headers = {role: api_headers(role) for role in (Role.OPERATOR, Role.ANALYST, Role.AGENT)}
    headers[Role.STOREFRONT] = None  # built lazily: needs a customer
    checked = 0
    for method, path, route in _routes(client.app):
        guards = _guards(route.dependant)
        if not guards:
            continue
        allowed = set().union(*(g.roles for g in guards)) | {Role.ADMIN}
        url = _concrete(path)
        resp = client.request(method, url, json={})
        assert resp.status_code == 401, (method, path, resp.text)
        assert resp.json()["code"] in {"missing_api_key", "invalid_api_key"}
        for role in (Role.OPERATOR, Role.ANALYST, Role.AGENT, Role.STOREFRONT):
            if role in allowed:
                continue
            if role is Role.STOREFRONT and headers[role] is None:
                headers[role] = _storefront_headers(client, api_headers)
            resp = client.request(method, url, json={}, headers=headers[role])
            assert resp.status_code == 403, (method, path, role, resp.text)
            assert resp.json()["code"] == "wrong_role"
            checked += 1
    assert checked > 0


def _storefront_headers(client, api_headers):  # type: ignore[no-untyped-def]
    from shopops.db import session_scope
    from shopops.members.models import Customer

    with session_scope(client.app.state.engine) as s:
        c = Customer(name="role-test", phone="13900000001")
        s.add(c)
        s.flush()
        cid = c.id
    return api_headers("storefront", customer_id=cid)


def test_bad_keys(client):
    resp = client.get("/admin/api-keys", headers={"Authorization": "Bearer sk_nope"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "invalid_api_key"
    resp = client.get("/admin/api-keys", headers={"X-API-Key": "sk_nope"})
    assert resp.json()["code"] == "invalid_api_key"


@pytest.mark.parametrize("role", ["operator", "analyst", "agent"])
def test_only_admin_manages_keys(client, api_headers, role):
    resp = client.post("/admin/api-keys", json={"role": "analyst"}, headers=api_headers(role))
    assert resp.status_code == 403
