"""What changed between two snapshots: created, updated and cancelled events.

An exception of a recurring event is news only where it changes the instance
the series showed; a cancelled instance is described with its series' texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
import logging
from typing import cast

from .entries import BAD_EVENT_DATA
from .model import Event, EventDateTime, parse_time

_LOGGER = logging.getLogger(__name__)

STATUS_CANCELLED = "cancelled"


# Bookkeeping fields that change on every write but mean nothing to a user.
NON_USER_FIELDS = frozenset(
    {"kind", "etag", "updated", "sequence", "created", "htmlLink", "iCalUID", "id"}
)


class ChangeKind(StrEnum):
    """Kind of change found by a sync."""

    CREATED = "created"
    UPDATED = "updated"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class EventChange:
    """One changed event."""

    kind: ChangeKind
    event: Event
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """All changes found by one sync."""

    created: tuple[EventChange, ...] = ()
    updated: tuple[EventChange, ...] = ()
    cancelled: tuple[EventChange, ...] = ()

    def __iter__(self) -> Iterator[EventChange]:
        """Iterate over created, then updated, then cancelled changes."""
        yield from self.created
        yield from self.updated
        yield from self.cancelled

    def __len__(self) -> int:
        """Return the number of changes."""
        return len(self.created) + len(self.updated) + len(self.cancelled)

    def counts(self) -> dict[str, int]:
        """Return the number of changes per kind."""
        return {
            ChangeKind.CREATED.value: len(self.created),
            ChangeKind.UPDATED.value: len(self.updated),
            ChangeKind.CANCELLED.value: len(self.cancelled),
        }


def is_exception(event: Event) -> bool:
    """Return True for an instance exception of a recurring event."""
    return "recurringEventId" in event


def is_cancelled(event: Event) -> bool:
    """Return True if Google marks the event as cancelled."""
    return event.get("status") == STATUS_CANCELLED


def changed_fields(old: Event, new: Event) -> tuple[str, ...]:
    """Return the user-visible top-level fields that differ between two versions."""
    return tuple(
        sorted(
            key
            for key in old.keys() | new.keys()
            if key not in NON_USER_FIELDS and old.get(key) != new.get(key)
        )
    )


def diff_events(
    old: Mapping[str, Event],
    new: Mapping[str, Event],
    ids: Iterable[str],
) -> ChangeSet:
    """Compare two event maps on the given ids and classify every difference."""
    created: list[EventChange] = []
    updated: list[EventChange] = []
    cancelled: list[EventChange] = []
    for event_id in ids:
        before = old.get(event_id)
        after = new.get(event_id)
        if after is None:
            # An exception disappearing with its master is covered by the master;
            # a cancelled exception disappearing was already reported.
            if before is None or is_cancelled(before):
                continue
            master_id = before.get("recurringEventId")
            if master_id is not None and master_id not in new and master_id in old:
                continue
            cancelled.append(EventChange(ChangeKind.CANCELLED, before))
        elif before is None:
            if is_cancelled(after):
                # An instance of a series that is itself new was never shown.
                if _master_is_new(after, old, new):
                    continue
                cancelled.append(
                    EventChange(ChangeKind.CANCELLED, _describe_cancelled(after, new))
                )
            elif (generated := _generated_instance(after, old)) is not None:
                # A first exception changes an instance we already showed.
                updated.append(
                    EventChange(
                        ChangeKind.UPDATED, after, _instance_changes(generated, after)
                    )
                )
            else:
                created.append(EventChange(ChangeKind.CREATED, after))
        elif before.get("etag") == after.get("etag") and before.get("etag") is not None:
            continue
        elif is_cancelled(after) and not is_cancelled(before):
            cancelled.append(EventChange(ChangeKind.CANCELLED, {**before, **after}))
        elif (fields := changed_fields(before, after)) or before.get(
            "etag"
        ) != after.get("etag"):
            updated.append(EventChange(ChangeKind.UPDATED, after, fields))
    return ChangeSet(tuple(created), tuple(updated), tuple(cancelled))


def _describe_cancelled(event: Event, events: Mapping[str, Event]) -> Event:
    """Fill a bare cancelled instance with its master's texts and its own times."""
    master = events.get(event["recurringEventId"])
    original = event.get("originalStartTime")
    if master is None or original is None:
        return event
    described: Event = {}
    for key in ("summary", "description", "location"):
        if key in master:
            described[key] = master[key]
    described.update(event)
    described.setdefault("start", original)
    if "end" not in described and (end := _shifted_end(master, original)):
        described["end"] = end
    return described


def _master_is_new(
    event: Event,
    old: Mapping[str, Event],
    new: Mapping[str, Event],
) -> bool:
    """Return True if the event's recurring master appeared in this sync."""
    master_id = event.get("recurringEventId")
    return master_id is not None and master_id in new and master_id not in old


def _generated_instance(event: Event, events: Mapping[str, Event]) -> Event | None:
    """Return the instance the master generated where an exception now stands."""
    if (master_id := event.get("recurringEventId")) is None:
        return None
    master = events.get(master_id)
    original = event.get("originalStartTime")
    if master is None or original is None:
        return None
    # The master's own fields, less its bookkeeping and its rule.
    generated = cast(
        "Event",
        {
            key: value
            for key, value in master.items()
            if key not in NON_USER_FIELDS and key != "recurrence"
        },
    )
    generated["start"] = original
    if (end := _shifted_end(master, original)) is not None:
        generated["end"] = end
    return generated


def _instance_changes(generated: Event, exception: Event) -> tuple[str, ...]:
    """Return the fields an exception changes on its generated instance."""
    fields = []
    for key in changed_fields(generated, exception):
        if key in ("recurringEventId", "originalStartTime"):
            continue
        if key in ("start", "end") and _same_time(
            generated.get(key, {}), exception.get(key, {})
        ):
            continue
        fields.append(key)
    return tuple(fields)


def _same_time(first: object, second: object) -> bool:
    """Return True if two Google start/end values are the same moment."""
    if not isinstance(first, Mapping) or not isinstance(second, Mapping):
        return bool(first == second)
    return time_of(first) == time_of(second) and (
        ("date" in first) == ("date" in second)
    )


def _shifted_end(master: Event, original: object) -> EventDateTime | None:
    """Return the end of the instance starting at original, from the master's length."""
    start, end = master.get("start"), master.get("end")
    if not (
        isinstance(original, Mapping)
        and isinstance(start, Mapping)
        and isinstance(end, Mapping)
    ):
        return None
    try:
        if "date" in original and "date" in start and "date" in end:
            length = date.fromisoformat(end["date"]) - date.fromisoformat(start["date"])
            return {"date": (date.fromisoformat(original["date"]) + length).isoformat()}
        if "dateTime" in original and "dateTime" in start and "dateTime" in end:
            length = datetime.fromisoformat(end["dateTime"]) - datetime.fromisoformat(
                start["dateTime"]
            )
            result: EventDateTime = {
                "dateTime": (
                    datetime.fromisoformat(original["dateTime"]) + length
                ).isoformat()
            }
            if "timeZone" in original:
                result["timeZone"] = original["timeZone"]
            return result
    except BAD_EVENT_DATA:
        _LOGGER.debug("Unparsable times on %s", master.get("id"))
    return None


def time_of(value: object) -> datetime | None:
    """Return an aware datetime for a Google start/end (dates at UTC midnight)."""
    if not isinstance(value, Mapping):
        return None
    try:
        moment = parse_time(value, UTC)
    except BAD_EVENT_DATA:
        return None
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, datetime.min.time(), UTC)
