"""Public calendars read with an API key: their setup and the repair issues of refusals.

Google answers an API key that is not valid with 400, a key restricted to other APIs
with 403 and a calendar that is not public with 404. The config flow explains these at
once; after setup a repair issue per calendar does, and goes away once Google answers.
"""

from __future__ import annotations

from collections.abc import Iterable
import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import CONF_CALENDARS, DOMAIN
from .coordinator import CalendarSyncCoordinator, GoogleCalendarSyncConfigEntry
from .google.client import GoogleCalendarApi
from .google.errors import (
    GoogleBadRequestError,
    GoogleCalendarApiError,
    GoogleForbiddenError,
    GoogleNotFoundError,
)
from .google.model import CalendarListEntry

_LOGGER = logging.getLogger(__name__)

ISSUE_API_KEY_REFUSED = "api_key_refused"
ISSUE_CALENDAR_NOT_PUBLIC = "calendar_not_public"
# What an API key may do with a public calendar: read it.
PUBLIC_ACCESS_ROLE = "reader"


def public_issue_id(entry_id: str, calendar_id: str) -> str:
    """Return the repair issue id of one public calendar of an entry."""
    return f"public_calendar_{entry_id}_{calendar_id}"


REFUSALS = (GoogleNotFoundError, GoogleBadRequestError, GoogleForbiddenError)


@callback
def async_report(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    calendar_id: str,
    err: GoogleCalendarApiError | None,
) -> None:
    """Raise the repair issue of a refusal, or clear it once Google answered."""
    issue_id = public_issue_id(entry.entry_id, calendar_id)
    if err is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    if not isinstance(err, REFUSALS):
        return  # an outage: the calendar is unavailable meanwhile, nothing to fix
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=(
            ISSUE_CALENDAR_NOT_PUBLIC
            if isinstance(err, GoogleNotFoundError)
            else ISSUE_API_KEY_REFUSED
        ),
        translation_placeholders={
            "title": entry.title,
            "calendar": calendar_id,
            "error": err.message,
        },
    )


async def async_public_calendars(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry, api: GoogleCalendarApi
) -> dict[str, CalendarListEntry]:
    """Read the entry's calendars with its key; skip (and report) private ones.

    A refused key raises, so that setup is retried: Google may allow it again.
    """
    calendars: dict[str, CalendarListEntry] = {}
    for calendar_id in entry.options.get(CONF_CALENDARS, []):
        try:
            resource = await api.get_calendar_resource(calendar_id)
        except GoogleCalendarApiError as err:
            async_report(hass, entry, calendar_id, err)
            if not isinstance(err, GoogleNotFoundError):
                raise
            _LOGGER.warning("Calendar %s is not public; skipping it", calendar_id)
            continue
        async_report(hass, entry, calendar_id, None)
        calendars[calendar_id] = {**resource, "accessRole": PUBLIC_ACCESS_ROLE}
    return calendars


@callback
def async_watch_public_calendars(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    coordinators: Iterable[CalendarSyncCoordinator],
) -> None:
    """Turn each calendar's sync failures and recoveries into repair issues."""
    for coordinator in coordinators:

        @callback
        def _updated(coordinator: CalendarSyncCoordinator = coordinator) -> None:
            cause = (
                coordinator.last_exception.__cause__
                if not coordinator.last_update_success
                and coordinator.last_exception is not None
                else None
            )
            if coordinator.last_update_success:
                async_report(hass, entry, coordinator.calendar_id, None)
            elif isinstance(cause, GoogleCalendarApiError):
                async_report(hass, entry, coordinator.calendar_id, cause)

        entry.async_on_unload(coordinator.async_add_listener(_updated))


@callback
def async_delete_public_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Delete every public calendar issue of a removed entry."""
    prefix = public_issue_id(entry_id, "")
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue_id.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
