"""Running the simulator on a data directory: build or continue the shop, write the ground
truth and the ad spend file, and (for `build_sample_shop`) load the warehouse."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import os
import random
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import shopops.models  # noqa: F401 - every domain's handlers, as the app and CLI run them
from shopops.accounts import service as accounts
from shopops.accounts.service import create_api_key
from shopops.catalog.models import Product
from shopops.config import Settings
from shopops.db import make_engine, session_scope, set_clock
from shopops.errors import ShopOpsError
from shopops.payments.gateway import SimulatedGateway
from shopops.reviews import rules as reviews_rules
from shopops.sim import purchasing as sim_purchasing
from shopops.sim import traffic
from shopops.sim.catalog import build_catalog
from shopops.sim.checkpoint import Checkpointer
from shopops.sim.compaction import BackgroundCompactor
from shopops.sim.engine import (
    RAMP_FLOOR,
    DayRun,
    State,
    dump_state,
    load_state,
    save_state,
    write_state,
)
from shopops.sim.feeder import Feeder
from shopops.sim.lifecycle import Lifecycle
from shopops.sim.model import SCENARIOS, SimulationConfig, SimulationResult, preset_incidents
from shopops.sim.promotions import create_standing
from shopops.sim.truth import DayTruth, Truth
from shopops.tracking import service as tracking

GROUND_TRUTH = "ground_truth.json"
AD_SPEND = "ad_spend.csv"
Progress = Callable[[int, int], None]


class StoreNotEmpty(ValueError):
    """The store has a catalog the simulator did not build: it will not mix into it."""


def _today(tz: ZoneInfo) -> dt.date:
    return dt.datetime.now(tz).date()


# The simulator's own SQLite connections: a day's unit of work stays in the page cache (no
# spills, no re-reads), temporary b-trees in memory, and no fsync per checkpoint (a process
# crash loses nothing; `_settle` makes the finished store durable); the log is copied into
# the file by the checkpoint thread (sim/checkpoint.py), not by the day's commit.
SIM_PRAGMAS = (
    "synchronous=OFF", "cache_size=-65536", "temp_store=MEMORY", "wal_autocheckpoint=0",
)  # fmt: skip


def _prepare(settings: Settings) -> Engine:
    from shopops.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sim_pragmas)
    upgrade(engine)
    return engine


def _freeze_heap() -> None:
    """Collect the days so far, then keep what survives (the state, the shop: long-lived) out
    of the collector's full passes, which otherwise walk it again and again during a day."""
    gc.collect()
    gc.freeze()


def _sim_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in SIM_PRAGMAS:
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _settle(engine: Engine) -> None:
    """Checkpoint the WAL into the database file with an fsync (the runs skipped them)."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    except SQLAlchemyError:
        return  # a busy store: its next checkpoint (any writer's) syncs it


def _new_state(engine: Engine, config: SimulationConfig, start: dt.date, tz: ZoneInfo) -> State:
    with session_scope(engine, readonly=True) as session:
        if session.scalar(select(func.count()).select_from(Product)):
            raise StoreNotEmpty(
                "the store already has products that the simulator did not make; "
                "use an empty data directory (or `shopops demo --fresh`)"
            )
    rng = random.Random(f"shop-{config.seed}")
    opened = dt.datetime.combine(start, dt.time(0), tz) - dt.timedelta(days=1)
    with session_scope(engine) as session:
        set_clock(session, opened.astimezone(dt.UTC))
        # A growing shop opens with stock for its first weeks' traffic, not its target's.
        opening = config.visitors * (RAMP_FLOOR if SCENARIOS[config.scenario].ramp else 1.0)
        shop = build_catalog(session, config.seed, rng, opened, max(1, round(opening)))
        suppliers = sim_purchasing.seed_suppliers(session, sku_ids=shop.sku_ids)
        create_standing(session, opened)
    settings_rates = {"wechat_pay": 0.92, "alipay": 0.93, "unionpay": 0.88}
    gateway = SimulatedGateway(
        secret="shopops-sim", success_rate=settings_rates, rng=random.Random(f"pay-{config.seed}")
    )
    return State(
        seed=config.seed,
        scenario=SCENARIOS[config.scenario],
        opened=start,
        ramp_days=config.days,
        target_visitors=config.visitors,
        shop=shop,
        lifecycle=Lifecycle(
            random.Random(f"life-{config.seed}"), gateway, random.Random(f"reviews-{config.seed}")
        ),
        truth=Truth(config.seed, config.scenario, str(tz)),
        cpc=traffic.CpcWalk(config.seed),
        next_day=start,
        done_until=opened,
        suppliers=suppliers,
    )


def _merge_day(truth: Truth, day: DayTruth) -> None:
    """Record a day; a day continued later (partial, then the rest) adds up."""
    if truth.days and truth.days[-1].date == day.date:
        last = truth.days[-1]
        for name in ("visitors", "orders", "paid_orders", "expected_orders"):
            mine, more = getattr(last, name), getattr(day, name)
            for k, v in more.items():
                mine[k] = mine.get(k, 0) + v
        last.cpc_fen = day.cpc_fen
        last.spend_fen = {k: last.cpc_fen[k] * last.visitors.get(k, 0) for k in day.cpc_fen}
        for name in ("lost_to_stockout", "returning_visits", "new_customers", "events"):
            setattr(last, name, getattr(last, name) + getattr(day, name))
        return
    truth.days.append(day)


def write_ad_spend(truth: Truth, path: Path) -> None:
    """`date,channel,campaign_id,spend_fen,impressions,clicks` per paid channel and day, as
    `shopops etl --ad-spend` reads it (clicks = the channel's visits; impressions at a CTR
    drawn around 3%; no promotion campaign id: the spend is the channel's always-on buying)."""
    rng = random.Random(f"impressions-{truth.seed}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "channel", "campaign_id", "spend_fen", "impressions", "clicks"])
    for day in truth.days:
        for code in sorted(day.spend_fen):
            clicks = day.visitors.get(code, 0)
            impressions = round(clicks / rng.uniform(0.02, 0.045))
            writer.writerow([day.date, code, "", day.spend_fen[code], impressions, clicks])
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(out.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def simulate(
    settings: Settings, config: SimulationConfig, *, progress: Progress | None = None
) -> SimulationResult:
    """Build (or continue) the shop in `settings`' data directory / database through the
    real services and the tracking ingestion; write the ground truth and the ad spend file.

    A new shop covers `config.days` days ending `config.end` (default today, up to now). An
    existing one (the simulator's state file is there) continues from where it stopped for
    `config.days` more days, never past `config.end`. Raises ValueError for a bad config,
    StoreNotEmpty for a store the simulator did not build. KeyboardInterrupt (Ctrl-C) stops
    after rolling back the day in progress; the days before it stay, consistent."""
    config = config.validated()
    started = time.perf_counter()
    tz = ZoneInfo(settings.timezone)
    engine = _prepare(settings)
    data_dir = settings.data_dir
    try:
        state = load_state(data_dir)
        continued = state is not None
        end = config.end or _today(tz)
        if state is None:
            state = _new_state(engine, config, end - dt.timedelta(days=config.days - 1), tz)
            save_state(state, data_dir)
            last = end
        else:
            last = min(end, state.next_day + dt.timedelta(days=config.days - 1))
        limit = dt.datetime.now(dt.UTC)  # nothing happens after the real now
        incidents = preset_incidents(config, end)
        days = [
            state.next_day + dt.timedelta(days=i) for i in range((last - state.next_day).days + 1)
        ]
        store = tracking.open_store(data_dir, timezone=settings.timezone)
        compactor = BackgroundCompactor(store, len(days))
        feeder = Feeder(store, data_dir, len(days))
        if feeder.background:
            # A long run reviews flagged texts: the ~1 s load overlaps the child's start-up.
            reviews_rules.warm_segmenter()
        result = SimulationResult(continued=continued, incidents=list(incidents))
        checkpointer = Checkpointer(engine)
        try:
            for done, day in enumerate(days, 1):
                day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tz)
                until = min(day_end - dt.timedelta(milliseconds=1), limit)
                since = state.done_until or dt.datetime.combine(day, dt.time(0), tz)
                if until <= since:
                    break
                _freeze_heap()
                run = DayRun(engine, state, day, tz, incidents, since, until)
                batch = run.run()
                checkpointer.kick()
                _merge_day(state.truth, run.truth)
                state.truth.pay_attempts = _add(
                    state.truth.pay_attempts, run.outcome.payment_attempts
                )
                state.truth.pay_failures = _add(
                    state.truth.pay_failures, run.outcome.payment_failures
                )
                state.truth.delivered += run.outcome.delivered
                state.truth.returns_requested += run.outcome.returns_requested
                state.truth.refunds += run.outcome.refunded
                state.visitors += sum(run.truth.visitors.values())
                state.events += run.truth.events
                state.done_until = until
                state.next_day = (
                    day
                    if until < day_end - dt.timedelta(milliseconds=1)
                    else day + dt.timedelta(days=1)
                )
                # The last stretch is compacted at the end in process (no worker start-up).
                seal = compactor.due(done) and done < len(days)
                batch.seal = seal and feeder.background

                def then(blob: bytes = dump_state(state), seal: bool = seal) -> None:
                    write_state(blob, data_dir)  # the day's events are durable by now
                    if seal:
                        compactor.start(seal=not feeder.background)

                feeder.submit(batch, then)
                result.days += 1
                if progress is not None:
                    progress(done, len(days))
        except KeyboardInterrupt:
            result.interrupted = True
            feeder.drain()  # the day whose store work committed gets its events and state
            # The day in progress was rolled back: report what was saved, not its half.
            state = load_state(data_dir) or state
            raise
        finally:
            # Sealed and compacted (the API serving this directory may share the open log).
            try:
                checkpointer.close()
                feeder.close()
                # What a busy worker has not claimed is compacted here meanwhile (heap still
                # frozen: the collector leaves the simulation's objects alone).
                tracking.compact_events(store)
                compactor.finish()
            finally:
                gc.unfreeze()  # the caller's process (a server, tests) collects as before
            _finish(settings, state, result, started)
        if not continued:
            with session_scope(engine) as session:
                set_clock(session, min(limit, state.done_until or limit))
                _, result.operator_key = create_api_key(
                    session, role="operator", name="simulator operator"
                )
                _console_account(session, result)
        return result
    finally:
        try:
            _settle(engine)
        finally:
            engine.dispose()


DEMO_USERNAME = "demo_operator"


def _console_account(session: Session, result: SimulationResult) -> None:
    """A demo operator console account, once the console's accounts exist (issue 6): the
    password is random and shown once by `shopops demo`."""
    create = getattr(accounts, "create_console_user", None)
    if create is None:
        return
    password = secrets.token_urlsafe(12)
    try:
        with session.begin_nested():
            create(
                session,
                username=DEMO_USERNAME,
                role="operator",
                password=password,
                display_name="演示运营 demo operator",
            )
    except (ShopOpsError, SQLAlchemyError):
        return  # an older schema without console accounts: the API key is enough
    result.console_username, result.console_password = DEMO_USERNAME, password


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}


def _finish(settings: Settings, state: State, result: SimulationResult, started: float) -> None:
    truth_path = settings.data_dir / GROUND_TRUTH
    state.truth.incidents = _resolved(state, result)
    state.truth.write(truth_path)
    spend_path = settings.data_dir / AD_SPEND
    write_ad_spend(state.truth, spend_path)
    result.ground_truth_path, result.ad_spend_path = truth_path, spend_path
    result.visitors, result.sessions, result.events = state.visitors, state.visitors, state.events
    result.orders, result.paid_orders, result.gmv_fen = state.orders, state.paid, state.gmv
    result.customers = len(state.customers)
    result.returns = state.truth.returns_requested
    if state.truth.days:
        result.first_day = dt.date.fromisoformat(state.truth.days[0].date)
        result.last_day = dt.date.fromisoformat(state.truth.days[-1].date)
    result.seconds = time.perf_counter() - started


def _resolved(state: State, result: SimulationResult) -> list[dict[str, object]]:
    """Every incident as applied: a stock-out with the SKU it hit (recorded by the engine)."""
    out = [dict(i) for i in state.truth.incidents]
    for incident in result.incidents:
        if incident.kind == "stockout":
            continue
        row = {
            "kind": incident.kind,
            "day": incident.day.isoformat(),
            "days": incident.days,
            "channel": incident.channel,
            "depth": incident.depth,
        }
        if row not in out:
            out.append(row)
    return out


def load_shop_warehouse(
    settings: Settings, result: SimulationResult, progress: Progress | None = None
) -> None:
    """The warehouse loader over the simulated store with its ad spend file, then the
    tracking facts (sessions, events), as `shopops etl` does; ValueError if any ad spend row
    was refused (the simulator writes them, so that would be a bug)."""
    from shopops.tracking.facts import build_event_facts
    from shopops.warehouse import load_warehouse

    engine = make_engine(settings.resolved_database_url)
    try:
        report = load_warehouse(
            engine,
            data_dir=settings.data_dir,
            timezone=settings.timezone,
            ad_spend=result.ad_spend_path,
            today=result.last_day,
            tracking=settings,
            progress=progress,
        )
    finally:
        engine.dispose()
    if report.ad_spend is not None and report.ad_spend.rejected:
        first = report.ad_spend.rejected[0]
        raise ValueError(f"ad spend line {first.line} refused: {first.reason}")
    if report.tracking != "built":
        build_event_facts(settings)


def build_sample_shop(settings: Settings, config: SimulationConfig) -> SimulationResult:
    """`simulate` + the warehouse loader (with the ad spend file) and the tracking facts, so
    the analytics can read the shop: what tests and the demo use."""
    result = simulate(settings, config)
    load_shop_warehouse(settings, result)
    return result
