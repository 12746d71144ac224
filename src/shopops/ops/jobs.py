"""The operations jobs `serve` schedules (shopops/jobs.py lists them): each one unit of work
per step, idempotent per day and safe to rerun for a past day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shopops.config import Settings
from shopops.db import now, session_scope
from shopops.errors import InvalidInput


class InvalidBackfill(InvalidInput):
    code = "invalid_backfill"


def evaluate_alerts(
    settings: Settings,
    engine: Engine,
    day: dt.date,
    *,
    notify: bool = True,
    warehouse: Any = None,
    series_cache: Any = None,
    **retry: Any,
) -> dict[str, Any]:
    """Evaluate `day` and commit the alerts first; only then notify (in its own unit of work),
    so a channel that is down can never block or undo the evaluation."""
    from shopops.analytics.engine import open_warehouse
    from shopops.ops.alerts.service import alert_to_dict, evaluate_day, install_default_rules
    from shopops.ops.notify.service import load_channels, notify_alerts

    wh = warehouse or open_warehouse(settings.data_dir)
    with session_scope(engine) as s:
        install_default_rules(s)
        report = evaluate_day(s, wh, day, timezone=settings.timezone, series_cache=series_cache)
        opened = [alert_to_dict(a) for a in report.opened]
        out = report.to_dict()
    out["deliveries"] = 0
    if notify and opened:
        channels = load_channels(settings.data_dir)
        with session_scope(engine) as s:
            out["deliveries"] = len(
                notify_alerts(s, opened, channels, timezone=settings.timezone, **retry)
            )
    return out


def backfill_alerts(
    engine: Engine,
    data_dir: Path | str,
    days: int = 30,
    *,
    end: dt.date | None = None,
    timezone: str = "Asia/Shanghai",
    notify: bool = False,
) -> dict[str, Any]:
    """Evaluate the last `days` days up to `end` (default: yesterday in shop time), oldest
    first, one committed unit of work per day. Idempotent: a rerun opens nothing twice (one
    alert per rule key and day) and the automatic actions find what they made before. Old
    days are not notified unless asked (nobody wants thirty days of alerts at once)."""
    from zoneinfo import ZoneInfo

    from shopops.analytics.engine import open_warehouse
    from shopops.ops.anomaly.series_cache import SeriesCache

    if not 1 <= days <= 366:
        raise InvalidBackfill(
            f"days must lie in 1..366, not {days}", details={"days": days, "max": 366}
        )
    settings = Settings(data_dir=Path(data_dir), timezone=timezone)
    if end is None:
        with session_scope(engine, readonly=True) as s:
            end = now(s).astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)
    wh = open_warehouse(data_dir)
    cache = SeriesCache(until=end)  # the days' series read once, not once a day
    per_day: list[dict[str, Any]] = []
    for k in range(days - 1, -1, -1):
        day = end - dt.timedelta(days=k)
        rep = evaluate_alerts(
            settings, engine, day, notify=notify, warehouse=wh, series_cache=cache
        )
        per_day.append({"day": day.isoformat(), "opened": len(rep["opened"])})
    return {
        "first": (end - dt.timedelta(days=days - 1)).isoformat(),
        "last": end.isoformat(),
        "opened": sum(d["opened"] for d in per_day),
        "days": per_day,
    }


def evaluate_yesterday(session: Session, settings: Settings) -> int:
    """The scheduled run: yesterday in shop time (reruns open nothing twice), then resend
    what quiet hours held or a down channel failed."""
    from zoneinfo import ZoneInfo

    from shopops.ops.notify.service import load_channels, redeliver

    engine = session.get_bind()
    assert isinstance(engine, Engine)
    today = now(session).astimezone(ZoneInfo(settings.timezone)).date()
    report = evaluate_alerts(settings, engine, today - dt.timedelta(days=1))
    redeliver(session, load_channels(settings.data_dir), timezone=settings.timezone)
    return len(report["opened"])


def write_reviews(session: Session, settings: Settings) -> int:
    """The scheduled reviews: yesterday's daily review, last week's on Mondays, last month's
    on the 1st, as HTML and PDF under <data_dir>/reports/. A review already written is left
    alone (rerunning is free); a new one is announced on the channels that take level 1."""
    from zoneinfo import ZoneInfo

    from shopops.analytics.engine import open_warehouse
    from shopops.ops.notify.rules import Message
    from shopops.ops.notify.service import deliver, load_channels
    from shopops.ops.reviews.render import render_html, render_pdf
    from shopops.ops.reviews.service import build_review

    today = now(session).astimezone(ZoneInfo(settings.timezone)).date()
    yesterday = today - dt.timedelta(days=1)
    due = [("daily", yesterday)]
    if today.weekday() == 0:
        due.append(("weekly", yesterday))
    if today.day == 1:
        due.append(("monthly", yesterday))
    folder = settings.data_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    wh = open_warehouse(settings.data_dir)
    written = 0
    for kind, day in due:
        review = build_review(session, wh, kind, day, timezone=settings.timezone)
        stem = f"{kind}-{review.period.label}"
        if (folder / f"{stem}.pdf").exists():
            continue
        (folder / f"{stem}.html").write_text(render_html(review), encoding="utf-8")
        render_pdf(review, folder / f"{stem}.pdf")
        written += 1
        lines = tuple(f"{k['name_zh']} {k['value']} ({k['change']})" for k in review.kpis[:6])
        for ch in load_channels(settings.data_dir):
            if 1 in ch.levels:
                link = ch.console_url.replace("/alerts", "/reports")
                deliver(ch, Message(1, review.title, lines, link), now(session))
    return written
