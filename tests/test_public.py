"""Public calendars by API key: read only, polled, and a repair issue when Google refuses."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEntityFeature
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.google_calendar_sync.const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    DOMAIN,
)
from custom_components.google_calendar_sync.flow_public import api_key_unique_id
from custom_components.google_calendar_sync.public import public_issue_id
from google_calendar_emulator import GoogleCalendarEmulator

from .common import loaded_entry

OWNER = "club@example.com"
MATCHES = "matches@group.calendar.google.com"


@pytest.fixture
def api_key(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Create the public "Matches" calendar with one match; return an API key."""
    calendar_emulator.add_user(OWNER)
    calendar_emulator.add_calendar(OWNER, "Matches", calendar_id=MATCHES)
    calendar_emulator.set_public(MATCHES)
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    calendar_emulator.insert_event(
        MATCHES,
        {
            "summary": "Home match",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=2)).isoformat()},
        },
    )
    return calendar_emulator.create_api_key()


@pytest.fixture
def public_entry(api_key: str, entry_options: dict[str, Any]) -> MockConfigEntry:
    """Return the entry the API key flow creates for the Matches calendar."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Matches",
        unique_id=api_key_unique_id(api_key),
        data={CONF_AUTH_TYPE: "api_key", "api_key": api_key},
        options={
            **entry_options,
            CONF_CALENDARS: [MATCHES],
            CONF_PUSH_ENABLED: True,  # turned on by hand: still no push for a key
        },
    )


@pytest.fixture
async def public_integration(
    hass: HomeAssistant, setup_credentials: None, public_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set the API key entry up against the emulator."""
    async with loaded_entry(hass, public_entry):
        yield public_entry


def _entity_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "calendar", DOMAIN, f"{entry.unique_id}-{MATCHES}"
    )
    assert entity_id is not None
    return entity_id


async def test_public_calendar_is_read_only_and_polled(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    public_integration: MockConfigEntry,
) -> None:
    """Events show up; nothing can be written; no watch channel; polling syncs."""
    entity_id = _entity_id(hass, public_integration)
    state = hass.states.get(entity_id)
    assert state is not None
    assert not state.attributes.get("supported_features", 0) & (
        CalendarEntityFeature.CREATE_EVENT
    )
    coordinator = public_integration.runtime_data.coordinators[MATCHES]
    assert not coordinator.writable
    assert [event["summary"] for event in coordinator.snapshot.events.values()] == [
        "Home match"
    ]
    assert public_integration.runtime_data.push is None
    assert not calendar_emulator.channels
    assert calendar_emulator.requests.matching("GET", "/colors") == []

    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "create_event",
            {
                "entity_id": entity_id,
                "summary": "Away match",
                "start_date_time": "2030-01-07 09:00:00",
                "duration": {"minutes": 60},
            },
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "calendar_not_writable"

    calendar_emulator.insert_event(
        MATCHES,
        {
            "summary": "Cup final",
            "start": {"date": "2030-05-01"},
            "end": {"date": "2030-05-02"},
        },
    )
    async_fire_time_changed(hass, dt_util.utcnow() + coordinator.update_interval)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert {event["summary"] for event in coordinator.snapshot.events.values()} == {
        "Home match",
        "Cup final",
    }


def _make_private(emulator: GoogleCalendarEmulator, _key: str) -> None:
    emulator.set_public(MATCHES, public=False)


def _make_public(emulator: GoogleCalendarEmulator, _key: str) -> None:
    emulator.set_public(MATCHES)


def _delete_key(emulator: GoogleCalendarEmulator, key: str) -> None:
    emulator.identities.api_keys.pop(key)


def _restrict_key(emulator: GoogleCalendarEmulator, key: str) -> None:
    emulator.identities.create_api_key(restricted=True, key=key)


def _allow_key(emulator: GoogleCalendarEmulator, key: str) -> None:
    emulator.identities.create_api_key(key=key)


type Change = Callable[[GoogleCalendarEmulator, str], None]


@pytest.mark.parametrize(
    ("refuse", "restore", "translation_key", "error"),
    [
        (_make_private, _make_public, "calendar_not_public", "Not Found"),
        (
            _delete_key,
            _allow_key,
            "api_key_refused",
            "API key not valid. Please pass a valid API key.",
        ),
        (
            _restrict_key,
            _allow_key,
            "api_key_refused",
            (
                "Requests to this API calendar-json.googleapis.com method "
                "calendar.v3.Events.List are blocked."
            ),
        ),
    ],
    ids=["calendar_made_private", "key_invalid", "key_restricted_to_other_apis"],
)
async def test_refusal_after_setup_raises_a_repair_issue_until_google_answers(  # noqa: PLR0917
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    api_key: str,
    public_integration: MockConfigEntry,
    refuse: Change,
    restore: Change,
    translation_key: str,
    error: str,
) -> None:
    """A calendar made private, or a key deleted or restricted later, is reported.

    The issue goes once Google answers again.
    """
    coordinator = public_integration.runtime_data.coordinators[MATCHES]
    issue_id = public_issue_id(public_integration.entry_id, MATCHES)
    refuse(calendar_emulator, api_key)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == translation_key
    assert issue.translation_placeholders == {
        "title": "Matches",
        "calendar": MATCHES,
        "error": error,
    }

    restore(calendar_emulator, api_key)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_refused_key_at_setup_raises_a_repair_issue(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    api_key: str,
    public_entry: MockConfigEntry,
) -> None:
    """A deleted key is reported and setup is retried; a private calendar is skipped."""
    calendar_emulator.identities.api_keys.pop(api_key)
    public_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(public_entry.entry_id)
    assert public_entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, public_issue_id(public_entry.entry_id, MATCHES)
    )
    assert issue is not None
    assert issue.translation_key == "api_key_refused"


async def test_private_calendar_at_setup_is_skipped(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    public_entry: MockConfigEntry,
) -> None:
    """A calendar that is no longer public is left out, with a repair issue."""
    calendar_emulator.set_public(MATCHES, public=False)
    async with loaded_entry(hass, public_entry):
        assert public_entry.runtime_data.coordinators == {}
        issue_id = public_issue_id(public_entry.entry_id, MATCHES)
        assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_remove(public_entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
