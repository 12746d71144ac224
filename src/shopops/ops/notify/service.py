"""Deliver alerts to the channels (use cases; the edge commits). A channel that is down costs
its retries and a `failed` row in the delivery log, never the evaluation; held and failed
deliveries are sent again by `redeliver`."""

from __future__ import annotations

import datetime as dt
import smtplib
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopops.db import now
from shopops.ops.notify.errors import ChannelNotFound, InvalidChannel
from shopops.ops.notify.models import Delivery
from shopops.ops.notify.rules import (
    Message,
    backoff,
    in_quiet_hours,
    message_for_alert,
    payload,
    routes,
)
from shopops.ops.notify.schemas import ChannelSpec

CHANNELS_FILE = Path("ops") / "channels.yaml"


def parse_channels(text: str) -> list[ChannelSpec]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidChannel(f"malformed YAML: {exc}") from None
    items = data.get("channels", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidChannel("channels.yaml holds {channels: [...]}")
    out = []
    for item in items:
        try:
            out.append(ChannelSpec.model_validate(item))
        except ValidationError as exc:
            name = item.get("name") if isinstance(item, dict) else None
            msgs = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'channel'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidChannel(
                f"channel {name or '?'}: {msgs}", details={"channel": name}
            ) from None
    return out


def load_channels(data_dir: Path) -> list[ChannelSpec]:
    path = Path(data_dir) / CHANNELS_FILE
    return parse_channels(path.read_text(encoding="utf-8")) if path.exists() else []


def _send_once(channel: ChannelSpec, msg: Message, at: dt.datetime, timeout: float) -> None:
    if channel.platform == "email":
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = msg.title, channel.sender, ", ".join(channel.to)
        mail.set_content("\n".join(msg.lines) + f"\n\n{msg.link}")
        with smtplib.SMTP(channel.smtp_host or "", channel.smtp_port, timeout=timeout) as smtp:
            smtp.send_message(mail)
        return
    url, body = payload(channel, msg, at)
    r = httpx.post(url, json=body, timeout=timeout)
    r.raise_for_status()
    # WeCom, DingTalk and Feishu answer 200 with an error code in the body.
    try:
        data = r.json()
    except ValueError:
        return
    code = data.get("errcode", data.get("code", 0)) if isinstance(data, dict) else 0
    if code not in (0, None):
        raise RuntimeError(f"platform error {code}: {data.get('errmsg') or data.get('msg')}")


def deliver(
    channel: ChannelSpec,
    msg: Message,
    at: dt.datetime,
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    timeout: float = 3.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, str]:
    """Try up to `attempts` times with exponential backoff: (sent, attempts made, last error)."""
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            _send_once(channel, msg, at, timeout)
            return True, attempt, ""
        except (httpx.HTTPError, OSError, smtplib.SMTPException, RuntimeError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            if attempt < attempts:
                sleep(backoff(attempt, base_delay))
    return False, attempts, error


def notify_alerts(
    session: Session,
    alerts: Sequence[dict[str, Any]],
    channels: Sequence[ChannelSpec],
    *,
    timezone: str = "Asia/Shanghai",
    **retry: Any,
) -> list[Delivery]:
    """Route every alert to the channels that take its level and metric; hold it during the
    channel's quiet hours (level 3 goes through); log every delivery."""
    at = now(session)
    local = at.astimezone(ZoneInfo(timezone)).time()
    out: list[Delivery] = []
    for alert in alerts:
        for ch in channels:
            if not routes(ch, alert["level"], alert["metric"]):
                continue
            msg = message_for_alert(alert, ch.console_url)
            row = Delivery(
                alert_id=alert["id"],
                channel=ch.name,
                platform=ch.platform,
                status="held",
                attempts=0,
                error="",
                created_at=at,
                payload={
                    "title": msg.title,
                    "lines": list(msg.lines),
                    "link": msg.link,
                    "level": msg.level,
                },
            )
            if not (in_quiet_hours(ch, local) and alert["level"] < 3):
                sent, n, err = deliver(ch, msg, at, **retry)
                row.status, row.attempts, row.error = ("sent" if sent else "failed"), n, err
                row.sent_at = at if sent else None
            session.add(row)
            out.append(row)
    session.flush()
    return out


def redeliver(
    session: Session,
    channels: Sequence[ChannelSpec],
    *,
    timezone: str = "Asia/Shanghai",
    **retry: Any,
) -> list[Delivery]:
    """Send again what was held (quiet hours over) or failed (the channel may be back)."""
    at = now(session)
    local = at.astimezone(ZoneInfo(timezone)).time()
    by_name = {c.name: c for c in channels}
    done = []
    for row in session.scalars(select(Delivery).where(Delivery.status.in_(("held", "failed")))):
        ch = by_name.get(row.channel)
        if ch is None or (row.status == "held" and in_quiet_hours(ch, local)):
            continue
        p = row.payload
        msg = Message(p["level"], p["title"], tuple(p["lines"]), p["link"])
        sent, n, err = deliver(ch, msg, at, **retry)
        row.attempts += n
        row.status, row.error = ("sent" if sent else "failed"), err
        row.sent_at = at if sent else None
        done.append(row)
    session.flush()
    return done


def send_test(
    channels: Sequence[ChannelSpec], name: str, at: dt.datetime, **retry: Any
) -> tuple[bool, int, str]:
    ch = next((c for c in channels if c.name == name), None)
    if ch is None:
        raise ChannelNotFound(f"no channel {name!r}", details={"valid": [c.name for c in channels]})
    msg = Message(
        1, "【测试 Test】shopops", ("通知渠道测试 Notification channel test",), ch.console_url
    )
    return deliver(ch, msg, at, **retry)


def list_deliveries(session: Session, limit: int = 200) -> list[Delivery]:
    return list(session.scalars(select(Delivery).order_by(Delivery.id.desc()).limit(limit)))
