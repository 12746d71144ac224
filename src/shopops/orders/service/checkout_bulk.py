"""Bulk checkout: many buy-now orders in one call, with the rules, rows and events of
`place_order` called on each in turn (its clock set to the request's `at`).

One read per batch of the customers and their default addresses (`members`), the SKUs
(`catalog`) and the free stock (`inventory.StockBook`, held for the transaction); then, item
after item, the discount hooks, the stock take (in memory, so a later item can be refused
`out_of_stock` by an earlier one), the order row and the order hooks; then the lines,
discounts, reservations, ledger rows and events of all orders in a few multi-row writes.

A refused item writes nothing. Refusals before the order hooks (bad input, an unknown
customer or SKU, a coupon the discount hooks refuse, no stock) are known before any write;
an order hook that refuses after the hooks before it wrote (a race on a coupon or a pool)
rolls the batch back to its savepoint, and the batch runs again with that item refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shopops.catalog import service as catalog
from shopops.db import DriverInsertMany, DriverStatement, now, set_clock
from shopops.errors import ShopOpsError
from shopops.events import emit_many
from shopops.inventory.service.reservations_bulk import BookedReservation, StockBook
from shopops.members import service as members
from shopops.members.service.checkout_bulk import get_customers_and_default_addresses
from shopops.orders import events, rules
from shopops.orders.errors import CartEmpty
from shopops.orders.pricing import (
    CheckoutPolicy,
    Offers,
    PricedCart,
    begin_batch,
    end_batch,
    run_order_hooks,
    write_deferred_events,
)
from shopops.orders.service.cart import check_lines, check_sellable, snapshot_of
from shopops.orders.service.checkout import (
    NUMBER_ATTEMPTS,
    RESERVATION_REF,
    _offers,
    _order_values,
    _price,
    place_order,
)
from shopops.orders.service.checkout_writes import (
    _DISCOUNT,
    _LINE,
    _LINE_COLUMNS,
    _ORDER,
    _insert_unless_taken,
    _write_events,
)
from shopops.orders.service.checkout_writes import line_rows as order_line_rows

CHANNEL = "storefront"
# Rows per multi-row INSERT of lines: 14 columns each, well under both drivers' bind limits.
_LINE_CHUNK = 500
_INSERT_LINES = DriverInsertMany(_LINE, _LINE_COLUMNS, ["id", "order_id", "sku_id"])
_DISCOUNT_COLUMNS = ["order_id", "source", "reference", "description", "amount"]
_INSERT_DISCOUNTS = DriverStatement(insert(_DISCOUNT), keys=_DISCOUNT_COLUMNS, rows=False)


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """One buy-now order: `lines` ((sku_id, quantity)) to the customer's default address,
    with coupon codes and points to redeem, placed at `at` (None: the session's clock)."""

    customer_id: int
    lines: Sequence[tuple[int, int]]
    coupon_codes: Sequence[str] = ()
    points: int = 0
    at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """An order `place_orders` placed (status pending_payment)."""

    id: int
    number: str
    customer_id: int
    items_subtotal: int
    discount_total: int
    shipping_fee: int
    total: int
    placed_at: dt.datetime
    expires_at: dt.datetime


class _Redo(Exception):
    """A batch twin's final write found its state taken by a concurrent checkout."""


class _Refused(Exception):
    """An order hook refused item `index` after earlier hooks may have written."""

    def __init__(self, index: int, error: ShopOpsError) -> None:
        super().__init__(index)
        self.index = index
        self.error = error


@dataclass(slots=True)
class _Placed:
    row: dict[str, Any]
    priced: PricedCart
    extras: dict[int, dict[str, Any]]


def place_orders(
    session: Session,
    *,
    requests: Sequence[CheckoutRequest],
    policy: CheckoutPolicy | None = None,
) -> list[PlacedOrder | ShopOpsError]:
    """`place_order(customer_id=…, lines=…, coupon_codes=…, points=…)` for each request, in
    order, at its `at`: one result per request, the order placed or the error that refused
    it (which wrote nothing). Requests should come in time order, as the single calls would.
    Afterwards the session's clock is what it was before the call."""
    if not requests:  # nothing to read or write (the batch's reads cost milliseconds)
        return []
    policy = policy or CheckoutPolicy()
    clock = session.info.get("now")
    if len(requests) == 1:  # the single path costs less than a batch's reads and writes
        return [_place_one(session, requests[0], policy, clock)]
    refused: dict[int, ShopOpsError] = {}
    batched = True
    try:
        while True:
            try:
                with session.begin_nested():
                    return _place(session, requests, policy, refused, clock, batched)
            except _Refused as r:
                refused[r.index] = r.error
            except _Redo:
                batched = False
            # Rows synced by hand (points balances, stock) may show the undone writes.
            session.expire_all()
    finally:
        set_clock(session, clock)


def _place_one(
    session: Session, req: CheckoutRequest, policy: CheckoutPolicy, clock: dt.datetime | None
) -> PlacedOrder | ShopOpsError:
    set_clock(session, req.at or clock or now(session))
    try:
        with session.begin_nested():
            order = place_order(
                session,
                customer_id=req.customer_id,
                lines=list(req.lines),
                coupon_codes=req.coupon_codes,
                points=req.points,
                policy=policy,
            )
    except ShopOpsError as exc:
        # Its frames hold the rolled-back order, which would stay in the identity map.
        return exc.with_traceback(None)
    finally:
        set_clock(session, clock)
    return PlacedOrder(
        id=order.id,
        number=order.number,
        customer_id=order.customer_id,
        items_subtotal=order.items_subtotal,
        discount_total=order.discount_total,
        shipping_fee=order.shipping_fee,
        total=order.total,
        placed_at=order.placed_at,
        expires_at=order.expires_at,
    )


def _place(
    session: Session,
    requests: Sequence[CheckoutRequest],
    policy: CheckoutPolicy,
    refused: dict[int, ShopOpsError],
    clock: dt.datetime | None,
    batched: bool,
) -> list[PlacedOrder | ShopOpsError]:
    if not batched:
        return _place_items(session, requests, policy, refused, clock, batched=False)
    begin_batch(
        session, [(r.customer_id, Offers(tuple(r.coupon_codes), r.points)) for r in requests]
    )
    try:
        results = _place_items(session, requests, policy, refused, clock, batched=True)
    except BaseException:
        end_batch(session, write=False)
        raise
    try:
        end_batch(session, write=True)
    except ShopOpsError as exc:
        raise _Redo from exc
    return results


def _place_items(
    session: Session,
    requests: Sequence[CheckoutRequest],
    policy: CheckoutPolicy,
    refused: dict[int, ShopOpsError],
    clock: dt.datetime | None,
    *,
    batched: bool,
) -> list[PlacedOrder | ShopOpsError]:
    start = now(session)
    merged = [rules.merge_lines(r.lines) for r in requests]
    customers = get_customers_and_default_addresses(
        session, customer_ids=[r.customer_id for r in requests]
    )
    sku_ids = sorted({s for lines in merged for s, _ in lines})
    skus = catalog.get_sellable_skus(session, sku_ids=sku_ids)
    book = StockBook(session, sku_ids=[s for s in sku_ids if s in skus])
    conn = session.connection()
    results: list[PlacedOrder | ShopOpsError] = []
    placed: list[_Placed] = []
    booked: list[BookedReservation] = []
    for i, req in enumerate(requests):
        if i in refused:
            results.append(refused[i])
            continue
        at = req.at or clock or start
        set_clock(session, at)
        try:
            offers = _offers(req.coupon_codes, req.points)
            pair = customers[req.customer_id]
            if isinstance(pair, ShopOpsError):
                raise pair
            customer, address = pair
            lines = merged[i]
            if not lines:
                raise CartEmpty("an order needs at least one line", details={"lines": []})
            check_lines(lines, policy)
            check_sellable([s for s, _ in lines], skus)
            snapshot = snapshot_of(
                customer_id=req.customer_id, lines=lines, skus=skus, channel=CHANNEL
            )
            priced = _price(session, snapshot, customer, policy, offers, batched=batched)
            held = book.take(lines)
        except ShopOpsError as exc:
            results.append(exc)
            continue
        values: dict[str, Any] = {
            "customer_id": req.customer_id,
            "priced": priced,
            "address": members.address_snapshot(address),
            "channel": CHANNEL,
            "note": "",
            "placed_at": at,
            "expires_at": at + dt.timedelta(minutes=policy.unpaid_order_timeout_minutes),
        }
        for _attempt in range(NUMBER_ATTEMPTS):
            row = _order_values(**values)
            order_id = _insert_unless_taken(conn, _ORDER, row)
            if order_id is not None:
                break
        else:
            raise RuntimeError(f"no free order number after {NUMBER_ATTEMPTS} attempts")
        row["id"] = order_id
        try:
            # The hooks read the order's header (id, number, customer, channel, money, times).
            run_order_hooks(session, SimpleNamespace(**row), priced, offers, batched=batched)
        except ShopOpsError as exc:
            raise _Refused(i, exc) from exc
        extras = {
            item.sku_id: {"category_id": item.category_id, "brand_id": item.brand_id}
            for item in snapshot.items
        }
        placed.append(_Placed(row, priced, extras))
        booked.append(
            BookedReservation(RESERVATION_REF, str(order_id), held, row["expires_at"], at)
        )
        results.append(
            PlacedOrder(
                id=order_id,
                number=row["number"],
                customer_id=req.customer_id,
                items_subtotal=priced.items_subtotal,
                discount_total=priced.discount_total,
                shipping_fee=priced.shipping_fee,
                total=priced.total,
                placed_at=at,
                expires_at=row["expires_at"],
            )
        )
    set_clock(session, clock)
    _write(session, placed, booked, book)
    return results


def _write(
    session: Session, placed: list[_Placed], booked: list[BookedReservation], book: StockBook
) -> None:
    """Lines, discounts, reservations and events of every order placed, in few statements;
    the hooks' own events first (they were emitted first)."""
    conn = session.connection()
    _write_events(session, conn)
    write_deferred_events(session)
    if not placed:
        return
    line_rows = [row for p in placed for row in order_line_rows(p.row["id"], p.priced)]
    ids: dict[tuple[int, int], int] = {}
    for start in range(0, len(line_rows), _LINE_CHUNK):
        chunk = line_rows[start : start + _LINE_CHUNK]
        ids.update({(o, s): i for i, o, s in _INSERT_LINES.execute(conn, chunk)})
    discount_rows = [
        {
            "order_id": p.row["id"],
            "source": d.source,
            "reference": d.reference,
            "description": d.description,
            "amount": d.amount,
        }
        for p in placed
        for d in p.priced.discounts
    ]
    if discount_rows:
        _INSERT_DISCOUNTS.executemany(conn, discount_rows)
    book.write(session, booked)
    lines_of: dict[int, list[SimpleNamespace]] = {}
    for r in line_rows:
        line_id = ids[(r["order_id"], r["sku_id"])]
        lines_of.setdefault(r["order_id"], []).append(SimpleNamespace(id=line_id, **r))
    discounts_of: dict[int, list[dict[str, Any]]] = {}
    for d in discount_rows:
        discounts_of.setdefault(d["order_id"], []).append(d)
    created = []
    for p in placed:
        order_id = p.row["id"]
        order = SimpleNamespace(
            **p.row,
            lines=sorted(lines_of[order_id], key=lambda x: x.id),
            discounts=[SimpleNamespace(**d) for d in discounts_of.get(order_id, ())],
        )
        payload = events.created(order, line_extras=p.extras)  # type: ignore[arg-type]
        created.append((events.AGGREGATE, order_id, payload, p.row["placed_at"]))
    emit_many(session, events.ORDER_CREATED, created)
