"""Pure parts of notifications: the message each platform renders well, the signatures of
DingTalk and Feishu webhooks, quiet hours and routing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from shopops.ops.notify.schemas import ChannelSpec

LEVEL_ZH = {1: "一级预警", 2: "二级预警", 3: "三级预警"}
LEVEL_EN = {1: "Level 1", 2: "Level 2", 3: "Level 3"}
FEISHU_COLOURS = {1: "yellow", 2: "orange", 3: "red"}


@dataclass(frozen=True)
class Message:
    """What is said, whatever the platform."""

    level: int
    title: str
    lines: tuple[str, ...]  # markdown-ish lines: metric and change, attribution, playbook
    link: str

    def markdown(self) -> str:
        body = "\n".join(f"> {line}" for line in self.lines)
        return f"### {self.title}\n{body}\n\n[打开控制台 Open console]({self.link})"


def message_for_alert(alert: dict[str, Any], link: str) -> Message:
    lines = [alert["message_zh"], alert["message_en"]]
    attr = alert.get("attribution")
    if attr:
        lines.append(
            f"归因 Attribution: {attr['dimension']}={attr['member']} ({attr['share']:.0%})"
        )
    lines.append(f"处置 Playbook: {alert['playbook_zh']} / {alert['playbook_en']}")
    title = (
        f"【{LEVEL_ZH[alert['level']]} {LEVEL_EN[alert['level']]}】{alert['day']} {alert['metric']}"
    )
    return Message(alert["level"], title, tuple(lines), f"{link}#alert-{alert['id']}")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def payload(channel: ChannelSpec, msg: Message, at: dt.datetime) -> tuple[str, dict[str, Any]]:
    """(URL to post to, JSON body) in the platform's documented format."""
    url = channel.url or ""
    if channel.platform == "wecom":
        return url, {"msgtype": "markdown", "markdown": {"content": msg.markdown()}}
    if channel.platform == "dingtalk":
        if channel.secret:
            ts = int(at.timestamp() * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(channel.secret, ts)}"
        return url, {
            "msgtype": "markdown",
            "markdown": {"title": msg.title, "text": msg.markdown()},
        }
    if channel.platform == "feishu":
        body: dict[str, Any] = {
            "msg_type": "interactive",
            "card": {
                "header": {
                    "title": {"tag": "plain_text", "content": msg.title},
                    "template": FEISHU_COLOURS[msg.level],
                },
                "elements": [
                    {"tag": "markdown", "content": "\n".join(msg.lines)},
                    {
                        "tag": "action",
                        "actions": [
                            {
                                "tag": "button",
                                "text": {"tag": "plain_text", "content": "打开控制台 Open console"},
                                "type": "primary",
                                "url": msg.link,
                            }
                        ],
                    },
                ],
            },
        }
        if channel.secret:
            ts = int(at.timestamp())
            body = {"timestamp": str(ts), "sign": feishu_sign(channel.secret, ts), **body}
        return url, body
    if channel.platform == "slack":
        return (
            url,
            {
                "text": msg.title,  # the fallback shown in notifications
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": msg.title[:150]}},
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": "\n".join(msg.lines)[:3000]},
                    },
                    {
                        "type": "context",
                        "elements": [{"type": "mrkdwn", "text": f"<{msg.link}|Open console>"}],
                    },
                ],
            },
        )
    raise ValueError(f"no webhook payload for {channel.platform}")


def in_quiet_hours(channel: ChannelSpec, local: dt.time) -> bool:
    if not channel.quiet_hours:
        return False
    a, b = (dt.time.fromisoformat(x.strip()) for x in channel.quiet_hours.split("-"))
    return a <= local < b if a <= b else local >= a or local < b


def routes(channel: ChannelSpec, level: int, metric: str) -> bool:
    return level in channel.levels and (channel.metrics is None or metric in channel.metrics)


def backoff(attempt: int, base: float) -> float:
    """Seconds to wait before retry `attempt` (1, 2, ...): base, 2·base, 4·base..."""
    return base * 2 ** (attempt - 1)
