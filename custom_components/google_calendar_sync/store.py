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
import orjson

from .const import DOMAIN
from .google.sync import CalendarSnapshot, json_safe, malformed

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
# 2: each snapshot names its calendar.
STORAGE_MINOR_VERSION = 2
# Whatever a file holds, reading it raises one of these (or nothing).
_UNREADABLE = (
    HomeAssistantError,
    NotImplementedError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
)
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
        """Load the stored data; never fails.

        Anything unreadable (the file, or one calendar's part of it) means a
        fresh full sync of what it held, with one warning.
        """
        try:
            raw = await self._store.async_load()
        except _UNREADABLE as err:
            self._warn("cannot be read", err)
            return StoredData()
        if raw is None:
            return StoredData()
        try:
            data, problems = parse_stored_data(raw)
        except _UNREADABLE as err:
            self._warn("has an unexpected shape", err)
            return StoredData()
        for name, problem in problems.items():
            _LOGGER.warning(
                "Stored sync state %s: %s is unusable (%s); starting it afresh",
                self._store.key,
                name,
                problem,
            )
        return data

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
    """Serialize StoredData to JSON-compatible types; saving it never fails.

    The events are encoded here, once: text JSON cannot hold (a lone surrogate)
    is replaced rather than failing the whole write.
    """
    return {
        "calendars": {
            calendar_id: {
                "calendar_id": calendar_id,
                "sync_token": snapshot.sync_token,
                "events": _json_fragment(snapshot.events),
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


def _json_fragment(value: Any) -> orjson.Fragment:
    """Return value encoded as JSON, with what JSON cannot hold replaced."""
    try:
        return orjson.Fragment(orjson.dumps(value))
    except TypeError:
        return orjson.Fragment(orjson.dumps(json_safe(value)))


def parse_stored_data(raw: Any) -> tuple[StoredData, dict[str, str]]:
    """Parse StoredData, leaving out the calendars and channels that are unusable.

    Return what is usable and, per calendar or channel left out, why. Raise when
    the whole is of the wrong shape.
    """
    calendars: dict[str, CalendarSnapshot] = {}
    problems: dict[str, str] = {}
    for calendar_id, item in _mapping(_mapping(raw).get("calendars", {})).items():
        try:
            calendars[calendar_id] = _snapshot(calendar_id, item)
        except _UNREADABLE as err:
            problems[f"calendar {calendar_id}"] = f"{err!r}, running a full sync"
    channels: dict[str, StoredChannel] = {}
    for key, item in _mapping(raw.get("channels", {})).items():
        try:
            channels[key] = StoredChannel(
                calendar_id=str(item["calendar_id"]),
                channel_id=str(item["channel_id"]),
                resource_id=str(item["resource_id"]),
                token=str(item["token"]),
                expiration=_datetime(item["expiration"]),
            )
        except _UNREADABLE as err:
            problems[f"channel {key}"] = f"{err!r}, watching anew"
    return StoredData(calendars, channels), problems


def _snapshot(calendar_id: str, item: Any) -> CalendarSnapshot:
    """Parse the stored snapshot of one calendar; raise if it is unusable."""
    item = _mapping(item)
    if item.get("calendar_id", calendar_id) != calendar_id:
        raise ValueError(f"holds the snapshot of {item['calendar_id']!r}")
    events = _mapping(item.get("events", {}))
    for event_id, event in events.items():
        if (problem := malformed(event)) is not None or event["id"] != event_id:
            raise ValueError(f"bad event {event_id!r}: {problem or 'id differs'}")
    token = item.get("sync_token")
    if token is not None and not isinstance(token, str):
        raise TypeError("sync_token")
    last_synced = item.get("last_synced")
    return CalendarSnapshot(
        sync_token=token,
        events=dict(events),
        last_synced=_datetime(last_synced) if last_synced else None,
    )


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
