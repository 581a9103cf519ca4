"""Entries of each kind reach Google their own way; a service account works like a user."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
import time
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from multidict import CIMultiDict, CIMultiDictProxy
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from yarl import URL

from custom_components.google_calendar_sync.const import (
    CONF_PUSH_ENABLED,
    DOMAIN,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.credentials import ConfigEntryAuth
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.errors import (
    GoogleAuthError,
    GoogleCalendarApiError,
    GoogleTransientError,
)
from custom_components.google_calendar_sync.google.transport import RetryPolicy
from google_calendar_emulator import GoogleCalendarEmulator

from .common import FakeSleep
from .conftest import ACCOUNT, CLIENT_ID, CLUB_CALENDAR, SERVICE_ACCOUNT


def _event(summary: str) -> dict[str, Any]:
    """Return a timed event body for tomorrow."""
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


@pytest.fixture
def entry_options(entry_options: dict[str, Any]) -> dict[str, Any]:
    """Turn push on for the entries of this module."""
    return {**entry_options, CONF_PUSH_ENABLED: True}


@pytest.fixture
async def http_views(hass: HomeAssistant, setup_credentials: None) -> None:
    """Set up what registers HTTP views: the router freezes once the server runs."""
    assert await async_setup_component(hass, "calendar", {})


@pytest.fixture
async def sa_integration(
    http_views: None, hass_url: str, setup_service_account: MockConfigEntry
) -> MockConfigEntry:
    """Return the service account entry, set up with push once webhooks are served."""
    return setup_service_account


async def test_service_account_entry_syncs_by_push_and_writes(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    sa_integration: MockConfigEntry,
    calendar_entity_id: Callable[..., str],
) -> None:
    """Push, incremental sync and writes work as for a user's entry."""
    coordinator = sa_integration.runtime_data.coordinators[CLUB_CALENDAR]
    assert coordinator.writable
    await calendar_emulator.notifications_idle()
    await hass.async_block_till_done()
    assert coordinator.push_active
    [channel] = calendar_emulator.channels.values()
    assert channel.calendar_id == CLUB_CALENDAR

    events = async_capture_events(hass, EVENT_CHANGED)
    created = calendar_emulator.insert_event(CLUB_CALENDAR, _event("Club night"))
    await calendar_emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [(e.data["event_id"], e.data["change"]) for e in events] == [
        (created["id"], "created")
    ]
    assert coordinator.snapshot.sync_token is not None

    entity_id = calendar_entity_id(CLUB_CALENDAR, SERVICE_ACCOUNT)
    await hass.services.async_call(
        DOMAIN,
        "create_event",
        {
            "entity_id": entity_id,
            "summary": "Committee",
            "start_date_time": "2030-01-07 09:00:00",
            "duration": {"minutes": 60},
        },
        blocking=True,
        return_response=True,
    )
    assert {event["summary"] for event in calendar_emulator.events(CLUB_CALENDAR)} == {
        "Club night",
        "Committee",
    }
    # Every API call carried a service account token from the JWT bearer grant.
    assert {
        token.client_id for token in calendar_emulator.oauth.access_tokens.values()
    } == {SERVICE_ACCOUNT}


async def test_service_account_entry_exports_appointments(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    sa_integration: MockConfigEntry,
    calendar_entity_id: Callable[..., str],
) -> None:
    """export_appointments writes into a calendar shared with the service account."""
    entity_id = calendar_entity_id(CLUB_CALENDAR, SERVICE_ACCOUNT)
    appointments = [
        {
            "uid": "a1",
            "summary": "Training",
            "start": "2030-01-07 18:00:00",
            "end": "2030-01-07 19:30:00",
        },
        {
            "uid": "a2",
            "summary": "Tournament",
            "start": "2030-02-01",
            "end": "2030-02-02",
        },
    ]

    async def export() -> dict[str, Any]:
        response = await hass.services.async_call(
            DOMAIN,
            "export_appointments",
            {"entity_id": entity_id, "appointments": appointments},
            blocking=True,
            return_response=True,
        )
        assert response is not None
        result: dict[str, Any] = response[entity_id]  # type: ignore[assignment]
        return result

    first = await export()
    again = await export()

    assert (first["created"], first["failed"]) == (2, 0)
    assert (again["created"], again["unchanged"]) == (0, 2)
    assert sorted(e["summary"] for e in calendar_emulator.events(CLUB_CALENDAR)) == [
        "Tournament",
        "Training",
    ]
    coordinator = sa_integration.runtime_data.coordinators[CLUB_CALENDAR]
    assert {e["summary"] for e in coordinator.snapshot.events.values()} == {
        "Tournament",
        "Training",
    }
    assert {
        token.client_id for token in calendar_emulator.oauth.access_tokens.values()
    } == {SERVICE_ACCOUNT}


async def test_deleted_key_starts_reauth(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    emulator_endpoint: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    sa_entry: MockConfigEntry,
) -> None:
    """Google refusing the key asks the user for a new one."""
    calendar_emulator.identities.delete_key(
        SERVICE_ACCOUNT, service_account_key["private_key_id"]
    )
    sa_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(sa_entry.entry_id)
    await hass.async_block_till_done()
    assert sa_entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["step_id"] == "reauth_service_account"


async def test_key_deleted_while_running_starts_reauth(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    sa_integration: MockConfigEntry,
    calendar_entity_id: Callable[..., str],
) -> None:
    """A sync after the key and the service account were deleted asks for a key."""
    calendar_emulator.identities.delete_service_account(SERVICE_ACCOUNT)
    assert await async_setup_component(hass, "homeassistant", {})
    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": calendar_entity_id(CLUB_CALENDAR, SERVICE_ACCOUNT)},
    )
    await hass.async_block_till_done()
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH


# ConfigEntryAuth: Home Assistant's OAuth2Session refreshes the token


@pytest.fixture
async def oauth_session(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    endpoints: GoogleEndpoints,
) -> config_entry_oauth2_flow.OAuth2Session:
    tokens = calendar_emulator.issue_tokens(ACCOUNT, CLIENT_ID)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ACCOUNT,
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
