"""The Conversion page: roles, the funnel's counts and drop-off against analyses.funnel,
the breakdown selector, the top paths against analyses.paths, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io

from shopops.analytics.analyses.funnel import funnel
from shopops.analytics.analyses.paths import paths
from shopops.analytics.engine import open_warehouse
from shopops.web.i18n import Formatter
from shopops.web.pages.conversion import STEPS
from tests.web.conftest import END, sign_in

START = dt.date(2026, 11, 17)
RANGE = {"start": START.isoformat(), "end": END.isoformat()}


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_conversion_is_for_operators_and_analysts(app) -> None:  # type: ignore[no-untyped-def]
    for role in ("operator", "analyst", "admin"):
        assert sign_in(app, role).get("/console/conversion", params=RANGE).status_code == 200
    assert sign_in(app, "agent").get("/console/conversion").status_code == 403


def test_funnel_counts_and_drop_off_match_the_analysis(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    direct = funnel(open_warehouse(settings.data_dir), list(STEPS), start=START, end=END)
    client = sign_in(app, "analyst")
    page = client.get("/console/conversion", params=RANGE).text
    fmt = Formatter("zh_CN")
    pay = direct.steps[-1]
    assert direct.steps[0].count > pay.count > 0
    assert f"<td>{fmt.number(pay.count)}</td>" in page
    rows = _csv(client.get("/console/conversion", params={**RANGE, "export": "funnel_csv"}).text)
    assert [int(r["count"]) for r in rows] == direct.counts
    # Drop-off of a step = people at the previous step minus people at this one.
    assert [int(r["drop_off"]) for r in rows[1:]] == [
        a - b for a, b in zip(direct.counts, direct.counts[1:], strict=False)
    ]


def test_breakdown_by_channel_adds_up_to_the_total(app) -> None:  # type: ignore[no-untyped-def]
    client = sign_in(app, "operator")
    params = {**RANGE, "breakdown": "channel", "export": "funnel_csv"}
    rows = _csv(client.get("/console/conversion", params=params).text)
    total = [int(r["count"]) for r in rows if r["group"] == ""]
    groups = {r["group"] for r in rows} - {""}
    assert len(groups) > 1
    entered = sum(int(r["count"]) for r in rows if r["group"] and r["step"] == "1")
    assert entered == total[0]
    page = client.get("/console/conversion", params={**RANGE, "breakdown": "channel"}).text
    assert 'id="groups"' in page
    bad = client.get("/console/conversion", params={**RANGE, "breakdown": "nope"})
    assert bad.status_code == 200 and "field-error" in bad.text


def test_top_paths_match_the_analysis(app, shop) -> None:  # type: ignore[no-untyped-def]
    settings, _ = shop
    direct = paths(open_warehouse(settings.data_dir), start=START, end=END, top=15)
    assert direct.paths
    client = sign_in(app, "analyst")
    rows = _csv(client.get("/console/conversion", params={**RANGE, "export": "paths_csv"}).text)
    assert [(r["path"], int(r["sessions"])) for r in rows] == [
        (" > ".join(p), n) for p, n in direct.paths
    ]


def test_conversion_empty_range_says_so(app) -> None:  # type: ignore[no-untyped-def]
    resp = sign_in(app, "operator").get(
        "/console/conversion", params={"start": "2020-01-01", "end": "2020-01-07"}
    )
    assert resp.status_code == 200 and 'class="card empty"' in resp.text
