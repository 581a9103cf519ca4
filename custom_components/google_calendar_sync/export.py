"""Idempotent export of Home Assistant appointments into a Google calendar."""

from __future__ import annotations

from collections.abc import Callable, Sequence
import contextlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import DATA_COMPONENT
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .calendar import GoogleCalendarSyncCalendarEntity
from .const import CONF_EXPORT_SOURCES, CONF_EXPORT_TARGET
from .google.batch import BatchOperation, BatchOutcome
from .google.client import GoogleCalendarApi
from .google.errors import (
    GoogleCalendarApiError,
    GoogleClientClosedError,
    GoogleConflictError,
    GoogleGoneError,
    GoogleNotFoundError,
)
from .google.export_plan import (
    ORIGIN_KEY,
    Appointment,
    PlannedWrite,
    plan_export,
    private_properties,
)
from .google.model import Event as GoogleEvent, EventBody

if TYPE_CHECKING:
    from .coordinator import GoogleCalendarSyncConfigEntry

_LOGGER = logging.getLogger(__name__)

BATCH_SIZE = 50
AUTO_EXPORT_DAYS = 365
AUTO_EXPORT_INTERVAL = timedelta(hours=1)
# Appointment systems write bursts; one export after the burst is enough.
AUTO_EXPORT_COOLDOWN = 5.0

# Stores every written event and deleted id of one export at once.
type ApplyCallback = Callable[[list[GoogleEvent], list[str]], None]
# The coordinator's async_own_writes: a sync waits for the writes made in it.
type OwnWrites = Callable[[], AbstractAsyncContextManager[object]]


def appointment_of(event: CalendarEvent) -> Appointment:
    """Return the appointment of a Home Assistant calendar event."""
    uid = event.uid or f"{event.summary}@{event.start.isoformat()}"
    if event.recurrence_id:
        uid = f"{uid}/{event.recurrence_id}"
    return Appointment(
        uid=uid,
        summary=event.summary,
        start=event.start,
        end=event.end,
        description=event.description,
        location=event.location,
    )


@dataclass(slots=True)
class ExportResult:
    """Counts of one export, with a reason for each failure."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def add_failure(self, label: str, reason: str) -> None:
        """Record one failed appointment."""
        self.failed += 1
        self.failures.append({"appointment": label, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        """Return the service response form."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "failures": list(self.failures),
        }


async def async_list_exported(
    api: GoogleCalendarApi, calendar_id: str, origin: str
) -> list[GoogleEvent]:
    """Return every event of a calendar exported from one origin."""
    events: list[GoogleEvent] = []
    page_token: str | None = None
    while True:
        page = await api.list_events(
            calendar_id,
            page_token=page_token,
            private_extended_property=[f"{ORIGIN_KEY}={origin}"],
        )
        events.extend(page.get("items", []))
        if not (page_token := page.get("nextPageToken")):
            return events


async def async_run_export(
    api: GoogleCalendarApi,
    calendar_id: str,
    appointments: Sequence[Appointment],
    *,
    origin: str,
    time_zone: str,
    remove_missing: bool = False,
    window: tuple[datetime, datetime] | None = None,
    on_apply: ApplyCallback | None = None,
    own_writes: OwnWrites | None = None,
) -> ExportResult:
    """Export appointments idempotently through batch requests.

    Errors of single operations are counted, never raised; errors listing the
    calendar (nothing written yet) are raised. Google's answers go to on_apply
    once at the end, so the local store is rebuilt once per run; the batches and
    on_apply run inside own_writes, so a sync landing between two batches does
    not announce the first ones as changes made in Google.
    """
    existing = await async_list_exported(api, calendar_id, origin)
    plan = plan_export(
        appointments,
        existing,
        calendar_id=calendar_id,
        origin=origin,
        time_zone=time_zone,
        remove_missing=remove_missing,
        window=window,
    )
    result = ExportResult(unchanged=plan.unchanged)
    writes = plan.operations
    if not writes:
        return result
    written: list[GoogleEvent] = []
    removed: list[str] = []
    async with own_writes() if own_writes is not None else contextlib.nullcontext():
        try:
            await _async_execute(api, calendar_id, writes, result, written, removed)
        finally:
            # Store what was written even when a later batch failed.
            if on_apply is not None and (written or removed):
                on_apply(written, removed)
    return result


async def _async_execute(  # noqa: PLR0917
    api: GoogleCalendarApi,
    calendar_id: str,
    writes: Sequence[PlannedWrite],
    result: ExportResult,
    written: list[GoogleEvent],
    removed: list[str],
) -> None:
    """Run the planned writes, reviving conflicting inserts with a second batch."""
    outcomes = await api.execute_batch(
        [write.operation for write in writes], batch_size=BATCH_SIZE
    )
    retries: list[PlannedWrite] = []
    for write, outcome in zip(writes, outcomes, strict=True):
        if isinstance(outcome.error, GoogleConflictError) and (
            write.operation.method == "insert"
        ):
            # The id exists already (often a cancelled earlier export): revive it.
            body: EventBody = {**(write.operation.body or {}), "status": "confirmed"}
            event_id = str(body.pop("id"))
            retries.append(
                PlannedWrite(
                    BatchOperation("patch", calendar_id, body=body, event_id=event_id),
                    write.label,
                )
            )
            continue
        _count(result, write, outcome, written, removed)
    if retries:
        outcomes = await api.execute_batch(
            [write.operation for write in retries], batch_size=BATCH_SIZE
        )
        for write, outcome in zip(retries, outcomes, strict=True):
            _count(result, write, outcome, written, removed)


def _count(
    result: ExportResult,
    write: PlannedWrite,
    outcome: BatchOutcome,
    written: list[GoogleEvent],
    removed: list[str],
) -> None:
    """Count one outcome and collect what Google answered."""
    method = write.operation.method
    if method == "delete":
        if outcome.error is None or isinstance(
            outcome.error, GoogleNotFoundError | GoogleGoneError
        ):
            result.removed += 1
            if write.operation.event_id:
                removed.append(write.operation.event_id)
            return
    elif outcome.error is None:
        if method == "insert":
            result.created += 1
        else:
            result.updated += 1
        if outcome.result is not None:
            written.append(outcome.result)
        return
    reason = str(outcome.error) if outcome.error else "unknown error"
    result.add_failure(write.label, reason)


def read_window(days: int = AUTO_EXPORT_DAYS) -> tuple[datetime, datetime]:
    """Return the window of future appointments an export covers by default."""
    now = dt_util.now()
    return now, now + timedelta(days=days)


def source_calendar(hass: HomeAssistant, entity_id: str) -> CalendarEntity | None:
    """Return the Home Assistant calendar entity with that id, if loaded."""
    if (component := hass.data.get(DATA_COMPONENT)) is None:
        return None
    entity = component.get_entity(entity_id)
    return entity if isinstance(entity, CalendarEntity) else None


async def async_read_appointments(
    hass: HomeAssistant, entity: CalendarEntity, start: datetime, end: datetime
) -> list[Appointment]:
    """Return the appointments of a calendar entity in a window.

    Events this integration exported are left out: an export never exports them
    again, so a synced calendar that is both a target and a source cannot echo.
    """
    events = await entity.async_get_events(hass, start, end)
    exported = _exported_uids(entity, start, end)
    return [appointment_of(event) for event in events if event.uid not in exported]


def _exported_uids(entity: CalendarEntity, start: datetime, end: datetime) -> set[str]:
    """Return the uids of the exported events of one of our calendars in a window."""
    if not isinstance(entity, GoogleCalendarSyncCalendarEntity):
        return set()
    return {
        event.uid
        for event in entity.timeline.overlapping(start, end)
        if ORIGIN_KEY in private_properties(event.source)
    }


class AutoExporter:
    """Export the future appointments of Home Assistant calendars automatically."""

    def __init__(
        self,
        hass: HomeAssistant,
        api: GoogleCalendarApi,
        calendar_id: str,
        sources: Sequence[str],
        *,
        on_apply: ApplyCallback | None = None,
        own_writes: OwnWrites | None = None,
        cooldown: float = AUTO_EXPORT_COOLDOWN,
    ) -> None:
        """Initialize the exporter."""
        self._hass = hass
        self._api = api
        self._calendar_id = calendar_id
        self._sources = list(sources)
        self._on_apply = on_apply
        self._own_writes = own_writes
        self._unsubs: list[CALLBACK_TYPE] = []
        self._subscriptions: dict[str, CALLBACK_TYPE] = {}
        self._debouncer = Debouncer(
            hass,
            _LOGGER,
            cooldown=cooldown,
            immediate=False,
            function=self.async_export_all,
        )

    async def async_start(self) -> None:
        """Listen to the sources and schedule the first export."""
        self._unsubs.append(
            async_track_state_change_event(
                self._hass, self._sources, self._async_source_changed
            )
        )
        self._unsubs.append(
            async_track_time_interval(
                self._hass,
                self._async_hourly,
                AUTO_EXPORT_INTERVAL,
                name=f"google_calendar_sync export to {self._calendar_id}",
            )
        )
        self._subscribe_sources()
        if self._hass.is_running:
            self._debouncer.async_schedule_call()
        else:
            self._unsubs.append(
                self._hass.bus.async_listen_once(
                    EVENT_HOMEASSISTANT_STARTED, self._async_started
                )
            )

    async def async_stop(self) -> None:
        """Stop listening and cancel a pending export."""
        for unsub in (*self._unsubs, *self._subscriptions.values()):
            unsub()
        self._unsubs.clear()
        self._subscriptions.clear()
        self._debouncer.async_shutdown()

    @callback
    def _async_started(self, _event: Event) -> None:
        """Export once Home Assistant has loaded every calendar."""
        self._subscribe_sources()
        self._debouncer.async_schedule_call()

    @callback
    def _async_hourly(self, _now: datetime) -> None:
        """Export as a safety net for changes nobody announced."""
        self._debouncer.async_schedule_call()

    @callback
    def _async_source_changed(self, _event: Event[EventStateChangedData]) -> None:
        """Export after a source calendar changed."""
        self._subscribe_sources()
        self._debouncer.async_schedule_call()

    @callback
    def _async_events_changed(self, _events: Any) -> None:
        """Export after a source wrote its state, even if the state is the same."""
        self._debouncer.async_schedule_call()

    @callback
    def _subscribe_sources(self) -> None:
        """Follow every loaded source's event list (new appointments far ahead)."""
        for entity_id in self._sources:
            if entity_id in self._subscriptions:
                continue
            if (entity := source_calendar(self._hass, entity_id)) is None:
                continue
            start, end = read_window()
            self._subscriptions[entity_id] = entity.async_subscribe_events(
                start, end, self._async_events_changed
            )

    async def async_export_all(self) -> None:
        """Export every loaded source now."""
        window = read_window()
        for entity_id in self._sources:
            if (entity := source_calendar(self._hass, entity_id)) is None:
                _LOGGER.debug("Export source %s is not loaded yet", entity_id)
                continue
            if not entity.available:
                # An empty answer from a broken source must not remove its exports.
                _LOGGER.debug("Export source %s is unavailable", entity_id)
                continue
            try:
                appointments = await async_read_appointments(
                    self._hass, entity, *window
                )
                result = await async_run_export(
                    self._api,
                    self._calendar_id,
                    appointments,
                    origin=entity_id,
                    time_zone=self._hass.config.time_zone,
                    remove_missing=True,
                    window=window,
                    on_apply=self._on_apply,
                    own_writes=self._own_writes,
                )
            except GoogleClientClosedError:
                _LOGGER.debug("Automatic export stopped: the entry is unloading")
                break
            except (GoogleCalendarApiError, HomeAssistantError) as err:
                _LOGGER.warning("Automatic export of %s failed: %s", entity_id, err)
                continue
            counts = result.as_dict()
            _LOGGER.debug("Exported %s to %s: %s", entity_id, self._calendar_id, counts)
            for failure in result.failures:
                _LOGGER.warning(
                    "Could not export %s from %s: %s",
                    failure["appointment"],
                    entity_id,
                    failure["reason"],
                )


async def async_start_auto_export(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> None:
    """Start the automatic export an entry's options ask for."""
    sources: list[str] = entry.options.get(CONF_EXPORT_SOURCES) or []
    target = entry.options.get(CONF_EXPORT_TARGET)
    if not sources or not target:
        return
    coordinator = entry.runtime_data.coordinators.get(target)
    if coordinator is None or not coordinator.writable:
        _LOGGER.warning(
            "Automatic export needs a synced, writable target calendar; %s is not",
            target,
        )
        return
    exporter = AutoExporter(
        hass,
        coordinator.api,
        coordinator.calendar_id,
        sources,
        on_apply=coordinator.async_apply_remote_writes,
        own_writes=coordinator.async_own_writes,
    )
    await exporter.async_start()
    entry.async_on_unload(exporter.async_stop)
