"""Persistence of sync state: one file per calendar, the push channels apart.

Layout (private, in .storage/):

- ``google_calendar_sync.<entry_id>.index``, a Home Assistant Store: the calendars
  that have a file, and the push channels (small: rewritten whenever a channel
  opens or ends);
- ``google_calendar_sync.<entry_id>.<digest of the calendar id>.jsonl``: one
  calendar's events, sync token and time of its last sync, as a log a change
  appends to (journal.py). A change writes about its own size, in its calendar.

Earlier versions kept everything in one store, ``google_calendar_sync.<entry_id>``;
loading moves the synced calendars that have no file yet into this layout, sync
tokens included, and removes it once those are written, with the calendars no
longer synced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping
from contextlib import suppress
from datetime import datetime
from enum import Enum
import hashlib
import logging
from typing import Any, Final, Literal

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import STORAGE_DIR, Store

from .const import DOMAIN
from .google.sync import CalendarSnapshot
from .journal import CalendarLog
from .stored import (
    UNREADABLE,
    JsonDict,
    StoredData,
    channel_to_dict,
    parse_index,
    parse_stored_data,
)

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
# The single store of earlier versions; 2: each snapshot names its calendar.
STORAGE_MINOR_VERSION = 2
# Changes wait this long so that bursts (a sync of many changes, an export, an edit
# session in Google) land in one append per calendar. What a crash loses is never
# data: Google keeps it, and the next sync from the saved sync token fetches it
# again in one request; the cost is that those changes are announced once more.
# Hence far shorter than Home Assistant's google integration (120 s: it rewrites
# its whole store and announces nothing); as an append costs about the size of the
# change, waiting longer would save SD cards little.
SAVE_DELAY = 10


class _Unreadable(Enum):
    """What reading an unusable store or file gives; None means a missing one."""

    BROKEN = "broken"


_BROKEN: Final = _Unreadable.BROKEN


class _VersionedStore(Store[JsonDict]):
    """Private store of ours: reads older minor versions, written off the loop.

    What it writes is made for the write and never changed afterwards, so Home
    Assistant may encode it in its executor.
    """

    def __init__(self, hass: HomeAssistant, key: str, minor_version: int) -> None:
        """Create the store of one key."""
        super().__init__(
            hass,
            STORAGE_VERSION,
            key,
            private=True,
            minor_version=minor_version,
            serialize_in_event_loop=False,
        )

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: JsonDict
    ) -> JsonDict:
        """Migrate stored data to the current version; refuse any other layout.

        Minor versions only add keys (Home Assistant's rule): parsing fills the
        missing ones with defaults and ignores newer ones. Another major version
        or a version that is no number may mean anything: a full sync is safer.
        """
        if old_major_version != STORAGE_VERSION or not isinstance(
            old_minor_version, int
        ):
            raise ValueError(f"version {old_major_version}.{old_minor_version}")
        return old_data


def calendar_file_name(entry_id: str, calendar_id: str) -> str:
    """Return the name of the file of one calendar of an entry, in .storage/.

    A digest, as calendar ids hold characters a file name should not
    ("#", "/"); the file names its calendar in its first line.
    """
    digest = hashlib.sha256(calendar_id.encode()).hexdigest()[:16]
    return f"{DOMAIN}.{entry_id}.{digest}.jsonl"


def index_store_key(entry_id: str) -> str:
    """Return the storage key of an entry's index and channels."""
    return f"{DOMAIN}.{entry_id}.index"


class SyncStore:
    """Load and save the StoredData of one entry, never failing setup.

    Calendars are saved on their own, SAVE_DELAY after their first unsaved change;
    async_flush (unload) and Home Assistant's final write save what is pending.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the stores of one config entry."""
        self._hass = hass
        self._entry_id = entry_id
        self._index = _VersionedStore(hass, index_store_key(entry_id), 1)
        self._logs: dict[str, tuple[CalendarLog, asyncio.Lock]] = {}
        self._data = StoredData()
        # The calendars the index lists: each may have a store.
        self._indexed: set[str] = set()
        self._unsaved: set[str] = set()
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._cancel_final_write: CALLBACK_TYPE | None = None
        self._warned = False

    async def async_load(self, calendar_ids: Iterable[str]) -> StoredData:
        """Load the channels and the stored state of the given calendars.

        Never fails: anything unreadable (a file, or one calendar or channel in
        it) means a fresh full sync of what it held, with one warning. Parsing
        runs in the executor: 20,000 events would stall the loop.
        """
        index = await self._async_read(self._index)
        if index not in (None, _BROKEN):
            try:
                channels, indexed, problems = parse_index(index)
            except UNREADABLE as err:
                self._warn(self._index.key, "has an unexpected shape", err)
                channels, indexed, problems = {}, [], {}
            self._log_problems(self._index.key, problems)
            self._indexed = set(indexed)
            self._data = StoredData(channels=channels)
        wanted = list(calendar_ids)
        missing: list[str] = []
        for calendar_id, snapshot in zip(
            wanted,
            await asyncio.gather(*(self._async_load_calendar(c) for c in wanted)),
            strict=True,
        ):
            if snapshot is None:
                missing.append(calendar_id)
            elif snapshot is not _BROKEN:
                self._data.calendars[calendar_id] = snapshot
        await self._async_migrate_single_store(missing, channels=index is None)
        return self._data

    async def _async_load_calendar(
        self, calendar_id: str
    ) -> CalendarSnapshot | Literal[_Unreadable.BROKEN] | None:
        """Load one calendar's file: None when there is none, _BROKEN if unusable."""
        log, lock = self._log(calendar_id)
        async with lock:
            try:
                return await self._hass.async_add_executor_job(log.load)
            except UNREADABLE as err:
                self._log_problems(
                    log.path,
                    {f"calendar {calendar_id}": f"{err!r}, running a full sync"},
                )
                return _BROKEN

    async def _async_migrate_single_store(
        self, calendar_ids: Iterable[str], *, channels: bool
    ) -> None:
        """Take from the single store of earlier versions what no file holds yet.

        Each given calendar (a synced one without a file of its own) is taken
        from it, with its sync token, and written; so are its channels when there
        is no index. A calendar whose file exists but is unreadable is not: its
        old sync token would announce again every change made since the move.
        The old store goes, with the calendars no longer synced, only once every
        taken calendar was written: after a failed write (a full disk) the next
        start takes that calendar from it again, so its sync token and the
        changes made meanwhile are never lost.
        """
        legacy = _VersionedStore(
            self._hass, f"{DOMAIN}.{self._entry_id}", STORAGE_MINOR_VERSION
        )
        raw = await self._async_read(legacy)
        if raw in (None, _BROKEN):
            return
        try:
            # A plain loop over every event: in the executor, it never holds the
            # loop for long.
            data, problems = await self._hass.async_add_executor_job(
                parse_stored_data, raw
            )
        except UNREADABLE as err:
            self._warn(legacy.key, "has an unexpected shape", err)
            return
        self._log_problems(legacy.key, problems)
        if channels:
            self._data.channels = data.channels
        moved = [c for c in calendar_ids if c in data.calendars]
        for calendar_id in moved:
            self._data.calendars[calendar_id] = data.calendars[calendar_id]
        # Listed before written: the index never misses a store.
        self._indexed.update(moved)
        await self._async_write_index()
        written = await asyncio.gather(*(self._async_write_calendar(c) for c in moved))
        if all(written):
            await legacy.async_remove()
        else:
            _LOGGER.warning(
                "Kept %s: the next start moves what could not be written", legacy.key
            )

    @callback
    def async_delay_save(self, calendar_id: str) -> None:
        """Save a calendar SAVE_DELAY from now, with what it holds then."""
        self._unsaved.add(calendar_id)
        if self._cancel_timer is None:
            self._cancel_timer = async_call_later(
                self._hass, SAVE_DELAY, self._async_save_due
            )
        if self._cancel_final_write is None:
            self._cancel_final_write = self._hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
            )

    async def _async_save_due(self, _now: datetime) -> None:
        """Save the calendars whose delay is over."""
        self._cancel_timer = None
        await self._async_save_pending()

    async def _async_final_write(self, _event: Event) -> None:
        """Save what is pending as Home Assistant stops."""
        self._cancel_final_write = None
        await self.async_flush()

    async def async_flush(self) -> None:
        """Save every pending change now and stop waiting for Home Assistant's stop."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        if self._cancel_final_write is not None:
            self._cancel_final_write()
            self._cancel_final_write = None
        await self._async_save_pending()
        # A save the timer started may still be writing: it ends before we return,
        # so an entry set up again never has two writers on one file.
        for _log, lock in list(self._logs.values()):
            async with lock:
                pass

    async def _async_save_pending(self) -> None:
        """Write the calendars changed since their last write."""
        pending, self._unsaved = self._unsaved, set()
        pending &= set(self._data.calendars)
        if new := pending - self._indexed:
            # Listed before written: the index never misses a store.
            self._indexed |= new
            await self._async_write_index()
        await asyncio.gather(*(self._async_write_calendar(c) for c in pending))

    async def async_save_channels(self) -> None:
        """Save the channels now: a lost channel id cannot be stopped later."""
        await self._async_write_index()

    async def async_forget_calendars_except(self, keep: Collection[str]) -> None:
        """Remove the stores of the calendars that are no longer synced."""
        if not (stale := self._indexed - set(keep)):
            return
        for calendar_id in stale:
            self._data.calendars.pop(calendar_id, None)
            self._unsaved.discard(calendar_id)
        # Files first: the index never misses one.
        await asyncio.gather(*(self._async_remove_file(c) for c in stale))
        self._indexed -= stale
        await self._async_write_index()

    async def async_remove(self) -> None:
        """Remove every store of the entry, the single store of earlier versions too."""
        if (index := await self._async_read(self._index)) not in (None, _BROKEN):
            with suppress(*UNREADABLE):
                self._indexed |= set(parse_index(index)[1])
        await self.async_forget_calendars_except(())
        await self._index.async_remove()
        await Store[JsonDict](
            self._hass, STORAGE_VERSION, f"{DOMAIN}.{self._entry_id}"
        ).async_remove()

    async def _async_write_index(self) -> None:
        """Write the index: the calendars with a store, and the channels."""
        await self._index.async_save(
            {
                "calendars": sorted(self._indexed),
                "channels": {
                    key: channel_to_dict(channel)
                    for key, channel in self._data.channels.items()
                },
            }
        )

    async def _async_write_calendar(self, calendar_id: str) -> bool:
        """Write what changed in one calendar, as it is now, off the loop.

        Return whether it was written; a failure is logged.
        """
        snapshot = self._data.calendars[calendar_id]
        # A copy of the dict, made here: the loop goes on changing the snapshot's
        # dict, never an event in it (a change replaces the event).
        events = dict(snapshot.events)
        log, lock = self._log(calendar_id)
        async with lock:
            try:
                await self._hass.async_add_executor_job(
                    log.save, snapshot.sync_token, events, snapshot.last_synced
                )
            except (HomeAssistantError, OSError) as err:
                _LOGGER.error("Cannot write %s: %s", log.path, err)
                return False
        return True

    async def _async_remove_file(self, calendar_id: str) -> None:
        """Delete the file of one calendar."""
        log, lock = self._log(calendar_id)
        async with lock:
            await self._hass.async_add_executor_job(log.remove)

    def _log(self, calendar_id: str) -> tuple[CalendarLog, asyncio.Lock]:
        """Return the file of one calendar, and the lock that orders its I/O."""
        if (log := self._logs.get(calendar_id)) is None:
            path = self._hass.config.path(
                STORAGE_DIR, calendar_file_name(self._entry_id, calendar_id)
            )
            log = self._logs[calendar_id] = (
                CalendarLog(path, calendar_id),
                asyncio.Lock(),
            )
        return log

    async def _async_read(self, store: _VersionedStore) -> Any:
        """Return the raw content of a store: None if missing, _BROKEN if unreadable."""
        try:
            return await store.async_load()
        except UNREADABLE as err:
            self._warn(store.key, "cannot be read", err)
            return _BROKEN

    @staticmethod
    def _log_problems(key: str, problems: Mapping[str, str]) -> None:
        """Log each calendar or channel left out, and why."""
        for name, problem in problems.items():
            _LOGGER.warning(
                "Stored sync state %s: %s is unusable (%s); starting it afresh",
                key,
                name,
                problem,
            )

    def _warn(self, key: str, problem: str, err: Exception) -> None:
        """Log once that a store is unusable and a full sync follows."""
        if self._warned:
            return
        self._warned = True
        _LOGGER.warning(
            "Stored sync state %s %s (%s); running a full sync", key, problem, err
        )
