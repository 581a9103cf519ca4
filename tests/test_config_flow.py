"""Config flow: the ways-in menu, Google sign-in against the emulator, calendar choice,
reauth and reconfigure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import contextlib
from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_FREE_EVENTS_BUSY,
    CONF_PUSH_ENABLED,
    CONF_SHOW_DECLINED,
    CONF_SYNC_WINDOW_DAYS,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import (
    GoogleAuthError,
    GoogleTransientError,
)
from google_calendar_emulator import GoogleCalendarEmulator

from .common import TRANSLATIONS, choose_calendars, start_flow
from .conftest import ACCOUNT, CLIENT_ID, OTHER_ACCOUNT, WEBHOOK_ID

pytestmark = pytest.mark.usefixtures("current_request_with_host", "setup_credentials")


REDIRECT_URI = "https://example.com/auth/external/callback"

type Consent = Callable[[str, str], Awaitable[str]]
type SignIn = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]

pytestmark = pytest.mark.usefixtures("current_request_with_host", "setup_credentials")


@pytest.fixture
def consent(calendar_emulator: GoogleCalendarEmulator) -> Consent:
    """Return a helper that clicks "Allow" on the emulator's consent page."""

    async def _consent(authorize_url: str, email: str) -> str:
        """Grant access as `email`; return the Home Assistant callback path."""
        url = URL(authorize_url)
        form = {**url.query, "email": email, "action": "allow"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                url.with_query(None), data=form, allow_redirects=False
            ) as response,
        ):
            assert response.status == 302
            location = URL(response.headers["Location"])
        assert str(location.with_query(None)) == REDIRECT_URI
        return location.path_qs

    return _consent


@pytest.fixture
def sign_in(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    consent: Consent,
) -> SignIn:
    """Return a helper completing a flow's external OAuth step as `email`."""

    async def _sign_in(result: dict[str, Any], email: str) -> dict[str, Any]:
        assert result["type"] is FlowResultType.EXTERNAL_STEP
        callback = await consent(result["url"], email)
        client = await hass_client_no_auth()
        response = await client.get(callback)
        assert response.status == 200
        return await hass.config_entries.flow.async_configure(result["flow_id"])

    return _sign_in


async def test_full_flow_creates_entry_for_chosen_calendars(
    hass: HomeAssistant,
    sign_in: SignIn,
    calendar_emulator: GoogleCalendarEmulator,
    calendars: dict[str, str],
) -> None:
    """Sign in, get writable calendars plus primary preselected, and create the entry."""
    result = await start_flow(hass, "oauth")
    authorize = URL(result["url"])
    assert str(authorize.with_query(None)) == calendar_emulator.authorize_url
    assert authorize.query["scope"] == "https://www.googleapis.com/auth/calendar"
    assert authorize.query["access_type"] == "offline"
    assert authorize.query["prompt"] == "consent"
    assert authorize.query["client_id"] == CLIENT_ID

    result = await sign_in(result, ACCOUNT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "calendars"
    defaults = result["data_schema"]({})[CONF_CALENDARS]
    assert set(defaults) == {calendars["primary"], calendars["family"]}

    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ) as mock_setup:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_CALENDARS: [calendars["family"], calendars["holidays"]]},
        )
        await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == ACCOUNT
    entry = result["result"]
    assert entry.unique_id == ACCOUNT
    assert entry.data["auth_implementation"] == DOMAIN
    assert entry.data["token"]["refresh_token"]
    assert entry.data[CONF_WEBHOOK_ID]
    assert entry.options == {
        CONF_CALENDARS: [calendars["family"], calendars["holidays"]],
        CONF_SYNC_WINDOW_DAYS: 365,
        CONF_PUSH_ENABLED: True,
        CONF_SHOW_DECLINED: False,
        CONF_FREE_EVENTS_BUSY: [],
    }
    assert len(mock_setup.mock_calls) == 1


async def test_choosing_no_calendar_is_refused(
    hass: HomeAssistant,
    sign_in: SignIn,
) -> None:
    """An empty selection shows an error and keeps the form open."""
    result = await start_flow(hass, "oauth")
    result = await sign_in(result, ACCOUNT)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CALENDARS: []}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_calendars_selected"}

    # A calendar that is not on the list is named by a translated field error.
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_CALENDARS: ["nowhere@example.com"]}
        )
    assert err.value.schema_errors == {CONF_CALENDARS: "invalid_calendars"}
    assert TRANSLATIONS["config"]["error"]["invalid_calendars"]

    result = await choose_calendars(hass, result, [ACCOUNT])
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_account_twice_aborts(
    hass: HomeAssistant,
    sign_in: SignIn,
    config_entry: MockConfigEntry,
) -> None:
    """Adding an account that is already configured aborts."""
    config_entry.add_to_hass(hass)
    result = await start_flow(hass, "oauth")
    result = await sign_in(result, ACCOUNT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_second_account_is_added_side_by_side(
    hass: HomeAssistant,
    sign_in: SignIn,
    config_entry: MockConfigEntry,
) -> None:
    """Another Google account gets its own entry."""
    config_entry.add_to_hass(hass)
    result = await start_flow(hass, "oauth")
    result = await sign_in(result, OTHER_ACCOUNT)
    assert result["step_id"] == "calendars"
    result = await choose_calendars(hass, result, [OTHER_ACCOUNT])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == OTHER_ACCOUNT
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


async def test_user_denying_access_aborts(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Clicking "Deny" on Google's consent page aborts the flow."""
    result = await start_flow(hass, "oauth")
    url = URL(result["url"])
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url.with_query(None),
            data={**url.query, "action": "deny"},
            allow_redirects=False,
        ) as response,
    ):
        location = URL(response.headers["Location"])
    client = await hass_client_no_auth()
    assert (await client.get(location.path_qs)).status == 200
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"


@pytest.mark.parametrize(
    ("status", "reason"), [(500, "cannot_connect"), (401, "invalid_auth")]
)
async def test_reading_the_account_fails(
    hass: HomeAssistant,
    sign_in: SignIn,
    calendar_emulator: GoogleCalendarEmulator,
    *,
    status: int,
    reason: str,
) -> None:
    """Errors reading the primary calendar abort with a translated reason."""
    result = await start_flow(hass, "oauth")
    context: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if status == 401:
        # Google accepted the grant, then refused the fresh access token.
        original = GoogleCalendarApi.get_calendar

        async def _get_calendar(api: GoogleCalendarApi, calendar_id: str) -> Any:
            calendar_emulator.expire_access_tokens()
            return await original(api, calendar_id)

        context = patch.object(GoogleCalendarApi, "get_calendar", _get_calendar)
    else:
        calendar_emulator.faults.fail_next(500, times=10, path_contains="calendarList")
    with context:
        result = await sign_in(result, ACCOUNT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


async def test_account_without_calendars_aborts(
    hass: HomeAssistant, sign_in: SignIn
) -> None:
    """An account whose calendar list is empty cannot be added."""
    result = await start_flow(hass, "oauth")
    with patch.object(GoogleCalendarApi, "list_calendars", return_value=[]):
        result = await sign_in(result, ACCOUNT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_calendars"


async def test_reauth_with_same_account_keeps_entry_data(
    hass: HomeAssistant,
    sign_in: SignIn,
    config_entry: MockConfigEntry,
) -> None:
    """Reauth stores the new token and keeps the webhook id and the options."""
    config_entry.add_to_hass(hass)
    options = dict(config_entry.options)
    old_refresh_token = config_entry.data["token"]["refresh_token"]
    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == ACCOUNT
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})

    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        result = await sign_in(result, ACCOUNT)
        await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.data["token"]["refresh_token"] != old_refresh_token
    assert config_entry.data[CONF_WEBHOOK_ID] == WEBHOOK_ID
    assert dict(config_entry.options) == options


async def test_reauth_with_another_account_aborts(
    hass: HomeAssistant,
    sign_in: SignIn,
    config_entry: MockConfigEntry,
) -> None:
    """Signing in with a different Google account during reauth is refused."""
    config_entry.add_to_hass(hass)
    token = dict(config_entry.data["token"])
    result = await config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await sign_in(result, OTHER_ACCOUNT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert config_entry.data["token"] == token


async def test_reconfigure_of_loaded_entry_picks_calendars_again(
    hass: HomeAssistant,
    calendars: dict[str, str],
    setup_integration: MockConfigEntry,
) -> None:
    """A loaded entry re-picks its calendars without signing in again."""
    entry = setup_integration
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "calendars"
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CALENDARS: [ACCOUNT, calendars["family"]]}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.options[CONF_CALENDARS] == [ACCOUNT, calendars["family"]]
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.coordinators) == {ACCOUNT, calendars["family"]}


async def test_reconfigure_of_unloaded_entry_signs_in_first(
    hass: HomeAssistant,
    sign_in: SignIn,
    calendars: dict[str, str],
    config_entry: MockConfigEntry,
) -> None:
    """Without a loaded entry, reconfigure goes through Google sign-in."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await sign_in(result, ACCOUNT)
    assert result["step_id"] == "calendars"
    result = await choose_calendars(hass, result, [calendars["family"]])
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.options[CONF_CALENDARS] == [calendars["family"]]
    assert config_entry.data[CONF_WEBHOOK_ID] == WEBHOOK_ID


async def test_reconfigure_with_another_account_aborts(
    hass: HomeAssistant,
    sign_in: SignIn,
    config_entry: MockConfigEntry,
) -> None:
    """Reconfigure refuses a different Google account."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await sign_in(result, OTHER_ACCOUNT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (GoogleAuthError(401, "authError", "refused"), "invalid_auth"),
        (GoogleTransientError(500, "backendError", "down"), "cannot_connect"),
    ],
)
async def test_reconfigure_listing_fails(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    error: Exception,
    reason: str,
) -> None:
    """Reconfigure aborts when the calendar list cannot be read."""
    with patch.object(GoogleCalendarApi, "list_calendars", side_effect=error):
        result = await setup_integration.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
