"""Local index of a calendar snapshot: range queries, updated in place.

The index holds single events sorted by start, long events apart, and one
recurring Series per master (recurrence.py expands them). A sync or a local
write that changes k events updates it in O(k log n) comparisons (update), and
only the series whose master or exceptions changed are expanded again.

Threads: a timeline is changed only on the event loop, and read there; one that
is built or warmed in the executor is published to the loop only when ready.
A new timeline may reuse the series of the published one (their expansions):
a series busy expanding in one thread answers another from its rules.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
import logging

from .conversions import Hide, Prepared, overlapping, prepare_range
from .entries import (
    BAD_EVENT_DATA,
    Bounds,
    Entry,
    OnSkip,
    TimelineEvent,
    original_key,
    sort_key,
)
from .model import Event, zone_named
from .recurrence import Series
from .skipped import unusable

_LOGGER = logging.getLogger(__name__)

# Single events longer than this live in a short list scanned in full, so the
# sorted index only needs to look back this far for events overlapping a range.
_LONG_EVENT = timedelta(days=7).total_seconds()
# More new single events than this in one update are sorted in at once.
_BULK = 64
# Ranges whose answers a timeline keeps until it changes.
_ANSWERS = 8


class CalendarTimeline:
    """Answer range queries over a snapshot's events without network access."""

    def __init__(
        self,
        events: Iterable[Event] = (),
        *,
        default_time_zone: str,
        on_skip: OnSkip | None = None,
        reuse: Mapping[str, Series] | None = None,
    ) -> None:
        """Index the events of a snapshot.

        An event that cannot be shown (missing or unparsable times, end before
        start, a bad recurrence, texts that are not text) is left out and
        reported to on_skip (else logged), here or when a query first meets it.
        Series of reuse (by master id; see series) keep their expansions when
        their master and exceptions are the same here.
        """
        self._tz = zone_named(default_time_zone) or UTC
        self._on_skip = on_skip
        self._bounds = Bounds(self._tz)
        # Shown single events and exceptions: all by id, and sorted by start
        # (short ones) or apart (long ones).
        self._entries: dict[str, Entry] = {}
        self._short: list[Entry] = []
        self._short_starts: list[float] = []
        self._long: dict[str, Entry] = {}
        # Recurring events, their series, and the instances their exceptions
        # replace (master id -> exception id -> original start).
        self._masters: dict[str, Event] = {}
        self._series: dict[str, Series] = {}
        self._overrides: dict[str, dict[str, float | date]] = {}
        self._master_of: dict[str, str] = {}
        self._reuse = reuse or {}
        self._answers: dict[tuple[float, float, Hide | None], list[Entry]] = {}
        # Counts updates: an answer prepared in the executor holds for one.
        self._version = 0
        # What active_or_next found, and for which moment, per hide.
        self._next: dict[Hide | None, tuple[float, Entry | None]] = {}
        self.update(events)
        self._reuse = {}

    @property
    def series(self) -> dict[str, Series]:
        """Return a copy of the series by master id, for a rebuild to reuse."""
        return dict(self._series)

    def update(self, events: Iterable[Event], removed: Iterable[str] = ()) -> None:
        """Replace what the index holds for some event ids, in place.

        The ids of removed and of events are forgotten first, then events are
        indexed: the index then answers as a new timeline of the same events
        would. Costs O(k log n) comparisons for k events; a series is expanded
        anew only when its master or its exceptions changed. Call it on the
        loop, the only thread that reads a published timeline.
        """
        self._answers.clear()
        self._version += 1
        latest: dict[str, Event] = {}
        for event in events:
            if isinstance(event_id := event.get("id"), str):
                latest[event_id] = event
            else:
                self._skip(event, "it has no id")
        touched: set[str] = set()
        for event_id in (*removed, *latest):
            self._forget(event_id, touched)
        fresh: list[Entry] = []
        for event in latest.values():
            self._index(event, touched, fresh)
        short = [entry for entry in fresh if entry.uid not in self._long]
        if len(short) > _BULK:
            if self._short:
                self._short.extend(short)
            else:
                self._short = short
            self._short.sort(key=sort_key)
            self._short_starts = [entry.start_ts for entry in self._short]
        else:
            for entry in short:
                index = bisect_left(self._short, sort_key(entry), key=sort_key)
                self._short.insert(index, entry)
                self._short_starts.insert(index, entry.start_ts)
        expanded = [
            series
            for master_id in touched
            if (series := self._expand(master_id)) is not None
        ]
        if self._next:
            self._update_next(fresh, expanded)

    def _forget(self, event_id: str, touched: set[str]) -> None:
        """Remove everything an event id put in the index."""
        entry = self._entries.pop(event_id, None)
        if entry is not None and self._long.pop(event_id, None) is None:
            index = bisect_left(self._short, sort_key(entry), key=sort_key)
            del self._short[index]
            del self._short_starts[index]
        if self._masters.pop(event_id, None) is not None:
            touched.add(event_id)
        if (master_id := self._master_of.pop(event_id, None)) is not None:
            touched.add(master_id)
            overrides = self._overrides.get(master_id, {})
            overrides.pop(event_id, None)
            if not overrides:
                self._overrides.pop(master_id, None)

    def _index(self, event: Event, touched: set[str], fresh: list[Entry]) -> None:
        """Index one event; new single events are left in fresh (short ones to sort in)."""
        if event.get("status") == "cancelled" and "recurringEventId" not in event:
            return
        if (problem := unusable(event)) is not None:
            self._skip(event, problem)
            return
        event_id: str = event["id"]
        if (master_id := event.get("recurringEventId")) is not None:
            self._master_of[event_id] = master_id
            touched.add(master_id)
            key = original_key(event.get("originalStartTime"), self._tz)
            if key is not None:
                self._overrides.setdefault(master_id, {})[event_id] = key
            if event.get("status") == "cancelled":
                return
        elif event.get("recurrence"):
            self._masters[event_id] = event
            touched.add(event_id)
            return
        if (entry := self._entry(event)) is None:
            return
        self._entries[event_id] = entry
        if entry.end_ts - entry.start_ts > _LONG_EVENT:
            self._long[event_id] = entry
        fresh.append(entry)

    def _expand(self, master_id: str) -> Series | None:
        """Make the series of a master agree with it and its exceptions.

        Returns the series, None when the master is gone or cannot be expanded.
        """
        previous = self._series.pop(master_id, None) or self._reuse.get(master_id)
        if (master := self._masters.get(master_id)) is None:
            return None
        overrides = frozenset(self._overrides.get(master_id, {}).values())
        series = previous.reused_for(master, overrides, self._tz) if previous else None
        if series is None:
            try:
                series = Series(master, overrides, self._tz)
            except BAD_EVENT_DATA as err:
                self._skip(master, f"cannot expand its recurrence: {err}")
                return None
        self._series[master_id] = series
        return series

    def overlapping(
        self, start: datetime, end: datetime, *, hide: Hide | None = None
    ) -> list[TimelineEvent]:
        """Return the events overlapping [start, end), sorted by start.

        hide leaves out the events whose Google event (the master of generated
        instances) it picks.
        """
        return [
            event
            for entry in self._overlapping(start, end, hide)
            if (event := self._built(entry)) is not None
        ]

    def converted[T](
        self,
        start: datetime,
        end: datetime,
        convert: Callable[[TimelineEvent], T],
    ) -> list[T]:
        """Return convert(event) of the events overlapping [start, end), sorted.

        Each entry remembers what convert made of it, so a repeated query costs
        little more than the lookup; a changed event is a new entry.
        """
        found: list[T] = []
        for entry in self._overlapping(start, end):
            try:
                found.append(entry.converted(convert))
            except BAD_EVENT_DATA as err:
                self._skip(entry.source, f"unreadable: {err}", entry.uid)
        return found

    def prepare[T](
        self, start: datetime, end: datetime, convert: Callable[[TimelineEvent], T]
    ) -> Callable[[], Prepared] | None:
        """Return what readies a first query of [start, end): work for the executor.

        A range no query asked yet may need its series expanded and its events
        found and converted, which can take a second for a large calendar. The
        work reads copies of the index's lists, the series (each behind its lock)
        and the entries of the range, so the loop may go on changing and reading
        the index; keep then makes its answer the range's. None when the range
        was answered since the last change.
        """
        start_ts = self._bounds.timestamp(start)
        end_ts = self._bounds.timestamp(end)
        if (start_ts, end_ts, None) in self._answers:
            return None
        singles = self._singles_near(start_ts, end_ts)
        series = list(self._series.values())
        version = self._version
        return lambda: prepare_range(
            singles, series, start_ts, end_ts, convert, version
        )

    def keep(self, prepared: Prepared) -> None:
        """Answer a range with what was prepared, unless the index changed since."""
        if prepared.version == self._version and prepared.entries is not None:
            self._remember((prepared.start_ts, prepared.end_ts, None), prepared.entries)

    def _overlapping(
        self, start: datetime, end: datetime, hide: Hide | None = None
    ) -> list[Entry]:
        """Return the entries overlapping [start, end), sorted by start.

        The answers to the last few ranges are kept until the index changes:
        the calendar card asks for the same month again and again. Callers do
        not change the list.
        """
        start_ts = self._bounds.timestamp(start)
        end_ts = self._bounds.timestamp(end)
        if (known := self._answers.get((start_ts, end_ts, hide))) is not None:
            return known
        found = overlapping(
            self._singles_near(start_ts, end_ts),
            self._series.values(),
            start_ts,
            end_ts,
            hide=hide,
            on_error=self._unexpandable,
        )
        self._remember((start_ts, end_ts, hide), found)
        return found

    def _singles_near(self, start_ts: float, end_ts: float) -> list[Entry]:
        """Return the single events that may overlap [start_ts, end_ts)."""
        low = bisect_left(self._short_starts, start_ts - _LONG_EVENT)
        high = bisect_left(self._short_starts, end_ts)
        return [*self._short[low:high], *self._long.values()]

    def _remember(
        self, key: tuple[float, float, Hide | None], found: list[Entry]
    ) -> None:
        """Keep the answer to a range, forgetting the oldest one kept."""
        if len(self._answers) >= _ANSWERS:
            del self._answers[next(iter(self._answers))]
        self._answers[key] = found

    def warm(
        self,
        now: datetime,
        *,
        before: timedelta = timedelta(days=31),
        after: timedelta = timedelta(days=62),
    ) -> None:
        """Expand the series and build the events around now ahead of queries.

        Meant for the executor, before the timeline is published: the first
        query of a fresh timeline (after a restart, every series is expanded
        from scratch) then reads caches.
        """
        self.overlapping(now - before, now + after)
        self.active_or_next(now)

    def active_or_next(
        self, now: datetime, *, hide: Hide | None = None
    ) -> TimelineEvent | None:
        """Return the event in progress at now, or else the next one to start.

        hide leaves out events as in overlapping. The answer is kept: it stays
        the answer until it ends (later events only drop out as time passes),
        and updates compare it with what they add.
        """
        now_ts = self._bounds.timestamp(now)
        known = self._next.get(hide)
        if (
            known is None
            or now_ts < known[0]
            or (known[1] is not None and known[1].end_ts <= now_ts)
        ):
            known = (now_ts, self._first_after(now_ts, hide))
            self._next[hide] = known
        return self._built(known[1]) if known[1] is not None else None

    def _first_after(self, now_ts: float, hide: Hide | None) -> Entry | None:
        """Return the first entry (that can be built) ending after now_ts."""
        candidates: list[Entry] = []
        index = bisect_left(self._short_starts, now_ts - _LONG_EVENT)
        upcoming = (
            entry
            for entry in self._short[index:]
            if entry.end_ts > now_ts and (hide is None or not hide(entry.source))
        )
        if (first := next(upcoming, None)) is not None:
            candidates.append(first)
        candidates.extend(
            entry
            for entry in self._long.values()
            if entry.end_ts > now_ts and (hide is None or not hide(entry.source))
        )
        candidates.extend(self._series_after(now_ts, hide, self._series.values()))
        return self._first_built(candidates)

    def _series_after(
        self, now_ts: float, hide: Hide | None, series: Iterable[Series]
    ) -> Iterator[Entry]:
        """Yield the first instance ending after now_ts of each series."""
        for one in series:
            if hide is not None and hide(one.master):
                continue
            try:
                found = one.first_ending_after(now_ts)
            except BAD_EVENT_DATA as err:
                self._unexpandable(one, err)
                continue
            if found is not None:
                yield found

    def _first_built(self, candidates: list[Entry]) -> Entry | None:
        """Return the earliest candidate whose event can be built."""
        candidates.sort(key=sort_key)
        return next(
            (entry for entry in candidates if self._built(entry) is not None), None
        )

    def _update_next(self, fresh: list[Entry], expanded: list[Series]) -> None:
        """Compare the kept next events with what an update added."""
        for hide, (since, entry) in list(self._next.items()):
            if entry is not None and not self._holds(entry):
                del self._next[hide]
                continue
            candidates = [
                new
                for new in fresh
                if new.end_ts > since and (hide is None or not hide(new.source))
            ]
            candidates.extend(self._series_after(since, hide, expanded))
            if entry is not None:
                candidates.append(entry)
            self._next[hide] = (since, self._first_built(candidates))

    def _holds(self, entry: Entry) -> bool:
        """Return whether the entry is still part of the index."""
        if (series := entry.series) is not None:
            return self._series.get(series.master["id"]) is series
        return self._entries.get(entry.uid) is entry

    def _built(self, entry: Entry) -> TimelineEvent | None:
        """Return the entry's event, None (reported) if its data cannot make one."""
        try:
            return entry.event
        except BAD_EVENT_DATA as err:
            self._skip(entry.source, f"unreadable: {err}", entry.uid)
            return None

    def _unexpandable(self, series: Series, err: Exception) -> None:
        """Report a series whose recurrence cannot be expanded."""
        self._skip(series.master, f"cannot expand its recurrence: {err}")

    def _skip(self, event: Event, reason: str, uid: str | None = None) -> None:
        """Report an event left out of this timeline (log it without on_skip)."""
        if self._on_skip is not None:
            self._on_skip(uid or event.get("id"), event, reason)
        else:
            _LOGGER.warning(
                "Skipping event %.200s: %.200s", uid or event.get("id"), reason
            )

    def _entry(self, event: Event) -> Entry | None:
        """Build the index entry of a single event or exception."""
        try:
            start_ts = self._bounds.of(event["start"])
            end_ts = self._bounds.of(event["end"])
        except BAD_EVENT_DATA as err:
            self._skip(event, f"unreadable times: {err!r}")
            return None
        if end_ts < start_ts:
            self._skip(event, "ends before it starts")
            return None
        return Entry(start_ts, end_ts, event["id"], raw=event, tz=self._tz)
