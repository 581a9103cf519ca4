"""Timeline entries: an event's bounds as timestamps, its TimelineEvent on demand."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Protocol

from .meet import meet_link, shown_description
from .model import Event, EventDateTime, instance_suffix, parse_time

# What malformed event data raises while it is indexed, expanded or built: one
# such event is skipped, never the calendar (OSError: a 300-character zone name).
BAD_EVENT_DATA: tuple[type[Exception], ...] = (
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
    OSError,
)
# Told about every event left out: (event or instance id if any, resource, reason).
type OnSkip = Callable[[str | None, object, str], None]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event or generated instance, ready for Home Assistant."""

    uid: str
    recurring_event_id: str | None
    recurrence_id: str | None
    rrule: str | None
    summary: str
    description: str | None
    location: str | None
    start: date | datetime
    end: date | datetime
    source: Event


class InstanceSource(Protocol):
    """What an entry needs of the series that generated it (recurrence.Series)."""

    @property
    def master(self) -> Event:
        """Return the recurring event."""

    def build(self, local_start: datetime, uid: str) -> TimelineEvent:
        """Build the TimelineEvent of the instance starting at local_start."""


class Entry:
    """An event's bounds as UTC timestamps; the TimelineEvent is built on demand.

    Entries are never changed: a changed event gets a new entry, so what is
    built from one (its TimelineEvent, a converted form) is never stale.
    """

    __slots__ = (
        "_converted",
        "_event",
        "_local",
        "_raw",
        "_series",
        "_tz",
        "end_ts",
        "start_ts",
        "uid",
    )

    def __init__(
        self,
        start_ts: float,
        end_ts: float,
        uid: str,
        *,
        raw: Event | None = None,
        tz: tzinfo = UTC,
        series: InstanceSource | None = None,
        local: datetime | None = None,
    ) -> None:
        """Store the bounds and what builds the event: a raw event or an instance."""
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.uid = uid
        self._event: TimelineEvent | None = None
        self._converted: tuple[Callable[[TimelineEvent], Any], Any] | None = None
        self._raw = raw
        self._tz = tz
        self._series = series
        self._local = local

    @property
    def series(self) -> InstanceSource | None:
        """Return the series of a generated instance, None for single events."""
        return self._series

    @property
    def source(self) -> Event:
        """Return the Google event the entry comes from (the master of instances)."""
        if self._series is not None:
            return self._series.master
        return self._raw or {}

    @property
    def event(self) -> TimelineEvent:
        """Return the TimelineEvent, building it the first time."""
        if self._event is None and self._series is not None and self._local:
            self._event = self._series.build(self._local, self.uid)
        if self._event is None:
            raw = self._raw or {}
            master_id = raw.get("recurringEventId")
            self._event = timeline_event(
                raw,
                raw["id"],
                master_id,
                recurrence_suffix(raw.get("originalStartTime", {}), self._tz)
                if master_id
                else None,
                None,
                parse_time(raw["start"], self._tz),
                parse_time(raw["end"], self._tz),
            )
        return self._event

    def converted[T](self, convert: Callable[[TimelineEvent], T]) -> T:
        """Return convert(event), computed once per entry and converter."""
        if self._converted is not None and self._converted[0] is convert:
            found: T = self._converted[1]
            return found
        value = convert(self.event)
        self._converted = (convert, value)
        return value


def sort_key(entry: Entry) -> tuple[float, float, str]:
    """Order entries by start, then end, then uid."""
    return (entry.start_ts, entry.end_ts, entry.uid)


def timeline_event(  # noqa: PLR0917
    event: Event,
    uid: str,
    recurring_event_id: str | None,
    recurrence_id: str | None,
    rrule_text: str | None,
    start: date | datetime,
    end: date | datetime,
) -> TimelineEvent:
    """Build a TimelineEvent from a Google event."""
    return TimelineEvent(
        uid=uid,
        recurring_event_id=recurring_event_id,
        recurrence_id=recurrence_id,
        rrule=rrule_text,
        summary=event.get("summary") or "",
        description=shown_description(event.get("description"), meet_link(event)),
        location=event.get("location"),
        start=start,
        end=end,
        source=event,
    )


def bound(value: date | datetime, tz: tzinfo) -> float:
    """Return a UTC timestamp; dates start at midnight in the calendar's zone."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.combine(value, datetime.min.time(), tz).timestamp()


class Bounds:
    """UTC timestamps of Google start/end values and of datetimes in a calendar's zone."""

    def __init__(self, tz: tzinfo) -> None:
        """Start with no day parsed."""
        self._tz = tz
        self._days: dict[str, float] = {}

    def of(self, value: EventDateTime) -> float:
        """Return the UTC timestamp of a Google start/end."""
        if (text := value.get("dateTime")) is not None:
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                return bound(parse_time(value, self._tz), self._tz)
            return parsed.timestamp()
        day: str = value["date"]
        # All-day events share their days: each is parsed once per timeline.
        if (cached := self._days.get(day)) is None:
            cached = bound(date.fromisoformat(day), self._tz)
            self._days[day] = cached
        return cached

    def timestamp(self, value: datetime) -> float:
        """Return a UTC timestamp; naive datetimes are in the calendar's zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value.timestamp()


def original_key(value: object, tz: tzinfo) -> float | date | None:
    """Return how an exception's originalStartTime matches a generated instance."""
    if not isinstance(value, Mapping):
        return None
    try:
        moment = parse_time(value, tz)
    except BAD_EVENT_DATA:
        return None
    return moment.timestamp() if isinstance(moment, datetime) else moment


def recurrence_suffix(value: EventDateTime, tz: tzinfo) -> str | None:
    """Return Google's instance id suffix for an originalStartTime."""
    try:
        return instance_suffix(parse_time(value, tz))
    except BAD_EVENT_DATA:
        return None
