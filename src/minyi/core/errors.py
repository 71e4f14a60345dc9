"""Domain errors with stable codes.

Every refusal in Minyi raises one of these. The code is part of the public contract (API
clients switch on it); the message is for people and is translated. The REST API turns an
error into ``{"code": ..., "message": ...}`` with ``http_status``; the web pages show the message.
Messages never contain personal data.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    http_status = 400
    default_code = "bad_request"

    def __init__(self, message: Any, code: str | None = None, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field:
            body["field"] = self.field
        return body


class InvalidInput(DomainError):
    http_status = 422
    default_code = "invalid"


class NotAuthenticated(DomainError):
    http_status = 401
    default_code = "not_authenticated"


class Forbidden(DomainError):
    http_status = 403
    default_code = "forbidden"


class NotFound(DomainError):
    http_status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The ticket is not (or no longer) in a state that allows this action."""

    http_status = 409
    default_code = "conflict"


class Gone(DomainError):
    """A link or code that was valid once and no longer is (expired, superseded)."""

    http_status = 410
    default_code = "gone"


class RateLimited(DomainError):
    http_status = 429
    default_code = "rate_limited"
