"""Tests of the transport: tokens, retries with backoff, Retry-After, closing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from unittest.mock import patch

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.google import transport as transport_module
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.errors import (
    RETRY_AFTER_MAX,
    GoogleAuthError,
    GoogleCalendarApiError,
    GoogleClientClosedError,
    GoogleRateLimitError,
    GoogleTransientError,
)
from custom_components.google_calendar_sync.google.transport import (
    RetryPolicy,
    StaticTokenAuth,
)
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.faults import FaultKind
from tests.common import FakeSleep
from tests.conftest import ACCOUNT

from .conftest import GARBAGE, START, client_with_expired_token, timed_event


async def test_backoff_recovers_from_two_unavailable_answers(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(503, times=2)
    assert await client.list_calendars()
    assert client.request_count == 3
    assert sleeps.delays == [1.0, 2.0]


@pytest.mark.parametrize(
    ("status", "reason"),
    [(429, None), (403, "rateLimitExceeded"), (403, "userRateLimitExceeded")],
)
async def test_backoff_recovers_from_rate_limits(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    status: int,
    reason: str | None,
) -> None:
    calendar_emulator.faults.fail_next(status, reason=reason, times=3)
    assert await client.list_calendars()
    assert sleeps.delays == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, GoogleTransientError), (403, GoogleRateLimitError)],
)
async def test_backoff_gives_up_after_max_attempts(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    status: int,
    error: type[GoogleCalendarApiError],
) -> None:
    calendar_emulator.faults.fail_next(status, times=10)
    with pytest.raises(error) as raised:
        await client.list_calendars()
    assert raised.value.status == status
    assert client.request_count == 5
    assert sleeps.delays == [1.0, 2.0, 4.0, 8.0]


async def test_backoff_uses_full_jitter_up_to_the_cap(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    access_token: str,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    client = await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(access_token),
        endpoints,
        retry=RetryPolicy(
            max_attempts=8, initial_delay=0.5, max_delay=4.0, sleep=sleeps
        ),
        executor=hass.async_add_executor_job,
    )
    calendar_emulator.faults.fail_next(429, times=7)
    assert await client.list_calendars()
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert len(sleeps.delays) == len(ceilings)
    for delay, ceiling in zip(sleeps.delays, ceilings, strict=True):
        assert 0.0 <= delay <= ceiling


def test_retry_policy_delay_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(rand=lambda: 1.0)
    assert [policy.delay(retry) for retry in range(7)] == [
        1.0,
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
        32.0,
    ]
    assert RetryPolicy(rand=lambda: 0.25).delay(3) == 2.0


async def test_dropped_connection_is_retried(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    # A POST: aiohttp itself silently retries idempotent requests on a dropped
    # keep-alive connection, so this exercises our own retry.
    calendar_emulator.faults.drop_next(method="POST")
    created = await client.insert_event(ACCOUNT, timed_event("Once", START))
    assert client.request_count == 2
    assert sleeps.delays == [1.0]
    assert [event["id"] for event in calendar_emulator.events(ACCOUNT)] == [
        created["id"]
    ]


async def test_timeout_is_transient(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    with (
        patch.object(
            transport_module, "REQUEST_TIMEOUT", aiohttp.ClientTimeout(total=0.05)
        ),
    ):
        calendar_emulator.faults.delay_next(1.0, times=5)
        with pytest.raises(GoogleTransientError) as raised:
            await client.list_calendars()
    assert raised.value.status is None
    assert len(sleeps.delays) == 4


@pytest.mark.parametrize("kind", GARBAGE)
async def test_a_garbled_answer_is_transient_and_retried(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    kind: FaultKind,
) -> None:
    calendar_emulator.insert_event(ACCOUNT, timed_event("Real", START))
    calendar_emulator.faults.add(kind, path_contains="/events")
    page = await client.list_events(ACCOUNT)
    assert [event["summary"] for event in page["items"]] == ["Real"]
    assert sleeps.delays == [1.0]


@pytest.mark.parametrize("kind", GARBAGE)
async def test_garbage_that_never_stops_is_a_transient_error(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    kind: FaultKind,
) -> None:
    calendar_emulator.faults.add(kind, times=5, path_contains="/events")
    with pytest.raises(GoogleTransientError) as raised:
        await client.list_events(ACCOUNT)
    assert raised.value.reason == "invalidResponse"
    assert client.request_count == 5


async def test_close_cancels_a_request_waiting_for_google(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    hang = calendar_emulator.faults.add(FaultKind.HANG)
    listing = asyncio.ensure_future(client.list_calendars())
    await hang.reached()
    client.async_close()
    with pytest.raises(GoogleClientClosedError):
        await listing
    with pytest.raises(GoogleClientClosedError):
        await client.list_calendars()
    assert client.request_count == 1


async def test_close_cancels_a_backoff_wait(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    access_token: str,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    waiting = asyncio.Event()

    async def endless_sleep(_delay: float) -> None:
        waiting.set()
        await asyncio.Future()

    client = await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(access_token),
        endpoints,
        retry=RetryPolicy(sleep=endless_sleep),
        executor=hass.async_add_executor_job,
    )
    calendar_emulator.faults.fail_next(503)
    listing = asyncio.ensure_future(client.list_calendars())
    await waiting.wait()
    client.async_close()
    with pytest.raises(GoogleClientClosedError):
        await listing


async def test_a_cancelled_caller_is_not_a_closed_client(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    hang = calendar_emulator.faults.add(FaultKind.HANG)
    listing = asyncio.ensure_future(client.list_calendars())
    await hang.reached()
    listing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listing
    calendar_emulator.faults.clear()
    assert await client.list_calendars()


@pytest.mark.parametrize(("status", "header"), [(429, "7"), (503, "7"), (429, "7.0")])
async def test_retry_after_is_honoured(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    status: int,
    header: str,
) -> None:
    calendar_emulator.faults.fail_next(status, retry_after=header)
    assert await client.list_calendars()
    assert sleeps.delays == [7.0]


async def test_retry_after_is_capped(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(429, retry_after="86400")
    assert await client.list_calendars()
    assert sleeps.delays == [RETRY_AFTER_MAX] == [60.0]


async def test_retry_after_as_an_http_date(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    calendar_emulator.faults.fail_next(503, retry_after=later)
    assert await client.list_calendars()
    assert len(sleeps.delays) == 1
    assert 0.0 < sleeps.delays[0] <= 30.0


async def test_an_unreadable_retry_after_falls_back_to_backoff(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(429, retry_after="soon")
    assert await client.list_calendars()
    assert sleeps.delays == [1.0]


async def test_rejected_static_token_raises_auth_error_after_one_retry(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    calendar_emulator.expire_access_tokens()
    with pytest.raises(GoogleAuthError) as raised:
        await client.list_calendars()
    assert raised.value.status == 401
    assert client.request_count == 2


async def test_unauthorized_refreshes_once_then_succeeds(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    client, auth = await client_with_expired_token(hass, endpoints, calendar_emulator)
    assert await client.list_calendars()
    assert auth.refreshes == 1
    assert client.request_count == 2


async def test_static_token_auth_never_changes() -> None:
    auth = StaticTokenAuth("fixed")
    assert await auth.async_get_access_token() == "fixed"
    assert await auth.async_get_access_token(force_refresh=True) == "fixed"
