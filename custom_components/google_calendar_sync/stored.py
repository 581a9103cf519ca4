"""What the integration keeps between restarts, and reading it back from JSON.

Anything unusable in stored JSON is left out with the reason, so that one bad
calendar or channel costs only itself (a full sync, or a new channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeassistant.exceptions import HomeAssistantError

from .google.sync import CalendarSnapshot, malformed
from .journal import aware_datetime

# Whatever a file holds, reading it raises one of these (or nothing).
UNREADABLE = (
    HomeAssistantError,
    NotImplementedError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    IndexError,
)

type JsonDict = dict[str, Any]


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


def channel_to_dict(channel: StoredChannel) -> JsonDict:
    """Serialize one channel."""
    return {
        "calendar_id": channel.calendar_id,
        "channel_id": channel.channel_id,
        "resource_id": channel.resource_id,
        "token": channel.token,
        "expiration": channel.expiration.isoformat(),
    }


def parse_stored_data(raw: Any) -> tuple[StoredData, dict[str, str]]:
    """Parse the single store of earlier versions, leaving out what is unusable.

    Return what is usable and, per calendar or channel left out, why. Raise when
    the whole is of the wrong shape.
    """
    calendars: dict[str, CalendarSnapshot] = {}
    problems: dict[str, str] = {}
    for calendar_id, item in _mapping(_mapping(raw).get("calendars", {})).items():
        try:
            calendars[calendar_id] = _parse_calendar(calendar_id, item)
        except UNREADABLE as err:
            problems[f"calendar {calendar_id}"] = f"{err!r}, running a full sync"
    channels, channel_problems = _parse_channels(raw.get("channels", {}))
    return StoredData(calendars, channels), problems | channel_problems


def parse_index(
    raw: Any,
) -> tuple[dict[str, StoredChannel], list[str], dict[str, str]]:
    """Parse the index: channels, the calendars with a store, what is unusable."""
    raw = _mapping(raw)
    calendars = raw.get("calendars", [])
    if not isinstance(calendars, list):
        raise TypeError(f"calendars: expected a list, got {type(calendars).__name__}")
    channels, problems = _parse_channels(raw.get("channels", {}))
    return channels, [str(calendar_id) for calendar_id in calendars], problems


def _parse_channels(raw: Any) -> tuple[dict[str, StoredChannel], dict[str, str]]:
    """Parse stored channels, leaving out (and naming) the unusable ones."""
    channels: dict[str, StoredChannel] = {}
    problems: dict[str, str] = {}
    for key, item in _mapping(raw).items():
        try:
            channels[key] = StoredChannel(
                calendar_id=str(item["calendar_id"]),
                channel_id=str(item["channel_id"]),
                resource_id=str(item["resource_id"]),
                token=str(item["token"]),
                expiration=aware_datetime(item["expiration"]),
            )
        except UNREADABLE as err:
            problems[f"channel {key}"] = f"{err!r}, watching anew"
    return channels, problems


def _parse_calendar(calendar_id: str, item: Any) -> CalendarSnapshot:
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
        last_synced=aware_datetime(last_synced) if last_synced else None,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    """Return value if it is a mapping, else raise."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a mapping, got {type(value).__name__}")
    return value
