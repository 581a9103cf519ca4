"""Recurring events: what the timeline can expand, and where a series ends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
import threading
from typing import Any
from unittest.mock import patch

import pytest

from custom_components.google_calendar_sync.google import (
    recurrence as recurrence_module,
)
from custom_components.google_calendar_sync.google.recurrence import (
    check_recurrence,
    series_ends_before,
)
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline


def daily(event_id: str, rule: str) -> dict[str, Any]:
    """Return a daily series from 5 January 2026, 10:00 UTC."""
    return {
        "id": event_id,
        "start": {"dateTime": "2026-01-05T10:00:00+00:00"},
        "end": {"dateTime": "2026-01-05T10:30:00+00:00"},
        "recurrence": [rule],
    }


def test_series_ends_before() -> None:
    finished = daily("finished", "RRULE:FREQ=DAILY;COUNT=2")
    endless = daily("endless", "RRULE:FREQ=DAILY")

    assert series_ends_before(finished, datetime(2026, 2, 1, tzinfo=UTC))
    assert not series_ends_before(finished, datetime(2026, 1, 6, tzinfo=UTC))
    assert not series_ends_before(endless, datetime(2030, 1, 1, tzinfo=UTC))
    assert not series_ends_before({"id": "x"}, datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    "event",
    [
        {"recurrence": ["RRULE:FREQ=DAILY"]},
        {
            "start": {"date": "2026-01-01"},
            "end": {"dateTime": "2026-01-01T10:00:00Z"},
            "recurrence": ["RRULE:FREQ=DAILY"],
        },
        {
            "start": {"date": "2026-01-01"},
            "end": {"date": "2026-01-02"},
            "recurrence": ["RRULE:FREQ=WHENEVER"],
        },
    ],
)
def test_check_recurrence_refuses_what_the_timeline_cannot_expand(
    event: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        check_recurrence(event)


def test_a_query_never_waits_for_a_thread_expanding_the_same_series() -> None:
    """A rebuild in the executor expands a series the loop reads: the loop answers.

    The rebuilt timeline reuses the published one's series. While the rebuild
    expands one (here: held while it reads the rules), a query of the published
    timeline answers from the rules instead of waiting for it.
    """
    master = daily("standup", "RRULE:FREQ=DAILY")
    published = CalendarTimeline([master], default_time_zone="UTC")
    published.overlapping(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    )
    june = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
    expanding, answered = threading.Event(), threading.Event()
    released: list[bool] = []
    parse_rule = recurrence_module.parse_rule
    querying = threading.get_ident()

    def held_parse_rule(*args: Any) -> Any:
        if threading.get_ident() != querying:
            expanding.set()
            # Held until the query below answered; the timeout only ends a hang.
            released.append(answered.wait(timeout=5))
        return parse_rule(*args)

    def rebuild() -> list[str]:
        rebuilt = CalendarTimeline(
            [master], default_time_zone="UTC", reuse=published.series
        )
        return [event.uid for event in rebuilt.overlapping(*june)]

    with (
        patch.object(recurrence_module, "parse_rule", held_parse_rule),
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pending = pool.submit(rebuild)
        assert expanding.wait(timeout=5)
        answer = [event.uid for event in published.overlapping(*june)]
        following = published.active_or_next(datetime(2026, 6, 10, 11, tzinfo=UTC))
        answered.set()
        rebuilt = pending.result()

    assert released == [True]
    assert answer == rebuilt
    assert len(answer) == 30
    assert following is not None
    assert following.start == datetime(2026, 6, 11, 10, tzinfo=UTC)
