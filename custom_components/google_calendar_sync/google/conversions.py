"""Converting timeline entries ahead of queries, in the executor or in batches.

An entry keeps what a converter made of it (Entry.converted): these fill that
cache so that the query that follows costs little more than its lookup. Events
that cannot be built are left to the query, which reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress

from .entries import BAD_EVENT_DATA, Entry, TimelineEvent
from .recurrence import Series


def convert_range[T](
    singles: Iterable[Entry],
    series: Iterable[Series],
    start_ts: float,
    end_ts: float,
    convert: Callable[[TimelineEvent], T],
) -> None:
    """Convert single events and the instances of series in [start_ts, end_ts).

    Touches only the series (each behind its lock) and the entries, never the
    timeline's index: fit for the executor while the loop reads the index.
    """
    for entry in singles:
        with suppress(*BAD_EVENT_DATA):
            entry.converted(convert)
    for one in series:
        with suppress(*BAD_EVENT_DATA):
            for entry in one.overlapping(start_ts, end_ts):
                with suppress(*BAD_EVENT_DATA):
                    entry.converted(convert)


def convert_in_batches[T](
    entries: Iterable[Entry], convert: Callable[[TimelineEvent], T], batch: int
) -> Iterator[None]:
    """Convert entries, pausing after each batch so the loop can do other work."""
    for index, entry in enumerate(entries, 1):
        with suppress(*BAD_EVENT_DATA):
            entry.converted(convert)
        if not index % batch:
            yield
