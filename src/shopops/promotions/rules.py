"""The promotion engine, pure: no database, no I/O, no clock of its own.

Call `evaluate(cart, promotions, customer=..., context=...)` at checkout with the cart lines,
the shop's active promotions (usage snapshots included) and the moment; it returns the best
permitted combination of discounts for the customer, with per-line allocations, explanations in
Chinese and English, refusals of presented coupons, and the totals. `validate_promotion` refuses
bad definitions before they are stored.

Rules the engine keeps, everywhere:
- Money is integer fen; percentages are basis points. Every discount is rounded DOWN to the
  fen (in the shop's disfavour) and never exceeds the amount it is computed on, so no line and
  no total goes below zero.
- Product discounts are computed on list prices and chosen per line; order discounts are
  computed on the subtotal after product discounts (never on the undiscounted total); free
  shipping, cashback and gifts look at what is left to pay.
- Tiers are never summed: a promotion gives its best tier reached.
- The result does not depend on the order of the promotions given; ties go to the higher
  priority, then the lower id.
See `engine.combine` (how one combination is computed) and `engine.search` (which combinations
are permitted and how the best is found).
"""

from shopops.promotions.engine.codec import (
    filter_from_dict,
    filter_to_dict,
    params_from_dict,
    params_to_dict,
)
from shopops.promotions.engine.conditions import Reason
from shopops.promotions.engine.evaluate import DEFAULT_MAX_NODES, evaluate, evaluate_combination
from shopops.promotions.engine.model import (
    ALL_ITEMS,
    BP,
    KIND_CLASSES,
    BuyXGetY,
    CampaignBudget,
    Cart,
    CartLine,
    Cashback,
    Conditions,
    CustomerContext,
    DiscountClass,
    EvaluationContext,
    Exchange,
    FirstOrder,
    FixedPrice,
    FreeShipping,
    GiftWithPurchase,
    Instant,
    ItemFilter,
    Limits,
    MemberPrice,
    Params,
    PercentOff,
    Promotion,
    PromotionKind,
    SpendSave,
    TieredQuantity,
    TimeLimited,
    Usage,
    normalize_code,
)
from shopops.promotions.engine.result import AppliedDiscount, Evaluation, Gift, Rejection
from shopops.promotions.engine.validate import Problem, validate_promotion

__all__ = [
    "ALL_ITEMS",
    "BP",
    "DEFAULT_MAX_NODES",
    "KIND_CLASSES",
    "AppliedDiscount",
    "BuyXGetY",
    "CampaignBudget",
    "Cart",
    "CartLine",
    "Cashback",
    "Conditions",
    "CustomerContext",
    "DiscountClass",
    "Evaluation",
    "EvaluationContext",
    "Exchange",
    "FirstOrder",
    "FixedPrice",
    "FreeShipping",
    "Gift",
    "GiftWithPurchase",
    "Instant",
    "ItemFilter",
    "Limits",
    "MemberPrice",
    "Params",
    "PercentOff",
    "Problem",
    "Promotion",
    "PromotionKind",
    "Reason",
    "Rejection",
    "SpendSave",
    "TieredQuantity",
    "TimeLimited",
    "Usage",
    "evaluate",
    "evaluate_combination",
    "filter_from_dict",
    "filter_to_dict",
    "normalize_code",
    "params_from_dict",
    "params_to_dict",
    "validate_promotion",
]
