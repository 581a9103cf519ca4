"""One calendar on disk: JSON lines, appended per change, compacted now and then.

Why not one JSON document per calendar (Home Assistant's Store): a change would
rewrite the whole calendar (16.6 MB at 20,000 events), and orjson encodes or parses
a document in one call that holds the GIL, so even in the executor the event loop
waits for it (135 ms to parse 20,000 events here). Lines are encoded and parsed one
at a time, the GIL handed over every few hundred (the loop waits at most about 10 ms
while 20,000 events are saved or loaded), and a change appends only its own lines.
Measured with events shaped like Google's: one changed event appends 730 bytes at
1,000 and at 20,000 events (1.4 KB on average with the rewrites below), where a
single document rewrote 0.66 MB and 13.3 MB.

Layout: a header line, then records, each a JSON object on its own line:
``{"event": {...}}`` (stored or replaced), ``{"removed": "id"}`` and
``{"sync_token": ..., "last_synced": ...}`` (written last in each batch, so a
sync token is never on disk without the events it stands for). A crash mid-append
leaves at most a torn last line, which loading ignores. Once the dead lines
outweigh the live ones, the file is rewritten whole (atomically).

Blocking I/O: every method runs in the executor, one at a time per calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from datetime import datetime
import os
import time
from typing import Any

from homeassistant.util.file import write_utf8_file_atomic
import orjson

from .google.model import Event
from .google.sync import CalendarSnapshot, json_safe, malformed

FORMAT = 1
_YIELD_EVERY = 256
# Below this size a file is never compacted: rewriting it costs next to nothing.
_MIN_COMPACT_BYTES = 64 * 1024

type Events = Mapping[str, Event]


def _yielding[T](items: Iterable[T]) -> Iterator[T]:
    """Yield items, handing the GIL over every _YIELD_EVERY of them.

    Otherwise the event loop waits for it up to sys.getswitchinterval() (5 ms)
    each time it wakes while this thread encodes or parses.
    """
    for count, item in enumerate(items, 1):
        if not count % _YIELD_EVERY:
            time.sleep(0)
        yield item


def _line(record: Mapping[str, Any]) -> bytes:
    """Encode one record as a line, with what JSON cannot hold replaced."""
    try:
        return orjson.dumps(record) + b"\n"
    except TypeError:
        return orjson.dumps(json_safe(record)) + b"\n"


class CalendarLog:
    """The file of one calendar, and what it holds as last written."""

    def __init__(self, path: str, calendar_id: str) -> None:
        """Describe the file of one calendar; nothing is read yet."""
        self.path = path
        self.calendar_id = calendar_id
        # Each event as last written (the very object: a change replaces an
        # event, never edits it) and the size of its line. Two dicts rather than
        # a pair per event: 20,000 fewer objects for the garbage collector to walk.
        self._written: dict[str, Event] = {}
        self._sizes: dict[str, int] = {}
        self._state: tuple[str | None, datetime | None] = (None, None)
        self._size = 0
        self._live = 0
        # Until a load succeeds, the file's content is unknown: rewrite it whole.
        self._rewrite = True

    def load(self) -> CalendarSnapshot | None:
        """Read the file; None if there is none. Raise if it is unusable."""
        self._written.clear()
        self._sizes.clear()
        self._state = (None, None)
        self._size = self._live = 0
        self._rewrite = True
        try:
            with open(self.path, "rb") as file:
                lines = iter(file)
                self._check_header(next(lines, b""))
                torn = self._replay(lines)
        except FileNotFoundError:
            return None
        self._rewrite = torn
        token, last_synced = self._state
        return CalendarSnapshot(
            sync_token=token,
            events=dict(self._written),
            last_synced=last_synced,
        )

    def _check_header(self, line: bytes) -> None:
        """Check the header line: our format, this calendar."""
        header = orjson.loads(line)
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ValueError(f"not a calendar log of format {FORMAT}")
        if header.get("calendar_id") != self.calendar_id:
            raise ValueError(f"holds the snapshot of {header.get('calendar_id')!r}")
        self._size = self._live = len(line)

    def _replay(self, lines: Iterator[bytes]) -> bool:
        """Apply the records; return True if the last line is torn.

        A crash mid-append leaves the complete lines of its batch, applied here,
        without the batch's sync token line (written last): the next sync lists
        the batch's changes again from the token before it.
        """
        for line in _yielding(lines):
            if not line.endswith(b"\n"):
                return True
            self._size += len(line)
            self._apply(orjson.loads(line), len(line))
        return False

    def _apply(self, record: Any, size: int) -> None:
        """Apply one record to what the file holds."""
        if not isinstance(record, dict):
            raise TypeError(f"expected a record, got {type(record).__name__}")
        if "event" in record:
            event = record["event"]
            if (problem := malformed(event)) is not None:
                raise ValueError(f"bad event: {problem}")
            self._forget(event["id"])
            self._keep(event["id"], event, size)
        elif "removed" in record:
            self._forget(str(record["removed"]))
        elif "sync_token" in record:
            token, last_synced = record["sync_token"], record.get("last_synced")
            if token is not None and not isinstance(token, str):
                raise TypeError("sync_token")
            self._state = (token, aware_datetime(last_synced) if last_synced else None)
        else:
            raise ValueError(f"unknown record {sorted(record)}")

    def _forget(self, event_id: str) -> None:
        """Drop an event from what the file holds."""
        if self._written.pop(event_id, None) is not None:
            self._live -= self._sizes.pop(event_id)

    def _keep(self, event_id: str, event: Event, size: int) -> None:
        """Note an event as written, in a line of size bytes."""
        self._written[event_id] = event
        self._sizes[event_id] = size
        self._live += size

    def save(
        self, sync_token: str | None, events: Events, last_synced: datetime | None
    ) -> int:
        """Write what changed since the last write; return the bytes written.

        events is the caller's copy: nobody changes it while this runs.
        """
        changed = [
            (event_id, event, _line({"event": event}))
            for event_id, event in _yielding(events.items())
            if self._written.get(event_id) is not event
        ]
        removed = [event_id for event_id in self._written if event_id not in events]
        lines = [line for _, _, line in changed]
        lines += [_line({"removed": event_id}) for event_id in removed]
        if (sync_token, last_synced) != self._state:
            lines.append(_state_line(sync_token, last_synced))
        appended = sum(map(len, lines))
        if self._rewrite or (
            self._size + appended > max(2 * self._live, _MIN_COMPACT_BYTES)
        ):
            return self._write_whole(sync_token, events, last_synced)
        if not lines:
            return 0
        try:
            with open(self.path, "ab") as file:
                file.write(b"".join(lines))
        except OSError:
            self._rewrite = True  # maybe a torn append: the next write starts afresh
            raise
        self._size += appended
        for event_id in removed:
            self._forget(event_id)
        for event_id, event, line in changed:
            self._forget(event_id)
            self._keep(event_id, event, len(line))
        self._state = (sync_token, last_synced)
        return appended

    def _write_whole(
        self, sync_token: str | None, events: Events, last_synced: datetime | None
    ) -> int:
        """Rewrite the file with the live records only, all or nothing."""
        lines = [_line({"format": FORMAT, "calendar_id": self.calendar_id})]
        self._written = {}
        self._sizes = {}
        for event_id, event in _yielding(events.items()):
            lines.append(line := _line({"event": event}))
            self._written[event_id] = event
            self._sizes[event_id] = len(line)
        lines.append(_state_line(sync_token, last_synced))
        content = b"".join(lines)
        self._rewrite = True  # until the file is written
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        write_utf8_file_atomic(self.path, content, private=True, mode="wb")
        self._size = self._live = len(content)
        self._state = (sync_token, last_synced)
        self._rewrite = False
        return len(content)

    def remove(self) -> None:
        """Delete the file."""
        with suppress(FileNotFoundError):
            os.unlink(self.path)


def _state_line(sync_token: str | None, last_synced: datetime | None) -> bytes:
    """Encode the sync state record."""
    return _line(
        {
            "sync_token": sync_token,
            "last_synced": last_synced.isoformat() if last_synced else None,
        }
    )


def aware_datetime(value: Any) -> datetime:
    """Parse an aware ISO datetime; raise for anything else."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}")
    return parsed
