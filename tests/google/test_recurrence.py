"""Recurring events: what the timeline can expand, and where a series ends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.google_calendar_sync.google.recurrence import (
    check_recurrence,
    series_ends_before,
)


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
