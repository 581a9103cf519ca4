"""Watch channels: open, reuse, renew, move and stop them; the webhook they post to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from aiohttp.hdrs import METH_POST
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from .const import CONF_WEBHOOK_ID, DOMAIN
from .notifications import NotificationReceiver, async_webhook_address
from .push_status import (
    REDACTED,
    PushFailure,
    async_delete_push_issue,
    async_report_push_failure,
    channel_state,
)
from .stored import StoredChannel
from .watch import Watcher, WatchRefusedError

if TYPE_CHECKING:
    from homeassistant.components.cloud import CloudConnectionState

    from .google.client import GoogleCalendarApi
    from .store import SyncStore
    from .stored import StoredData

_LOGGER = logging.getLogger(__name__)

# Renew a day early so a slow or failing renewal still has many retries left.
RENEWAL_MARGIN = timedelta(days=1)
# Retry after Google refused the channel or no public URL exists.
SETUP_RETRY_INTERVAL = timedelta(hours=1)
# Retry after a transient failure (network, 5xx, rate limit).
TRANSIENT_RETRY_INTERVAL = timedelta(minutes=5)


class PushManager:
    """Own an entry's webhook and its watch channels, one per synced calendar."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        api: GoogleCalendarApi,
        store_data: StoredData,
        on_change: Callable[[str], None],
        *,
        store: SyncStore | None = None,
        on_push_state: Callable[[str, bool], None] | None = None,
    ) -> None:
        """Prepare push for an entry; nothing happens before async_start."""
        self._hass = hass
        self._entry = entry
        self._store_data = store_data
        self._store = store
        self._on_push_state = on_push_state
        # Only the emulator takes plain-http loopback addresses; Google wants HTTPS.
        self._allow_insecure = api.endpoints.allow_insecure_webhook
        self._calendar_ids: list[str] = []
        self._receiver = NotificationReceiver(entry.title, on_change)
        self._watcher = Watcher(api, self._receiver, entry.title)
        self._renewal_timers: dict[str, CALLBACK_TYPE] = {}
        self._push_state: dict[str, bool] = {}
        self._cancel_retry: CALLBACK_TYPE | None = None
        self._cancel_cloud_listener: CALLBACK_TYPE | None = None
        self._cancel_config_listener: CALLBACK_TYPE | None = None
        self._webhook_registered = False
        self._address_kind: str | None = None
        self._failure: PushFailure | None = None
        self._failure_detail: str | None = None
        # Where live channels post; channels reused after a restart are assumed to
        # post to the address of their first setup.
        self._address: str | None = None
        self._lock = asyncio.Lock()
        self._stopped = False
        # Background setups (retries, renewals, moves) that async_stop cancels.
        self._setup_tasks: set[asyncio.Task[bool]] = set()

    @property
    def webhook_id(self) -> str:
        """Return the entry's webhook id."""
        return str(self._entry.data[CONF_WEBHOOK_ID])

    @property
    def active(self) -> bool:
        """Return True while every synced calendar has a live channel."""
        return bool(self._calendar_ids) and all(
            self._push_state.get(calendar_id, False)
            for calendar_id in self._calendar_ids
        )

    async def async_start(self, calendar_ids: Iterable[str]) -> bool:
        """Register the webhook and open or reuse channels; True if push is live."""
        self._stopped = False
        self._calendar_ids = list(dict.fromkeys(calendar_ids))
        if CONF_WEBHOOK_ID not in self._entry.data:
            self._hass.config_entries.async_update_entry(
                self._entry,
                data={**self._entry.data, CONF_WEBHOOK_ID: webhook.async_generate_id()},
            )
        if not self._webhook_registered:
            webhook.async_register(
                self._hass,
                DOMAIN,
                f"Google Calendar Sync {self._entry.title}",
                self.webhook_id,
                self._receiver.async_handle_webhook,
                local_only=False,
                allowed_methods=[METH_POST],
            )
            self._webhook_registered = True
        if (
            self._cancel_cloud_listener is None
            and "cloud" in self._hass.config.components
        ):
            from homeassistant.components import cloud

            self._cancel_cloud_listener = cloud.async_listen_connection_change(
                self._hass, self._async_cloud_connection_changed
            )
        if self._cancel_config_listener is None:
            # A new external URL may make push possible without waiting an hour.
            self._cancel_config_listener = self._hass.bus.async_listen(
                EVENT_CORE_CONFIG_UPDATE, self._async_core_config_updated
            )
        return await self._async_setup_channels()

    async def async_stop(self, *, remove_channels: bool = True) -> None:
        """Stop timers and the webhook; stop every channel unless keeping them."""
        self._stopped = True
        if self._cancel_cloud_listener is not None:
            self._cancel_cloud_listener()
            self._cancel_cloud_listener = None
        if self._cancel_config_listener is not None:
            self._cancel_config_listener()
            self._cancel_config_listener = None
        # A setup waiting for Google would hold the lock for as long as Google hangs.
        for task in self._setup_tasks:
            task.cancel()
        async with self._lock:
            # Under the lock: a setup that was running may have scheduled timers.
            self._cancel_pending_retry()
            for cancel in self._renewal_timers.values():
                cancel()
            self._renewal_timers.clear()
            if remove_channels:
                channels = list(self._store_data.channels.values())
                self._store_data.channels.clear()
                await self._watcher.async_stop_all(channels)
                await self._async_save()
            if self._webhook_registered:
                webhook.async_unregister(self._hass, self.webhook_id)
                self._webhook_registered = False
            self._receiver.forget_all()
            for calendar_id in self._calendar_ids:
                self._set_push_state(calendar_id, active=False)
        async_delete_push_issue(self._hass, self._entry.entry_id)

    def diagnostics(self) -> dict[str, Any]:
        """Return push state and channels with secrets redacted."""
        now = dt_util.utcnow()
        channels = []
        for channel in self._store_data.channels.values():
            state = channel_state(channel.expiration, RENEWAL_MARGIN, now)
            channels.append(
                {
                    "calendar_id": channel.calendar_id,
                    "channel_id": channel.channel_id,
                    "resource_id": channel.resource_id,
                    "token": REDACTED,
                    "expiration": channel.expiration.isoformat(),
                    "renews_at": (channel.expiration - RENEWAL_MARGIN).isoformat(),
                    "state": state.value,
                }
            )
        return {
            "active": self.active,
            "webhook_registered": self._webhook_registered,
            "address_kind": self._address_kind,
            "failure": self._failure.value if self._failure else None,
            "failure_detail": self._failure_detail,
            "synced_calendars": len(self._calendar_ids),
            "live_calendars": sum(
                self._push_state.get(calendar_id, False)
                for calendar_id in self._calendar_ids
            ),
            "channels": sorted(channels, key=lambda item: str(item["calendar_id"])),
            **self._receiver.diagnostics(),
        }

    # Channels

    async def _async_setup_channels(self) -> bool:
        """Open, reuse or renew channels for every calendar; True if all are live."""
        async with self._lock:
            if self._stopped:
                return False
            self._cancel_pending_retry()
            address = await self._async_get_address()
            if address is None:
                for calendar_id in self._calendar_ids:
                    self._set_push_state(calendar_id, active=False)
                self._set_failure(PushFailure.NO_URL, None)
                self._schedule_retry(SETUP_RETRY_INTERVAL)
                return False
            for calendar_id in list(self._store_data.channels):
                if calendar_id not in self._calendar_ids:
                    await self._watcher.async_stop(
                        self._store_data.channels.pop(calendar_id)
                    )
            outcomes = await asyncio.gather(
                *(
                    self._async_ensure_channel(
                        calendar_id,
                        address,
                        moved=self._address is not None and address != self._address,
                    )
                    for calendar_id in self._calendar_ids
                ),
                return_exceptions=True,
            )
            await self._async_save()
            refused: WatchRefusedError | None = None
            temporary: BaseException | None = None
            for calendar_id, outcome in zip(self._calendar_ids, outcomes, strict=True):
                if isinstance(outcome, WatchRefusedError):
                    refused = outcome
                elif isinstance(outcome, BaseException):
                    temporary = outcome
                self._set_push_state(calendar_id, active=outcome is None)
            if refused is not None:
                self._set_failure(PushFailure.WATCH_REFUSED, str(refused.error))
                self._schedule_retry(SETUP_RETRY_INTERVAL)
                return False
            if temporary is not None:
                self._set_failure(PushFailure.TEMPORARY, str(temporary))
                self._schedule_retry(TRANSIENT_RETRY_INTERVAL)
                return False
            # Set only now: a partly failed move is redone for every calendar.
            self._address = address
            self._set_failure(None, None)
            return True

    async def _async_ensure_channel(
        self, calendar_id: str, address: str, *, moved: bool
    ) -> None:
        """Reuse a live stored channel, or open a new one and stop the old one."""
        existing = self._store_data.channels.get(calendar_id)
        now = dt_util.utcnow()
        if (
            existing is not None
            and existing.expiration - RENEWAL_MARGIN > now
            and not moved
        ):
            self._watcher.expect(existing)
            self._schedule_renewal(existing)
            return
        channel = await self._watcher.async_open(calendar_id, address)
        self._store_data.channels[calendar_id] = channel
        self._schedule_renewal(channel)
        if existing is not None:
            await self._watcher.async_stop(existing)

    @callback
    def _schedule_renewal(self, channel: StoredChannel) -> None:
        """Renew a channel a margin before it expires."""
        if (cancel := self._renewal_timers.pop(channel.calendar_id, None)) is not None:
            cancel()
        self._renewal_timers[channel.calendar_id] = async_track_point_in_utc_time(
            self._hass,
            self._async_renewal_due,
            max(channel.expiration - RENEWAL_MARGIN, dt_util.utcnow()),
        )

    @callback
    def _async_renewal_due(self, _now: datetime) -> None:
        """Renew channels in the background when one is due."""
        self._renewal_timers.clear()
        self._start_setup_task("renewal")

    # Address, cloud and repair issue

    async def _async_get_address(self) -> str | None:
        """Return the public URL Google should post to, or None if there is none."""
        address, self._address_kind = await async_webhook_address(
            self._hass, self._entry, allow_insecure=self._allow_insecure
        )
        return address

    async def _async_cloud_connection_changed(
        self, state: CloudConnectionState
    ) -> None:
        """Retry push when Home Assistant Cloud connects."""
        from homeassistant.components import cloud

        if state is cloud.CloudConnectionState.CLOUD_CONNECTED and not self.active:
            await self._async_setup_channels()

    @callback
    def _async_core_config_updated(self, _event: Event[Any]) -> None:
        """Retry push, or move channels, when the URLs of Home Assistant changed."""
        self._start_setup_task("config update")

    @callback
    def _set_failure(self, failure: PushFailure | None, detail: str | None) -> None:
        """Record why push is down and raise or clear the repair issue."""
        self._failure = failure
        self._failure_detail = detail
        async_report_push_failure(self._hass, self._entry, failure, detail)

    @callback
    def _set_push_state(self, calendar_id: str, *, active: bool) -> None:
        """Tell the owner when a calendar switches between push and polling."""
        if self._push_state.get(calendar_id) is active:
            return
        self._push_state[calendar_id] = active
        if self._on_push_state is not None:
            self._on_push_state(calendar_id, active)

    @callback
    def _schedule_retry(self, delay: timedelta) -> None:
        """Try push again later."""
        self._cancel_pending_retry()
        self._cancel_retry = async_call_later(self._hass, delay, self._async_retry_due)

    @callback
    def _async_retry_due(self, _now: datetime) -> None:
        """Retry push setup in the background."""
        self._cancel_retry = None
        self._start_setup_task("retry")

    @callback
    def _start_setup_task(self, why: str) -> None:
        """Run channel setup in a task tied to the entry."""
        task = self._entry.async_create_background_task(
            self._hass,
            self._async_setup_channels(),
            f"{DOMAIN} push {why} {self._entry.entry_id}",
        )
        self._setup_tasks.add(task)
        task.add_done_callback(self._setup_tasks.discard)

    @callback
    def _cancel_pending_retry(self) -> None:
        """Cancel a scheduled retry."""
        if self._cancel_retry is not None:
            self._cancel_retry()
            self._cancel_retry = None

    async def _async_save(self) -> None:
        """Persist channels now: a lost channel id cannot be stopped later."""
        if self._store is not None:
            await self._store.async_save_channels()
