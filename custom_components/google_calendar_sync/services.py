"""Actions of the Google Calendar Sync integration."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
import uuid

from homeassistant.components.calendar.const import DOMAIN as CALENDAR_DOMAIN
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import probatio

from .api import GoogleCalendarApiError
from .const import DOMAIN
from .convert import (
    EventWriter,
    InvalidRecurrenceError,
    google_time,
    normalize_rrule,
    validate_rrule,
)
from .export import (
    ORIGIN_SERVICE,
    Appointment,
    async_read_appointments,
    async_run_export,
    read_window,
    source_calendar,
)

if TYPE_CHECKING:
    from .calendar import GoogleCalendarSyncCalendarEntity

SERVICE_CREATE_EVENT = "create_event"
SERVICE_EXPORT_APPOINTMENTS = "export_appointments"
SERVICE_SYNC_NOW = "sync_now"

ATTR_SUMMARY = "summary"
ATTR_DESCRIPTION = "description"
ATTR_LOCATION = "location"
ATTR_START_DATE_TIME = "start_date_time"
ATTR_END_DATE_TIME = "end_date_time"
ATTR_START_DATE = "start_date"
ATTR_END_DATE = "end_date"
ATTR_DURATION = "duration"
ATTR_TIME_ZONE = "time_zone"
ATTR_ATTENDEES = "attendees"
ATTR_RRULE = "rrule"
ATTR_REMINDERS = "reminders"
ATTR_TRANSPARENCY = "transparency"
ATTR_ADD_MEET_LINK = "add_meet_link"
ATTR_SOURCE_ENTITY_ID = "source_entity_id"
ATTR_APPOINTMENTS = "appointments"
ATTR_REMOVE_MISSING = "remove_missing"
ATTR_UID = "uid"
ATTR_START = "start"
ATTR_END = "end"

CREATE_EVENT_SCHEMA: dict[Any, Any] = {
    probatio.Required(ATTR_SUMMARY): cv.string,
    probatio.Optional(ATTR_DESCRIPTION): cv.string,
    probatio.Optional(ATTR_LOCATION): cv.string,
    probatio.Exclusive(ATTR_START_DATE_TIME, "start"): cv.datetime,
    probatio.Exclusive(ATTR_START_DATE, "start"): cv.date,
    probatio.Exclusive(ATTR_END_DATE_TIME, "end"): cv.datetime,
    probatio.Exclusive(ATTR_END_DATE, "end"): cv.date,
    probatio.Exclusive(ATTR_DURATION, "end"): cv.time_period,
    probatio.Optional(ATTR_TIME_ZONE): cv.string,
    probatio.Optional(ATTR_ATTENDEES): probatio.All(cv.ensure_list, [cv.string]),
    probatio.Optional(ATTR_RRULE): cv.string,
    probatio.Optional(ATTR_REMINDERS): probatio.All(cv.ensure_list, [cv.positive_int]),
    probatio.Optional(ATTR_TRANSPARENCY): probatio.In(["opaque", "transparent"]),
    probatio.Optional(ATTR_ADD_MEET_LINK, default=False): cv.boolean,
}

APPOINTMENT_SCHEMA = probatio.Schema(
    {
        probatio.Optional(ATTR_UID): cv.string,
        probatio.Required(ATTR_SUMMARY): cv.string,
        probatio.Required(ATTR_START): probatio.Any(cv.datetime, cv.date),
        probatio.Required(ATTR_END): probatio.Any(cv.datetime, cv.date),
        probatio.Optional(ATTR_DESCRIPTION): cv.string,
        probatio.Optional(ATTR_LOCATION): cv.string,
    }
)

EXPORT_SCHEMA: dict[Any, Any] = {
    probatio.Exclusive(ATTR_SOURCE_ENTITY_ID, "source"): cv.entity_id,
    probatio.Exclusive(ATTR_APPOINTMENTS, "source"): [APPOINTMENT_SCHEMA],
    probatio.Optional(ATTR_START_DATE_TIME): cv.datetime,
    probatio.Optional(ATTR_END_DATE_TIME): cv.datetime,
    probatio.Optional(ATTR_REMOVE_MISSING, default=False): cv.boolean,
}


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def _require_writable(entity: GoogleCalendarSyncCalendarEntity) -> None:
    """Refuse writes to a calendar the account may only read, or to a view."""
    if not entity.coordinator.writable:
        raise _invalid("calendar_not_writable", entity_id=entity.entity_id)
    if not entity.writable:
        raise _invalid("view_not_writable", entity_id=entity.entity_id)


def _localize(value: datetime, time_zone: str) -> datetime:
    """Give a naive datetime the requested zone."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_time_zone(time_zone))


def _check_order(start: date | datetime, end: date | datetime) -> None:
    """Refuse an end that is not after the start."""
    if type(start) is not type(end):
        raise _invalid("mixed_start_end")
    if end <= start:
        raise _invalid("end_before_start", start=str(start), end=str(end))


def _create_time_span(
    data: dict[str, Any], time_zone: str
) -> tuple[date | datetime, date | datetime]:
    """Return the start and end of a create_event call."""
    start: date | datetime
    if ATTR_START_DATE_TIME in data:
        start = _localize(data[ATTR_START_DATE_TIME], time_zone)
    elif ATTR_START_DATE in data:
        start = data[ATTR_START_DATE]
    else:
        raise _invalid("missing_start")
    end: date | datetime
    if ATTR_END_DATE_TIME in data:
        end = _localize(data[ATTR_END_DATE_TIME], time_zone)
    elif ATTR_END_DATE in data:
        end = data[ATTR_END_DATE]
    elif ATTR_DURATION in data:
        duration: timedelta = data[ATTR_DURATION]
        if not isinstance(start, datetime):
            # An all-day event lasts whole days; round a partial day up.
            duration = timedelta(days=max(1, -(-duration // timedelta(days=1))))
        end = start + duration
    else:
        raise _invalid("missing_end")
    _check_order(start, end)
    return start, end


async def _async_validated_rrule(
    hass: HomeAssistant, rrule: str, start: date | datetime
) -> str:
    """Validate a rule in the executor (an impossible rule scans for a while)."""
    try:
        return await hass.async_add_executor_job(validate_rrule, rrule, start)
    except InvalidRecurrenceError as err:
        raise _invalid("invalid_rrule", rrule=rrule) from err


def _time_zone(hass: HomeAssistant, data: dict[str, Any]) -> str:
    """Return the call's time zone, or the Home Assistant one."""
    time_zone: str = data.get(ATTR_TIME_ZONE) or hass.config.time_zone
    if dt_util.get_time_zone(time_zone) is None:
        raise _invalid("unknown_time_zone", time_zone=time_zone)
    return time_zone


async def async_create_event_body(
    hass: HomeAssistant, data: dict[str, Any]
) -> dict[str, Any]:
    """Return the Google body of a create_event call, validating everything."""
    time_zone = _time_zone(hass, data)
    start, end = _create_time_span(data, time_zone)
    body: dict[str, Any] = {
        "summary": data[ATTR_SUMMARY],
        "start": google_time(start, time_zone),
        "end": google_time(end, time_zone),
    }
    for key in (ATTR_DESCRIPTION, ATTR_LOCATION, ATTR_TRANSPARENCY):
        if key in data:
            body[key] = data[key]
    if rrule := data.get(ATTR_RRULE):
        rule = await _async_validated_rrule(hass, rrule, start)
        body["recurrence"] = [f"RRULE:{normalize_rrule(rule)}"]
    if attendees := data.get(ATTR_ATTENDEES):
        body["attendees"] = [{"email": email} for email in attendees]
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


def _meet_link(event: dict[str, Any]) -> str | None:
    """Return the Meet link of an event, if Google made one."""
    if link := event.get("hangoutLink"):
        return str(link)
    for entry_point in event.get("conferenceData", {}).get("entryPoints", []):
        if entry_point.get("entryPointType") == "video":
            return str(entry_point.get("uri"))
    return None


async def _async_create_event(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Create an event with everything Google offers."""
    _require_writable(entity)
    body = await async_create_event_body(call.hass, dict(call.data))
    meet = "conferenceData" in body
    created = await EventWriter.for_coordinator(entity.coordinator).async_insert(
        body, conference_data_version=1 if meet else None
    )
    return {
        "event_id": created.get("id"),
        "html_link": created.get("htmlLink"),
        "meet_link": _meet_link(created),
    }


def _appointments_from_call(
    items: list[dict[str, Any]], time_zone: str
) -> list[Appointment]:
    """Return the appointments given in a call, validated."""
    appointments: list[Appointment] = []
    for item in items:
        start = item[ATTR_START]
        end = item[ATTR_END]
        if isinstance(start, datetime):
            start = _localize(start, time_zone)
        if isinstance(end, datetime):
            end = _localize(end, time_zone)
        _check_order(start, end)
        uid = item.get(ATTR_UID) or f"{item[ATTR_SUMMARY]}@{start.isoformat()}"
        appointments.append(
            Appointment(
                uid=uid,
                summary=item[ATTR_SUMMARY],
                start=start,
                end=end,
                description=item.get(ATTR_DESCRIPTION),
                location=item.get(ATTR_LOCATION),
            )
        )
    return appointments


async def _async_export_appointments(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Export appointments of another calendar, or of the call, idempotently."""
    hass = call.hass
    _require_writable(entity)
    time_zone = hass.config.time_zone
    default_start, default_end = read_window()
    start = _localize(call.data.get(ATTR_START_DATE_TIME, default_start), time_zone)
    end = _localize(call.data.get(ATTR_END_DATE_TIME, default_end), time_zone)
    _check_order(start, end)
    window: tuple[datetime, datetime] | None = None
    if (source_id := call.data.get(ATTR_SOURCE_ENTITY_ID)) is not None:
        source = source_calendar(hass, source_id)
        if source is None or source_id == entity.entity_id:
            raise _invalid("unknown_source_entity", entity_id=source_id)
        origin = source_id
        window = (start, end)
        appointments = await async_read_appointments(hass, source, start, end)
    elif ATTR_APPOINTMENTS in call.data:
        origin = ORIGIN_SERVICE
        appointments = _appointments_from_call(call.data[ATTR_APPOINTMENTS], time_zone)
    else:
        raise _invalid("missing_appointments")
    coordinator = entity.coordinator
    try:
        result = await async_run_export(
            coordinator.api,
            coordinator.calendar_id,
            appointments,
            origin=origin,
            time_zone=time_zone,
            remove_missing=call.data[ATTR_REMOVE_MISSING],
            window=window,
            on_apply=coordinator.async_apply_remote_writes,
        )
    except GoogleCalendarApiError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    return result.as_dict()


async def _async_sync_now(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Sync a calendar now and return what changed."""
    changes = await entity.coordinator.async_sync()
    return dict(changes.counts())


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    for name, schema, func in (
        (SERVICE_CREATE_EVENT, CREATE_EVENT_SCHEMA, _async_create_event),
        (SERVICE_EXPORT_APPOINTMENTS, EXPORT_SCHEMA, _async_export_appointments),
        (SERVICE_SYNC_NOW, None, _async_sync_now),
    ):
        service.async_register_platform_entity_service(
            hass,
            DOMAIN,
            name,
            entity_domain=CALENDAR_DOMAIN,
            schema=schema,
            func=func,
            supports_response=SupportsResponse.OPTIONAL,
        )
