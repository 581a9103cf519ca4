"""Actions of the Google Calendar Sync integration."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
import uuid

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.components.calendar.const import (
    DATA_COMPONENT as CALENDAR_DATA_COMPONENT,
    DOMAIN as CALENDAR_DOMAIN,
)
from homeassistant.const import ATTR_ENTITY_ID, ENTITY_MATCH_ALL
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import probatio

from . import fields
from .calendar import GoogleCalendarSyncCalendarEntity
from .const import DOMAIN
from .convert import (
    RANGE_THIS_AND_FUTURE,
    EditScope,
    EventWriter,
    InvalidRecurrenceError,
    normalize_rrule,
    validate_rrule,
)
from .coordinator import event_fields
from .export import (
    ORIGIN_SERVICE,
    Appointment,
    async_read_appointments,
    async_run_export,
    read_window,
    source_calendar,
)
from .export_routes import configured_routes, export_node, looping_routes
from .fields import service_error, translated_entity_schema
from .google.errors import GoogleCalendarApiError
from .google.meet import meet_link
from .google.model import format_time, split_instance_id

SERVICE_CREATE_EVENT = "create_event"
SERVICE_EXPORT_APPOINTMENTS = "export_appointments"
SERVICE_SYNC_NOW = "sync_now"
SERVICE_UPDATE_EVENT = "update_event"
SERVICE_DELETE_EVENT = "delete_event"

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
ATTR_EVENT_ID = "event_id"
ATTR_SCOPE = "scope"

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

APPOINTMENT_SCHEMA = probatio.Schema(
    {
        probatio.Optional(ATTR_UID): cv.string,
        probatio.Required(ATTR_SUMMARY): fields.SUMMARY,
        probatio.Required(ATTR_START): probatio.Any(cv.datetime, cv.date),
        probatio.Required(ATTR_END): probatio.Any(cv.datetime, cv.date),
        probatio.Optional(ATTR_DESCRIPTION): cv.string,
        probatio.Optional(ATTR_LOCATION): cv.string,
    }
)

EXPORT_SCHEMA: dict[Any, Any] = {
    probatio.Exclusive(ATTR_SOURCE_ENTITY_ID, "source"): fields.SOURCE_ENTITY_ID,
    probatio.Exclusive(ATTR_APPOINTMENTS, "source"): fields.appointment_list(
        APPOINTMENT_SCHEMA
    ),
    probatio.Optional(ATTR_START_DATE_TIME): fields.START_DATE_TIME,
    probatio.Optional(ATTR_END_DATE_TIME): fields.END_DATE_TIME,
    probatio.Optional(ATTR_REMOVE_MISSING, default=False): fields.REMOVE_MISSING,
}


def _require_writable(entity: GoogleCalendarSyncCalendarEntity) -> None:
    """Refuse writes to a calendar the account may only read, or to a view."""
    if not entity.coordinator.writable:
        raise service_error("calendar_not_writable", entity_id=entity.entity_id)
    if not entity.writable:
        raise service_error("view_not_writable", entity_id=entity.entity_id)


def _localize(value: datetime, zone: tzinfo) -> datetime:
    """Give a naive datetime the requested zone."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)


def _check_order(start: date | datetime, end: date | datetime) -> None:
    """Refuse an end that is not after the start."""
    if type(start) is not type(end):
        raise service_error("mixed_start_end")
    if end <= start:
        raise service_error("end_before_start", start=str(start), end=str(end))


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
        start = _localize(data[ATTR_START_DATE_TIME], zone)
    elif ATTR_START_DATE in data:
        start = data[ATTR_START_DATE]
    else:
        raise service_error("missing_start")
    end: date | datetime
    if ATTR_END_DATE_TIME in data:
        end = _localize(data[ATTR_END_DATE_TIME], zone)
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
    _check_order(start, end)
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
) -> dict[str, Any]:
    """Return the Google body of a create_event call, validating everything."""
    time_zone: str = data.get(ATTR_TIME_ZONE) or hass.config.time_zone
    start, end = _create_time_span(data, await fields.async_time_zone(time_zone))
    body: dict[str, Any] = {
        "summary": data[ATTR_SUMMARY],
        "start": format_time(start, time_zone),
        "end": format_time(end, time_zone),
    }
    return body | await _async_field_changes(hass, data, start)


async def async_update_event_body(
    hass: HomeAssistant, data: dict[str, Any]
) -> dict[str, Any]:
    """Return the Google patch of an update_event call, validating everything.

    Times change together: a new start needs an end or a duration, as in
    create_event, so an event is never stretched by accident.
    """
    body: dict[str, Any] = {}
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
) -> dict[str, Any]:
    """Return the Google fields of the optional fields of a call."""
    body: dict[str, Any] = {}
    for key in (ATTR_DESCRIPTION, ATTR_LOCATION, ATTR_TRANSPARENCY):
        if key in data:
            body[key] = data[key]
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
        "meet_link": meet_link(created),
    }


def _event_id_and_scope(call: ServiceCall) -> tuple[str, EditScope]:
    """Return the event and scope of a call; an occurrence scope needs an instance."""
    event_id: str = call.data[ATTR_EVENT_ID]
    scope: EditScope = call.data[ATTR_SCOPE]
    if scope is not EditScope.EVENT and split_instance_id(event_id) is None:
        raise service_error("not_an_occurrence", event_id=event_id, scope=str(scope))
    return event_id, scope


async def _async_update_event(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Change an event, one occurrence, or this and following; return it."""
    _require_writable(entity)
    event_id, scope = _event_id_and_scope(call)
    body = await async_update_event_body(call.hass, dict(call.data))
    updated = await EventWriter.for_coordinator(entity.coordinator).async_edit(
        event_id,
        body,
        scope,
        conference_data_version=1 if "conferenceData" in body else None,
    )
    return {**event_fields(updated), "html_link": updated.get("htmlLink")}


async def _async_delete_event(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> None:
    """Delete an event, one occurrence, or this and following."""
    _require_writable(entity)
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


def _appointments_from_call(
    items: list[dict[str, Any]], zone: tzinfo
) -> list[Appointment]:
    """Return the appointments given in a call, validated."""
    appointments: list[Appointment] = []
    for item in items:
        start = item[ATTR_START]
        end = item[ATTR_END]
        if isinstance(start, datetime):
            start = _localize(start, zone)
        if isinstance(end, datetime):
            end = _localize(end, zone)
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


def _refuse_loop(
    hass: HomeAssistant, source_id: str, target: GoogleCalendarSyncCalendarEntity
) -> None:
    """Refuse an export that would lead back into its own source."""
    route = (export_node(hass, source_id), target.coordinator.calendar_id)
    if route[0] == route[1]:
        raise service_error("export_into_itself", entity_id=source_id)
    if looping_routes(configured_routes(hass), [route]):
        raise service_error("export_loop", source=source_id, target=target.entity_id)


async def _async_export_appointments(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Export appointments of another calendar, or of the call, idempotently."""
    hass = call.hass
    _require_writable(entity)
    time_zone = hass.config.time_zone
    zone = dt_util.get_default_time_zone()
    default_start, default_end = read_window()
    start = _localize(call.data.get(ATTR_START_DATE_TIME, default_start), zone)
    end = _localize(call.data.get(ATTR_END_DATE_TIME, default_end), zone)
    _check_order(start, end)
    window: tuple[datetime, datetime] | None = None
    if (source_id := call.data.get(ATTR_SOURCE_ENTITY_ID)) is not None:
        if (source := source_calendar(hass, source_id)) is None:
            raise service_error("unknown_source_entity", entity_id=source_id)
        _refuse_loop(hass, source_id, entity)
        origin = source_id
        window = (start, end)
        appointments = await async_read_appointments(hass, source, start, end)
    elif ATTR_APPOINTMENTS in call.data:
        origin = ORIGIN_SERVICE
        appointments = _appointments_from_call(call.data[ATTR_APPOINTMENTS], zone)
    else:
        raise service_error("missing_appointments")
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
            own_writes=coordinator.async_own_writes,
        )
    except GoogleCalendarApiError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    return result.as_dict()


async def _async_sync_now(call: ServiceCall) -> ServiceResponse:
    """Sync calendars now and return what changed, per entity.

    Not an entity action: those skip unavailable entities, and syncing is how a
    calendar whose last sync failed becomes available again.
    """
    entities = await _async_targeted_calendars(call)
    counts = await asyncio.gather(
        *(entity.coordinator.async_sync() for entity in entities)
    )
    if not call.return_response:
        return None
    return {
        entity.entity_id: dict(changes.counts())
        for entity, changes in zip(entities, counts, strict=True)
    }


async def _async_targeted_calendars(
    call: ServiceCall,
) -> list[GoogleCalendarSyncCalendarEntity]:
    """Return our calendar entities a call targets, available or not."""
    hass = call.hass
    component = hass.data.get(CALENDAR_DATA_COMPONENT)
    if call.data.get(ATTR_ENTITY_ID) == ENTITY_MATCH_ALL:
        candidates = (
            [entity.entity_id for entity in component.entities] if component else []
        )
    else:
        candidates = list(await service.async_extract_entity_ids(call))
    entities = [
        entity
        for entity_id in sorted(candidates)
        if component is not None
        and isinstance(
            entity := component.get_entity(entity_id),
            GoogleCalendarSyncCalendarEntity,
        )
    ]
    if not entities:
        raise service_error("no_synced_calendar")
    if call.context.user_id:
        user = await hass.auth.async_get_user(call.context.user_id)
        if user is None:
            raise UnknownUser(context=call.context, user_id=call.context.user_id)
        for entity in entities:
            if not user.permissions.check_entity(entity.entity_id, POLICY_CONTROL):
                raise Unauthorized(
                    context=call.context,
                    user_id=call.context.user_id,
                    entity_id=entity.entity_id,
                    permission=POLICY_CONTROL,
                )
    return entities


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    for name, schema, func, response in (
        (
            SERVICE_CREATE_EVENT,
            CREATE_EVENT_SCHEMA,
            _async_create_event,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_UPDATE_EVENT,
            UPDATE_EVENT_SCHEMA,
            _async_update_event,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_DELETE_EVENT,
            DELETE_EVENT_SCHEMA,
            _async_delete_event,
            SupportsResponse.NONE,
        ),
        (
            SERVICE_EXPORT_APPOINTMENTS,
            EXPORT_SCHEMA,
            _async_export_appointments,
            SupportsResponse.OPTIONAL,
        ),
    ):
        service.async_register_platform_entity_service(
            hass,
            DOMAIN,
            name,
            entity_domain=CALENDAR_DOMAIN,
            schema=translated_entity_schema(schema),
            func=func,
            supports_response=response,
        )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SYNC_NOW,
        _async_sync_now,
        schema=translated_entity_schema({}),
        supports_response=SupportsResponse.OPTIONAL,
    )
