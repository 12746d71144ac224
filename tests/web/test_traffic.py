"""The Traffic page: roles, its numbers against channel_roi and evaluate, the export."""

from __future__ import annotations

import csv
import datetime as dt
import io

from shopops.analytics.analyses.channel_roi import channel_roi
from shopops.analytics.engine import open_warehouse
from shopops.analytics.metrics import evaluate
from shopops.analytics.periods import Period
from shopops.web.i18n import Formatter
from tests.web.conftest import END, sign_in

START = dt.date(2026, 11, 17)
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


def test_traffic_is_for_operators_and_analysts(app) -> None:  # type: ignore[no-untyped-def]
    for role in ("operator", "analyst", "admin"):
        assert sign_in(app, role).get("/console/traffic", params=RANGE).status_code == 200
    assert sign_in(app, "agent").get("/console/traffic").status_code == 403


def test_traffic_shows_spend_and_visitors_per_channel(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    wh = open_warehouse(settings.data_dir)
    roi = channel_roi(wh, start=START, end=END)
    paid = roi[roi.spend > 0]
    assert len(paid) > 0
    resp = sign_in(app, "operator").get("/console/traffic", params=RANGE)
    fmt = Formatter("zh_CN")
    top = paid.iloc[0]
    assert fmt.money(int(top.spend)) in resp.text
    assert fmt.number(float(top.roi), 2) in resp.text
    assert "roi_channel" in resp.text and "field-error" not in resp.text


def test_traffic_export_matches_the_metrics(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    wh = open_warehouse(settings.data_dir)
    ev = evaluate(wh, ["uv", "sessions"], Period(START, END), by="channel", compare=None)
    resp = sign_in(app, "analyst").get("/console/traffic", params={**RANGE, "export": "csv"})
    rows = {r["channel"]: r for r in csv.DictReader(io.StringIO(resp.text.lstrip("\ufeff")))}
    for b in ev["uv"].breakdown:
        assert int(rows[b["key"]]["uv"]) == b["value"]
    total_sessions = sum(int(r["sessions"]) for r in rows.values())
    assert total_sessions == sum(b["value"] for b in ev["sessions"].breakdown) > 0


def test_traffic_empty_range_says_so(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get(
        "/console/traffic", params={"start": "2020-01-01", "end": "2020-01-07"}
    )
    assert resp.status_code == 200 and 'class="card empty"' in resp.text


def test_traffic_bad_dates_are_shown_next_to_the_field(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get(
        "/console/traffic", params={"start": "2026-11-30", "end": "2026-11-01"}
    )
    assert resp.status_code == 200 and "field-error" in resp.text
