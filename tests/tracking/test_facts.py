"""fact_events, fact_sessions and dim_identity against counts made by hand."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shopops.config import Settings
from shopops.tracking import service
from shopops.tracking.facts import build_event_facts
from shopops.tracking.rules import SESSION_TIMEOUT_SECONDS, Hit, session_starts

UTC = dt.UTC
# 2026-11-10 15:50 UTC is 23:50 in Shanghai: the first session crosses the shop's midnight.
T = dt.datetime(2026, 11, 10, 15, 50, tzinfo=UTC)
N = 0


def ev(name: str, who: str, minutes: float, **props: object) -> dict:
    global N
    N += 1
    return {
        "event": name,
        "distinct_id": who,
        "uuid": str(uuid.UUID(int=N)),
        "timestamp": (T + dt.timedelta(minutes=minutes)).isoformat(),
        "properties": props,
    }


def _read(data_dir: Path, table: str) -> list[dict]:
    glob = data_dir / "warehouse" / table / "**" / "*.parquet"
    rel = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning=true)")
    return (
        rel.order("all").df().to_dict("records")
        if table != "fact_events"
        else (rel.order("ts_at, event_id").df().to_dict("records"))
    )


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    store = service.open_store(tmp_path)
    received = T + dt.timedelta(hours=5)
    events = [
        # anon-a: paid landing at 23:50, a product after midnight, pays: one session.
        ev("page_view", "anon-a", 0, url="https://s.example.com/?utm_source=baidu&utm_medium=cpc"),
        ev("product_view", "anon-a", 20, url="https://s.example.com/p/1", sku_id=11),
        ev("add_to_cart", "anon-a", 25, sku_id=11),
        ev("pay", "anon-a", 29, order_id=5, amount=19900),
        # 31 minutes later: a new, direct session (same person after identify).
        ev("page_view", "anon-a", 60, url="https://s.example.com/"),
        # the same person on another device, signed in: merged by identify.
        ev(
            "page_view",
            "phone-a",
            61,
            url="https://s.example.com/x",
            referrer="https://www.zhihu.com/q/1",
        ),
        # anon-b: a direct landing, then a tagged one: the tag names the same session.
        ev("page_view", "anon-b", 0, url="https://s.example.com/b"),
        ev("page_view", "anon-b", 5, url="https://s.example.com/b?utm_source=oceanengine"),
        ev("search", "anon-b", 6, query="充电器", url="https://s.example.com/s"),
        # anon-c: a paid landing, then one from another source 2 minutes later: two sessions,
        # the second a bounce.
        ev("page_view", "anon-c", 0, url="https://s.example.com/?utm_medium=cpc"),
        ev("add_to_cart", "anon-c", 1, sku_id=3),
        ev("page_view", "anon-c", 2, url="https://s.example.com/?utm_medium=wecom"),
    ]
    service.ingest_batch(store, events=events, received_at=received)
    service.ingest_batch(store, events=events[:3], received_at=received)  # a replay
    service.identify(store, distinct_id="anon-a", customer_id=42, received_at=received)
    service.identify(store, distinct_id="phone-a", customer_id=42, received_at=received)
    service.identify(store, distinct_id="anon-a", customer_id=99, received_at=received)  # ignored
    service.close_store(store)
    return tmp_path


def test_facts_match_a_hand_count(shop: Path):
    counts = build_event_facts(Settings(data_dir=shop))
    assert counts == {"fact_events": 12, "fact_sessions": 5, "dim_identity": 4}
    events = _read(shop, "fact_events")
    a = [e for e in events if e["person_id"] == "42"]
    assert [e["event"] for e in a] == [
        "page_view",
        "product_view",
        "add_to_cart",
        "pay",
        "page_view",
        "page_view",
    ]
    assert {e["customer_id"] for e in a} == {42}
    assert [e["channel"] for e in a] == ["paid_search"] * 4 + ["referral"] * 2
    assert a[3]["order_id"] == 5 and a[3]["amount"] == 19900
    assert str(a[0]["date"])[:10] == "2026-11-10" and str(a[1]["date"])[:10] == "2026-11-11"

    sessions = {s["session_id"]: s for s in _read(shop, "fact_sessions")}
    first = sessions[a[0]["event_id"]]
    assert (first["events"], first["page_views"], first["converted"], first["bounced"]) == (
        4,
        2,
        True,
        False,
    )
    assert first["duration_seconds"] == 29 * 60
    assert str(first["date"])[:10] == "2026-11-10"  # the session starts before midnight
    assert (first["landing_path"], first["exit_path"]) == ("/", "/p/1")
    # 31 minutes later a new session; the other device (merged) joins it, and its zhihu
    # referrer names the session's source.
    assert a[4]["session_id"] == a[5]["session_id"] != a[0]["session_id"]
    assert sessions[a[4]["session_id"]]["channel"] == "referral"

    b = [e for e in events if e["person_id"] == "anon-b"]
    assert {e["session_id"] for e in b} == {b[0]["event_id"]}
    assert [e["channel"] for e in b] == ["feed_ads"] * 3
    assert b[2]["search_query"] == "充电器"
    c = [e for e in events if e["person_id"] == "anon-c"]
    assert [e["session_id"] == e["event_id"] for e in c] == [True, False, True]
    assert [e["channel"] for e in c] == ["paid_search", "paid_search", "private_domain"]
    assert sessions[c[2]["event_id"]]["bounced"]
    assert not sessions[c[0]["event_id"]]["bounced"]

    identity = {r["distinct_id"]: r["person_id"] for r in _read(shop, "dim_identity")}
    assert identity == {"anon-a": "42", "phone-a": "42", "anon-b": "anon-b", "anon-c": "anon-c"}


def test_rebuilding_is_idempotent_and_since_keeps_earlier_partitions(shop: Path):
    build_event_facts(shop)
    before = {t: _read(shop, t) for t in ("fact_events", "fact_sessions", "dim_identity")}
    build_event_facts(shop)
    build_event_facts(shop, since=dt.date(2026, 11, 11))
    after = {t: _read(shop, t) for t in ("fact_events", "fact_sessions", "dim_identity")}
    assert after == before
    files = sorted(p.parent.name for p in (shop / "warehouse" / "fact_events").glob("*/*"))
    assert files == ["date=2026-11-10", "date=2026-11-11"]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["p", "q"]),
            st.integers(0, 3 * SESSION_TIMEOUT_SECONDS),
            st.sampled_from([None, "cpc", "feed", "wecom"]),
        ),
        min_size=1,
        max_size=25,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_sql_sessions_are_the_rule_sessions(tmp_path_factory, raw):
    data_dir = tmp_path_factory.mktemp("s")
    store = service.open_store(data_dir)
    events = []
    for i, (who, secs, medium) in enumerate(raw):
        props = {"utm_medium": medium, "utm_source": "x"} if medium else {}
        events.append(
            {
                "event": "page_view",
                "distinct_id": who,
                "uuid": str(uuid.UUID(int=i + 1)),
                "timestamp": (T + dt.timedelta(seconds=secs)).isoformat(),
                "properties": props,
            }
        )
    service.ingest_batch(store, events=events, received_at=T + dt.timedelta(days=1))
    service.close_store(store)
    build_event_facts(data_dir)
    # The event's own source, from the input (not from the facts under test).
    medium_of = {e["uuid"]: medium for e, (_, _, medium) in zip(events, raw, strict=True)}
    rows = sorted(_read(data_dir, "fact_events"), key=lambda e: (e["person_id"], e["ts_at"]))
    assert len(rows) == len(events)
    hits = [
        Hit(
            e["person_id"],
            e["ts_at"].timestamp(),
            ("x", medium_of[e["event_id"]], "", "") if medium_of[e["event_id"]] else None,
        )
        for e in rows
    ]
    # A session starts where its id is the event's own id (the session's first event).
    assert [e["session_id"] == e["event_id"] for e in rows] == list(session_starts(hits))
