"""Home Assistant's own writes are never announced as changes made in Google.

Push is live in every test: Google's notification of our own write reaches the
webhook, often before the answer to the write, and a sync lands while the write
or the export is still on its way. Changes made in Google meanwhile are still
announced, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Coroutine
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.calendar import CalendarEntity
from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_PUSH_ENABLED,
    DOMAIN,
    EVENT_CHANGED,
)
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from custom_components.google_calendar_sync.export import AUTO_EXPORT_COOLDOWN
from custom_components.google_calendar_sync.google.diff import ChangeSet
from google_calendar_emulator import FaultKind, GoogleCalendarEmulator

from .common import loaded_entry
from .conftest import ACCOUNT
from .reliability_helpers import serve_http

WORK = "work@group.calendar.example.com"
# Long enough for the notification and a whole sync to overtake the answer.
SLOW = 0.3


@pytest.fixture
def entry_options(entry_options: dict[str, Any]) -> dict[str, Any]:
    """Sync the primary calendar with push live."""
    return {**entry_options, CONF_PUSH_ENABLED: True}


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> AsyncGenerator[MockConfigEntry]:
    """Serve the webhook, then set the entry up with push live."""
    await serve_http(hass, hass_client_no_auth)
    async with loaded_entry(hass, config_entry):
        yield config_entry


def _coordinator(entry: MockConfigEntry) -> CalendarSyncCoordinator:
    coordinator: CalendarSyncCoordinator = entry.runtime_data.coordinators[ACCOUNT]
    return coordinator


async def _settle(hass: HomeAssistant, emulator: GoogleCalendarEmulator) -> None:
    """Wait until every notification is delivered and every sync it started ran."""
    await emulator.notifications_idle()
    await hass.async_block_till_done()
    await emulator.notifications_idle()
    await hass.async_block_till_done()


class SyncOnChange:
    """Start a sync when Google commits the n-th change of the primary calendar."""

    def __init__(
        self,
        hass: HomeAssistant,
        emulator: GoogleCalendarEmulator,
        coordinator: CalendarSyncCoordinator,
        after: int,
        also: Callable[[], object] | None = None,
    ) -> None:
        self._hass = hass
        self._coordinator = coordinator
        self._after = after
        self._also = also
        self._seen = 0
        self.sync: asyncio.Task[ChangeSet] | None = None
        self._remove = emulator.model.add_change_listener(self._changed)

    def _changed(self, calendar_id: str) -> None:
        if calendar_id != ACCOUNT or self.sync is not None:
            return
        self._seen += 1
        if self._seen < self._after:
            return
        self._remove()
        self.sync = self._hass.async_create_task(self._coordinator.async_sync())
        if self._also is not None:
            self._hass.loop.call_soon(self._also)

    async def changes(self) -> ChangeSet:
        """Return what the sync started in between announced."""
        assert self.sync is not None
        return await self.sync


def _announced(changes: list[Event]) -> list[tuple[str, str]]:
    return [(change.data["change"], change.data["summary"]) for change in changes]


def _appointments(count: int) -> list[dict[str, Any]]:
    start = (dt_util.now() + timedelta(days=1)).replace(minute=0, second=0)
    return [
        {
            "uid": f"visit-{number}",
            "summary": f"Visit {number}",
            "start": (start + timedelta(hours=number)).isoformat(),
            "end": (start + timedelta(hours=number, minutes=30)).isoformat(),
        }
        for number in range(count)
    ]


def _foreign(emulator: GoogleCalendarEmulator) -> Callable[[], object]:
    """Return an edit made in Google by someone else, while we write."""
    start = dt_util.utcnow() + timedelta(days=3)

    def insert() -> object:
        return emulator.insert_event(
            ACCOUNT,
            {
                "summary": "Made in Google",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            },
        )

    return insert


async def test_export_of_60_with_a_sync_between_its_batches_announces_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """Two batches (50 + 10); a sync lands after the first: only Google's edit is news."""
    changes = async_capture_events(hass, EVENT_CHANGED)
    between = SyncOnChange(
        hass,
        calendar_emulator,
        _coordinator(entry),
        after=50,
        also=_foreign(calendar_emulator),
    )

    response = await hass.services.async_call(
        DOMAIN,
        "export_appointments",
        {"entity_id": calendar_entity_id(ACCOUNT), "appointments": _appointments(60)},
        blocking=True,
        return_response=True,
    )
    await _settle(hass, calendar_emulator)

    assert response[calendar_entity_id(ACCOUNT)]["created"] == 60
    assert _announced(changes) == [("created", "Made in Google")]
    assert len(await between.changes()) <= 1
    assert len(_coordinator(entry).snapshot.events) == 61


@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT, WORK],
            CONF_PUSH_ENABLED: True,
            CONF_EXPORT_SOURCES: ["calendar.user_example_com_work"],
            CONF_EXPORT_TARGET: ACCOUNT,
        }
    ],
)
@pytest.mark.usefixtures("work_calendar")
async def test_automatic_export_with_a_sync_between_its_batches_announces_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The automatic export of 60 events is no news in the target calendar either."""
    changes = async_capture_events(hass, EVENT_CHANGED)
    between = SyncOnChange(hass, calendar_emulator, _coordinator(entry), after=50)

    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await _settle(hass, calendar_emulator)

    assert len(calendar_emulator.events(ACCOUNT)) == 60
    assert changes == []
    assert len(await between.changes()) == 0


@pytest.fixture
def work_calendar(calendar_emulator: GoogleCalendarEmulator) -> None:
    """Add a calendar "Work" holding 60 future events (an export source)."""
    calendar_emulator.add_calendar(ACCOUNT, "Work", calendar_id=WORK)
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    for number in range(60):
        begin = start + timedelta(days=1, hours=number)
        calendar_emulator.insert_event(
            WORK,
            {
                "summary": f"Shift {number}",
                "start": {"dateTime": begin.isoformat()},
                "end": {"dateTime": (begin + timedelta(minutes=30)).isoformat()},
            },
        )


def _entity(hass: HomeAssistant, entity_id: str) -> CalendarEntity:
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert isinstance(entity, CalendarEntity)
    return entity


type Write = Callable[[HomeAssistant, str, dict[str, Any]], Coroutine[Any, Any, None]]


async def _entity_create(
    hass: HomeAssistant, entity_id: str, _: dict[str, Any]
) -> None:
    start = dt_util.now() + timedelta(days=2)
    await _entity(hass, entity_id).async_create_event(
        summary="Ours", dtstart=start, dtend=start + timedelta(hours=1)
    )


async def _entity_update(
    hass: HomeAssistant, entity_id: str, existing: dict[str, Any]
) -> None:
    start = dt_util.now() + timedelta(days=2)
    await _entity(hass, entity_id).async_update_event(
        existing["id"],
        {
            "summary": "Ours, renamed",
            "dtstart": start,
            "dtend": start + timedelta(hours=1),
        },
    )


async def _entity_delete(
    hass: HomeAssistant, entity_id: str, existing: dict[str, Any]
) -> None:
    await _entity(hass, entity_id).async_delete_event(existing["id"])


async def _create_event_action(
    hass: HomeAssistant, entity_id: str, _: dict[str, Any]
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "create_event",
        {
            "entity_id": entity_id,
            "summary": "Ours",
            "start_date_time": dt_util.now() + timedelta(days=2),
            "duration": {"hours": 1},
        },
        blocking=True,
        return_response=True,
    )


@pytest.mark.parametrize(
    ("write", "method"),
    [
        (_entity_create, "POST"),
        (_entity_update, "PATCH"),
        (_entity_delete, "DELETE"),
        (_create_event_action, "POST"),
    ],
)
async def test_push_of_our_own_write_before_its_answer_announces_nothing(
    hass: HomeAssistant,
    *,
    entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    calendar_entity_id: Callable[[str], str],
    write: Write,
    method: str,
) -> None:
    """Google notifies (and a sync lists) our write while its answer is delayed."""
    start = dt_util.utcnow() + timedelta(days=2)
    existing = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Existing",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        },
    )
    await _coordinator(entry).async_sync()
    await _settle(hass, calendar_emulator)
    changes = async_capture_events(hass, EVENT_CHANGED)
    calendar_emulator.faults.add(
        FaultKind.SLOW_ANSWER, method=method, path_contains="/events", delay=SLOW
    )
    between = SyncOnChange(
        hass,
        calendar_emulator,
        _coordinator(entry),
        after=1,
        also=_foreign(calendar_emulator),
    )

    await write(hass, calendar_entity_id(ACCOUNT), existing)
    await _settle(hass, calendar_emulator)

    assert calendar_emulator.faults.pending == 0
    assert _announced(changes) == [("created", "Made in Google")]
    assert len(await between.changes()) <= 1
