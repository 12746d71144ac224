"""Use cases of fulfillment (never committing): `carriers` for carriers, rates and quotes,
`shipping` for shipping orders and return parcels, `tracking` for carrier scans, lookups and
the carrier scorecard. Other domains call the names in `__all__`."""

from shopops.fulfillment.service.bulk_shipping import Parcel, ship_orders
from shopops.fulfillment.service.carriers import (
    create_carrier,
    ensure_default_carriers,
    get_carrier,
    list_carriers,
    quote,
    set_rate,
    update_carrier,
)
from shopops.fulfillment.service.rows import ScanRow, ShipmentRow
from shopops.fulfillment.service.scans import Scan, record_scans
from shopops.fulfillment.service.shipping import create_return_shipment, ship_order
from shopops.fulfillment.service.tracking import (
    Scorecard,
    carrier_scorecard,
    get_shipment,
    list_shipments,
    record_tracking_event,
    shipments_for_order,
    track_order,
)

__all__ = [
    "Parcel",
    "Scan",
    "ScanRow",
    "Scorecard",
    "ShipmentRow",
    "carrier_scorecard",
    "create_carrier",
    "create_return_shipment",
    "ensure_default_carriers",
    "get_carrier",
    "get_shipment",
    "list_carriers",
    "list_shipments",
    "quote",
    "record_scans",
    "record_tracking_event",
    "set_rate",
    "ship_order",
    "ship_orders",
    "shipments_for_order",
    "track_order",
    "update_carrier",
]
