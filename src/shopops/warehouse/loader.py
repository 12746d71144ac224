"""The warehouse loader: outbox events → fact partitions, the store snapshot → dimensions.

A run reads the outbox after its checkpoint in pages (`read_events`), builds each page's fact
rows and patches (`facts.build`), merges them into the date partitions they touch (rows already
there by event id are not written again; accumulating rows change only for newer events), and
commits the page's files with the new checkpoint (`files.Commit`). Then it rewrites the
dimensions from a read-only snapshot, loads ad spend from CSV when given one, and asks the
tracking package to build its facts if it is installed.

On PostgreSQL, transactions commit out of `seq` order: an event with a lower seq can become
visible after a higher one was loaded. Each run therefore re-reads `overlap` seqs before its
checkpoint; de-duplication makes the re-read harmless.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.orm import Session

from shopops.db import session_scope
from shopops.errors import Conflict
from shopops.events import OutboxEvent
from shopops.warehouse import files, stock
from shopops.warehouse.adspend import AdSpend, merge, parse_csv
from shopops.warehouse.derived import refresh_derived
from shopops.warehouse.dimensions import StoreSnapshot, read_snapshot
from shopops.warehouse.facts import Event, Lookups, absorb, build, referenced
from shopops.warehouse.merge import merge_appends, merge_patches, read_lookups
from shopops.warehouse.publish import publish_dimensions
from shopops.warehouse.rules import shop_date
from shopops.warehouse.schema import ACCUMULATING, EVENT_FACTS, SCHEMAS, to_table

log = logging.getLogger("shopops.warehouse")

BATCH_SIZE = 10_000
PG_OVERLAP = 2_000
# Lookups grow with the orders of a run; past this many they are dropped and re-read.
MAX_LOOKUPS = 200_000
Progress = Callable[[int, int], None]


class LoaderBusy(Conflict):
    code = "warehouse_busy"


@dataclass
class LoadReport:
    """What a run did."""

    events: int = 0
    batches: int = 0
    seq: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    ad_spend: AdSpend | None = None
    tracking: str = "not installed"

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@contextmanager
def _lock(root: Path) -> Iterator[None]:
    """One loader at a time per warehouse (the CLI and `serve`'s job may both try)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LoaderBusy(
                "another warehouse load is running", details={"warehouse": str(root)}
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _snapshot(engine: Engine, tz: str) -> StoreSnapshot:
    with session_scope(engine, readonly=True) as session:
        if engine.dialect.name == "postgresql":
            # One consistent view of every table the dimensions read.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return read_snapshot(session, tz)


_OUTBOX = OutboxEvent.__table__
# `read_events`' page as Core rows, not ORM objects: building 10,000 instances a page cost
# more than the page's facts. Same columns, same order, the types' own result processing.
_PAGE = (
    select(_OUTBOX.c.id, _OUTBOX.c.seq, _OUTBOX.c.name, _OUTBOX.c.occurred_at, _OUTBOX.c.payload)
    .where(_OUTBOX.c.seq > bindparam("after"))
    .order_by(_OUTBOX.c.seq)
    .limit(bindparam("limit"))
)


def _page(engine: Engine, after: int, limit: int) -> list[Event]:
    with session_scope(engine, readonly=True) as session:
        rows = session.execute(_PAGE, {"after": after, "limit": limit}).all()
    return [Event(*row) for row in rows]


def _pending(session: Session, after: int) -> int:
    return session.scalar(select(func.count()).where(OutboxEvent.seq > after)) or 0


def _stock_state(state: dict[str, Any]) -> tuple[int, set[int]]:
    s = state.get("stock") or {}
    return int(s.get("seq", 0)), set(s.get("recent", []))


class _Run:
    """One loader run over a warehouse directory."""

    def __init__(self, engine: Engine, root: Path, tz: str, today: dt.date, overlap: int):
        self.engine, self.root, self.tz, self.today, self.overlap = engine, root, tz, today, overlap
        self.state = files.read_state(root)
        self.lookups = Lookups()
        self.snapshot = StoreSnapshot()
        self.report = LoadReport(seq=int(self.state["sources"].get("outbox", 0)))

    def events(self, batch_size: int, progress: Progress | None) -> None:
        self.snapshot = _snapshot(self.engine, self.tz)
        self.lookups.skus = self.snapshot.sku_lookup()
        after = max(0, self.report.seq - self.overlap)
        with session_scope(self.engine, readonly=True) as session:
            total = _pending(session, after)
        done = 0
        while True:
            page = _page(self.engine, after, batch_size)
            if not page:
                break
            self.batch(page)
            after = page[-1].seq
            done += len(page)
            self.report.events, self.report.batches = done, self.report.batches + 1
            if progress is not None:
                progress(done, max(total, done))

    def batch(self, page: list[Event]) -> None:
        """Build a page's facts, stage the partitions they touch, commit with the checkpoint."""
        if len(self.lookups.orders) + len(self.lookups.lines) > MAX_LOOKUPS:
            self.lookups.orders.clear()
            self.lookups.lines.clear()
        for event in page:
            # Orders created in this page need no look-up in the warehouse.
            absorb(event, self.lookups, self.tz)
        need_orders: set[int] = set()
        need_lines: set[int] = set()
        for event in page:
            orders, lines = referenced(event)
            need_orders.update(o for o in orders if o not in self.lookups.orders)
            need_lines.update(x for x in lines if x not in self.lookups.lines)
        read_lookups(self.root, self.lookups, need_orders, need_lines)
        out = build(page, self.lookups, self.tz)
        commit = files.Commit(self.root)
        for table in EVENT_FACTS:
            if table in ACCUMULATING:
                added = merge_patches(commit, table, out.patches.get(table, []))
            else:
                added = merge_appends(commit, table, out.appends.get(table, []))
            if added:
                self.report.rows[table] = self.report.rows.get(table, 0) + added
        self.stage_stock(commit, [e for e in page if e.name == "stock.changed"])
        seq = max(self.report.seq, page[-1].seq)
        self.report.seq = seq
        self.state = {**self.state, "sources": {**self.state["sources"], "outbox": seq}}
        commit.commit(self.state)

    def stage_stock(self, commit: files.Commit, events: list[Event]) -> None:
        high, recent = _stock_state(self.state)
        fresh = [
            e
            for e in events
            if e.seq > high or (e.seq > high - self.overlap and e.seq not in recent)
        ]
        written = files.partitions(self.root, "fact_stock_daily")
        changes = stock.deltas(fresh, self.tz)
        days = stock.days_to_write(written, changes, self.today)
        if not days:
            return
        rows = stock.rebuild(days, written, self._read_levels, changes, self.snapshot.sku_state())
        for day, day_rows in rows.items():
            commit.write(
                files.partition_path(self.root, "fact_stock_daily", day),
                to_table("fact_stock_daily", day_rows),
            )
        self.report.rows["fact_stock_daily"] = self.report.rows.get("fact_stock_daily", 0) + sum(
            len(r) for r in rows.values()
        )
        seqs = {e.seq for e in fresh} | recent
        new_high = max([high, *seqs])
        self.state = {
            **self.state,
            "stock": {
                "seq": new_high,
                "recent": sorted(s for s in seqs if s > new_high - self.overlap),
            },
        }

    def _read_levels(self, day: dt.date) -> stock.Levels:
        data = files.read(
            files.partition_path(self.root, "fact_stock_daily", day), "fact_stock_daily"
        )
        return {
            int(s): (int(h), int(r))
            for s, h, r in zip(
                data.column("sku_id").to_pylist(),
                data.column("on_hand").to_pylist(),
                data.column("reserved").to_pylist(),
                strict=True,
            )
        }

    def ad_spend(self, text: str, source: str) -> AdSpend:
        from shopops.tracking.rules import CHANNEL_NAMES

        parsed = parse_csv(text, [str(c) for c in CHANNEL_NAMES])
        by_day: dict[dt.date, list[dict[str, Any]]] = {}
        for row in parsed.rows:
            by_day.setdefault(row["date"], []).append(row)
        commit = files.Commit(self.root)
        for day, rows in sorted(by_day.items()):
            path = files.partition_path(self.root, "fact_ad_spend", day)
            existing = files.read(path, "fact_ad_spend").to_pylist()
            commit.write(path, to_table("fact_ad_spend", merge(existing, rows)))
        loaded = {"file": source, "rows": len(parsed.rows), "rejected": len(parsed.rejected)}
        self.state = {**self.state, "sources": {**self.state["sources"], "ad_spend": loaded}}
        if commit:
            commit.commit(self.state)
        self.report.rows["fact_ad_spend"] = len(parsed.rows)
        return parsed


def reset(root: Path) -> None:
    """Forget everything this loader wrote (the tracking tables are not its to delete)."""
    commit = files.Commit(root)
    for table in SCHEMAS:
        if (root / table).exists():
            commit.delete(root / table)
    commit.commit({"sources": {"outbox": 0}})


def _tracking(settings_or_dir: Any, since: dt.datetime | None) -> str:
    try:
        from shopops.tracking.service import build_event_facts  # type: ignore[attr-defined]
    except ImportError:
        return "not installed"
    build_event_facts(settings_or_dir, since=since)
    return "built"


def load_warehouse(
    engine: Engine,
    *,
    data_dir: Path,
    timezone: str = "Asia/Shanghai",
    full: bool = False,
    ad_spend: Path | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    today: dt.date | None = None,
    overlap: int | None = None,
    tracking: Any = None,
) -> LoadReport:
    """Bring `data_dir/warehouse` up to date with the store (see the module docstring).

    `full` starts again from an empty warehouse; `ad_spend` loads a CSV of ad spend;
    `tracking` (settings or the data dir) is passed to the tracking facts builder.
    """
    started = time.perf_counter()
    root = Path(data_dir) / "warehouse"
    if overlap is None:
        overlap = PG_OVERLAP if engine.dialect.name == "postgresql" else 0
    today = today or shop_date(dt.datetime.now(dt.UTC), timezone) or dt.date.today()
    with _lock(root):
        files.recover(root)
        if full:
            reset(root)
        run = _Run(engine, root, timezone, today, overlap)
        run.events(batch_size, progress)
        publish_dimensions(run.root, run.snapshot, today)
        report = run.report
        if ad_spend is not None:
            report.ad_spend = run.ad_spend(
                Path(ad_spend).read_text(encoding="utf-8"), str(ad_spend)
            )
    report.tracking = _tracking(tracking if tracking is not None else data_dir, None)
    # After the tracking facts too: the summaries cover sessions as well as orders.
    try:
        with _lock(root):
            refresh_derived(root)
    except LoaderBusy:
        pass  # the load holding the lock refreshes them when it ends
    report.seconds = time.perf_counter() - started
    return report


def run_incremental(settings: Any, engine: Engine | None = None) -> int:
    """The scheduler's job: load what the outbox gained since the last run; events loaded.
    Returns 0 (and loads nothing) while another load holds the warehouse."""
    from shopops.db import make_engine

    own = engine is None
    eng = engine or make_engine(settings.resolved_database_url)
    try:
        report = load_warehouse(
            eng, data_dir=settings.data_dir, timezone=settings.timezone, tracking=settings
        )
    except LoaderBusy:
        return 0
    finally:
        if own:
            eng.dispose()
    return report.events
