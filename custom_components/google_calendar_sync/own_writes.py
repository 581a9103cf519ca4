"""Our own writes to a calendar, as its syncs must see them: never as news."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
import contextlib
from datetime import datetime

from .google.diff import ChangeSet, EventChange, is_cancelled
from .google.model import Event, EventList
from .google.sync import CalendarSnapshot, EventSource, SyncResult


def _updated(event: Event) -> datetime | None:
    """Return when Google last changed an event, None if unknown."""
    try:
        return datetime.fromisoformat(str(event["updated"]))
    except KeyError, ValueError:
        return None


def _keep_our_writes(
    snapshot: CalendarSnapshot,
    changes: ChangeSet,
    written: Mapping[str, Event | None],
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
    ) -> EventList:
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


class OwnWrites:
    """Our writes to one calendar, as its syncs must see them: never as news.

    A write and the storing of its answer run in writing(). A sync lists through
    settled(), which ends a listing only once the writes in flight are stored, and
    between begin_listing() and end_listing() the answers stored are recorded, so
    that reconcile() puts back those a listing fetched before them undid.
    """

    def __init__(self) -> None:
        """Start with no write in flight and no listing."""
        self._in_flight = 0
        self._settled = asyncio.Event()
        self._settled.set()
        # id -> our event (None when deleted), while a listing is on its way.
        self._during_listing: dict[str, Event | None] | None = None

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Mark writes to Google whose answers are stored before leaving the block.

        A sync listing meanwhile waits for them, so it never announces our own
        writes as news. The block must not wait for a sync itself.
        """
        self._in_flight += 1
        self._settled.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._settled.set()

    def settled(self, api: EventSource) -> EventSource:
        """Return the API as a sync sees it: its last page waits for our writes."""
        return _SettledSource(api, self._settled.wait)

    def begin_listing(self) -> None:
        """Record our stored answers from now on: a listing is on its way."""
        self._during_listing = {}

    def end_listing(self) -> dict[str, Event | None]:
        """Stop recording; return what was recorded."""
        written, self._during_listing = self._during_listing or {}, None
        return written

    def store(
        self,
        stored: dict[str, Event],
        events: Iterable[Event],
        deleted_ids: Iterable[str] = (),
    ) -> set[str]:
        """Store Google's answers to our writes, then forget deleted events.

        A deleted series goes with its exceptions, found in one pass. Returns the
        ids written or deleted.
        """
        written = self._during_listing
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
            for event_id in [
                event_id
                for event_id, event in stored.items()
                if event_id in deleted or event.get("recurringEventId") in deleted
            ]:
                del stored[event_id]
        return touched

    @staticmethod
    def reconcile(result: SyncResult, written: Mapping[str, Event | None]) -> ChangeSet:
        """Return the changes of a sync that are news, our writes put back."""
        if not written:
            return result.changes
        return _keep_our_writes(
            result.snapshot, result.changes, written, full_sync=result.full_sync
        )
