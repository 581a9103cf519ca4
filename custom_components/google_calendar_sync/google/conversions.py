"""A range's entries found and converted, on the loop or ahead of it in the executor.

An entry keeps what a converter made of it (Entry.converted): a range prepared in
the executor (its series expanded, its entries found and converted) leaves the
query that follows little more than a lookup. Events that cannot be built are
left to the query, which reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass

from .entries import BAD_EVENT_DATA, Entry, TimelineEvent, sort_key
from .model import Event
from .recurrence import Series

# Picks the events a query leaves out, by their Google event.
type Hide = Callable[[Event], bool]
# Told of a series that cannot be expanded, and why.
type OnUnexpandable = Callable[[Series, Exception], None]


def overlapping(
    singles: Iterable[Entry],
    series: Iterable[Series],
    start_ts: float,
    end_ts: float,
    *,
    hide: Hide | None,
    on_error: OnUnexpandable,
) -> list[Entry]:
    """Return the entries overlapping [start_ts, end_ts), sorted by start.

    singles are single events and exceptions (any may be out of the range),
    series give their instances. hide leaves out the events whose Google event
    (the master of instances) it picks.
    """
    found = [
        entry
        for entry in singles
        if entry.start_ts < end_ts
        and (entry.end_ts > start_ts or entry.end_ts == entry.start_ts == start_ts)
    ]
    for one in series:
        if hide is not None and hide(one.master):
            continue
        try:
            found.extend(one.overlapping(start_ts, end_ts))
        except BAD_EVENT_DATA as err:
            on_error(one, err)
    if hide is not None:
        found = [entry for entry in found if not hide(entry.source)]
    found.sort(key=sort_key)
    return found


@dataclass(frozen=True, slots=True)
class Prepared:
    """A range's entries, found and converted ahead of its query.

    version is the index's at the time: the answer holds only while it is the
    same. entries is None when a series could not be expanded: the query finds
    it again and reports it.
    """

    start_ts: float
    end_ts: float
    version: int
    entries: list[Entry] | None


def prepare_range[T](  # noqa: PLR0917
    singles: Iterable[Entry],
    series: Iterable[Series],
    start_ts: float,
    end_ts: float,
    convert: Callable[[TimelineEvent], T],
    version: int,
) -> Prepared:
    """Find and convert the entries of [start_ts, end_ts).

    Touches only the series (each behind its lock) and the entries, never the
    timeline's index: fit for the executor while the loop reads the index.
    """
    failed: list[Series] = []
    entries = overlapping(
        singles,
        series,
        start_ts,
        end_ts,
        hide=None,
        on_error=lambda one, _err: failed.append(one),
    )
    for entry in entries:
        with suppress(*BAD_EVENT_DATA):
            entry.converted(convert)
    return Prepared(start_ts, end_ts, version, None if failed else entries)
