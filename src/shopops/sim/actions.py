"""The simulator's timed actions, what they did, and the queue that carries them out.

`Steps` is the part every kind of step shares: the time-ordered queue, running one action in
its own savepoint at its moment, and running a window's actions of a kind in one set-based
call (a refused item skipped and counted, a batch undone past the checks replayed one by
one). `sim.return_steps` and `sim.lifecycle` add the steps themselves.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.payments.gateway import SimulatedGateway


@dataclass(order=True)
class Action:
    at: dt.datetime
    seq: int
    kind: str = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


@dataclass
class Outcome:
    """What actions did, for the ground truth and the tracking events."""

    paid: list[tuple[int, dt.datetime]] = field(default_factory=list)  # (order id, when)
    payment_failures: dict[str, int] = field(default_factory=dict)
    payment_attempts: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    shipped: int = 0
    delivered: int = 0
    completed: int = 0
    returns_requested: int = 0
    refunded: int = 0
    received_units: int = 0
    reviews: int = 0
    skipped: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # "action:code" → count, for the truth


class Steps:
    """The queue of timed actions and the ways of carrying them out."""

    rng: random.Random
    gateway: SimulatedGateway
    # order id → (customer id, return probability, pay channel) for the later steps
    orders: dict[int, tuple[int, float, str]]
    queue: list[Action]
    seq: int

    def schedule(self, at: dt.datetime, kind: str, *args: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, Action(at, self.seq, kind, args))

    def due(self, until: dt.datetime) -> Action | None:
        if self.queue and self.queue[0].at <= until:
            return heapq.heappop(self.queue)
        return None

    def pop_due(self, until: dt.datetime) -> list[Action]:
        """Every action due by `until`, in time order. An order has one pending action at a
        time (each schedules the next when it runs), so one batch never holds two of an order."""
        due: list[Action] = []
        while self.queue and self.queue[0].at <= until:
            due.append(heapq.heappop(self.queue))
        return due

    def _in_one_call(
        self, session: Session, actions: list[Action], out: Outcome,
        call: Callable[[list[tuple[int, dt.datetime]]], list[Any]],
        then: Callable[[Action, Any], None],
    ) -> None:  # fmt: skip
        """`call` on the actions' (id, moment) items in one savepoint, `then` with each one
        carried out and its result; a refused item is counted, and a batch undone past the
        checks goes one by one."""
        items = [(action.args[0], action.at) for action in actions]
        try:
            with session.begin_nested():
                results = call(items)
        except ShopOpsError:
            # A subscriber refused past the checks and undid the batch: one by one then.
            for action in actions:
                self.run(session, action, out)
            return
        for action, result in zip(actions, results, strict=True):
            if isinstance(result, ShopOpsError):
                self._refused(out, action.kind, result)
            else:
                then(action, result)

    def _refused(self, out: Outcome, kind: str, exc: ShopOpsError) -> None:
        out.skipped += 1
        key = f"{kind}:{exc.code}"
        out.errors[key] = out.errors.get(key, 0) + 1

    def run(self, session: Session, action: Action, out: Outcome) -> None:
        set_clock(session, action.at)
        try:
            with session.begin_nested():
                getattr(self, f"_{action.kind}")(session, action, out)
        except ShopOpsError as exc:
            self._refused(out, action.kind, exc)
