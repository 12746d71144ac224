"""Background jobs that keep the store honest while `serve` runs.

Each job is one unit of work, idempotent and safe to rerun: cancelling unpaid orders past their
deadline (releasing their stock), completing delivered orders after the confirmation period,
expiring coupons and points, birthday gifts and the tier re-evaluation.
The scheduler is a daemon thread; the operations issue replaces it with a full scheduler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from shopops.config import Settings
from shopops.db import session_scope

log = logging.getLogger("shopops.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Session, Settings], int]


def _expire_unpaid(session: Session, settings: Settings) -> int:
    from shopops.orders.service import expire_unpaid_orders

    return expire_unpaid_orders(session, limit=500)


def _complete_delivered(session: Session, settings: Settings) -> int:
    from shopops.orders.service import complete_delivered_orders

    return complete_delivered_orders(session, days=settings.auto_complete_days, limit=500)


def _expire_coupons(session: Session, settings: Settings) -> int:
    from shopops.promotions.service import expire_coupons

    return expire_coupons(session)


def _expire_points(session: Session, settings: Settings) -> int:
    from shopops.db import now
    from shopops.members.service import expire_points

    return len(expire_points(session, as_of=now(session)))


def _birthday_gifts(session: Session, settings: Settings) -> int:
    from shopops.members.service import grant_birthday_gifts

    return len(grant_birthday_gifts(session))


def _evaluate_tiers(session: Session, settings: Settings) -> int:
    from shopops.members.service import evaluate_tiers

    counts = evaluate_tiers(session)
    return counts.get("up", 0) + counts.get("down", 0)


def _load_warehouse(session: Session, settings: Settings) -> int:
    # The loader reads through its own read-only connections; this session stays unused.
    from shopops.warehouse import run_incremental

    return run_incremental(settings, engine=session.get_bind())


def _keep_demo_alive(session: Session, settings: Settings) -> int:
    # Only a simulated shop (its state file is there) gets new visitors: the demo keeps living.
    from shopops.sim.engine import STATE_FILE
    from shopops.sim.model import MAX_DAYS, SimulationConfig
    from shopops.sim.run import simulate

    if not (settings.data_dir / STATE_FILE).exists():
        return 0
    return simulate(settings, SimulationConfig(days=MAX_DAYS)).days


def _evaluate_alerts(session: Session, settings: Settings) -> int:
    from shopops.ops.jobs import evaluate_yesterday

    return evaluate_yesterday(session, settings)


def _write_reviews(session: Session, settings: Settings) -> int:
    from shopops.ops.jobs import write_reviews

    return write_reviews(session, settings)


HOUR = 3600
DEFAULT_JOBS = (
    Job("expire_unpaid_orders", 30, _expire_unpaid),
    Job("complete_delivered_orders", 600, _complete_delivered),
    Job("expire_coupons", HOUR, _expire_coupons),
    # Idempotent per day (expired lots, one gift a year), so hourly runs are safe.
    Job("expire_points", HOUR, _expire_points),
    Job("grant_birthday_gifts", HOUR, _birthday_gifts),
    Job("evaluate_tiers", 24 * HOUR, _evaluate_tiers),
    Job("load_warehouse", 300, _load_warehouse),
    Job("simulate_demo_shop", 600, _keep_demo_alive),
    Job("evaluate_alerts", HOUR, _evaluate_alerts),
    Job("write_reviews", HOUR, _write_reviews),
)


def run_job_once(engine: Engine, settings: Settings, job: Job) -> int:
    with session_scope(engine) as session:
        return job.run(session, settings)


class Scheduler:
    """Runs each job every `every_seconds` on a daemon thread until `stop()`."""

    def __init__(self, engine: Engine, settings: Settings, jobs: tuple[Job, ...] = DEFAULT_JOBS):
        self.engine, self.settings, self.jobs = engine, settings, jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="shopops-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        due = dict.fromkeys((j.name for j in self.jobs), 0.0)
        elapsed = 0.0
        while not self._stop.is_set():
            for job in self.jobs:
                if elapsed >= due[job.name]:
                    due[job.name] = elapsed + job.every_seconds
                    try:
                        done = run_job_once(self.engine, self.settings, job)
                        if done:
                            log.info("%s: %d", job.name, done)
                    except Exception:
                        # A failing job must not stop the others; it is retried next round.
                        log.exception("job %s failed", job.name)
            self._stop.wait(1.0)
            elapsed += 1.0
