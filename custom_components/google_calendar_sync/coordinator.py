"""One DataUpdateCoordinator per synced Google calendar."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import Any, override

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .channels import PushManager
from .const import (
    CONF_FREE_EVENTS_BUSY,
    CONF_SHOW_DECLINED,
    CONF_SYNC_WINDOW_DAYS,
    DEFAULT_SYNC_WINDOW_DAYS,
    DOMAIN,
    EVENT_CHANGED,
    POLL_INTERVAL,
    SAFETY_NET_INTERVAL,
)
from .google.client import GoogleCalendarApi
from .google.colors import ColorPalette
from .google.entries import OnSkip
from .google.errors import (
    GoogleAuthError,
    GoogleCalendarApiError,
    GoogleClientClosedError,
    GoogleNotFoundError,
    GoogleRateLimitError,
)
from .google.event_views import CalendarViews, EventView, event_type, response_status
from .google.meet import meet_link
from .google.model import display_name
from .google.recurrence import Series
from .google.sync import (
    CalendarSnapshot,
    ChangeKind,
    ChangeSet,
    EventChange,
    EventSource,
    async_sync_calendar,
    is_cancelled,
)
from .google.timeline import SkippedEvents
from .store import StoredData, SyncStore

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

# Receives the payload of each announced change, the one the bus event carries.
type ChangeListener = Callable[[Mapping[str, Any]], None]


def calendar_unique_id(
    account: str, calendar_id: str, view: EventView = EventView.CALENDAR
) -> str:
    """Return the unique id of the calendar entity of one view of a calendar."""
    if view is EventView.CALENDAR:
        return f"{account}-{calendar_id}"
    return f"{account}-{calendar_id}-{view}"


def _time_value(moment: Any) -> str | None:
    """Return the ISO string of a Google start/end object."""
    if not isinstance(moment, dict):
        return None
    value = moment.get("dateTime") or moment.get("date")
    return str(value) if value is not None else None


def _is_date(moment: Any) -> bool:
    """Return True for the start/end object of an all-day event."""
    return isinstance(moment, dict) and "date" in moment


def event_fields(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return what automations see of a Google event (bus event, action answers)."""
    return {
        "event_id": event.get("id"),
        "summary": event.get("summary"),
        "start": _time_value(event.get("start")),
        "end": _time_value(event.get("end")),
        "all_day": _is_date(event.get("start")),
        "location": event.get("location"),
        "description": event.get("description"),
        "meet_link": meet_link(event),
        "recurring_event_id": event.get("recurringEventId"),
    }


def _build_warm_views(
    events: list[dict[str, Any]],
    time_zone: str,
    now: datetime,
    on_skip: OnSkip,
    reuse: Mapping[str, Series] | None,
) -> CalendarViews:
    """Index events and expand the months around now; runs in the executor."""
    views = CalendarViews.build(
        events, default_time_zone=time_zone, on_skip=on_skip, reuse=reuse
    )
    views.warm(now)
    return views


def _updated(event: Mapping[str, Any]) -> datetime | None:
    """Return when Google last changed an event, None if unknown."""
    try:
        return datetime.fromisoformat(str(event["updated"]))
    except KeyError, ValueError:
        return None


def _keep_our_writes(
    snapshot: CalendarSnapshot,
    changes: ChangeSet,
    written: Mapping[str, dict[str, Any] | None],
    *,
    full_sync: bool = False,
) -> ChangeSet:
    """Put back, in place, our writes that a listing fetched before them undid.

    A listed version wins only when Google changed it after our write; what the
    listing changed on the others is our own write, not news. A full listing
    without our event may predate it or follow its deletion: the event is kept
    and the sync token dropped, so the next (full) sync decides.
    """
    events = snapshot.events
    ours: set[str] = set()
    for event_id, event in written.items():
        listed = events.get(event_id)
        if event is None:
            ours.add(event_id)
            if listed is not None and not is_cancelled(listed):
                # Deleted by us after the listing: forget it with its exceptions.
                for other_id in [
                    other_id
                    for other_id, other in events.items()
                    if other_id == event_id or other.get("recurringEventId") == event_id
                ]:
                    del events[other_id]
                    ours.add(other_id)
            continue
        if listed is None and full_sync:
            events[event_id] = event
            ours.add(event_id)
            snapshot.sync_token = None
            continue
        if listed is None or listed.get("etag") == event.get("etag"):
            continue
        ours_at, listed_at = _updated(event), _updated(listed)
        if ours_at is None or listed_at is None or listed_at <= ours_at:
            events[event_id] = event
            ours.add(event_id)
    if not ours:
        return changes

    def _news(kind: tuple[EventChange, ...]) -> tuple[EventChange, ...]:
        return tuple(change for change in kind if change.event.get("id") not in ours)

    return ChangeSet(
        _news(changes.created), _news(changes.updated), _news(changes.cancelled)
    )


class _SettledSource:
    """The API as a sync sees it: a listing ends once our writes in flight are stored.

    The last page may already hold the result of a write whose answer is still on
    its way (a push notification is often faster); compared before that answer is
    stored, our own write would look like a change made in Google.
    """

    def __init__(
        self, api: EventSource, settled: Callable[[], Awaitable[object]]
    ) -> None:
        self._api = api
        self._settled = settled

    async def list_events(
        self,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        page_token: str | None = None,
        time_min: datetime | None = None,
        show_deleted: bool | None = None,
        max_results: int = 2500,
    ) -> dict[str, Any]:
        """Return one page of events.list; the last one after our writes landed."""
        page = await self._api.list_events(
            calendar_id,
            sync_token=sync_token,
            page_token=page_token,
            time_min=time_min,
            show_deleted=show_deleted,
            max_results=max_results,
        )
        if not page.get("nextPageToken"):
            await self._settled()
        return page


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
        calendar: dict[str, Any],
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
        # Our writes landing while a listing is on its way (id -> event, None when
        # deleted): that listing may predate them and must not undo them.
        self._written_during_sync: dict[str, dict[str, Any] | None] | None = None
        # The views need a full build: none yet, or a full sync replaced the
        # snapshot. Otherwise changes update them in place (_async_apply).
        self._rebuild = True
        # Full builds in flight, each with the ids changed since it copied the
        # snapshot: applied to it before it is published.
        self._builds: list[set[str]] = []
        # Our writes on their way to Google (see async_own_writes).
        self._writes_in_flight = 0
        self._writes_settled = asyncio.Event()
        self._writes_settled.set()
        # Callers arriving while a sync runs share this queued sync's result.
        self._queued: asyncio.Future[ChangeSet] | None = None
        self._change_listeners: list[ChangeListener] = []
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
        return await self._async_views()

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
        self.async_set_updated_data(await self._async_views())
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
        self._written_during_sync = {}
        try:
            result = await async_sync_calendar(
                _SettledSource(self.api, self._writes_settled.wait),
                self.calendar_id,
                previous,
                now=dt_util.utcnow(),
                window=window,
                on_skip=self.skipped,
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
            written, self._written_during_sync = self._written_during_sync, None
        changes = result.changes
        if written:
            changes = _keep_our_writes(
                result.snapshot, changes, written, full_sync=result.full_sync
            )
        self._stored.calendars[self.calendar_id] = result.snapshot
        if result.touched is None:
            self._rebuild = True
        else:
            self._async_apply(result.touched | (written or {}).keys())
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

    async def _async_views(self) -> CalendarViews:
        """Return the views, built in the executor when they need a full build.

        Indexing 20,000 events and expanding their series takes a few hundred
        milliseconds; warmed, the first query after a restart reads caches.
        Changes landing meanwhile are applied to the new views before they are
        published.
        """
        if not self._rebuild and self.data is not None:
            return self.data
        self._rebuild = False
        changed: set[str] = set()
        self._builds.append(changed)
        try:
            views = await self.hass.async_add_executor_job(
                _build_warm_views,
                # Copies: the loop changes the snapshot and the views meanwhile.
                list(self.snapshot.events.values()),
                self._time_zone,
                dt_util.utcnow(),
                self.skipped,
                self.data.series if self.data is not None else None,
            )
        except BaseException:
            self._rebuild = True
            raise
        finally:
            self._builds.remove(changed)
        views.apply(self.snapshot.events, changed)
        return views

    @callback
    def _async_apply(self, ids: Iterable[str]) -> None:
        """Update the views in place for events changed in the snapshot."""
        ids = set(ids)
        for changed in self._builds:
            changed.update(ids)
        if self.data is not None:
            self.data.apply(self.snapshot.events, ids)

    @callback
    def _schedule_save(self) -> None:
        """Save the store soon, batching bursts of changes."""
        self._store.async_delay_save(self.calendar_id)

    @callback
    def async_add_change_listener(self, listener: ChangeListener) -> CALLBACK_TYPE:
        """Call listener with each change announced on the bus; returns a remover."""
        self._change_listeners.append(listener)

        @callback
        def remove() -> None:
            self._change_listeners.remove(listener)

        return remove

    @callback
    def _fire_changes(self, changes: ChangeSet) -> None:
        """Announce each change: one bus event, and the same payload to listeners."""
        entity_id = er.async_get(self.hass).async_get_entity_id(
            Platform.CALENDAR,
            DOMAIN,
            calendar_unique_id(self.account, self.calendar_id),
        )
        for change in changes:
            data = self._event_data(entity_id, change)
            self.hass.bus.async_fire(EVENT_CHANGED, data)
            for listener in list(self._change_listeners):
                listener(data)

    def _event_data(self, entity_id: str | None, change: EventChange) -> dict[str, Any]:
        """Return the bus event payload of one change."""
        event = change.event
        return {
            "entity_id": entity_id,
            "calendar_id": self.calendar_id,
            "change": str(change.kind),
            **event_fields(event),
            "event_kind": str(event_type(event)),
            "color": self.palette.event_color(event, self.calendar),
            "response_status": (
                str(status) if (status := response_status(event)) else None
            ),
            "changed_fields": (
                list(change.changed_fields) if change.kind is ChangeKind.UPDATED else []
            ),
        }

    @contextlib.asynccontextmanager
    async def async_own_writes(self) -> AsyncIterator[None]:
        """Mark writes to Google whose answers are stored before leaving the block.

        A sync listing meanwhile waits for them, so it never announces our own
        writes as news. The block must not wait for a sync itself.
        """
        self._writes_in_flight += 1
        self._writes_settled.clear()
        try:
            yield
        finally:
            self._writes_in_flight -= 1
            if not self._writes_in_flight:
                self._writes_settled.set()

    @callback
    def async_apply_remote_write(self, event: dict[str, Any]) -> None:
        """Store Google's answer to our own write so reads see it at once."""
        self.async_apply_remote_writes((event,))

    @callback
    def async_apply_remote_delete(self, event_id: str) -> None:
        """Forget an event we deleted, with the exceptions of a recurring one."""
        self.async_apply_remote_writes((), deleted_ids=(event_id,))

    @callback
    def async_apply_remote_writes(
        self, events: Iterable[dict[str, Any]], deleted_ids: Iterable[str] = ()
    ) -> None:
        """Store many answers to our own writes, then deletions, in one update.

        The views are updated in place for the changed events only.
        """
        stored = self.snapshot.events
        written = self._written_during_sync
        touched: set[str] = set()
        for event in events:
            touched.add(event["id"])
            if event.get("status") == "cancelled" and not event.get("recurringEventId"):
                stored.pop(event["id"], None)
                if written is not None:
                    written[event["id"]] = None
            else:
                stored[event["id"]] = event
                if written is not None:
                    written[event["id"]] = event
        if deleted := set(deleted_ids):
            touched.update(deleted)
            if written is not None:
                written.update(dict.fromkeys(deleted))
            # One pass finds the exceptions of every deleted series.
            for event_id in [
                event_id
                for event_id, event in stored.items()
                if event_id in deleted or event.get("recurringEventId") in deleted
            ]:
                del stored[event_id]
        self._schedule_save()
        self._async_apply(touched)
        # Keep the poll schedule: a local write is not a sync.
        self.async_update_listeners()
