"""Run Home Assistant in-process with our integration or the built-in google one.

Both talk to the same emulator over loopback HTTP. Time is simulated: `probe_poll`
fires Home Assistant's timers as if the clock had moved on, in steps, and watches
what the integration then asks the emulator and shows through calendar.get_events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import timedelta
import os
import tempfile
import time
from typing import Any, cast
from unittest.mock import patch

from aiohttp.test_utils import TestServer
import gcal_sync.auth
from homeassistant import loader
from homeassistant.components.application_credentials import (
    AuthorizationServer,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.components.google import (
    application_credentials as google_credentials,
)
from homeassistant.components.google.coordinator import CalendarSyncUpdateCoordinator
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, frame
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from bench._common import ACCOUNT, TrafficMeter
from bench._remote import RemoteEmulator
import custom_components  # noqa: F401  (lets the loader find the integration)
from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    DOMAIN,
)
from custom_components.google_calendar_sync.google.endpoints import ENV_ENDPOINT
from google_calendar_emulator import GoogleCalendarEmulator
from tests.common import free_port, linked_entry

# In this process (traffic and notifications observable) or in a child process.
type Emulator = GoogleCalendarEmulator | RemoteEmulator

GOOGLE = "google"
WEBHOOK_ID = "benchpoll0123456789abcdef0123456"
PROBE_START = "2030-01-07T09:00:00Z"
PROBE_RANGE = ("2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z")


def probe_body(summary: str) -> dict[str, Any]:
    """Return the body of the event the probes edit."""
    return {
        "summary": summary,
        "start": {"dateTime": PROBE_START},
        "end": {"dateTime": "2030-01-07T10:00:00Z"},
    }


@dataclass(slots=True)
class Harness:
    """A running Home Assistant with one config entry against the emulator."""

    hass: HomeAssistant
    emulator: Emulator
    entry: MockConfigEntry
    entity_id: str

    async def visible_summaries(self) -> list[str]:
        """Return what calendar.get_events shows on the probe's day."""
        response = await self.hass.services.async_call(
            "calendar",
            "get_events",
            {
                "entity_id": self.entity_id,
                "start_date_time": PROBE_RANGE[0],
                "end_date_time": PROBE_RANGE[1],
            },
            blocking=True,
            return_response=True,
        )
        assert response is not None
        found = cast("dict[str, list[dict[str, Any]]]", response[self.entity_id])
        return [event["summary"] for event in found["events"]]


@contextlib.asynccontextmanager
async def _home_assistant() -> AsyncIterator[HomeAssistant]:
    """Run a test Home Assistant in a temporary config directory."""
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            # A previous instance in this process may have reset the frame helper.
            frame.async_setup(hass)
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            # http binds its port during setup: a free loopback one, never 8123, which
            # a running Home Assistant may hold.
            http = {"server_host": ["127.0.0.1"], "server_port": free_port()}
            assert await async_setup_component(hass, "http", {"http": http})
            for component in (
                "application_credentials",
                "calendar",
                "file_upload",
                "webhook",
            ):
                assert await async_setup_component(hass, component, {})
            try:
                yield hass
            finally:
                await hass.async_block_till_done(wait_background_tasks=True)
                await hass.async_stop(force=True)


def _calendar_entity(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """Return the calendar entity of entry whose unique id ends in key."""
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        if entity.domain == "calendar" and entity.unique_id.endswith(key):
            return entity.entity_id
    raise LookupError(key)


@contextlib.asynccontextmanager
async def ours(emulator: Emulator, *, push: bool) -> AsyncIterator[Harness]:
    """Set our integration up; with push, Home Assistant serves the webhook."""
    os.environ[ENV_ENDPOINT] = emulator.base_url
    async with _home_assistant() as hass:
        await async_import_client_credential(
            hass, DOMAIN, ClientCredential("bench-client", "bench-secret"), DOMAIN
        )
        server: TestServer | None = None
        if push:
            # The router freezes once the server runs: views are set up before.
            server = TestServer(hass.http.app, host="127.0.0.1")
            await server.start_server()
            await hass.config.async_update(
                internal_url=str(server.make_url("/")).rstrip("/")
            )
        entry = linked_entry(
            ACCOUNT,
            emulator.issue_tokens(ACCOUNT, "bench-client"),
            webhook_id=WEBHOOK_ID,
            options={CONF_CALENDARS: [ACCOUNT], CONF_PUSH_ENABLED: push},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        if push:
            assert entry.runtime_data.push is not None
            assert entry.runtime_data.push.active
        try:
            yield Harness(hass, emulator, entry, _calendar_entity(hass, entry, ACCOUNT))
        finally:
            unloaded = await hass.config_entries.async_unload(entry.entry_id)
            if server is not None:
                await server.close()
            assert unloaded, "the integration did not unload"


@contextlib.asynccontextmanager
async def builtin_google(emulator: Emulator) -> AsyncIterator[Harness]:
    """Set Home Assistant's own google integration up against the emulator.

    gcal_sync reads its API host from gcal_sync.auth.API_BASE_URL and the integration
    its token URL from its application_credentials: both point at the emulator. The
    stored token has expired, so setup really refreshes it at the emulator.
    """
    saved = (gcal_sync.auth.API_BASE_URL, google_credentials.AUTHORIZATION_SERVER)
    gcal_sync.auth.API_BASE_URL = emulator.api_endpoint.rstrip("/")
    google_credentials.AUTHORIZATION_SERVER = AuthorizationServer(
        emulator.authorize_url, emulator.token_url
    )
    try:
        async with _home_assistant() as hass:
            await async_import_client_credential(
                hass,
                GOOGLE,
                ClientCredential("bench-google", "bench-secret"),
                GOOGLE,
            )
            token = emulator.issue_tokens(ACCOUNT, "bench-google")
            entry = MockConfigEntry(
                domain=GOOGLE,
                title=ACCOUNT,
                unique_id=ACCOUNT,
                data={
                    "auth_implementation": GOOGLE,
                    "token": {**token, "expires_at": time.time() - 60},
                },
                options={"calendar_access": "read_write"},
            )
            entry.add_to_hass(hass)
            if isinstance(emulator, RemoteEmulator):
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
            else:
                meter = TrafficMeter(emulator)
                token_grants = len(emulator.requests.matching("POST", "/token"))
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                assert len(emulator.requests.matching("POST", "/token")) > token_grants
                assert meter.read().requests > 0, "the integration never called"
            try:
                yield Harness(
                    hass, emulator, entry, _calendar_entity(hass, entry, ACCOUNT)
                )
            finally:
                await hass.config_entries.async_unload(entry.entry_id)
    finally:
        gcal_sync.auth.API_BASE_URL, google_credentials.AUTHORIZATION_SERVER = saved


def google_poll_interval(harness: Harness) -> timedelta | None:
    """Return the update interval the built-in integration configured."""
    for coordinator in _google_coordinators(harness):
        return coordinator.update_interval
    return None


def _google_coordinators(harness: Harness) -> list[CalendarSyncUpdateCoordinator]:
    """Return the built-in integration's sync coordinators (through its entities)."""
    component = harness.hass.data["entity_components"]["calendar"]
    return [
        entity.coordinator
        for entity in component.entities
        if isinstance(
            getattr(entity, "coordinator", None), CalendarSyncUpdateCoordinator
        )
    ]


@dataclass(frozen=True, slots=True)
class PollProbe:
    """What simulated time showed: when the first request came, what it cost."""

    seconds: float | None  # simulated seconds until the condition held (None: never)
    requests: int  # Calendar API requests up to and including that step
    response_bytes: int
    paths: tuple[str, ...]


async def probe_poll(
    harness: Harness,
    *,
    step: timedelta,
    limit: timedelta,
    done: Callable[[TrafficMeter], Awaitable[bool]],
) -> PollProbe:
    """Fire timers as if time advanced step by step until done(meter) is true.

    Timers only run once they are due, so the first step at which done holds
    measures the interval to that step's resolution. Stepping stops there: a
    timer rescheduled from the real clock would otherwise fire again at once.
    """
    hass, emulator = harness.hass, harness.emulator
    assert isinstance(emulator, GoogleCalendarEmulator)
    await hass.async_block_till_done(wait_background_tasks=True)
    meter = TrafficMeter(emulator)
    base = dt_util.utcnow()
    offset = step
    while offset <= limit:
        # Code that checks the clock itself (channel expiry) sees the simulated time.
        with patch.object(dt_util, "utcnow", return_value=base + offset):
            async_fire_time_changed(hass, base + offset)
            await hass.async_block_till_done(wait_background_tasks=True)
            await emulator.notifications_idle()
        if await done(meter):
            traffic = meter.read()
            return PollProbe(
                offset.total_seconds(),
                traffic.requests,
                traffic.response_bytes,
                tuple(meter.paths()),
            )
        offset += step
    traffic = meter.read()
    return PollProbe(None, traffic.requests, traffic.response_bytes, ())
