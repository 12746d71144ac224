"""Errors of the members domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, Forbidden, InvalidInput, NotFound


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerExists(Conflict):
    code = "customer_exists"


class InvalidPhone(InvalidInput):
    code = "invalid_phone"


class InvalidEmail(InvalidInput):
    code = "invalid_email"


class AddressNotFound(NotFound):
    code = "address_not_found"


class NoDefaultAddress(Conflict):
    code = "no_address"


class TooManyAddresses(Conflict):
    code = "too_many_addresses"


class PiiHidden(Forbidden):
    code = "pii_hidden"


class TierNotFound(NotFound):
    code = "tier_not_found"


class TierExists(Conflict):
    code = "tier_exists"


class InvalidTiers(InvalidInput):
    code = "invalid_tiers"


class PointsInsufficient(Conflict):
    code = "points_insufficient"


class PointsOverCap(Conflict):
    code = "points_over_cap"


class InvalidPoints(InvalidInput):
    code = "invalid_points"


class ReferralCodeNotFound(NotFound):
    code = "referral_code_not_found"


class SelfReferral(Conflict):
    code = "self_referral"


class ReferralCycle(Conflict):
    code = "referral_cycle"


class AlreadyReferred(Conflict):
    code = "already_referred"
