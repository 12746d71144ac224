"""Use cases of promotions: definitions, coupons, campaigns, and the checkout hooks.

`issue_coupon` is part of the cross-domain contract (referral rewards call it).
"""

from shopops.promotions.service.campaigns import (
    attach_promotion,
    campaign_phases,
    campaign_report,
    campaign_results,
    campaign_view,
    create_campaign,
    get_campaign,
    list_campaigns,
)
from shopops.promotions.service.checkout import clear_cache, price_promotions, suspended
from shopops.promotions.service.claims import claim_promotions, on_order_cancelled, release_order
from shopops.promotions.service.coupons import (
    claim_coupon,
    create_template,
    expire_coupons,
    get_template,
    issue_bulk,
    issue_coupon,
    list_templates,
    on_customer_registered,
    on_order_paid,
    template_counts,
    wallet,
)
from shopops.promotions.service.definitions import (
    change_status,
    create_promotion,
    get_promotion,
    list_promotions,
    update_promotion,
)
from shopops.promotions.service.ledger import grant_cashback, ledger_problems, on_order_completed

__all__ = [
    "attach_promotion",
    "campaign_phases",
    "campaign_report",
    "campaign_results",
    "campaign_view",
    "change_status",
    "claim_coupon",
    "claim_promotions",
    "clear_cache",
    "create_campaign",
    "create_promotion",
    "create_template",
    "expire_coupons",
    "get_campaign",
    "get_promotion",
    "get_template",
    "grant_cashback",
    "issue_bulk",
    "issue_coupon",
    "ledger_problems",
    "list_campaigns",
    "list_promotions",
    "list_templates",
    "on_customer_registered",
    "on_order_cancelled",
    "on_order_completed",
    "on_order_paid",
    "price_promotions",
    "release_order",
    "suspended",
    "template_counts",
    "update_promotion",
    "wallet",
]
