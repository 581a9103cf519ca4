"""A calendar's log on disk: appends what changed, compacts, survives torn writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from custom_components.google_calendar_sync.google.sync import CalendarSnapshot
from custom_components.google_calendar_sync.journal import CalendarLog

CALENDAR = "user@example.com"
SYNCED = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
HEADER = b'{"format": 1, "calendar_id": "user@example.com"}\n'


def event(n: int, summary: str = "Meeting") -> dict[str, Any]:
    """Return a stored Google event."""
    return {
        "id": f"event{n}",
        "etag": f'"{n}"',
        "summary": f"{summary} {n}",
        "start": {"dateTime": "2026-05-04T10:00:00+02:00"},
        "end": {"dateTime": "2026-05-04T11:00:00+02:00"},
    }


def events(count: int) -> dict[str, dict[str, Any]]:
    """Return count events by id."""
    return {f"event{n}": event(n) for n in range(count)}


@pytest.fixture(name="path")
def path_fixture(tmp_path: Path) -> Path:
    """Return where the calendar's log lives."""
    return tmp_path / "calendar.jsonl"


def reopened(path: Path) -> CalendarSnapshot | None:
    """Read the file as a restarted Home Assistant does."""
    return CalendarLog(str(path), CALENDAR).load()


def test_a_missing_file_holds_nothing(path: Path) -> None:
    assert reopened(path) is None


def test_what_is_written_is_read_back(path: Path) -> None:
    log = CalendarLog(str(path), CALENDAR)
    log.save("token-1", events(3), SYNCED)

    assert reopened(path) == CalendarSnapshot("token-1", events(3), SYNCED)


def test_a_change_appends_about_its_own_size(path: Path) -> None:
    """One changed event in 1,000: one line and the new sync token, not the file."""
    log = CalendarLog(str(path), CALENDAR)
    current = events(1_000)
    whole = log.save("token-1", current, SYNCED)

    current = {**current, "event7": event(7, "Moved")}
    del current["event8"]
    appended = log.save("token-2", current, SYNCED)

    assert appended < 400 < 100 * appended < whole
    assert path.stat().st_size == whole + appended
    assert reopened(path) == CalendarSnapshot("token-2", current, SYNCED)


def test_nothing_changed_writes_nothing(path: Path) -> None:
    log = CalendarLog(str(path), CALENDAR)
    current = events(3)
    log.save("token-1", current, SYNCED)

    assert log.save("token-1", dict(current), SYNCED) == 0


def test_the_file_is_compacted_once_dead_lines_outweigh_live_ones(path: Path) -> None:
    """Size stays within about twice what is live, whatever the number of changes."""
    log = CalendarLog(str(path), CALENDAR)
    current = events(500)
    log.save("token-0", current, SYNCED)
    live = path.stat().st_size
    sizes = []
    for n in range(2_000):
        current = {**current, f"event{n % 500}": event(n % 500, f"Change {n}")}
        log.save(f"token-{n}", current, SYNCED)
        sizes.append(path.stat().st_size)

    assert max(sizes) <= 2.2 * live
    assert min(sizes) < 1.2 * live  # compacted at least once
    assert reopened(path) == CalendarSnapshot("token-1999", current, SYNCED)


def test_a_torn_last_line_is_ignored_and_the_file_rewritten(path: Path) -> None:
    """A crash mid-append: the batch's whole lines count, its sync token does not.

    The token line comes last in a batch, so the next sync lists the batch's
    changes again from the token before it; the next write starts afresh.
    """
    log = CalendarLog(str(path), CALENDAR)
    log.save("token-1", events(2), SYNCED)
    whole = events(3)["event2"]
    with path.open("ab") as file:
        file.write(orjson.dumps({"event": whole}) + b"\n")
        file.write(b'{"event": {"id": "event9", "summ')

    log = CalendarLog(str(path), CALENDAR)
    assert log.load() == CalendarSnapshot("token-1", events(3), SYNCED)
    log.save("token-2", events(3), SYNCED)

    assert reopened(path) == CalendarSnapshot("token-2", events(3), SYNCED)
    assert b"summ\n" not in path.read_bytes()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"{not json\n", "unexpected character"),
        (b'{"format": 2, "calendar_id": "user@example.com"}\n', "format 1"),
        (b'{"format": 1, "calendar_id": "other@example.com"}\n', "snapshot of"),
        (HEADER + b"[1]\n", "a record"),
        (HEADER + b'{"x": 1}\n', "unknown"),
        (HEADER + b'{"event": []}\n', "not an object"),
        (HEADER + b'{"sync_token": 5}\n', "sync_token"),
        (HEADER + b'{"sync_token": "t", "last_synced": "2026-01-01T00:00"}\n', "naive"),
    ],
)
def test_an_unusable_file_raises_and_is_rewritten_whole(
    path: Path, content: bytes, problem: str
) -> None:
    path.write_bytes(content)
    log = CalendarLog(str(path), CALENDAR)

    with pytest.raises((ValueError, TypeError), match=problem):
        log.load()
    log.save("token-1", events(1), SYNCED)

    assert reopened(path) == CalendarSnapshot("token-1", events(1), SYNCED)


def test_text_json_cannot_hold_is_saved_safely(path: Path) -> None:
    """A lone surrogate (Google may escape one) never fails a save."""
    broken = {**event(1), "summary": "Lunch \ud83c", "sequence": 2**70}
    log = CalendarLog(str(path), CALENDAR)
    log.save(None, {"event1": event(0) | {"id": "event1"}}, None)
    log.save(None, {"event1": broken}, None)

    stored = reopened(path)
    assert stored is not None
    assert stored.events["event1"]["summary"] == "Lunch \ufffd"
    assert stored.events["event1"]["sequence"] == str(2**70)


def test_a_failed_append_makes_the_next_write_whole(path: Path) -> None:
    log = CalendarLog(str(path), CALENDAR)
    log.save("token-1", events(2), SYNCED)

    with (
        patch("builtins.open", side_effect=OSError("disk full")),
        pytest.raises(OSError, match="disk full"),
    ):
        log.save("token-2", events(3), SYNCED)
    log.save("token-3", events(4), SYNCED)

    assert reopened(path) == CalendarSnapshot("token-3", events(4), SYNCED)


def test_remove_deletes_the_file(path: Path) -> None:
    log = CalendarLog(str(path), CALENDAR)
    log.save(None, {}, None)

    log.remove()
    log.remove()

    assert not path.exists()
