"""Money is integer minor units (分, fen) everywhere: parsing, formatting, fair allocation."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


def parse_yuan(text: str | int | Decimal) -> int:
    """Parse an amount in yuan ("12.30", 12, Decimal) into fen; refuse fractions of a fen."""
    try:
        value = Decimal(str(text).strip().replace(",", "").lstrip("¥￥"))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"amount has more than two decimals: {text!r}")
    return int(fen)


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_money(fen: int, locale: str = "zh_CN") -> str:
    """¥1,234.50 in English; Chinese uses 万 for amounts of ten thousand yuan or more."""
    sign = "-" if fen < 0 else ""
    yuan = to_yuan(abs(fen))
    if locale.startswith("zh") and yuan >= 10000:
        wan = (yuan / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{sign}¥{wan:,}万"
    return f"{sign}¥{yuan:,}"


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` over `weights` by largest remainder: parts are proportional and sum exactly.

    Ties in the remainder go to the earlier weight, so the result is deterministic.
    """
    if amount < 0:
        return [-part for part in allocate(-amount, weights)]
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    total = sum(weights)
    if not weights:
        if amount:
            raise ValueError("cannot allocate a non-zero amount over no weights")
        return []
    if total == 0:
        # Nothing to weigh by: spread evenly.
        return allocate(amount, [1] * len(weights))
    parts = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    short = amount - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        parts[i] += 1
    return parts
