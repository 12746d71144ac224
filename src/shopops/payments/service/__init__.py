"""Use cases of payments (the contract other domains call is listed in `__all__`):
`charges` for attempts and callbacks, `refunds` for money going back, `reports` for reads."""

from shopops.payments.service.bulk import PayAttempt, pay_orders
from shopops.payments.service.charges import (
    handle_callback,
    pay_customer_order,
    pay_order,
    receive_callback,
    start_payment,
)
from shopops.payments.service.common import MAX_PAGE
from shopops.payments.service.refunds import list_refunds, refund_order, refunded_units
from shopops.payments.service.reports import (
    ChannelCompletion,
    completion_by_channel,
    get_payment,
    list_payments,
)

__all__ = [
    "MAX_PAGE",
    "ChannelCompletion",
    "PayAttempt",
    "completion_by_channel",
    "get_payment",
    "handle_callback",
    "list_payments",
    "list_refunds",
    "pay_customer_order",
    "pay_order",
    "pay_orders",
    "receive_callback",
    "refund_order",
    "refunded_units",
    "start_payment",
]
