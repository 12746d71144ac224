"""Paths to purchase and exit points, counted by hand."""

from __future__ import annotations

import datetime as dt

from tests.analytics.analyses.builders import at, ev

from shopops.analytics.analyses.paths import ELLIPSIS, paths

DAY = dt.date(2026, 11, 10)


def _session(sid: str, person: str, steps: list[tuple[str, str]]) -> list[dict]:
    t = at(DAY.isoformat(), 2)
    return [
        ev(person, e, t + dt.timedelta(minutes=i), session_id=sid, path=p)
        for i, (e, p) in enumerate(steps)
    ]


def _sessions_row(sid: str, person: str, exit_path: str, converted: bool) -> dict:
    t = at(DAY.isoformat(), 2)
    return {
        "session_id": sid,
        "person_id": person,
        "started_at": t,
        "ended_at": t,
        "exit_path": exit_path,
        "converted": converted,
        "date": DAY,
    }


def _data():
    events = (
        _session(
            "s1",
            "a",
            [
                ("page_view", "/"),
                ("product_view", "/p/1"),
                ("product_view", "/p/2"),
                ("add_to_cart", "/p/2"),
                ("pay", "/pay"),
                ("page_view", "/thanks"),
            ],
        )
        + _session(
            "s2",
            "b",
            [
                ("page_view", "/"),
                ("product_view", "/p/1"),
                ("add_to_cart", "/p/1"),
                ("pay", "/pay"),
            ],
        )
        + _session("s3", "c", [("page_view", "/"), ("product_view", "/p/3")])
        + _session(
            "s4",
            "d",
            [
                ("search", "/s"),
                ("product_view", "/p/1"),
                ("page_view", "/a"),
                ("page_view", "/b"),
                ("page_view", "/c"),
                ("add_to_cart", "/p/1"),
                ("pay", "/pay"),
            ],
        )
    )
    sessions = [
        _sessions_row("s1", "a", "/thanks", True),
        _sessions_row("s2", "b", "/pay", True),
        _sessions_row("s3", "c", "/p/3", False),
        _sessions_row("s4", "d", "/pay", True),
    ]
    return {"fact_events": events, "fact_sessions": sessions}


def test_paths_by_event(make_wh):
    result = paths(make_wh(**_data()), start=DAY, end=DAY, max_steps=5)
    got = dict(result.paths)
    assert result.sessions == 4 and result.converting_sessions == 3
    # Repeated product views collapse; the thanks page after pay is not part of the path.
    assert got[("page_view", "product_view", "add_to_cart", "pay")] == 2
    # s4 collapses to search, product_view, page_view, add_to_cart, pay: exactly 5 steps.
    assert got[("search", "product_view", "page_view", "add_to_cart", "pay")] == 1
    short = paths(make_wh(**_data()), start=DAY, end=DAY, max_steps=3)
    assert dict(short.paths)[("search", "product_view", ELLIPSIS, "pay")] == 1


def test_paths_by_page_and_exits(make_wh):
    result = paths(make_wh(**_data()), start=DAY, end=DAY, by="path", max_steps=10)
    got = dict(result.paths)
    assert got[("/", "/p/1", "/p/2", "/pay")] == 1  # /p/2 twice (view, cart) collapses
    assert got[("/", "/p/1", "/pay")] == 1
    exits = {e["path"]: e for e in result.exits}
    assert exits["/pay"]["sessions"] == 2 and exits["/pay"]["share"] == 0.5
    assert exits["/p/3"]["converted"] == 0


def test_empty(make_wh):
    result = paths(make_wh(), start=DAY, end=DAY)
    assert result.to_dict() == {"sessions": 0, "converting_sessions": 0, "paths": [], "exits": []}
