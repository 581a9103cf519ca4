"""What Google Calendar sends and we keep, and the one parser of each of its concepts.

The TypedDicts describe the resources of Calendar API v3 as far as this package
reads them (https://developers.google.com/calendar/api/v3/reference). Google
adds fields over time and sends data its own checks would refuse: every key is
optional, and readers still check types before they trust a value. Objects this
package passes on without reading (birthdayProperties, attachments...) stay
free-form JSON.

The one parser of each concept lives here:
- Google times (an event's start, end and originalStartTime): parse_time and,
  the other way, format_time;
- instance ids (series id + "_" + the original start in UTC, or its date):
  instance_suffix, parse_suffix, split_instance_id;
- calendar names (summaryOverride, else summary, else the id): display_name;
- a channel's expiration (milliseconds since the epoch): channel_expiration;
- time zone names: zone_named.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
import logging
from typing import Any, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_LOGGER = logging.getLogger(__name__)

# Instance id suffixes: "20250301T080000Z" for timed series, "20250301" all day.
_UTC_SUFFIX_FORMAT = "%Y%m%dT%H%M%SZ"
_DATE_SUFFIX_FORMAT = "%Y%m%d"


class EventDateTime(TypedDict, total=False):
    """An event's start, end or originalStartTime: a date or a dateTime."""

    date: str
    dateTime: str
    timeZone: str


class Attendee(TypedDict, total=False):
    """One attendee of an event; self marks the calendar owner's entry."""

    id: str
    email: str
    displayName: str
    organizer: bool
    self: bool
    resource: bool
    optional: bool
    responseStatus: str
    comment: str
    additionalGuests: int


class Person(TypedDict, total=False):
    """An event's creator or organizer."""

    id: str
    email: str
    displayName: str
    self: bool


class ReminderOverride(TypedDict, total=False):
    """One reminder: how, and how many minutes before the start."""

    method: str
    minutes: int


class Reminders(TypedDict, total=False):
    """An event's reminders: the calendar's defaults or its own."""

    useDefault: bool
    overrides: list[ReminderOverride]


class EntryPoint(TypedDict, total=False):
    """One way to join a conference (video, phone, more)."""

    entryPointType: str
    uri: str
    label: str


class ConferenceSolutionKey(TypedDict, total=False):
    """Which conference solution: hangoutsMeet, addOn..."""

    type: str


class CreateConferenceRequest(TypedDict, total=False):
    """A request for a new conference; Google ignores a requestId it has seen."""

    requestId: str
    conferenceSolutionKey: ConferenceSolutionKey
    status: dict[str, str]


class ConferenceData(TypedDict, total=False):
    """An event's conference (Google Meet or an add-on's)."""

    conferenceId: str
    createRequest: CreateConferenceRequest
    entryPoints: list[EntryPoint]
    conferenceSolution: dict[str, Any]
    notes: str
    signature: str


class ExtendedProperties(TypedDict, total=False):
    """Properties an application keeps on an event."""

    private: dict[str, str]
    shared: dict[str, str]


class _EventFields(TypedDict, total=False):
    """The fields of an events resource but its conference."""

    kind: str
    etag: str
    id: str
    status: str
    htmlLink: str
    created: str
    updated: str
    summary: str
    description: str
    location: str
    colorId: str
    creator: Person
    organizer: Person
    start: EventDateTime
    end: EventDateTime
    endTimeUnspecified: bool
    recurrence: list[str]
    recurringEventId: str
    originalStartTime: EventDateTime
    transparency: str
    visibility: str
    iCalUID: str
    sequence: int
    attendees: list[Attendee]
    attendeesOmitted: bool
    extendedProperties: ExtendedProperties
    hangoutLink: str
    reminders: Reminders
    eventType: str
    birthdayProperties: dict[str, Any]
    workingLocationProperties: dict[str, Any]
    outOfOfficeProperties: dict[str, Any]
    focusTimeProperties: dict[str, Any]
    source: dict[str, str]
    attachments: list[dict[str, Any]]
    guestsCanModify: bool
    guestsCanInviteOthers: bool
    guestsCanSeeOtherGuests: bool
    privateCopy: bool
    locked: bool


class Event(_EventFields, total=False):
    """An events resource as events.list, get, insert and patch answer it."""

    conferenceData: ConferenceData


class EventBody(_EventFields, total=False):
    """What events.insert and events.patch take: the fields to set.

    A patch sets conferenceData to None to remove the conference.
    """

    conferenceData: ConferenceData | None


class EventList(TypedDict, total=False):
    """One page of events.list."""

    kind: str
    etag: str
    summary: str
    description: str
    timeZone: str
    accessRole: str
    updated: str
    defaultReminders: list[ReminderOverride]
    nextPageToken: str
    nextSyncToken: str
    items: list[Event]


class CalendarListEntry(TypedDict, total=False):
    """A calendarList entry (or, with fewer fields, a calendars resource)."""

    kind: str
    etag: str
    id: str
    summary: str
    summaryOverride: str
    description: str
    location: str
    timeZone: str
    colorId: str
    backgroundColor: str
    foregroundColor: str
    hidden: bool
    selected: bool
    accessRole: str
    primary: bool
    deleted: bool
    defaultReminders: list[ReminderOverride]
    notificationSettings: dict[str, list[dict[str, str]]]
    conferenceProperties: dict[str, list[str]]
    dataOwner: str
    autoAcceptInvitations: bool


class ColorDefinition(TypedDict, total=False):
    """One color of Google's palette."""

    background: str
    foreground: str


class Colors(TypedDict, total=False):
    """Google's color palette (colors.get), by color id."""

    kind: str
    updated: str
    calendar: dict[str, ColorDefinition]
    event: dict[str, ColorDefinition]


class Channel(TypedDict, total=False):
    """A notification channel as events.watch answers it."""

    kind: str
    id: str
    resourceId: str
    resourceUri: str
    token: str
    expiration: str
    type: str
    address: str
    params: dict[str, str]


def zone_named(name: object) -> ZoneInfo | None:
    """Return the zone of an IANA name, None if unknown or not a name at all."""
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError, OSError:
        # OSError: a name too long for the file system (a 300-character zone).
        _LOGGER.debug("Unknown time zone %.64r", name)
        return None


def parse_time(
    value: EventDateTime | Mapping[str, Any], default_zone: tzinfo = UTC
) -> date | datetime:
    """Parse a Google start/end: the one parser of Google times.

    A date is an all-day bound. A dateTime with an offset is that moment, shown in
    its timeZone when it has one; a dateTime without an offset is a wall-clock
    time in its timeZone, or else in default_zone (the calendar's). Raises
    KeyError, ValueError or TypeError for anything else.
    """
    if "date" in value:
        return date.fromisoformat(value["date"])
    parsed = datetime.fromisoformat(value["dateTime"])
    zone = zone_named(value.get("timeZone"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone or default_zone)
    return parsed.astimezone(zone) if zone else parsed


def format_time(value: date | datetime, time_zone: str) -> EventDateTime:
    """Return the Google start/end of a date or a datetime (naive: in time_zone)."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone_named(time_zone) or UTC)
    zone = value.tzinfo
    # Google needs an IANA name for recurring events; fixed offsets fall back.
    name = zone.key if isinstance(zone, ZoneInfo) else time_zone
    return {"dateTime": value.isoformat(), "timeZone": name}


def instance_suffix(original_start: date | datetime) -> str:
    """Return the suffix of an instance id: its original start (UTC) or date."""
    if isinstance(original_start, datetime):
        return original_start.astimezone(UTC).strftime(_UTC_SUFFIX_FORMAT)
    return original_start.strftime(_DATE_SUFFIX_FORMAT)


def parse_suffix(suffix: str) -> date | datetime | None:
    """Return the original start encoded in an instance id suffix, None if none."""
    for fmt in (_UTC_SUFFIX_FORMAT, _DATE_SUFFIX_FORMAT):
        try:
            parsed = datetime.strptime(suffix, fmt)  # noqa: DTZ007 - Z is UTC
        except ValueError:
            continue
        if fmt == _DATE_SUFFIX_FORMAT:
            return parsed.date()
        return parsed.replace(tzinfo=UTC)
    return None


def split_instance_id(event_id: str) -> tuple[str, str] | None:
    """Return the series id and suffix of an instance id, None for other ids.

    Base32hex event ids never hold an underscore, so one marks an instance id.
    """
    master, sep, suffix = event_id.rpartition("_")
    if sep and master and parse_suffix(suffix) is not None:
        return master, suffix
    return None


def display_name(calendar: CalendarListEntry) -> str:
    """Return how the user knows a calendar: their name for it, its name, its id."""
    return str(
        calendar.get("summaryOverride") or calendar.get("summary") or calendar["id"]
    )


def channel_expiration(channel: Channel) -> datetime | None:
    """Return when a watch channel expires, None if Google did not say usably."""
    try:
        return datetime.fromtimestamp(int(channel["expiration"]) / 1000, tz=UTC)
    except KeyError, TypeError, ValueError, OverflowError, OSError:
        return None
