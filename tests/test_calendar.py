"""Calendar entities: naming, device, reads answered locally, recurrence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
import logging
import threading
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant.components.calendar import CalendarEvent
from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync import calendar as calendar_module
from custom_components.google_calendar_sync.calendar import (
    GoogleCalendarSyncCalendarEntity,
)
from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_FREE_EVENTS_BUSY,
    CONF_SHOW_DECLINED,
    DECLINED_COLOR,
    DOMAIN,
)
from custom_components.google_calendar_sync.coordinator import calendar_unique_id
from custom_components.google_calendar_sync.google import timeline as timeline_module
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.conversions import Prepared
from custom_components.google_calendar_sync.google.entries import TimelineEvent
from custom_components.google_calendar_sync.google.errors import GoogleTransientError
from custom_components.google_calendar_sync.google.event_views import EventView
from custom_components.google_calendar_sync.views import REBUILD_ABOVE
from google_calendar_emulator import GoogleCalendarEmulator

from .common import loaded_entry
from .conftest import ACCOUNT, FAMILY, GetEvents
from .reliability_helpers import seed_load, setup_entry, unload_entry


@pytest.fixture
def entry_options(entry_options: dict[str, Any]) -> dict[str, Any]:
    """Sync the primary calendar and a second one."""
    return {**entry_options, CONF_CALENDARS: [ACCOUNT, FAMILY]}


@pytest.fixture
def family(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Give the account a second calendar."""
    return calendar_emulator.add_calendar(
        ACCOUNT, "Family", calendar_id=FAMILY, time_zone="Europe/Berlin"
    )


@pytest.mark.usefixtures("family")
async def test_one_entity_per_calendar_on_the_account_device(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Each synced calendar is an entity named after it, on one service device."""
    family_entity = entity_registry.async_get(calendar_entity_id(FAMILY))
    primary_entity = entity_registry.async_get(calendar_entity_id(ACCOUNT))
    assert family_entity is not None
    assert primary_entity is not None
    assert family_entity.unique_id == f"{ACCOUNT}-{FAMILY}"
    assert family_entity.original_name == "Family"
    assert family_entity.device_id == primary_entity.device_id
    device = device_registry.async_get(family_entity.device_id or "")
    assert device is not None
    assert device.identifiers == {(DOMAIN, ACCOUNT)}
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.name == ACCOUNT
    assert hass.states.get(calendar_entity_id(FAMILY)).state == STATE_OFF


async def test_primary_calendar_named_after_the_account_gets_a_translated_name(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Google names the primary calendar after the account, so it gets a translated name."""
    primary_entity = entity_registry.async_get(calendar_entity_id(ACCOUNT))
    assert primary_entity is not None
    assert primary_entity.translation_key == "primary"
    assert primary_entity.original_name == "Primary calendar"
    state = hass.states.get(calendar_entity_id(ACCOUNT))
    assert state is not None
    assert state.name == f"{ACCOUNT} Primary calendar"


async def test_state_follows_the_current_event(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """The entity is on during an event and shows it in its attributes."""
    now = datetime.now(UTC)
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Call",
            "location": "Phone",
            "start": {"dateTime": (now - timedelta(minutes=5)).isoformat()},
            "end": {"dateTime": (now + timedelta(minutes=30)).isoformat()},
        },
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    state = hass.states.get(calendar_entity_id(ACCOUNT))
    assert state.state == STATE_ON
    assert state.attributes["message"] == "Call"
    assert state.attributes["location"] == "Phone"


async def test_recurring_event_with_moved_and_cancelled_instance(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """Instances are expanded locally: a moved one moves, a cancelled one is hidden."""
    first = datetime.now(UTC).replace(
        hour=9, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    master = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Gym",
            "start": {"dateTime": first.isoformat(), "timeZone": "UTC"},
            "end": {
                "dateTime": (first + timedelta(hours=1)).isoformat(),
                "timeZone": "UTC",
            },
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        },
    )

    def instance_id(day: int) -> str:
        start = first + timedelta(days=day)
        return f"{master['id']}_{start.strftime('%Y%m%dT%H%M%SZ')}"

    moved_start = first + timedelta(days=1, hours=3)
    calendar_emulator.patch_event(
        ACCOUNT,
        instance_id(1),
        {
            "summary": "Gym (late)",
            "start": {"dateTime": moved_start.isoformat(), "timeZone": "UTC"},
            "end": {
                "dateTime": (moved_start + timedelta(hours=1)).isoformat(),
                "timeZone": "UTC",
            },
        },
    )
    calendar_emulator.delete_event(ACCOUNT, instance_id(2))
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()

    events = await get_events(first - timedelta(hours=1), first + timedelta(days=6))

    assert [
        (event["summary"], datetime.fromisoformat(event["start"])) for event in events
    ] == [
        ("Gym", first),
        ("Gym (late)", moved_start),
        ("Gym", first + timedelta(days=3)),
        ("Gym", first + timedelta(days=4)),
    ]


async def test_all_day_events_are_dates(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """All-day events come back as dates with an exclusive end."""
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Holiday",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
        },
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    start = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1)
    events = await get_events(start, start + timedelta(days=3))
    assert [(e["summary"], e["start"], e["end"]) for e in events] == [
        ("Holiday", day.isoformat(), (day + timedelta(days=1)).isoformat())
    ]


async def test_a_month_of_a_large_calendar_is_read_without_api_calls(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """10,000 synced events: reading a month touches no network."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    coordinator.async_apply_remote_writes(
        {
            "id": f"event{number:05d}",
            "status": "confirmed",
            "summary": f"Event {number}",
            "start": {"dateTime": (start + timedelta(hours=number)).isoformat()},
            "end": {
                "dateTime": (start + timedelta(hours=number, minutes=30)).isoformat()
            },
        }
        for number in range(10_000)
    )
    api_calls = setup_integration.runtime_data.api.request_count
    calendar_emulator.requests.clear()

    events = await get_events(start, start + timedelta(days=30))

    assert len(events) == 30 * 24
    assert setup_integration.runtime_data.api.request_count == api_calls
    assert len(calendar_emulator.requests) == 0


async def test_unavailability_is_logged_once_and_recovery_once(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Repeated failures log one line; the recovery logs one more."""
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    entity_id = calendar_entity_id(ACCOUNT)
    error = GoogleTransientError(503, "backendError", "down")
    caplog.set_level(logging.INFO, logger="custom_components.google_calendar_sync")
    with patch.object(GoogleCalendarApi, "list_events", side_effect=error):
        for _ in range(3):
            await coordinator.async_request_sync()
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE
    await coordinator.async_request_sync()
    assert hass.states.get(entity_id).state != STATE_UNAVAILABLE

    messages = [
        record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.google_calendar_sync.calendar"
    ]
    assert messages == [
        f"Calendar {entity_id} is unavailable",
        f"Calendar {entity_id} is back",
    ]


def _entity(hass: HomeAssistant, entity_id: str) -> GoogleCalendarSyncCalendarEntity:
    """Return the entity object behind an entity id."""
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert isinstance(entity, GoogleCalendarSyncCalendarEntity)
    return entity


def _uncached(
    entity: GoogleCalendarSyncCalendarEntity, start: datetime, end: datetime
) -> list[CalendarEvent]:
    """Convert a range from the timeline the way it was done before caching."""
    return [
        calendar_module.to_calendar_event(event)
        for event in entity.coordinator.data.timelines[EventView.CALENDAR].overlapping(
            start, end
        )
    ]


def _content(events: list[CalendarEvent]) -> list[tuple[Any, ...]]:
    """Return what a reader sees of events, zones included."""
    return [(event.as_dict(), getattr(event.start, "tzinfo", None)) for event in events]


async def test_a_month_of_20000_events_is_read_from_converted_events(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
    config_entry: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Events around now are converted ahead of reads, equal to converting them."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    seed_load(calendar_emulator, ACCOUNT, now)
    await setup_entry(hass, config_entry)
    entity = _entity(hass, calendar_entity_id(ACCOUNT))
    start = now - timedelta(days=10)

    # How fast such a read is, test_reliability_load's timing test measures.
    end = start + timedelta(days=30)
    cached = await entity.async_get_events(hass, start, end)
    assert len(cached) > 1_000
    assert _content(cached) == _content(_uncached(entity, start, end))
    # Beyond the warmed months events are converted on demand, just as equal.
    later = now + timedelta(days=200)
    assert _content(
        await entity.async_get_events(hass, later, later + timedelta(days=30))
    ) == _content(_uncached(entity, later, later + timedelta(days=30)))
    await unload_entry(hass, config_entry)


async def test_a_changed_event_is_never_served_from_the_cache(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
) -> None:
    """A new summary or a move to another zone at the same instant shows at once."""
    begin = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    event = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Dentist",
            "start": {"dateTime": begin.isoformat(), "timeZone": "UTC"},
            "end": {
                "dateTime": (begin + timedelta(hours=1)).isoformat(),
                "timeZone": "UTC",
            },
        },
    )
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    await coordinator.async_sync()
    window = (begin - timedelta(hours=1), begin + timedelta(hours=2))
    assert [e["summary"] for e in await get_events(*window)] == ["Dentist"]

    calendar_emulator.patch_event(ACCOUNT, event["id"], {"summary": "Dentist (moved)"})
    await coordinator.async_sync()
    assert [e["summary"] for e in await get_events(*window)] == ["Dentist (moved)"]

    berlin = begin.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None)
    calendar_emulator.patch_event(
        ACCOUNT,
        event["id"],
        {
            "start": {"dateTime": berlin.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {
                "dateTime": (berlin + timedelta(hours=1)).isoformat(),
                "timeZone": "Europe/Berlin",
            },
        },
    )
    await coordinator.async_sync()
    [moved] = await get_events(*window)
    assert datetime.fromisoformat(moved["start"]) == begin
    assert (
        moved["start"] == berlin.replace(tzinfo=ZoneInfo("Europe/Berlin")).isoformat()
    )


async def test_a_repeated_read_converts_only_what_changed(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Converted events are kept with the timeline; a change converts one anew."""
    entity = _entity(hass, calendar_entity_id(ACCOUNT))
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=200)
    far = [
        {
            "id": f"far{number:02d}",
            "status": "confirmed",
            "summary": f"Far {number}",
            "start": {"dateTime": (start + timedelta(hours=number)).isoformat()},
            "end": {
                "dateTime": (start + timedelta(hours=number, minutes=30)).isoformat()
            },
        }
        for number in range(50)
    ]
    coordinator.async_apply_remote_writes(far)
    await hass.async_block_till_done()
    window = (start, start + timedelta(days=3))
    conversions: list[str] = []
    convert = calendar_module.to_calendar_event

    def counting(event: TimelineEvent) -> CalendarEvent:
        conversions.append(event.uid)
        return convert(event)

    with patch.object(calendar_module, "to_calendar_event", counting):
        first = await entity.async_get_events(hass, *window)
        again = await entity.async_get_events(hass, *window)
        coordinator.async_apply_remote_write({**far[7], "summary": "Renamed"})
        changed = await entity.async_get_events(hass, *window)

    assert len(first) == 50
    assert again == first
    assert conversions == [event["id"] for event in far] + ["far07"]
    assert [event.summary for event in changed] == [
        "Renamed" if number == 7 else f"Far {number}" for number in range(50)
    ]
    assert _content(changed) == _content(_uncached(entity, *window))


@contextmanager
def readied_off_the_loop() -> Iterator[tuple[threading.Event, threading.Event]]:
    """Hold every range being readied until go_on is set; check none ran here."""
    readying, go_on = threading.Event(), threading.Event()
    threads: set[str] = set()
    prepare = timeline_module.prepare_range

    def held(*args: Any) -> Prepared:
        threads.add(threading.current_thread().name)
        readying.set()
        go_on.wait()
        return prepare(*args)

    try:
        with patch.object(timeline_module, "prepare_range", held):
            yield readying, go_on
    finally:
        go_on.set()
    assert threads
    assert threading.current_thread().name not in threads


async def test_a_first_read_is_readied_in_the_executor(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """The loop goes on while a new month is found and converted; then it looks up."""
    entity = _entity(hass, calendar_entity_id(ACCOUNT))
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=200)
    setup_integration.runtime_data.coordinators[ACCOUNT].async_apply_remote_write(
        {"id": "far", "status": "confirmed", "summary": "Far", **_at(start)}
    )
    await hass.async_block_till_done()

    with readied_off_the_loop() as (readying, go_on):
        read = hass.async_create_task(
            entity.async_get_events(hass, start, start + timedelta(days=1))
        )
        assert await hass.async_add_executor_job(readying.wait, 30)
        assert not read.done()
        go_on.set()
        events = await read

    assert [event.summary for event in events] == ["Far"]


async def test_the_views_of_a_calendar_ready_one_range_at_a_time(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """A read waits while another view of its calendar readies a range.

    Each readying is pure Python and holds the GIL: side by side, the loop would
    wait for the GIL behind both.
    """
    calendar = _entity(hass, calendar_entity_id(ACCOUNT))
    birthdays = _view_entity_id(hass, ACCOUNT, EventView.BIRTHDAYS)
    assert birthdays is not None
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=200)
    setup_integration.runtime_data.coordinators[ACCOUNT].async_apply_remote_write(
        {"id": "far", "status": "confirmed", "summary": "Far", **_at(start)}
    )
    await hass.async_block_till_done()
    handed: list[Callable[..., Any]] = []
    add_executor_job = hass.async_add_executor_job

    def handing(target: Callable[..., Any], *args: Any) -> Any:
        handed.append(target)
        return add_executor_job(target, *args)

    with readied_off_the_loop() as (readying, go_on):
        read = hass.async_create_task(
            calendar.async_get_events(hass, start, start + timedelta(days=1))
        )
        assert await add_executor_job(readying.wait, 30)
        with patch.object(hass, "async_add_executor_job", handing):
            # Started eagerly: it has gone as far as it can before this returns.
            other = hass.async_create_task(
                _entity(hass, birthdays).async_get_events(
                    hass, start, start + timedelta(days=1)
                )
            )
            assert handed == []
            go_on.set()
            events = await read
            assert await other == []
        assert len(handed) == 1

    assert [event.summary for event in events] == ["Far"]


def _many_changes(emulator: GoogleCalendarEmulator, count: int) -> None:
    """Create more events in Google than a sync places in the index in place."""
    start = datetime.now(UTC).replace(microsecond=0)
    for number in range(count):
        emulator.insert_event(
            ACCOUNT,
            {
                "summary": f"Change {number}",
                "start": {"dateTime": (start + timedelta(days=number)).isoformat()},
                "end": {
                    "dateTime": (start + timedelta(days=number, hours=1)).isoformat()
                },
            },
        )


async def test_a_new_timeline_is_warmed_in_the_executor(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """After a sync of many changes the months around now are converted off the loop."""
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    _many_changes(calendar_emulator, REBUILD_ABOVE + 1)

    with readied_off_the_loop() as (readying, go_on):
        await coordinator.async_sync()
        assert await hass.async_add_executor_job(readying.wait, 30)
        go_on.set()
        await hass.async_block_till_done()


async def test_new_timelines_and_an_unload_stop_the_warm_up_in_flight(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Syncs that index anew in a row, then an unload, without waiting: nothing is left."""
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    for _ in range(2):
        _many_changes(calendar_emulator, REBUILD_ABOVE + 1)
        await coordinator.async_sync()
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    await hass.async_block_till_done()


async def test_an_invalid_event_is_left_out_of_the_read_and_the_warm_up(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """An event ending before it starts is skipped; reads of the range still work."""
    coordinator = setup_integration.runtime_data.coordinators[ACCOUNT]
    # In the warmed months but over, so the entity's state does not show it.
    begin = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    coordinator.async_apply_remote_write(
        {
            "id": "backwards",
            "status": "confirmed",
            "summary": "Backwards",
            "start": {"dateTime": begin.isoformat()},
            "end": {"dateTime": (begin - timedelta(hours=1)).isoformat()},
        }
    )
    await hass.async_block_till_done()

    entity = _entity(hass, calendar_entity_id(ACCOUNT))
    assert (
        await entity.async_get_events(
            hass, begin - timedelta(hours=2), begin + timedelta(hours=2)
        )
        == []
    )


# What Google shows: special event types, declined invitations, colors, free/busy.

TODAY = {"start": {"date": "2030-01-07"}, "end": {"date": "2030-01-08"}}


def _at(start: datetime, minutes: int = 60) -> dict[str, Any]:
    """Return the start and end of a timed event."""
    return {
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
    }


def _invitation(summary: str, answer: str, start: datetime) -> dict[str, Any]:
    """Return an event the account was invited to and answered."""
    return {
        "summary": summary,
        **_at(start),
        "attendees": [
            {"email": "boss@example.com", "responseStatus": "accepted"},
            {"email": ACCOUNT, "responseStatus": answer},
        ],
    }


async def _summaries(hass: HomeAssistant, entity_id: str, day: datetime) -> list[str]:
    """Return the summaries of a day of one calendar entity."""
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": entity_id,
            "start_date_time": day,
            "end_date_time": day + timedelta(days=1),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return [event["summary"] for event in response[entity_id]["events"]]  # type: ignore[index]


def _view_entity_id(
    hass: HomeAssistant, calendar_id: str, view: EventView
) -> str | None:
    """Return the entity id of one view of a calendar, None if it has none."""
    return er.async_get(hass).async_get_entity_id(
        "calendar", DOMAIN, calendar_unique_id(ACCOUNT, calendar_id, view)
    )


async def _reload(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    """Change options and reload the entry."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **options})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("family")
async def test_birthdays_and_working_locations_get_calendars_of_their_own(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Like Google, the calendar leaves out birthdays and working locations."""
    day = datetime(2030, 1, 7, tzinfo=UTC)
    for body in (
        {"summary": "Meeting", **_at(day + timedelta(hours=9))},
        {
            "summary": "Away",
            "eventType": "outOfOffice",
            **_at(day + timedelta(hours=13)),
        },
        {
            "summary": "Deep work",
            "eventType": "focusTime",
            **_at(day + timedelta(hours=15)),
        },
        {
            "summary": "Ada's birthday",
            "eventType": "birthday",
            **TODAY,
            "recurrence": ["RRULE:FREQ=YEARLY"],
        },
        {"summary": "Office", "eventType": "workingLocation", **TODAY},
    ):
        calendar_emulator.insert_event(ACCOUNT, body)
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()

    primary = calendar_entity_id(ACCOUNT)
    birthdays = _view_entity_id(hass, ACCOUNT, EventView.BIRTHDAYS)
    working = _view_entity_id(hass, ACCOUNT, EventView.WORKING_LOCATIONS)
    assert birthdays == "calendar.user_example_com_birthdays"
    assert working is not None
    assert await _summaries(hass, primary, day) == ["Meeting", "Away", "Deep work"]
    assert await _summaries(hass, birthdays, day) == ["Ada's birthday"]
    assert await _summaries(hass, birthdays, day.replace(year=2031)) == [
        "Ada's birthday"
    ]
    # Working locations are opt-in, like in Home Assistant's Google integration.
    working_entry = entity_registry.async_get(working)
    assert working_entry is not None
    assert working_entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert working_entry.original_name == "Working location"
    assert hass.states.get(working) is None
    # Google keeps these types on primary calendars: other calendars get no view.
    assert _view_entity_id(hass, FAMILY, EventView.BIRTHDAYS) is None
    state = hass.states.get(birthdays)
    assert state is not None
    assert state.attributes["supported_features"] == 0


async def test_enabled_working_locations_show_them(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Enabling the working location calendar shows where the user works."""
    calendar_emulator.insert_event(
        ACCOUNT, {"summary": "Home", "eventType": "workingLocation", **TODAY}
    )
    working = _view_entity_id(hass, ACCOUNT, EventView.WORKING_LOCATIONS)
    assert working is not None
    entity_registry.async_update_entity(working, disabled_by=None)
    await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    day = datetime(2030, 1, 7, tzinfo=UTC)
    assert await _summaries(hass, working, day) == ["Home"]


async def test_declined_invitations_are_hidden_unless_shown_greyed_out(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Declined invitations are hidden, or shown in a grey calendar of their own."""
    day = datetime(2030, 1, 7, tzinfo=UTC)
    calendar_emulator.insert_event(
        ACCOUNT, _invitation("Accepted", "accepted", day + timedelta(hours=9))
    )
    calendar_emulator.insert_event(
        ACCOUNT, _invitation("Declined", "declined", day + timedelta(hours=10))
    )
    calendar_emulator.insert_event(
        ACCOUNT, _invitation("Maybe", "tentative", day + timedelta(hours=11))
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    primary = calendar_entity_id(ACCOUNT)
    assert await _summaries(hass, primary, day) == ["Accepted", "Maybe"]
    assert _view_entity_id(hass, ACCOUNT, EventView.DECLINED) is None

    await _reload(hass, setup_integration, **{CONF_SHOW_DECLINED: True})
    declined = _view_entity_id(hass, ACCOUNT, EventView.DECLINED)
    assert declined == "calendar.user_example_com_declined_invitations"
    assert await _summaries(hass, primary, day) == ["Accepted", "Maybe"]
    assert await _summaries(hass, declined, day) == ["Declined"]
    declined_entry = entity_registry.async_get(declined)
    assert declined_entry is not None
    assert declined_entry.options["calendar"] == {"color": DECLINED_COLOR}

    # Turned off again, the extra calendar goes away.
    await _reload(hass, setup_integration, **{CONF_SHOW_DECLINED: False})
    assert _view_entity_id(hass, ACCOUNT, EventView.DECLINED) is None


@pytest.mark.usefixtures("family")
@pytest.mark.parametrize(
    "entry_options",
    [{CONF_CALENDARS: [ACCOUNT, FAMILY], CONF_SHOW_DECLINED: True}],
)
async def test_declined_calendar_of_a_named_calendar_says_whose(
    setup_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    hass: HomeAssistant,
) -> None:
    """A declined view names its calendar unless it is the unnamed primary one."""
    declined = _view_entity_id(hass, FAMILY, EventView.DECLINED)
    assert declined is not None
    entry = entity_registry.async_get(declined)
    assert entry is not None
    assert entry.original_name == "Family declined invitations"


async def test_calendars_take_their_color_from_google(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The entity's initial color is the calendar's; colors.get runs once per setup."""
    calendar_emulator.add_calendar(ACCOUNT, "Family", calendar_id=FAMILY, color_id="7")
    async with loaded_entry(hass, config_entry):
        primary = _view_entity_id(hass, ACCOUNT, EventView.CALENDAR)
        family = _view_entity_id(hass, FAMILY, EventView.CALENDAR)
        assert primary is not None
        assert family is not None
        assert entity_registry.async_get(primary).options["calendar"] == {  # type: ignore[union-attr]
            "color": "#9fe1e7"
        }
        assert entity_registry.async_get(family).options["calendar"] == {  # type: ignore[union-attr]
            "color": "#42d692"
        }
        assert calendar_emulator.requests.count("GET", "/colors") == 1
        await hass.config_entries.async_reload(config_entry.entry_id)
        await hass.async_block_till_done()
        assert calendar_emulator.requests.count("GET", "/colors") == 2


async def test_free_events_do_not_make_the_calendar_busy_unless_chosen(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """An event marked free leaves the state off; the option makes it count."""
    now = datetime.now(UTC)
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Free lunch",
            "transparency": "transparent",
            **_at(now - timedelta(minutes=5), 60),
        },
    )
    calendar_emulator.insert_event(
        ACCOUNT, {"summary": "Later", **_at(now + timedelta(hours=3))}
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    entity_id = calendar_entity_id(ACCOUNT)
    state = hass.states.get(entity_id)
    assert state.state == STATE_OFF
    assert state.attributes["message"] == "Later"
    # Still listed: free events are shown, they just do not block time.
    assert "Free lunch" in await _summaries(hass, entity_id, now - timedelta(hours=1))

    await _reload(hass, setup_integration, **{CONF_FREE_EVENTS_BUSY: [ACCOUNT]})
    state = hass.states.get(entity_id)
    assert state.state == STATE_ON
    assert state.attributes["message"] == "Free lunch"


async def test_out_of_office_is_shown_as_such(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """The current event's type is an attribute: out of office reads as such."""
    entity_id = calendar_entity_id(ACCOUNT)
    assert "event_kind" not in hass.states.get(entity_id).attributes
    now = datetime.now(UTC)
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Vacation",
            "eventType": "outOfOffice",
            **_at(now - timedelta(minutes=5), 120),
        },
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    state = hass.states.get(entity_id)
    assert state.state == STATE_ON
    assert state.attributes["event_kind"] == "out_of_office"
