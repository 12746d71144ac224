"""The reviews domain's reactions, registered at import (shopops.models imports this module):
a delivered order opens its review request (评价邀请)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shopops.events import OutboxEvent, subscribe, subscribe_bulk
from shopops.reviews import service


def on_order_delivered(session: Session, event: OutboxEvent) -> None:
    p = event.payload
    service.open_review_request(
        session, order_id=int(p["order_id"]), customer_id=int(p["customer_id"]),
        at=event.occurred_at,
    )  # fmt: skip


def on_orders_delivered(session: Session, batch: list[OutboxEvent]) -> None:
    service.open_review_requests(
        session,
        [(int(e.payload["order_id"]), int(e.payload["customer_id"]), e.occurred_at) for e in batch],
    )


subscribe("order.delivered", on_order_delivered)
subscribe_bulk(on_order_delivered, on_orders_delivered)
