"""One DataUpdateCoordinator per synced Google calendar."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
import contextlib
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
import logging
from typing import override

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .changes import ChangeAnnouncer, ChangeListener
from .channels import PushManager
from .const import (
    CONF_FREE_EVENTS_BUSY,
    CONF_SHOW_DECLINED,
    CONF_SYNC_WINDOW_DAYS,
    DEFAULT_SYNC_WINDOW_DAYS,
    DOMAIN,
    POLL_INTERVAL,
    SAFETY_NET_INTERVAL,
)
from .google.client import GoogleCalendarApi
from .google.colors import ColorPalette
from .google.diff import ChangeSet
from .google.errors import (
    GoogleAuthError,
    GoogleCalendarApiError,
    GoogleClientClosedError,
    GoogleNotFoundError,
    GoogleRateLimitError,
)
from .google.event_views import CalendarViews, EventView
from .google.model import CalendarListEntry, Event, display_name
from .google.skipped import SkippedEvents
from .google.sync import CalendarSnapshot, async_sync_calendar
from .own_writes import OwnWrites
from .store import SyncStore
from .stored import StoredData
from .views import ViewKeeper

_LOGGER = logging.getLogger(__name__)

WRITABLE_ROLES = frozenset({"owner", "writer"})


@dataclass
class GoogleCalendarSyncData:
    """Runtime data of one config entry (one Google account)."""

    api: GoogleCalendarApi
    store: SyncStore
    stored: StoredData
    account: str
    coordinators: dict[str, CalendarSyncCoordinator]
    push: PushManager | None = None


type GoogleCalendarSyncConfigEntry = ConfigEntry[GoogleCalendarSyncData]


def calendar_unique_id(
    account: str, calendar_id: str, view: EventView = EventView.CALENDAR
) -> str:
    """Return the unique id of the calendar entity of one view of a calendar."""
    if view is EventView.CALENDAR:
        return f"{account}-{calendar_id}"
    return f"{account}-{calendar_id}-{view}"


class CalendarSyncCoordinator(DataUpdateCoordinator[CalendarViews]):
    """Keep one Google calendar in sync and answer reads from a local timeline."""

    config_entry: GoogleCalendarSyncConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: GoogleCalendarSyncConfigEntry,
        *,
        api: GoogleCalendarApi,
        account: str,
        calendar: CalendarListEntry,
        store: SyncStore,
        stored: StoredData,
        palette: ColorPalette,
    ) -> None:
        """Initialize the coordinator of one calendar."""
        self.api = api
        self.account = account
        self.calendar_id: str = calendar["id"]
        self.calendar = calendar
        self.palette = palette
        self.writable = calendar.get("accessRole") in WRITABLE_ROLES
        self._store = store
        self._stored = stored
        self._push_active = False
        # Events Home Assistant cannot show are skipped with one warning each.
        self.skipped = SkippedEvents(self.calendar_id)
        self._lock = asyncio.Lock()
        # Set on unload: a sync finishing after the final save would be lost.
        self._closed = False
        # Our writes, kept from being announced as changes made in Google.
        self._own_writes = OwnWrites()
        # Callers arriving while a sync runs share this queued sync's result.
        self._queued: asyncio.Future[ChangeSet] | None = None
        self._announcer = ChangeAnnouncer(hass, calendar, palette)
        self._views = ViewKeeper(
            hass,
            config_entry,
            f"{DOMAIN} {self.calendar_id}",
            snapshot=lambda: self.snapshot,
            published=lambda: self.data,
            time_zone=lambda: self._time_zone,
            on_skip=self.skipped,
        )
        super().__init__(
            hass,
            _LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} {self.calendar_id}",
            update_interval=POLL_INTERVAL,
        )

    @property
    def snapshot(self) -> CalendarSnapshot:
        """Return the stored snapshot of this calendar."""
        return self._stored.calendars.setdefault(self.calendar_id, CalendarSnapshot())

    @property
    def primary(self) -> bool:
        """Return whether this is the account's primary calendar."""
        return bool(self.calendar.get("primary")) or self.calendar_id == self.account

    @property
    def views(self) -> list[EventView]:
        """Return the views shown as calendar entities.

        Google keeps birthdays and working locations on primary calendars only;
        declined invitations get a calendar when the user wants to see them.
        """
        views = [EventView.CALENDAR]
        if self.primary:
            views += [EventView.BIRTHDAYS, EventView.WORKING_LOCATIONS]
        if self.config_entry.options.get(CONF_SHOW_DECLINED, False):
            views.append(EventView.DECLINED)
        return views

    @property
    def free_events_busy(self) -> bool:
        """Return whether events marked free make this calendar busy."""
        return self.calendar_id in self.config_entry.options.get(
            CONF_FREE_EVENTS_BUSY, []
        )

    @property
    def push_active(self) -> bool:
        """Return whether push notifications keep this calendar current."""
        return self._push_active

    @callback
    def set_push_active(self, active: bool) -> None:
        """Poll rarely while push is live and often when it is not.

        The timer restarts at once with the new interval. When push goes down,
        notifications may have been lost meanwhile: sync now (not while the entry
        unloads), which restarts the timer too.
        """
        if active is self._push_active:
            return
        self._push_active = active
        self.update_interval = SAFETY_NET_INTERVAL if active else POLL_INTERVAL
        if not active:
            if self.config_entry.state is ConfigEntryState.LOADED:
                self.async_schedule_sync()
        elif self.last_update_success and self.data is not None:
            # The public way to restart the timer: the data is the same.
            self.async_set_updated_data(self.data)

    @override
    async def _async_update_data(self) -> CalendarViews:
        """Sync the calendar and return its timeline."""
        await self._async_coalesced_sync()
        return await self._views.async_views()

    async def async_sync(self) -> ChangeSet:
        """Sync now, coalesced with syncs in flight, and publish the result."""
        try:
            changes = await self._async_coalesced_sync()
        except ConfigEntryAuthFailed as err:
            self.async_set_update_error(err)
            self.config_entry.async_start_reauth(self.hass)
            raise
        except UpdateFailed as err:
            self.async_set_update_error(err)
            raise
        self.async_set_updated_data(await self._views.async_views())
        return changes

    async def async_request_sync(self) -> None:
        """Sync in the background; failures are already recorded and logged."""
        with contextlib.suppress(ConfigEntryAuthFailed, UpdateFailed):
            await self.async_sync()

    @callback
    def async_schedule_sync(self) -> None:
        """Sync soon in the background (push notifications, push going down).

        A sync queued and not yet started will list after this call: it covers
        the change, so a burst of calls costs at most the sync in flight and one.
        """
        if self._queued is not None:
            return
        self.hass.async_create_background_task(
            self.async_request_sync(), f"{self.name} sync", eager_start=True
        )

    async def _async_coalesced_sync(self) -> ChangeSet:
        """Run one sync at a time; callers that arrive meanwhile share one more."""
        if self._queued is not None:
            return await asyncio.shield(self._queued)
        queued: asyncio.Future[ChangeSet] = self.hass.loop.create_future()
        self._queued = queued
        try:
            async with self._lock:
                if self._queued is queued:
                    self._queued = None
                changes = await self._async_sync_once()
        except BaseException as err:
            if self._queued is queued:
                self._queued = None
            if isinstance(err, Exception):
                queued.set_exception(err)
                # Mark it retrieved: nobody may be sharing this sync.
                queued.exception()
            else:
                queued.cancel()
            raise
        queued.set_result(changes)
        return changes

    @override
    async def async_shutdown(self) -> None:
        """Stop syncing and wait for a sync in flight, so the final save has it.

        Otherwise its changes would be announced, then lost with the old snapshot,
        and announced again after the restart.
        """
        self._closed = True
        await super().async_shutdown()
        async with self._lock:
            pass

    async def _async_sync_once(self) -> ChangeSet:
        """Fetch changes from Google, store them and announce them."""
        if self._closed:
            return ChangeSet()
        previous = self.snapshot
        first_sync = previous.last_synced is None
        window = timedelta(
            days=self.config_entry.options.get(
                CONF_SYNC_WINDOW_DAYS, DEFAULT_SYNC_WINDOW_DAYS
            )
        )
        self._own_writes.begin_listing()
        try:
            result = await async_sync_calendar(
                self._own_writes.settled(self.api),
                self.calendar_id,
                previous,
                now=dt_util.utcnow(),
                window=window,
                on_skip=self.skipped,
                executor=self.hass.async_add_executor_job,
            )
        except GoogleClientClosedError:
            # Unloading cancelled the listing: nothing was stored, nothing is news.
            return ChangeSet()
        except GoogleAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="auth_failed",
                translation_placeholders={"account": self.account},
            ) from err
        except GoogleNotFoundError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="calendar_not_found",
                translation_placeholders={"calendar": self._summary},
            ) from err
        except GoogleRateLimitError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"calendar": self._summary},
            ) from err
        except GoogleCalendarApiError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="sync_failed",
                translation_placeholders={
                    "calendar": self._summary,
                    "error": str(err),
                },
            ) from err
        finally:
            written = self._own_writes.end_listing()
        changes = self._own_writes.reconcile(result, written)
        self._stored.calendars[self.calendar_id] = result.snapshot
        # A full listing keeps the stored object of every unchanged event, so
        # the views (and any build in flight) only need the changed ones.
        self._views.async_synced(result.touched | written.keys())
        self._schedule_save()
        _LOGGER.debug(
            "Synced %s (%s, %d requests): %s",
            self.calendar_id,
            "full" if result.full_sync else "incremental",
            result.requests,
            changes.counts(),
        )
        # The first listing of a calendar is its initial state, not news.
        if not first_sync:
            self._fire_changes(changes)
        return changes

    @property
    def _summary(self) -> str:
        """Return the calendar's display name."""
        return display_name(self.calendar)

    @property
    def _time_zone(self) -> str:
        """Return the zone of all-day events and floating times."""
        return str(self.calendar.get("timeZone") or self.hass.config.time_zone)

    @callback
    def _schedule_save(self) -> None:
        """Save the store soon, batching bursts of changes."""
        self._store.async_delay_save(self.calendar_id)

    @callback
    def async_add_change_listener(self, listener: ChangeListener) -> CALLBACK_TYPE:
        """Call listener with each change announced on the bus; returns a remover."""
        return self._announcer.async_add_listener(listener)

    @callback
    def _fire_changes(self, changes: ChangeSet) -> None:
        """Announce each change: one bus event, and the same payload to listeners."""
        entity_id = er.async_get(self.hass).async_get_entity_id(
            Platform.CALENDAR,
            DOMAIN,
            calendar_unique_id(self.account, self.calendar_id),
        )
        self._announcer.async_announce(changes, entity_id)

    def async_own_writes(self) -> AbstractAsyncContextManager[None]:
        """Return the block our writes to Google and the storing of answers run in.

        A sync listing meanwhile waits for them, so it never announces our own
        writes as news. The block must not wait for a sync itself.
        """
        return self._own_writes.writing()

    @callback
    def async_apply_remote_write(self, event: Event) -> None:
        """Store Google's answer to our own write so reads see it at once."""
        self.async_apply_remote_writes((event,))

    @callback
    def async_apply_remote_delete(self, event_id: str) -> None:
        """Forget an event we deleted, with the exceptions of a recurring one."""
        self.async_apply_remote_writes((), deleted_ids=(event_id,))

    @callback
    def async_apply_remote_writes(
        self, events: Iterable[Event], deleted_ids: Iterable[str] = ()
    ) -> None:
        """Store many answers to our own writes, then deletions, in one update.

        The views are updated in place for the changed events only.
        """
        touched = self._own_writes.store(self.snapshot.events, events, deleted_ids)
        self._schedule_save()
        self._views.async_apply(touched)
        # Keep the poll schedule: a local write is not a sync.
        self.async_update_listeners()
