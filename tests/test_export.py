"""Tests of the idempotent export of appointments into Google Calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
import re
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.google_calendar_sync.export import (
    HASH_KEY,
    ORIGIN_KEY,
    SOURCE_UID_KEY,
    Appointment,
    appointment_body,
    async_run_export,
    export_event_id,
    plan_export,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.transport import StaticTokenAuth
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, CLIENT_ID

ZONE = ZoneInfo("Europe/Berlin")
BASE = datetime(2030, 1, 7, 9, tzinfo=ZONE)


def appointments(count: int, *, changed: set[int] = frozenset()) -> list[Appointment]:  # type: ignore[assignment]
    """Return count appointments, one a day; changed ones carry a new summary."""
    return [
        Appointment(
            uid=f"appointment-{index}",
            summary=f"Patient {index}" + (" (moved)" if index in changed else ""),
            start=BASE + timedelta(days=index),
            end=BASE + timedelta(days=index, minutes=30),
            location="Room 1",
        )
        for index in range(count)
    ]


def test_export_event_id_is_stable_base32hex() -> None:
    """Ids depend on origin and uid only and use Google's alphabet."""
    first = export_event_id("calendar.practice", "appointment-1")
    assert first == export_event_id("calendar.practice", "appointment-1")
    assert first != export_event_id("service", "appointment-1")
    assert re.fullmatch(r"[0-9a-v]{5,1024}", first)


def test_appointment_body_carries_origin_and_hash() -> None:
    """The body is tagged so a later export recognises it."""
    appointment = appointments(1)[0]
    body = appointment_body(appointment, origin="calendar.practice", time_zone="UTC")
    private = body["extendedProperties"]["private"]
    assert private[ORIGIN_KEY] == "calendar.practice"
    assert private[SOURCE_UID_KEY] == "appointment-0"
    changed = appointment_body(
        appointments(1, changed={0})[0], origin="calendar.practice", time_zone="UTC"
    )
    assert changed["extendedProperties"]["private"][HASH_KEY] != private[HASH_KEY]


def test_plan_export_compares_hashes() -> None:
    """Unchanged events are left alone, changed ones patched, new ones inserted."""
    origin = "calendar.practice"
    existing = [
        {
            "id": export_event_id(origin, a.uid),
            **appointment_body(a, origin=origin, time_zone="UTC"),
        }
        for a in appointments(3)
    ]
    existing.append(
        {
            "id": "someoneelse",
            "extendedProperties": {"private": {ORIGIN_KEY: "service"}},
        }
    )
    wanted = appointments(4, changed={1})[1:]
    plan = plan_export(
        wanted,
        existing,
        calendar_id=ACCOUNT,
        origin=origin,
        time_zone="UTC",
        remove_missing=True,
        window=(BASE - timedelta(days=1), BASE + timedelta(days=30)),
    )
    assert plan.unchanged == 1
    assert [w.operation.method for w in plan.operations] == [
        "insert",
        "patch",
        "delete",
    ]
    assert plan.removes[0].operation.event_id == export_event_id(
        origin, "appointment-0"
    )
    # Outside the window nothing is removed; without the option neither.
    outside = plan_export(
        wanted,
        existing,
        calendar_id=ACCOUNT,
        origin=origin,
        time_zone="UTC",
        remove_missing=True,
        window=(BASE + timedelta(days=1), BASE + timedelta(days=30)),
    )
    assert outside.removes == ()
    assert (
        plan_export(
            wanted, existing, calendar_id=ACCOUNT, origin=origin, time_zone="UTC"
        ).removes
        == ()
    )


def test_appointment_from_calendar_event_keeps_instances_apart() -> None:
    """Instances of a recurring source event get their own uid."""
    from homeassistant.components.calendar import CalendarEvent

    event = CalendarEvent(
        start=date(2030, 1, 1),
        end=date(2030, 1, 2),
        summary="Holiday",
        uid="series",
        recurrence_id="20300101",
    )
    assert Appointment.from_calendar_event(event).uid == "series/20300101"


@pytest.fixture
async def api(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> GoogleCalendarApi:
    """Return the real client talking to the emulator."""
    token = calendar_emulator.issue_tokens(ACCOUNT, CLIENT_ID)["access_token"]
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(token),
        GoogleEndpoints.for_base_url(calendar_emulator.base_url),
    )


def _batches(emulator: GoogleCalendarEmulator) -> int:
    return len(
        emulator.requests.matching(
            "POST", "batch/calendar/v3", include_batch_parts=False
        )
    )


async def test_run_export_twice_creates_nothing_new(
    hass: HomeAssistant,
    api: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A second run updates two, removes one and leaves the rest alone."""
    written: list[dict[str, Any]] = []
    deleted: list[str] = []
    origin = "calendar.practice"
    window = (BASE - timedelta(days=1), BASE + timedelta(days=365))
    first = await async_run_export(
        api,
        ACCOUNT,
        appointments(120),
        origin=origin,
        time_zone="Europe/Berlin",
        remove_missing=True,
        window=window,
        on_apply=lambda events, _removed: written.extend(events),
    )
    assert first.as_dict() == {
        "created": 120,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "failures": [],
    }
    assert _batches(calendar_emulator) == 3
    assert len(written) == 120
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    calendar_emulator.requests.clear()
    second = await async_run_export(
        api,
        ACCOUNT,
        appointments(120, changed={3, 4})[:119],
        origin=origin,
        time_zone="Europe/Berlin",
        remove_missing=True,
        window=window,
        on_apply=lambda _events, removed: deleted.extend(removed),
    )
    assert second.as_dict() == {
        "created": 0,
        "updated": 2,
        "unchanged": 117,
        "removed": 1,
        "failed": 0,
        "failures": [],
    }
    assert deleted == [export_event_id(origin, "appointment-119")]
    assert _batches(calendar_emulator) == 1
    events = calendar_emulator.events(ACCOUNT)
    assert len(events) == 119
    assert len({event["id"] for event in events}) == 119
    assert {e["summary"] for e in events if "moved" in e["summary"]} == {
        "Patient 3 (moved)",
        "Patient 4 (moved)",
    }


async def test_run_export_hands_every_answer_over_at_once(
    hass: HomeAssistant,
    api: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """on_apply gets all written events and removed ids of a run in one call."""
    calls: list[tuple[list[dict[str, Any]], list[str]]] = []

    def on_apply(events: list[dict[str, Any]], deleted: list[str]) -> None:
        calls.append((events, deleted))

    options: dict[str, Any] = {
        "origin": "service",
        "time_zone": "UTC",
        "remove_missing": True,
        "on_apply": on_apply,
    }
    await async_run_export(api, ACCOUNT, appointments(60), **options)
    await async_run_export(api, ACCOUNT, appointments(60, changed={1})[:58], **options)
    await async_run_export(api, ACCOUNT, appointments(58, changed={1}), **options)

    assert [(len(events), len(deleted)) for events, deleted in calls] == [
        (60, 0),
        (1, 2),
    ]
    assert calls[1][0][0]["summary"] == "Patient 1 (moved)"
    assert calls[1][1] == [
        export_event_id("service", "appointment-58"),
        export_event_id("service", "appointment-59"),
    ]


async def test_run_export_revives_a_deleted_export(
    hass: HomeAssistant,
    api: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """An id deleted in Google answers 409 on insert; the export patches it back."""
    batch = appointments(2)
    await async_run_export(api, ACCOUNT, batch, origin="service", time_zone="UTC")
    calendar_emulator.delete_event(ACCOUNT, export_event_id("service", batch[0].uid))
    again = await async_run_export(
        api, ACCOUNT, batch, origin="service", time_zone="UTC"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert len(calendar_emulator.events(ACCOUNT)) == 2


async def test_run_export_reports_failures(
    hass: HomeAssistant,
    api: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A refused appointment is counted with Google's reason; others go through."""
    bad = Appointment(
        uid="bad",
        summary="Backwards",
        start=BASE + timedelta(hours=2),
        end=BASE,
    )
    result = await async_run_export(
        api, ACCOUNT, [*appointments(2), bad], origin="service", time_zone="UTC"
    )
    assert (result.created, result.failed) == (2, 1)
    assert result.failures[0]["appointment"] == "Backwards"
    assert result.failures[0]["reason"]
