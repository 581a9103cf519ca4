"""What Google shows of an event (type, own answer, free or busy) and where.

Google keeps birthdays and working locations apart from the calendar and hides the
invitations the user declined; Home Assistant shows them as separate calendars
(views) of one synced calendar. Each view is indexed in its own timeline, and the
calendar view once more without the events marked free, for the busy state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .entries import OnSkip, TimelineEvent
from .model import Event
from .recurrence import Series
from .timeline import CalendarTimeline


class EventType(StrEnum):
    """Google's eventType, in Home Assistant's spelling."""

    DEFAULT = "default"
    BIRTHDAY = "birthday"
    FOCUS_TIME = "focus_time"
    FROM_GMAIL = "from_gmail"
    OUT_OF_OFFICE = "out_of_office"
    WORKING_LOCATION = "working_location"


class ResponseStatus(StrEnum):
    """The user's answer to an invitation, in Home Assistant's spelling."""

    NEEDS_ACTION = "needs_action"
    DECLINED = "declined"
    TENTATIVE = "tentative"
    ACCEPTED = "accepted"


class EventView(StrEnum):
    """The calendars Home Assistant shows of one Google calendar."""

    CALENDAR = "calendar"
    BIRTHDAYS = "birthdays"
    WORKING_LOCATIONS = "working_locations"
    DECLINED = "declined"


_EVENT_TYPES = {
    "default": EventType.DEFAULT,
    "birthday": EventType.BIRTHDAY,
    "focusTime": EventType.FOCUS_TIME,
    "fromGmail": EventType.FROM_GMAIL,
    "outOfOffice": EventType.OUT_OF_OFFICE,
    "workingLocation": EventType.WORKING_LOCATION,
}
_RESPONSES = {
    "needsAction": ResponseStatus.NEEDS_ACTION,
    "declined": ResponseStatus.DECLINED,
    "tentative": ResponseStatus.TENTATIVE,
    "accepted": ResponseStatus.ACCEPTED,
}


def event_type(event: Event) -> EventType:
    """Return an event's type; types Google adds later count as default."""
    return _EVENT_TYPES.get(str(event.get("eventType")), EventType.DEFAULT)


def response_status(event: Event) -> ResponseStatus | None:
    """Return the user's own answer, None when the user is not an attendee."""
    attendees = event.get("attendees")
    if not isinstance(attendees, list):
        return None
    for attendee in attendees:
        if isinstance(attendee, dict) and attendee.get("self"):
            return _RESPONSES.get(
                str(attendee.get("responseStatus")), ResponseStatus.NEEDS_ACTION
            )
    return None


def is_free(event: Event) -> bool:
    """Return whether an event is marked free (does not block time)."""
    return event.get("transparency") == "transparent"


def event_view(event: Event) -> EventView:
    """Return the view that shows an event."""
    match event_type(event):
        case EventType.BIRTHDAY:
            return EventView.BIRTHDAYS
        case EventType.WORKING_LOCATION:
            return EventView.WORKING_LOCATIONS
    if response_status(event) is ResponseStatus.DECLINED:
        return EventView.DECLINED
    return EventView.CALENDAR


def partition[K: Hashable](
    events: Collection[Event], key: Callable[[Event], K]
) -> dict[K, list[Event]]:
    """Split a snapshot's events by key, keeping each part a valid snapshot.

    An exception keyed apart from its series (one declined instance) goes to its
    own part as a single event, and leaves a cancelled stand-in with the series
    so that the original instance is hidden there.
    """
    series_keys = {
        event["id"]: key(event)
        for event in events
        if event.get("recurrence") and "recurringEventId" not in event
    }
    parts: dict[K, list[Event]] = {}
    for event in events:
        master_id = event.get("recurringEventId")
        if master_id is None or master_id not in series_keys:
            parts.setdefault(key(event), []).append(event)
            continue
        series_key = series_keys[master_id]
        if event.get("status") == "cancelled":
            # A cancelled exception only ever hides an instance of its series.
            parts.setdefault(series_key, []).append(event)
            continue
        own = key(event)
        parts.setdefault(own, []).append(event)
        if series_key != own:
            parts.setdefault(series_key, []).append(_stand_in(event))
    return parts


def _stand_in(exception: Event) -> Event:
    """Return a cancelled exception that hides an instance moved to another part."""
    return {
        "id": exception["id"],
        "status": "cancelled",
        "recurringEventId": exception["recurringEventId"],
        "originalStartTime": exception.get("originalStartTime", {}),
    }


@dataclass(frozen=True, slots=True)
class BusyTimeline:
    """The calendar view without the events marked free: what makes it busy.

    A filter over the calendar view's timeline rather than a timeline of its
    own: nothing to build or keep in step. Google marks a whole series free or
    busy, and an exception for itself; an exception replaces its instance in
    the calendar view whatever it is marked.
    """

    timeline: CalendarTimeline

    def overlapping(self, start: datetime, end: datetime) -> list[TimelineEvent]:
        """Return the busy events overlapping [start, end), sorted by start."""
        return self.timeline.overlapping(start, end, hide=is_free)

    def active_or_next(self, now: datetime) -> TimelineEvent | None:
        """Return the busy event in progress at now, or else the next one."""
        return self.timeline.active_or_next(now, hide=is_free)


class CalendarViews:
    """The timelines of one synced calendar's views, and what makes it busy.

    Built from a whole snapshot (build: after a full sync, in the executor) and
    then kept in step with it change by change (apply, on the loop).
    """

    def __init__(self) -> None:
        """Start with no views; build fills them from a snapshot."""
        self.timelines: dict[EventView, CalendarTimeline] = {}
        # Where each exception goes depends on its series: master id -> the ids
        # of its exceptions in the snapshot, and exception id -> master id.
        self._exceptions: dict[str, set[str]] = {}
        self._master_of: dict[str, str] = {}

    @classmethod
    def build(
        cls,
        events: Collection[Event],
        *,
        default_time_zone: str,
        on_skip: OnSkip | None = None,
        reuse: Mapping[str, Series] | None = None,
    ) -> CalendarViews:
        """Index a snapshot's events by view; skipped events go to on_skip.

        Series of reuse (see series) keep their expansions where they fit.
        """
        views = cls()
        for event in events:
            if isinstance(event_id := event.get("id"), str):
                views._note_series(event_id, event)
        parts = partition(events, event_view)
        views.timelines = {
            view: CalendarTimeline(
                parts.get(view, ()),
                default_time_zone=default_time_zone,
                on_skip=on_skip,
                reuse=reuse,
            )
            for view in EventView
        }
        return views

    @property
    def busy(self) -> BusyTimeline:
        """Return the events that make the calendar busy."""
        return BusyTimeline(self.timelines[EventView.CALENDAR])

    @property
    def series(self) -> dict[str, Series]:
        """Return the series of every view by master id, for a rebuild to reuse."""
        found: dict[str, Series] = {}
        for timeline in self.timelines.values():
            found.update(timeline.series)
        return found

    def apply(self, events: Mapping[str, Event], ids: Iterable[str]) -> None:
        """Make the views agree with a snapshot (events by id) on changed ids.

        Each changed event is placed again with its family (a series with its
        exceptions), in place: the views then answer as a build of events would,
        at a cost proportional to the changed families.
        """
        reset: set[str] = set()
        families: set[str] = set()
        for event_id in ids:
            reset.add(event_id)
            if (master_id := self._master_of.pop(event_id, None)) is not None:
                exceptions = self._exceptions[master_id]
                exceptions.discard(event_id)
                if not exceptions:
                    del self._exceptions[master_id]
                families.add(master_id)
            families.add(self._note_series(event_id, events.get(event_id)))
        for family in families:
            reset.add(family)
            reset.update(self._exceptions.get(family, ()))
        changed = [events[event_id] for event_id in reset if event_id in events]
        parts = partition(changed, event_view)
        for view, timeline in self.timelines.items():
            timeline.update(parts.get(view, ()), removed=reset)

    def _note_series(self, event_id: str, event: Event | None) -> str:
        """Remember the series of an exception; return the family of the event."""
        master_id = event.get("recurringEventId") if event is not None else None
        if not isinstance(master_id, str):
            return event_id
        self._master_of[event_id] = master_id
        self._exceptions.setdefault(master_id, set()).add(event_id)
        return master_id

    def warm(self, now: datetime) -> None:
        """Expand the months around now of every timeline (in the executor)."""
        for timeline in self.timelines.values():
            timeline.warm(now)
        self.busy.active_or_next(now)
