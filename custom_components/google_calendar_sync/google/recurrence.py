"""Recurring events: their instances expanded from the rules, bounded and cached."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
import copy
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import islice
import threading
import time

from dateutil.rrule import rrulebase, rruleset

from .entries import (
    BAD_EVENT_DATA,
    Entry,
    TimelineEvent,
    bound,
    sort_key,
    timeline_event,
)
from .model import Event, parse_time, zone_named
from .rules import (
    content_line,
    count_to_until,
    ical_datetime,
    normalize_rule,
    parse_rule,
    repeat_period,
)

# Recurrence instances are expanded and cached in buckets of this many seconds.
_BUCKET = 86400
# Days of expansions a series keeps before starting over.
_MAX_BUCKETS = 3 * 366
# Bounds of recurrence expansion: no rule (FREQ=SECONDLY, COUNT=3000000, 10,000
# EXDATEs) costs more than these, whatever the calendar holds.
# - One query returns at most MAX_INSTANCES instances of a series (its earliest
#   ones in the range): about 2 MB of events.
# - One query looks at most _MAX_SCAN dates of the rules (about 0.2 s of dateutil
#   on a slow machine); the start of the rules is moved close to the query first
#   (Series._shift_to), so only rules that cannot be moved (several rules of
#   months and of days at once) ever reach it, far from their start.
# - A series keeps at most _MAX_CACHED instances between queries (about 3 MB).
# - A COUNT rule shows at most its first rules.MAX_COUNT instances.
MAX_INSTANCES = 5_000
_MAX_SCAN = 100_000
_MAX_CACHED = 10_000
# Slack between a moment and its wall-clock time in the rules' zone, more than
# any DST change: instances are generated in wall-clock time.
_MARGIN = timedelta(hours=3)
# What most buckets hold: one tuple for all, which the garbage collector (whose
# full passes hold every thread) never has to walk, unlike an empty list each.
_NO_INSTANCES: tuple[Entry, ...] = ()


class Series:
    """A recurring event with its expansions cached per time bucket."""

    __slots__ = (
        "_all_day",
        "_anchored",
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
        self, master: Event, overrides: frozenset[float | date], tz: tzinfo
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
            name, params, value = content_line(line)
            if name in ("RRULE", "EXRULE"):
                normalized = count_to_until(
                    normalize_rule(value, self._dtstart, all_day=self._all_day),
                    self._dtstart,
                )
                # An unparsable rule refuses the series here, where it is reported.
                parse_rule(normalized, self._dtstart)
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
        self._period = repeat_period(rule_params, self._dtstart)
        # The rule set from an anchor on, read and replaced as one tuple: threads
        # expanding the series at once never pair an anchor with another's set.
        self._anchored: tuple[datetime, rrulebase] | None = None
        self._buckets: dict[int, Sequence[Entry]] = {}
        self._cached = 0
        # Held while the buckets are filled. A timeline built in the executor
        # reuses the series the loop reads: a thread that finds the series busy
        # answers from the rules instead of waiting (the loop never waits).
        self._lock = threading.RLock()
        # Parses every rule, and finds out once (the series is reused) that a rule
        # such as 30 February never occurs: dateutil would scan to year 9999 on
        # every query.
        if self._rule_set(self._dtstart).after(self._dtstart, inc=True) is None:
            raise ValueError("the recurrence never occurs")

    @property
    def master(self) -> Event:
        """Return the recurring event."""
        return self._master

    def reused_for(
        self, master: Event, overrides: frozenset[float | date], tz: tzinfo
    ) -> Series | None:
        """Return this series for a master with these exceptions, if it can be.

        The same master keeps its expansions; other exceptions get a copy that
        keeps the parsed rules (counting a long COUNT rule again would cost up
        to half a second) and expands afresh. None when the master changed.
        """
        if tz != self._tz or master != self._master:
            return None
        if overrides == self._overrides:
            return self
        twin = copy.copy(self)
        twin._overrides = overrides  # noqa: SLF001
        twin._buckets = {}  # noqa: SLF001
        twin._cached = 0  # noqa: SLF001
        twin._lock = threading.RLock()  # noqa: SLF001
        return twin

    def overlapping(self, start_ts: float, end_ts: float) -> list[Entry]:
        """Return the generated instances overlapping [start_ts, end_ts).

        At most MAX_INSTANCES, the earliest ones. While another thread fills
        the buckets, the answer comes from the rules, uncached.
        """
        first = int((start_ts - self._length_ts) // _BUCKET)
        last = int(end_ts // _BUCKET)
        if not self._lock.acquire(blocking=False):
            return self._direct(start_ts, end_ts)
        try:
            if len(self._buckets) > _MAX_BUCKETS or self._cached > _MAX_CACHED:
                # Series live on across rebuilds: forget old queries now and then.
                self._buckets.clear()
                self._cached = 0
            missing = [b for b in range(first, last + 1) if b not in self._buckets]
            if missing and not self._fill(missing[0], missing[-1]):
                # Too many instances to cache: answer from the rules directly.
                return self._direct(start_ts, end_ts)
            buckets = [self._buckets[bucket] for bucket in range(first, last + 1)]
        finally:
            self._lock.release()
        return [
            entry
            for bucket in buckets
            for entry in bucket
            if entry.start_ts < end_ts
            and (
                entry.end_ts > start_ts or (entry.end_ts == entry.start_ts == start_ts)
            )
        ][:MAX_INSTANCES]

    def first_ending_after(self, now_ts: float) -> Entry | None:
        """Return the earliest instance still running or starting after now."""
        if not self._lock.acquire(blocking=False):
            return self._next_from_rules(now_ts)
        try:
            return self._first_ending_after(now_ts)
        finally:
            self._lock.release()

    def _first_ending_after(self, now_ts: float) -> Entry | None:
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
                return min(running, key=sort_key)
        return self._next_from_rules(now_ts)

    def _next_from_rules(self, now_ts: float) -> Entry | None:
        """Find the next instance from the rules, without the buckets."""
        since = datetime.fromtimestamp(now_ts - self._length_ts, UTC)
        return next(
            (entry for entry in self._generate(since) if entry.end_ts > now_ts), None
        )

    def _fill(self, first: int, last: int) -> bool:
        """Expand the instances starting in buckets first to last, in one pass.

        Past MAX_INSTANCES instances it stops, keeps the buckets it completed and
        returns False.
        """
        low_ts, high_ts = first * _BUCKET, (last + 1) * _BUCKET
        fresh: dict[int, list[Entry]] = {}
        count = 0
        complete = last
        for entry in self._generate(datetime.fromtimestamp(low_ts, UTC)):
            if entry.start_ts >= high_ts + _MARGIN.total_seconds():
                break
            if not low_ts <= entry.start_ts < high_ts:
                continue
            count += 1
            bucket = int(entry.start_ts // _BUCKET)
            if count > MAX_INSTANCES:
                complete = bucket - 1
                break
            fresh.setdefault(bucket, []).append(entry)
        for bucket in range(first, complete + 1):
            self._buckets.setdefault(bucket, fresh.get(bucket, _NO_INSTANCES))
        self._cached += count
        return complete == last

    def _direct(self, start_ts: float, end_ts: float) -> list[Entry]:
        """Return the first MAX_INSTANCES instances overlapping a range, uncached."""
        since = datetime.fromtimestamp(start_ts - self._length_ts, UTC)
        found: list[Entry] = []
        for entry in self._generate(since):
            if entry.start_ts >= end_ts or len(found) == MAX_INSTANCES:
                break
            if entry.end_ts > start_ts or entry.end_ts == entry.start_ts == start_ts:
                found.append(entry)
        return found

    def _generate(self, since: datetime) -> Iterator[Entry]:
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

    def _instance(self, local_start: datetime) -> Entry | None:
        """Index one generated instance unless an exception replaces it."""
        if self._all_day:
            day = local_start.date()
            if day in self._overrides:
                return None
            suffix = f"{day.year:04}{day.month:02}{day.day:02}"
            start_ts = bound(day, self._tz)
            end_ts = bound(day + self._length, self._tz)
        else:
            start_ts = local_start.timestamp()
            if start_ts in self._overrides:
                return None
            end_ts = start_ts + self._length_ts
            suffix = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start_ts))
        uid = f"{self._master['id']}_{suffix}"
        return Entry(start_ts, end_ts, uid, series=self, local=local_start)

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
        return timeline_event(
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
        if (anchored := self._anchored) is not None and anchored[0] == anchor:
            return anchored[1]
        if len(self._rules) == 1 and not (
            self._exrules or self._rdates or self._exdates
        ):
            # The common case: a lone rule iterates faster without a set around it.
            rule = parse_rule(self._rules[0], anchor)
            self._anchored = (anchor, rule)
            return rule
        rule_set = rruleset()
        for value in self._rules:
            rule_set.rrule(parse_rule(value, anchor))
        for value in self._exrules:
            rule_set.exrule(parse_rule(value, anchor))
        for moment in self._rdates:
            rule_set.rdate(moment)
        for moment in self._exdates:
            rule_set.exdate(moment)
        self._anchored = (anchor, rule_set)
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
        aware = ical_datetime(value, zone)
        if self._all_day:
            local_day = aware.astimezone(self._tz).date()
            return datetime.combine(local_day, datetime.min.time())
        return aware.astimezone(self._start_zone)


def check_recurrence(event: Event) -> None:
    """Raise ValueError unless the timeline can expand a recurring Google event.

    The very parsing the timeline does, for writes to refuse before they reach
    Google. A rule that never occurs can take seconds: call this in the executor.
    """
    try:
        Series(event.copy(), frozenset(), UTC)
    except (KeyError, TypeError) as err:
        raise ValueError(str(err)) from err


def series_ends_before(master: Event, bound_: datetime) -> bool:
    """Return True if no instance of a recurring event ends after bound_."""
    try:
        series = Series(master.copy(), frozenset(), UTC)
        return series.first_ending_after(bound_.timestamp()) is None
    except BAD_EVENT_DATA:
        return False
