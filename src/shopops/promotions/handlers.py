"""Wires promotions into the store at import: the checkout's discount and order hooks, and
the subscribers that release coupons on cancellation, grant cashback on completion and issue
event coupons (registration, first order). `shopops.models` imports this module."""

from __future__ import annotations

from contextlib import AbstractContextManager

from shopops.events import subscribe, subscribe_bulk
from shopops.orders.pricing import register_batch_twin, register_discount_hook, register_order_hook
from shopops.promotions import service
from shopops.promotions.service import checkout_batch as cb
from shopops.promotions.service import paid_bulk
from shopops.promotions.service.cancel_bulk import on_orders_cancelled
from shopops.promotions.service.completed_bulk import on_orders_completed
from shopops.promotions.service.coupons import on_customers_registered

register_discount_hook(service.price_promotions)
register_order_hook(service.claim_promotions)
for _hook, _twin in (
    (service.price_promotions, cb.price_in_batch),
    (service.claim_promotions, cb.claim_in_batch),
):
    register_batch_twin(_hook, _twin, begin=cb.begin, end=cb.end)
subscribe("order.cancelled", service.on_order_cancelled)
subscribe_bulk(service.on_order_cancelled, on_orders_cancelled)
subscribe("order.completed", service.on_order_completed)
subscribe_bulk(service.on_order_completed, on_orders_completed)
subscribe("order.paid", service.on_order_paid)
subscribe_bulk(service.on_order_paid, paid_bulk.on_orders_paid)
subscribe("customer.registered", service.on_customer_registered)
subscribe_bulk(service.on_customer_registered, on_customers_registered)


def suspended() -> AbstractContextManager[None]:
    """Checkout without promotions inside the block (for tests of the checkout's own plumbing
    that present made-up coupon codes); the hooks stay registered, in their place."""
    return service.suspended()
