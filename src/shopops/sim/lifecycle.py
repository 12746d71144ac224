"""What happens to an order after checkout, as timed actions through the services.

Each action runs in the engine's unit of work with the store's clock set to its moment and
may schedule the next one: pay (with a retry on another channel after a failure) → ship →
in transit → delivered → completed, or a timed-out cancellation; ~4% of delivered orders are
returned (request → approve → ship back → receive and refund). Restocking receipts are actions
too. A step the store refuses (a ShopOpsError) is skipped in its own savepoint: the store
stays consistent and the simulation goes on, as a shop's staff would.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy.orm import Session

from shopops.db import set_clock
from shopops.errors import ShopOpsError
from shopops.fulfillment import service as fulfillment
from shopops.inventory import service as inventory
from shopops.orders import service as orders
from shopops.orders.service.moves_bulk import cancel_orders
from shopops.payments import service as payments
from shopops.payments.gateway import SimulatedGateway
from shopops.sim import bulk
from shopops.sim import purchasing as sim_purchasing
from shopops.sim.actions import Action, Outcome
from shopops.sim.personas import PAY_CHANNELS
from shopops.sim.return_steps import ReturnSteps
from shopops.sim.reviews import write_reviews_many

CARRIERS = (("sf", 30), ("jd", 20), ("zto", 25), ("yto", 20), ("ems", 5))
PAYMENT_TIMEOUT = dt.timedelta(minutes=30)
RETRY_AFTER_FAILURE = 0.55  # a failed payment is retried on another channel this often
COMPLETE_AFTER_DAYS = (3, 9)  # the buyer confirms receipt (确认收货) after delivery
SCAN_KINDS = frozenset({"transit", "deliver"})  # carried out as carrier feeds (run_scans)
WAVE_KINDS = frozenset({"ship"})  # carried out as warehouse waves (run_ships)
# Kinds carried out many at once; any other kind runs action by action (`run`).
BULK_KINDS = (
    SCAN_KINDS | WAVE_KINDS | {"pay", "complete", "cancel", "approve_return", "receive_return"}
)
CANCEL_REASON = "支付超时 / payment timed out"
__all__ = ["Action", "Lifecycle", "Outcome"]


class Lifecycle(ReturnSteps):
    """The queue of timed actions and how each one is carried out (the return steps in
    `sim.return_steps`, the queue and the ways of running a step in `sim.actions`)."""

    def __init__(
        self, rng: random.Random, gateway: SimulatedGateway, review_rng: random.Random | None = None
    ) -> None:
        self.rng = rng
        self.gateway = gateway
        # Reviews draw from their own stream: writing them shifts no other decision.
        self.review_rng = review_rng or random.Random(0)
        # customer id → persona code (the engine's map), for who reviews and how.
        self.personas: dict[int, str] = {}
        self.queue: list[Action] = []
        self.seq = 0
        # order id → (customer id, return probability, pay channel) for the later steps
        self.orders: dict[int, tuple[int, float, str]] = {}
        # Multiplier on return chances today (a complaint spike raises it); set by the engine.
        self.return_factor = 1.0

    def run_many(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Carry out a batch from `pop_due`: receipts first (stock for what follows), then
        each bulk kind in one call, then the rest one by one in time order."""
        by_kind: dict[str, list[Action]] = {}
        for action in actions:
            by_kind.setdefault(action.kind, []).append(action)
        for action in by_kind.pop("receipt", []):
            self.run(session, action, out)
        if pays := by_kind.pop("pay", []):
            self.run_pays(session, pays, out)
        if ships := by_kind.pop("ship", []):
            self.run_ships(session, ships, out)
        scans = by_kind.pop("transit", []) + by_kind.pop("deliver", [])
        if scans:
            self.run_scans(session, sorted(scans), out)
        if completes := by_kind.pop("complete", []):
            self.run_completes(session, completes, out)
        if cancels := by_kind.pop("cancel", []):
            self.run_cancels(session, sorted(cancels), out)
        if requests := by_kind.pop("request_return", []):
            self.run_return_requests(session, sorted(requests), out)
        if approvals := by_kind.pop("approve_return", []):
            self.run_approvals(session, sorted(approvals), out)
        if parcels := by_kind.pop("ship_return", []):
            self.run_return_shipments(session, sorted(parcels), out)
        if receipts := by_kind.pop("receive_return", []):
            self.run_return_receipts(session, sorted(receipts), out)
        for action in sorted(a for rest in by_kind.values() for a in rest):
            self.run(session, action, out)

    def run_pays(self, session: Session, actions: list[Action], out: Outcome) -> None:
        attempts = []
        for action in actions:
            order_id, _attempt = action.args
            channel = self.orders[order_id][2]
            out.payment_attempts[channel] = out.payment_attempts.get(channel, 0) + 1
            attempts.append((order_id, channel, action.at))
        results = bulk.pay(session, attempts, self.gateway)
        for action, result in zip(actions, results, strict=True):
            if isinstance(result, ShopOpsError):
                self._refused(out, action.kind, result)
            else:
                self._after_pay(action, result, out)

    def run_completes(self, session: Session, actions: list[Action], out: Outcome) -> None:
        results = bulk.complete(session, [(a.args[0], a.at) for a in actions])
        done: list[tuple[int, int, str, dt.datetime]] = []
        for action, result in zip(actions, results, strict=True):
            if isinstance(result, ShopOpsError):
                self._refused(out, action.kind, result)
                continue
            out.completed += 1
            customer_id = self.orders.pop(action.args[0], (0, 0.0, ""))[0]
            done.append(
                (action.args[0], customer_id, self.personas.get(customer_id, ""), action.at)
            )
        try:
            with session.begin_nested():
                out.reviews += write_reviews_many(session, self.review_rng, completed=done)
        except ShopOpsError as exc:
            self._refused(out, "review", exc)

    def run_cancels(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Payment-timeout cancellations of one window in one call (`cancel_orders`, each at
        its own time); a refused one is skipped and counted."""

        def cancelled(_action: Action, _result: object) -> None:
            out.cancelled += 1

        self._in_one_call(
            session, actions, out,
            lambda items: cancel_orders(session, items=items, reason=CANCEL_REASON), cancelled,
        )  # fmt: skip

    def run_scans(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Transit and delivery actions of one window as one carrier feed (`record_scans`,
        each scan at its own time): the courier's pick-up and trunk scans, or out for delivery
        then delivered 1–5 h later. An action with a refused scan is skipped and counted."""
        scans: list[fulfillment.Scan] = []
        for action in actions:
            _order_id, shipment_id = action.args
            if action.kind == "transit":
                first, second, then = "picked_up", "in_transit", action.at
            else:
                first, second = "out_for_delivery", "delivered"
                then = action.at + dt.timedelta(hours=self.rng.uniform(1, 5))
            scans.append(fulfillment.Scan(shipment_id, first, action.at))
            scans.append(fulfillment.Scan(shipment_id, second, then))
        try:
            with session.begin_nested():
                results = fulfillment.record_scans(session, scans=scans)
        except ShopOpsError:
            # An order move refused inside the feed undid it: carry the actions out one by one.
            for action in actions:
                self.run(session, action, out)
            return
        for k, action in enumerate(actions):
            refused = [r for r in results[2 * k : 2 * k + 2] if isinstance(r, ShopOpsError)]
            if refused:
                out.skipped += 1
                key = f"{action.kind}:{refused[0].code}"
                out.errors[key] = out.errors.get(key, 0) + 1
            elif action.kind == "transit":
                self._after_transit(action)
            else:
                self._after_delivery(action, out)

    def run_ships(self, session: Session, actions: list[Action], out: Outcome) -> None:
        """Ship actions of one window as one warehouse wave (`ship_orders`, each parcel at
        its own time); a refused parcel is skipped and counted."""
        carriers = [self._carrier() for _ in actions]

        def wave(items: list[tuple[int, dt.datetime]]) -> list[Any]:
            parcels = [
                fulfillment.Parcel(order_id, carrier, at)
                for (order_id, at), carrier in zip(items, carriers, strict=True)
            ]
            return fulfillment.ship_orders(session, parcels=parcels)

        self._in_one_call(
            session, actions, out, wave,
            lambda action, result: self._after_ship(action, result.id, out),
        )  # fmt: skip

    def _carrier(self) -> str:
        return self.rng.choices([c for c, _ in CARRIERS], weights=[w for _, w in CARRIERS])[0]

    def _pay(self, session: Session, action: Action, out: Outcome) -> None:
        order_id, _attempt = action.args
        channel = self.orders[order_id][2]
        out.payment_attempts[channel] = out.payment_attempts.get(channel, 0) + 1
        payment = payments.pay_order(
            session, order_id=order_id, channel=channel, gateway=self.gateway
        )
        self._after_pay(action, payment.status == "succeeded", out)

    def _after_pay(self, action: Action, succeeded: bool, out: Outcome) -> None:
        order_id, attempt = action.args
        customer_id, return_p, channel = self.orders[order_id]
        if succeeded:
            out.paid.append((order_id, action.at))
            hours = self.rng.uniform(2, 30)
            self.schedule(action.at + dt.timedelta(hours=hours), "ship", order_id)
            return
        out.payment_failures[channel] = out.payment_failures.get(channel, 0) + 1
        if attempt == 0 and self.rng.random() < RETRY_AFTER_FAILURE:
            other = [c for c, _ in PAY_CHANNELS if c != channel]
            self.orders[order_id] = (customer_id, return_p, self.rng.choice(other))
            self.schedule(action.at + dt.timedelta(minutes=2), "pay", order_id, 1)
        else:
            self.schedule(action.at + PAYMENT_TIMEOUT, "cancel", order_id)

    def _cancel(self, session: Session, action: Action, out: Outcome) -> None:
        (order_id,) = action.args
        orders.cancel_order(session, order_id=order_id, reason=CANCEL_REASON)
        out.cancelled += 1

    def _ship(self, session: Session, action: Action, out: Outcome) -> None:
        (order_id,) = action.args
        shipment = fulfillment.ship_order(session, order_id=order_id, carrier_code=self._carrier())
        self._after_ship(action, shipment.id, out)

    def _after_ship(self, action: Action, shipment_id: int, out: Outcome) -> None:
        out.shipped += 1
        hours = self.rng.uniform(4, 14)
        self.schedule(action.at + dt.timedelta(hours=hours), "transit", action.args[0], shipment_id)

    def _transit(self, session: Session, action: Action, out: Outcome) -> None:
        _order_id, shipment_id = action.args
        # ship_order records the hand-over scan; the courier's pick-up and trunk scans follow.
        fulfillment.record_tracking_event(session, shipment_id=shipment_id, status="picked_up")
        fulfillment.record_tracking_event(session, shipment_id=shipment_id, status="in_transit")
        self._after_transit(action)

    def _after_transit(self, action: Action) -> None:
        hours = self.rng.uniform(18, 60)
        self.schedule(action.at + dt.timedelta(hours=hours), "deliver", *action.args)

    def _deliver(self, session: Session, action: Action, out: Outcome) -> None:
        _order_id, shipment_id = action.args
        fulfillment.record_tracking_event(
            session, shipment_id=shipment_id, status="out_for_delivery"
        )
        set_clock(session, action.at + dt.timedelta(hours=self.rng.uniform(1, 5)))
        fulfillment.record_tracking_event(session, shipment_id=shipment_id, status="delivered")
        self._after_delivery(action, out)

    def _after_delivery(self, action: Action, out: Outcome) -> None:
        order_id, _shipment_id = action.args
        out.delivered += 1
        _customer, return_p, _channel = self.orders[order_id]
        if self.rng.random() < return_p * self.return_factor:
            days = self.rng.uniform(0.5, 6.0)  # inside the 7-day no-reason window
            self.schedule(action.at + dt.timedelta(days=days), "request_return", order_id)
            return
        days = self.rng.uniform(*COMPLETE_AFTER_DAYS)
        self.schedule(action.at + dt.timedelta(days=days), "complete", order_id)

    def _complete(self, session: Session, action: Action, out: Outcome) -> None:
        (order_id,) = action.args
        orders.complete_order(session, order_id=order_id)
        out.completed += 1
        self.orders.pop(order_id, None)

    def _receipt(self, session: Session, action: Action, out: Outcome) -> None:
        if len(action.args) == 1:  # a purchase order (sim.purchasing): late parts come back
            got = sim_purchasing.receive_purchase_order(
                session, po_id=action.args[0], at=action.at, rng=self.rng
            )
            out.received_units += got.accepted
            if got.next_at is not None:
                self.schedule(got.next_at, "receipt", action.args[0])
            return
        # A receipt scheduled by a state saved before purchase orders existed.
        sku_id, warehouse_id, quantity, po = action.args
        inventory.receive_stock(
            session,
            sku_id=sku_id,
            warehouse_id=warehouse_id,
            quantity=quantity,
            ref_type="purchase",
            ref_id=po,
            note="采购到货 purchase order received",
        )
        out.received_units += quantity
