"""The working values of one evaluation: candidates, per-combination results, the context."""

from __future__ import annotations

from typing import Any

from shopops.promotions.engine.conditions import CartIndex, Reason
from shopops.promotions.engine.model import ORDER_PHASE, POST_PHASE, PRODUCT_PHASE, Promotion

__all__ = [
    "ORDER_PHASE",
    "POST_PHASE",
    "PRODUCT_PHASE",
    "Candidate",
    "Ctx",
    "Outcome",
    "Result",
    "consent",
    "phase_of",
]


def phase_of(p: Promotion) -> int:
    return p.phase


class Candidate:
    """A promotion that passed its gates and gives something to this cart on its own."""

    __slots__ = (
        "campaign_id",
        "exclusive",
        "info",
        "klass",
        "line_amounts",
        "lines",
        "min_spend",
        "min_units",
        "own_budget",
        "phase",
        "promo",
        "rank",
        "stacks",
        "standalone",
        "units",
    )

    def __init__(
        self,
        promo: Promotion,
        rank: int,
        lines: tuple[int, ...],
        units: int,
        own_budget: int | None,
        minimums: tuple[int, int],
    ) -> None:
        self.promo = promo
        self.rank = rank
        self.phase = promo.phase
        self.klass = promo.klass
        self.lines = lines
        self.units = units
        self.own_budget = own_budget
        self.campaign_id = promo.campaign_id
        self.exclusive = promo.exclusive
        self.stacks = promo.stacks
        self.line_amounts: dict[int, int] = {}
        self.info: dict[str, Any] = {}
        self.standalone = 0
        self.min_spend, self.min_units = minimums


def consent(a: Candidate, b: Candidate) -> bool:
    """Both promotions agree to combine with the other's class (neither is exclusive)."""
    pa, pb = a.promo, b.promo
    if pa.exclusive or pb.exclusive:
        return False
    return b.klass in pa.combines_with and a.klass in pb.combines_with


class Result:
    """What one promotion did inside one combination."""

    __slots__ = ("amount", "cashback", "gift_qty", "info", "line_amounts", "miss")

    def __init__(
        self,
        line_amounts: dict[int, int] | None = None,
        amount: int = 0,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.amount = amount
        self.cashback = 0
        self.gift_qty = 0
        self.line_amounts: dict[int, int] = {} if line_amounts is None else line_amounts
        self.info: dict[str, Any] = {} if info is None else info
        self.miss: tuple[Reason, int] | None = None  # threshold missed after other discounts

    @property
    def effective(self) -> bool:
        return self.amount > 0 or self.cashback > 0 or self.gift_qty > 0


class Outcome:
    __slots__ = (
        "benefit",
        "cashback",
        "chosen",
        "line_order",
        "line_prod",
        "results",
        "shipping_discount",
    )

    def __init__(self) -> None:
        self.benefit = 0
        self.cashback = 0
        self.shipping_discount = 0
        self.chosen: list[Candidate] = []
        self.line_prod: list[int] = []
        self.line_order: list[int] = []
        self.results: dict[int, Result] = {}


class Ctx:
    """Everything fixed during one evaluation, plus a cache of product-phase results."""

    __slots__ = ("camp_left", "idx", "product_cache", "shipping_fee")

    def __init__(self, idx: CartIndex, shipping_fee: int, camp_left: dict[int, int]) -> None:
        self.idx = idx
        self.shipping_fee = shipping_fee
        self.camp_left = camp_left  # campaign id → fen left, for campaigns with an amount budget
        self.product_cache: dict[
            tuple[int, ...], tuple[int, list[int], dict[int, dict[int, int]], dict[int, int]]
        ] = {}
