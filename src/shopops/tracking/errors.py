"""Errors of tracking, each with its HTTP status and machine code."""

from __future__ import annotations

from shopops.errors import InvalidInput, ShopOpsError


class MalformedBody(ShopOpsError):
    status_code = 400
    code = "malformed_json"


class InvalidBatch(InvalidInput):
    code = "invalid_batch"


class InvalidEvent(InvalidInput):
    code = "invalid_event"


class BatchTooLarge(ShopOpsError):
    status_code = 413
    code = "batch_too_large"


class TrackingUnavailable(ShopOpsError):
    """The event log could not make the batch durable: nothing was acknowledged; retry."""

    status_code = 503
    code = "tracking_unavailable"
