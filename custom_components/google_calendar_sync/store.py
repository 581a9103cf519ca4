"""Persistence of sync state: snapshots per calendar and push channels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .sync import CalendarSnapshot

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
# Coalesce the writes of bursts of syncs into one.
SAVE_DELAY = 10

type _JsonDict = dict[str, Any]


@dataclass(slots=True)
class StoredChannel:
    """A watch channel that Google pushes notifications to."""

    calendar_id: str
    channel_id: str
    resource_id: str
    token: str
    expiration: datetime


@dataclass(slots=True)
class StoredData:
    """Everything the integration keeps between restarts."""

    calendars: dict[str, CalendarSnapshot] = field(default_factory=dict)
    channels: dict[str, StoredChannel] = field(default_factory=dict)


class _MigratingStore(Store[_JsonDict]):
    """Store that reads older minor versions of our layout."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: _JsonDict
    ) -> _JsonDict:
        """Migrate stored data to the current version."""
        if old_major_version > STORAGE_VERSION:
            raise NotImplementedError
        # Minor versions only ever add keys, which parsing fills with defaults.
        return old_data


class SyncStore:
    """Load and save StoredData without ever failing setup."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store of one config entry."""
        self._store = _MigratingStore(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            private=True,
            minor_version=STORAGE_MINOR_VERSION,
        )
        self._warned = False

    async def async_load(self) -> StoredData:
        """Load the stored data; anything unreadable means a fresh full sync."""
        try:
            raw = await self._store.async_load()
        except (HomeAssistantError, NotImplementedError, ValueError, OSError) as err:
            self._warn("cannot be read", err)
            return StoredData()
        if raw is None:
            return StoredData()
        try:
            return stored_data_from_dict(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            self._warn("has an unexpected shape", err)
            return StoredData()

    def async_delay_save(self, data_func: Callable[[], StoredData]) -> None:
        """Save soon, with the data as it is when the write happens."""
        self._store.async_delay_save(
            lambda: stored_data_to_dict(data_func()), SAVE_DELAY
        )

    async def async_save(self, data: StoredData) -> None:
        """Save now."""
        await self._store.async_save(stored_data_to_dict(data))

    async def async_remove(self) -> None:
        """Remove the stored file."""
        await self._store.async_remove()

    def _warn(self, problem: str, err: Exception) -> None:
        """Log once that the store is unusable and a full sync follows."""
        if self._warned:
            return
        self._warned = True
        _LOGGER.warning(
            "Stored sync state %s %s (%s); running a full sync",
            self._store.key,
            problem,
            err,
        )


def stored_data_to_dict(data: StoredData) -> _JsonDict:
    """Serialize StoredData to JSON-compatible types."""
    return {
        "calendars": {
            calendar_id: {
                "sync_token": snapshot.sync_token,
                "events": snapshot.events,
                "last_synced": (
                    snapshot.last_synced.isoformat() if snapshot.last_synced else None
                ),
            }
            for calendar_id, snapshot in data.calendars.items()
        },
        "channels": {
            key: {
                "calendar_id": channel.calendar_id,
                "channel_id": channel.channel_id,
                "resource_id": channel.resource_id,
                "token": channel.token,
                "expiration": channel.expiration.isoformat(),
            }
            for key, channel in data.channels.items()
        },
    }


def stored_data_from_dict(raw: Mapping[str, Any]) -> StoredData:
    """Parse serialized StoredData; raise on anything of the wrong shape."""
    calendars: dict[str, CalendarSnapshot] = {}
    for calendar_id, item in _mapping(raw.get("calendars", {})).items():
        events = _mapping(item.get("events", {}))
        for event_id, event in events.items():
            if not isinstance(event, dict) or event.get("id") != event_id:
                raise ValueError(f"bad event {event_id!r}")
        token = item.get("sync_token")
        if token is not None and not isinstance(token, str):
            raise TypeError("sync_token")
        last_synced = item.get("last_synced")
        calendars[str(calendar_id)] = CalendarSnapshot(
            sync_token=token,
            events=dict(events),
            last_synced=_datetime(last_synced) if last_synced else None,
        )
    channels = {
        str(key): StoredChannel(
            calendar_id=str(item["calendar_id"]),
            channel_id=str(item["channel_id"]),
            resource_id=str(item["resource_id"]),
            token=str(item["token"]),
            expiration=_datetime(item["expiration"]),
        )
        for key, item in _mapping(raw.get("channels", {})).items()
    }
    return StoredData(calendars, channels)


def _mapping(value: Any) -> Mapping[str, Any]:
    """Return value if it is a mapping, else raise."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping, got {type(value).__name__}")
    return value


def _datetime(value: Any) -> datetime:
    """Parse an aware ISO datetime."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}")
    return parsed
