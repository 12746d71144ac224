"""Notifications against local receivers on 127.0.0.1: each platform's documented message
schema, DingTalk/Feishu signatures, retries with backoff, a channel that is down, quiet
hours, routing, the delivery log, e-mail through a local aiosmtpd server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from shopops.db import session_scope
from shopops.ops.alerts.models import Alert
from shopops.ops.notify.errors import InvalidChannel
from shopops.ops.notify.models import Delivery
from shopops.ops.notify.rules import in_quiet_hours
from shopops.ops.notify.schemas import ChannelSpec
from shopops.ops.notify.service import notify_alerts, parse_channels, redeliver

AT = dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
ALERT = {
    "id": 7,
    "day": "2026-11-27",
    "level": 2,
    "metric": "uv",
    "message_zh": "渠道流量骤降（channel=paid_search）：7（基线 120，-94%）",
    "message_en": "A channel's traffic collapsed (channel=paid_search): 7 (baseline 120, -94%)",
    "playbook_zh": "补种内容",
    "playbook_en": "Re-seed content",
    "attribution": {"dimension": "channel", "member": "paid_search", "share": 0.81},
}
FAST = {"base_delay": 0.0, "timeout": 2.0}


class Receiver:
    """A webhook on 127.0.0.1 that records requests; fails the first `fail` of them."""

    def __init__(self, fail: int = 0, reply: dict | None = None) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                code = 500 if len(outer.requests) <= outer.fail else 200
                data = json.dumps(reply or {"errcode": 0}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture()
def engine(engine):  # type: ignore[no-untyped-def]
    """The store database with alerts 7, 8 and 9 (the delivery log refers to them)."""
    with session_scope(engine) as s:
        for i in (7, 8, 9):
            s.add(
                Alert(
                    id=i,
                    key=f"k{i}",
                    kind="rule",
                    day=dt.date(2026, 11, 27),
                    level=2,
                    status="open",
                    metric="uv",
                    filters={},
                    message_zh="",
                    message_en="",
                    playbook_zh="",
                    playbook_en="",
                )
            )
    return engine


def _send(engine, channels, alerts=(ALERT,), at=AT):  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        s.info["now"] = at
        rows = notify_alerts(s, list(alerts), channels, **FAST)
        return [(r.channel, r.status, r.attempts, r.error) for r in rows]


def test_wecom_markdown(engine, receiver):
    ch = ChannelSpec(name="wx", platform="wecom", url=receiver.url)
    assert _send(engine, [ch]) == [("wx", "sent", 1, "")]
    _, body = receiver.requests[0]
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert "paid_search" in content and "补种内容" in content and "二级预警" in content


def test_dingtalk_markdown_signed(engine, receiver):
    secret = "SECtest-secret"
    ch = ChannelSpec(
        name="dd", platform="dingtalk", url=receiver.url + "?access_token=t", secret=secret
    )
    _send(engine, [ch])
    path, body = receiver.requests[0]
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"title", "text"} and "81%" in body["markdown"]["text"]
    q = parse_qs(urlsplit(path).query)
    ts = q["timestamp"][0]
    assert int(ts) == int(AT.timestamp() * 1000) and q["access_token"] == ["t"]
    # Independent signature: HMAC-SHA256(secret, "{ts}\n{secret}"), base64.
    want = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert q["sign"][0] == want  # parse_qs already URL-decoded it once
    assert unquote_plus(path.split("sign=")[1]) == want


def test_feishu_interactive_card_signed(engine, receiver):
    ch = ChannelSpec(name="fs", platform="feishu", url=receiver.url, secret="s3")
    _send(engine, [ch])
    _, body = receiver.requests[0]
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"]["title"]["tag"] == "plain_text" and card["header"]["template"] == "orange"
    tags = [e["tag"] for e in card["elements"]]
    assert tags == ["markdown", "action"]
    assert card["elements"][1]["actions"][0]["url"].endswith("#alert-7")
    ts = body["timestamp"]
    want = base64.b64encode(hmac.new(f"{ts}\ns3".encode(), b"", hashlib.sha256).digest())
    assert body["sign"] == want.decode() and int(ts) == int(AT.timestamp())


def test_slack_block_kit(engine, receiver):
    ch = ChannelSpec(name="sl", platform="slack", url=receiver.url)
    _send(engine, [ch])
    _, body = receiver.requests[0]
    assert isinstance(body["text"], str) and body["text"]
    types = [b["type"] for b in body["blocks"]]
    assert types == ["header", "section", "context"]
    assert body["blocks"][0]["text"]["type"] == "plain_text"
    assert body["blocks"][1]["text"]["type"] == "mrkdwn"
    assert len(body["blocks"][0]["text"]["text"]) <= 150


def test_retries_with_backoff_then_success(engine):
    r = Receiver(fail=2)
    try:
        ch = ChannelSpec(name="wx", platform="wecom", url=r.url)
        assert _send(engine, [ch]) == [("wx", "sent", 3, "")]
        assert len(r.requests) == 3
    finally:
        r.close()


def test_platform_error_in_a_200_counts_as_failure(engine):
    r = Receiver(reply={"errcode": 310000, "errmsg": "sign not match"})
    try:
        ch = ChannelSpec(name="dd", platform="dingtalk", url=r.url)
        [(_, status, attempts, error)] = _send(engine, [ch])
        assert (status, attempts) == ("failed", 3) and "310000" in error
    finally:
        r.close()


def test_down_channel_is_logged_and_others_still_get_it(engine, receiver):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    channels = [
        ChannelSpec(name="down", platform="slack", url=dead),
        ChannelSpec(name="up", platform="wecom", url=receiver.url),
    ]
    got = _send(engine, channels)
    assert [(c, s, n) for c, s, n, _ in got] == [("down", "failed", 3), ("up", "sent", 1)]
    assert "ConnectError" in got[0][3]
    with session_scope(engine, readonly=True) as s:
        log = s.scalars(select(Delivery).order_by(Delivery.id)).all()
        assert [(d.channel, d.status) for d in log] == [("down", "failed"), ("up", "sent")]
    # The channel comes back: redeliver sends the failed one, adding its attempts.
    channels[0] = ChannelSpec(name="down", platform="slack", url=receiver.url)
    with session_scope(engine) as s:
        s.info["now"] = AT
        again = redeliver(s, channels, **FAST)
        assert [(d.channel, d.status, d.attempts) for d in again] == [("down", "sent", 4)]


def test_quiet_hours_hold_all_but_level_3_and_routing(engine, receiver):
    ch = ChannelSpec(
        name="wx", platform="wecom", url=receiver.url, quiet_hours="22:00-08:00", levels=[2, 3]
    )
    night = dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC)  # 00:30 in Shanghai
    low = {**ALERT, "id": 8, "level": 1}
    urgent = {**ALERT, "id": 9, "level": 3}
    got = _send(engine, [ch], alerts=[ALERT, low, urgent], at=night)
    assert [s for _, s, _, _ in got] == ["held", "sent"]  # level 1 not routed here
    assert len(receiver.requests) == 1
    with session_scope(engine) as s:
        s.info["now"] = night
        assert redeliver(s, [ch], **FAST) == []  # still night
        s.info["now"] = AT
        assert [d.status for d in redeliver(s, [ch], **FAST)] == ["sent"]
    assert in_quiet_hours(ch, dt.time(23, 0)) and not in_quiet_hours(ch, dt.time(8, 0))


def test_email_through_local_smtp(engine):
    got: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            got.append(envelope)
            return "250 OK"

    with socket.socket() as sock:  # a free port (the controller's readiness probe needs one)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        ch = ChannelSpec(
            name="mail",
            platform="email",
            smtp_host="127.0.0.1",
            smtp_port=port,
            sender="ops@shop.test",
            to=["boss@shop.test"],
        )
        assert _send(engine, [ch])[0][1] == "sent"
    finally:
        ctl.stop()
    [env] = got
    assert env.rcpt_tos == ["boss@shop.test"]
    text = env.content.decode("utf-8", "replace")
    assert "Subject:" in text


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"name": "x", "platform": "wecom", "url": "ftp://a/b"}, "bad webhook url"),
        ({"name": "x", "platform": "wecom"}, "needs its webhook url"),
        ({"name": "x", "platform": "teams", "url": "http://a/"}, "platform"),
        (
            {"name": "x", "platform": "email", "smtp_host": "h", "sender": "a", "to": ["b@c"]},
            "bad e-mail",
        ),
        (
            {"name": "x", "platform": "slack", "url": "http://a/", "quiet_hours": "late"},
            "quiet_hours",
        ),
        ({"name": "x", "platform": "slack", "url": "http://a/", "levels": [4]}, "levels"),
    ],
)
def test_bad_channels_are_refused(item, fragment):
    with pytest.raises(InvalidChannel) as exc:
        parse_channels(json.dumps({"channels": [item]}))
    assert fragment in exc.value.message


def test_malformed_channels_yaml():
    with pytest.raises(InvalidChannel):
        parse_channels("channels: [unclosed")
