"""The export action: export_appointments, idempotent, from a calendar or a list."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from . import fields
from .calendar import GoogleCalendarSyncCalendarEntity
from .const import DOMAIN
from .export import (
    async_read_appointments,
    async_run_export,
    read_window,
    source_calendar,
)
from .export_routes import configured_routes, export_node, looping_routes
from .fields import (
    ATTR_APPOINTMENTS,
    ATTR_DESCRIPTION,
    ATTR_END,
    ATTR_END_DATE_TIME,
    ATTR_LOCATION,
    ATTR_REMOVE_MISSING,
    ATTR_SOURCE_ENTITY_ID,
    ATTR_START,
    ATTR_START_DATE_TIME,
    ATTR_SUMMARY,
    ATTR_UID,
    check_order,
    localize,
    service_error,
)
from .google.errors import GoogleCalendarApiError
from .google.export_plan import ORIGIN_SERVICE, Appointment
from .service_events import require_writable

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


def _appointments_from_call(
    items: list[dict[str, Any]], zone: tzinfo
) -> list[Appointment]:
    """Return the appointments given in a call, validated."""
    appointments: list[Appointment] = []
    for item in items:
        start = item[ATTR_START]
        end = item[ATTR_END]
        if isinstance(start, datetime):
            start = localize(start, zone)
        if isinstance(end, datetime):
            end = localize(end, zone)
        check_order(start, end)
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


async def async_export_appointments(
    entity: GoogleCalendarSyncCalendarEntity, call: ServiceCall
) -> ServiceResponse:
    """Export appointments of another calendar, or of the call, idempotently."""
    hass = call.hass
    require_writable(entity)
    time_zone = hass.config.time_zone
    zone = dt_util.get_default_time_zone()
    default_start, default_end = read_window()
    start = localize(call.data.get(ATTR_START_DATE_TIME, default_start), zone)
    end = localize(call.data.get(ATTR_END_DATE_TIME, default_end), zone)
    check_order(start, end)
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
