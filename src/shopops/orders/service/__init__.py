"""Use cases of carts, checkout and orders (the contract other domains call is listed in
`__all__`): `cart` for the shopper's cart, `checkout` for pricing and placing orders,
`lifecycle` for reads, state-machine moves, refunds and timed jobs."""

from shopops.orders.service.cart import (
    CartLineView,
    CartView,
    add_to_cart,
    clear_cart,
    load_cart,
    remove_from_cart,
    set_cart_quantity,
    view_cart,
)
from shopops.orders.service.checkout import RESERVATION_REF, place_order, preview_checkout
from shopops.orders.service.checkout_bulk import CheckoutRequest, PlacedOrder, place_orders
from shopops.orders.service.lifecycle import (
    cancel_customer_order,
    cancel_order,
    complete_delivered_orders,
    complete_order,
    confirm_receipt,
    expire_unpaid_orders,
    get_customer_order,
    get_order,
    get_order_by_number,
    list_orders,
    mark_delivered,
    mark_paid,
    mark_shipped,
    order_numbers,
    order_timeline,
    record_refund,
    reject_refund,
    request_refund,
)
from shopops.orders.service.moves_bulk import complete_orders
from shopops.orders.service.reads import line_skus, orders_with_lines, units_sold  # noqa: F401

__all__ = [
    "RESERVATION_REF",
    "CartLineView",
    "CartView",
    "CheckoutRequest",
    "PlacedOrder",
    "add_to_cart",
    "cancel_customer_order",
    "cancel_order",
    "clear_cart",
    "complete_delivered_orders",
    "complete_order",
    "complete_orders",
    "confirm_receipt",
    "expire_unpaid_orders",
    "get_customer_order",
    "get_order",
    "get_order_by_number",
    "list_orders",
    "load_cart",
    "mark_delivered",
    "mark_paid",
    "mark_shipped",
    "order_numbers",
    "order_timeline",
    "place_order",
    "place_orders",
    "preview_checkout",
    "record_refund",
    "reject_refund",
    "remove_from_cart",
    "request_refund",
    "set_cart_quantity",
    "view_cart",
]
