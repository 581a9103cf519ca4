"""Config flow: Google sign-in against the emulator, calendar choice, reauth, options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
import contextlib
from contextlib import contextmanager
import json
import pathlib
from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.google_calendar_sync.config_flow import api_key_unique_id
from custom_components.google_calendar_sync.const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_FREE_EVENTS_BUSY,
    CONF_PUSH_ENABLED,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SHOW_DECLINED,
    CONF_SUBJECT,
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

from .common import service_account_entry
from .conftest import ACCOUNT, CLIENT_ID, CLUB_CALENDAR, SERVICE_ACCOUNT, WEBHOOK_ID

REDIRECT_URI = "https://example.com/auth/external/callback"
OTHER_ACCOUNT = "other@example.com"

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
def calendars(calendar_emulator: GoogleCalendarEmulator) -> dict[str, str]:
    """Give the account a writable, a read-only and the primary calendar."""
    family = calendar_emulator.add_calendar(ACCOUNT, "Family")
    calendar_emulator.add_user(OTHER_ACCOUNT)
    holidays = calendar_emulator.add_calendar(OTHER_ACCOUNT, "Holidays")
    calendar_emulator.share_calendar(holidays, ACCOUNT, "reader")
    return {"primary": ACCOUNT, "family": family, "holidays": holidays}


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


async def _start_user_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Start adding a Google account: the menu, then "Sign in with Google"."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["oauth", "service_account", "api_key"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "oauth"}
    )


async def _choose_calendars(
    hass: HomeAssistant, result: dict[str, Any], chosen: list[str]
) -> dict[str, Any]:
    """Submit the calendar choice without setting the entry up."""
    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        return await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_CALENDARS: chosen}
        )


async def test_full_flow_creates_entry_for_chosen_calendars(
    hass: HomeAssistant,
    sign_in: SignIn,
    calendar_emulator: GoogleCalendarEmulator,
    calendars: dict[str, str],
) -> None:
    """Sign in, get writable calendars plus primary preselected, and create the entry."""
    result = await _start_user_flow(hass)
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
    result = await _start_user_flow(hass)
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
    assert EN["config"]["error"]["invalid_calendars"]

    result = await _choose_calendars(hass, result, [ACCOUNT])
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_same_account_twice_aborts(
    hass: HomeAssistant,
    sign_in: SignIn,
    config_entry: MockConfigEntry,
) -> None:
    """Adding an account that is already configured aborts."""
    config_entry.add_to_hass(hass)
    result = await _start_user_flow(hass)
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
    result = await _start_user_flow(hass)
    result = await sign_in(result, OTHER_ACCOUNT)
    assert result["step_id"] == "calendars"
    result = await _choose_calendars(hass, result, [OTHER_ACCOUNT])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == OTHER_ACCOUNT
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


async def test_user_denying_access_aborts(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Clicking "Deny" on Google's consent page aborts the flow."""
    result = await _start_user_flow(hass)
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
    result = await _start_user_flow(hass)
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
    result = await _start_user_flow(hass)
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
    result = await _choose_calendars(hass, result, [calendars["family"]])
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


async def test_options_flow_changes_sync_settings(
    hass: HomeAssistant,
    calendars: dict[str, str],
    setup_integration: MockConfigEntry,
) -> None:
    """Options change calendars and settings, keep other keys, and reload."""
    entry = setup_integration
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "owned_by_another_step": True}
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"

    settings = {
        CONF_SYNC_WINDOW_DAYS: 30,
        CONF_PUSH_ENABLED: False,
        CONF_SHOW_DECLINED: True,
        CONF_FREE_EVENTS_BUSY: [calendars["family"]],
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CALENDARS: [], **settings}
    )
    assert result["errors"] == {"base": "no_calendars_selected"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CALENDARS: [calendars["family"]], **settings}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_CALENDARS: [calendars["family"]],
        CONF_SYNC_WINDOW_DAYS: 30,
        CONF_PUSH_ENABLED: False,
        CONF_SHOW_DECLINED: True,
        CONF_FREE_EVENTS_BUSY: [calendars["family"]],
        "owned_by_another_step": True,
    }
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.coordinators) == {calendars["family"]}


async def test_options_flow_offers_no_polling_interval(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Polling is Home Assistant's business: no option sets how often."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    assert [str(field) for field in result["data_schema"].schema] == [
        CONF_CALENDARS,
        CONF_SYNC_WINDOW_DAYS,
        CONF_PUSH_ENABLED,
        CONF_SHOW_DECLINED,
        CONF_FREE_EVENTS_BUSY,
        CONF_EXPORT_SOURCES,
        CONF_EXPORT_TARGET,
    ]


async def test_options_flow_of_unloaded_entry_offers_synced_calendars(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Without a loaded entry, the options offer the calendars already chosen."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]


async def test_options_flow_offers_synced_calendars_when_google_is_down(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """If the calendar list cannot be read, the synced calendars are still offered."""
    with patch.object(
        GoogleCalendarApi,
        "list_calendars",
        side_effect=GoogleTransientError(503, "backendError", "down"),
    ):
        result = await hass.config_entries.options.async_init(
            setup_integration.entry_id
        )
    assert result["type"] is FlowResultType.FORM
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]


# --- Service account ------------------------------------------------------------------


async def _start_service_account_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Start adding a service account: the menu, then "Service account"."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "service_account"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "service_account"
    return result


async def test_service_account_flow_adds_calendars_shared_with_it(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """The pasted key signs in; the named calendar joins its calendar list."""
    result = await _start_service_account_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"key_json": json.dumps(service_account_key), "calendar_ids": [CLUB_CALENDAR]},
    )
    assert result["step_id"] == "calendars"
    assert result["description_placeholders"] == {"account": SERVICE_ACCOUNT}
    assert result["data_schema"]({})[CONF_CALENDARS] == [CLUB_CALENDAR]

    result = await _choose_calendars(hass, result, [CLUB_CALENDAR])

    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == entry.title == SERVICE_ACCOUNT
    assert entry.data[CONF_AUTH_TYPE] == "service_account"
    assert entry.data[CONF_SERVICE_ACCOUNT_KEY] == service_account_key
    assert entry.data[CONF_SUBJECT] is None
    assert entry.data[CONF_WEBHOOK_ID]
    assert entry.options[CONF_CALENDARS] == [CLUB_CALENDAR]
    # The calendar is in the service account's calendar list from now on.
    assert calendar_emulator.model.calendar_lists[SERVICE_ACCOUNT] == {CLUB_CALENDAR}
    # The token came from the JWT bearer grant, not a user's refresh token.
    grants = calendar_emulator.requests.matching("POST", "/token")
    assert [grant.status for grant in grants] == [200]


async def test_service_account_key_file_can_be_uploaded(
    hass: HomeAssistant,
    service_account_key: dict[str, Any],
    tmp_path: pathlib.Path,
) -> None:
    """The key file chosen in the upload selector is read like a pasted key."""
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(service_account_key))

    @contextmanager
    def uploaded(hass: HomeAssistant, file_id: str) -> Iterator[pathlib.Path]:
        assert file_id == "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
        yield key_file

    result = await _start_service_account_flow(hass)
    with patch(
        "custom_components.google_calendar_sync.config_flow.process_uploaded_file",
        uploaded,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "key_file": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
                "calendar_ids": [CLUB_CALENDAR],
            },
        )
    assert result["step_id"] == "calendars"


@pytest.mark.parametrize(
    ("key_json", "error"),
    [
        ("", "key_required"),
        ("not json", "invalid_key"),
        ('{"type": "authorized_user"}', "invalid_key"),
        (
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": SERVICE_ACCOUNT,
                    "private_key_id": "abc",
                    "private_key": "not a key",
                }
            ),
            "invalid_key",
        ),
    ],
)
async def test_service_account_form_refuses_what_is_not_a_key(
    hass: HomeAssistant, key_json: str, error: str
) -> None:
    """A missing or malformed key keeps the form open with a translated error."""
    result = await _start_service_account_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": key_json}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_service_account_errors_from_google_are_explained(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """Unshared calendars, refused delegation, deleted keys and empty lists."""
    key_json = json.dumps(service_account_key)
    calendar_emulator.add_calendar(ACCOUNT, "Private", calendar_id="private@group")
    result = await _start_service_account_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": key_json, "calendar_ids": ["private@group"]}
    )
    assert result["errors"] == {"calendar_ids": "calendar_not_shared"}
    assert result["description_placeholders"] == {
        "email": SERVICE_ACCOUNT,
        "calendar": "private@group",
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": key_json}
    )
    assert result["errors"] == {"base": "no_shared_calendars"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": key_json, "subject": ACCOUNT}
    )
    assert result["errors"] == {"base": "delegation_refused"}
    assert "unauthorized" in result["description_placeholders"]["error"]

    calendar_emulator.identities.delete_key(
        SERVICE_ACCOUNT, service_account_key["private_key_id"]
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": key_json, "calendar_ids": [CLUB_CALENDAR]}
    )
    assert result["errors"] == {"base": "key_refused"}
    assert result["description_placeholders"]["error"] == "Invalid JWT Signature."

    with patch.object(
        GoogleCalendarApi,
        "list_calendars",
        side_effect=GoogleTransientError(503, "backendError", "down"),
    ):
        key = calendar_emulator.create_service_account_key(SERVICE_ACCOUNT)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"key_json": json.dumps(key)}
        )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_service_account_acts_for_a_user_with_delegation(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """With domain-wide delegation the entry is the user's, with their calendars."""
    key = calendar_emulator.create_service_account("workspace", delegation=True)
    result = await _start_service_account_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": json.dumps(key), "subject": ACCOUNT}
    )
    assert result["step_id"] == "calendars"
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]
    result = await _choose_calendars(hass, result, [ACCOUNT])
    assert result["result"].unique_id == ACCOUNT
    assert result["result"].data[CONF_SUBJECT] == ACCOUNT


async def test_same_service_account_twice_aborts(
    hass: HomeAssistant, service_account_key: dict[str, Any]
) -> None:
    """A service account that already has an entry cannot be added again."""
    service_account_entry(
        service_account_key, {CONF_CALENDARS: [CLUB_CALENDAR]}, webhook_id=WEBHOOK_ID
    ).add_to_hass(hass)
    result = await _start_service_account_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"key_json": json.dumps(service_account_key), "calendar_ids": [CLUB_CALENDAR]},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_service_account_reauth_takes_a_new_key(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """After the key was deleted, a new key of the same account replaces it."""
    entry = service_account_entry(
        service_account_key, {CONF_CALENDARS: [CLUB_CALENDAR]}, webhook_id=WEBHOOK_ID
    )
    entry.add_to_hass(hass)
    calendar_emulator.identities.delete_key(
        SERVICE_ACCOUNT, service_account_key["private_key_id"]
    )
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_service_account"
    assert result["description_placeholders"]["account"] == SERVICE_ACCOUNT

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": json.dumps(service_account_key)}
    )
    assert result["errors"] == {"base": "key_refused"}

    new_key = calendar_emulator.create_service_account_key(SERVICE_ACCOUNT)
    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"key_json": json.dumps(new_key)}
        )
        await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_SERVICE_ACCOUNT_KEY] == new_key
    assert entry.data[CONF_WEBHOOK_ID] == WEBHOOK_ID


async def test_service_account_reauth_refuses_another_account(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """A key of another service account cannot take over the entry."""
    entry = service_account_entry(
        service_account_key, {CONF_CALENDARS: [CLUB_CALENDAR]}, webhook_id=WEBHOOK_ID
    )
    entry.add_to_hass(hass)
    other = calendar_emulator.create_service_account("other")
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": json.dumps(other)}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_service_account"
    assert result["description_placeholders"] == {"email": SERVICE_ACCOUNT}


async def test_service_account_reconfigure_adds_a_calendar_keeping_the_key(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """Reconfigure shows the current choices; an empty key keeps the stored one."""
    entry = service_account_entry(
        service_account_key, {CONF_CALENDARS: [CLUB_CALENDAR]}, webhook_id=WEBHOOK_ID
    )
    entry.add_to_hass(hass)
    calendar_emulator.model.insert_calendar_list_entry(SERVICE_ACCOUNT, CLUB_CALENDAR)
    team = calendar_emulator.add_calendar(ACCOUNT, "Team")
    calendar_emulator.share_calendar(team, SERVICE_ACCOUNT, "reader")

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "service_account"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"calendar_ids": [CLUB_CALENDAR, team]}
    )
    assert result["step_id"] == "calendars"
    assert result["data_schema"]({})[CONF_CALENDARS] == [CLUB_CALENDAR, team]
    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_CALENDARS: [CLUB_CALENDAR, team]}
        )
        await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.options[CONF_CALENDARS] == [CLUB_CALENDAR, team]
    assert entry.data[CONF_SERVICE_ACCOUNT_KEY] == service_account_key


async def test_service_account_reconfigure_refuses_another_account(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """Reconfiguring with another service account's key aborts."""
    entry = service_account_entry(
        service_account_key, {CONF_CALENDARS: [CLUB_CALENDAR]}, webhook_id=WEBHOOK_ID
    )
    entry.add_to_hass(hass)
    other = calendar_emulator.create_service_account("other")
    calendar_emulator.share_calendar(
        CLUB_CALENDAR, "other@emulator-project.iam.gserviceaccount.com", "writer"
    )
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"key_json": json.dumps(other), "calendar_ids": [CLUB_CALENDAR]},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"


EN = json.loads(
    (
        pathlib.Path(__file__).parent.parent
        / "custom_components"
        / DOMAIN
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)
SETTINGS = {
    CONF_SYNC_WINDOW_DAYS: 30,
    CONF_PUSH_ENABLED: False,
}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (CONF_CALENDARS, ["nowhere@example.com"], "invalid_calendars"),
        (CONF_SYNC_WINDOW_DAYS, 0, "invalid_sync_window_days"),
        (CONF_SYNC_WINDOW_DAYS, "a year", "invalid_sync_window_days"),
        (CONF_FREE_EVENTS_BUSY, ["nowhere@example.com"], "invalid_free_events_busy"),
        (CONF_EXPORT_SOURCES, ["not an entity"], "invalid_export_sources"),
        (CONF_EXPORT_TARGET, "holidays@example.com", "invalid_export_target"),
    ],
)
async def test_options_flow_explains_each_bad_field(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    field: str,
    value: Any,
    error: str,
) -> None:
    """A bad value is refused with the field's translated message."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_CALENDARS: [ACCOUNT], **SETTINGS, field: value}
        )
    # The frontend shows options.error.<key> of our translations for the field.
    assert err.value.schema_errors == {field: error}
    assert EN["options"]["error"][error]


WORK = "work@group.calendar.google.com"


@pytest.fixture
def work_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Return a second writable calendar of the account."""
    return calendar_emulator.add_calendar(ACCOUNT, "Work", calendar_id=WORK)


@pytest.mark.usefixtures("work_calendar")
@pytest.mark.parametrize(
    "entry_options", [{CONF_CALENDARS: [ACCOUNT, WORK], CONF_PUSH_ENABLED: False}]
)
async def test_options_flow_refuses_exports_that_cannot_work(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Export needs a synced target and must never lead back into a source."""
    entry = setup_integration
    primary, work = calendar_entity_id(ACCOUNT), calendar_entity_id(WORK)
    both = {CONF_CALENDARS: [ACCOUNT, WORK], **SETTINGS}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    for export, errors in (
        ({CONF_EXPORT_SOURCES: [work]}, {CONF_EXPORT_TARGET: "export_target_missing"}),
        (
            {
                CONF_EXPORT_SOURCES: [work],
                CONF_EXPORT_TARGET: WORK,
                CONF_CALENDARS: [ACCOUNT],
            },
            {CONF_EXPORT_TARGET: "export_target_not_synced"},
        ),
        (
            {CONF_EXPORT_SOURCES: [primary, work], CONF_EXPORT_TARGET: WORK},
            {CONF_EXPORT_SOURCES: "export_into_itself"},
        ),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {**both, **export}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
        for key in errors.values():
            assert EN["options"]["error"][key]
    assert CONF_EXPORT_SOURCES not in entry.options

    # Work goes into the primary calendar; a second account sends it back.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**both, CONF_EXPORT_SOURCES: [work], CONF_EXPORT_TARGET: ACCOUNT},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id=OTHER_ACCOUNT,
        options={CONF_EXPORT_SOURCES: [primary], CONF_EXPORT_TARGET: WORK},
    )
    other.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**both, CONF_EXPORT_SOURCES: [work], CONF_EXPORT_TARGET: ACCOUNT},
    )
    assert result["errors"] == {CONF_EXPORT_SOURCES: "export_loop"}
    assert EN["options"]["error"]["export_loop"]


async def test_options_flow_turns_export_off_when_cleared(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Clearing the export fields removes them instead of keeping the old ones."""
    entry = setup_integration
    hass.config_entries.async_update_entry(
        entry,
        options={
            **entry.options,
            CONF_EXPORT_SOURCES: ["calendar.practice"],
            CONF_EXPORT_TARGET: ACCOUNT,
        },
    )
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CALENDARS: [ACCOUNT], **SETTINGS}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_EXPORT_SOURCES not in entry.options
    assert CONF_EXPORT_TARGET not in entry.options


# --- Public calendars by API key --------------------------------------------------------


@pytest.fixture
def public_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Create a public calendar of another user ("Matches")."""
    calendar_emulator.add_user(OTHER_ACCOUNT)
    calendar_id = calendar_emulator.add_calendar(
        OTHER_ACCOUNT, "Matches", calendar_id="matches@group.calendar.google.com"
    )
    calendar_emulator.set_public(calendar_id)
    return calendar_id


async def _start_api_key_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Start adding public calendars: the menu, then "Public calendar"."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "api_key"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "api_key"
    return result


async def test_api_key_flow_adds_public_calendars_by_address(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """The calendar's public address names it; the entry is read only, polled."""
    api_key = calendar_emulator.create_api_key()
    result = await _start_api_key_flow(hass)
    address = (
        "https://calendar.google.com/calendar/embed?src=matches%40group.calendar"
        ".google.com&ctz=Europe%2FBerlin"
    )
    with patch(
        "custom_components.google_calendar_sync.async_setup_entry", return_value=True
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"api_key": api_key, CONF_CALENDARS: [address]}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Matches"
    entry = result["result"]
    assert entry.data == {CONF_AUTH_TYPE: "api_key", "api_key": api_key}
    assert entry.unique_id.startswith("api_key_")
    assert api_key not in entry.unique_id
    assert entry.options[CONF_CALENDARS] == [public_calendar]
    assert entry.options[CONF_PUSH_ENABLED] is False


async def test_api_key_flow_errors_are_explained(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """Missing, invalid or restricted keys and private calendars keep the form open."""
    api_key = calendar_emulator.create_api_key()
    private = calendar_emulator.add_calendar(OTHER_ACCOUNT, "Private")
    result = await _start_api_key_flow(hass)

    async def submit(data: dict[str, Any]) -> dict[str, Any]:
        return await hass.config_entries.flow.async_configure(result["flow_id"], data)

    result = await submit({CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"api_key": "api_key_required"}
    result = await submit({"api_key": api_key, CONF_CALENDARS: [" "]})
    assert result["errors"] == {CONF_CALENDARS: "no_calendars_selected"}
    result = await submit({"api_key": "AIzaWrong", CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"api_key": "invalid_api_key"}
    restricted = calendar_emulator.create_api_key(restricted=True)
    result = await submit({"api_key": restricted, CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"api_key": "api_key_restricted"}
    assert "blocked" in result["description_placeholders"]["error"]
    result = await submit({"api_key": api_key, CONF_CALENDARS: [private]})
    assert result["errors"] == {CONF_CALENDARS: "calendar_not_public"}
    assert result["description_placeholders"] == {"calendar": private}
    with patch.object(
        GoogleCalendarApi,
        "get_calendar_resource",
        side_effect=GoogleTransientError(503, "backendError", "down"),
    ):
        result = await submit({"api_key": api_key, CONF_CALENDARS: [public_calendar]})
    assert result["errors"] == {"base": "cannot_connect"}


async def test_same_api_key_twice_aborts(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """One entry per API key: add calendars to it by reconfiguring."""
    api_key = calendar_emulator.create_api_key()
    MockConfigEntry(
        domain=DOMAIN, unique_id=api_key_unique_id(api_key), data={}
    ).add_to_hass(hass)
    result = await _start_api_key_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": api_key, CONF_CALENDARS: [public_calendar]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_api_key_reconfigure_replaces_the_key_and_calendars(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_calendar: str,
) -> None:
    """Reconfigure keeps the key when left empty, or moves the entry to a new one."""
    old_key = calendar_emulator.create_api_key()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=api_key_unique_id(old_key),
        data={CONF_AUTH_TYPE: "api_key", "api_key": old_key},
        options={CONF_CALENDARS: [public_calendar], CONF_PUSH_ENABLED: False},
    )
    entry.add_to_hass(hass)
    other = calendar_emulator.add_calendar(OTHER_ACCOUNT, "Cup")
    calendar_emulator.set_public(other)
    new_key = calendar_emulator.create_api_key()

    for api_key, stored in (("", old_key), (new_key, new_key)):
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "api_key"
        with patch(
            "custom_components.google_calendar_sync.async_setup_entry",
            return_value=True,
        ):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {"api_key": api_key, CONF_CALENDARS: [public_calendar, other]},
            )
            await hass.async_block_till_done()
        assert result["reason"] == "reconfigure_successful"
        assert entry.data["api_key"] == stored
        assert entry.unique_id == api_key_unique_id(stored)
        assert entry.options[CONF_CALENDARS] == [public_calendar, other]
