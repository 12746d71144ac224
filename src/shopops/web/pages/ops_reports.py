"""Reports: the reviews the scheduler wrote under <data_dir>/reports (daily, weekly, monthly),
each viewable as HTML and downloadable as PDF (shopops.ops.reviews)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from shopops.accounts.models import Role
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer
from shopops.web.render import register_page, render

ROLES = register_page("/console/reports", "Reports", Role.OPERATOR, Role.ANALYST)
# What write_reviews names its files: <kind>-<period label>.(html|pdf); nothing else is served.
NAME = re.compile(r"^(daily|weekly|monthly)-[0-9A-Za-z.-]{4,40}\.(html|pdf)$")


def _folder(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir) / "reports"


@router.get("/reports")
def reports_page(
    request: Request, viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))]
) -> Response:
    folder = _folder(request)
    rows = []
    for html in sorted(folder.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True):
        if not NAME.match(html.name):
            continue
        kind, _, label = html.stem.partition("-")
        pdf = html.with_suffix(".pdf")
        rows.append(
            {
                "name": html.name,
                "kind": kind,
                "period": label,
                "pdf": pdf.name if pdf.exists() else None,
            }
        )
    return render(request, "ops_reports.html", viewer, rows=rows)


@router.get("/reports/{name}")
def report_file(
    request: Request, name: str, viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*ROLES))]
) -> Response:
    path = _folder(request) / name
    if not NAME.match(name) or not path.is_file():
        return render(request, "error.html", viewer, 404, message="No such report.")
    if name.endswith(".pdf"):
        return FileResponse(path, media_type="application/pdf", filename=name)
    # Our own review, rendered by an autoescaping template: served as is.
    return HTMLResponse(path.read_text(encoding="utf-8"))
