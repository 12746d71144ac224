"""Fulfillment errors, each with its HTTP status and machine code."""

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class UnknownCarrier(NotFound):
    code = "unknown_carrier"


class CarrierExists(Conflict):
    code = "carrier_exists"


class CarrierInactive(Conflict):
    code = "carrier_inactive"


class NoCarrierRate(Conflict):
    """The carrier has no rate for the destination and no "*" fallback."""

    code = "no_carrier_rate"


class ShipmentNotFound(NotFound):
    code = "shipment_not_found"


class OrderNotVisible(NotFound):
    """Another customer's order looks exactly like a missing one."""

    code = "order_not_found"


class OrderNotShippable(Conflict):
    """Unpaid, cancelled, refunded… anything the order state machine does not let ship."""

    code = "order_not_shippable"


class OrderAlreadyShipped(Conflict):
    code = "order_already_shipped"


class DuplicateTrackingNumber(Conflict):
    code = "duplicate_tracking_number"


class IllegalTrackingTransition(IllegalTransition):
    code = "illegal_tracking_transition"


class UnknownTrackingStatus(InvalidInput):
    code = "unknown_tracking_status"


class InvalidWeight(InvalidInput):
    code = "invalid_weight"


class InvalidRate(InvalidInput):
    code = "invalid_rate"


class InvalidTrackingNumber(InvalidInput):
    code = "invalid_tracking_number"


class InvalidWindow(InvalidInput):
    code = "invalid_window"
