"""Wires pricing into checkout and the order lifecycle, once, at import (imported by
`shopops.models`, after promotions and before points: the hook order is import order).

- discount hooks: member/channel price lists, then flash sales (which see the price lists'
  discounts as `earlier` and top a flash line up to exactly the flash price);
- order hook: claim flash-sale units;
- `order.cancelled`: give the units back.
"""

from shopops.events import subscribe, subscribe_bulk
from shopops.orders.events import ORDER_CANCELLED
from shopops.orders.pricing import register_discount_hook, register_order_hook
from shopops.pricing.service.checkout import (
    claim_flash_units,
    flash_discounts,
    price_list_discounts,
    release_flash_units,
)
from shopops.pricing.service.release_bulk import release_flash_units_many

register_discount_hook(price_list_discounts)  # type: ignore[arg-type]
register_discount_hook(flash_discounts)  # type: ignore[arg-type]
register_order_hook(claim_flash_units)
subscribe(ORDER_CANCELLED, release_flash_units)
subscribe_bulk(release_flash_units, release_flash_units_many)
