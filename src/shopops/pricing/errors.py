"""Errors of the pricing domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class UnknownSku(NotFound):
    code = "unknown_sku"


class PriceListNotFound(NotFound):
    code = "price_list_not_found"


class FlashSaleNotFound(NotFound):
    code = "flash_sale_not_found"


class ProposalNotFound(NotFound):
    code = "reprice_proposal_not_found"


class InvalidPrice(InvalidInput):
    code = "invalid_price"


class MarginBandViolated(Conflict):
    """A manual price outside the gross-margin band, without an explicit override."""

    code = "margin_band_violated"


class DuplicatePriceListCode(Conflict):
    code = "duplicate_price_list_code"


class InvalidPriceList(InvalidInput):
    code = "invalid_price_list"


class InvalidFlashSale(InvalidInput):
    """A flash-sale definition the rules refuse; `details.problems` lists each reason."""

    code = "invalid_flash_sale"


class FlashSaleOverlap(Conflict):
    code = "flash_sale_overlap"


class FlashSaleEnded(Conflict):
    code = "flash_sale_ended"


class FlashSaleSoldOut(Conflict):
    code = "flash_sale_sold_out"


class FlashSaleLimitReached(Conflict):
    code = "flash_sale_limit_reached"


class FlashSaleChanged(Conflict):
    """The flash sale moved between pricing and claiming (a unit came back, the window
    closed): the order would not be charged what was shown. Price again and retry."""

    code = "flash_sale_changed"


class ProposalNotApplicable(Conflict):
    code = "reprice_proposal_not_applicable"


class ProposalStale(Conflict):
    code = "reprice_proposal_stale"


class IllegalFlashSaleMove(IllegalTransition):
    code = "illegal_transition"
