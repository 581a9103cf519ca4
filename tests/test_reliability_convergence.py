"""Model-based convergence: whatever Google, the network and the user do, HA converges.

Each Hypothesis example runs one scenario against a fresh calendar and a fresh config
entry with push on: random edits in Google (singles, all-day events, recurring series,
instance exceptions, moves across time zones) and in Home Assistant (calendar service
and entity), random notification loss, duplication and reordering, random API faults
(5xx, 429, 403 rate limits, dropped connections, delays, 410 sync-token invalidation),
expired access tokens and restarts from the store. After the faults stop and one sync
runs, the oracles below must hold.

Oracles (the emulator is the model of Google; what each step changed is recorded):
- the store holds exactly Google's singles, masters and exceptions (ids and etags),
  also after one more restart;
- no change is announced twice: a (event, change, etag) triple appears once, an event
  is created at most once and cancelled at most once;
- Home Assistant's own writes are never announced as created or updated;
- the last announcement of every event whose final version came from Google after the
  first sync tells that very version (edits coalesced between syncs count once);
  a series deleted in Google that Home Assistant knew is last announced cancelled;
- every write from Home Assistant either reached Google or raised, never both.

CI runs a modest, derandomized number of examples; GCS_LONG=1 runs many more.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import itertools
import os
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.google_calendar_sync.calendar import (
    GoogleCalendarSyncCalendarEntity,
)
from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.coordinator import (
    CalendarSyncCoordinator,
    calendar_unique_id,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.channels import registry

from .conftest import ACCOUNT
from .reliability_helpers import (
    Announcement,
    all_etags,
    coordinator_of,
    fast_retries,
    google_state,
    make_entry,
    record_announcements,
    serve_http,
    setup_entry,
    store_state,
    unload_entry,
)

LONG = os.environ.get("GCS_LONG") == "1"
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Auckland")
API_FAULTS = ("500", "503", "429", "403", "drop", "delay")
NOTIFICATION_FAULTS = ("drop", "duplicate", "reorder")

# --- operations -------------------------------------------------------------------------

_index = st.integers(min_value=0, max_value=50)
_day = st.integers(min_value=-3, max_value=20)
_zone = st.sampled_from(ZONES)

OPERATIONS = st.one_of(
    st.tuples(
        st.just("remote_create"), st.sampled_from(["timed", "all_day"]), _day, _zone
    ),
    st.tuples(st.just("remote_create_series"), _day, _zone),
    st.tuples(st.just("remote_update"), _index),
    st.tuples(st.just("remote_move"), _index, _day, _zone),
    st.tuples(st.just("remote_delete"), _index),
    st.tuples(st.just("remote_edit_instance"), _index, st.integers(0, 3)),
    st.tuples(st.just("remote_cancel_instance"), _index, st.integers(0, 3)),
    st.tuples(st.just("ha_create"), _day),
    st.tuples(st.just("ha_create_series"), _day),
    st.tuples(st.just("ha_update"), _index, _day),
    st.tuples(st.just("ha_delete"), _index),
    st.tuples(st.just("ha_edit_instance"), _index, st.integers(0, 3)),
    st.tuples(st.just("ha_delete_instance"), _index, st.integers(0, 3)),
    st.tuples(st.just("ha_edit_following"), _index, st.integers(0, 3)),
    st.tuples(st.just("api_fault"), st.sampled_from(API_FAULTS), st.integers(1, 3)),
    st.tuples(st.just("notification_fault"), st.sampled_from(NOTIFICATION_FAULTS)),
    st.tuples(st.just("invalidate_sync_token")),
    st.tuples(st.just("expire_access_tokens")),
    st.tuples(st.just("sync")),
    st.tuples(st.just("settle")),
    st.tuples(st.just("restart")),
)

SCENARIOS = st.lists(OPERATIONS, min_size=1, max_size=25 if LONG else 14)

_calendar_numbers = itertools.count()


@dataclass
class Scenario:
    """One example's world: the calendar, its entry and what each side changed."""

    hass: HomeAssistant
    emulator: GoogleCalendarEmulator
    calendar_id: str
    entry: Any
    base: datetime
    remote_etags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ha_etags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    known_to_ha: set[str] = field(default_factory=set)
    summaries: Counter[str] = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)
    announced: list[Announcement] = field(default_factory=list)
    # (id, etag) -> how many announcements had been made when Google made it.
    made_at: dict[tuple[str, str], int] = field(default_factory=dict)

    # --- bookkeeping ----------------------------------------------------------------

    def etags(self) -> dict[str, str]:
        """Return id -> etag of every event of the calendar in Google."""
        return all_etags(self.emulator, self.calendar_id)

    def attribute(self, before: dict[str, str], side: dict[str, set[str]]) -> None:
        """Record the versions a step created as made by one side."""
        for event_id, etag in self.etags().items():
            if before.get(event_id) != etag:
                side[event_id].add(etag)
                self.made_at[event_id, etag] = len(self.announced)

    def live(self, *, recurring: bool | None = None) -> list[dict[str, Any]]:
        """Return live singles/masters in Google, in a stable order."""
        events = self.emulator.model.calendar(self.calendar_id).events
        found = [
            event
            for event in events.values()
            if event.get("status") != "cancelled" and "recurringEventId" not in event
        ]
        if recurring is not None:
            found = [e for e in found if bool(e.get("recurrence")) is recurring]
        return sorted(found, key=lambda event: event["id"])

    def pick(
        self, index: int, *, recurring: bool | None = None
    ) -> dict[str, Any] | None:
        """Return the index-th live event (modulo), None if there is none."""
        found = self.live(recurring=recurring)
        return found[index % len(found)] if found else None

    def instance(self, master: dict[str, Any], number: int) -> dict[str, Any] | None:
        """Return one instance of a series as Google lists it."""
        items = self.emulator.model.instances(None, self.calendar_id, master["id"], {})[
            "items"
        ]
        return items[number % len(items)] if items else None

    def summary(self, prefix: str) -> str:
        """Return a summary no other step uses."""
        self.summaries[prefix] += 1
        return f"{prefix} {self.summaries[prefix]}"

    def coordinator(self) -> Any:
        """Return the coordinator of the model calendar."""
        return coordinator_of(self.entry, self.calendar_id)

    def entity(self) -> GoogleCalendarSyncCalendarEntity:
        """Return the calendar entity of the model calendar."""
        entity_id = er.async_get(self.hass).async_get_entity_id(
            "calendar", DOMAIN, calendar_unique_id(ACCOUNT, self.calendar_id)
        )
        assert entity_id is not None
        entity = self.hass.data[DATA_COMPONENT].get_entity(entity_id)
        assert isinstance(entity, GoogleCalendarSyncCalendarEntity)
        return entity

    # --- time helpers -----------------------------------------------------------------

    def timed(self, day: int, zone: str, hours: int = 1) -> dict[str, Any]:
        """Return start/end at 09:00 local time of a day, in a time zone."""
        local = (self.base + timedelta(days=day)).astimezone(ZoneInfo(zone))
        start = local.replace(hour=9, minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=hours)
        return {
            "start": {
                "dateTime": start.replace(tzinfo=None).isoformat(),
                "timeZone": zone,
            },
            "end": {"dateTime": end.replace(tzinfo=None).isoformat(), "timeZone": zone},
        }

    def all_day(self, day: int) -> dict[str, Any]:
        """Return start/end of an all-day event."""
        start = (self.base + timedelta(days=day)).date()
        return {
            "start": {"date": start.isoformat()},
            "end": {"date": (start + timedelta(days=1)).isoformat()},
        }

    def ha_times(self, day: int) -> tuple[datetime, datetime]:
        """Return an aware start and end for a Home Assistant write."""
        start = (self.base + timedelta(days=day)).replace(hour=14)
        return start, start + timedelta(hours=1)


def _aware(moment: dict[str, Any]) -> datetime:
    """Return a Google timed start/end as an aware datetime."""
    parsed = datetime.fromisoformat(moment["dateTime"])
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(moment.get("timeZone", "UTC")))
    return parsed


async def _settle(scenario: Scenario) -> None:
    """Let notifications arrive and the syncs they trigger finish."""
    await scenario.emulator.notifications_idle()
    await scenario.hass.async_block_till_done()


async def _restart(scenario: Scenario) -> None:
    """Restart the entry from its store, as Home Assistant does after a reboot."""
    hass, entry = scenario.hass, scenario.entry
    # Messages held for the old channels would only be refused after unload.
    registry(scenario.emulator).faults.held.clear()
    await unload_entry(hass, entry)
    assert await hass.config_entries.async_setup(entry.entry_id) or True
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        # Google failed during setup: Home Assistant retries later; do it now.
        scenario.emulator.faults.clear()
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def _ha_write(
    scenario: Scenario,
    description: str,
    write: Callable[[], Any],
    reached: Callable[[], bool],
) -> None:
    """Run one Home Assistant write; it must reach Google exactly when it succeeds."""
    before = scenario.etags()
    try:
        await write()
    except HomeAssistantError as err:
        scenario.log.append(f"{description}: raised {err}")
        assert not reached(), f"{description} raised but reached Google"
        # A conflict re-reads the event from Google: nothing of ours was written.
        scenario.attribute(before, scenario.ha_etags)
        return
    scenario.log.append(f"{description}: ok")
    assert reached(), f"{description} succeeded but did not reach Google"
    scenario.attribute(before, scenario.ha_etags)


async def _run_step(scenario: Scenario, step: tuple[Any, ...]) -> None:
    """Apply one operation of the scenario."""
    emulator, hass, cal = scenario.emulator, scenario.hass, scenario.calendar_id
    name = step[0]
    before = scenario.etags()
    match step:
        case ("remote_create", kind, day, zone):
            times = (
                scenario.timed(day, zone) if kind == "timed" else scenario.all_day(day)
            )
            emulator.insert_event(cal, {"summary": scenario.summary("Google"), **times})
        case ("remote_create_series", day, zone):
            emulator.insert_event(
                cal,
                {
                    "summary": scenario.summary("Series"),
                    **scenario.timed(day, zone),
                    "recurrence": ["RRULE:FREQ=DAILY;COUNT=4"],
                },
            )
        case ("remote_update", index):
            if (event := scenario.pick(index)) is not None:
                emulator.patch_event(
                    cal, event["id"], {"summary": scenario.summary("Edit")}
                )
        case ("remote_move", index, day, zone):
            # A moved series keeps its exceptions, which may no longer match it. A
            # split series (UNTIL) moved past its end has no instance, and Google
            # leaves such a series out of windowed listings: not moved here.
            if (event := scenario.pick(index)) is not None and "UNTIL" not in str(
                event.get("recurrence")
            ):
                emulator.patch_event(cal, event["id"], scenario.timed(day, zone, 2))
        case ("remote_delete", index):
            if (event := scenario.pick(index)) is not None:
                emulator.delete_event(cal, event["id"])
        case ("remote_edit_instance", index, number):
            if (master := scenario.pick(index, recurring=True)) is not None and (
                instance := scenario.instance(master, number)
            ) is not None:
                emulator.patch_event(
                    cal, instance["id"], {"summary": scenario.summary("Instance")}
                )
        case ("remote_cancel_instance", index, number):
            if (master := scenario.pick(index, recurring=True)) is not None and (
                instance := scenario.instance(master, number)
            ) is not None:
                emulator.delete_event(cal, instance["id"])
        case ("ha_create", day):
            summary = scenario.summary("HA")
            start, end = scenario.ha_times(day)
            entity = scenario.entity()

            async def _create() -> None:
                if not entity.available:
                    # The service skips unavailable entities; the entity still writes.
                    await entity.async_create_event(
                        summary=summary, dtstart=start, dtend=end
                    )
                    return
                await hass.services.async_call(
                    "calendar",
                    "create_event",
                    {
                        "entity_id": entity.entity_id,
                        "summary": summary,
                        "start_date_time": start,
                        "end_date_time": end,
                    },
                    blocking=True,
                )

            await _ha_write(
                scenario,
                f"create {summary}",
                _create,
                lambda: any(e.get("summary") == summary for e in scenario.live()),
            )
        case ("ha_create_series", day):
            summary = scenario.summary("HA series")
            start, end = scenario.ha_times(day)
            await _ha_write(
                scenario,
                f"create {summary}",
                lambda: scenario.entity().async_create_event(
                    summary=summary,
                    dtstart=start,
                    dtend=end,
                    rrule="FREQ=DAILY;COUNT=3",
                ),
                lambda: any(e.get("summary") == summary for e in scenario.live()),
            )
        case ("ha_update", index, day):
            if (event := scenario.pick(index)) is not None:
                summary = scenario.summary("HA edit")
                start, end = scenario.ha_times(day)
                # The panel sends the series' rule back when editing all of it; the
                # series keeps its times (moved past an UNTIL it would be empty).
                lines = event.get("recurrence", [])
                rule = {"rrule": lines[0].removeprefix("RRULE:")} if lines else {}
                if lines:
                    start, end = _aware(event["start"]), _aware(event["end"])
                await _ha_write(
                    scenario,
                    f"update {event['id']}",
                    lambda: scenario.entity().async_update_event(
                        event["id"],
                        {"summary": summary, "dtstart": start, "dtend": end, **rule},
                    ),
                    lambda: (
                        emulator.get_event(cal, event["id"]).get("summary") == summary
                    ),
                )
        case ("ha_delete", index):
            if (event := scenario.pick(index)) is not None:
                await _ha_write(
                    scenario,
                    f"delete {event['id']}",
                    lambda: scenario.entity().async_delete_event(event["id"]),
                    lambda: (
                        emulator.get_event(cal, event["id"])["etag"] != event["etag"]
                    ),
                )
        case ("ha_edit_instance", index, number):
            if (master := scenario.pick(index, recurring=True)) is not None and (
                instance := scenario.instance(master, number)
            ) is not None:
                summary = scenario.summary("HA instance")
                start = dt_util.parse_datetime(instance["start"]["dateTime"])
                if start is None:  # pragma: no cover - series are timed
                    return
                suffix = instance["id"].rpartition("_")[2]
                await _ha_write(
                    scenario,
                    f"edit instance {instance['id']}",
                    lambda: scenario.entity().async_update_event(
                        master["id"],
                        {
                            "summary": summary,
                            "dtstart": start,
                            "dtend": start + timedelta(minutes=30),
                        },
                        recurrence_id=suffix,
                    ),
                    lambda: (
                        emulator.get_event(cal, instance["id"]).get("summary")
                        == summary
                    ),
                )
        case ("ha_edit_following", index, number):
            if (master := scenario.pick(index, recurring=True)) is not None and (
                instance := scenario.instance(master, number)
            ) is not None:
                summary = scenario.summary("HA following")
                start = dt_util.parse_datetime(instance["start"]["dateTime"])
                if start is None:  # pragma: no cover - series are timed
                    return
                suffix = instance["id"].rpartition("_")[2]
                lines = master.get("recurrence", [])
                rule = {"rrule": lines[0].removeprefix("RRULE:")} if lines else {}
                # A split: the series ends before the instance, a new one follows.
                await _ha_write(
                    scenario,
                    f"edit following {instance['id']}",
                    lambda: scenario.entity().async_update_event(
                        master["id"],
                        {
                            "summary": summary,
                            "dtstart": start,
                            "dtend": start + timedelta(minutes=45),
                            **rule,
                        },
                        recurrence_id=suffix,
                        recurrence_range="THISANDFUTURE",
                    ),
                    lambda: any(e.get("summary") == summary for e in scenario.live()),
                )
        case ("ha_delete_instance", index, number):
            if (master := scenario.pick(index, recurring=True)) is not None and (
                instance := scenario.instance(master, number)
            ) is not None:
                suffix = instance["id"].rpartition("_")[2]
                await _ha_write(
                    scenario,
                    f"delete instance {instance['id']}",
                    lambda: scenario.entity().async_delete_event(
                        master["id"], recurrence_id=suffix
                    ),
                    lambda: (
                        emulator.get_event(cal, instance["id"]).get("status")
                        == "cancelled"
                    ),
                )
        case ("api_fault", kind, times):
            if kind == "drop":
                # aiohttp re-sends an idempotent request once on a dropped connection.
                emulator.faults.drop_next(times=times + 1)
            elif kind == "delay":
                emulator.faults.delay_next(0.05, times=times)
            else:
                status = {"500": 500, "503": 503, "429": 429, "403": 403}[kind]
                emulator.faults.fail_next(status, times=times)
        case ("notification_fault", kind):
            faults = registry(emulator).faults
            if kind == "drop":
                faults.drop_next += 1
            elif kind == "duplicate":
                faults.duplicate_next += 1
            else:
                faults.reorder_next += 2
        case ("invalidate_sync_token",):
            emulator.invalidate_sync_tokens(cal)
        case ("expire_access_tokens",):
            emulator.expire_access_tokens()
        case ("sync",):
            with contextlib.suppress(UpdateFailed):
                await scenario.coordinator().async_sync()
        case ("settle",):
            await _settle(scenario)
        case ("restart",):
            await _restart(scenario)
    if name.startswith("remote_"):
        scenario.attribute(before, scenario.remote_etags)
    scenario.log.append(repr(step))


def _part_of_new_series(scenario: Scenario, event_id: str, etag: str) -> bool:
    """Return True for a cancelled instance of a series announced created after it.

    Home Assistant never showed that instance: the series' creation tells it all.
    """
    event = scenario.emulator.model.calendar(scenario.calendar_id).events[event_id]
    master_id = event.get("recurringEventId")
    if master_id is None or event.get("status") != "cancelled":
        return False
    since = scenario.made_at.get((event_id, etag), 0)
    return Announcement(master_id, "created", None) in [
        Announcement(a.event_id, a.change, None) for a in scenario.announced[since:]
    ]


def _check_oracles(scenario: Scenario, announced: list[Announcement]) -> None:
    """Assert convergence, announcement and write oracles after the final sync."""
    expected = google_state(scenario.emulator, scenario.calendar_id)
    stored = store_state(scenario.coordinator().snapshot)
    assert stored == expected, f"store differs from Google: {stored} != {expected}"

    scenario.log.append(f"announced: {announced}")
    triples = Counter(announced)
    twice = [a for a, n in triples.items() if n > 1]
    assert not twice, f"announced twice: {twice}"
    per_kind = Counter((a.event_id, a.change) for a in announced)
    assert not [key for key, n in per_kind.items() if key[1] != "updated" and n > 1], (
        "created or cancelled twice"
    )
    own = [
        a
        for a in announced
        if a.change != "cancelled" and a.etag in scenario.ha_etags.get(a.event_id, ())
    ]
    assert not own, f"own writes announced: {own}"

    last: dict[str, Announcement] = {}
    for announcement in announced:
        last[announcement.event_id] = announcement
    for event_id, etag in expected.items():
        if etag in scenario.remote_etags.get(event_id, ()):
            if event_id not in last and _part_of_new_series(scenario, event_id, etag):
                continue
            assert event_id in last, f"remote change of {event_id} never announced"
            assert last[event_id].etag == etag, f"stale last announcement {event_id}"
    google = scenario.emulator.model.calendar(scenario.calendar_id).events
    for event_id, event in google.items():
        if event.get("status") != "cancelled" or "recurringEventId" in event:
            continue
        by_google = event["etag"] in scenario.remote_etags.get(event_id, ())
        if by_google and (event_id in scenario.known_to_ha or event_id in last):
            assert last.get(event_id, Announcement(event_id, "", None)).change == (
                "cancelled"
            ), f"deletion of {event_id} in Google not announced last"
        if not by_google:
            assert (event_id, "cancelled") not in per_kind, (
                f"own deletion of {event_id} announced"
            )


@pytest.fixture
async def hass_url(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> str:
    """Serve Home Assistant's HTTP app (webhooks included) on a loopback port."""
    return await serve_http(hass, hass_client_no_auth)


@pytest.fixture
async def world(
    hass: HomeAssistant,
    setup_credentials: None,
    hass_url: str,
    calendar_emulator: GoogleCalendarEmulator,
) -> AsyncGenerator[GoogleCalendarEmulator]:
    """Prepare Home Assistant and the emulator once for all examples."""
    channels = registry(calendar_emulator)
    channels.retry_max_attempts = 2  # refused deliveries are final quickly
    with fast_retries():
        yield calendar_emulator


async def _scenario(
    hass: HomeAssistant, emulator: GoogleCalendarEmulator, steps: list[tuple[Any, ...]]
) -> None:
    """Run one example from a fresh calendar and entry, then check the oracles."""
    calendar_id = f"model{next(_calendar_numbers)}@group.calendar.example.com"
    emulator.add_calendar(
        ACCOUNT, "Model", calendar_id=calendar_id, time_zone="Europe/Berlin"
    )
    base = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    entry = make_entry(emulator, [calendar_id], push=True)
    scenario = Scenario(hass, emulator, calendar_id, entry, base)
    # What Home Assistant finds at its first sync: announced by nobody.
    seeded = [
        emulator.insert_event(
            calendar_id, {"summary": "Seed", **scenario.timed(1, "Asia/Tokyo")}
        ),
        emulator.insert_event(
            calendar_id,
            {
                "summary": "Seed series",
                **scenario.timed(0, "America/New_York"),
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=4"],
            },
        ),
    ]
    scenario.known_to_ha.update(event["id"] for event in seeded)
    try:
        with record_announcements(hass) as announced:
            scenario.announced = announced
            await setup_entry(hass, entry)
            assert scenario.coordinator().push_active
            for step in steps:
                await _run_step(scenario, step)
                scenario.known_to_ha.update(scenario.ha_etags)
                scenario.known_to_ha.update(a.event_id for a in announced)
            # Faults stop; whatever is still held is delivered; one sync runs.
            emulator.faults.clear()
            channels = registry(emulator)
            channels.faults.clear()
            channels.release_held()
            await _settle(scenario)
            await scenario.coordinator().async_sync()
            await _settle(scenario)
            _check_oracles(scenario, announced)
            # The store survives a restart and the restart announces nothing.
            count = len(announced)
            await _restart(scenario)
            assert store_state(scenario.coordinator().snapshot) == google_state(
                emulator, calendar_id
            )
            assert len(announced) == count
    except BaseException:
        print("\n".join(scenario.log))
        raise
    finally:
        emulator.faults.clear()
        registry(emulator).faults.clear()
        registry(emulator).faults.held.clear()
        if hass.config_entries.async_get_entry(entry.entry_id) is not None:
            await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
        await emulator.notifications_idle()


_SETTINGS = settings(
    max_examples=300 if LONG else 40,
    deadline=None,
    derandomize=not LONG,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(steps=SCENARIOS)
async def test_home_assistant_converges_to_google(
    hass: HomeAssistant, world: GoogleCalendarEmulator, steps: list[tuple[Any, ...]]
) -> None:
    """Random edits, faults and restarts end with HA's copy equal to Google's."""
    await asyncio.wait_for(_scenario(hass, world, steps), timeout=120)


def _primary_entity(hass: HomeAssistant) -> GoogleCalendarSyncCalendarEntity:
    """Return the calendar entity of the account's primary calendar."""
    entity = hass.data[DATA_COMPONENT].get_entity(
        er.async_get(hass).async_get_entity_id(
            "calendar", DOMAIN, calendar_unique_id(ACCOUNT, ACCOUNT)
        )
        or ""
    )
    assert isinstance(entity, GoogleCalendarSyncCalendarEntity)
    return entity


async def _set_up_primary(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> tuple[MockConfigEntry, GoogleCalendarSyncCalendarEntity]:
    """Set up an entry syncing the primary calendar; return it and its entity."""
    entry = make_entry(calendar_emulator, [ACCOUNT])
    await setup_entry(hass, entry)
    return entry, _primary_entity(hass)


async def _announced_by_two_syncs(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    coordinator: CalendarSyncCoordinator,
    list_events: Callable[..., Any],
) -> list[Announcement]:
    """Sync once through `list_events`, check the store, sync again; return news."""
    with record_announcements(hass) as announced:
        with patch.object(GoogleCalendarApi, "list_events", list_events):
            await coordinator.async_sync()
        assert store_state(coordinator.snapshot) == google_state(
            calendar_emulator, ACCOUNT
        )
        await coordinator.async_sync()
    return announced


async def test_conflict_on_a_write_announces_the_change_made_in_google(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Regression: a 412 re-read stored Google's version without announcing it.

    The change made in Google was then never announced (found by the model test).
    """
    entry = make_entry(calendar_emulator, [ACCOUNT])
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    seeded = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "Seed",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        },
    )
    await setup_entry(hass, entry)
    moved = calendar_emulator.patch_event(
        ACCOUNT, seeded["id"], {"summary": "Moved in Google"}
    )
    entity = _primary_entity(hass)

    with record_announcements(hass) as announced:
        with pytest.raises(HomeAssistantError, match="changed in Google meanwhile"):
            await entity.async_delete_event(seeded["id"])
        await coordinator_of(entry, ACCOUNT).async_sync()

    assert announced == [Announcement(seeded["id"], "updated", moved["etag"])]
    assert (
        coordinator_of(entry, ACCOUNT).snapshot.events[seeded["id"]]["etag"]
        == (moved["etag"])
    )
    await unload_entry(hass, entry)


@pytest.mark.parametrize("second_write", ["update", "delete"])
async def test_write_while_a_listing_is_on_its_way_is_kept_and_not_announced(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
    second_write: str,
) -> None:
    """Regression: a listing fetched before our write undid it and announced it.

    Two quick edits: Google's notification of the first starts a sync whose listing
    (with the first edit) arrives after the second edit was stored. The store went
    back to the first edit, announced it as "updated", and the next sync announced
    our second edit too (or, for a delete, re-created then cancelled the event).
    """
    entry, entity = await _set_up_primary(hass, calendar_emulator)
    start = dt_util.now().replace(microsecond=0) + timedelta(days=1)
    times = {"dtstart": start, "dtend": start + timedelta(hours=1)}
    await entity.async_create_event(summary="First", **times)
    [event] = calendar_emulator.events(ACCOUNT)
    coordinator = coordinator_of(entry, ACCOUNT)
    list_events = GoogleCalendarApi.list_events

    async def _write_before_the_page_arrives(
        api: GoogleCalendarApi, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        page = await list_events(api, *args, **kwargs)
        if second_write == "update":
            await entity.async_update_event(event["id"], {"summary": "Second", **times})
        else:
            await entity.async_delete_event(event["id"])
        return page

    announced = await _announced_by_two_syncs(
        hass, calendar_emulator, coordinator, _write_before_the_page_arrives
    )

    assert announced == []
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    await unload_entry(hass, entry)


async def test_change_in_google_after_our_write_still_wins_over_it(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A listing newer than our write (Google changed it since) is kept and told."""
    entry, entity = await _set_up_primary(hass, calendar_emulator)
    start = dt_util.now().replace(microsecond=0) + timedelta(days=1)
    times = {"dtstart": start, "dtend": start + timedelta(hours=1)}
    await entity.async_create_event(summary="Ours", **times)
    [event] = calendar_emulator.events(ACCOUNT)
    coordinator = coordinator_of(entry, ACCOUNT)
    list_events = GoogleCalendarApi.list_events
    theirs: dict[str, Any] = {}

    async def _ours_then_theirs_then_list(
        api: GoogleCalendarApi, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        if not theirs:
            await entity.async_update_event(event["id"], {"summary": "Ours 2", **times})
            moved_on = calendar_emulator.model.clock() + timedelta(seconds=1)
            calendar_emulator.model.clock = lambda: moved_on  # Google's clock moves on
            theirs.update(
                calendar_emulator.patch_event(
                    ACCOUNT, event["id"], {"summary": "Theirs"}
                )
            )
        return await list_events(api, *args, **kwargs)

    with (
        record_announcements(hass) as announced,
        patch.object(GoogleCalendarApi, "list_events", _ours_then_theirs_then_list),
    ):
        await coordinator.async_sync()

    assert announced == [Announcement(event["id"], "updated", theirs["etag"])]
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    await unload_entry(hass, entry)


async def test_create_while_a_full_listing_is_on_its_way_is_kept(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Regression: a full listing (after a 410) dropped an event we created meanwhile.

    It was announced "cancelled", then "created" by the next sync, both our own.
    """
    entry, entity = await _set_up_primary(hass, calendar_emulator)
    start = dt_util.now().replace(microsecond=0) + timedelta(days=1)
    coordinator = coordinator_of(entry, ACCOUNT)
    calendar_emulator.invalidate_sync_tokens(ACCOUNT)
    list_events = GoogleCalendarApi.list_events

    async def _create_before_the_full_page_arrives(
        api: GoogleCalendarApi, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        page = await list_events(api, *args, **kwargs)
        if kwargs.get("sync_token") is None:
            await entity.async_create_event(
                summary="Meanwhile", dtstart=start, dtend=start + timedelta(hours=1)
            )
        return page

    announced = await _announced_by_two_syncs(
        hass, calendar_emulator, coordinator, _create_before_the_full_page_arrives
    )

    assert announced == []
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    await unload_entry(hass, entry)
