"""Actions of the Google Calendar Sync integration, registered in async_setup.

The event actions live in service_events.py, the export in service_export.py. There
is no "sync now" action: homeassistant.update_entity syncs a calendar at once
(README, "Syncing at once").
"""

from __future__ import annotations

from homeassistant.components.calendar.const import DOMAIN as CALENDAR_DOMAIN
from homeassistant.core import HomeAssistant, SupportsResponse, callback
from homeassistant.helpers import service

from .const import DOMAIN
from .fields import translated_entity_schema
from .service_events import (
    CREATE_EVENT_SCHEMA,
    DELETE_EVENT_SCHEMA,
    UPDATE_EVENT_SCHEMA,
    async_create_event,
    async_delete_event,
    async_update_event,
)
from .service_export import EXPORT_SCHEMA, async_export_appointments

SERVICE_CREATE_EVENT = "create_event"
SERVICE_EXPORT_APPOINTMENTS = "export_appointments"
SERVICE_UPDATE_EVENT = "update_event"
SERVICE_DELETE_EVENT = "delete_event"


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    for name, schema, func, response in (
        (
            SERVICE_CREATE_EVENT,
            CREATE_EVENT_SCHEMA,
            async_create_event,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_UPDATE_EVENT,
            UPDATE_EVENT_SCHEMA,
            async_update_event,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_DELETE_EVENT,
            DELETE_EVENT_SCHEMA,
            async_delete_event,
            SupportsResponse.NONE,
        ),
        (
            SERVICE_EXPORT_APPOINTMENTS,
            EXPORT_SCHEMA,
            async_export_appointments,
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
