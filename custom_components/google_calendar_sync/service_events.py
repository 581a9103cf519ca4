"""The event actions: create_event, update_event and delete_event."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any
import uuid

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.util import dt as dt_util
import probatio

from . import fields
from .calendar import GoogleCalendarSyncCalendarEntity
from .changes import event_fields
from .convert import (
    RANGE_THIS_AND_FUTURE,
    EditScope,
    InvalidRecurrenceError,
    normalize_rrule,
    validate_rrule,
)
from .fields import (
    ATTR_ADD_MEET_LINK,
    ATTR_ATTENDEES,
    ATTR_DESCRIPTION,
    ATTR_DURATION,
    ATTR_END_DATE,
    ATTR_END_DATE_TIME,
    ATTR_EVENT_ID,
    ATTR_LOCATION,
    ATTR_REMINDERS,
    ATTR_RRULE,
    ATTR_SCOPE,
    ATTR_START_DATE,
    ATTR_START_DATE_TIME,
    ATTR_SUMMARY,
    ATTR_TIME_ZONE,
    ATTR_TRANSPARENCY,
    check_order,
    localize,
    service_error,
)
from .google.meet import meet_link
from .google.model import EventBody, format_time, split_instance_id
from .writer import EventWriter

# The fields of an event that create_event and update_event both take.
_EVENT_FIELDS: dict[Any, Any] = {
    probatio.Optional(ATTR_DESCRIPTION): fields.DESCRIPTION,
    probatio.Optional(ATTR_LOCATION): fields.LOCATION,
    probatio.Exclusive(ATTR_START_DATE_TIME, "start"): fields.START_DATE_TIME,
    probatio.Exclusive(ATTR_START_DATE, "start"): fields.START_DATE,
    probatio.Exclusive(ATTR_END_DATE_TIME, "end"): fields.END_DATE_TIME,
    probatio.Exclusive(ATTR_END_DATE, "end"): fields.END_DATE,
    probatio.Exclusive(ATTR_DURATION, "end"): fields.DURATION,
    probatio.Optional(ATTR_TIME_ZONE): fields.TIME_ZONE,
    probatio.Optional(ATTR_ATTENDEES): fields.attendees,
    probatio.Optional(ATTR_RRULE): fields.RRULE,
    probatio.Optional(ATTR_REMINDERS): fields.reminders,
    probatio.Optional(ATTR_TRANSPARENCY): fields.TRANSPARENCY,
}

CREATE_EVENT_SCHEMA: dict[Any, Any] = {
    probatio.Required(ATTR_SUMMARY): fields.SUMMARY,
    **_EVENT_FIELDS,
    probatio.Optional(ATTR_ADD_MEET_LINK, default=False): fields.ADD_MEET_LINK,
}

# Which event an update or a delete means, and which part of a recurring one.
_EVENT_ID_FIELDS: dict[Any, Any] = {
    probatio.Required(ATTR_EVENT_ID): fields.EVENT_ID,
    probatio.Optional(ATTR_SCOPE, default=EditScope.EVENT): fields.SCOPE,
}

UPDATE_EVENT_SCHEMA: dict[Any, Any] = {
    **_EVENT_ID_FIELDS,
    probatio.Optional(ATTR_SUMMARY): fields.SUMMARY,
    **_EVENT_FIELDS,
    # Absent leaves the Meet link as it is; false removes it.
    probatio.Optional(ATTR_ADD_MEET_LINK): fields.ADD_MEET_LINK,
}

DELETE_EVENT_SCHEMA: dict[Any, Any] = _EVENT_ID_FIELDS


def require_writable(entity: GoogleCalendarSyncCalendarEntity) -> None:
    """Refuse writes to a calendar the account may only read, or to a view."""
    if not entity.coordinator.writable:
        raise service_error("calendar_not_writable", entity_id=entity.entity_id)
    if not entity.writable:
        raise service_error("view_not_writable", entity_id=entity.entity_id)


# Fields that set the time of an event.
_TIME_FIELDS = (
    ATTR_START_DATE_TIME,
    ATTR_START_DATE,
    ATTR_END_DATE_TIME,
    ATTR_END_DATE,
    ATTR_DURATION,
)


def _create_time_span(
    data: dict[str, Any], zone: tzinfo
) -> tuple[date | datetime, date | datetime]:
    """Return the start and end of a create_event call."""
    start: date | datetime
    if ATTR_START_DATE_TIME in data:
        start = localize(data[ATTR_START_DATE_TIME], zone)
    elif ATTR_START_DATE in data:
        start = data[ATTR_START_DATE]
    else:
        raise service_error("missing_start")
    end: date | datetime
    if ATTR_END_DATE_TIME in data:
        end = localize(data[ATTR_END_DATE_TIME], zone)
    elif ATTR_END_DATE in data:
        end = data[ATTR_END_DATE]
    elif ATTR_DURATION in data:
        duration: timedelta = data[ATTR_DURATION]
        if not isinstance(start, datetime):
            # An all-day event lasts whole days; round a partial day up.
            duration = timedelta(days=max(1, -(-duration // timedelta(days=1))))
        end = start + duration
    else:
        raise service_error("missing_end")
    check_order(start, end)
    return start, end


async def _async_validated_rrule(
    hass: HomeAssistant, rrule: str, start: date | datetime
) -> str:
    """Validate a rule in the executor (an impossible rule scans for a while)."""
    try:
        return await hass.async_add_executor_job(validate_rrule, rrule, start)
    except InvalidRecurrenceError as err:
        raise service_error("invalid_rrule", rrule=rrule) from err


async def async_create_event_body(
    hass: HomeAssistant, data: dict[str, Any]
) -> EventBody:
    """Return the Google body of a create_event call, validating everything."""
    time_zone: str = data.get(ATTR_TIME_ZONE) or hass.config.time_zone
    start, end = _create_time_span(data, await fields.async_time_zone(time_zone))
    body: EventBody = {
        "summary": data[ATTR_SUMMARY],
        "start": format_time(start, time_zone),
        "end": format_time(end, time_zone),
    }
    return body | await _async_field_changes(hass, data, start)


async def async_update_event_body(
    hass: HomeAssistant, data: dict[str, Any]
) -> EventBody:
    """Return the Google patch of an update_event call, validating everything.

    Times change together: a new start needs an end or a duration, as in
    create_event, so an event is never stretched by accident.
    """
    body: EventBody = {}
    start: date | datetime | None = None
    if any(key in data for key in _TIME_FIELDS):
        time_zone: str = data.get(ATTR_TIME_ZONE) or hass.config.time_zone
        start, end = _create_time_span(data, await fields.async_time_zone(time_zone))
        body["start"] = format_time(start, time_zone)
        body["end"] = format_time(end, time_zone)
    if ATTR_SUMMARY in data:
        body["summary"] = data[ATTR_SUMMARY]
    body |= await _async_field_changes(hass, data, start or dt_util.now())
    if data.get(ATTR_ADD_MEET_LINK) is False:
        body["conferenceData"] = None
    if data.get(ATTR_RRULE) and data[ATTR_SCOPE] is EditScope.OCCURRENCE:
        raise service_error("rrule_for_occurrence")
    if not body:
        raise service_error("nothing_to_update")
    return body


async def _async_field_changes(
    hass: HomeAssistant, data: dict[str, Any], start: date | datetime
) -> EventBody:
    """Return the Google fields of the optional fields of a call."""
    body: EventBody = {}
    if ATTR_DESCRIPTION in data:
        body["description"] = data[ATTR_DESCRIPTION]
    if ATTR_LOCATION in data:
        body["location"] = data[ATTR_LOCATION]
    if ATTR_TRANSPARENCY in data:
        body["transparency"] = data[ATTR_TRANSPARENCY]
    if rrule := data.get(ATTR_RRULE):
        rule = await _async_validated_rrule(hass, rrule, start)
        body["recurrence"] = [f"RRULE:{normalize_rrule(rule)}"]
    if ATTR_ATTENDEES in data:
        body["attendees"] = [{"email": email} for email in data[ATTR_ATTENDEES]]
    if ATTR_REMINDERS in data:
        body["reminders"] = {
            "useDefault": False,
            "overrides": [
                {"method": "popup", "minutes": minutes}
                for minutes in data[ATTR_REMINDERS]
            ],
        }
    if data.get(ATTR_ADD_MEET_LINK):
        body["conferenceData"] = {
            "createRequest": {
                # Google ignores a request whose id it has seen: never reuse one.
                "requestId": uuid.uuid4().hex,
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body


async def async_create_event(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Create an event with everything Google offers."""
    require_writable(entity)
    body = await async_create_event_body(call.hass, dict(call.data))
    meet = "conferenceData" in body
    created = await EventWriter.for_coordinator(entity.coordinator).async_insert(
        body, conference_data_version=1 if meet else None
    )
    return {
        "event_id": created.get("id"),
        "html_link": created.get("htmlLink"),
        "meet_link": meet_link(created),
    }


def _event_id_and_scope(call: ServiceCall) -> tuple[str, EditScope]:
    """Return the event and scope of a call; an occurrence scope needs an instance."""
    event_id: str = call.data[ATTR_EVENT_ID]
    scope: EditScope = call.data[ATTR_SCOPE]
    if scope is not EditScope.EVENT and split_instance_id(event_id) is None:
        raise service_error("not_an_occurrence", event_id=event_id, scope=str(scope))
    return event_id, scope


async def async_update_event(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Change an event, one occurrence, or this and following; return it."""
    require_writable(entity)
    event_id, scope = _event_id_and_scope(call)
    body = await async_update_event_body(call.hass, dict(call.data))
    updated = await EventWriter.for_coordinator(entity.coordinator).async_edit(
        event_id,
        body,
        scope,
        conference_data_version=1 if "conferenceData" in body else None,
    )
    return {**event_fields(updated), "html_link": updated.get("htmlLink")}


async def async_delete_event(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> None:
    """Delete an event, one occurrence, or this and following."""
    require_writable(entity)
    event_id, scope = _event_id_and_scope(call)
    writer = EventWriter.for_coordinator(entity.coordinator)
    if (instance := split_instance_id(event_id)) is None or scope is EditScope.EVENT:
        await writer.async_delete(event_id)
        return
    series_id, suffix = instance
    await writer.async_delete(
        series_id,
        suffix,
        RANGE_THIS_AND_FUTURE if scope is EditScope.FOLLOWING else None,
    )
