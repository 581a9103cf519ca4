"""Tests of the typed errors and how Google's error answers map to them."""

from __future__ import annotations

import json

from googleapiclient.errors import BatchError, HttpError
import httplib2
from hypothesis import given, strategies as st
import pytest

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import (
    RETRY_AFTER_MAX,
    GoogleAuthError,
    GoogleBadRequestError,
    GoogleCalendarApiError,
    GoogleConflictError,
    GoogleForbiddenError,
    GoogleGoneError,
    GoogleNotFoundError,
    GooglePreconditionFailedError,
    GoogleRateLimitError,
    GoogleTransientError,
    error_from_http_error,
    retry_after,
)
from google_calendar_emulator import GoogleCalendarEmulator
from tests.common import FakeSleep
from tests.conftest import ACCOUNT

from .conftest import START, timed_event


async def test_typed_errors_for_google_answers(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    with pytest.raises(GoogleNotFoundError) as not_found:
        await client.get_event(ACCOUNT, "doesnotexist")
    assert not_found.value.status == 404

    await client.insert_event(ACCOUNT, timed_event("Once", START, id="abcdef12345"))
    with pytest.raises(GoogleConflictError) as conflict:
        await client.insert_event(
            ACCOUNT, timed_event("Twice", START, id="abcdef12345")
        )
    assert conflict.value.reason == "duplicate"

    with pytest.raises(GoogleBadRequestError):
        await client.insert_event(ACCOUNT, {"summary": "No start"})

    calendar_emulator.invalidate_sync_tokens(ACCOUNT)
    with pytest.raises(GoogleGoneError) as gone:
        await client.list_events(ACCOUNT, sync_token="stale-token")
    assert gone.value.status == 410
    assert gone.value.reason == "fullSyncRequired"


async def test_forbidden_is_not_retried(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    other = calendar_emulator.add_user("other@example.com")
    calendar_emulator.share_calendar(other, ACCOUNT, "reader")
    with pytest.raises(GoogleForbiddenError) as forbidden:
        await client.insert_event(other, timed_event("Not mine", START))
    assert forbidden.value.status == 403
    assert client.request_count == 1
    assert sleeps.delays == []


@given(st.one_of(st.none(), st.text()))
def test_retry_after_is_never_negative_nor_above_the_cap(value: str | None) -> None:
    seconds = retry_after(value)
    assert seconds is None or 0.0 <= seconds <= RETRY_AFTER_MAX


def _http_error(status: int, content: bytes) -> HttpError:
    response = httplib2.Response({"status": str(status)})
    response.reason = "Reason"
    return HttpError(response, content, uri="http://example.invalid")


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (400, "invalid", GoogleBadRequestError),
        (401, "authError", GoogleAuthError),
        (403, "forbidden", GoogleForbiddenError),
        (403, "rateLimitExceeded", GoogleRateLimitError),
        (403, "userRateLimitExceeded", GoogleRateLimitError),
        (403, "quotaExceeded", GoogleRateLimitError),
        (404, "notFound", GoogleNotFoundError),
        (409, "duplicate", GoogleConflictError),
        (410, "fullSyncRequired", GoogleGoneError),
        (412, "conditionNotMet", GooglePreconditionFailedError),
        (429, "rateLimitExceeded", GoogleRateLimitError),
        (500, "backendError", GoogleTransientError),
        (503, "backendError", GoogleTransientError),
    ],
)
def test_error_mapping(
    status: int, reason: str, error: type[GoogleCalendarApiError]
) -> None:
    body = {
        "error": {"code": status, "message": "Boom", "errors": [{"reason": reason}]}
    }
    mapped = error_from_http_error(_http_error(status, json.dumps(body).encode()))
    assert type(mapped) is error
    assert (mapped.status, mapped.reason, mapped.message) == (status, reason, "Boom")
    assert str(mapped) == "Boom"


def test_error_mapping_without_a_google_error_body() -> None:
    mapped = error_from_http_error(_http_error(405, b"<html>nope</html>"))
    assert type(mapped) is GoogleCalendarApiError
    assert mapped.status == 405
    assert mapped.reason is None
    mapped = error_from_http_error(_http_error(404, b'{"error": {"errors": [{}]}}'))
    assert isinstance(mapped, GoogleNotFoundError)
    assert mapped.reason is None


def test_error_mapping_of_a_malformed_batch_answer() -> None:
    mapped = error_from_http_error(
        BatchError("Response not in multipart/mixed format.")
    )
    assert type(mapped) is GoogleTransientError
    assert mapped.status is None
    assert mapped.reason == "batchError"
