"""Checkout's writes: the hot statements compiled once per dialect and run on the DBAPI
cursor, and the rows they write attached to the session as persistent objects."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from shopops.db import DriverInsertMany, DriverStatement
from shopops.events import OutboxEvent
from shopops.orders.errors import IdempotencyKeyReused
from shopops.orders.models import (
    IdempotencyKey,
    Order,
    OrderDiscount,
    OrderLine,
)
from shopops.orders.pricing import (
    PricedCart,
)

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


def line_rows(order_id: int, priced: Any) -> list[dict[str, Any]]:
    """An order's line rows from its priced cart (the single and the bulk checkout write these)."""
    return [
        {
            "order_id": order_id,
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


def _insert_lines(session: Session, conn: Connection, order: Order, priced: PricedCart) -> None:
    """All lines in one INSERT (and the discounts in another), attached to the order without
    a lazy load."""
    rows = line_rows(order.id, priced)
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
