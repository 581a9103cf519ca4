"""Local index of a calendar snapshot: recurrence expansion and range queries."""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import islice
import logging
import threading
import time
from typing import Any

from dateutil.rrule import rrule, rrulebase, rruleset, rrulestr

from .meet import meet_link, shown_description
from .model import instance_suffix, parse_time, zone_named

_LOGGER = logging.getLogger(__name__)

# What malformed event data raises while it is indexed, expanded or built: one
# such event is skipped, never the calendar (OSError: a 300-character zone name).
BAD_EVENT_DATA: tuple[type[Exception], ...] = (
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
    OSError,
)
# Told about every event left out: (event or instance id if any, resource, reason).
type OnSkip = Callable[[str | None, Any, str], None]

# Single events longer than this live in a short list scanned in full, so the
# sorted index only needs to look back this far for events overlapping a range.
_LONG_EVENT = timedelta(days=7).total_seconds()
# Recurrence instances are expanded and cached in buckets of this many seconds.
_BUCKET = 86400
# Days of expansions a series keeps before starting over.
_MAX_BUCKETS = 3 * 366
# Bounds of recurrence expansion: no rule (FREQ=SECONDLY, COUNT=3000000, 10,000
# EXDATEs) costs more than these, whatever the calendar holds.
# - One query returns at most _MAX_INSTANCES instances of a series (its earliest
#   ones in the range): about 2 MB of events.
# - One query looks at most _MAX_SCAN dates of the rules (about 0.2 s of dateutil
#   on a slow machine); the start of the rules is moved close to the query first
#   (_Series._shift_to), so only rules that cannot be moved (several rules of
#   months and of days at once) ever reach it, far from their start.
# - A series keeps at most _MAX_CACHED instances between queries (about 3 MB).
# - A COUNT rule shows at most its first _MAX_COUNT instances, counted once per
#   series (about 0.5 s).
_MAX_INSTANCES = 5_000
_MAX_SCAN = 100_000
_MAX_CACHED = 10_000
_MAX_COUNT = 100_000
# Slack between a moment and its wall-clock time in the rules' zone, more than
# any DST change: instances are generated in wall-clock time.
_MARGIN = timedelta(hours=3)
# Timelines are built and warmed in the executor while the loop queries the
# previous one: the caches below are shared across threads. Single dict
# operations are atomic; the series cache and each series take a lock.
_INSTANT_CACHE_SIZE = 200_000
_INSTANT_CACHE: dict[str, float] = {}
_SERIES_CACHE_SIZE = 4096
_SERIES_CACHE_LOCK = threading.Lock()
_SERIES_CACHE: OrderedDict[tuple[str, str, frozenset[float | date], str], _Series] = (
    OrderedDict()
)
# Frequency -> (counted in months, unit length, base period that aligns the grid).
# Months for MONTHLY and YEARLY, seconds for the others.
_WEEK = 7 * 86400
_PERIOD_UNITS = {
    "SECONDLY": (False, 1, 1),
    "MINUTELY": (False, 60, 1),
    "HOURLY": (False, 3600, 1),
    "DAILY": (False, 86400, _WEEK),
    "WEEKLY": (False, _WEEK, _WEEK),
    "MONTHLY": (True, 1, 12),
    "YEARLY": (True, 12, 12),
}


class SkippedEvents:
    """Warn once per version of each event of a calendar that cannot be shown.

    Timelines are rebuilt after every sync and read on every query: without this
    the same warning would repeat. Called from the loop and the executor.
    """

    def __init__(self, calendar: str) -> None:
        """Start with nothing reported for the calendar."""
        self._calendar = calendar
        self._seen: set[tuple[str | None, str | None]] = set()
        self._lock = threading.Lock()

    def __call__(self, event_id: str | None, event: Any, reason: str) -> None:
        """Log a warning the first time a version of an event is skipped."""
        source_id = event.get("id") if isinstance(event, Mapping) else None
        etag = event.get("etag") if isinstance(event, Mapping) else None
        key = (
            source_id if isinstance(source_id, str) else event_id,
            etag if isinstance(etag, str) else None,
        )
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        _LOGGER.warning(
            "Skipping event %.200s of calendar %s, which Home Assistant cannot "
            "show: %.200s",
            event_id or "without an id",
            self._calendar,
            reason,
        )


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One event or generated instance, ready for Home Assistant."""

    uid: str
    recurring_event_id: str | None
    recurrence_id: str | None
    rrule: str | None
    summary: str
    description: str | None
    location: str | None
    start: date | datetime
    end: date | datetime
    source: dict[str, Any]


class _Entry:
    """An event's bounds as UTC timestamps; the TimelineEvent is built on demand."""

    __slots__ = (
        "_event",
        "_local",
        "_raw",
        "_series",
        "_tz",
        "end_ts",
        "start_ts",
        "uid",
    )

    def __init__(
        self,
        start_ts: float,
        end_ts: float,
        uid: str,
        *,
        raw: dict[str, Any] | None = None,
        tz: tzinfo = UTC,
        series: _Series | None = None,
        local: datetime | None = None,
    ) -> None:
        """Store the bounds and what builds the event: a raw event or an instance."""
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.uid = uid
        self._event: TimelineEvent | None = None
        self._raw = raw
        self._tz = tz
        self._series = series
        self._local = local

    @property
    def source(self) -> Mapping[str, Any]:
        """Return the Google event the entry comes from (the master of instances)."""
        if self._series is not None:
            return self._series.master
        return self._raw or {}

    @property
    def event(self) -> TimelineEvent:
        """Return the TimelineEvent, building it the first time."""
        if self._event is None and self._series is not None and self._local:
            self._event = self._series.build(self._local, self.uid)
        if self._event is None:
            raw = self._raw or {}
            master_id = raw.get("recurringEventId")
            self._event = _timeline_event(
                raw,
                raw["id"],
                master_id,
                _recurrence_suffix(raw.get("originalStartTime", {}), self._tz)
                if master_id
                else None,
                None,
                parse_time(raw["start"], self._tz),
                parse_time(raw["end"], self._tz),
            )
        return self._event


class CalendarTimeline:
    """Answer range queries over a snapshot's events without network access."""

    def __init__(
        self,
        events: Iterable[dict[str, Any]],
        *,
        default_time_zone: str,
        on_skip: OnSkip | None = None,
    ) -> None:
        """Index the events of a snapshot.

        An event that cannot be shown (missing or unparsable times, end before
        start, a bad recurrence, texts that are not text) is left out and
        reported to on_skip (else logged), here or when a query first meets it.
        """
        self._tz = zone_named(default_time_zone) or UTC
        self._on_skip = on_skip
        self._date_bounds: dict[str, float] = {}
        masters: dict[str, dict[str, Any]] = {}
        exceptions: list[dict[str, Any]] = []
        plain: list[dict[str, Any]] = []
        for event in events:
            if event.get("status") == "cancelled" and "recurringEventId" not in event:
                continue
            if (problem := _unusable(event)) is not None:
                self._skip(event, problem)
            elif "recurringEventId" in event:
                exceptions.append(event)
            elif event.get("recurrence"):
                masters[event["id"]] = event
            else:
                plain.append(event)
        self._series: list[_Series] = []
        overrides: dict[str, set[float | date]] = {}
        for event in exceptions:
            master_id = event["recurringEventId"]
            if master_id in masters:
                key = _original_key(event.get("originalStartTime"), self._tz)
                if key is not None:
                    overrides.setdefault(master_id, set()).add(key)
            if event.get("status") != "cancelled":
                plain.append(event)
        for master_id, master in masters.items():
            try:
                series = _cached_series(
                    master, frozenset(overrides.get(master_id, ())), self._tz
                )
            except BAD_EVENT_DATA as err:
                self._skip(master, f"cannot expand its recurrence: {err}")
                continue
            self._series.append(series)
        short: list[_Entry] = []
        self._long: list[_Entry] = []
        for event in plain:
            entry = self._entry(event)
            if entry is None:
                continue
            if entry.end_ts - entry.start_ts > _LONG_EVENT:
                self._long.append(entry)
            else:
                short.append(entry)
        short.sort(key=_sort_key)
        self._short = short
        self._short_starts = [entry.start_ts for entry in short]

    def overlapping(self, start: datetime, end: datetime) -> list[TimelineEvent]:
        """Return the events overlapping [start, end), sorted by start."""
        start_ts = self._timestamp(start)
        end_ts = self._timestamp(end)
        found: list[_Entry] = []
        low = bisect_left(self._short_starts, start_ts - _LONG_EVENT)
        high = bisect_left(self._short_starts, end_ts)
        found.extend(
            entry
            for entry in self._short[low:high]
            if entry.end_ts > start_ts or (entry.end_ts == entry.start_ts == start_ts)
        )
        found.extend(
            entry
            for entry in self._long
            if entry.start_ts < end_ts and entry.end_ts > start_ts
        )
        for series in self._series:
            try:
                found.extend(series.overlapping(start_ts, end_ts))
            except BAD_EVENT_DATA as err:
                self._skip(series.master, f"cannot expand its recurrence: {err}")
        found.sort(key=_sort_key)
        return [event for entry in found if (event := self._built(entry)) is not None]

    def warm(
        self,
        now: datetime,
        *,
        before: timedelta = timedelta(days=31),
        after: timedelta = timedelta(days=62),
    ) -> None:
        """Expand the series and build the events around now ahead of queries.

        Meant for the executor: the first query of a fresh timeline (after a
        restart, every series is expanded from scratch) then reads caches.
        """
        self.overlapping(now - before, now + after)
        self.active_or_next(now)

    def active_or_next(self, now: datetime) -> TimelineEvent | None:
        """Return the event in progress at now, or else the next one to start."""
        now_ts = self._timestamp(now)
        candidates: list[_Entry] = []
        index = bisect_left(self._short_starts, now_ts - _LONG_EVENT)
        upcoming = (entry for entry in self._short[index:] if entry.end_ts > now_ts)
        if (first := next(upcoming, None)) is not None:
            candidates.append(first)
        candidates.extend(entry for entry in self._long if entry.end_ts > now_ts)
        for series in self._series:
            try:
                found = series.first_ending_after(now_ts)
            except BAD_EVENT_DATA as err:
                self._skip(series.master, f"cannot expand its recurrence: {err}")
                continue
            if found is not None:
                candidates.append(found)
        candidates.sort(key=_sort_key)
        return next(
            (event for entry in candidates if (event := self._built(entry))), None
        )

    def _built(self, entry: _Entry) -> TimelineEvent | None:
        """Return the entry's event, None (reported) if its data cannot make one."""
        try:
            return entry.event
        except BAD_EVENT_DATA as err:
            self._skip(entry.source, f"unreadable: {err}", entry.uid)
            return None

    def _skip(
        self, event: Mapping[str, Any], reason: str, uid: str | None = None
    ) -> None:
        """Report an event left out of this timeline (log it without on_skip)."""
        if self._on_skip is not None:
            self._on_skip(uid or event.get("id"), event, reason)
        else:
            _LOGGER.warning(
                "Skipping event %.200s: %.200s", uid or event.get("id"), reason
            )

    def _timestamp(self, value: datetime) -> float:
        """Return a UTC timestamp; naive datetimes are in the calendar's zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=self._tz)
        return value.timestamp()

    def _entry(self, event: dict[str, Any]) -> _Entry | None:
        """Build the index entry of a single event or exception."""
        try:
            start_ts = self._fast_bound(event["start"])
            end_ts = self._fast_bound(event["end"])
        except BAD_EVENT_DATA as err:
            self._skip(event, f"unreadable times: {err!r}")
            return None
        if end_ts < start_ts:
            self._skip(event, "ends before it starts")
            return None
        return _Entry(start_ts, end_ts, event["id"], raw=event, tz=self._tz)

    def _fast_bound(self, value: Mapping[str, Any]) -> float:
        """Return the UTC timestamp of a Google start/end, memoized."""
        if (text := value.get("dateTime")) is not None:
            if (known := _INSTANT_CACHE.get(text)) is not None:
                return known
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                return _bound(parse_time(value, self._tz), self._tz)
            # Times with an offset mean the same instant in every rebuild.
            if len(_INSTANT_CACHE) >= _INSTANT_CACHE_SIZE:
                _INSTANT_CACHE.clear()
            known = _INSTANT_CACHE[text] = parsed.timestamp()
            return known
        day: str = value["date"]
        if (cached := self._date_bounds.get(day)) is None:
            cached = _bound(date.fromisoformat(day), self._tz)
            self._date_bounds[day] = cached
        return cached


class _Series:
    """A recurring event with its expansions cached per time bucket."""

    __slots__ = (
        "_all_day",
        "_anchor",
        "_anchored_set",
        "_buckets",
        "_cached",
        "_dtstart",
        "_end_zone",
        "_exdates",
        "_exrules",
        "_length",
        "_length_ts",
        "_lock",
        "_master",
        "_overrides",
        "_period",
        "_rdates",
        "_rrule_text",
        "_rules",
        "_start_zone",
        "_tz",
    )

    def __init__(
        self, master: dict[str, Any], overrides: frozenset[float | date], tz: tzinfo
    ) -> None:
        """Parse the master's start, length and recurrence lines.

        Raises ValueError (or KeyError, TypeError) when the times or the lines
        cannot be read, or when the series has no instance at all.
        """
        self._master = master
        self._overrides = overrides
        self._tz = tz
        start = parse_time(master["start"], tz)
        end = parse_time(master.get("end", master["start"]), tz)
        self._all_day = not isinstance(start, datetime)
        self._start_zone: tzinfo = zone_named(master["start"].get("timeZone")) or tz
        self._end_zone = self._start_zone
        if isinstance(start, datetime) and isinstance(end, datetime):
            self._dtstart = start.astimezone(self._start_zone)
            self._end_zone = end.tzinfo or self._start_zone
            # Elapsed time: an event that spans a DST change keeps its true length.
            self._length = end.astimezone(UTC) - start.astimezone(UTC)
        elif not isinstance(start, datetime) and not isinstance(end, datetime):
            self._dtstart = datetime.combine(start, datetime.min.time())
            self._length = end - start
        else:
            raise TypeError("start and end mix a date and a dateTime")
        self._length_ts = self._length.total_seconds()
        self._rules: list[str] = []
        self._exrules: list[str] = []
        self._rdates: list[datetime] = []
        self._exdates: list[datetime] = []
        self._rrule_text: str | None = None
        rule_params: list[dict[str, str]] = []
        for line in master.get("recurrence", []):
            name, params, value = _content_line(line)
            if name in ("RRULE", "EXRULE"):
                normalized = _count_to_until(self._normalize_rule(value), self._dtstart)
                # An unparsable rule refuses the series here, where it is reported.
                _parse_rule(normalized, self._dtstart)
                rule_params.append(
                    dict(
                        part.upper().partition("=")[::2]
                        for part in normalized.split(";")
                    )
                )
                if name == "RRULE":
                    self._rules.append(normalized)
                    self._rrule_text = self._rrule_text or value
                else:
                    self._exrules.append(normalized)
            elif name in ("RDATE", "EXDATE"):
                dates = [
                    self._parse_date(item, params) for item in value.split(",") if item
                ]
                (self._rdates if name == "RDATE" else self._exdates).extend(dates)
        if not self._rules and not self._rdates:
            raise ValueError("no RRULE or RDATE")
        if not self._rules:
            # Without a rule the start itself is the first instance (RFC 5545).
            self._rdates.append(self._dtstart)
        self._period = _repeat_period(rule_params, self._dtstart)
        self._anchor = self._dtstart
        self._anchored_set: rrulebase | None = None
        self._buckets: dict[int, list[_Entry]] = {}
        self._cached = 0
        # Timelines on the loop and one being built in the executor share series.
        self._lock = threading.RLock()
        # Parses every rule, and finds out once (the series is cached) that a rule
        # such as 30 February never occurs: dateutil would scan to year 9999 on
        # every query.
        if self._rule_set(self._dtstart).after(self._dtstart, inc=True) is None:
            raise ValueError("the recurrence never occurs")

    @property
    def master(self) -> dict[str, Any]:
        """Return the recurring event."""
        return self._master

    def overlapping(self, start_ts: float, end_ts: float) -> list[_Entry]:
        """Return the generated instances overlapping [start_ts, end_ts).

        At most _MAX_INSTANCES, the earliest ones.
        """
        first = int((start_ts - self._length_ts) // _BUCKET)
        last = int(end_ts // _BUCKET)
        with self._lock:
            if len(self._buckets) > _MAX_BUCKETS or self._cached > _MAX_CACHED:
                # Series live on across rebuilds: forget old queries now and then.
                self._buckets.clear()
                self._cached = 0
            missing = [b for b in range(first, last + 1) if b not in self._buckets]
            if missing and not self._fill(missing[0], missing[-1]):
                # Too many instances to cache: answer from the rules directly.
                return self._direct(start_ts, end_ts)
            buckets = [self._buckets[bucket] for bucket in range(first, last + 1)]
        return [
            entry
            for bucket in buckets
            for entry in bucket
            if entry.start_ts < end_ts
            and (
                entry.end_ts > start_ts or (entry.end_ts == entry.start_ts == start_ts)
            )
        ][:_MAX_INSTANCES]

    def first_ending_after(self, now_ts: float) -> _Entry | None:
        """Return the earliest instance still running or starting after now."""
        with self._lock:
            return self._first_ending_after(now_ts)

    def _first_ending_after(self, now_ts: float) -> _Entry | None:
        """Find the next instance; the caller holds the lock."""
        # The buckets around now are usually filled by the calendar's range query.
        first = int((now_ts - self._length_ts) // _BUCKET)
        if all(b in self._buckets for b in range(first, int(now_ts // _BUCKET) + 2)):
            running = [
                entry
                for entry in self.overlapping(now_ts, now_ts + _BUCKET)
                if entry.end_ts > now_ts
            ]
            if running:
                return min(running, key=_sort_key)
        since = datetime.fromtimestamp(now_ts - self._length_ts, UTC)
        return next(
            (entry for entry in self._generate(since) if entry.end_ts > now_ts), None
        )

    def _fill(self, first: int, last: int) -> bool:
        """Expand the instances starting in buckets first to last, in one pass.

        Past _MAX_INSTANCES instances it stops, keeps the buckets it completed and
        returns False.
        """
        low_ts, high_ts = first * _BUCKET, (last + 1) * _BUCKET
        fresh: dict[int, list[_Entry]] = {}
        count = 0
        complete = last
        for entry in self._generate(datetime.fromtimestamp(low_ts, UTC)):
            if entry.start_ts >= high_ts + _MARGIN.total_seconds():
                break
            if not low_ts <= entry.start_ts < high_ts:
                continue
            count += 1
            bucket = int(entry.start_ts // _BUCKET)
            if count > _MAX_INSTANCES:
                complete = bucket - 1
                break
            fresh.setdefault(bucket, []).append(entry)
        for bucket in range(first, complete + 1):
            self._buckets.setdefault(bucket, fresh.get(bucket, []))
        self._cached += count
        return complete == last

    def _direct(self, start_ts: float, end_ts: float) -> list[_Entry]:
        """Return the first _MAX_INSTANCES instances overlapping a range, uncached."""
        since = datetime.fromtimestamp(start_ts - self._length_ts, UTC)
        found: list[_Entry] = []
        for entry in self._generate(since):
            if entry.start_ts >= end_ts or len(found) == _MAX_INSTANCES:
                break
            if entry.end_ts > start_ts or entry.end_ts == entry.start_ts == start_ts:
                found.append(entry)
        return found

    def _generate(self, since: datetime) -> Iterator[_Entry]:
        """Yield the instances from about since on, in order, at most _MAX_SCAN."""
        low = self._local(since - _MARGIN)
        seen: set[float] = set()
        for local_start in islice(self._rule_set(since), _MAX_SCAN):
            if local_start < low:
                continue
            entry = self._instance(local_start)
            # A wall-clock time in a DST gap is the moment an hour later (RFC
            # 5545): rules finer than daily reach it twice, shown once.
            if entry is not None and entry.start_ts not in seen:
                seen.add(entry.start_ts)
                yield entry

    def _instance(self, local_start: datetime) -> _Entry | None:
        """Index one generated instance unless an exception replaces it."""
        if self._all_day:
            day = local_start.date()
            if day in self._overrides:
                return None
            suffix = f"{day.year:04}{day.month:02}{day.day:02}"
            start_ts = _bound(day, self._tz)
            end_ts = _bound(day + self._length, self._tz)
        else:
            start_ts = local_start.timestamp()
            if start_ts in self._overrides:
                return None
            end_ts = start_ts + self._length_ts
            suffix = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start_ts))
        uid = f"{self._master['id']}_{suffix}"
        return _Entry(start_ts, end_ts, uid, series=self, local=local_start)

    def build(self, local_start: datetime, uid: str) -> TimelineEvent:
        """Build the TimelineEvent of a generated instance."""
        start: date | datetime
        end: date | datetime
        if self._all_day:
            start = local_start.date()
            end = start + self._length
        else:
            start = local_start
            end = (local_start.astimezone(UTC) + self._length).astimezone(
                self._end_zone
            )
        master_id: str = self._master["id"]
        return _timeline_event(
            self._master,
            uid,
            master_id,
            uid[len(master_id) + 1 :],
            self._rrule_text,
            start,
            end,
        )

    def _rule_set(self, near: datetime) -> rrulebase:
        """Return a rule set that yields every instance from near on.

        The set starts at an anchor: DTSTART moved close to near. dateutil does
        not cache what it generates (a secondly rule would fill the memory): the
        buckets do.
        """
        anchor = self._shift_to(near) or self._dtstart
        if self._anchored_set is not None and anchor == self._anchor:
            return self._anchored_set
        self._anchor = anchor
        if len(self._rules) == 1 and not (
            self._exrules or self._rdates or self._exdates
        ):
            # The common case: a lone rule iterates faster without a set around it.
            self._anchored_set = _parse_rule(self._rules[0], anchor)
            return self._anchored_set
        rule_set = rruleset()
        for value in self._rules:
            rule_set.rrule(_parse_rule(value, anchor))
        for value in self._exrules:
            rule_set.exrule(_parse_rule(value, anchor))
        for moment in self._rdates:
            rule_set.rdate(moment)
        for moment in self._exdates:
            rule_set.exdate(moment)
        self._anchored_set = rule_set
        return rule_set

    def _shift_to(self, near: datetime) -> datetime | None:
        """Return a later DTSTART with the same instances from near on, if any.

        Iterating from the original DTSTART on every query is slow for long series.
        Rules without COUNT repeat after a whole number of seconds (secondly to
        weekly rules; dateutil counts them in wall-clock time) or months (monthly,
        yearly), so moving DTSTART by whole periods of wall-clock time keeps every
        instance, DST included.
        """
        if self._period is None:
            return None
        by_months, period = self._period
        target = self._local(near - 2 * _MARGIN).replace(tzinfo=None)
        naive_start = self._dtstart.replace(tzinfo=None)
        if by_months:
            months = (target.year - naive_start.year) * 12 + (
                target.month - naive_start.month
            )
            # One month of slack keeps the moved start before the target.
            steps = (months - 1) // period
            if steps <= 0:
                return None
            return self._dtstart.replace(year=self._dtstart.year + steps * period // 12)
        steps = int((target - naive_start).total_seconds()) // period
        if steps <= 0:
            return None
        moved = naive_start + timedelta(seconds=steps * period)
        return moved.replace(tzinfo=self._dtstart.tzinfo)

    def _local(self, value: datetime) -> datetime:
        """Express a UTC datetime the way the rules count (local, naive if all-day)."""
        if self._all_day:
            return value.astimezone(self._tz).replace(tzinfo=None)
        return value.astimezone(self._start_zone)

    def _normalize_rule(self, value: str) -> str:
        """Make a rule agree with DTSTART and read it the way Google does.

        dateutil requires UNTIL in DTSTART's form. Google deviates from RFC 5545
        for FREQ=YEARLY with BYMONTHDAY but without BYMONTH: it shows the event
        once a year, in the month of its start (the RFC and dateutil expand it
        every month), so the start's month is added as BYMONTH (as gcal_sync
        does, its PR 179).
        """
        parts: dict[str, str] = {}
        for part in value.strip().split(";"):
            key, _, item = part.partition("=")
            if key.strip():
                parts[key.strip().upper()] = item.strip()
        if "UNTIL" in parts:
            parts["UNTIL"] = self._until(parts["UNTIL"])
        if (
            parts.get("FREQ", "").upper() == "YEARLY"
            and "BYMONTHDAY" in parts
            and not parts.keys() & {"BYMONTH", "BYWEEKNO", "BYYEARDAY"}
        ):
            parts["BYMONTH"] = str(self._dtstart.month)
        return ";".join(f"{key}={item}" for key, item in parts.items())

    def _until(self, value: str) -> str:
        """Return UNTIL as a date for all-day rules and in UTC for timed ones."""
        if self._all_day:
            return value[:8]
        if "T" not in value:
            # A date-only UNTIL includes the whole day in the event's zone.
            value = f"{value}T235959"
        local = _ical_datetime(value, self._start_zone)
        return local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def _parse_date(self, value: str, params: Mapping[str, str]) -> datetime:
        """Parse one RDATE/EXDATE value (TZID honoured) into the DTSTART's form."""
        zone: tzinfo = self._start_zone
        if (name := params.get("TZID")) is not None:
            if (found := zone_named(name)) is None:
                raise ValueError(f"unknown TZID {name}")
            zone = found
        value = value.strip()
        if "T" not in value:
            day = date.fromisoformat(value)
            if self._all_day:
                return datetime.combine(day, datetime.min.time())
            value = f"{value}T{self._dtstart.strftime('%H%M%S')}"
        aware = _ical_datetime(value, zone)
        if self._all_day:
            local_day = aware.astimezone(self._tz).date()
            return datetime.combine(local_day, datetime.min.time())
        return aware.astimezone(self._start_zone)


def _unusable(event: Mapping[str, Any]) -> str | None:
    """Return why an event cannot be shown, judged by the shape of its fields.

    Values are parsed later, per event; a cancelled exception only hides an
    instance and needs no times.
    """
    for name in ("summary", "description", "location"):
        if not isinstance(event.get(name), str | None):
            return f"{name} is not text"
    if event.get("status") == "cancelled":
        return None
    kinds = []
    for name in ("start", "end"):
        value = event.get(name)
        if not isinstance(value, Mapping):
            return f"{name} is {type(value).__name__}, not an object"
        present = [key for key in ("date", "dateTime") if key in value]
        if len(present) != 1:
            return f"{name} needs one of date or dateTime"
        if not isinstance(value[present[0]], str):
            return f"{name} {present[0]} is not text"
        kinds.append(present[0])
    if kinds[0] != kinds[1]:
        return "start and end mix date and dateTime"
    recurrence = event.get("recurrence")
    if (
        recurrence is not None
        and "recurringEventId" not in event
        and not (
            isinstance(recurrence, list)
            and all(isinstance(line, str) for line in recurrence)
        )
    ):
        return "recurrence is not a list of text lines"
    return None


def _cached_series(
    master: dict[str, Any], overrides: frozenset[float | date], tz: tzinfo
) -> _Series:
    """Return the series of a master, reusing expansions of earlier timelines.

    The timeline is rebuilt after every sync; a series whose master (etag) and
    exceptions did not change keeps the instances it already expanded.
    """
    if (etag := master.get("etag")) is None:
        return _Series(master, overrides, tz)
    key = (master["id"], etag, overrides, str(tz))
    with _SERIES_CACHE_LOCK:
        cached = _SERIES_CACHE.get(key)
        if cached is not None:
            _SERIES_CACHE.move_to_end(key)
    # The etag changes with every edit; comparing guards against copies that lie.
    if cached is not None and cached.master == master:
        return cached
    series = _Series(master, overrides, tz)
    with _SERIES_CACHE_LOCK:
        _SERIES_CACHE[key] = series
        if len(_SERIES_CACHE) > _SERIES_CACHE_SIZE:
            _SERIES_CACHE.popitem(last=False)
    return series


def _parse_rule(value: str, dtstart: datetime) -> rrule:
    """Parse one RRULE/EXRULE value with dateutil: the one parser of rules."""
    rule = rrulestr(value, dtstart=dtstart)
    if not isinstance(rule, rrule):
        raise TypeError(f"unsupported rule {value}")
    return rule


@lru_cache(maxsize=4096)
def _count_to_until(value: str, dtstart: datetime) -> str:
    """Replace COUNT by the UNTIL of the last instance, memoized across rebuilds.

    A COUNT rule can only be expanded from its DTSTART; with UNTIL it can start
    anywhere on its grid, which keeps queries of long series fast.
    """
    parts = value.split(";")
    if not any(part.upper().startswith("COUNT=") for part in parts):
        return value
    # Only the last instance is kept: counting costs time, not memory.
    last = deque(islice(_parse_rule(value, dtstart), _MAX_COUNT), maxlen=1)
    if not last:
        return value
    if last[0].tzinfo is None:
        until = last[0].strftime("%Y%m%dT%H%M%S")
    else:
        until = last[0].astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = [part for part in parts if not part.upper().startswith("COUNT=")]
    return ";".join([*kept, f"UNTIL={until}"])


def check_recurrence(event: Mapping[str, Any]) -> None:
    """Raise ValueError unless the timeline can expand a recurring Google event.

    The very parsing the timeline does, for writes to refuse before they reach
    Google. A rule that never occurs can take seconds: call this in the executor.
    """
    try:
        _Series(dict(event), frozenset(), UTC)
    except (KeyError, TypeError) as err:
        raise ValueError(str(err)) from err


def series_ends_before(master: Mapping[str, Any], bound: datetime) -> bool:
    """Return True if no instance of a recurring event ends after bound."""
    try:
        series = _cached_series(dict(master), frozenset(), UTC)
        return series.first_ending_after(bound.timestamp()) is None
    except BAD_EVENT_DATA:
        return False


def _timeline_event(  # noqa: PLR0917
    event: dict[str, Any],
    uid: str,
    recurring_event_id: str | None,
    recurrence_id: str | None,
    rrule_text: str | None,
    start: date | datetime,
    end: date | datetime,
) -> TimelineEvent:
    """Build a TimelineEvent from a Google event."""
    return TimelineEvent(
        uid=uid,
        recurring_event_id=recurring_event_id,
        recurrence_id=recurrence_id,
        rrule=rrule_text,
        summary=event.get("summary") or "",
        description=shown_description(event.get("description"), meet_link(event)),
        location=event.get("location"),
        start=start,
        end=end,
        source=event,
    )


def _bound(value: date | datetime, tz: tzinfo) -> float:
    """Return a UTC timestamp; dates start at midnight in the calendar's zone."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.combine(value, datetime.min.time(), tz).timestamp()


def _original_key(value: Any, tz: tzinfo) -> float | date | None:
    """Return how an exception's originalStartTime matches a generated instance."""
    if not isinstance(value, Mapping):
        return None
    try:
        moment = parse_time(value, tz)
    except BAD_EVENT_DATA:
        return None
    return moment.timestamp() if isinstance(moment, datetime) else moment


def _recurrence_suffix(value: Mapping[str, Any], tz: tzinfo) -> str | None:
    """Return Google's instance id suffix for an originalStartTime."""
    try:
        return instance_suffix(parse_time(value, tz))
    except BAD_EVENT_DATA:
        return None


def _content_line(line: str) -> tuple[str, dict[str, str], str]:
    """Split a recurrence line into its name, parameters and value.

    Names are case-insensitive; parameter values are not (TZID names a zone,
    RFC 5545 3.2): they are kept as given, without quotes.
    """
    head, _, value = line.partition(":")
    name, *params = head.split(";")
    parameters = {}
    for param in params:
        key, _, param_value = param.partition("=")
        parameters[key.strip().upper()] = param_value.strip().strip('"')
    return name.strip().upper(), parameters, value.strip()


def _ical_datetime(value: str, zone: tzinfo) -> datetime:
    """Parse an iCalendar date-time; floating values are in zone."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _sort_key(entry: _Entry) -> tuple[float, float, str]:
    """Order entries by start, then end, then uid."""
    return (entry.start_ts, entry.end_ts, entry.uid)


def _repeat_period(
    rules: list[dict[str, str]], dtstart: datetime
) -> tuple[bool, int] | None:
    """Return (in months?, length) after which all rules repeat, None if never.

    The length counts months, or seconds of wall-clock time.
    """
    if not rules:
        return None
    units: set[bool] = set()
    period = 1
    for params in rules:
        freq = params.get("FREQ", "")
        if "COUNT" in params or freq not in _PERIOD_UNITS:
            return None
        by_months, unit, base = _PERIOD_UNITS[freq]
        units.add(by_months)
        period = _lcm(_lcm(period, base), unit * int(params.get("INTERVAL") or 1))
    if len(units) != 1:
        return None
    by_months = units.pop()
    if by_months and dtstart.month == 2 and dtstart.day == 29:
        # Moving a leap day by whole years lands on dates that do not exist.
        return None
    return by_months, period


def _lcm(first: int, second: int) -> int:
    """Return the least common multiple of two positive ints."""
    a, b = first, second
    while b:
        a, b = b, a % b
    return first * second // a
