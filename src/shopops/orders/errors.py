"""Errors of carts, checkout and orders, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"


class UnknownSku(NotFound):
    code = "unknown_sku"


class SkuNotSellable(Conflict):
    code = "sku_not_sellable"


class CartEmpty(Conflict):
    code = "cart_empty"


class CartFull(Conflict):
    code = "cart_full"


class CartLineNotFound(NotFound):
    code = "cart_line_not_found"


class QuantityOutOfRange(InvalidInput):
    code = "quantity_out_of_range"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class OrderTransitionRefused(IllegalTransition):
    code = "illegal_transition"


class AmountMismatch(Conflict):
    code = "amount_mismatch"


class InvalidRefund(InvalidInput):
    code = "invalid_refund"
