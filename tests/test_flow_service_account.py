"""The service account way in: its JSON key, shared calendars, delegation, reauth."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import json
import pathlib
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SUBJECT,
    CONF_WEBHOOK_ID,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import GoogleTransientError
from google_calendar_emulator import GoogleCalendarEmulator

from .common import choose_calendars, start_flow
from .conftest import ACCOUNT, CLUB_CALENDAR, SERVICE_ACCOUNT, WEBHOOK_ID

pytestmark = pytest.mark.usefixtures("current_request_with_host", "setup_credentials")


@pytest.fixture
def added_entry(hass: HomeAssistant, sa_entry: MockConfigEntry) -> MockConfigEntry:
    """Return the service account's entry for the Club calendar, added, not set up."""
    sa_entry.add_to_hass(hass)
    return sa_entry


async def test_service_account_flow_adds_calendars_shared_with_it(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
) -> None:
    """The pasted key signs in; the named calendar joins its calendar list."""
    result = await start_flow(hass, "service_account")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"key_json": json.dumps(service_account_key), "calendar_ids": [CLUB_CALENDAR]},
    )
    assert result["step_id"] == "calendars"
    assert result["description_placeholders"] == {"account": SERVICE_ACCOUNT}
    assert result["data_schema"]({})[CONF_CALENDARS] == [CLUB_CALENDAR]

    result = await choose_calendars(hass, result, [CLUB_CALENDAR])

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

    result = await start_flow(hass, "service_account")
    with patch(
        "custom_components.google_calendar_sync.flow_service_account.process_uploaded_file",
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
    result = await start_flow(hass, "service_account")
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
    result = await start_flow(hass, "service_account")

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
    result = await start_flow(hass, "service_account")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"key_json": json.dumps(key), "subject": ACCOUNT}
    )
    assert result["step_id"] == "calendars"
    assert result["data_schema"]({})[CONF_CALENDARS] == [ACCOUNT]
    result = await choose_calendars(hass, result, [ACCOUNT])
    assert result["result"].unique_id == ACCOUNT
    assert result["result"].data[CONF_SUBJECT] == ACCOUNT


@pytest.mark.usefixtures("added_entry")
async def test_same_service_account_twice_aborts(
    hass: HomeAssistant, service_account_key: dict[str, Any]
) -> None:
    """A service account that already has an entry cannot be added again."""
    result = await start_flow(hass, "service_account")
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
    added_entry: MockConfigEntry,
) -> None:
    """After the key was deleted, a new key of the same account replaces it."""
    calendar_emulator.identities.delete_key(
        SERVICE_ACCOUNT, service_account_key["private_key_id"]
    )
    result = await added_entry.start_reauth_flow(hass)
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
    assert added_entry.data[CONF_SERVICE_ACCOUNT_KEY] == new_key
    assert added_entry.data[CONF_WEBHOOK_ID] == WEBHOOK_ID


async def test_service_account_reauth_refuses_another_account(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    added_entry: MockConfigEntry,
) -> None:
    """A key of another service account cannot take over the entry."""
    other = calendar_emulator.create_service_account("other")
    result = await added_entry.start_reauth_flow(hass)
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
    added_entry: MockConfigEntry,
) -> None:
    """Reconfigure shows the current choices; an empty key keeps the stored one."""
    team = calendar_emulator.add_calendar(ACCOUNT, "Team")
    calendar_emulator.share_calendar(team, SERVICE_ACCOUNT, "reader")

    result = await added_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "service_account"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"calendar_ids": [CLUB_CALENDAR, team]}
    )
    assert result["step_id"] == "calendars"
    assert result["data_schema"]({})[CONF_CALENDARS] == [CLUB_CALENDAR, team]
    result = await choose_calendars(hass, result, [CLUB_CALENDAR, team])
    assert result["reason"] == "reconfigure_successful"
    assert added_entry.options[CONF_CALENDARS] == [CLUB_CALENDAR, team]
    assert added_entry.data[CONF_SERVICE_ACCOUNT_KEY] == service_account_key


async def test_service_account_reconfigure_refuses_another_account(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    added_entry: MockConfigEntry,
) -> None:
    """Reconfiguring with another service account's key aborts."""
    other = calendar_emulator.create_service_account("other")
    calendar_emulator.share_calendar(
        CLUB_CALENDAR, "other@emulator-project.iam.gserviceaccount.com", "writer"
    )
    result = await added_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"key_json": json.dumps(other), "calendar_ids": [CLUB_CALENDAR]},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
