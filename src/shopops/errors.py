"""Typed errors: each carries its HTTP status and a machine code; a 5xx is a bug."""

from __future__ import annotations

from typing import Any, ClassVar


class ShopOpsError(Exception):
    """Base of every expected failure. The API maps it to `{code, message, details}`."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFound(ShopOpsError):
    status_code = 404
    code = "not_found"


class Conflict(ShopOpsError):
    status_code = 409
    code = "conflict"


class InvalidInput(ShopOpsError):
    status_code = 422
    code = "invalid_input"


class IllegalTransition(ShopOpsError):
    status_code = 409
    code = "illegal_transition"


class Unauthenticated(ShopOpsError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(ShopOpsError):
    status_code = 403
    code = "forbidden"
