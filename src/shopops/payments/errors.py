"""Errors of the payments domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound, Unauthenticated


class PaymentNotFound(NotFound):
    """No payment attempt has this id or gateway transaction id."""

    code = "payment_not_found"


class UnknownChannel(InvalidInput):
    code = "unknown_channel"


class OrderNotPayable(IllegalTransition):
    """Only an order that is pending payment can start a payment attempt."""

    code = "order_not_payable"


class BadSignature(Unauthenticated):
    """A gateway callback whose HMAC signature does not match its fields."""

    code = "bad_signature"


class CallbackAmountMismatch(Conflict):
    """A callback reports a different amount than the attempt asked for: never trust it."""

    code = "amount_mismatch"


class OrderNotRefundable(Conflict):
    """Only an order that has been paid (and not fully refunded) can be refunded."""

    code = "order_not_refundable"


class RefundExceedsPaid(Conflict):
    """The refund would return more money than was paid minus what was already refunded."""

    code = "refund_exceeds_paid"


class RefundExceedsQuantity(Conflict):
    """The refund names more units of a line than were bought minus those already refunded."""

    code = "refund_exceeds_quantity"


class UnknownOrderLine(InvalidInput):
    """A refund names an order line that is not on this order."""

    code = "unknown_order_line"


class NothingToRefund(Conflict):
    """The request adds up to no money (no lines, no amount, no shipping left to refund)."""

    code = "nothing_to_refund"
