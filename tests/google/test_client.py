"""Tests of GoogleCalendarApi's calls, driven against the Calendar API emulator."""

from __future__ import annotations

from datetime import datetime, timedelta
import threading
import time
from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.google import client as client_module
from custom_components.google_calendar_sync.google.batch import BatchOperation
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.errors import (
    GoogleAuthError,
    GoogleBadRequestError,
    GoogleForbiddenError,
    GoogleGoneError,
    GoogleNotFoundError,
    GooglePreconditionFailedError,
)
from custom_components.google_calendar_sync.google.transport import (
    RetryPolicy,
    StaticTokenAuth,
)
from google_calendar_emulator import GoogleCalendarEmulator
from tests.common import FakeSleep
from tests.conftest import ACCOUNT

from .conftest import EVENT_BODY, START, timed_event


async def test_discovery_document_is_built_in_the_executor(
    hass: HomeAssistant, endpoints: GoogleEndpoints, access_token: str
) -> None:
    build_threads: list[int] = []
    services: list[Any] = []
    real_build = client_module.build

    def recording_build(*args: Any, **kwargs: Any) -> Any:
        build_threads.append(threading.get_ident())
        services.append(real_build(*args, **kwargs))
        return services[-1]

    with patch.object(client_module, "build", recording_build):
        client = await GoogleCalendarApi.async_create(
            async_get_clientsession(hass),
            StaticTokenAuth(access_token),
            endpoints,
            executor=hass.async_add_executor_job,
        )
    assert build_threads
    assert threading.get_ident() not in build_threads
    # The built requests target the configured endpoint, never Google.
    assert (await client.list_calendars())[0]["id"] == ACCOUNT
    # Only our aiohttp session sends them; the client library never does.
    with pytest.raises(RuntimeError, match="aiohttp session"):
        services[0].calendarList().list().execute()


async def test_default_executor_and_retry_policy(
    endpoints: GoogleEndpoints, access_token: str
) -> None:
    async with aiohttp.ClientSession() as session:
        client = await GoogleCalendarApi.async_create(
            session, StaticTokenAuth(access_token), endpoints
        )
        created = await client.insert_event(ACCOUNT, timed_event("Lunch", START))
        assert (await client.get_event(ACCOUNT, created["id"]))["summary"] == "Lunch"
    assert client.request_count == 2


async def test_list_calendars_follows_every_page(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    for number in range(260):
        calendar_emulator.add_calendar(ACCOUNT, f"Calendar {number}")
    calendars = await client.list_calendars()
    assert len(calendars) == 261
    assert len({calendar["id"] for calendar in calendars}) == 261
    assert client.request_count == 2
    assert calendar_emulator.requests.count("GET", "/calendarList") == 2


async def test_get_calendar_returns_the_calendar_list_entry(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    calendar_id = calendar_emulator.add_calendar(
        ACCOUNT, "Family", time_zone="Europe/Berlin"
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
            ACCOUNT, timed_event(f"Event {hour}", START + timedelta(hours=hour))
        )
    seen: list[str] = []
    page_token: str | None = None
    while True:
        page = await client.list_events(ACCOUNT, page_token=page_token, max_results=2)
        seen.extend(event["summary"] for event in page["items"])
        if not (page_token := page.get("nextPageToken")):
            break
        assert "nextSyncToken" not in page
    assert sorted(seen) == [f"Event {hour}" for hour in range(5)]
    sync_token = page["nextSyncToken"]

    calendar_emulator.insert_event(
        ACCOUNT, timed_event("Later", START + timedelta(days=1))
    )
    delta = await client.list_events(ACCOUNT, sync_token=sync_token)
    assert [event["summary"] for event in delta["items"]] == ["Later"]
    query = calendar_emulator.requests.matching("GET", "/events")[-1].query
    assert query["syncToken"] == [sync_token]
    assert query["maxResults"] == ["2500"]


async def test_answers_orjson_refuses_parse_as_before(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """Answers parse with orjson; one it refuses goes to the library's parser.

    Google may escape half of a surrogate pair alone: Python's json reads it.
    """
    calendar_emulator.insert_event(ACCOUNT, timed_event("Plain", START))
    plain = await client.list_events(ACCOUNT)
    calendar_emulator.insert_event(ACCOUNT, timed_event("Half \ud83d", START))
    both = await client.list_events(ACCOUNT, sync_token=plain["nextSyncToken"])

    assert [event["summary"] for event in plain["items"]] == ["Plain"]
    assert [event["summary"] for event in both["items"]] == ["Half \ud83d"]


async def test_list_events_sends_time_bounds_and_filters(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    calendar_emulator.insert_event(
        ACCOUNT, timed_event("Early", START - timedelta(days=2))
    )
    calendar_emulator.insert_event(
        ACCOUNT,
        timed_event(
            "Tagged",
            START,
            extendedProperties={"private": {"source": "ha", "kind": "chore"}},
        ),
    )
    calendar_emulator.insert_event(
        ACCOUNT, timed_event("Untagged", START + timedelta(minutes=30))
    )
    calendar_emulator.insert_event(
        ACCOUNT, timed_event("Late", START + timedelta(days=2))
    )

    page = await client.list_events(
        ACCOUNT,
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
        ACCOUNT, private_extended_property=["source=ha", "kind=chore"]
    )
    assert [event["summary"] for event in page["items"]] == ["Tagged"]


async def test_write_round_trip_with_etags(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    created = await client.insert_event(
        ACCOUNT, timed_event("Dentist", START), conference_data_version=0
    )
    patched = await client.patch_event(
        ACCOUNT, created["id"], {"location": "Main St"}, etag=created["etag"]
    )
    assert patched["summary"] == "Dentist"
    assert patched["location"] == "Main St"

    with pytest.raises(GooglePreconditionFailedError) as stale:
        await client.patch_event(
            ACCOUNT, created["id"], {"summary": "Stale"}, etag=created["etag"]
        )
    assert stale.value.status == 412

    # conferenceDataVersion goes with a write that asks for it.
    await client.patch_event(
        ACCOUNT,
        created["id"],
        {"summary": "Dentist (moved)"},
        etag=patched["etag"],
        conference_data_version=1,
    )
    replaced = calendar_emulator.get_event(ACCOUNT, created["id"])
    assert replaced["summary"] == "Dentist (moved)"
    query = calendar_emulator.requests.matching("PATCH", created["id"])[-1].query
    assert query["conferenceDataVersion"] == ["1"]

    await client.delete_event(ACCOUNT, created["id"], etag=replaced["etag"])
    with pytest.raises(GoogleGoneError) as gone:
        await client.delete_event(ACCOUNT, created["id"])
    assert gone.value.reason == "deleted"


async def test_watch_and_stop_a_channel(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    channel = await client.watch_events(
        ACCOUNT,
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
    public = calendar_emulator.add_calendar(ACCOUNT, "Matches")
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
    private = calendar_emulator.add_calendar(ACCOUNT, "Private")
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
            await client.get_calendar_resource(ACCOUNT)
