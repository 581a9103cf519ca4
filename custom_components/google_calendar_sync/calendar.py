"""Calendar entities answered from the locally synced Google calendars."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Any, override

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import (
    EVENT_RRULE,
    EVENT_START,
    CalendarEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DECLINED_COLOR, DOMAIN
from .convert import InvalidRecurrenceError, validate_rrule
from .coordinator import (
    CalendarSyncCoordinator,
    GoogleCalendarSyncConfigEntry,
    calendar_unique_id,
)
from .entity import GoogleCalendarSyncEntity, calendar_name
from .google.entries import TimelineEvent
from .google.event_views import BusyTimeline, EventView, event_type
from .google.model import Event
from .google.timeline import CalendarTimeline
from .writer import EventWriter

_LOGGER = logging.getLogger(__name__)

# Reads come from the coordinator's local timeline and syncs are coalesced by the
# coordinator; the limit is for the actions that write to Google (create, update,
# delete), one at a time so a burst does not run into Google's per-user rate limit.
PARALLEL_UPDATES = 1

# Home Assistant validates every CalendarEvent it is given (the rrule is parsed
# too), about 0.05 ms each: a month of a large calendar would cost more than the
# query. Each timeline entry keeps what _convert made of it (a changed event is
# a new entry), and the months around now are converted ahead of reads, in the
# executor (a month of a large calendar takes far more than a loop step).
_WARM_WINDOWS = (
    (timedelta(days=-31), timedelta(0)),
    (timedelta(0), timedelta(days=31)),
    (timedelta(days=31), timedelta(days=62)),
)
# Where the entity looks for the next event it can show when Home Assistant
# refuses the current or next one (widening, so the usual case stays cheap).
_NEXT_EVENT_HORIZONS = (timedelta(days=1), timedelta(days=31), timedelta(days=366))


@dataclass(frozen=True, slots=True)
class _Refused:
    """An event Home Assistant's CalendarEvent refuses, and why."""

    uid: str
    source: Event
    reason: str


async def async_setup_entry(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one calendar entity per view (calendar, birthdays...) of each calendar.

    The views of a calendar convert in the executor one at a time (see
    GoogleCalendarSyncCalendarEntity.converting).
    """
    async_add_entities(
        GoogleCalendarSyncCalendarEntity(coordinator, view, converting)
        for coordinator in entry.runtime_data.coordinators.values()
        for converting in (asyncio.Lock(),)
        for view in coordinator.views
    )


def to_calendar_event(event: TimelineEvent) -> CalendarEvent:
    """Convert a timeline event to Home Assistant's calendar event."""
    return CalendarEvent(
        start=event.start,
        end=event.end,
        summary=event.summary,
        description=event.description,
        location=event.location,
        uid=event.uid,
        recurrence_id=event.recurrence_id,
        rrule=event.rrule,
    )


def _ends_after(event: TimelineEvent, now: datetime) -> bool:
    """Return True if the event is still running or yet to come at now."""
    end = event.end
    if not isinstance(end, datetime):
        end = dt_util.start_of_local_day(end)
    return end > now


def _convert(event: TimelineEvent) -> CalendarEvent | _Refused:
    """Convert a timeline event, or say why Home Assistant refuses it."""
    try:
        return to_calendar_event(event)
    except HomeAssistantError as err:
        return _Refused(event.uid, event.source, str(err))


class GoogleCalendarSyncCalendarEntity(GoogleCalendarSyncEntity, CalendarEntity):
    """One view of a Google calendar, read from the local copy without I/O."""

    def __init__(
        self,
        coordinator: CalendarSyncCoordinator,
        view: EventView,
        converting: asyncio.Lock,
    ) -> None:
        """Initialize the calendar entity of one view of a calendar.

        converting is shared by the views of the calendar: its conversions run
        in the executor one at a time. Each one is pure Python and holds the
        GIL; side by side (a first read and a warm-up), the loop waits for the
        GIL behind all of them.
        """
        super().__init__(coordinator)
        self._view = view
        self._converting = converting
        calendar = coordinator.calendar
        self._attr_unique_id = calendar_unique_id(
            coordinator.account, coordinator.calendar_id, view
        )
        name = calendar_name(coordinator)
        if view is EventView.CALENDAR:
            if name is None:
                self._attr_translation_key = "primary"
            else:
                self._attr_name = name
        elif view is EventView.DECLINED:
            if name is None:
                self._attr_translation_key = "primary_declined"
            else:
                self._attr_translation_key = "declined"
                self._attr_translation_placeholders = {"calendar": name}
        else:
            self._attr_translation_key = str(view)
        # Google shows working locations apart from events: opt-in, like core.
        self._attr_entity_registry_enabled_default = (
            view is not EventView.WORKING_LOCATIONS
        )
        if view is EventView.CALENDAR:
            self._attr_initial_color = coordinator.palette.calendar_color(calendar)
        elif view is EventView.DECLINED:
            self._attr_initial_color = DECLINED_COLOR
        self._was_available = True
        self._warmed: CalendarTimeline | None = None
        self._last_converted: tuple[TimelineEvent, CalendarEvent | _Refused] | None = (
            None
        )
        self._warm_task: asyncio.Task[None] | None = None

    @override
    async def async_added_to_hass(self) -> None:
        """Convert the events around now ahead of the first reads."""
        await super().async_added_to_hass()
        self._async_warm_new_timeline()

    @override
    async def async_will_remove_from_hass(self) -> None:
        """Stop a warm-up in flight."""
        self._warmed = None
        if self._warm_task is not None:
            self._warm_task.cancel()
            self._warm_task = None
        await super().async_will_remove_from_hass()

    @property
    def timeline(self) -> CalendarTimeline:
        """Return the timeline of this entity's view."""
        return self.coordinator.data.timelines[self._view]

    def _current(self) -> TimelineEvent | None:
        """Return the event the state reflects: events marked free only if busy.

        The current or next event that Home Assistant accepts: when it refuses
        one, the next one it accepts.
        """
        timeline: CalendarTimeline | BusyTimeline = self.timeline
        if self._view is EventView.CALENDAR and not self.coordinator.free_events_busy:
            timeline = self.coordinator.data.busy
        now = dt_util.now()
        if (found := timeline.active_or_next(now)) is None:
            return None
        if self._calendar_event(found) is not None:
            return found
        for horizon in _NEXT_EVENT_HORIZONS:
            for event in timeline.overlapping(now, now + horizon):
                if _ends_after(event, now) and self._calendar_event(event):
                    return event
        return None

    @property
    @override
    def event(self) -> CalendarEvent | None:
        """Return the current or next event."""
        if (found := self._current()) is None:
            return None
        return self._calendar_event(found)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Say what kind of event the current or next one is (out of office...)."""
        if (found := self._current()) is None:
            return None
        return {"event_kind": str(event_type(found.source))}

    @override
    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the events overlapping a range that Home Assistant accepts.

        A range asked for the first time is found and converted in the executor
        first: the loop then only looks it up.
        """
        async with self._converting:
            timeline = self.timeline
            if (ready := timeline.prepare(start_date, end_date, _convert)) is not None:
                timeline.keep(await hass.async_add_executor_job(ready))
        return [
            converted
            for value in self.timeline.converted(start_date, end_date, _convert)
            if (converted := self._accepted(value)) is not None
        ]

    def _calendar_event(self, event: TimelineEvent) -> CalendarEvent | None:
        """Return the converted event, None when Home Assistant refuses it.

        The state asks for the same current event several times per write: the
        last one is kept (a timeline keeps its events until they change).
        """
        if self._last_converted is None or self._last_converted[0] is not event:
            self._last_converted = (event, _convert(event))
        return self._accepted(self._last_converted[1])

    def _accepted(self, value: CalendarEvent | _Refused) -> CalendarEvent | None:
        """Return a converted event; report a refused one (once): it costs no other."""
        if isinstance(value, _Refused):
            self.coordinator.skipped(value.uid, value.source, value.reason)
            return None
        return value

    @callback
    def _async_warm_new_timeline(self) -> None:
        """Start converting the events around now of a newly built timeline."""
        timeline = self.timeline
        if timeline is self._warmed:
            return
        self._warmed = timeline
        if self._warm_task is not None:
            self._warm_task.cancel()
        self._warm_task = self.coordinator.config_entry.async_create_task(
            self.hass, self._async_warm(timeline), f"{self.entity_id} convert events"
        )

    async def _async_warm(self, timeline: CalendarTimeline) -> None:
        """Convert the months around now in the executor, one at a time."""
        now = dt_util.now()
        for before, after in _WARM_WINDOWS:
            async with self._converting:
                ready = timeline.prepare(now + before, now + after, _convert)
                if ready is not None:
                    await self.hass.async_add_executor_job(ready)
        self._warm_task = None

    @property
    def writable(self) -> bool:
        """Return whether events can be written here: separate views are read-only."""
        return self.coordinator.writable and self._view is EventView.CALENDAR

    @property
    @override
    def supported_features(self) -> CalendarEntityFeature:
        """Offer edits only where events can be written."""
        if not self.writable:
            return CalendarEntityFeature(0)
        return (
            CalendarEntityFeature.CREATE_EVENT
            | CalendarEntityFeature.UPDATE_EVENT
            | CalendarEntityFeature.DELETE_EVENT
        )

    @override
    async def async_create_event(self, **kwargs: Any) -> None:
        """Create an event in Google and show it at once."""
        await self._async_check_rrule(kwargs)
        await EventWriter.for_coordinator(self.coordinator).async_create(kwargs)

    @override
    async def async_update_event(
        self,
        uid: str,
        event: dict[str, Any],
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Update an event, one instance, this and following, or the series."""
        await self._async_check_rrule(event)
        await EventWriter.for_coordinator(self.coordinator).async_update(
            uid, event, recurrence_id, recurrence_range
        )

    @override
    async def async_delete_event(
        self,
        uid: str,
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Delete an event, one instance, this and following, or the series."""
        await EventWriter.for_coordinator(self.coordinator).async_delete(
            uid, recurrence_id, recurrence_range
        )

    async def _async_check_rrule(self, event: dict[str, Any]) -> None:
        """Refuse a rule the timeline cannot expand before anything reaches Google."""
        if not (rule := event.get(EVENT_RRULE)):
            return
        try:
            await self.hass.async_add_executor_job(
                validate_rrule, rule, event[EVENT_START]
            )
        except InvalidRecurrenceError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_rrule",
                translation_placeholders={"rrule": rule},
            ) from err

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Log availability changes once per calendar, then write the state."""
        available = self.available
        # The other views of the calendar share its coordinator: one line is enough.
        if self._view is EventView.CALENDAR and available != self._was_available:
            self._was_available = available
            if available:
                _LOGGER.info("Calendar %s is back", self.entity_id)
            else:
                _LOGGER.info("Calendar %s is unavailable", self.entity_id)
        self._async_warm_new_timeline()
        super()._handle_coordinator_update()
