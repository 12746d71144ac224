"""Behaviour facts of `gen_store.py`: tracked sessions and their events, and the identity map.

Every paid storefront order gets a buying session (page_view → product_view → add_to_cart →
begin_checkout → place_order → pay, the pay event at the payment instant and carrying the
order); the rest of the event budget is browsing sessions of customers (signed in: their
customer id is the person) and anonymous visitors, most of which never buy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from gen_store import (
    BROWSE,
    BROWSE_P,
    BUY,
    CHANNEL_P,
    CHANNELS,
    DEVICE_P,
    DEVICES,
    OS,
    PROVINCES,
    REFERRERS,
    SEARCHES,
    US,
    ids,
    ints,
    strings,
    ts,
)

from shopops.tracking.facts import EVENTS_ROW_GROUP
from shopops.warehouse import schema as contract
from shopops.warehouse.files import conform, partition_path

EVENTS = list(dict.fromkeys([*BUY, *BROWSE]))
UTM_SOURCE = ["baidu", "sina", "smzdm", "oceanengine", "xiaohongshu"]
UTM_MEDIUM = ["cpc", "display", "affiliate", "feed", "influencer"]


def _within(starts: np.ndarray, lengths: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Per event, the time since its session's first event (gaps cumulated per session)."""
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    gaps = gaps.copy()
    gaps[first] = 0
    cum = np.cumsum(gaps)
    return np.repeat(starts, lengths) + cum - np.repeat(cum[first], lengths)


def behaviour(s: Any, w: Any) -> dict[str, int]:
    rng, o = s.rng, s.o
    budget = s.args.events
    # Buying sessions: paid storefront orders, as many as the event budget allows.
    buy = np.flatnonzero(o["paid"] & (o["sales"] == 0))
    buy = buy[: min(len(buy), int(budget * 0.4) // len(BUY))]
    nb = len(buy)
    back = np.stack([rng.exponential(40 * US, nb) + US for _ in range(4)], axis=1).astype(np.int64)
    checkout = o["placed"][buy] - back[:, 0]
    b_ts = np.stack(
        [
            checkout - back[:, 1] - back[:, 2] - back[:, 3],
            checkout - back[:, 1] - back[:, 2],
            checkout - back[:, 1],
            checkout,
            o["placed"][buy],
            o["paid_at"][buy],
        ],
        axis=1,
    ).ravel()
    b_kind = np.tile(np.arange(len(BUY)), nb)
    first_line = np.searchsorted(s.li["order"], buy)
    b_sku = np.repeat(s.li["sku"][first_line], len(BUY))
    b_sku[b_kind == 0] = -1
    b_order = np.repeat(buy + 1, len(BUY))
    b_order[b_kind < 4] = 0
    # Browsing sessions fill the rest of the budget.
    rest = max(0, budget - nb * len(BUY))
    lengths = np.minimum(rng.geometric(0.3, rest // 3 + 10), 30)
    cut = int(np.searchsorted(np.cumsum(lengths), rest))
    lengths = lengths[: cut + 1] if rest else lengths[:0]
    if rest:
        lengths[-1] -= int(lengths.sum()) - rest
        lengths = lengths[lengths > 0]
    ns = len(lengths)
    m = int(lengths.sum())
    starts = s.local_times(ns)
    r_ts = _within(starts, lengths, rng.exponential(45 * US, m).astype(np.int64) + US)
    kind = np.array([EVENTS.index(e) for e in BROWSE])[rng.choice(len(BROWSE), m, p=BROWSE_P)]
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    kind[first] = np.array([0, 1, EVENTS.index("search")])[rng.choice(3, ns, p=[0.7, 0.2, 0.1])]
    focus = np.repeat(rng.choice(s.n_sku, ns, p=s.sku_p), lengths)
    other = rng.choice(s.n_sku, m, p=s.sku_p)
    r_sku = np.where(rng.random(m) < 0.5, focus, other)
    with_sku = np.isin(
        kind,
        [
            EVENTS.index(e)
            for e in ("product_view", "add_to_cart", "favorite", "remove_from_cart", "share")
        ],
    )
    r_sku[~with_sku] = -1
    # Sessions: buying first, then browsing; who, where from, on what.
    n_sess = nb + ns
    is_cust = np.r_[np.ones(nb, bool), rng.random(ns) < 0.4]
    cust_p = 0.5 * s.cust_w + 0.5 / s.n_cust
    cust = np.r_[o["cust"][buy], rng.choice(s.n_cust, ns, p=cust_p)]
    anon = rng.integers(0, max(1, ns // 3), n_sess)
    channel = rng.choice(len(CHANNELS), n_sess, p=CHANNEL_P)
    device = rng.choice(len(DEVICES), n_sess, p=DEVICE_P)
    os_idx = device * 2 + rng.integers(0, 2, n_sess)
    prov = np.where(is_cust, s.cust_prov[cust], rng.integers(0, len(PROVINCES), n_sess))
    person = pa.array(np.where(is_cust, (cust + 1).astype(str), np.char.add("a", anon.astype(str))))
    distinct = pa.array(
        np.where(
            is_cust, np.char.add("d", (cust + 1).astype(str)), np.char.add("a", anon.astype(str))
        )
    )
    # Events, in time order.
    lens = np.r_[np.full(nb, len(BUY)), lengths]
    sess = np.repeat(np.arange(n_sess), lens)
    local = np.r_[b_ts, r_ts]
    ev_kind = np.r_[b_kind, kind]
    sku = np.r_[b_sku, r_sku]
    order = np.r_[b_order, np.zeros(m, np.int64)]
    amount = np.where(order > 0, o["total"][np.maximum(order - 1, 0)], 0)
    local = np.clip(local, 0, s.horizon - 1)
    by_time = np.argsort(local, kind="stable")
    n_ev = len(local)
    paths = ["/", "/search", "/checkout", "/pay", "/campaign"] + [
        f"/p/{p}" for p in range(1, int(s.product_of.max()) + 1)
    ]
    path = np.where(sku >= 0, 4 + s.product_of[np.maximum(sku, 0)], 0)
    kname = np.array(EVENTS)[ev_kind]
    path = np.where(kname == "search", 1, path)
    path = np.where(np.isin(kname, ["begin_checkout", "place_order"]), 2, path)
    path = np.where(kname == "pay", 3, path)
    camp = s.campaign_of(local, s.camps)
    path = np.where((kname == "page_view") & (camp > 0), 4, path)
    paid_ch = channel[sess] < 5
    ch_e = channel[sess]
    ref = np.array(REFERRERS)[ch_e]

    def t(values: pa.Array) -> pa.Array:
        return values.take(pa.array(by_time))

    cols = {
        "event_id": ids("ev-", np.arange(1, n_ev + 1)),
        "distinct_id": t(distinct.take(pa.array(sess))),
        "person_id": t(person.take(pa.array(sess))),
        "customer_id": t(ints(cust[sess] + 1, is_cust[sess])),
        "event": t(strings(EVENTS, ev_kind)),
        "ts_at": t(ts(s.utc(local))),
        "session_id": t(ids("s-", sess + 1)),
        "channel": t(strings(CHANNELS, ch_e)),
        "utm_source": t(pa.array(np.array(UTM_SOURCE)[np.minimum(ch_e, 4)], mask=~paid_ch)),
        "utm_medium": t(pa.array(np.array(UTM_MEDIUM)[np.minimum(ch_e, 4)], mask=~paid_ch)),
        "utm_campaign": t(
            pa.array(
                np.where(camp > 0, np.char.add("camp", camp.astype(str)), "always_on"),
                mask=~paid_ch,
            )
        ),
        "referrer_domain": t(pa.array(ref, mask=ref == "")),
        "device": t(strings(DEVICES, device[sess])),
        "os": t(strings([x for pair in OS for x in pair], os_idx[sess])),
        "province": t(strings(PROVINCES, prov[sess])),
        "path": t(strings(paths, path)),
        "sku_id": t(ints(sku + 1, sku >= 0)),
        "product_id": t(ints(s.product_of[np.maximum(sku, 0)], sku >= 0)),
        "search_query": t(
            pa.array(
                np.array(SEARCHES)[rng.integers(0, len(SEARCHES), n_ev)], mask=kname != "search"
            )
        ),
        "order_id": t(ints(order, order > 0)),
        "amount": t(ints(amount, order > 0)),
        "properties": strings(["{}"], np.zeros(n_ev, np.int64)),
    }
    counts = {"fact_events": _write_events(w, s.day_of(local[by_time]), cols)}
    # Sessions from their (contiguous, in-order) events.
    bounds = np.r_[0, np.cumsum(lens)]
    start, end = local[bounds[:-1]], local[bounds[1:] - 1]
    page = np.isin(ev_kind, [0, 1])
    page_views = np.add.reduceat(page.astype(np.int64), bounds[:-1]) if n_ev else page
    converted = np.r_[np.ones(nb, bool), np.zeros(ns, bool)]
    counts["fact_sessions"] = w.fact(
        "fact_sessions",
        s.day_of(start),
        {
            "session_id": ids("s-", np.arange(1, n_sess + 1)),
            "person_id": person,
            "started_at": ts(s.utc(start)),
            "ended_at": ts(s.utc(end)),
            "duration_seconds": ints((end - start) // US),
            "events": ints(lens),
            "page_views": ints(page_views),
            "channel": strings(CHANNELS, channel),
            "utm_campaign": pa.array(
                np.where(camp[bounds[:-1]] > 0, "campaign", "always_on"), mask=channel >= 5
            ),
            "landing_path": strings(paths, path[bounds[:-1]]),
            "exit_path": strings(paths, path[bounds[1:] - 1]),
            "bounced": pa.array((lens == 1) & (page_views == 1)),
            "converted": pa.array(converted),
            "device": strings(DEVICES, device),
            "province": strings(PROVINCES, prov),
        },
    )
    known = np.unique(cust[is_cust])
    counts["dim_identity"] = w.dim(
        "dim_identity",
        pa.table(
            {
                "distinct_id": ids("d", known + 1),
                "person_id": pc_str(known + 1),
            }
        ),
    )
    return counts


def _write_events(w: Any, day: np.ndarray, columns: dict[str, pa.Array]) -> int:
    """`fact_events` in the loader's layout (tracking/facts.py), not `Writer.fact`'s: within a
    day by event, person, time and id, in small row groups, as funnel steps read them."""
    schema = contract.SCHEMAS.get("fact_events") or contract.BEHAVIOUR_FACTS["fact_events"]
    data = conform(pa.table(columns), schema).append_column("_day", pa.array(day))
    keys = ["_day", "event", "person_id", "ts_at", "event_id"]
    data = data.sort_by([(k, "ascending") for k in keys])
    day = data.column("_day").to_numpy()
    data = data.drop_columns(["_day"])
    bounds = np.searchsorted(day, np.arange(w.store.days + 1))
    for i in range(w.store.days):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        if hi > lo:
            path = partition_path(w.root, "fact_events", w.store.dates[i])
            path.parent.mkdir(parents=True, exist_ok=True)
            part = data.slice(lo, hi - lo)
            pq.write_table(part, path, compression="zstd", row_group_size=EVENTS_ROW_GROUP)
    return data.num_rows


def pc_str(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(str))
