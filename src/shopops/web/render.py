"""Templates, the page registry (navigation) and rendering with the viewer's locale."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from shopops.accounts.models import Role
from shopops.web.auth import COOKIE, MAX_AGE, ConsoleViewer, encode_session, session_data
from shopops.web.i18n import Formatter

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


@dataclass(frozen=True)
class NavItem:
    """A page in the navigation: shown only to the roles that may open it."""

    path: str
    label: str  # English msgid, translated at render time
    roles: frozenset[Role]


NAV: list[NavItem] = []


def register_page(path: str, label: str, *roles: Role) -> frozenset[Role]:
    """Add a page to the navigation; returns its roles for the route's ConsoleGuard."""
    item = NavItem(path, label, frozenset(roles))
    NAV.append(item)
    return item.roles


def save_session(request: Request, response: HTMLResponse, data: dict[str, Any]) -> None:
    response.set_cookie(
        COOKIE,
        encode_session(request.app.state.console_secret, data),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        path="/console",
    )


def render(
    request: Request,
    template: str,
    viewer: ConsoleViewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    session = session_data(request)
    fmt = Formatter(viewer.locale if viewer else session.get("locale", "zh_CN"))
    html = TEMPLATES.get_template(template).render(
        request=request,
        viewer=viewer,
        nav=[n for n in NAV if viewer and viewer.may(n.roles)],
        csrf=session["csrf"],
        f=fmt,
        _=fmt.gettext,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if getattr(request.state, "console_session_new", False):
        save_session(request, response, session)
    return response
