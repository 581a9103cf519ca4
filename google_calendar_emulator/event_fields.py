"""The event fields Google checks for special event types, attendees and colors.

Rules from Google's event-types guide and the events reference: the event type is
set at creation and never changes; `fromGmail` events cannot be created through the
API; focus time, out of office and working location live on primary calendars only;
a birthday is an all-day event of one day recurring yearly, its `birthdayProperties`
are immutable; only default events can be moved to another calendar (events.move).
`attendees[].self` is the server's: it marks the calendar owner's own entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, Final

from . import errors
from .colors import EVENT_COLORS

DEFAULT: Final = "default"
BIRTHDAY: Final = "birthday"
EVENT_TYPES: Final = frozenset(
    {DEFAULT, BIRTHDAY, "focusTime", "fromGmail", "outOfOffice", "workingLocation"}
)
_PRIMARY_ONLY: Final = frozenset({"focusTime", "outOfOffice", "workingLocation"})
_TIMED_ONLY: Final = frozenset({"focusTime", "outOfOffice"})
RESPONSE_STATUSES: Final = frozenset(
    {"needsAction", "declined", "tentative", "accepted"}
)
TRANSPARENCIES: Final = frozenset({"opaque", "transparent"})
_RESTRICTED: Final = "eventTypeRestriction"


def check_new(event: Mapping[str, Any], *, primary: bool) -> None:
    """Refuse a new event that Google would refuse for its type."""
    event_type = event.get("eventType", DEFAULT)
    if event_type not in EVENT_TYPES:
        raise errors.bad_request("Invalid event type value.")
    if event_type == "fromGmail":
        raise errors.bad_request(
            "Events of type fromGmail cannot be created.", reason=_RESTRICTED
        )
    if event_type in _PRIMARY_ONLY and not primary:
        raise errors.bad_request(
            f"Events of type {event_type} can only be created on a primary calendar.",
            reason=_RESTRICTED,
        )


def check_change(current: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    """Refuse changing what Google keeps: the type and birthday properties."""
    event_type = current.get("eventType", DEFAULT)
    if body.get("eventType", event_type) != event_type:
        raise errors.bad_request(
            "The event type cannot be changed.", reason=_RESTRICTED
        )
    if "birthdayProperties" in body and body["birthdayProperties"] != current.get(
        "birthdayProperties"
    ):
        raise errors.bad_request(
            "Birthday properties cannot be changed.", reason=_RESTRICTED
        )


def check_fields(event: Mapping[str, Any]) -> None:
    """Refuse values outside Google's enumerations and palette, and bad shapes."""
    if (color := event.get("colorId")) is not None and color not in EVENT_COLORS:
        raise errors.bad_request("Invalid color id value.")
    transparency = event.get("transparency")
    if transparency is not None and transparency not in TRANSPARENCIES:
        raise errors.bad_request("Invalid transparency value.")
    attendees = event.get("attendees", [])
    if not isinstance(attendees, list) or any(
        not isinstance(attendee, dict) or not attendee.get("email")
        for attendee in attendees
    ):
        raise errors.required("attendees.email")
    for attendee in attendees:
        if attendee.get("responseStatus", "needsAction") not in RESPONSE_STATUSES:
            raise errors.bad_request("Invalid attendee response status value.")
    _check_shape(event)


def check_move(event: Mapping[str, Any]) -> None:
    """Refuse moving anything but a default event (events.move)."""
    if event.get("eventType", DEFAULT) != DEFAULT:
        raise errors.bad_request(
            "Only default events can be moved to another calendar.",
            reason=_RESTRICTED,
        )


def mark_attendees(event: dict[str, Any], owner: str) -> None:
    """Mark the owner's own attendee entry and default the response statuses."""
    for attendee in event.get("attendees", []):
        attendee.pop("self", None)
        attendee.setdefault("responseStatus", "needsAction")
        if str(attendee["email"]).casefold() == owner.casefold():
            attendee["self"] = True


def _check_shape(event: Mapping[str, Any]) -> None:
    """Check the times and recurrence a special type requires."""
    event_type = event.get("eventType", DEFAULT)
    start, end = event.get("start") or {}, event.get("end") or {}
    if event_type == BIRTHDAY:
        try:
            one_day = date.fromisoformat(end["date"]) - date.fromisoformat(
                start["date"]
            ) == timedelta(days=1)
        except KeyError, TypeError, ValueError:
            one_day = False
        if not one_day:
            raise errors.bad_request(
                "A birthday must be an all-day event of one day.", reason=_RESTRICTED
            )
        if "recurringEventId" not in event and event.get("recurrence") != [
            "RRULE:FREQ=YEARLY"
        ]:
            raise errors.bad_request(
                "A birthday must recur yearly (RRULE:FREQ=YEARLY).", reason=_RESTRICTED
            )
    if event_type in _TIMED_ONLY and "dateTime" not in start:
        raise errors.bad_request(
            f"Events of type {event_type} cannot be all-day events.",
            reason=_RESTRICTED,
        )
