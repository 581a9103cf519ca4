"""Stored JSON read back: what is usable is kept, each unusable part named."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.google_calendar_sync.google.sync import CalendarSnapshot
from custom_components.google_calendar_sync.stored import (
    StoredChannel,
    StoredData,
    channel_to_dict,
    parse_index,
    parse_stored_data,
)

CALENDAR = "user@example.com"
CHANNEL = StoredChannel(
    calendar_id=CALENDAR,
    channel_id="channel-1",
    resource_id="resource-1",
    token="secret",
    expiration=datetime(2026, 5, 8, 12, tzinfo=UTC),
)
EVENT = {
    "id": "abc123",
    "summary": "Dentist",
    "start": {"dateTime": "2026-05-04T10:00:00+02:00"},
    "end": {"dateTime": "2026-05-04T11:00:00+02:00"},
}


def test_channels_read_back_as_written() -> None:
    raw = {"calendars": [CALENDAR], "channels": {CALENDAR: channel_to_dict(CHANNEL)}}

    assert parse_index(raw) == ({CALENDAR: CHANNEL}, [CALENDAR], {})


def test_the_single_store_of_earlier_versions_reads_back() -> None:
    raw = {
        "calendars": {
            CALENDAR: {
                "sync_token": "t",
                "events": {"abc123": EVENT},
                "last_synced": "2026-05-01T12:30:00+00:00",
            }
        },
        "channels": {CALENDAR: channel_to_dict(CHANNEL)},
    }

    assert parse_stored_data(raw) == (
        StoredData(
            calendars={
                CALENDAR: CalendarSnapshot(
                    "t", {"abc123": EVENT}, datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
                )
            },
            channels={CALENDAR: CHANNEL},
        ),
        {},
    )


@pytest.mark.parametrize(
    ("calendar", "problem"),
    [
        ({"events": {"abc123": {**EVENT, "id": "other"}}}, "id differs"),
        ({"events": {"abc123": []}}, "not an object"),
        ({"events": {}, "sync_token": 5}, "sync_token"),
        ({"calendar_id": "other@example.com"}, "snapshot of"),
    ],
)
def test_an_unusable_part_costs_only_itself(calendar: Any, problem: str) -> None:
    raw = {
        "calendars": {CALENDAR: calendar, "other@example.com": {}},
        "channels": {
            CALENDAR: {"calendar_id": CALENDAR},
            "kept": channel_to_dict(CHANNEL),
        },
    }

    data, problems = parse_stored_data(raw)

    assert data == StoredData(
        calendars={"other@example.com": CalendarSnapshot()},
        channels={"kept": CHANNEL},
    )
    assert list(problems) == [f"calendar {CALENDAR}", f"channel {CALENDAR}"]
    assert problem in problems[f"calendar {CALENDAR}"]
    assert "watching anew" in problems[f"channel {CALENDAR}"]


@pytest.mark.parametrize("raw", [[], "text", {"calendars": []}, {"channels": 5}])
def test_a_whole_of_the_wrong_shape_raises(raw: Any) -> None:
    with pytest.raises(TypeError):
        parse_stored_data(raw)


def test_an_index_whose_calendars_are_no_list_raises() -> None:
    with pytest.raises(TypeError, match="calendars"):
        parse_index({"calendars": {}})
