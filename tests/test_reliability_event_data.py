"""Bad event data: one event Home Assistant cannot show never costs the others.

The emulator stores the broken resources unchecked (as data Google's own checks
would refuse) and serves them through events.list like any other event; the
property test at the end feeds random, partly broken resources through sync,
timeline and entity. CI runs a modest, derandomized number of examples;
GCS_LONG=1 runs many more.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from datetime import UTC, date, datetime, timedelta
import logging
import os
import tempfile
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import CalendarEvent
from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.calendar import (
    GoogleCalendarSyncCalendarEntity,
)
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from custom_components.google_calendar_sync.google.errors import GoogleGoneError
from custom_components.google_calendar_sync.google.sync import (
    CalendarSnapshot,
    async_sync_calendar,
)
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline
from custom_components.google_calendar_sync.journal import CalendarLog
from google_calendar_emulator import GoogleCalendarEmulator

from .common import loaded_entry
from .conftest import ACCOUNT, GetEvents

LONG = os.environ.get("GCS_LONG") == "1"
# A fixed day far from the wall clock: every event is absolute.
DAY = datetime(2030, 3, 12, tzinfo=UTC)
MISSING = object()


def resource(event_id: Any = MISSING, **fields: Any) -> dict[str, Any]:
    """Return a one-hour event resource on DAY, with fields replaced or removed."""
    event: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{event_id}-1"',
        "status": "confirmed",
        "summary": f"Event {event_id}",
        "start": {"dateTime": (DAY + timedelta(hours=9)).isoformat()},
        "end": {"dateTime": (DAY + timedelta(hours=10)).isoformat()},
    }
    if event_id is not MISSING:
        event["id"] = event_id
    event.update(fields)
    return {key: value for key, value in event.items() if value is not MISSING}


NOON = (DAY + timedelta(hours=12)).isoformat()
NINE = (DAY + timedelta(hours=9)).isoformat()
# Resources Home Assistant cannot show: each is skipped with one warning.
SKIPPED = {
    "nostart": resource("nostart", start=MISSING),
    "noend": resource("noend", end=MISSING),
    "nullstart": resource("nullstart", start=None),
    "nullend": resource("nullend", end=None),
    "textstart": resource("textstart", start=NOON),
    "liststart": resource("liststart", start=[NOON]),
    "listend": resource("listend", end=[]),
    "backwards": resource(
        "backwards", start={"dateTime": NOON}, end={"dateTime": DAY.isoformat()}
    ),
    "both": resource("both", start={"date": "2030-03-12", "dateTime": NOON}),
    "mixed": resource("mixed", end={"date": "2030-03-13"}),
    "badtime": resource("badtime", start={"dateTime": "noon-ish"}),
    "baddate": resource(
        "baddate", start={"date": "2030-02-30"}, end={"date": "2030-03-01"}
    ),
    "numbertime": resource("numbertime", end={"dateTime": 1234}),
    "badrule": resource("badrule", recurrence=["RRULE:FREQ=SOMETIMES"]),
    "numberrule": resource("numberrule", recurrence=[42]),
    "textrule": resource("textrule", recurrence="RRULE:FREQ=DAILY"),
    "nullrule": resource("nullrule", recurrence=[None]),
    "listsummary": resource("listsummary", summary=["a", "b"]),
    "badparent": resource("badparent", recurringEventId=["x"]),
}
# Odd but readable (summaries name them): shown like any other event.
SHOWN = {
    "good": resource("good"),
    "nostatus": resource("nostatus", status=MISSING),
    "unknownzone": resource(
        "unknownzone", start={"dateTime": NINE, "timeZone": "Mars/Olympus_Mons"}
    ),
    "emptyzone": resource("emptyzone", start={"dateTime": NINE, "timeZone": ""}),
    "longzone": resource("longzone", start={"dateTime": NINE, "timeZone": "x" * 300}),
    "pathzone": resource(
        "pathzone",
        start={"dateTime": NINE, "timeZone": "../../../../etc/passwd"},
        end={"dateTime": NOON, "timeZone": "/" + "a/" * 150},
    ),
    "numberzone": resource("numberzone", start={"dateTime": NINE, "timeZone": 5}),
    "allday": resource(
        "allday", start={"date": "2030-03-12"}, end={"date": "2030-03-13"}
    ),
}


SHOWN_SUMMARIES = sorted(f"Event {event_id}" for event_id in SHOWN)


def put_all(emulator: GoogleCalendarEmulator, resources: list[dict[str, Any]]) -> None:
    """Store resources unchecked in the primary calendar."""
    for item in resources:
        emulator.put_unchecked_event(ACCOUNT, item)


def coordinator_of(entry: MockConfigEntry) -> CalendarSyncCoordinator:
    """Return the coordinator of the primary calendar."""
    coordinator: CalendarSyncCoordinator = entry.runtime_data.coordinators[ACCOUNT]
    return coordinator


def entity_of(
    hass: HomeAssistant, calendar_entity_id: Callable[[str], str]
) -> GoogleCalendarSyncCalendarEntity:
    """Return the entity object of the primary calendar."""
    entity = hass.data[DATA_COMPONENT].get_entity(calendar_entity_id(ACCOUNT))
    assert isinstance(entity, GoogleCalendarSyncCalendarEntity)
    return entity


def summaries(events: list[dict[str, Any]]) -> set[str]:
    """Return the summaries of events read through calendar.get_events."""
    return {event["summary"] for event in events}


def skip_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the messages of the skip warnings logged so far."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "Skipping event" in record.message
    ]


def assert_no_errors(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing failed: no error, no traceback, no 'Unexpected error'."""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Unexpected error" not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.usefixtures("setup_credentials")
async def test_bad_events_are_skipped_once_and_the_others_stay_readable(  # noqa: PLR0917
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    config_entry: MockConfigEntry,
    get_events: GetEvents,
    calendar_entity_id: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every kind of broken resource, in the first full sync and incremental ones."""
    put_all(calendar_emulator, [*SKIPPED.values(), *SHOWN.values()])
    put_all(calendar_emulator, [resource(summary="No id")])

    async with loaded_entry(hass, config_entry) as entry:
        assert entry.state is ConfigEntryState.LOADED
        events = await get_events(DAY - timedelta(days=1), DAY + timedelta(days=2))
        assert sorted(event["summary"] for event in events) == SHOWN_SUMMARIES
        entity = entity_of(hass, calendar_entity_id)
        # Twice: a skip is reported once, not per query.
        for _ in range(2):
            found = await entity.async_get_events(hass, DAY, DAY + timedelta(days=1))
            assert {event.uid for event in found} == set(SHOWN)

        # The same resources again (incremental), then a full resync (410).
        coordinator = coordinator_of(entry)
        put_all(calendar_emulator, list(SKIPPED.values()))
        await coordinator.async_sync()
        calendar_emulator.invalidate_sync_tokens(ACCOUNT)
        await coordinator.async_sync()
        events = await get_events(DAY - timedelta(days=1), DAY + timedelta(days=2))
        assert sorted(event["summary"] for event in events) == SHOWN_SUMMARIES
        assert coordinator.last_update_success

    warnings = skip_warnings(caplog)
    for event_id in SKIPPED:
        named = [message for message in warnings if f"event {event_id} " in message]
        assert len(named) == 1, (event_id, warnings)
        assert ACCOUNT in named[0]
    assert len([m for m in warnings if "without an id" in m]) == 1
    assert len(warnings) == len(SKIPPED) + 1
    assert_no_errors(caplog)


async def test_an_event_broken_by_an_edit_goes_and_comes_back_when_fixed(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    get_events: GetEvents,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An edit Home Assistant cannot show removes the old version; a fix restores it."""
    coordinator = coordinator_of(setup_integration)
    span = (DAY - timedelta(days=1), DAY + timedelta(days=2))
    put_all(calendar_emulator, [resource("edited"), resource("other")])
    await coordinator.async_sync()
    assert summaries(await get_events(*span)) == {"Event edited", "Event other"}

    for broken in (
        resource("edited", etag='"2"', start="soon"),
        resource("edited", etag='"3"', recurringEventId=7),
    ):
        put_all(calendar_emulator, [broken])
        await coordinator.async_sync()
        assert summaries(await get_events(*span)) == {"Event other"}

    put_all(calendar_emulator, [resource("edited", etag='"4"', summary="Fixed")])
    await coordinator.async_sync()
    assert summaries(await get_events(*span)) == {"Fixed", "Event other"}
    assert len(skip_warnings(caplog)) == 2
    assert_no_errors(caplog)


@pytest.mark.usefixtures("setup_credentials")
async def test_an_instance_home_assistant_refuses_costs_only_itself(  # noqa: PLR0917
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    config_entry: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Core's local-time duration check goes negative across the fall-back hour.

    A 30-minute instance at 08:30Z on 2026-11-01 read with Home Assistant's zone
    set to US/Pacific starts at 01:30 PDT and ends at 01:00 PST: core refuses it.
    """
    await hass.config.async_set_time_zone("US/Pacific")
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "id": "standup",
            "summary": "Stand-up",
            "start": {"dateTime": "2026-10-30T08:30:00Z", "timeZone": "UTC"},
            "end": {"dateTime": "2026-10-30T09:00:00Z", "timeZone": "UTC"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"],
        },
    )
    calendar_emulator.insert_event(
        ACCOUNT,
        {
            "id": "brunch",
            "summary": "Brunch",
            "start": {"dateTime": "2026-11-01T18:00:00Z"},
            "end": {"dateTime": "2026-11-01T19:00:00Z"},
        },
    )
    async with loaded_entry(hass, config_entry):
        entity = entity_of(hass, calendar_entity_id)
        start = datetime(2026, 10, 29, tzinfo=UTC)
        found = await entity.async_get_events(hass, start, start + timedelta(days=7))
        uids = [event.uid for event in found]
        assert uids == [
            "standup_20261030T083000Z",
            "standup_20261031T083000Z",
            "brunch",
            "standup_20261102T083000Z",
            "standup_20261103T083000Z",
        ]

        # While the refused instance runs, the state shows the next one it can.
        freezer.move_to(datetime(2026, 11, 1, 8, 40, tzinfo=UTC))
        event = entity.event
        assert event is not None
        assert event.uid == "brunch"
        entity.async_write_ha_state()
        assert hass.states.get(entity.entity_id).state == STATE_OFF  # type: ignore[union-attr]
        freezer.move_to(datetime(2026, 11, 1, 18, 30, tzinfo=UTC))
        entity.async_write_ha_state()
        assert hass.states.get(entity.entity_id).state == STATE_ON  # type: ignore[union-attr]
        await entity.async_get_events(hass, start, start + timedelta(days=7))

    warnings = skip_warnings(caplog)
    assert len(warnings) == 1
    assert "standup_20261101T083000Z" in warnings[0]
    assert ACCOUNT in warnings[0]


# --- property test ---------------------------------------------------------------

_TEXT = st.one_of(st.none(), st.text(max_size=8), st.integers(), st.lists(st.none()))
_ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "US/Pacific", "", "Mars/Base", "x" * 300, "../etc", 7]
)
# Hypothesis takes naive bounds; aware values come from its timezones argument.
_LOW = datetime(2029, 1, 1)  # noqa: DTZ001
_HIGH = datetime(2031, 12, 31)  # noqa: DTZ001
_DATE_TEXT = st.one_of(
    st.dates(min_value=_LOW.date(), max_value=_HIGH.date()).map(date.isoformat),
    st.sampled_from(["2030-02-30", "", "0001-01-01", "9999-12-31", "soon"]),
)
_DATETIME_TEXT = st.one_of(
    st.datetimes(
        min_value=_LOW,
        max_value=_HIGH,
        timezones=st.sampled_from([None, UTC, ZoneInfo("US/Pacific")]),
    ).map(lambda moment: moment.replace(microsecond=0).isoformat()),
    st.sampled_from(["2030-03-12T25:00:00Z", "9999-12-31T23:59:59-12:00", "x"]),
)
_TIME = st.one_of(
    st.fixed_dictionaries({"date": _DATE_TEXT}),
    st.fixed_dictionaries({"dateTime": _DATETIME_TEXT}, optional={"timeZone": _ZONES}),
    st.fixed_dictionaries({"date": _DATE_TEXT, "dateTime": _DATETIME_TEXT}),
    _TEXT,
    st.just({}),
)
_RULES = st.sampled_from(
    [
        "RRULE:FREQ=DAILY;COUNT=3",
        "RRULE:FREQ=WEEKLY;UNTIL=20300601T000000Z",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=31",
        "RRULE:FREQ=SOMETIMES",
        "EXDATE:20300313T090000Z",
        "RDATE;TZID=Nowhere/Land:20300314T090000",
        "RRULE:",
        "",
    ]
)
_RECURRENCE = st.one_of(
    st.lists(st.one_of(_RULES, _TEXT), max_size=3), _TEXT, st.just(MISSING)
)
_IDS = st.sampled_from(["a", "b", "c", "a_20300312T090000Z", "b_20300312"])
_RESOURCE = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(_IDS, _TEXT),
        "etag": st.sampled_from(['"1"', '"2"']),
        "status": st.sampled_from(["confirmed", "cancelled", "tentative", None, 3]),
        "summary": st.one_of(_TEXT, st.just("\ud800 lone")),
        "description": _TEXT,
        "start": _TIME,
        "end": _TIME,
        "recurrence": _RECURRENCE,
        "recurringEventId": st.one_of(_IDS, _TEXT),
        "originalStartTime": _TIME,
    },
).map(lambda item: {k: v for k, v in item.items() if v is not MISSING})
_ITEMS = st.lists(st.one_of(_RESOURCE, _TEXT), max_size=6)

_SETTINGS = settings(
    max_examples=3000 if LONG else 150,
    deadline=None,
    derandomize=not LONG,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Listings:
    """An event source answering each events.list with the next of its answers."""

    def __init__(self, *answers: list[Any] | Exception) -> None:
        """Keep the answers: items of one page, or an error to raise."""
        self._answers = list(answers)

    async def list_events(self, calendar_id: str, **query: Any) -> dict[str, Any]:
        """Return the next page (with a sync token), or raise the next error."""
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"items": answer, "nextSyncToken": f"t{len(self._answers)}"}


@_SETTINGS
@given(first=_ITEMS, second=_ITEMS, zone=_ZONES)
async def test_random_broken_resources_never_raise(
    first: list[Any], second: list[Any], zone: Any
) -> None:
    """Sync, store, timeline and conversion take anything Google could send."""
    skipped: list[tuple[Any, Any, str]] = []

    def on_skip(event_id: str | None, event: Any, reason: str) -> None:
        skipped.append((event_id, event, reason))

    now = DAY + timedelta(hours=9, minutes=30)
    # A first full sync, an incremental one, then a full one after a 410.
    source = Listings(
        first, second, GoogleGoneError(410, "fullSyncRequired", ""), second
    )
    snapshot = CalendarSnapshot()
    for window in (timedelta(days=365), None, timedelta(days=30)):
        result = await async_sync_calendar(
            source, ACCOUNT, snapshot, now=now, window=window, on_skip=on_skip
        )
        snapshot = result.snapshot
    # The store writes it, and reads back what it wrote.
    with tempfile.TemporaryDirectory() as folder:
        log = CalendarLog(os.path.join(folder, "calendar.jsonl"), ACCOUNT)
        log.save(snapshot.sync_token, snapshot.events, snapshot.last_synced)
        stored = CalendarLog(log.path, ACCOUNT).load()
    assert stored is not None
    assert set(stored.events) == set(snapshot.events)
    timeline = CalendarTimeline(
        snapshot.events.values(), default_time_zone=zone, on_skip=on_skip
    )
    timeline.warm(now)
    found = timeline.overlapping(now - timedelta(days=400), now + timedelta(days=400))
    if (active := timeline.active_or_next(now)) is not None:
        found.append(active)
    for event in found:
        assert isinstance(event.summary, str)
        # What the entity does with each: Home Assistant's own checks may refuse.
        with contextlib.suppress(HomeAssistantError):
            CalendarEvent(
                start=event.start,
                end=event.end,
                summary=event.summary,
                description=event.description,
                location=event.location,
                uid=event.uid,
                recurrence_id=event.recurrence_id,
                rrule=event.rrule,
            )
