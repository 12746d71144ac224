"""The return steps of the simulated lifecycle: request → approve → ship back → receive and
refund, a window's steps of a kind in one set-based call (`sim.actions.Steps`), or one by one
when a batch is undone past the checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from shopops.aftersales import service as aftersales
from shopops.aftersales.reads import orders_to_return
from shopops.aftersales.receive_bulk import receive_returns
from shopops.aftersales.service_bulk import approve_returns
from shopops.aftersales.steps_bulk import Ask, Shipped, request_returns, ship_returns
from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.orders import service as orders
from shopops.sim.actions import Action, Outcome, Steps

RETURN_WHOLE_ORDER = 0.6  # a return sends every line back this often (else one line)


class ReturnSteps(Steps):
    """How a return goes, step by step, for the lifecycle."""

    def run_approvals(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Return approvals of one window in one call (`approve_returns`, each at its own
        time); each approved request is shipped back later, a refused one skipped."""
        self._in_one_call(
            session, actions, out,
            lambda items: approve_returns(session, items=items),
            lambda action, _result: self._after_approve(action),
        )  # fmt: skip

    def run_return_requests(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Return requests of one window in one call (`request_returns`, each at its own
        time): the orders' lines in one read, what each shopper sends back drawn in time order;
        a refused one is skipped (its order is done with, as one by one)."""
        facts = orders_to_return(session, order_ids=[a.args[0] for a in actions])
        asks = []
        for action in actions:
            customer_id = self.orders.pop(action.args[0])[0]
            number, lines = facts.get(action.args[0], ("", []))
            asks.append(self._ask(customer_id, number, lines, action.at))
        try:
            with session.begin_nested():
                results: list[Any] = request_returns(session, asks=asks)
        except ShopOpsError:
            # A subscriber refused past the checks and undid the batch: one by one then.
            results = [self._request_one(session, ask) for ask in asks]
        for action, ask, result in zip(actions, asks, results, strict=True):
            if isinstance(result, ShopOpsError):
                self._refused(out, action.kind, result)
            else:
                self._after_request(action, result.id, ask.customer_id, out)

    def _request_one(self, session: Session, ask: Ask) -> Any:
        set_clock(session, ask.at)
        try:
            with session.begin_nested():
                return aftersales.request_return(
                    session, customer_id=ask.customer_id, order_number=ask.order_number,
                    kind=ask.kind, lines=ask.lines, no_reason=ask.no_reason, reason=ask.reason,
                )  # fmt: skip
        except ShopOpsError as exc:
            return exc

    def run_return_shipments(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Parcels shipped back in one window in one call (`ship_returns`, each at its own
        time); each is received later, a refused one skipped."""

        def call(items: list[tuple[int, dt.datetime]]) -> list[Any]:
            shipped = [
                Shipped(return_id, action.args[1], "sf", at)
                for (return_id, at), action in zip(items, actions, strict=True)
            ]
            return ship_returns(session, items=shipped)

        self._in_one_call(
            session, actions, out, call, lambda action, _result: self._after_ship_return(action)
        )

    def run_return_receipts(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Returned parcels of one window received in one call (`receive_returns`: restock,
        refund and points reversal, each at its own time); a refused one skipped."""

        def received(_action: Action, request: Any) -> None:
            out.refunded += 1 if request.status == "refunded" else 0

        self._in_one_call(
            session, actions, out,
            lambda items: receive_returns(session, items=items, gateway=self.gateway), received,
        )  # fmt: skip

    def _request_return(self, session: Session, action: Action, out: Outcome) -> None:
        (order_id,) = action.args
        customer_id, _p, _channel = self.orders.pop(order_id)
        order = orders.get_order(session, order_id=order_id, details=True)
        lines = [(line.id, line.quantity) for line in order.lines]
        ask = self._ask(customer_id, order.number, lines, action.at)
        request = aftersales.request_return(
            session, customer_id=customer_id, order_number=ask.order_number, kind=ask.kind,
            lines=ask.lines, no_reason=ask.no_reason, reason=ask.reason,
        )  # fmt: skip
        self._after_request(action, request.id, customer_id, out)

    def _ask(
        self, customer_id: int, number: str, lines: list[tuple[int, int]], at: dt.datetime
    ) -> Ask:
        """What the shopper sends back: most returns the whole parcel; some keep the add-ons
        and return one item."""
        if len(lines) > 1 and self.rng.random() >= RETURN_WHOLE_ORDER:
            chosen = [self.rng.choice(lines)]
        else:
            chosen = list(lines)
        quality = self.rng.random() < 0.35
        reason = "质量问题 / faulty" if quality else "七天无理由 / changed my mind"
        return Ask(customer_id, number, "return", chosen, not quality, reason, at)

    def _after_request(
        self, action: Action, return_id: int, customer_id: int, out: Outcome
    ) -> None:
        out.returns_requested += 1
        step = dt.timedelta(hours=self.rng.uniform(4, 20))
        self.schedule(action.at + step, "approve_return", return_id, customer_id)

    def _approve_return(self, session: Session, action: Action, out: Outcome) -> None:
        aftersales.approve_return(session, return_id=action.args[0])
        self._after_approve(action)

    def _after_approve(self, action: Action) -> None:
        return_id, customer_id = action.args
        step = dt.timedelta(hours=self.rng.uniform(6, 30))
        self.schedule(action.at + step, "ship_return", return_id, customer_id)

    def _ship_return(self, session: Session, action: Action, out: Outcome) -> None:
        return_id, customer_id = action.args
        aftersales.ship_return(
            session, customer_id=customer_id, return_id=return_id, carrier_code="sf"
        )
        self._after_ship_return(action)

    def _after_ship_return(self, action: Action) -> None:
        step = dt.timedelta(hours=self.rng.uniform(30, 80))
        self.schedule(action.at + step, "receive_return", action.args[0])

    def _receive_return(self, session: Session, action: Action, out: Outcome) -> None:
        (return_id,) = action.args
        request = aftersales.receive_return(session, return_id=return_id, gateway=self.gateway)
        out.refunded += 1 if request.status == "refunded" else 0
