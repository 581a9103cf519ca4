"""The Google Calendar Sync integration."""

from __future__ import annotations

import asyncio
import logging

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.typing import ConfigType

from .const import CONF_CALENDARS, DOMAIN, AuthType
from .coordinator import (
    CalendarSyncCoordinator,
    GoogleCalendarSyncConfigEntry,
    GoogleCalendarSyncData,
    calendar_unique_id,
)
from .credentials import async_entry_api, auth_type
from .export import async_start_auto_export
from .google.colors import ColorPalette
from .google.errors import GoogleAuthError, GoogleCalendarApiError
from .public import (
    async_delete_public_issues,
    async_public_calendars,
    async_watch_public_calendars,
)
from .push import async_remove_push, async_setup_push
from .services import async_setup_services
from .store import SyncStore

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS: list[Platform] = [Platform.CALENDAR, Platform.EVENT]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool | None:
    """Register the integration's actions (intents come through intent.py)."""
    async_setup_services(hass)
    return True


async def async_migrate_entry(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> bool:
    """Bring an entry from an older version up to date (False: from a newer one)."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        # 1.2: polling intervals are fixed; the options that set them go.
        hass.config_entries.async_update_entry(
            entry,
            options={
                key: value
                for key, value in entry.options.items()
                if key not in ("poll_interval_minutes", "safety_net_hours")
            },
            minor_version=2,
        )
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> bool:
    """Set up one Google account (user, service account or API key) from an entry."""
    api = await async_entry_api(hass, entry)
    account = str(entry.unique_id)
    public = auth_type(entry.data) is AuthType.API_KEY
    try:
        if public:
            # An API key has no calendar list (no user): read each calendar.
            calendars = await async_public_calendars(hass, entry, api)
            palette = ColorPalette()
        else:
            calendars = {
                calendar["id"]: calendar for calendar in await api.list_calendars()
            }
            # Once per entry: the palette is Google's and changes only with a reload.
            palette = ColorPalette.from_colors(await api.get_colors())
    except GoogleAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="auth_failed",
            translation_placeholders={"account": account},
        ) from err
    except GoogleCalendarApiError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err

    selected: list[str] = entry.options.get(CONF_CALENDARS, [])
    store = SyncStore(hass, entry.entry_id)
    stored = await store.async_load(selected)
    coordinators: dict[str, CalendarSyncCoordinator] = {}
    for calendar_id in selected:
        if (calendar := calendars.get(calendar_id)) is None:
            _LOGGER.warning(
                "Calendar %s is no longer in the calendar list of %s; skipping it",
                calendar_id,
                account,
            )
            continue
        coordinators[calendar_id] = CalendarSyncCoordinator(
            hass,
            entry,
            api=api,
            account=account,
            calendar=calendar,
            store=store,
            stored=stored,
            palette=palette,
        )
    # Forget what was synced for calendars that are no longer synced.
    await store.async_forget_calendars_except(coordinators)

    entry.runtime_data = GoogleCalendarSyncData(
        api=api,
        store=store,
        stored=stored,
        account=account,
        coordinators=coordinators,
    )
    results = await asyncio.gather(
        *(
            coordinator.async_config_entry_first_refresh()
            for coordinator in coordinators.values()
        ),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            # The calendars that did sync are saved now: no save of this attempt
            # may still be waiting when the retry opens the same files.
            await store.async_flush()
            raise result

    _async_remove_stale_entities(hass, entry, account, coordinators)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await async_start_auto_export(hass, entry)
    # After the first refresh: a notification then only ever needs an incremental sync.
    if public:
        async_watch_public_calendars(hass, entry, coordinators.values())
    await async_setup_push(hass, entry)
    return True


def _async_remove_stale_entities(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    account: str,
    coordinators: dict[str, CalendarSyncCoordinator],
) -> None:
    """Remove entities and devices of calendars no longer synced."""
    entity_registry = er.async_get(hass)
    wanted = {
        calendar_unique_id(account, calendar_id, view)
        for calendar_id, coordinator in coordinators.items()
        for view in coordinator.views
    }
    for entity_entry in er.async_entries_for_config_entry(
        entity_registry, entry.entry_id
    ):
        if entity_entry.unique_id not in wanted:
            entity_registry.async_remove(entity_entry.entity_id)
    device_registry = dr.async_get(hass)
    for device_entry in dr.async_entries_for_config_entry(
        device_registry, entry.entry_id
    ):
        if (DOMAIN, account) not in device_entry.identifiers:
            device_registry.async_update_device(
                device_entry.id, remove_config_entry_id=entry.entry_id
            )


async def async_unload_entry(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> bool:
    """Unload a config entry and write the store at once.

    Bounded while Google hangs: stopping the channels waits CHANNEL_STOP_TIMEOUT at
    most, then every request still in flight is cancelled.
    """
    data = entry.runtime_data
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        if data.push is not None:
            # Stops every channel: Google would otherwise post for up to a week.
            await data.push.async_stop()
        # Syncs, writes and exports still waiting for Google end now; what they
        # stored so far is saved below, a sync cut short stores nothing.
        data.api.async_close()
        # Let syncs in flight finish first: the save must hold what they announced.
        await asyncio.gather(
            *(
                coordinator.async_shutdown()
                for coordinator in data.coordinators.values()
            )
        )
        await data.store.async_flush()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: GoogleCalendarSyncConfigEntry
) -> None:
    """Remove the synced copy of the account's calendars."""
    await async_remove_push(hass, entry)
    async_delete_public_issues(hass, entry.entry_id)
    await SyncStore(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    device_entry: dr.DeviceEntry,
) -> bool:
    """Allow removing a device only when it is not the account's device."""
    return (DOMAIN, str(entry.unique_id)) not in device_entry.identifiers
