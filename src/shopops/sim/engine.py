"""The day loop: a day's visitors, their sessions and orders, the orders' lives, restocking.

One shop-local day is one unit of work on the store (every write through the services with
the clock set to the simulated moment), then its tracking events go to the ingestion in
batches, then the simulator's own state is saved. Interrupting (Ctrl-C) rolls back the day in
progress: the store holds only whole days and `shopops verify` accepts it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import pickle
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shopops.db import session_scope, set_clock
from shopops.inventory import service as inventory
from shopops.sim import arrivals, calendar, personas, shoppers, traffic
from shopops.sim import promotions as sim_promotions
from shopops.sim import purchasing as sim_purchasing
from shopops.sim.browsing import Browsing, Columns
from shopops.sim.catalog import Shop
from shopops.sim.lifecycle import Action, Lifecycle, Outcome
from shopops.sim.model import Incident, Scenario
from shopops.sim.truth import DayTruth, Truth
from shopops.sim.visit import Visit, browse_shape, epoch_ms, order_events, plan_visit
from shopops.tracking.feed import Batch

STATE_FILE = "sim_state.pickle"
RAMP_FLOOR = 0.35  # a new shop starts at this share of its target traffic
RETURNING_BUY = 0.55  # a customer who comes back buys again this often
LEAD_DAYS = (3, 7)  # suppliers' lead times: the reorder threshold covers the longest
COVER_DAYS = 20  # a purchase order covers this many days of sales
# Hours: a day's work goes to the store in batches this long. 8 rather than 4: the set-based
# calls' fixed costs made 4-hour windows ~20% dearer (docs/simulator.md, "Speed").
WINDOW = 8
Progress = Callable[[int, int], None]


@dataclass
class State:
    """What the simulator remembers between days (pickled next to the data)."""

    seed: int
    scenario: Scenario
    opened: dt.date
    ramp_days: int
    target_visitors: int
    shop: Shop
    lifecycle: Lifecycle
    truth: Truth
    cpc: traffic.CpcWalk
    next_day: dt.date
    customers: dict[int, str] = field(default_factory=dict)  # id → persona code
    comebacks: list[tuple[dt.datetime, int]] = field(default_factory=list)
    pay_visits: dict[int, tuple[str, int]] = field(
        default_factory=dict
    )  # order → (distinct, customer)
    amounts: dict[int, int] = field(default_factory=dict)  # unpaid order → total (fen)
    order_channel: dict[int, tuple[str, str, int]] = field(
        default_factory=dict
    )  # (channel, persona, day idx)
    sales: dict[int, float] = field(default_factory=dict)  # SKU → smoothed units a day
    sold_today: dict[int, int] = field(default_factory=dict)
    on_order: dict[int, dt.date] = field(default_factory=dict)  # SKU → arrival
    blocked: dict[int, dt.date] = field(default_factory=dict)  # SKU → stock-out incident end
    cpc_day: tuple[dt.date | None, dict[str, int]] = (None, {})
    done_until: dt.datetime | None = None
    promos_made: set[str] = field(default_factory=set)  # dated promotions already created
    suppliers: dict[int, int] = field(default_factory=dict)  # SKU → its supplier
    registered: int = 0
    orders: int = 0
    paid: int = 0
    gmv: int = 0
    visitors: int = 0
    events: int = 0
    po: int = 0


def save_state(state: State, data_dir: Path) -> None:
    write_state(dump_state(state), data_dir)


def dump_state(state: State) -> bytes:
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def write_state(blob: bytes, data_dir: Path) -> None:
    """The state file, replaced atomically (a crash leaves the old one or the new one)."""
    tmp = data_dir / (STATE_FILE + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(data_dir / STATE_FILE)


def load_state(data_dir: Path) -> State | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    with open(path, "rb") as fh:
        # Our own file in our own data directory (never one from elsewhere).
        return pickle.load(fh)


def _local(day: dt.date, tz: ZoneInfo, seconds: float) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tz) + dt.timedelta(seconds=seconds)


class DayRun:
    """One day's simulation over `state` (see the module docstring)."""

    def __init__(
        self, engine: Engine, state: State, day: dt.date, tz: ZoneInfo,
        incidents: tuple[Incident, ...], since: dt.datetime, until: dt.datetime,
    ) -> None:  # fmt: skip
        self.engine, self.state, self.day, self.tz = engine, state, day, tz
        self.incidents = [i for i in incidents if i.covers(day)]
        self.since, self.until = since, until
        self.complete = until >= _local(day, tz, 86400 - 0.001)
        self.rng = random.Random(f"{state.seed}-{day.isoformat()}")
        self.truth = DayTruth(day.isoformat())
        self.events: list[dict[str, Any]] = []
        self.browsing: Browsing | None = None  # the non-buyers' sessions, made at ingestion
        self.identities: list[tuple[str, int, dt.datetime]] = []
        self.outcome = Outcome()
        self.sold: dict[int, int] = {}

    def _factor(self, kind: str, channel: str | None) -> float:
        f = 1.0
        for i in self.incidents:
            if i.kind == kind and (i.channel is None or i.channel == channel):
                f *= (1 + i.depth) if kind in ("cpc_spike", "complaint_spike") else (1 - i.depth)
        return f

    def visits(self) -> list[Visit]:
        """The stretch's buyers in time order, their sessions planned; the non-buyers go to
        `self.browsing` (made at ingestion). The truth counts them all."""
        s, rng = self.state, self.rng
        rhythm = calendar.rhythm(self.day) if s.scenario.campaigns else calendar.DayRhythm(
            calendar.WEEKDAY[self.day.weekday()], 1.0, None, None, False
        )  # fmt: skip
        age = (self.day - s.opened).days
        ramp = 1.0
        if s.scenario.ramp and s.ramp_days > 1:
            ramp = min(1.0, RAMP_FLOOR + (1 - RAMP_FLOOR) * age / (s.ramp_days - 1))
        # New visitors come from their own stream, drawn as arrays (sim.arrivals).
        crowd = arrivals.stream(f"visitors-{s.seed}-{self.day.isoformat()}")
        total = max(0, round(s.target_visitors * ramp * rhythm.traffic * crowd.normal(1.0, 0.04)))
        t = self.truth
        t.campaign, t.phase, t.member_day, t.traffic_factor = (
            rhythm.campaign,
            rhythm.phase,
            rhythm.member_day,
            round(rhythm.traffic * ramp, 4),
        )
        codes = traffic.channel_codes()
        new = arrivals.draw(
            crowd, total, [self._factor("traffic_drop", c) for c in codes],
            [rhythm.conversion * self._factor("conversion_slump", c) for c in codes],
        )  # fmt: skip
        midnight = _local(self.day, self.tz, 0)
        prefix = f"a{s.seed}-{self.day:%Y%m%d}-"
        # A day continued later (the demo kept alive) regenerates it and keeps the rest.
        at = midnight.timestamp() + new.seconds
        kept = (at > self.since.timestamp()) & (at <= self.until.timestamp())
        number = np.arange(1, len(new) + 1)
        campaign = rhythm.campaign or "always_on"
        browsing = Browsing.start(
            f"browse-{s.seed}-{self.day}-{self.since.isoformat()}", campaign, s.shop
        )
        self.browsing = browsing
        leave = kept & ~new.buys
        browsing.add_many(
            Columns(
                prefix, number[leave], new.channel[leave], new.persona[leave],
                (at[leave] * 1000).astype(np.int64), new.shape[leave],
            )
        )  # fmt: skip
        buyers = [
            Visit(
                f"{prefix}{number[i]}",
                codes[new.channel[i]],
                personas.PERSONAS[new.persona[i]],
                midnight + dt.timedelta(seconds=float(new.seconds[i])),
                p=float(new.p[i]),
                buys=True,
            )
            for i in np.flatnonzero(kept & new.buys).tolist()
        ]
        ch, pe = new.channel[kept], new.persona[kept]
        visitors = np.bincount(ch, minlength=len(codes)).tolist()
        expected = np.bincount(ch, weights=new.p[kept], minlength=len(codes)).tolist()
        t.visitors = dict.fromkeys(t.visitors, 0)
        by_persona = {
            personas.PERSONAS[i].code: n
            for i, n in enumerate(np.bincount(pe, minlength=len(personas.PERSONAS)).tolist())
            if n
        }
        for i, code in enumerate(codes):
            if visitors[i]:
                t.visitors[code] = t.visitors.get(code, 0) + visitors[i]
                t.expected_orders[code] = t.expected_orders.get(code, 0.0) + expected[i]
        n = len(new)
        day_end = _local(self.day, self.tz, 86400)
        while s.comebacks and s.comebacks[0][0] < min(day_end, self.until):
            when, customer_id = s.comebacks.pop(0)
            code = "private_domain" if rng.random() < 0.55 else "direct"
            persona = personas.BY_CODE[s.customers[customer_id]]
            n += 1
            p = RETURNING_BUY * self._factor("conversion_slump", code)
            visit = Visit(f"c{customer_id}-{n}", code, persona, when, customer_id=customer_id, p=p)
            visit.buys = rng.random() < p
            t.returning_visits += 1
            if not self.since < visit.start <= self.until:
                continue
            if visit.buys:
                buyers.append(visit)
            else:
                browsing.add(visit, epoch_ms(visit.start), browse_shape(rng))
            by_persona[persona.code] = by_persona.get(persona.code, 0) + 1
            t.visitors[code] = t.visitors.get(code, 0) + 1
            t.expected_orders[code] = t.expected_orders.get(code, 0.0) + p
        buyers.sort(key=lambda v: v.start)
        for visit in buyers:
            plan_visit(rng, s.shop, visit, traffic.BY_CODE[visit.channel], campaign)
        for code, visits in by_persona.items():
            s.truth.persona(code, "visits", visits)
        return buyers

    def run(self) -> Batch:
        """The day's store work (committed on return) and its tracking batch to ingest."""
        s = self.state
        s.lifecycle.return_factor = self._factor("complaint_spike", None)
        s.lifecycle.personas = s.customers
        visits = self.visits()
        if s.cpc_day[0] != self.day:
            s.cpc_day = (self.day, s.cpc.step())
        cpc = s.cpc_day[1]
        for code, fen in cpc.items():
            fen = round(fen * self._factor("cpc_spike", code))
            clicks = self.truth.visitors.get(code, 0)
            self.truth.cpc_fen[code], self.truth.spend_fen[code] = fen, fen * clicks
        day_start = _local(self.day, self.tz, 0)
        day_end = min(self.until, _local(self.day, self.tz, 86400 - 0.001))
        with session_scope(self.engine) as session:
            set_clock(session, max(self.since, day_start))
            sim_promotions.open_day(session, self.day, self.tz, s.promos_made)
            self._incidents_start(session)
            # The day in windows: a window's checkouts in one batch, then what falls due in
            # it, kind by kind (each order's steps are hours apart, so their order holds).
            k = 0
            for w in range(WINDOW, 24 + WINDOW, WINDOW):
                w_end = min(day_end, _local(self.day, self.tz, w * 3600))
                if w_end <= self.since:
                    continue
                due = self.state.lifecycle.pop_due(w_end)
                buyers: list[Visit] = []
                while k < len(visits) and (visits[k].checkout_at or visits[k].start) <= w_end:
                    visit = visits[k]
                    if visit.buys and visit.checkout_at is not None:
                        self.events.extend(visit.events)
                        buyers.append(visit)
                    k += 1
                receipts = [a for a in due if a.kind == "receipt"]
                self._run_due(session, receipts)
                shoppers.checkout(self, session, buyers)
                self._run_due(session, [a for a in due if a.kind != "receipt"])
                while more := self.state.lifecycle.pop_due(w_end):
                    self._run_due(session, more)
                if self.state.blocked:  # a return received mid-incident stays out
                    set_clock(session, w_end)
                    for sku in self.state.blocked:
                        _write_off(session, sku, "退货同批次损坏 returned unit, damaged batch")
                if w_end >= day_end:
                    break
            for visit in visits[k:]:  # buyers still deciding at the end of the stretch leave
                self.events.extend(visit.events)  # (a non-buyer's are in `browsing`)
            self._restock(session, day_end)
        return self._batch(day_end)

    def _run_due(self, session: Session, actions: list[Action]) -> None:
        if not actions:
            return
        before = len(self.outcome.paid)
        self.state.lifecycle.run_many(session, actions, self.outcome)
        for order_id, at in self.outcome.paid[before:]:
            self._paid(order_id, at)

    def _paid(self, order_id: int, at: dt.datetime) -> None:
        s = self.state
        distinct, customer_id = s.pay_visits.pop(order_id)
        channel, persona_code, _ = s.order_channel[order_id]
        self.truth.paid_orders[channel] = self.truth.paid_orders.get(channel, 0) + 1
        s.truth.persona(persona_code, "paid_orders")
        s.paid += 1
        amount = s.amounts.pop(order_id, 0)
        s.gmv += amount
        visit = Visit(distinct, channel, personas.BY_CODE[persona_code], at, customer_id)
        self.events.append(order_events(visit, order_id, amount, at, at)[1])
        persona = personas.BY_CODE[persona_code]
        if self.rng.random() < persona.comeback:
            days = self.rng.expovariate(1 / persona.comeback_days) + 1
            _insert(s.comebacks, (at + dt.timedelta(days=days), customer_id))

    def _incidents_start(self, session: Session) -> None:
        s = self.state
        for i in self.incidents:
            if i.kind != "stockout" or i.day != self.day:
                continue
            sku = i.sku_id or max(s.shop.hits, key=lambda k: s.shop.sku_weight[k])
            set_clock(session, _local(self.day, self.tz, 60))
            _write_off(session, sku, "模拟断货 simulated stock-out (damaged batch)")
            end = i.day + dt.timedelta(days=i.days)
            s.blocked[sku] = end
            s.on_order.pop(sku, None)
            s.truth.stockouts.append(
                {
                    "sku_id": sku,
                    "start": i.day.isoformat(),
                    "end": end.isoformat(),
                    "injected": True,
                }
            )
            s.truth.incidents.append(
                {
                    "kind": i.kind,
                    "day": i.day.isoformat(),
                    "days": i.days,
                    "sku_id": sku,
                    "depth": i.depth,
                }
            )

    def _restock(self, session: Session, at: dt.datetime) -> None:
        """Smoothed daily sales per SKU; a purchase order when stock falls below lead-time
        cover, arriving after the lead time (never for a SKU under a stock-out incident)."""
        s = self.state
        s.sold_today = {k: s.sold_today.get(k, 0) + v for k, v in self.sold.items()}
        if self.complete:
            for sku in s.shop.sku_ids:
                s.sales[sku] = 0.8 * s.sales.get(sku, 0.0) + 0.2 * s.sold_today.get(sku, 0)
            s.sold_today = {}
        for sku, end in list(s.blocked.items()):
            if end <= self.day + dt.timedelta(days=1):
                del s.blocked[sku]
                s.po += 1
                qty = max(10, math.ceil(s.sales.get(sku, 1.0) * COVER_DAYS))
                arrive = _local(end, self.tz, 9 * 3600)
                po_id, _ = sim_purchasing.open_purchase_order(
                    session, lines=[(sku, qty)], warehouse_id=s.shop.warehouse_ids[0], at=at,
                    expected_at=arrive,
                )  # fmt: skip
                s.lifecycle.schedule(arrive, "receipt", po_id)
                s.on_order[sku] = end
        for sku, arrival in list(s.on_order.items()):
            if arrival <= self.day:
                del s.on_order[sku]
        set_clock(session, at)
        stock = inventory.available(session, sku_ids=s.shop.sku_ids)
        # What to reorder today, one purchase order per supplier (as a buyer orders).
        needs: dict[int, list[tuple[int, int]]] = {}
        for sku in s.shop.sku_ids:
            if sku in s.on_order or sku in s.blocked:
                continue
            rate = s.sales.get(sku, 0.0)
            if stock.get(sku, 0) > rate * (LEAD_DAYS[1] + 2) + 2:
                continue
            if stock.get(sku, 0) == 0:
                s.truth.stockouts.append(
                    {"sku_id": sku, "start": self.day.isoformat(), "end": None, "injected": False}
                )
            qty = max(5, math.ceil(rate * COVER_DAYS))
            needs.setdefault(s.suppliers.get(sku, 0), []).append((sku, qty))
        for lines in needs.values():
            s.po += 1
            # The supplier's lead time sets the expected arrival (23:59 + lead days); the
            # truck comes 9–17 h that day, or later when receive_purchase_order says so.
            po_id, expected = sim_purchasing.open_purchase_order(
                session, lines=lines, at=at,
                warehouse_id=s.shop.warehouse_ids[s.po % len(s.shop.warehouse_ids)],
            )  # fmt: skip
            arrive = expected - dt.timedelta(hours=self.rng.uniform(7, 15))
            s.lifecycle.schedule(arrive, "receipt", po_id)
            for sku, _qty in lines:
                s.on_order[sku] = arrive.astimezone(self.tz).date()

    def _batch(self, received: dt.datetime) -> Batch:
        # The day's sign-ins and events in bulk: one sync each, the same frames and checks.
        # Received no earlier than its last event (the ingestion clamps later ones to it).
        latest = max([e["timestamp"] for e in self.events[-1:]], default=0)
        browsing = self.browsing
        if browsing is not None and browsing.count:
            latest = max(latest, browsing.latest_ms)
        received = max(received, dt.datetime.fromtimestamp(latest / 1000, dt.UTC))
        # Ids the simulator gives (as a client SDK does), the same on a re-run of this stretch
        # of the day, so a replay dedups; cheaper than the ingestion deriving them from content.
        base = (
            int.from_bytes(
                hashlib.blake2b(
                    f"{self.state.seed}|{self.day}|{self.since.isoformat()}".encode(),
                    digest_size=10,
                ).digest()
            )
            << 48
        )
        sources = [browsing] if browsing is not None and browsing.count else []
        self.truth.events = len(self.events) + sum(b.count for b in sources)
        return Batch(
            self.identities, self.events, received, "Mozilla/5.0 (iPhone) shopops-sim",
            sources=list(sources), id_base=base,
        )  # fmt: skip


def _write_off(session: Session, sku: int, note: str) -> None:
    """Every unit of the SKU not held by an order leaves stock (an incident's damaged batch)."""
    for level in inventory.list_stock_levels(session, sku_id=sku, limit=100).items:
        spare = level.on_hand - level.reserved
        if spare > 0:
            inventory.adjust_stock(
                session, sku_id=sku, warehouse_id=level.warehouse_id, delta=-spare, note=note
            )


def _insert(queue: list[tuple[dt.datetime, int]], item: tuple[dt.datetime, int]) -> None:
    import bisect

    bisect.insort(queue, item)
