"""The operations jobs `serve` schedules (shopops/jobs.py lists them): each one unit of work
per step, idempotent per day and safe to rerun for a past day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shopops.config import Settings
from shopops.db import now, session_scope


def evaluate_alerts(
    settings: Settings, engine: Engine, day: dt.date, *, notify: bool = True, **retry: Any
) -> dict[str, Any]:
    """Evaluate `day` and commit the alerts first; only then notify (in its own unit of work),
    so a channel that is down can never block or undo the evaluation."""
    from shopops.analytics.engine import open_warehouse
    from shopops.ops.alerts.service import alert_to_dict, evaluate_day, install_default_rules
    from shopops.ops.notify.service import load_channels, notify_alerts

    wh = open_warehouse(settings.data_dir)
    with session_scope(engine) as s:
        install_default_rules(s)
        report = evaluate_day(s, wh, day, timezone=settings.timezone)
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
