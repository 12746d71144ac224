"""Helpers the payment use cases share: the default gateway and channel parsing."""

from __future__ import annotations

from shopops.payments.errors import UnknownChannel
from shopops.payments.gateway import SimulatedGateway
from shopops.payments.models import PaymentChannel

MAX_PAGE = 500


def gateway_or_default(gateway: SimulatedGateway | None) -> SimulatedGateway:
    return gateway or SimulatedGateway.from_settings()


def parse_channel(channel: str) -> PaymentChannel:
    try:
        return PaymentChannel(channel)
    except ValueError as exc:
        raise UnknownChannel(
            f"unknown payment channel {channel!r}",
            details={"channel": channel, "allowed": [c.value for c in PaymentChannel]},
        ) from exc
