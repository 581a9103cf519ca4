"""The writer: Home Assistant edits become conditional Google writes, stored at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.calendar import CalendarEvent
from homeassistant.components.calendar.const import (
    DATA_COMPONENT,
    CalendarEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
)
from custom_components.google_calendar_sync.convert import RANGE_THIS_AND_FUTURE
from custom_components.google_calendar_sync.writer import EventWriter
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, SHARED


@pytest.fixture
async def ws(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
    """Return a helper sending one websocket command and returning its answer."""
    client = await hass_ws_client(hass)

    async def _send(message: dict[str, Any]) -> dict[str, Any]:
        await client.send_json_auto_id(message)
        answer: dict[str, Any] = await client.receive_json()
        return answer

    return _send


def _coordinator(entry: MockConfigEntry, calendar_id: str = ACCOUNT) -> Any:
    return entry.runtime_data.coordinators[calendar_id]


async def _entity_events(
    hass: HomeAssistant, entity_id: str, days: int = 30
) -> list[CalendarEvent]:
    """Read the entity's events (with uid and recurrence id), no sync involved."""
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    start = dt_util.now() - timedelta(days=1)
    events: list[CalendarEvent] = await entity.async_get_events(
        hass, start, start + timedelta(days=days)
    )
    return events


def _tomorrow_at(hour: int) -> datetime:
    return (dt_util.now() + timedelta(days=1)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


async def _create(
    ws: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    entity_id: str,
    **event: Any,
) -> dict[str, Any]:
    return await ws(
        {"type": "calendar/event/create", "entity_id": entity_id, "event": event}
    )


@dataclass
class Panel:
    """The calendar entity, driven the way Home Assistant's calendar panel does."""

    hass: HomeAssistant
    entity_id: str
    send: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

    async def create(self, **event: Any) -> dict[str, Any]:
        """Send a create."""
        return await _create(self.send, self.entity_id, **event)

    async def update(
        self, uid: str, event: dict[str, Any], **recurrence: str | None
    ) -> dict[str, Any]:
        """Send an update; recurrence_id/recurrence_range go along when given."""
        return await self.send(
            {
                "type": "calendar/event/update",
                "entity_id": self.entity_id,
                "uid": uid,
                **recurrence,
                "event": event,
            }
        )

    async def delete(self, uid: str, **recurrence: str | None) -> dict[str, Any]:
        """Send a delete; recurrence_id/recurrence_range go along when given."""
        return await self.send(
            {
                "type": "calendar/event/delete",
                "entity_id": self.entity_id,
                "uid": uid,
                **recurrence,
            }
        )

    async def events(self) -> list[CalendarEvent]:
        """Read the entity's events, no sync involved."""
        return await _entity_events(self.hass, self.entity_id)

    async def recurring(self, rrule: str = "FREQ=DAILY;COUNT=5") -> list[CalendarEvent]:
        """Create a daily standup series; return its five instances."""
        start = _tomorrow_at(10)
        answer = await self.create(
            summary="Standup",
            dtstart=start.isoformat(),
            dtend=(start + timedelta(minutes=15)).isoformat(),
            rrule=rrule,
        )
        assert answer["success"], answer
        instances = await self.events()
        assert len(instances) == 5
        return instances


@pytest.fixture
def panel(
    hass: HomeAssistant,
    entity_id: str,
    ws: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
) -> Panel:
    """Return the primary calendar's entity as the calendar panel drives it."""
    return Panel(hass, entity_id, ws)


async def test_create_timed_event_shows_before_sync_and_sync_reports_nothing(
    hass: HomeAssistant,
    panel: Panel,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A created event is stored from Google's answer; the next sync sees no news."""
    start = _tomorrow_at(9)
    answer = await panel.create(
        summary="Dentist",
        dtstart=start.isoformat(),
        dtend=(start + timedelta(hours=1)).isoformat(),
        location="Main street",
    )
    assert answer["success"], answer
    [stored] = calendar_emulator.events(ACCOUNT)
    assert stored["summary"] == "Dentist"
    assert stored["location"] == "Main street"
    assert stored["start"]["timeZone"] == hass.config.time_zone
    [shown] = await panel.events()
    assert (shown.summary, shown.uid, shown.start) == ("Dentist", stored["id"], start)
    changes = await _coordinator(setup_integration).async_sync()
    assert len(changes) == 0


async def test_create_update_delete_all_day_event(
    panel: Panel,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """All-day events keep dates; updates patch and deletes remove them."""
    day = (dt_util.now() + timedelta(days=2)).date()
    answer = await panel.create(
        summary="Holiday",
        dtstart=day.isoformat(),
        dtend=(day + timedelta(days=1)).isoformat(),
    )
    assert answer["success"], answer
    [stored] = calendar_emulator.events(ACCOUNT)
    assert stored["start"] == {"date": day.isoformat()}

    answer = await panel.update(
        stored["id"],
        {
            "summary": "Long holiday",
            "dtstart": day.isoformat(),
            "dtend": (day + timedelta(days=3)).isoformat(),
        },
    )
    assert answer["success"], answer
    [stored] = calendar_emulator.events(ACCOUNT)
    assert stored["summary"] == "Long holiday"
    assert stored["end"] == {"date": (day + timedelta(days=3)).isoformat()}
    [shown] = await panel.events()
    assert shown.summary == "Long holiday"

    answer = await panel.delete(stored["id"])
    assert answer["success"], answer
    assert calendar_emulator.events(ACCOUNT) == []
    assert await panel.events() == []


def _edit(instance: CalendarEvent, summary: str) -> dict[str, Any]:
    event: dict[str, Any] = {
        "summary": summary,
        "dtstart": instance.start.isoformat(),
        "dtend": instance.end.isoformat(),
    }
    if instance.rrule:
        event["rrule"] = instance.rrule
    return event


async def test_recurring_event_edit_and_delete_one_instance(
    panel: Panel,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """One instance becomes an exception in Google; a deleted one disappears."""
    instances = await panel.recurring()
    second, third = instances[1], instances[2]
    assert second.recurrence_id
    answer = await panel.update(
        second.uid,
        _edit(second, "Standup (moved room)"),
        recurrence_id=second.recurrence_id,
    )
    assert answer["success"], answer
    answer = await panel.delete(third.uid, recurrence_id=third.recurrence_id)
    assert answer["success"], answer
    shown = await panel.events()
    assert [event.summary for event in shown] == [
        "Standup",
        "Standup (moved room)",
        "Standup",
        "Standup",
    ]
    master_id = calendar_emulator.events(ACCOUNT)[0]["id"]
    exception = calendar_emulator.get_event(
        ACCOUNT, f"{master_id}_{second.recurrence_id}"
    )
    assert exception["summary"] == "Standup (moved room)"
    cancelled = calendar_emulator.get_event(
        ACCOUNT, f"{master_id}_{third.recurrence_id}"
    )
    assert cancelled["status"] == "cancelled"
    # Google's later answer matches what the writes stored.
    changes = await _coordinator(setup_integration).async_sync()
    assert len(changes) == 0
    assert len(await panel.events()) == 4


async def test_recurring_event_this_and_following(
    panel: Panel,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Editing from an instance on ends the series there and starts a new one."""
    instances = await panel.recurring()
    third = instances[2]
    answer = await panel.update(
        third.uid,
        _edit(third, "Retro"),
        recurrence_id=third.recurrence_id,
        recurrence_range=RANGE_THIS_AND_FUTURE,
    )
    assert answer["success"], answer
    shown = await panel.events()
    assert [event.summary for event in shown] == ["Standup"] * 2 + ["Retro"] * 3
    masters = {e["summary"]: e for e in calendar_emulator.events(ACCOUNT)}
    assert "UNTIL=" in masters["Standup"]["recurrence"][0]
    assert masters["Retro"]["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=3"]

    # Deleting from the second instance on leaves the first one only.
    second = shown[1]
    answer = await panel.delete(
        second.uid,
        recurrence_id=second.recurrence_id,
        recurrence_range=RANGE_THIS_AND_FUTURE,
    )
    assert answer["success"], answer
    shown = await panel.events()
    assert [event.summary for event in shown] == ["Standup"] + ["Retro"] * 3

    # From the first instance on means the whole series.
    first = shown[0]
    answer = await panel.delete(
        first.uid,
        recurrence_id=first.recurrence_id,
        recurrence_range=RANGE_THIS_AND_FUTURE,
    )
    assert answer["success"], answer
    assert [e["summary"] for e in calendar_emulator.events(ACCOUNT)] == ["Retro"]


async def test_recurring_event_whole_series(
    panel: Panel,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Without a recurrence id, edits and deletes apply to the whole series."""
    instances = await panel.recurring()
    first = instances[0]
    answer = await panel.update(
        first.uid,
        {**_edit(first, "Daily"), "rrule": "FREQ=DAILY;COUNT=3"},
    )
    assert answer["success"], answer
    shown = await panel.events()
    assert [event.summary for event in shown] == ["Daily"] * 3
    answer = await panel.delete(first.uid)
    assert answer["success"], answer
    assert calendar_emulator.events(ACCOUNT) == []
    assert await panel.events() == []


async def test_conflict_rereads_instead_of_overwriting(
    panel: Panel,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """An edit made in Google meanwhile wins: 412, a clear error, the new version."""
    start = _tomorrow_at(9)
    await panel.create(
        summary="Dentist",
        dtstart=start.isoformat(),
        dtend=(start + timedelta(hours=1)).isoformat(),
    )
    [stored] = calendar_emulator.events(ACCOUNT)
    calendar_emulator.patch_event(
        ACCOUNT, stored["id"], {"summary": "Dentist (Google)"}
    )
    answer = await panel.update(
        stored["id"],
        {
            "summary": "Dentist (Home Assistant)",
            "dtstart": start.isoformat(),
            "dtend": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert not answer["success"]
    assert "changed in Google meanwhile" in answer["error"]["message"]
    assert calendar_emulator.get_event(ACCOUNT, stored["id"])["summary"] == (
        "Dentist (Google)"
    )
    [shown] = await panel.events()
    assert shown.summary == "Dentist (Google)"
    answer = await panel.delete("unknown1")
    assert not answer["success"]
    assert "no longer exists" in answer["error"]["message"]


@pytest.mark.usefixtures("shared_calendar")
@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT, SHARED],
            CONF_SYNC_WINDOW_DAYS: 365,
            CONF_PUSH_ENABLED: False,
        }
    ],
)
async def test_read_only_calendar_offers_no_edits(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
    ws: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
) -> None:
    """Writable calendars advertise create/update/delete, read-only ones nothing."""
    writable = hass.states.get(calendar_entity_id(ACCOUNT))
    read_only = hass.states.get(calendar_entity_id(SHARED))
    assert writable is not None and read_only is not None
    assert writable.attributes["supported_features"] == (
        CalendarEntityFeature.CREATE_EVENT
        | CalendarEntityFeature.UPDATE_EVENT
        | CalendarEntityFeature.DELETE_EVENT
    )
    assert read_only.attributes.get("supported_features", 0) == 0
    start = _tomorrow_at(9)
    answer = await _create(
        ws,
        calendar_entity_id(SHARED),
        summary="Nope",
        dtstart=start.isoformat(),
        dtend=(start + timedelta(hours=1)).isoformat(),
    )
    assert answer["error"]["code"] == "not_supported"


async def test_this_and_following_from_the_first_instance_is_the_series(
    panel: Panel,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Nothing stays before the first instance, so the series itself changes."""
    first = (await panel.recurring())[0]
    answer = await panel.update(
        first.uid,
        _edit(first, "Renamed"),
        recurrence_id=first.recurrence_id,
        recurrence_range=RANGE_THIS_AND_FUTURE,
    )
    assert answer["success"], answer
    [master] = calendar_emulator.events(ACCOUNT)
    assert master["summary"] == "Renamed"
    assert master["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=5"]


async def test_write_errors_are_translated(
    panel: Panel,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Conflicts on delete, unknown events and failures give clear errors."""
    start = _tomorrow_at(9)
    event = {
        "summary": "Dentist",
        "dtstart": start.isoformat(),
        "dtend": (start + timedelta(hours=1)).isoformat(),
    }
    await panel.create(**event)
    [stored] = calendar_emulator.events(ACCOUNT)
    calendar_emulator.patch_event(ACCOUNT, stored["id"], {"summary": "Moved"})
    answer = await panel.delete(stored["id"])
    assert "changed in Google meanwhile" in answer["error"]["message"]
    answer = await panel.update("unknown1", event)
    assert "no longer exists" in answer["error"]["message"]

    for message in (
        {"type": "calendar/event/create", "event": event},
        {"type": "calendar/event/update", "uid": stored["id"], "event": event},
        {"type": "calendar/event/delete", "uid": stored["id"]},
    ):
        calendar_emulator.faults.add("drop", times=20)
        answer = await panel.send({**message, "entity_id": panel.entity_id})
        assert "Google Calendar refused the change" in answer["error"]["message"]
        calendar_emulator.faults.clear()
    assert [e["summary"] for e in calendar_emulator.events(ACCOUNT)] == ["Moved"]


async def test_writer_reads_what_it_has_not_stored(
    panel: Panel,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Without a stored master the writer asks Google; a conflict re-read may fail."""
    instances = await panel.recurring()
    written: list[dict[str, Any]] = []
    writer = EventWriter(
        setup_integration.runtime_data.api,
        ACCOUNT,
        time_zone="UTC",
        lookup=lambda _event_id: None,
        on_write=written.append,
        on_delete=lambda _event_id: None,
    )
    await writer.async_delete(
        instances[3].uid, instances[3].recurrence_id, RANGE_THIS_AND_FUTURE
    )
    assert "UNTIL=" in written[-1]["recurrence"][0]
    with pytest.raises(HomeAssistantError, match="no longer exists"):
        await writer.async_delete(
            "unknown1_20300101T000000Z", "20300101T000000Z", RANGE_THIS_AND_FUTURE
        )
    # The re-read after a conflict and the read of a cancelled instance may fail.
    stale = EventWriter(
        setup_integration.runtime_data.api,
        ACCOUNT,
        time_zone="UTC",
        lookup=lambda event_id: {"etag": '"stale"'},
        on_write=written.append,
        on_delete=lambda _event_id: None,
    )
    calendar_emulator.faults.add("drop", times=20, method="GET")
    with pytest.raises(HomeAssistantError, match="changed in Google meanwhile"):
        await stale.async_update(
            instances[0].uid,
            {"summary": "x", "dtstart": instances[0].start, "dtend": instances[0].end},
        )
    calendar_emulator.faults.clear()
    calendar_emulator.faults.add("drop", times=20, method="GET")
    await writer.async_delete(instances[1].uid, instances[1].recurrence_id)
    assert written[-1]["status"] == "cancelled"
    assert written[-1]["recurringEventId"] == instances[1].uid.rpartition("_")[0]


async def test_failed_this_and_following_restores_the_series(
    panel: Panel,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """When the new series cannot be created, the trimmed one gets its rule back."""
    instances = await panel.recurring()
    [original] = calendar_emulator.events(ACCOUNT)
    split = {
        "type": "calendar/event/update",
        "entity_id": panel.entity_id,
        "uid": instances[2].uid,
        "recurrence_id": instances[2].recurrence_id,
        "recurrence_range": RANGE_THIS_AND_FUTURE,
        "event": _edit(instances[2], "Retro"),
    }

    calendar_emulator.faults.fail_next(
        500, times=20, method="POST", path_contains="/events"
    )
    answer = await panel.send(split)

    assert "Google Calendar refused the change" in answer["error"]["message"]
    [restored] = calendar_emulator.events(ACCOUNT)
    assert restored["recurrence"] == original["recurrence"]
    shown = await panel.events()
    assert [event.summary for event in shown] == ["Standup"] * 5
    # What the writer stored is what Google has.
    assert len(await _coordinator(setup_integration).async_sync()) == 0

    # If even the restore fails, the error says the series stays shortened.
    armed: list[str] = []

    def fail_the_restore(_calendar_id: str) -> None:
        """Arm a failure for the PATCH after the trim committed."""
        if not armed:
            armed.append(_calendar_id)
            calendar_emulator.faults.fail_next(500, times=20, method="PATCH")

    remove = calendar_emulator.model.add_change_listener(fail_the_restore)
    calendar_emulator.faults.fail_next(
        500, times=20, method="POST", path_contains="/events"
    )
    answer = await panel.send(split)
    remove()

    assert "could not be restored" in answer["error"]["message"]
    [trimmed] = calendar_emulator.events(ACCOUNT)
    assert "UNTIL=" in trimmed["recurrence"][0]
    shown = await panel.events()
    assert [event.summary for event in shown] == ["Standup"] * 2


async def test_the_entity_refuses_a_rule_the_timeline_cannot_expand(
    panel: Panel, calendar_emulator: GoogleCalendarEmulator
) -> None:
    """Creates and updates fail with a translated error before any request."""
    # Home Assistant accepts the rule; it never occurs.
    rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"
    [instance, *_] = await panel.recurring()
    requests_before = len(calendar_emulator.requests.matching())
    start = _tomorrow_at(9)
    event = {
        "summary": "Never",
        "dtstart": start.isoformat(),
        "dtend": (start + timedelta(hours=1)).isoformat(),
        "rrule": rrule,
    }

    created = await panel.create(**event)
    updated = await panel.update(str(instance.uid), event)

    for answer in (created, updated):
        assert not answer["success"]
        assert answer["error"]["message"].startswith(
            f"The recurrence rule {rrule} is invalid or never occurs"
        )
    assert len(calendar_emulator.requests.matching()) == requests_before
    assert [e["summary"] for e in calendar_emulator.events(ACCOUNT)] == ["Standup"]
