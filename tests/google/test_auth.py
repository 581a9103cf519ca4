"""Service-account credentials: the JWT bearer grant against the emulator's token endpoint."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import json
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.const import OAUTH2_SCOPES
from custom_components.google_calendar_sync.google.auth import (
    REFRESH_MARGIN,
    InvalidServiceAccountKeyError,
    ServiceAccountAuth,
    ServiceAccountKey,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.errors import (
    GoogleAuthError,
    GoogleTransientError,
)
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.faults import FaultKind
from tests.conftest import ACCOUNT, CLUB_CALENDAR, SERVICE_ACCOUNT


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Return a clock at the real time (the emulator checks iat and exp)."""
    return Clock(time.time())


@pytest.fixture
def make_auth(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator, clock: Clock
) -> Any:
    """Return a factory of service account credentials against the emulator."""

    def _make(key: dict[str, Any], subject: str | None = None) -> ServiceAccountAuth:
        return ServiceAccountAuth(
            async_get_clientsession(hass),
            ServiceAccountKey.from_info(key),
            calendar_emulator.token_url,
            scopes=OAUTH2_SCOPES,
            subject=subject,
            clock=clock,
        )

    return _make


def _grants(emulator: GoogleCalendarEmulator) -> list[int]:
    """Return the statuses of the token requests the emulator answered."""
    return [request.status for request in emulator.requests.matching("POST", "/token")]


async def test_token_is_granted_once_and_renewed_before_it_expires(
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    make_auth: Any,
    clock: Clock,
) -> None:
    """One grant serves every call until shortly before the hour is over."""
    calendar_emulator.oauth.clock = lambda: datetime.fromtimestamp(clock.now, UTC)
    auth = make_auth(service_account_key)
    first = await auth.async_get_access_token()
    assert await auth.async_get_access_token() == first
    assert _grants(calendar_emulator) == [200]

    clock.now += 3600 - REFRESH_MARGIN - 1
    assert await auth.async_get_access_token() == first
    clock.now += 2
    second = await auth.async_get_access_token()
    assert second != first
    assert _grants(calendar_emulator) == [200, 200]


async def test_concurrent_callers_share_one_grant(
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    make_auth: Any,
) -> None:
    """Callers that arrive together do not each ask for a token."""
    auth = make_auth(service_account_key)
    tokens = await asyncio.gather(*(auth.async_get_access_token() for _ in range(5)))
    assert len(set(tokens)) == 1
    assert _grants(calendar_emulator) == [200]


async def test_rejected_token_is_replaced_once(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    make_auth: Any,
) -> None:
    """A 401 from the API asks for a new token, and the call succeeds with it."""
    auth = make_auth(service_account_key)
    api = await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        auth,
        GoogleEndpoints.for_base_url(calendar_emulator.base_url),
    )
    entry = await api.add_to_calendar_list(CLUB_CALENDAR)
    assert entry["accessRole"] == "writer"
    calendar_emulator.expire_access_tokens()
    assert [calendar["id"] for calendar in await api.list_calendars()] == [
        CLUB_CALENDAR
    ]
    assert _grants(calendar_emulator) == [200, 200]


async def test_deleted_key_is_refused_for_good(
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    make_auth: Any,
) -> None:
    """Google answers invalid_grant for a deleted key: an auth error, not a retry."""
    calendar_emulator.identities.delete_key(
        SERVICE_ACCOUNT, service_account_key["private_key_id"]
    )
    with pytest.raises(GoogleAuthError) as err:
        await make_auth(service_account_key).async_get_access_token()
    assert (err.value.status, err.value.reason) == (400, "invalid_grant")
    assert err.value.message == "Invalid JWT Signature."


async def test_delegation_depends_on_the_service_account(
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    make_auth: Any,
) -> None:
    """Acting for a user needs domain-wide delegation, and a user that exists."""
    with pytest.raises(GoogleAuthError) as err:
        await make_auth(service_account_key, ACCOUNT).async_get_access_token()
    assert (err.value.status, err.value.reason) == (401, "unauthorized_client")

    delegated = calendar_emulator.create_service_account("admin", delegation=True)
    token = await make_auth(delegated, ACCOUNT).async_get_access_token()
    assert calendar_emulator.oauth.access_tokens[token].email == ACCOUNT
    with pytest.raises(GoogleAuthError, match="Invalid email or User ID"):
        await make_auth(delegated, "nobody@example.com").async_get_access_token()


async def test_token_endpoint_outages_are_transient(
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    make_auth: Any,
) -> None:
    """A 5xx, a lost connection or a non-JSON answer can be retried later."""
    auth = make_auth(service_account_key)
    calendar_emulator.faults.fail_next(503)
    with pytest.raises(GoogleTransientError):
        await auth.async_get_access_token()

    calendar_emulator.faults.add(FaultKind.DROP, path_contains="/token")
    with pytest.raises(GoogleTransientError, match="Token request failed"):
        await auth.async_get_access_token()

    assert await auth.async_get_access_token()


async def test_unreadable_token_answer_is_transient(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """An answer that is not Google's JSON is treated like an outage."""
    auth = ServiceAccountAuth(
        async_get_clientsession(hass),
        ServiceAccountKey.from_info(service_account_key),
        calendar_emulator.base_url,  # answers 405 in plain text
        scopes=OAUTH2_SCOPES,
    )
    with pytest.raises(GoogleTransientError, match="HTTP 405"):
        await auth.async_get_access_token()


@pytest.mark.parametrize(
    "info",
    [
        None,
        [],
        {"type": "authorized_user"},
        {"type": "service_account", "client_email": "a@b", "private_key_id": "x"},
        {
            "type": "service_account",
            "client_email": "a@b",
            "private_key_id": "x",
            "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        },
    ],
)
def test_only_service_account_keys_are_accepted(info: Any) -> None:
    """User credentials, partial keys and broken private keys are refused."""
    with pytest.raises(InvalidServiceAccountKeyError):
        ServiceAccountKey.from_info(info)


def test_key_tells_its_account_and_id(service_account_key: dict[str, Any]) -> None:
    """The key's identity is the service account's email and the key id."""
    key = ServiceAccountKey.from_json(json.dumps(service_account_key))
    assert key.client_email == SERVICE_ACCOUNT
    assert key.key_id == service_account_key["private_key_id"]
