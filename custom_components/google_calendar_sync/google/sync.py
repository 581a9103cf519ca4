"""Incremental sync of Google Calendar events into a local snapshot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import functools
import logging
from typing import Any, Protocol

import orjson

from .diff import ChangeSet, diff_events, is_cancelled, is_exception, time_of
from .entries import OnSkip
from .errors import GoogleGoneError
from .model import Event, EventList
from .recurrence import series_ends_before

_LOGGER = logging.getLogger(__name__)

# Events per page of a listing. Parsing a page holds the GIL in any thread, so
# the event loop waits for it: 1,000 events (0.8 MB) parse in about 6 ms, where
# Google's largest page (2,500) takes 15 ms or more. A full listing of 20,000
# events costs 20 requests instead of 8.
PAGE_SIZE = 1000
# Runs a function with arguments, maybe in another thread (the client's executor).
type Executor = Callable[..., Awaitable[Any]]


async def _run_here(func: Callable[..., Any], *args: Any) -> Any:
    """Run func on the caller's thread."""
    return func(*args)


class EventSource(Protocol):
    """The part of GoogleCalendarApi the sync engine needs."""

    async def list_events(
        self,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        page_token: str | None = None,
        time_min: datetime | None = None,
        show_deleted: bool | None = None,
        max_results: int = 2500,
    ) -> EventList:
        """Return one page of events.list."""


@dataclass(slots=True)
class CalendarSnapshot:
    """What we know about one calendar after the last successful sync."""

    sync_token: str | None = None
    events: dict[str, Event] = field(default_factory=dict)
    last_synced: datetime | None = None


@dataclass(frozen=True, slots=True)
class SyncResult:
    """Outcome of one sync: the new snapshot and what changed."""

    snapshot: CalendarSnapshot
    changes: ChangeSet
    full_sync: bool
    requests: int
    # The ids whose stored event may differ from the old snapshot's: the ids an
    # incremental listing named (the exceptions of a series go with it), or after
    # a full sync those whose event is not the very object the old one held.
    touched: frozenset[str] = frozenset()


def json_safe(value: Any) -> Any:
    """Return value, or a copy without what JSON cannot hold.

    Google's JSON may escape half of a UTF-16 surrogate pair alone, and Python
    parses integers of any size; neither can be written to the store or the
    bus. Lone surrogates become U+FFFD and oversized integers strings. The usual
    case costs one encoding.
    """
    try:
        orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return _json_safe_copy(value)
    return value


def _json_safe_copy(value: Any) -> Any:
    """Return a copy of value with lone surrogates and huge integers replaced."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {
            _json_safe_copy(key): _json_safe_copy(item) for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_json_safe_copy(item) for item in value]
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return str(value)
    return value


def malformed(item: object) -> str | None:
    """Return why an event resource cannot be stored, None if it can.

    Everything the snapshot relies on: an object with a text id, and a text
    recurringEventId if any. Times and recurrences are checked where they are
    indexed (timeline.py), so a bad one costs only that event.
    """
    if not isinstance(item, dict):
        return f"not an object ({type(item).__name__})"
    if not isinstance(item.get("id"), str) or not item["id"]:
        return "no id"
    if "recurringEventId" in item and not isinstance(item["recurringEventId"], str):
        return "recurringEventId is not text"
    return None


def _accepted(
    items: Iterable[Any], on_skip: OnSkip | None
) -> tuple[list[Event], set[str]]:
    """Split a listing into storable events and the ids of unusable ones."""
    good: list[Event] = []
    bad: set[str] = set()
    for item in items:
        if (reason := malformed(item)) is None:
            good.append(item)
            continue
        event_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(event_id, str):
            bad.add(event_id)
        if on_skip is not None:
            on_skip(event_id if isinstance(event_id, str) else None, item, reason)
    return good, bad


def apply_incremental(
    snapshot: CalendarSnapshot,
    items: Iterable[Event],
    sync_token: str | None,
    now: datetime,
    *,
    on_skip: OnSkip | None = None,
) -> tuple[CalendarSnapshot, ChangeSet]:
    """Apply an incremental listing to a snapshot; return a new snapshot and changes.

    An unusable item is skipped (reported to on_skip); an earlier version of it
    goes, so the snapshot never shows what Google no longer holds.
    """
    events = dict(snapshot.events)
    touched: dict[str, None] = {}
    removed_masters: set[str] = set()
    good, bad = _accepted(items, on_skip)
    for event_id in bad:
        touched[event_id] = None
        if events.pop(event_id, None) is not None:
            removed_masters.add(event_id)
    for item in good:
        event_id = item["id"]
        touched[event_id] = None
        if is_cancelled(item) and not is_exception(item):
            events.pop(event_id, None)
            removed_masters.add(event_id)
        else:
            events[event_id] = item
    _drop_orphaned_exceptions(events, removed_masters, touched)
    new_snapshot = CalendarSnapshot(sync_token, events, now)
    return new_snapshot, diff_events(snapshot.events, events, touched)


def apply_full(
    snapshot: CalendarSnapshot,
    items: Iterable[Event],
    sync_token: str | None,
    now: datetime,
    time_min: datetime | None = None,
    *,
    on_skip: OnSkip | None = None,
) -> tuple[CalendarSnapshot, ChangeSet]:
    """Replace a snapshot by a full listing; return a new snapshot and the changes.

    The snapshot becomes exactly what Google listed: events it no longer has go,
    past ones included. Old events that end before time_min (outside the sync
    window, so not listed) go silently: their absence is no news.
    """
    events: dict[str, Event] = {}
    good, listed = _accepted(items, on_skip)
    for item in good:
        listed.add(item["id"])
        if not is_cancelled(item) or is_exception(item):
            events[item["id"]] = item
    pruned = (
        {
            event_id
            for event_id, event in snapshot.events.items()
            if event_id not in listed and _ends_before(event, time_min)
        }
        if time_min is not None
        else set()
    )
    removed_masters = {
        event_id
        for event_id, event in snapshot.events.items()
        if not is_exception(event) and event_id not in events
    }
    removed_masters.update(item_id for item_id in listed if item_id not in events)
    touched = dict.fromkeys([*events, *snapshot.events])
    _drop_orphaned_exceptions(events, removed_masters, touched)
    new_snapshot = CalendarSnapshot(sync_token, events, now)
    reported = (event_id for event_id in touched if event_id not in pruned)
    return new_snapshot, diff_events(snapshot.events, events, reported)


async def async_sync_calendar(
    api: EventSource,
    calendar_id: str,
    snapshot: CalendarSnapshot,
    *,
    now: datetime,
    window: timedelta | None = None,
    on_skip: OnSkip | None = None,
    executor: Executor = _run_here,
) -> SyncResult:
    """Sync one calendar: incremental with the stored token, full when needed.

    Items that cannot be stored are skipped and reported to on_skip. A full
    listing keeps the stored object of every event Google lists unchanged (same
    etag), and is compared with the old snapshot through executor, on a copy:
    the caller may change the snapshot's events meanwhile.
    """
    counter = _Counter()
    if snapshot.sync_token is not None:
        try:
            items, token = await _async_list_all(
                api, calendar_id, counter, sync_token=snapshot.sync_token
            )
        except GoogleGoneError:
            _LOGGER.info(
                "Sync token of calendar %s expired, running a full sync", calendar_id
            )
        else:
            new_snapshot, changes = apply_incremental(
                snapshot, items, token, now, on_skip=on_skip
            )
            touched = frozenset(
                item["id"]
                for item in items
                if isinstance(item, dict) and isinstance(item.get("id"), str)
            )
            return SyncResult(new_snapshot, changes, False, counter.value, touched)
    time_min = now - window if window is not None else None
    items, token = await _async_list_all(
        api,
        calendar_id,
        counter,
        time_min=time_min,
        show_deleted=True,
        known=snapshot.events,
    )
    copy = CalendarSnapshot(
        snapshot.sync_token, dict(snapshot.events), snapshot.last_synced
    )
    new_snapshot, changes, touched = await executor(
        functools.partial(
            _compare_full, copy, items, token, now, time_min, on_skip=on_skip
        )
    )
    return SyncResult(new_snapshot, changes, True, counter.value, touched)


def _compare_full(
    snapshot: CalendarSnapshot,
    items: list[Event],
    sync_token: str | None,
    now: datetime,
    time_min: datetime | None,
    *,
    on_skip: OnSkip | None,
) -> tuple[CalendarSnapshot, ChangeSet, frozenset[str]]:
    """Apply a full listing; also return the ids whose stored object changed."""
    new_snapshot, changes = apply_full(
        snapshot, items, sync_token, now, time_min, on_skip=on_skip
    )
    old, new = snapshot.events, new_snapshot.events
    touched = frozenset(
        event_id
        for events in (old, new)
        for event_id in events
        if old.get(event_id) is not new.get(event_id)
    )
    return new_snapshot, changes, touched


class _Counter:
    """Count requests, also the ones that end in an error."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


async def _async_list_all(
    api: EventSource,
    calendar_id: str,
    counter: _Counter,
    *,
    sync_token: str | None = None,
    time_min: datetime | None = None,
    show_deleted: bool | None = None,
    known: Mapping[str, Event] | None = None,
) -> tuple[list[Event], str | None]:
    """Fetch every page of one listing; return the items and nextSyncToken.

    An item with the etag of its known event is that event: the known object is
    kept, and the parsed copy is dropped with its page.
    """
    items: list[Event] = []
    page_token: str | None = None
    while True:
        counter.value += 1
        page = await api.list_events(
            calendar_id,
            sync_token=sync_token,
            page_token=page_token,
            time_min=time_min,
            show_deleted=show_deleted,
            max_results=PAGE_SIZE,
        )
        listed: list[Any] = page.get("items") or []
        kept = [_unchanged(item, known) for item in listed] if known else []
        if any(kept):
            fresh = iter(
                json_safe(
                    [
                        item
                        for item, old in zip(listed, kept, strict=True)
                        if old is None
                    ]
                )
            )
            listed = [old if old is not None else next(fresh) for old in kept]
        else:
            listed = json_safe(listed)
        items.extend(listed)
        page_token = page.get("nextPageToken")
        if not page_token:
            return items, page.get("nextSyncToken")


def _unchanged(item: Any, known: Mapping[str, Event]) -> Event | None:
    """Return the known event an item lists again unchanged (same etag), if any."""
    if not isinstance(item, dict) or (etag := item.get("etag")) is None:
        return None
    old = known.get(str(item.get("id")))
    return old if old is not None and old.get("etag") == etag else None


def _drop_orphaned_exceptions(
    events: dict[str, Event],
    removed_masters: set[str],
    touched: dict[str, None],
) -> None:
    """Remove the exceptions of deleted recurring events, in place."""
    if not removed_masters:
        return
    for event_id in [
        event_id
        for event_id, event in events.items()
        if event.get("recurringEventId") in removed_masters
    ]:
        del events[event_id]
        touched[event_id] = None


def _ends_before(event: Event, bound: datetime) -> bool:
    """Return True if nothing of the event reaches bound (exclusive)."""
    if is_exception(event) and is_cancelled(event) and "end" not in event:
        edge = time_of(event.get("originalStartTime"))
    else:
        edge = time_of(event.get("end"))
    if edge is None:
        return False
    if edge > bound:
        return False
    if event.get("recurrence"):
        return series_ends_before(event, bound)
    return True
