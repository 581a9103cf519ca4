"""Logbook: each change made in Google appears in Activity, in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.google_calendar_sync.const import DOMAIN, EVENT_CHANGED
from custom_components.google_calendar_sync.logbook import (
    async_describe_events,
    describe_change,
)
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT

type Describe = Callable[[Event], dict[str, Any]]


@pytest.fixture
async def describe(hass: HomeAssistant) -> Describe:
    """Return what the integration registers with the logbook for its bus event."""
    registered: dict[tuple[str, str], Describe] = {}

    def register(domain: str, event_type: str, func: Describe) -> None:
        registered[domain, event_type] = func

    async_describe_events(hass, register)
    assert set(registered) == {(DOMAIN, EVENT_CHANGED)}
    return registered[DOMAIN, EVENT_CHANGED]


@pytest.fixture(autouse=True)
async def berlin(hass: HomeAssistant) -> None:
    """Show times in a fixed zone."""
    await hass.config.async_set_time_zone("Europe/Berlin")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "change": "updated",
                "summary": "Dentist",
                "start": "2030-01-08T14:30:00+00:00",
                "changed_fields": ["end", "start"],
            },
            "Dentist moved to Tue Jan 8, 3:30 PM",
        ),
        (
            {"change": "cancelled", "summary": "Team sync", "start": None},
            "Team sync cancelled",
        ),
        (
            {
                "change": "cancelled",
                "summary": "Team sync",
                "start": "2030-01-09T08:00:00+01:00",
                "recurring_event_id": "series",
            },
            "Team sync on Wed Jan 9, 8:00 AM cancelled",
        ),
        (
            {
                "change": "created",
                "summary": "Birthday",
                "start": "2030-03-02",
                "all_day": True,
            },
            "Birthday added for Sat Mar 2",
        ),
        ({"change": "created", "summary": None}, "Untitled event added"),
        (
            {
                "change": "updated",
                "summary": "Lunch",
                "start": "2030-01-08T12:00:00+01:00",
                "changed_fields": ["location", "summary"],
            },
            "Lunch changed: location, summary",
        ),
        ({"change": "updated", "summary": "Lunch"}, "Lunch changed"),
        (
            {"change": "created", "summary": "Odd", "start": "not a time"},
            "Odd added",
        ),
    ],
)
async def test_changes_are_described_in_words(
    hass: HomeAssistant, data: dict[str, Any], message: str
) -> None:
    """Moves, cancellations, additions and edits read as sentences in local time."""
    assert describe_change(data) == message


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "change",
                "summary",
                "start",
                "all_day",
                "changed_fields",
                "recurring_event_id",
            ]
        ),
        st.none()
        | st.booleans()
        | st.text()
        | st.lists(st.text(), max_size=3)
        | st.dates().map(str)
        | st.datetimes(
            timezones=st.sampled_from([UTC, timezone(-timedelta(hours=5))])
        ).map(lambda d: d.isoformat()),
    )
)
@settings(deadline=None)
def test_any_payload_is_described_without_error(data: dict[str, Any]) -> None:
    """Whatever Google sent, the logbook gets a sentence."""
    assert isinstance(describe_change(data), str)


async def test_a_change_in_google_is_described_on_its_calendar(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    describe: Describe,
) -> None:
    """The bus event of a sync is described on the calendar entity, with its name."""
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    changes = async_capture_events(hass, EVENT_CHANGED)
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    event = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Dentist",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        },
    )
    await coordinator.async_sync()
    calendar_emulator.delete_event(ACCOUNT, event["id"])
    await coordinator.async_sync()
    await hass.async_block_till_done()

    described = [describe(change) for change in changes]
    entity_id = changes[0].data["entity_id"]
    assert described[1] == {
        "name": f"{ACCOUNT} Primary calendar",
        "message": "Dentist cancelled",
        "entity_id": entity_id,
    }
    assert described[0]["message"].startswith("Dentist added for ")


async def test_a_change_without_calendar_entity_is_named_by_calendar_id(
    hass: HomeAssistant, describe: Describe
) -> None:
    """A change announced while the entity is not registered still reads well."""
    event = Event(
        EVENT_CHANGED,
        {
            "entity_id": None,
            "calendar_id": ACCOUNT,
            "change": "cancelled",
            "summary": "Dentist",
        },
    )
    assert describe(event) == {
        "name": ACCOUNT,
        "message": "Dentist cancelled",
        "entity_id": None,
    }
