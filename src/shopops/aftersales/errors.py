"""Errors of the after-sales domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class ReturnNotFound(NotFound):
    code = "return_not_found"


class IllegalReturnTransition(IllegalTransition):
    """The return is not in a status that allows this step."""

    code = "illegal_transition"


class OrderNotReturnable(Conflict):
    """Only a delivered (or completed) order can be returned."""

    code = "order_not_returnable"


class ReturnWindowClosed(Conflict):
    """The no-reason (7天无理由) or quality window since delivery has passed."""

    code = "return_window_closed"


class ReturnQuantityExceeded(InvalidInput):
    """More units than were bought minus those already returned or refunded."""

    code = "return_quantity_exceeded"


class UnknownOrderLine(InvalidInput):
    code = "unknown_order_line"
