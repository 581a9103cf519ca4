"""Google's JSON error shapes for the emulator."""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any


class ApiError(Exception):
    """An API failure that renders as Google's JSON error body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
    ) -> None:
        """Store the parts of a Google error."""
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type

    def body(self) -> dict[str, Any]:
        """Return the error as Google's JSON structure."""
        detail: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location_type is not None:
            detail["locationType"] = self.location_type
        if self.location is not None:
            detail["location"] = self.location
        return {
            "error": {"errors": [detail], "code": self.code, "message": self.message}
        }

    def body_bytes(self) -> bytes:
        """Return the JSON body as bytes."""
        return json.dumps(self.body()).encode()


def bad_request(message: str, *, reason: str = "invalid", **kw: Any) -> ApiError:
    """Return a 400 error."""
    return ApiError(400, reason, message, **kw)


def required(field: str) -> ApiError:
    """Return the 400 Google sends for a missing required field."""
    return ApiError(400, "required", f"Missing {field}.")


def unauthenticated() -> ApiError:
    """Return the 401 for a missing, unknown or expired bearer token."""
    return ApiError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
    )


def forbidden(message: str = "Forbidden", *, reason: str = "forbidden") -> ApiError:
    """Return a 403 error."""
    return ApiError(403, reason, message)


def insufficient_scopes() -> ApiError:
    """Return the 403 for a token without a write scope."""
    return ApiError(
        403,
        "insufficientPermissions",
        "Request had insufficient authentication scopes.",
    )


def not_found() -> ApiError:
    """Return a 404 error."""
    return ApiError(404, "notFound", "Not Found")


def duplicate() -> ApiError:
    """Return the 409 for a client id that already exists."""
    return ApiError(409, "duplicate", "The requested identifier already exists.")


def deleted() -> ApiError:
    """Return the 410 for deleting an event twice."""
    return ApiError(410, "deleted", "Resource has been deleted")


def full_sync_required() -> ApiError:
    """Return the 410 for an invalid sync token, exactly as Google words it."""
    return ApiError(
        410,
        "fullSyncRequired",
        "Sync token is no longer valid, a full sync is required.",
        domain="calendar",
        location="syncToken",
        location_type="parameter",
    )


def condition_not_met() -> ApiError:
    """Return the 412 for a stale If-Match etag."""
    return ApiError(
        412,
        "conditionNotMet",
        "Precondition Failed",
        location="If-Match",
        location_type="header",
    )


def rate_limited(reason: str = "rateLimitExceeded", code: int = 403) -> ApiError:
    """Return a rate limit error (403 or 429)."""
    domain = "usageLimits"
    messages = {
        "rateLimitExceeded": "Rate Limit Exceeded",
        "userRateLimitExceeded": "User Rate Limit Exceeded",
        "quotaExceeded": "Calendar usage limits exceeded.",
    }
    return ApiError(
        code, reason, messages.get(reason, "Rate Limit Exceeded"), domain=domain
    )


def backend_error(code: int = 500) -> ApiError:
    """Return a 5xx backend error."""
    if code == 503:
        return ApiError(503, "backendError", "The service is currently unavailable.")
    message = HTTPStatus(code).phrase if code in HTTPStatus else "Backend Error"
    return ApiError(code, "backendError", message or "Backend Error")
