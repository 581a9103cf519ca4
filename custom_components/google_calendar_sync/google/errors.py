"""Typed errors of the Calendar API and the mapping of Google's error answers to them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import math

from googleapiclient.errors import BatchError, HttpError
import httplib2

# A Retry-After longer than this (seconds) is cut to it.
RETRY_AFTER_MAX = 60.0

RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
)


class GoogleCalendarApiError(Exception):
    """A Calendar API call failed."""

    def __init__(
        self,
        status: int | None,
        reason: str | None,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Store the HTTP status, Google's error reason, the message and Retry-After."""
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class GoogleAuthError(GoogleCalendarApiError):
    """The credentials were rejected (401) or can no longer be refreshed."""


class GoogleNotFoundError(GoogleCalendarApiError):
    """The calendar, event or channel does not exist (404)."""


class GoogleGoneError(GoogleCalendarApiError):
    """The sync token expired or the resource was deleted (410)."""


class GoogleRateLimitError(GoogleCalendarApiError):
    """Google asks us to slow down (403 rate-limit reasons, 429)."""


class GoogleTransientError(GoogleCalendarApiError):
    """A server error (5xx), a dropped connection or a timeout."""


class GoogleConflictError(GoogleCalendarApiError):
    """The requested identifier already exists (409)."""


class GooglePreconditionFailedError(GoogleCalendarApiError):
    """The etag given in If-Match is stale (412)."""


class GoogleForbiddenError(GoogleCalendarApiError):
    """The call is not allowed (403 that is not a rate limit)."""


class GoogleBadRequestError(GoogleCalendarApiError):
    """Google rejected the request as invalid (400)."""


class GoogleClientClosedError(GoogleCalendarApiError):
    """The client was closed (the entry is unloading): the request was cancelled."""

    def __init__(self) -> None:
        """Say why nothing was sent, or why the answer was not awaited."""
        super().__init__(None, "clientClosed", "The connection to Google was closed")


_ERROR_BY_STATUS: dict[int, type[GoogleCalendarApiError]] = {
    400: GoogleBadRequestError,
    401: GoogleAuthError,
    404: GoogleNotFoundError,
    409: GoogleConflictError,
    410: GoogleGoneError,
    412: GooglePreconditionFailedError,
    429: GoogleRateLimitError,
}

RETRYABLE_ERRORS = (GoogleRateLimitError, GoogleTransientError)


def error_from_http_error(err: HttpError) -> GoogleCalendarApiError:
    """Return the typed error for an error answer from Google."""
    if isinstance(err, BatchError):
        # Google, or a proxy on the way, answered something that is not a batch.
        return GoogleTransientError(None, "batchError", str(err.reason))
    status = int(err.resp.status)
    reason = _error_reason(err.content)
    message = str(err.reason) or f"HTTP {status}"
    error_type: type[GoogleCalendarApiError]
    if status == 403:
        error_type = (
            GoogleRateLimitError
            if reason in RATE_LIMIT_REASONS
            else GoogleForbiddenError
        )
    elif status >= 500:
        error_type = GoogleTransientError
    else:
        error_type = _ERROR_BY_STATUS.get(status, GoogleCalendarApiError)
    return error_type(
        status, reason, message, retry_after=retry_after(err.resp.get("retry-after"))
    )


def retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks to wait, at most RETRY_AFTER_MAX.

    The header holds delay-seconds or an HTTP date; None when absent or unreadable.
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError, IndexError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def not_json_error(response: httplib2.Response) -> GoogleTransientError:
    """Return the error for a success answer whose body is not a JSON object."""
    return GoogleTransientError(
        response.status,
        "invalidResponse",
        "Google answered HTTP "
        f"{response.status} ({response.get('content-type', 'no content type')}) "
        "without a JSON object",
    )


def _error_reason(content: bytes) -> str | None:
    """Return the first `error.errors[].reason` of a Google error body."""
    try:
        reason = json.loads(content)["error"]["errors"][0]["reason"]
    except ValueError, KeyError, IndexError, TypeError:
        return None
    return reason if isinstance(reason, str) else None
