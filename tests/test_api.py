"""Tests for the Google client, driven against the Calendar API emulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import json
import logging
import threading
import time
from typing import Any
from unittest.mock import patch

import aiohttp
from googleapiclient.errors import BatchError, HttpError
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import httplib2
from hypothesis import given, strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.credentials import ConfigEntryAuth
from custom_components.google_calendar_sync.google import api as api_module
from custom_components.google_calendar_sync.google.api import (
    ENV_ENDPOINT,
    RETRY_AFTER_MAX,
    BatchOperation,
    BatchOutcome,
    GoogleAuthError,
    GoogleBadRequestError,
    GoogleCalendarApi,
    GoogleCalendarApiError,
    GoogleClientClosedError,
    GoogleConflictError,
    GoogleEndpoints,
    GoogleForbiddenError,
    GoogleGoneError,
    GoogleNotFoundError,
    GooglePreconditionFailedError,
    GoogleRateLimitError,
    GoogleTransientError,
    RetryPolicy,
    StaticTokenAuth,
    endpoints_from_environment,
    error_from_http_error,
    retry_after,
)
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.faults import FaultKind

USER = "user@example.com"
CLIENT_ID = "test-client-id"
EVENT_BODY = {
    "summary": "Lunch",
    "start": {"dateTime": "2030-01-07T12:00:00Z"},
    "end": {"dateTime": "2030-01-07T13:00:00Z"},
}

# These tests record the backoff delays themselves (a fake sleep).
pytestmark = pytest.mark.real_backoff


class FakeSleep:
    """Record backoff delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def endpoints(calendar_emulator: GoogleCalendarEmulator) -> GoogleEndpoints:
    return GoogleEndpoints.for_base_url(calendar_emulator.base_url)


@pytest.fixture
def access_token(calendar_emulator: GoogleCalendarEmulator) -> str:
    return str(calendar_emulator.issue_tokens(USER, CLIENT_ID)["access_token"])


@pytest.fixture
async def client(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    access_token: str,
    sleeps: FakeSleep,
) -> GoogleCalendarApi:
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(access_token),
        endpoints,
        retry=RetryPolicy(sleep=sleeps, rand=lambda: 1.0),
        executor=hass.async_add_executor_job,
    )


def _event(summary: str, start: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **extra,
    }


START = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _insert_daily(
    emulator: GoogleCalendarEmulator,
    summary: str,
    start: datetime,
    minutes: int,
    count: int,
) -> dict[str, Any]:
    """Insert a daily series of `count` instances into the user's calendar."""
    end = start + timedelta(minutes=minutes)
    return emulator.insert_event(
        USER,
        {
            "summary": summary,
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
            "recurrence": [f"RRULE:FREQ=DAILY;COUNT={count}"],
        },
    )


# Endpoints


def test_endpoints_default_to_google() -> None:
    endpoints = endpoints_from_environment({})
    assert endpoints == GoogleEndpoints()
    assert endpoints.api == "https://www.googleapis.com/calendar/v3/"
    assert endpoints.allow_insecure_webhook is False


@pytest.mark.parametrize("base", ["http://127.0.0.1:8765", "http://127.0.0.1:8765/"])
def test_endpoints_from_environment_select_the_emulator(base: str) -> None:
    endpoints = endpoints_from_environment({ENV_ENDPOINT: base})
    assert endpoints == GoogleEndpoints(
        api="http://127.0.0.1:8765/calendar/v3/",
        batch="http://127.0.0.1:8765/batch/calendar/v3",
        authorize="http://127.0.0.1:8765/o/oauth2/v2/auth",
        token="http://127.0.0.1:8765/token",
        allow_insecure_webhook=True,
    )


def test_endpoints_read_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_ENDPOINT, "http://localhost:1/")
    assert endpoints_from_environment().token == "http://localhost:1/token"
    monkeypatch.setenv(ENV_ENDPOINT, "  ")
    assert endpoints_from_environment() == GoogleEndpoints()


# Creation


async def test_discovery_document_is_built_in_the_executor(
    hass: HomeAssistant, endpoints: GoogleEndpoints, access_token: str
) -> None:
    build_threads: list[int] = []
    real_build = api_module.build

    def recording_build(*args: Any, **kwargs: Any) -> Any:
        build_threads.append(threading.get_ident())
        return real_build(*args, **kwargs)

    with patch.object(api_module, "build", recording_build):
        client = await GoogleCalendarApi.async_create(
            async_get_clientsession(hass),
            StaticTokenAuth(access_token),
            endpoints,
            executor=hass.async_add_executor_job,
        )
    assert build_threads
    assert threading.get_ident() not in build_threads
    # The built requests target the configured endpoint, never Google.
    assert (await client.list_calendars())[0]["id"] == USER


def test_the_client_library_never_sends_on_its_own() -> None:
    service = api_module._build_service("http://127.0.0.1:9/calendar/v3/", None)
    with pytest.raises(RuntimeError, match="aiohttp session"):
        service.calendarList().list().execute()


async def test_default_executor_and_retry_policy(
    endpoints: GoogleEndpoints, access_token: str
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await GoogleCalendarApi.async_create(
            session, StaticTokenAuth(access_token), endpoints
        )
        created = await client.insert_event(USER, _event("Lunch", START))
        assert (await client.get_event(USER, created["id"]))["summary"] == "Lunch"
    assert client.request_count == 2


# Reading


async def test_list_calendars_follows_every_page(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    for number in range(260):
        calendar_emulator.add_calendar(USER, f"Calendar {number}")
    calendars = await client.list_calendars()
    assert len(calendars) == 261
    assert len({calendar["id"] for calendar in calendars}) == 261
    assert client.request_count == 2
    assert calendar_emulator.requests.count("GET", "/calendarList") == 2


async def test_get_calendar_returns_the_calendar_list_entry(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    calendar_id = calendar_emulator.add_calendar(
        USER, "Family", time_zone="Europe/Berlin"
    )
    calendar = await client.get_calendar(calendar_id)
    assert calendar["summary"] == "Family"
    assert calendar["timeZone"] == "Europe/Berlin"
    assert calendar["accessRole"] == "owner"


async def test_get_colors_returns_googles_palette(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    colors = await client.get_colors()
    assert len(colors["calendar"]) == 24
    assert len(colors["event"]) == 11
    assert colors["event"]["11"] == {"background": "#dc2127", "foreground": "#1d1d1d"}
    assert calendar_emulator.requests.count("GET", "/colors") == 1


async def test_list_events_pages_then_syncs_incrementally(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    for hour in range(5):
        calendar_emulator.insert_event(
            USER, _event(f"Event {hour}", START + timedelta(hours=hour))
        )
    seen: list[str] = []
    page_token: str | None = None
    while True:
        page = await client.list_events(USER, page_token=page_token, max_results=2)
        seen.extend(event["summary"] for event in page["items"])
        if not (page_token := page.get("nextPageToken")):
            break
        assert "nextSyncToken" not in page
    assert sorted(seen) == [f"Event {hour}" for hour in range(5)]
    sync_token = page["nextSyncToken"]

    calendar_emulator.insert_event(USER, _event("Later", START + timedelta(days=1)))
    delta = await client.list_events(USER, sync_token=sync_token)
    assert [event["summary"] for event in delta["items"]] == ["Later"]
    query = calendar_emulator.requests.matching("GET", "/events")[-1].query
    assert query["syncToken"] == [sync_token]
    assert query["maxResults"] == ["2500"]


async def test_list_events_sends_time_bounds_and_filters(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    calendar_emulator.insert_event(USER, _event("Early", START - timedelta(days=2)))
    calendar_emulator.insert_event(
        USER,
        _event(
            "Tagged",
            START,
            extendedProperties={"private": {"source": "ha", "kind": "chore"}},
        ),
    )
    calendar_emulator.insert_event(
        USER, _event("Untagged", START + timedelta(minutes=30))
    )
    calendar_emulator.insert_event(USER, _event("Late", START + timedelta(days=2)))

    page = await client.list_events(
        USER,
        time_min=START - timedelta(days=1),
        time_max=datetime(2026, 11, 24, 9),  # noqa: DTZ001 - naive means UTC
        single_events=True,
        show_deleted=False,
        order_by="startTime",
    )
    assert [event["summary"] for event in page["items"]] == ["Tagged", "Untagged"]
    query = calendar_emulator.requests.matching("GET", "/events")[-1].query
    assert query["timeMin"] == ["2026-11-22T09:00:00+00:00"]
    assert query["timeMax"] == ["2026-11-24T09:00:00+00:00"]
    assert query["singleEvents"] == ["true"]
    assert query["orderBy"] == ["startTime"]

    page = await client.list_events(
        USER, private_extended_property=["source=ha", "kind=chore"]
    )
    assert [event["summary"] for event in page["items"]] == ["Tagged"]


async def test_list_instances_expands_a_recurring_event(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    master = _insert_daily(calendar_emulator, "Standup", START, minutes=15, count=5)
    page = await client.list_instances(
        USER,
        master["id"],
        time_min=START,
        time_max=START + timedelta(days=3),
        page_token=None,
    )
    assert len(page["items"]) == 3
    assert {item["recurringEventId"] for item in page["items"]} == {master["id"]}


async def test_list_instances_pages(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    master = _insert_daily(
        calendar_emulator, "Pill", START - timedelta(hours=1), minutes=5, count=300
    )
    first = await client.list_instances(USER, master["id"])
    second = await client.list_instances(
        USER, master["id"], page_token=first["nextPageToken"], show_deleted=True
    )
    assert "nextPageToken" not in second
    instance_ids = {item["id"] for item in first["items"] + second["items"]}
    assert len(instance_ids) == 300


# Writing


async def test_write_round_trip_with_etags(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    created = await client.insert_event(
        USER, _event("Dentist", START), conference_data_version=0
    )
    patched = await client.patch_event(
        USER, created["id"], {"location": "Main St"}, etag=created["etag"]
    )
    assert patched["summary"] == "Dentist"
    assert patched["location"] == "Main St"

    with pytest.raises(GooglePreconditionFailedError) as stale:
        await client.patch_event(
            USER, created["id"], {"summary": "Stale"}, etag=created["etag"]
        )
    assert stale.value.status == 412

    replaced = await client.update_event(
        USER,
        created["id"],
        _event("Dentist (moved)", START + timedelta(hours=2)),
        etag=patched["etag"],
        conference_data_version=1,
    )
    assert "location" not in replaced
    assert calendar_emulator.get_event(USER, created["id"])["summary"] == (
        "Dentist (moved)"
    )

    await client.delete_event(USER, created["id"], etag=replaced["etag"])
    with pytest.raises(GoogleGoneError) as gone:
        await client.delete_event(USER, created["id"])
    assert gone.value.reason == "deleted"


async def test_typed_errors_for_google_answers(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    with pytest.raises(GoogleNotFoundError) as not_found:
        await client.get_event(USER, "doesnotexist")
    assert not_found.value.status == 404

    await client.insert_event(USER, _event("Once", START, id="abcdef12345"))
    with pytest.raises(GoogleConflictError) as conflict:
        await client.insert_event(USER, _event("Twice", START, id="abcdef12345"))
    assert conflict.value.reason == "duplicate"

    with pytest.raises(GoogleBadRequestError):
        await client.insert_event(USER, {"summary": "No start"})

    calendar_emulator.invalidate_sync_tokens(USER)
    with pytest.raises(GoogleGoneError) as gone:
        await client.list_events(USER, sync_token="stale-token")
    assert gone.value.status == 410
    assert gone.value.reason == "fullSyncRequired"


async def test_forbidden_is_not_retried(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    other = calendar_emulator.add_user("other@example.com")
    calendar_emulator.share_calendar(other, USER, "reader")
    with pytest.raises(GoogleForbiddenError) as forbidden:
        await client.insert_event(other, _event("Not mine", START))
    assert forbidden.value.status == 403
    assert client.request_count == 1
    assert sleeps.delays == []


# Retries


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
    created = await client.insert_event(USER, _event("Once", START))
    assert client.request_count == 2
    assert sleeps.delays == [1.0]
    assert [event["id"] for event in calendar_emulator.events(USER)] == [created["id"]]


async def test_timeout_is_transient(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    with (
        patch.object(api_module, "REQUEST_TIMEOUT", aiohttp.ClientTimeout(total=0.05)),
    ):
        calendar_emulator.faults.delay_next(1.0, times=5)
        with pytest.raises(GoogleTransientError) as raised:
            await client.list_calendars()
    assert raised.value.status is None
    assert len(sleeps.delays) == 4


# Google (or a proxy) answering garbage

GARBAGE = [FaultKind.NOT_UTF8, FaultKind.HTML, FaultKind.TRUNCATED, FaultKind.EMPTY]


@pytest.mark.parametrize("kind", GARBAGE)
async def test_a_garbled_answer_is_transient_and_retried(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    kind: FaultKind,
) -> None:
    calendar_emulator.insert_event(USER, _event("Real", START))
    calendar_emulator.faults.add(kind, path_contains="/events")
    page = await client.list_events(USER)
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
        await client.list_events(USER)
    assert raised.value.reason == "invalidResponse"
    assert client.request_count == 5


@pytest.mark.parametrize("kind", [FaultKind.NOT_UTF8, FaultKind.HTML, FaultKind.EMPTY])
async def test_a_garbled_batch_answer_is_retried_whole(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    kind: FaultKind,
) -> None:
    calendar_emulator.faults.add(kind, path_contains="/batch/")
    outcomes = await client.execute_batch(
        [BatchOperation("insert", USER, _event("Eventually", START, id="garbled1"))]
    )
    # The first batch was applied before its answer got lost: the retry conflicts.
    assert outcomes[0].error is None or isinstance(
        outcomes[0].error, GoogleConflictError
    )
    assert sleeps.delays == [1.0]
    assert [event["id"] for event in calendar_emulator.events(USER)] == ["garbled1"]


async def test_a_garbled_batch_part_is_retried_in_a_later_batch(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    kept = calendar_emulator.insert_event(USER, _event("Kept", START))
    calendar_emulator.faults.add(FaultKind.HTML, path_contains="/events/")
    outcomes = await client.execute_batch(
        [BatchOperation("patch", USER, {"summary": "Renamed"}, event_id=kept["id"])]
    )
    assert outcomes[0].error is None
    assert outcomes[0].result is not None
    assert outcomes[0].result["summary"] == "Renamed"
    assert sleeps.delays == [1.0]


async def test_a_batch_logs_no_warning(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await client.execute_batch(
        [BatchOperation("insert", USER, _event(f"Quiet {n}", START)) for n in range(3)]
    )
    assert len(calendar_emulator.events(USER)) == 3
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


# Closing (unload)


async def test_close_cancels_a_request_waiting_for_google(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    hang = calendar_emulator.faults.add(FaultKind.HANG)
    listing = asyncio.ensure_future(client.list_calendars())
    while not hang.hits:
        await asyncio.sleep(0.01)
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
    while not hang.hits:
        await asyncio.sleep(0.01)
    listing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listing
    calendar_emulator.faults.clear()
    assert await client.list_calendars()


# Retry-After


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


async def test_retry_after_of_batch_parts_is_honoured(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(
        429, path_contains="/calendar/v3/calendars/", retry_after="5"
    )
    calendar_emulator.faults.fail_next(
        503, path_contains="/calendar/v3/calendars/", retry_after="3"
    )
    outcomes = await client.execute_batch(
        [BatchOperation("insert", USER, _event(f"Slow {n}", START)) for n in range(3)]
    )
    assert [outcome.error for outcome in outcomes] == [None, None, None]
    assert sleeps.delays == [5.0]


@given(st.one_of(st.none(), st.text()))
def test_retry_after_is_never_negative_nor_above_the_cap(value: str | None) -> None:
    seconds = retry_after(value)
    assert seconds is None or 0.0 <= seconds <= RETRY_AFTER_MAX


# Authentication


async def test_rejected_static_token_raises_auth_error_after_one_retry(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    calendar_emulator.expire_access_tokens()
    with pytest.raises(GoogleAuthError) as raised:
        await client.list_calendars()
    assert raised.value.status == 401
    assert client.request_count == 2


class RotatingAuth:
    """Hand out a stale token until asked to refresh."""

    def __init__(self, stale: str, fresh: str) -> None:
        self.token = stale
        self.fresh = fresh
        self.refreshes = 0

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
            self.token = self.fresh
        return self.token


async def _client_with_expired_token(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    emulator: GoogleCalendarEmulator,
) -> tuple[GoogleCalendarApi, RotatingAuth]:
    """Return a client whose token has expired; a refresh yields a valid one."""
    stale = emulator.issue_tokens(USER)["access_token"]
    emulator.expire_access_tokens()
    auth = RotatingAuth(stale, emulator.issue_tokens(USER)["access_token"])
    client = await GoogleCalendarApi.async_create(
        async_get_clientsession(hass), auth, endpoints
    )
    return client, auth


async def test_unauthorized_refreshes_once_then_succeeds(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    client, auth = await _client_with_expired_token(hass, endpoints, calendar_emulator)
    assert await client.list_calendars()
    assert auth.refreshes == 1
    assert client.request_count == 2


# ConfigEntryAuth: Home Assistant's OAuth2Session refreshes the token


@pytest.fixture
async def oauth_session(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    endpoints: GoogleEndpoints,
) -> config_entry_oauth2_flow.OAuth2Session:
    tokens = calendar_emulator.issue_tokens(USER, CLIENT_ID)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=USER,
        data={
            "auth_implementation": DOMAIN,
            "token": {**tokens, "expires_at": time.time() + 3600},
        },
    )
    entry.add_to_hass(hass)
    implementation = config_entry_oauth2_flow.LocalOAuth2Implementation(
        hass, DOMAIN, CLIENT_ID, "secret", endpoints.authorize, endpoints.token
    )
    return config_entry_oauth2_flow.OAuth2Session(hass, entry, implementation)


@pytest.fixture
async def entry_client(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    sleeps: FakeSleep,
) -> GoogleCalendarApi:
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        ConfigEntryAuth(oauth_session),
        endpoints,
        retry=RetryPolicy(sleep=sleeps, rand=lambda: 1.0),
        executor=hass.async_add_executor_job,
    )


async def test_config_entry_auth_refreshes_through_home_assistant_on_401(
    entry_client: GoogleCalendarApi,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    old_token = oauth_session.token["access_token"]
    calendar_emulator.expire_access_tokens()
    assert await entry_client.list_calendars()
    # The new token is stored on the config entry, where Home Assistant keeps it.
    new_token = oauth_session.config_entry.data["token"]["access_token"]
    assert new_token != old_token
    assert calendar_emulator.requests.count("POST", "/token") == 1
    assert entry_client.request_count == 2


async def test_config_entry_auth_refreshes_an_expired_token_before_the_call(
    hass: HomeAssistant,
    entry_client: GoogleCalendarApi,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    entry = oauth_session.config_entry
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )
    calendar_emulator.expire_access_tokens()
    assert await entry_client.list_calendars()
    assert entry_client.request_count == 1
    assert calendar_emulator.requests.count("POST", "/token") == 1


async def test_config_entry_auth_revoked_refresh_token_is_an_auth_error(
    entry_client: GoogleCalendarApi,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    calendar_emulator.revoke_refresh_token(oauth_session.token["refresh_token"])
    calendar_emulator.expire_access_tokens()
    with pytest.raises(GoogleAuthError) as raised:
        await entry_client.list_calendars()
    assert raised.value.reason == "invalid_grant"
    assert raised.value.status == 400


async def test_config_entry_auth_refresh_outage_is_transient(
    hass: HomeAssistant,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    auth = ConfigEntryAuth(oauth_session)
    calendar_emulator.faults.fail_next(503, path_contains="/token")
    with pytest.raises(GoogleTransientError):
        await auth.async_get_access_token(force_refresh=True)
    calendar_emulator.faults.drop_next(path_contains="/token")
    with pytest.raises(GoogleTransientError):
        await auth.async_get_access_token(force_refresh=True)
    assert await auth.async_get_access_token(force_refresh=True)


async def test_config_entry_auth_concurrent_refreshes_share_one_token_request(
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    auth = ConfigEntryAuth(oauth_session)
    first, second = await asyncio.gather(
        auth.async_get_access_token(force_refresh=True),
        auth.async_get_access_token(force_refresh=True),
    )
    assert first == second
    assert calendar_emulator.requests.count("POST", "/token") == 1


class _NoTokenImplementation(config_entry_oauth2_flow.LocalOAuth2Implementation):
    async def async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        return {"expires_in": 3600}


class _FailingImplementation(config_entry_oauth2_flow.LocalOAuth2Implementation):
    def __init__(self, hass: HomeAssistant, error: Exception) -> None:
        super().__init__(hass, DOMAIN, CLIENT_ID, "secret", "http://a", "http://t")
        self.error = error

    async def async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        raise self.error


async def test_config_entry_auth_refresh_without_access_token_is_transient(
    hass: HomeAssistant,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
) -> None:
    session = config_entry_oauth2_flow.OAuth2Session(
        hass,
        oauth_session.config_entry,
        _NoTokenImplementation(
            hass, DOMAIN, CLIENT_ID, "secret", "http://a", "http://t"
        ),
    )
    with pytest.raises(GoogleTransientError):
        await ConfigEntryAuth(session).async_get_access_token(force_refresh=True)


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, GoogleAuthError), (400, GoogleAuthError), (502, GoogleTransientError)],
)
async def test_config_entry_auth_maps_raw_client_response_errors(
    hass: HomeAssistant,
    oauth_session: config_entry_oauth2_flow.OAuth2Session,
    status: int,
    error: type[GoogleCalendarApiError],
) -> None:
    request_info = aiohttp.RequestInfo(
        URL("http://t"), "POST", CIMultiDictProxy(CIMultiDict()), URL("http://t")
    )
    raw = aiohttp.ClientResponseError(request_info, (), status=status)
    session = config_entry_oauth2_flow.OAuth2Session(
        hass, oauth_session.config_entry, _FailingImplementation(hass, raw)
    )
    with pytest.raises(error):
        await ConfigEntryAuth(session).async_get_access_token(force_refresh=True)


# Push channels


async def test_watch_and_stop_a_channel(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    channel = await client.watch_events(
        USER,
        channel_id="channel-1",
        address="http://127.0.0.1:9/api/webhook/abc",
        token="secret-token",
        ttl=timedelta(hours=1),
    )
    assert channel["id"] == "channel-1"
    assert channel["resourceId"]
    assert int(channel["expiration"]) > time.time() * 1000
    assert "channel-1" in calendar_emulator.channels

    await client.stop_channel("channel-1", channel["resourceId"])
    assert calendar_emulator.channels["channel-1"].stopped


# Batch


async def test_batch_of_120_inserts_takes_three_batch_requests(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    operations = [
        BatchOperation(
            "insert", USER, _event(f"Item {number}", START + timedelta(hours=number))
        )
        for number in range(120)
    ]
    outcomes = await client.execute_batch(operations)
    assert [outcome.operation for outcome in outcomes] == operations
    assert all(outcome.error is None for outcome in outcomes)
    assert [outcome.result["summary"] for outcome in outcomes if outcome.result] == [
        f"Item {number}" for number in range(120)
    ]
    assert client.request_count == 3
    batch_requests = [
        entry
        for entry in calendar_emulator.requests.matching("POST", "/batch/calendar/v3")
        if not entry.batch_part
    ]
    assert len(batch_requests) == 3
    assert len(calendar_emulator.events(USER)) == 120


async def test_batch_surfaces_per_part_failures(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    kept = calendar_emulator.insert_event(USER, _event("Kept", START))
    doomed = calendar_emulator.insert_event(USER, _event("Doomed", START))
    calendar_emulator.insert_event(USER, _event("Exists", START, id="dupe12345"))
    operations = [
        BatchOperation("insert", USER, _event("Duplicate", START, id="dupe12345")),
        BatchOperation("patch", USER, {"summary": "Renamed"}, event_id=kept["id"]),
        BatchOperation(
            "update",
            USER,
            _event("Replaced", START),
            event_id=kept["id"],
            etag='"stale"',
        ),
        BatchOperation("delete", USER, event_id=doomed["id"], etag=doomed["etag"]),
        BatchOperation("delete", USER, event_id="missing1"),
    ]
    outcomes = await client.execute_batch(operations)
    assert isinstance(outcomes[0].error, GoogleConflictError)
    assert outcomes[1].error is None
    assert outcomes[1].result is not None
    assert outcomes[1].result["summary"] == "Renamed"
    assert isinstance(outcomes[2].error, GooglePreconditionFailedError)
    assert outcomes[3] == BatchOutcome(operations[3], None, None)
    assert isinstance(outcomes[4].error, GoogleNotFoundError)
    assert client.request_count == 1


async def test_batch_retries_rate_limited_parts_in_a_later_batch(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    # Parts are addressed under /calendar/v3/calendars/, the outer request is not.
    calendar_emulator.faults.fail_next(
        403,
        reason="rateLimitExceeded",
        times=2,
        path_contains="/calendar/v3/calendars/",
    )
    operations = [
        BatchOperation("insert", USER, _event(f"Item {number}", START))
        for number in range(4)
    ]
    outcomes = await client.execute_batch(operations)
    assert all(outcome.error is None for outcome in outcomes)
    assert len(calendar_emulator.events(USER)) == 4
    assert client.request_count == 2
    assert sleeps.delays == [1.0]


async def test_batch_gives_up_on_parts_that_stay_rate_limited(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(
        429, times=100, path_contains="/calendar/v3/calendars/"
    )
    outcomes = await client.execute_batch(
        [BatchOperation("insert", USER, _event("Never", START))]
    )
    assert isinstance(outcomes[0].error, GoogleRateLimitError)
    assert client.request_count == 5
    assert sleeps.delays == [1.0, 2.0, 4.0, 8.0]


async def test_batch_request_failure_is_retried_whole(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(503, path_contains="/batch/")
    calendar_emulator.faults.drop_next(path_contains="/batch/")
    outcomes = await client.execute_batch(
        [BatchOperation("insert", USER, _event("Eventually", START))]
    )
    assert outcomes[0].error is None
    assert client.request_count == 3
    assert sleeps.delays == [1.0, 2.0]


async def test_batch_parts_rejected_with_401_are_refreshed_and_resent(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    client, auth = await _client_with_expired_token(hass, endpoints, calendar_emulator)
    outcomes = await client.execute_batch(
        [BatchOperation("insert", USER, _event("Authorized", START))]
    )
    assert outcomes[0].error is None
    assert auth.refreshes == 1
    # The client library resends only the rejected parts, in a second batch.
    assert client.request_count == 2


# Error mapping


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


async def test_static_token_auth_never_changes() -> None:
    auth = StaticTokenAuth("fixed")
    assert await auth.async_get_access_token() == "fixed"
    assert await auth.async_get_access_token(force_refresh=True) == "fixed"


# --- API keys: public calendars without a user -----------------------------------------


@pytest.fixture
async def key_client(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    endpoints: GoogleEndpoints,
) -> GoogleCalendarApi:
    """Return a client that reaches Google with an API key only."""
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        None,
        endpoints,
        api_key=calendar_emulator.create_api_key(),
        retry=RetryPolicy(sleep=FakeSleep()),
    )


async def test_api_key_reads_public_calendars_incrementally(
    key_client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """calendars.get and events.list work with a key; sync tokens too."""
    public = calendar_emulator.add_calendar(USER, "Matches")
    calendar_emulator.set_public(public)
    calendar_emulator.insert_event(public, EVENT_BODY)
    assert (await key_client.get_calendar_resource(public))["summary"] == "Matches"
    page = await key_client.list_events(public)
    assert [event["summary"] for event in page["items"]] == ["Lunch"]
    calendar_emulator.insert_event(public, {**EVENT_BODY, "summary": "Final"})
    page = await key_client.list_events(public, sync_token=page["nextSyncToken"])
    assert [event["summary"] for event in page["items"]] == ["Final"]
    [request] = calendar_emulator.requests.matching("GET", "/calendars/")[-1:]
    assert "key" in request.query


async def test_api_key_errors_are_googles(
    hass: HomeAssistant,
    key_client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    endpoints: GoogleEndpoints,
) -> None:
    """Private calendars, writes, invalid and restricted keys fail as in Google."""
    private = calendar_emulator.add_calendar(USER, "Private")
    with pytest.raises(GoogleNotFoundError):
        await key_client.get_calendar_resource(private)
    calendar_emulator.set_public(private)
    with pytest.raises(GoogleAuthError) as err:
        await key_client.insert_event(private, EVENT_BODY)
    assert err.value.reason == "required"
    [outcome] = await key_client.execute_batch(
        [BatchOperation("insert", private, EVENT_BODY)]
    )
    assert isinstance(outcome.error, GoogleAuthError)
    with pytest.raises(GoogleAuthError):
        await key_client.list_calendars()
    calendar_emulator.set_public(private, public=False)
    with pytest.raises(GoogleNotFoundError):
        await key_client.list_events(private)

    for api_key, error in (
        ("AIzaUnknown", GoogleBadRequestError),
        (calendar_emulator.create_api_key(restricted=True), GoogleForbiddenError),
    ):
        client = await GoogleCalendarApi.async_create(
            async_get_clientsession(hass), None, endpoints, api_key=api_key
        )
        with pytest.raises(error):
            await client.get_calendar_resource(USER)
