"""What the promotion engine returns: applied discounts, refusals and totals, in fen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shopops.promotions.engine.model import Cart, DiscountClass, PromotionKind


@dataclass(frozen=True, slots=True)
class Gift:
    sku_id: int
    quantity: int
    unit_value: int


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    """One promotion as applied: what it took off, where, and why, in both languages."""

    promotion_id: int
    name: str
    kind: PromotionKind
    klass: DiscountClass
    amount: int  # deducted: from the items (product/order class) or the shipping fee
    line_amounts: Mapping[int, int]  # line index → fen of `amount` (items only)
    explanation_zh: str
    explanation_en: str
    code: str | None = None
    campaign_id: int | None = None
    cashback: int = 0  # credited after completion, not deducted
    gifts: tuple[Gift, ...] = ()
    free_shipping: bool = False

    @property
    def benefit(self) -> int:
        return self.amount + self.cashback + sum(g.quantity * g.unit_value for g in self.gifts)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a presented coupon (or a nearly reached automatic promotion) does not apply."""

    promotion_id: int | None
    code: str | None
    reason: str
    message_zh: str
    message_en: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome for one cart: applied discounts, refusals, and the totals they produce.

    `applied` is in the order the discounts were computed (product, order, then shipping,
    cashback and gifts). `rejected` says why each presented coupon did not apply (and flags
    codes that match no promotion); `hints` name automatic promotions within reach ("spend
    ¥44.00 more to get …"). Every amount is integer fen; discounts are rounded down to the fen.
    `total` = `items_total` + `shipping_total`; `items_total` is the total before shipping;
    `line_discounts[i]` is everything taken off line i. `exact` is False only when the
    combination search hit its size limit and returned the best combination found so far.
    """

    applied: tuple[AppliedDiscount, ...]
    rejected: tuple[Rejection, ...]
    hints: tuple[Rejection, ...]
    items_subtotal: int
    product_discount: int
    order_discount: int
    items_total: int
    shipping_fee: int
    shipping_discount: int
    shipping_total: int
    total: int
    cashback: int
    gifts: tuple[Gift, ...]
    line_discounts: tuple[int, ...]
    exact: bool = True

    @property
    def discount_total(self) -> int:
        return self.product_discount + self.order_discount + self.shipping_discount

    @property
    def total_before_shipping(self) -> int:
        return self.items_total

    @property
    def benefit(self) -> int:
        """What the customer gains: deductions, cashback and the value of gifts."""
        return sum(a.benefit for a in self.applied)

    def line_totals(self, cart: Cart) -> tuple[int, ...]:
        return tuple(
            line.amount - d for line, d in zip(cart.lines, self.line_discounts, strict=True)
        )
