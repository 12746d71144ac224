"""Reviews on the hand-built warehouse: the periods, KPIs against the registry, movers by
hand, HTML (escaped) and a PDF."""

from __future__ import annotations

import datetime as dt

from shopops.analytics.engine import Warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.analytics.report import format_value
from shopops.analytics.schema import READ_SCHEMAS
from shopops.db import session_scope
from shopops.ops.alerts.models import Alert
from shopops.ops.reviews.render import render_html, render_pdf
from shopops.ops.reviews.service import build_review, review_period
from tests.analytics.warehouse_fixture import write_warehouse


def test_review_periods():
    day = dt.date(2026, 11, 11)  # a Wednesday

    def span(kind):  # type: ignore[no-untyped-def]
        p = review_period(kind, day)
        return p.start, p.end

    assert span("daily") == (day, day)
    assert span("weekly") == (dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    assert span("monthly") == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def test_weekly_review_numbers_html_and_pdf(tmp_path, engine):
    write_warehouse(tmp_path / "wh")
    wh = Warehouse(tmp_path / "wh", schemas=READ_SCHEMAS)
    with session_scope(engine) as s:
        s.add(
            Alert(
                key="k",
                kind="rule",
                day=dt.date(2026, 11, 11),
                level=3,
                status="open",
                metric="uv",
                filters={},
                message_zh="<b>流量</b>",
                message_en="traffic",
                playbook_zh="补种",
                playbook_en="re-seed",
                attribution={"dimension": "channel", "member": "paid_search", "share": 0.75},
            )
        )
    with session_scope(engine, readonly=True) as s:
        rev = build_review(s, wh, "weekly", dt.date(2026, 11, 11))
    week = Period(dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    ev = evaluate(wh, ["gmv", "uv"], week, compare=("previous",))
    gmv = next(k for k in rev.kpis if k["code"] == "gmv")
    assert gmv["value"] == format_value(ev["gmv"].metric, ev["gmv"].value)
    assert gmv["previous"] == format_value(ev["gmv"].metric, ev["gmv"].previous)
    # Movers: the channel whose GMV grew most from the previous week, computed here.
    rows = evaluate(wh, ["gmv"], week, by="channel", compare=("previous",))["gmv"].breakdown
    best = max(
        (r for r in rows if r["key"] != "unknown"),
        key=lambda r: (r["value"] or 0) - (r["previous"] or 0),
    )
    top = [
        m
        for m in rev.movers
        if m["side"] == "top" and m["dimension"] == "channel" and "GMV" in m["metric"]
    ]
    assert top[0]["member"] == best["key"]
    assert rev.alerts[0]["attribution"] == "channel=paid_search (75%)"
    html = render_html(rev)
    assert "周报" in html and "&lt;b&gt;流量&lt;/b&gt;" in html and "<b>流量</b>" not in html
    pdf = render_pdf(rev, tmp_path / "w.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"STSong-Light" in data
