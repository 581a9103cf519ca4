"""Base entity of the Google Calendar Sync integration."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import CalendarSyncCoordinator, calendar_unique_id
from .google.model import display_name


def calendar_name(coordinator: CalendarSyncCoordinator) -> str | None:
    """Return the name of a calendar, None for the primary one named after the account.

    The account already names the device: its entities use a translated name
    instead, which avoids "a@b.c a@b.c".
    """
    name = display_name(coordinator.calendar)
    if coordinator.primary and name in (coordinator.calendar_id, coordinator.account):
        return None
    return name


class GoogleCalendarSyncEntity(CoordinatorEntity[CalendarSyncCoordinator]):
    """An entity of one synced calendar, on the device of its Google account."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: CalendarSyncCoordinator) -> None:
        """Initialize the entity of one calendar."""
        super().__init__(coordinator)
        account = coordinator.account
        self._attr_unique_id = calendar_unique_id(account, coordinator.calendar_id)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, account)},
            name=account,
            manufacturer="Google",
            model="Google Calendar",
            entry_type=DeviceEntryType.SERVICE,
            configuration_url="https://calendar.google.com/",
        )
