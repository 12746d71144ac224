"""Use cases of pricing: `prices` (list prices, history, price lists, resolution),
`repricing` (propose / apply / dismiss), `flash` (flash sales), `checkout` (the hooks that
price and claim at checkout) and `live` (the per-process snapshot the hooks read)."""

from shopops.pricing.service.checkout import (
    FLASH_SOURCE,
    PRICE_LIST_SOURCE,
    claim_flash_units,
    flash_discounts,
    price_list_discounts,
    purchases_of,
    release_flash_units,
)
from shopops.pricing.service.flash import (
    FlashItemSpec,
    create_flash_sale,
    end_flash_sale,
    flash_ledger_problems,
    get_flash_sale,
    list_flash_sales,
    live_flash_sales,
)
from shopops.pricing.service.live import invalidate as invalidate_live_snapshot
from shopops.pricing.service.live import warm as warm_live_snapshot
from shopops.pricing.service.prices import (
    SYSTEM,
    create_price_list,
    get_price_list,
    list_price_lists,
    price_for,
    price_history,
    set_list_price,
    set_price_list_items,
    update_price_list,
)
from shopops.pricing.service.repricing import (
    apply_reprice,
    dismiss_reprice,
    get_proposal,
    list_proposals,
    propose_reprice,
)

__all__ = [
    "FLASH_SOURCE",
    "PRICE_LIST_SOURCE",
    "SYSTEM",
    "FlashItemSpec",
    "apply_reprice",
    "claim_flash_units",
    "create_flash_sale",
    "create_price_list",
    "dismiss_reprice",
    "end_flash_sale",
    "flash_discounts",
    "flash_ledger_problems",
    "get_flash_sale",
    "get_price_list",
    "get_proposal",
    "invalidate_live_snapshot",
    "list_flash_sales",
    "list_price_lists",
    "list_proposals",
    "live_flash_sales",
    "price_for",
    "price_history",
    "price_list_discounts",
    "propose_reprice",
    "purchases_of",
    "release_flash_units",
    "set_list_price",
    "set_price_list_items",
    "update_price_list",
    "warm_live_snapshot",
]
