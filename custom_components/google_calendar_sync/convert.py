"""Convert Home Assistant calendar input to Google event bodies, ids and rules."""

from __future__ import annotations

from collections.abc import Mapping
import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import logging
from typing import Any, cast

from dateutil.rrule import rrule, rrulestr
from homeassistant.components.calendar.const import EVENT_END, EVENT_START

from .google.model import (
    Event,
    EventBody,
    format_time,
    parse_suffix,
    parse_time,
    split_instance_id,
)
from .google.recurrence import check_recurrence

_LOGGER = logging.getLogger(__name__)

# What Home Assistant's calendar panel sends for "this and all following events".
RANGE_THIS_AND_FUTURE = "THISANDFUTURE"

_RRULE_PREFIX = "RRULE:"
# UNTIL of a rule (RFC 5545): a UTC date-time for timed series, a date all day.
_UNTIL_UTC_FORMAT = "%Y%m%dT%H%M%SZ"
_UNTIL_DATE_FORMAT = "%Y%m%d"


class EditScope(StrEnum):
    """Which part of an event an edit from an action changes."""

    EVENT = "event"  # the whole event; for a recurring event, the whole series
    OCCURRENCE = "occurrence"  # one occurrence of a recurring event
    FOLLOWING = "following"  # one occurrence and all that follow it


class InvalidRecurrenceError(ValueError):
    """Raised when a recurrence rule cannot be parsed or never occurs."""


def normalize_rrule(value: str) -> str:
    """Return a rule without the RRULE: prefix (the form Home Assistant uses)."""
    value = value.strip()
    if value.upper().startswith(_RRULE_PREFIX):
        value = value[len(_RRULE_PREFIX) :]
    return value


def _anchor(value: date | datetime) -> datetime:
    """Return the datetime a rule starts at (midnight for all-day events)."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _rule(value: str, dtstart: date | datetime) -> rrule:
    """Parse a rule anchored at dtstart."""
    parsed = rrulestr(normalize_rrule(value), dtstart=_anchor(dtstart))
    if not isinstance(parsed, rrule):  # pragma: no cover - rrulestr without rruleset
        raise InvalidRecurrenceError(value)
    return parsed


def validate_rrule(value: str, dtstart: date | datetime) -> str:
    """Return the normalized rule, or raise if it is malformed or never occurs.

    Parsed the way the timeline expands series. An impossible rule (30 February)
    makes dateutil scan to year 9999: call this in the executor.
    """
    rule = normalize_rrule(value)
    when = format_time(dtstart, "UTC")
    try:
        check_recurrence(
            {"start": when, "end": when, "recurrence": [_RRULE_PREFIX + rule]}
        )
    except ValueError as err:
        raise InvalidRecurrenceError(str(err)) from err
    return rule


def event_body(
    event: Mapping[str, Any], *, time_zone: str, recurring: bool = True
) -> EventBody:
    """Return a Google event body for a Home Assistant calendar event dict.

    The dict is what calendar entities receive: summary, dtstart, dtend, and
    optionally description, location and rrule.
    """
    body: EventBody = {
        "summary": event.get("summary", ""),
        "description": event.get("description") or "",
        "location": event.get("location") or "",
        "start": format_time(_field(event, EVENT_START, "start"), time_zone),
        "end": format_time(_field(event, EVENT_END, "end"), time_zone),
    }
    if recurring:
        rule = event.get("rrule")
        body["recurrence"] = [_RRULE_PREFIX + normalize_rrule(rule)] if rule else []
    return body


def _field(event: Mapping[str, Any], key: str, alias: str) -> Any:
    """Return a field by Home Assistant's key or its plain alias."""
    return event[key] if key in event else event[alias]


@dataclass(frozen=True, slots=True)
class EventTarget:
    """Which Google event an entity call means."""

    event_id: str
    master_id: str | None = None
    original_start: date | datetime | None = None

    @property
    def is_instance(self) -> bool:
        """Return True when the target is one instance of a recurring event."""
        return self.master_id is not None


def resolve_target(uid: str, recurrence_id: str | None) -> EventTarget:
    """Map Home Assistant's uid and recurrence_id to Google ids.

    Accepts both the series id with the instance suffix as recurrence_id and the
    full instance id ("master_20250101T100000Z") as uid. Base32hex ids never hold
    an underscore, so one marks an instance id.
    """
    if recurrence_id:
        master = uid
        if uid.endswith(f"_{recurrence_id}"):
            master = uid[: -len(recurrence_id) - 1]
        elif "_" in recurrence_id:
            # The full instance id was passed as recurrence id.
            master, _, recurrence_id = recurrence_id.rpartition("_")
        return EventTarget(
            event_id=f"{master}_{recurrence_id}",
            master_id=master,
            original_start=parse_suffix(recurrence_id),
        )
    if (instance := split_instance_id(uid)) is not None:
        # An instance id without recurrence id: "all events" of that series.
        return EventTarget(event_id=instance[0])
    return EventTarget(event_id=uid)


def trim_recurrence(
    recurrence: list[str], series_start: date | datetime, cut: date | datetime
) -> list[str] | None:
    """Return the recurrence ending before cut, or None when nothing is left."""
    if _as_datetime(cut) <= _as_datetime(series_start):
        return None
    if isinstance(cut, datetime):
        until = (cut - timedelta(seconds=1)).astimezone(UTC).strftime(_UNTIL_UTC_FORMAT)
    else:
        until = (cut - timedelta(days=1)).strftime(_UNTIL_DATE_FORMAT)
    trimmed: list[str] = []
    for line in recurrence:
        if not line.upper().startswith(_RRULE_PREFIX):
            trimmed.append(line)
            continue
        parts = [
            part
            for part in normalize_rrule(line).split(";")
            if part and part.split("=")[0].upper() not in ("UNTIL", "COUNT")
        ]
        parts.append(f"UNTIL={until}")
        trimmed.append(_RRULE_PREFIX + ";".join(parts))
    return trimmed


def remaining_recurrence(
    recurrence: list[str], series_start: date | datetime, cut: date | datetime
) -> list[str]:
    """Return the rule for the series continuing at cut (COUNT reduced)."""
    result: list[str] = []
    for line in recurrence:
        if not line.upper().startswith(_RRULE_PREFIX):
            continue  # EXDATE/RDATE lines name dates of the old series
        parts = normalize_rrule(line).split(";")
        count = next(
            (int(p.split("=")[1]) for p in parts if p.upper().startswith("COUNT=")),
            None,
        )
        if count is not None:
            before = _occurrences_before(line, series_start, cut)
            parts = [p for p in parts if not p.upper().startswith("COUNT=")]
            parts.append(f"COUNT={max(count - before, 1)}")
        result.append(_RRULE_PREFIX + ";".join(parts))
    return result


def _occurrences_before(
    line: str, series_start: date | datetime, cut: date | datetime
) -> int:
    """Count the occurrences of a rule that start before cut."""
    rule = _rule(line, _naive_in_zone(series_start))
    limit = _naive_in_zone(cut, series_start)
    count = 0
    for occurrence in rule:
        if occurrence >= limit:
            break
        count += 1
    return count


def _naive_in_zone(
    value: date | datetime, reference: date | datetime | None = None
) -> datetime:
    """Return a naive datetime (in the reference's zone) for rule arithmetic."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    zone = (reference or value).tzinfo if isinstance(reference, datetime) else None
    if zone is not None:
        value = value.astimezone(zone)
    return value.replace(tzinfo=None)


def _as_datetime(value: date | datetime) -> datetime:
    """Return an aware datetime for comparisons (dates at UTC midnight)."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


# Fields of a series that belong to it alone, not to a series split off it.
_SERIES_OWN_FIELDS = frozenset(
    {
        "id",
        "etag",
        "iCalUID",
        "htmlLink",
        "created",
        "updated",
        "sequence",
        "status",
        "kind",
        "creator",
        "organizer",
        "recurringEventId",
        "originalStartTime",
        "hangoutLink",
        "conferenceData",
    }
)


def following_series(
    master: Event,
    original_start: date | datetime | None,
    changes: EventBody,
) -> EventBody:
    """Return the body of the series that continues master at an occurrence.

    It keeps the master's fields (attendees, reminders, the Meet conference) and
    the rest of its rule, starts at the occurrence, and takes the changes on top.
    """
    series_start = parse_time(master["start"])
    series_end = parse_time(master["end"])
    cut = original_start or series_start
    # The master's fields less those of the series alone: still an event's fields.
    body = cast(
        "EventBody",
        {
            key: copy.deepcopy(value)
            for key, value in master.items()
            if key not in _SERIES_OWN_FIELDS
        },
    )
    if isinstance(series_start, datetime) and isinstance(cut, datetime):
        zone = master["start"].get("timeZone")
        start: date | datetime = cut.astimezone(series_start.tzinfo)
        body["start"] = format_time(start, zone or "UTC")
        body["end"] = format_time(start + (series_end - series_start), zone or "UTC")
    else:
        day = cut.date() if isinstance(cut, datetime) else cut
        body["start"] = {"date": day.isoformat()}
        body["end"] = {"date": (day + (series_end - series_start)).isoformat()}
    body["recurrence"] = remaining_recurrence(
        master.get("recurrence", []), series_start, cut
    )
    if conference := master.get("conferenceData"):
        # The same conference: a new request would make a new Meet link.
        kept = copy.deepcopy(conference)
        kept.pop("createRequest", None)
        body["conferenceData"] = kept
    body.update(copy.deepcopy(changes))
    if body.get("conferenceData", {}) is None:
        del body["conferenceData"]
    return body


def same_rule(recurrence: list[str], master: Event) -> bool:
    """Return True when a rule list repeats the master's RRULE lines."""
    master_rules = [
        normalize_rrule(line).upper()
        for line in master.get("recurrence", [])
        if line.upper().startswith(_RRULE_PREFIX)
    ]
    return [normalize_rrule(line).upper() for line in recurrence] == master_rules
