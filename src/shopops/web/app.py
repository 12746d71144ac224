"""The console's router: sign-in/out, language, static assets, error pages; the pages
register themselves from `shopops.web.pages`."""

from __future__ import annotations

import importlib
import importlib.util
import time
from pathlib import Path
from typing import Annotated

import plotly
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from shopops.accounts.errors import InvalidCredentials
from shopops.accounts.service import authenticate_console_user, set_console_locale
from shopops.db import session_scope
from shopops.web.auth import (
    BadCsrf,
    ConsoleForbidden,
    NeedsSignIn,
    check_csrf,
    console_secret,
    current_viewer,
    session_data,
)
from shopops.web.i18n import LOCALES
from shopops.web.render import render, save_session

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Navigation order; a module listed here that does not exist yet is skipped, so an area can
# add its page module without editing this file again.
PAGES = ("overview", "orders", "returns", "traffic", "conversion", "customers", "products")
PAGES += ("promotions", "catalog", "reviews")
# Operations' pages (goals, alerts, reports: shopops.ops).
PAGES += ("ops_goals", "ops_alerts", "ops_reports")
# Suppliers and purchase orders (shopops.purchasing).
PAGES += ("purchasing",)

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    # Served from the installed plotly package: works offline, no CDN.
    return FileResponse(PLOTLY_JS, media_type="text/javascript")


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/console/") -> HTMLResponse:
    return render(request, "login.html", None, next=next, error=None, username="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=300)] = "/console/",
) -> Response:
    check_csrf(request, csrf)
    try:
        with session_scope(request.app.state.engine) as s:
            user = authenticate_console_user(s, username=username, password=password)
            uid = user.id
    except InvalidCredentials:
        return render(
            request,
            "login.html",
            None,
            status_code=401,
            next=next,
            error="Wrong username or password.",
            username=username,
        )
    # Only local paths: a sign-in link must not bounce the user to another site.
    target = next if next.startswith("/console") else "/console/"
    response = RedirectResponse(target, status_code=303)
    data = dict(session_data(request))
    save_session(request, response, {**data, "uid": uid, "iat": time.time()})  # type: ignore[arg-type]
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=64)] = "") -> Response:
    check_csrf(request, csrf)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie("shopops_console", path="/console")
    return response


@router.post("/locale")
def change_locale(
    request: Request,
    locale: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=300)] = "/console/",
) -> Response:
    check_csrf(request, csrf)
    viewer = current_viewer(request)
    if viewer is None:
        raise NeedsSignIn(back)
    if locale in LOCALES:
        with session_scope(request.app.state.engine) as s:
            set_console_locale(s, user_id=viewer.id, locale=locale)
    target = back if back.startswith("/console") else "/console/"
    return RedirectResponse(target, status_code=303)


def install_console(app: FastAPI) -> None:
    """Mount the console at /console with its HTML error pages (the API keeps its JSON)."""
    app.state.console_secret = console_secret(app.state.settings.data_dir)
    for name in PAGES:
        if importlib.util.find_spec(f"shopops.web.pages.{name}") is not None:
            importlib.import_module(f"shopops.web.pages.{name}")
    app.include_router(router)

    @app.exception_handler(NeedsSignIn)
    async def _sign_in(request: Request, exc: NeedsSignIn) -> Response:
        return RedirectResponse(f"/console/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(ConsoleForbidden)
    async def _forbidden(request: Request, _: ConsoleForbidden) -> Response:
        viewer = getattr(request.state, "console_viewer", None)
        return render(request, "error.html", viewer, 403, message="Your role may not open this.")

    @app.exception_handler(BadCsrf)
    async def _csrf(request: Request, _: BadCsrf) -> Response:
        msg = "The form expired. Reload the page and try again."
        return render(request, "error.html", None, 403, message=msg)
