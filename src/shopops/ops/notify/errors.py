"""Errors of the notifications domain."""

from __future__ import annotations

from shopops.errors import InvalidInput, NotFound


class InvalidChannel(InvalidInput):
    code = "invalid_channel"


class ChannelNotFound(NotFound):
    code = "channel_not_found"
