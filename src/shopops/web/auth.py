"""Console sessions: an HMAC-signed cookie holding the user id and a CSRF token; role guards
that redirect to sign-in (no session) or answer 403 (wrong role)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request

from shopops.accounts.models import ConsoleUser, Role
from shopops.accounts.service import get_console_user
from shopops.db import session_scope

COOKIE = "shopops_console"
MAX_AGE = 12 * 3600


class NeedsSignIn(Exception):
    """No valid session: the console answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str = "") -> None:
        self.next_url = next_url


class ConsoleForbidden(Exception):
    """Signed in, but this page or action is not for the user's role (403 page)."""


class BadCsrf(Exception):
    """A form came without the session's CSRF token (403 page, nothing changed)."""


def console_secret(data_dir: Path | None = None) -> bytes:
    """`SHOPOPS_CONSOLE_SECRET`, else one random secret kept in the data directory, so that every
    worker process and every restart signs sessions alike; without a directory, a per-process
    one."""
    env = os.environ.get("SHOPOPS_CONSOLE_SECRET")
    if env:
        return env.encode()
    if data_dir is None:
        return secrets.token_bytes(32)
    path = data_dir / "console.secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: when workers start together, the first one writes and the others read it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            secret = path.read_bytes()
            if len(secret) == 32:
                return secret
            time.sleep(0.01)  # the writer is between create and write
        raise RuntimeError(f"{path} is damaged: delete it to sign everyone out") from None
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as out:
        out.write(secret)
    return secret


def _sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def encode_session(secret: bytes, data: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return body.decode() + "." + _sign(secret, body)


def decode_session(secret: bytes, cookie: str | None) -> dict[str, Any]:
    if not cookie or "." not in cookie:
        return {}
    body, _, sig = cookie.rpartition(".")
    if not hmac.compare_digest(sig, _sign(secret, body.encode())):
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return {}
    if not isinstance(data, dict) or time.time() - float(data.get("iat", 0)) > MAX_AGE:
        return {}
    return data


def session_data(request: Request) -> dict[str, Any]:
    """The request's console session (cached on the request), with a CSRF token always set."""
    cached = getattr(request.state, "console_session", None)
    if cached is None:
        cached = decode_session(request.app.state.console_secret, request.cookies.get(COOKIE))
        if "csrf" not in cached:
            cached = {"csrf": secrets.token_urlsafe(24), "iat": time.time()}
            request.state.console_session_new = True
        request.state.console_session = cached
    return cached


@dataclass(frozen=True)
class ConsoleViewer:
    """The signed-in person, detached from the database session."""

    id: int
    username: str
    display_name: str
    role: Role
    locale: str

    @classmethod
    def of(cls, row: ConsoleUser) -> ConsoleViewer:
        return cls(row.id, row.username, row.display_name, Role(row.role), row.locale)

    def may(self, roles: frozenset[Role]) -> bool:
        return self.role is Role.ADMIN or self.role in roles

    @property
    def sees_pii(self) -> bool:
        # Customer service needs the phone and address to help; others see them masked.
        return self.role in (Role.ADMIN, Role.AGENT)


def current_viewer(request: Request) -> ConsoleViewer | None:
    uid = session_data(request).get("uid")
    if not isinstance(uid, int):
        return None
    with session_scope(request.app.state.engine, readonly=True) as s:
        row = get_console_user(s, user_id=uid)
        return None if row is None else ConsoleViewer.of(row)


class ConsoleGuard:
    """A dependency letting through the signed-in roles it names (admin always)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, request: Request) -> ConsoleViewer:
        viewer = current_viewer(request)
        if viewer is None:
            raise NeedsSignIn(str(request.url.path))
        request.state.console_viewer = viewer
        if not viewer.may(self.roles):
            raise ConsoleForbidden
        return viewer


def check_csrf(request: Request, token: str | None) -> None:
    expected = session_data(request).get("csrf", "")
    if not token or not hmac.compare_digest(str(expected), token):
        raise BadCsrf


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_text(text: str) -> str:
    return text[:2] + "…" if text else ""
