"""Errors of the promotions domain: every refusal of a coupon or a definition has its code."""

from __future__ import annotations

from shopops.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound


class PromotionNotFound(NotFound):
    code = "promotion_not_found"


class CouponTemplateNotFound(NotFound):
    code = "coupon_template_not_found"


class CouponNotFound(NotFound):
    code = "coupon_not_found"


class CampaignNotFound(NotFound):
    code = "campaign_not_found"


class InvalidPromotion(InvalidInput):
    """details: {"problems": [{field, code, message, message_zh}, …]} from validate_promotion."""

    code = "invalid_promotion"


class InvalidCampaign(InvalidInput):
    code = "invalid_campaign"


class PromotionNotEditable(IllegalTransition):
    code = "promotion_not_editable"


class PromotionTransitionRefused(IllegalTransition):
    code = "promotion_transition_refused"


class CodeTaken(Conflict):
    code = "code_taken"


# --- presented coupons refused at checkout (details say which condition failed) ---------------


class CouponUnknown(InvalidInput):
    code = "coupon_unknown"


class CouponExpired(InvalidInput):
    code = "coupon_expired"


class CouponNotYetValid(InvalidInput):
    code = "coupon_not_yet_valid"


class CouponExhausted(Conflict):
    """Its uses, budget or campaign budget are spent, or a single-use coupon was used."""

    code = "coupon_exhausted"


class CouponNotYours(Forbidden):
    code = "coupon_not_yours"


class CouponNotCombinable(Conflict):
    code = "coupon_not_combinable"


class CouponConditionsNotMet(InvalidInput):
    """details: {"condition": engine reason (min_spend_not_met, wrong_channel…), "short": …}."""

    code = "coupon_conditions_not_met"


class CouponNotClaimable(Conflict):
    """The template is not public, inactive, out of stock or the customer holds enough."""

    code = "coupon_not_claimable"


class PromotionLimitReached(Conflict):
    """A concurrent order took the last use or budget between pricing and claiming."""

    code = "promotion_limit_reached"
