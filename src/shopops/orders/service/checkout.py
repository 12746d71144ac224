"""Checkout: price a cart (preview) and place an order, idempotently, in a bounded number of
SQL statements (see tests/orders/test_service.py for the measured budget)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shopops.db import DriverInsertMany, DriverStatement, now
from shopops.errors import InvalidInput
from shopops.events import OutboxEvent, emit
from shopops.inventory import service as inventory
from shopops.members import service as members
from shopops.orders import events, rules
from shopops.orders.errors import CartEmpty, IdempotencyKeyReused
from shopops.orders.models import (
    Cart,
    IdempotencyKey,
    Order,
    OrderDiscount,
    OrderLine,
)
from shopops.orders.numbers import new_order_number
from shopops.orders.pricing import (
    MAX_COUPON_CODES,
    CartSnapshot,
    CheckoutPolicy,
    Offers,
    PricedCart,
    collect_discounts,
    price_cart,
    run_order_hooks,
)
from shopops.orders.rules import OrderStatus
from shopops.orders.service.cart import build_snapshot, load_cart

RESERVATION_REF = "order"
# Order-number clashes are rare (see numbers.py); a handful of attempts makes failure absurd.
NUMBER_ATTEMPTS = 5
MAX_IDEMPOTENCY_KEY = 128
MAX_NOTE = 500
MAX_CHANNEL = 32


def _requested(
    session: Session, *, customer_id: int, lines: Sequence[tuple[int, int]] | None
) -> tuple[list[tuple[int, int]], Cart | None]:
    """What the shopper buys: explicit lines (buy now), or the whole cart."""
    if lines is not None:
        merged = rules.merge_lines(lines)
        if not merged:
            raise CartEmpty("an order needs at least one line", details={"lines": []})
        return merged, None
    cart = load_cart(session, customer_id=customer_id)
    if cart is None or not cart.lines:
        raise CartEmpty("the cart is empty", details={"customer_id": customer_id})
    return [(line.sku_id, line.quantity) for line in cart.lines], cart


def _offers(coupon_codes: Sequence[str], points: int) -> Offers:
    codes = tuple(dict.fromkeys(c.strip() for c in coupon_codes if c.strip()))
    if len(codes) > MAX_COUPON_CODES or points < 0:
        raise InvalidInput(
            f"at most {MAX_COUPON_CODES} coupon codes, and points cannot be negative",
            details={"coupon_codes": len(codes), "points": points},
        )
    return Offers(coupon_codes=codes, points=points)


def _price(
    session: Session,
    snapshot: CartSnapshot,
    customer: object,
    policy: CheckoutPolicy,
    offers: Offers,
) -> PricedCart:
    discounts = collect_discounts(session, snapshot, customer, offers)  # type: ignore[arg-type]
    return price_cart(
        snapshot,
        discounts,
        free_shipping_threshold=policy.free_shipping_threshold,
        base_shipping_fee=policy.base_shipping_fee,
    )


def preview_checkout(
    session: Session,
    *,
    customer_id: int,
    lines: Sequence[tuple[int, int]] | None = None,
    channel: str = "storefront",
    coupon_codes: Sequence[str] = (),
    points: int = 0,
    policy: CheckoutPolicy | None = None,
) -> PricedCart:
    """What the cart (or the given lines) would cost now: lines, discounts, shipping, total.
    Writes nothing."""
    policy = policy or CheckoutPolicy()
    offers = _offers(coupon_codes, points)
    customer = members.get_customer(session, customer_id=customer_id)
    requested, _ = _requested(session, customer_id=customer_id, lines=lines)
    snapshot = build_snapshot(
        session, customer_id=customer_id, lines=requested, channel=channel, policy=policy
    )
    return _price(session, snapshot, customer, policy, offers)


def _scope(customer_id: int) -> str:
    return f"customer:{customer_id}"


# The hot statements of checkout are Core statements on the tables compiled once per dialect
# and run on the DBAPI cursor (`DriverStatement`, shopops.db): no execution context, parameter
# or result set-up of SQLAlchemy per statement. The rows they write become persistent objects
# of the session by `_attach`, without a SELECT.
_ORDER = Order.__table__
_LINE = OrderLine.__table__
_DISCOUNT = OrderDiscount.__table__
_KEY = IdempotencyKey.__table__

_FIND_KEY = DriverStatement(
    select(_KEY.c.request_hash, _KEY.c.order_id).where(
        _KEY.c.scope == bindparam("scope"), _KEY.c.key == bindparam("key")
    )
)
_LINE_COLUMNS = [
    "order_id",
    "sku_id",
    "product_id",
    "title",
    "sku_code",
    "attributes",
    "unit_price",
    "unit_cost",
    "quantity",
    "subtotal",
    "discount",
    "total",
    "refunded_quantity",
    "refunded_amount",
]
# All lines in one multi-row INSERT; RETURNING is matched by SKU and sorted by id afterwards.
_INSERT_LINES = DriverInsertMany(_LINE, _LINE_COLUMNS, ["id", "sku_id"])
_INSERT_DISCOUNTS = insert(_DISCOUNT).returning(_DISCOUNT.c.id, _DISCOUNT.c.source)


def _unless_taken(make: Any, table: Any, on: list[str]) -> Any:
    """INSERT … ON CONFLICT (`on`) DO NOTHING RETURNING id: no row back = the key is taken.
    PostgreSQL waits for a concurrent insert of the same key to commit or roll back first, so
    the unique constraint decides a race; no savepoint is needed."""
    return make(table).on_conflict_do_nothing(index_elements=on).returning(table.c.id)


_ORDER_COLUMNS = [
    "number",
    "customer_id",
    "status",
    "currency",
    "channel",
    "items_subtotal",
    "discount_total",
    "shipping_fee",
    "total",
    "paid_amount",
    "refunded_amount",
    "shipping_address",
    "note",
    "cancel_reason",
    "resume_status",
    "placed_at",
    "expires_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
]
_KEY_COLUMNS = ["scope", "key", "request_hash", "order_id", "created_at"]

_INSERTS: dict[tuple[str, str], DriverStatement] = {
    (name, table.name): DriverStatement(_unless_taken(make, table, on), keys=keys)
    for name, make in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
    for table, on, keys in (
        (_ORDER, ["number"], _ORDER_COLUMNS),
        (_KEY, ["scope", "key"], _KEY_COLUMNS),
    )
}


def _insert_unless_taken(conn: Connection, table: Any, values: dict[str, Any]) -> int | None:
    """The id of the row inserted, or None when its unique key is taken."""
    rows = _INSERTS[(conn.dialect.name, table.name)].execute(conn, values)
    return rows[0][0] if rows else None


_OUTBOX = OutboxEvent.__table__
# Emit order is seq order (the warehouse loader applies an aggregate's events by seq).
_INSERT_EVENTS = insert(_OUTBOX).returning(
    _OUTBOX.c.id, _OUTBOX.c.seq, sort_by_parameter_order=True
)
_EVENT_COLUMNS = ["id", "name", "occurred_at", "aggregate_type", "aggregate_id", "payload"]
# SQLite numbers the rows of one multi-row INSERT in VALUES order (rowids are taken one by one
# under the write lock), so emit order is seq order; PostgreSQL keeps SQLAlchemy's
# sentinel-ordered INSERT, which promises it there.
_INSERT_EVENTS_SQLITE = DriverInsertMany(_OUTBOX, _EVENT_COLUMNS, ["id", "seq"])


def _write_events(session: Session, conn: Connection) -> None:
    """The outbox events emitted in this session and not yet written, in one INSERT (in emit
    order). They leave the session as detached rows with their `seq`: nothing reads them back
    in this unit of work, and re-adding each one (a cascade walk per object) cost more than
    the INSERT."""
    pending = sorted(
        (obj for obj in session.new if type(obj) is OutboxEvent),
        key=lambda e: inspect(e).insert_order,
    )
    if not pending:
        return
    rows = [
        {
            "id": e.id,
            "name": e.name,
            "occurred_at": e.occurred_at,
            "aggregate_type": e.aggregate_type,
            "aggregate_id": e.aggregate_id,
            "payload": e.payload,
        }
        for e in pending
    ]
    for e in pending:
        session.expunge(e)
    if conn.dialect.name == "sqlite":
        seqs = dict(_INSERT_EVENTS_SQLITE.execute(conn, rows))
    else:
        seqs = {r.id: r.seq for r in conn.execute(_INSERT_EVENTS, rows)}
    for e in pending:
        e.seq = seqs[e.id]
        make_transient_to_detached(e)


_M = TypeVar("_M", Order, OrderLine, OrderDiscount, OutboxEvent)


def _attach(session: Session, row: _M) -> _M:
    """A row just inserted with Core (every column given) becomes a persistent object."""
    make_transient_to_detached(row)
    session.add(row)
    return row


_MANAGERS = {cls: inspect(cls).class_manager for cls in (Order, OrderLine, OrderDiscount)}


def _persistent(session: Session, cls: type[_M], values: dict[str, Any]) -> _M:
    """`_attach` of `cls(**values)`, built without `__init__`: the values are what the row
    holds, so they go straight into the instance's state as a load would put them, with no
    attribute event or history per column (the constructor's cost on the hot path)."""
    obj: _M = _MANAGERS[cls].new_instance()
    obj.__dict__.update(values)
    return _attach(session, obj)


def _replayed(session: Session, *, scope: str, key: str, request_hash: str) -> Order | None:
    """The order an earlier request with this key placed, if any; a different request under
    the same key is 409 `idempotency_key_reused`."""
    found = _FIND_KEY.execute(session.connection(), {"scope": scope, "key": key})
    if not found:
        return None
    hashed, order_id = found[0]
    if hashed != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request",
            details={"idempotency_key": key, "order_id": order_id},
        )
    stmt = (
        select(Order)
        .where(Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.discounts))
    )
    return session.scalars(stmt).one()


def _order_values(
    *,
    customer_id: int,
    priced: PricedCart,
    address: dict[str, object],
    channel: str,
    note: str,
    placed_at: dt.datetime,
    expires_at: dt.datetime,
) -> dict[str, Any]:
    return {
        "number": new_order_number(placed_at),
        "customer_id": customer_id,
        "status": OrderStatus.PENDING_PAYMENT.value,
        "currency": "CNY",
        "channel": channel,
        "items_subtotal": priced.items_subtotal,
        "discount_total": priced.discount_total,
        "shipping_fee": priced.shipping_fee,
        "total": priced.total,
        "paid_amount": 0,
        "refunded_amount": 0,
        "shipping_address": address,
        "note": note,
        "cancel_reason": "",
        "resume_status": "",
        "placed_at": placed_at,
        "expires_at": expires_at,
        "paid_at": None,
        "shipped_at": None,
        "delivered_at": None,
        "completed_at": None,
        "cancelled_at": None,
    }


def _insert_lines(session: Session, conn: Connection, order: Order, priced: PricedCart) -> None:
    """All lines in one INSERT (and the discounts in another), attached to the order without
    a lazy load."""
    rows = [
        {
            "order_id": order.id,
            "sku_id": line.item.sku_id,
            "product_id": line.item.product_id,
            "title": line.item.title,
            "sku_code": line.item.sku_code,
            "attributes": dict(line.item.attributes),
            "unit_price": line.item.unit_price,
            "unit_cost": line.item.unit_cost,
            "quantity": line.item.quantity,
            "subtotal": line.item.subtotal,
            "discount": line.discount,
            "total": line.total,
            "refunded_quantity": 0,
            "refunded_amount": 0,
        }
        for line in priced.lines
    ]
    # A SKU appears once per order (lines are merged), a discount source once per order.
    ids = {sku_id: line_id for line_id, sku_id in _INSERT_LINES.execute(conn, rows)}
    lines = [_persistent(session, OrderLine, {"id": ids[row["sku_id"]], **row}) for row in rows]
    set_committed_value(order, "lines", sorted(lines, key=_by_id))
    discounts: list[OrderDiscount] = []
    if priced.discounts:
        rows = [
            {
                "order_id": order.id,
                "source": d.source,
                "reference": d.reference,
                "description": d.description,
                "amount": d.amount,
            }
            for d in priced.discounts
        ]
        if len({row["source"] for row in rows}) == len(rows):
            found = {r.source: r.id for r in conn.execute(_INSERT_DISCOUNTS, rows)}
            discounts = [
                _persistent(session, OrderDiscount, {"id": found[row["source"]], **row})
                for row in rows
            ]
        else:  # two discounts from one source: one INSERT each keeps ids matched to rows
            discounts = [
                _attach(
                    session, OrderDiscount(id=conn.execute(_INSERT_DISCOUNTS, row).one().id, **row)
                )
                for row in rows
            ]
    set_committed_value(order, "discounts", sorted(discounts, key=_by_id))


def _by_id(row: OrderLine | OrderDiscount) -> int:
    return row.id


def place_order(
    session: Session,
    *,
    customer_id: int,
    address_id: int | None = None,
    lines: Sequence[tuple[int, int]] | None = None,
    idempotency_key: str | None = None,
    channel: str = "storefront",
    note: str = "",
    coupon_codes: Sequence[str] = (),
    points: int = 0,
    policy: CheckoutPolicy | None = None,
) -> Order:
    """Place an order from the cart (whose ordered lines are then removed) or from explicit
    `lines` (buy now: the cart is left alone), shipped to `address_id` or the default address.

    Stock is reserved (all or nothing: 409 `out_of_stock`) under `ref_type="order"`,
    `ref_id=str(order.id)` until `expires_at`; `order.created` is emitted. With an
    `idempotency_key`, the same request again returns the same order, never a second one.
    """
    policy = policy or CheckoutPolicy()
    offers = _offers(coupon_codes, points)
    if len(note) > MAX_NOTE or not 1 <= len(channel) <= MAX_CHANNEL:
        raise InvalidInput(
            f"the note has at most {MAX_NOTE} characters, the channel 1 to {MAX_CHANNEL}",
            details={"note_length": len(note), "channel": channel[:MAX_CHANNEL]},
        )
    scope = _scope(customer_id)
    request_hash = ""
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidInput(
                f"an Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} characters",
                details={"idempotency_key": idempotency_key[:MAX_IDEMPOTENCY_KEY]},
            )
        request_hash = rules.request_fingerprint(
            address_id=address_id,
            lines=lines,
            channel=channel,
            note=note,
            coupon_codes=offers.coupon_codes,
            points=offers.points,
        )
        earlier = _replayed(session, scope=scope, key=idempotency_key, request_hash=request_hash)
        if earlier is not None:
            return earlier

    # Validate everything before writing anything.
    customer, address = members.get_customer_and_address(
        session, customer_id=customer_id, address_id=address_id
    )
    requested, cart = _requested(session, customer_id=customer_id, lines=lines)
    snapshot = build_snapshot(
        session, customer_id=customer_id, lines=requested, channel=channel, policy=policy
    )
    priced = _price(session, snapshot, customer, policy, offers)
    placed_at = now(session)

    values: dict[str, Any] = {
        "customer_id": customer_id,
        "priced": priced,
        "address": members.address_snapshot(address),
        "channel": channel,
        "note": note.strip(),
        "placed_at": placed_at,
        "expires_at": placed_at + dt.timedelta(minutes=policy.unpaid_order_timeout_minutes),
    }
    conn = session.connection()  # one look-up: the hot statements below all run on it
    for _attempt in range(NUMBER_ATTEMPTS):
        row = _order_values(**values)
        order_id = _insert_unless_taken(conn, _ORDER, row)
        if order_id is not None:
            break
    else:
        raise RuntimeError(f"no free order number after {NUMBER_ATTEMPTS} attempts")
    order = _persistent(session, Order, {"id": order_id, **row})
    if idempotency_key is not None:
        key_id = _insert_unless_taken(
            conn,
            _KEY,
            {
                "scope": scope,
                "key": idempotency_key,
                "request_hash": request_hash,
                "order_id": order.id,
                "created_at": placed_at,
            },
        )
        if key_id is None:
            # A concurrent request with this key committed first: undo ours, return its order.
            session.execute(
                delete(Order).where(Order.id == order.id),
                execution_options={"synchronize_session": False},
            )
            session.expunge(order)
            winner = _replayed(session, scope=scope, key=idempotency_key, request_hash=request_hash)
            assert winner is not None
            return winner
    _insert_lines(session, conn, order, priced)

    inventory.reserve(
        session,
        ref_type=RESERVATION_REF,
        ref_id=str(order.id),
        items=requested,
        expires_at=order.expires_at,
    )
    run_order_hooks(session, order, priced, offers)
    if cart is not None:
        ordered = {sku_id for sku_id, _ in requested}
        for line in [line for line in cart.lines if line.sku_id in ordered]:
            cart.lines.remove(line)
    extras = {
        item.sku_id: {"category_id": item.category_id, "brand_id": item.brand_id}
        for item in snapshot.items
    }
    emit(
        session,
        events.ORDER_CREATED,
        aggregate_type=events.AGGREGATE,
        aggregate_id=order.id,
        payload=events.created(order, line_extras=extras),
        occurred_at=placed_at,
    )
    _write_events(session, conn)
    session.flush()  # whatever else the hooks and subscribers added
    return order
