"""The export glue: batches run against Google, answers stored once, automatic export."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
)
from custom_components.google_calendar_sync.export import (
    AUTO_EXPORT_COOLDOWN,
    appointment_of,
    async_run_export,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.export_plan import (
    Appointment,
    export_event_id,
)
from custom_components.google_calendar_sync.google.transport import (
    RetryPolicy,
    StaticTokenAuth,
)
from google_calendar_emulator import GoogleCalendarEmulator

from .action_helpers import SOURCE as PRACTICE, setup_practice
from .common import APPOINTMENTS_START, appointments, batch_requests, export_counts
from .conftest import ACCOUNT, CLIENT_ID

BASE = APPOINTMENTS_START


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
    assert appointment_of(event).uid == "series/20300101"


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


async def test_run_export_twice_creates_nothing_new(
    hass: HomeAssistant,
    api: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A second run updates two, removes one and leaves the rest alone."""
    written: list[dict[str, Any]] = []
    deleted: list[str] = []
    origin = "calendar.practice"
    export = partial(
        async_run_export,
        api,
        ACCOUNT,
        origin=origin,
        time_zone="Europe/Berlin",
        remove_missing=True,
        window=(BASE - timedelta(days=1), BASE + timedelta(days=365)),
    )
    first = await export(
        appointments(120), on_apply=lambda events, _removed: written.extend(events)
    )
    assert first.as_dict() == export_counts(created=120)
    assert batch_requests(calendar_emulator) == 3
    assert len(written) == 120
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    calendar_emulator.requests.clear()
    second = await export(
        appointments(120, changed={3, 4})[:119],
        on_apply=lambda _events, removed: deleted.extend(removed),
    )
    assert second.as_dict() == export_counts(updated=2, unchanged=117, removed=1)
    assert deleted == [export_event_id(origin, "appointment-119")]
    assert batch_requests(calendar_emulator) == 1
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


# Automatic export: Home Assistant calendars followed into a Google calendar.


async def _no_sleep(_delay: float) -> None:
    """Skip backoff waits."""


@pytest.mark.parametrize(
    "entry_options",
    [
        {
            CONF_CALENDARS: [ACCOUNT],
            CONF_SYNC_WINDOW_DAYS: 365,
            CONF_PUSH_ENABLED: False,
            CONF_EXPORT_SOURCES: [PRACTICE],
            CONF_EXPORT_TARGET: ACCOUNT,
        }
    ],
)
async def test_automatic_export_follows_the_source_calendar(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """All appointments go out at setup; a new one follows without any call."""
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    far = (dt_util.now() + timedelta(days=200)).replace(microsecond=0)
    await hass.services.async_call(
        "calendar",
        "create_event",
        {
            "entity_id": PRACTICE,
            "summary": "New patient",
            "start_date_time": far.isoformat(),
            "end_date_time": (far + timedelta(minutes=30)).isoformat(),
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    summaries = [e["summary"] for e in calendar_emulator.events(ACCOUNT)]
    assert len(summaries) == 121
    assert "New patient" in summaries


AUTO_EXPORT_OPTIONS = {
    CONF_CALENDARS: [ACCOUNT],
    CONF_SYNC_WINDOW_DAYS: 365,
    CONF_PUSH_ENABLED: False,
    CONF_EXPORT_SOURCES: [PRACTICE],
    CONF_EXPORT_TARGET: ACCOUNT,
}


async def _settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the export debouncer run."""
    freezer.tick(timedelta(seconds=AUTO_EXPORT_COOLDOWN + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.mark.parametrize("entry_options", [AUTO_EXPORT_OPTIONS])
async def test_automatic_export_waits_for_its_source_and_repairs_hourly(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A source loaded later is exported; the hourly pass restores lost events."""
    await _settle(hass, freezer)
    assert calendar_emulator.events(ACCOUNT) == []

    practice_entry = await setup_practice(hass)
    await _settle(hass, freezer)
    exported = calendar_emulator.events(ACCOUNT)
    assert len(exported) == 120

    calendar_emulator.delete_event(ACCOUNT, exported[0]["id"])
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120

    setup_integration.runtime_data.api.transport.retry = RetryPolicy(
        max_attempts=1, sleep=_no_sleep
    )
    calendar_emulator.faults.add("drop", times=5)
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert "Automatic export of calendar.practice failed" in caplog.text
    calendar_emulator.faults.clear()
    assert await hass.config_entries.async_unload(practice_entry.entry_id)


@pytest.mark.parametrize(
    "entry_options", [{**AUTO_EXPORT_OPTIONS, CONF_EXPORT_TARGET: "other@example.com"}]
)
async def test_automatic_export_needs_a_synced_target(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A target that is not a synced, writable calendar is reported, not used."""
    assert any(
        "Automatic export needs a synced, writable target" in record.getMessage()
        for record in caplog.get_records("setup")
    )


@pytest.mark.parametrize("entry_options", [AUTO_EXPORT_OPTIONS])
async def test_automatic_export_starts_once_home_assistant_has_started(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """During startup the first export waits for every calendar to load."""
    await setup_practice(hass)
    hass.set_state(CoreState.not_running)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await _settle(hass, freezer)
    assert calendar_emulator.events(ACCOUNT) == []
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120
    assert await hass.config_entries.async_unload(config_entry.entry_id)


async def test_setting_the_export_option_exports_at_once(
    hass: HomeAssistant,
    practice: MockConfigEntry,
    setup_integration: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Choosing sources and a target in the options flow starts the export."""
    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **setup_integration.options,
            CONF_EXPORT_SOURCES: [PRACTICE],
            CONF_EXPORT_TARGET: ACCOUNT,
        },
    )
    assert setup_integration.options[CONF_EXPORT_TARGET] == ACCOUNT
    await hass.async_block_till_done()
    await _settle(hass, freezer)
    assert len(calendar_emulator.events(ACCOUNT)) == 120
