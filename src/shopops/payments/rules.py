"""Pure payment rules: callback signatures, refund arithmetic, completion rates.

Refunds follow one principle: a line can never give back more than was paid for it, and giving
back everything, in any number of partial refunds, returns exactly what was paid — to the fen.
Each refund of `q` units takes its share of what is *still* refundable on the line
(remaining amount over remaining units, largest remainder first), so the last units always take
whatever is left. Computing each partial refund from the unit price instead rounds the same way
every time and drifts away from the line total (the saleor #15217 failure).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from shopops.money import allocate
from shopops.payments.errors import (
    NothingToRefund,
    RefundExceedsPaid,
    RefundExceedsQuantity,
    UnknownOrderLine,
)

SIGNATURE_FIELD = "signature"

# ---------------------------------------------------------------------------------------------
# Callback signatures


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# What `quote(…, safe='')` leaves as it is: such text skips it (most keys and values are).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _quote(text: str) -> str:
    return text if _UNRESERVED(text) else quote(text, safe="")


def canonical_string(fields: Mapping[str, object]) -> str:
    """`k=v&k=v…` sorted by key, values percent-encoded; the signature and None are left out.

    Encoding keeps the string unambiguous: no value can smuggle in another `&key=`.
    """
    parts = [
        f"{_quote(key)}={_quote(_text(value))}"
        for key, value in sorted(fields.items())
        if key != SIGNATURE_FIELD and value is not None
    ]
    return "&".join(parts)


def sign(fields: Mapping[str, object], secret: str) -> str:
    """HMAC-SHA256 (hex) of the canonical string of `fields` under `secret`."""
    digest = hmac.new(secret.encode(), canonical_string(fields).encode(), hashlib.sha256)
    return digest.hexdigest()


def verify(fields: Mapping[str, object], signature: str, secret: str) -> bool:
    """True when `signature` is the signature of `fields`; compared in constant time."""
    return hmac.compare_digest(sign(fields, secret), signature.strip().lower())


# ---------------------------------------------------------------------------------------------
# Refund arithmetic


@dataclass(frozen=True, slots=True)
class LineBalance:
    """What an order line was paid (`total`, after its discount share) and has given back."""

    line_id: int
    quantity: int
    total: int
    refunded_quantity: int = 0
    refunded_amount: int = 0

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.refunded_quantity

    @property
    def remaining_amount(self) -> int:
        return self.total - self.refunded_amount


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """Per line `(quantity, amount)`, the shipping part, and their sum."""

    lines: dict[int, tuple[int, int]]
    shipping: int

    @property
    def total(self) -> int:
        return sum(amount for _, amount in self.lines.values()) + self.shipping


def units_refund_amount(line: LineBalance, quantity: int) -> int:
    """The money `quantity` more units of `line` give back.

    The remaining amount is spread over the remaining units by largest remainder (earlier units
    take the extra fen), so the amounts of any sequence of partial refunds add up to exactly
    the line's remaining amount once every unit is refunded.
    """
    if quantity < 0:
        raise ValueError("a refund quantity is never negative")
    units = line.remaining_quantity
    if quantity > units:
        raise RefundExceedsQuantity(
            f"line {line.line_id} has {units} unit(s) left to refund, not {quantity}",
            details={
                "order_line_id": line.line_id,
                "requested": quantity,
                "refundable": units,
            },
        )
    if quantity == 0:
        return 0
    money = max(line.remaining_amount, 0)
    base, extra = divmod(money, units)
    return quantity * base + min(quantity, extra)


def merge_units(units: Sequence[tuple[int, int]]) -> dict[int, int]:
    """`(line_id, quantity)` pairs as one quantity per line (a line named twice adds up)."""
    merged: dict[int, int] = {}
    for line_id, quantity in units:
        if quantity <= 0:
            raise ValueError("a refund quantity must be positive")
        merged[line_id] = merged.get(line_id, 0) + quantity
    return merged


def plan_refund(
    lines: Sequence[LineBalance],
    *,
    units: Mapping[int, int],
    amount: int | None = None,
    shipping_remaining: int = 0,
    include_shipping: bool = False,
    refundable: int | None = None,
) -> RefundPlan:
    """How much each line (and the shipping fee) gives back; refuses anything over the limits.

    - `units` only: each line gives back `units_refund_amount` for its units.
    - `amount` only: a goodwill amount spread over the lines' remaining amounts.
    - `units` and `amount`: those units come back, for `amount` spread over what they are worth.
    - `include_shipping`: the shipping fee not yet refunded joins the refund (and, with an
      `amount`, the weights it is spread over).
    `refundable` (paid minus already refunded, order-wide) caps the total as a last guard.
    """
    by_id = {line.line_id: line for line in lines}
    unknown = sorted(set(units) - set(by_id))
    if unknown:
        raise UnknownOrderLine(
            f"order line(s) {unknown} are not on this order", details={"order_line_ids": unknown}
        )
    shipping = max(shipping_remaining, 0) if include_shipping else 0
    if units:
        parts = {lid: (q, units_refund_amount(by_id[lid], q)) for lid, q in sorted(units.items())}
    else:
        parts = {
            line.line_id: (0, max(line.remaining_amount, 0))
            for line in lines
            if line.remaining_amount > 0
        }
    if amount is None:
        if not units:
            parts = {}
        plan = RefundPlan(lines=parts, shipping=shipping)
    else:
        if amount <= 0:
            raise NothingToRefund("a refund amount must be positive", details={"amount": amount})
        ids = list(parts)
        weights = [parts[lid][1] for lid in ids] + ([shipping] if shipping else [])
        ceiling = sum(weights)
        if amount > ceiling:
            raise RefundExceedsPaid(
                f"at most {ceiling} can be refunded for this, not {amount}",
                details={"requested": amount, "refundable": ceiling},
            )
        shares = allocate(amount, weights)
        plan = RefundPlan(
            lines={lid: (parts[lid][0], share) for lid, share in zip(ids, shares, strict=False)},
            shipping=shares[-1] if shipping else 0,
        )
    # A line that gives back neither units nor money is not part of the refund.
    plan = RefundPlan(
        lines={lid: part for lid, part in plan.lines.items() if part != (0, 0)},
        shipping=plan.shipping,
    )
    if plan.total <= 0:
        raise NothingToRefund(
            "the refund adds up to nothing: name lines, an amount, or the shipping fee",
            details={"units": dict(units), "amount": amount, "include_shipping": include_shipping},
        )
    if refundable is not None and plan.total > refundable:
        raise RefundExceedsPaid(
            f"at most {refundable} is left to refund on this order, not {plan.total}",
            details={"requested": plan.total, "refundable": refundable},
        )
    return plan


# ---------------------------------------------------------------------------------------------
# Completion rate


def completion_rate(attempts: int, successes: int) -> float | None:
    """Successful attempts / attempts (支付成功率); None when there were no attempts."""
    if attempts <= 0:
        return None
    return successes / attempts
