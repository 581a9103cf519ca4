"""Tests of the model: Google's resources and the one parser of each concept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.model import (
    Attendee,
    CalendarListEntry,
    Channel,
    Colors,
    ConferenceData,
    Event,
    EventBody,
    EventList,
    Person,
    channel_expiration,
    display_name,
    format_time,
    instance_suffix,
    parse_suffix,
    parse_time,
    split_instance_id,
    zone_named,
)
from tests.conftest import ACCOUNT

BERLIN = ZoneInfo("Europe/Berlin")


def test_format_time_of_dates_and_datetimes() -> None:
    """Dates become all-day values, datetimes keep their IANA zone."""
    assert format_time(date(2025, 3, 1), "UTC") == {"date": "2025-03-01"}
    assert format_time(datetime(2025, 3, 1, 9, tzinfo=BERLIN), "UTC") == {
        "dateTime": "2025-03-01T09:00:00+01:00",
        "timeZone": "Europe/Berlin",
    }
    # A naive datetime is read in the calendar's zone; a fixed offset names it.
    naive = datetime(2025, 3, 1, 9)  # noqa: DTZ001
    assert format_time(naive, "Europe/Berlin") == {
        "dateTime": "2025-03-01T09:00:00+01:00",
        "timeZone": "Europe/Berlin",
    }
    assert format_time(datetime(2025, 3, 1, 9, tzinfo=UTC), "Europe/Berlin") == {
        "dateTime": "2025-03-01T09:00:00+00:00",
        "timeZone": "Europe/Berlin",
    }
    # An unknown calendar zone reads a naive datetime in UTC.
    assert format_time(naive, "Mars/Olympus") == {
        "dateTime": "2025-03-01T09:00:00+00:00",
        "timeZone": "Mars/Olympus",
    }


def test_parse_time_of_dates_and_datetimes() -> None:
    """Google start/end objects read back as dates or aware datetimes."""
    assert parse_time({"date": "2025-03-01"}) == date(2025, 3, 1)
    # Without an offset: the event's zone, else the calendar's (default UTC).
    assert parse_time(
        {"dateTime": "2025-03-01T09:00:00", "timeZone": "Europe/Berlin"}
    ) == datetime(2025, 3, 1, 9, tzinfo=BERLIN)
    assert parse_time({"dateTime": "2025-03-01T09:00:00"}, BERLIN) == datetime(
        2025, 3, 1, 9, tzinfo=BERLIN
    )
    assert parse_time({"dateTime": "2025-03-01T09:00:00"}).tzinfo is UTC
    # With an offset: that moment, shown in the event's zone when it names one.
    shown = parse_time(
        {"dateTime": "2025-03-01T08:00:00Z", "timeZone": "Europe/Berlin"}
    )
    assert isinstance(shown, datetime)
    assert (shown.tzinfo, shown.hour) == (BERLIN, 9)
    kept = parse_time({"dateTime": "2025-03-01T09:00:00+05:00", "timeZone": "nowhere"})
    assert kept.utcoffset() == timedelta(hours=5)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value",
    [{}, {"dateTime": "tomorrow"}, {"date": "2025-02-30"}, {"dateTime": 3}],
)
def test_parse_time_refuses_what_is_not_a_google_time(value: dict[str, object]) -> None:
    """Anything else raises one of the errors readers catch."""
    with pytest.raises((KeyError, ValueError, TypeError)):
        parse_time(value)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, BERLIN, ZoneInfo("America/New_York"), timezone(timedelta(hours=5))]
        ),
    )
)
def test_format_then_parse_is_the_same_moment(moment: datetime) -> None:
    """Whatever we write, we read back as the same instant (DST changes too)."""
    parsed = parse_time(format_time(moment, "UTC"))
    assert isinstance(parsed, datetime)
    assert parsed.astimezone(UTC) == moment.astimezone(UTC)


@given(st.dates(min_value=date(1, 1, 1)))
def test_format_then_parse_a_date_is_that_date(day: date) -> None:
    """All-day bounds round trip as dates."""
    assert parse_time(format_time(day, "UTC")) == day


def test_zone_named_only_knows_iana_names() -> None:
    """Unknown, empty, overlong or non-text names are no zone."""
    assert zone_named("Europe/Berlin") == BERLIN
    for name in ("Mars/Olympus", "", None, 3, "x" * 300, "../etc"):
        assert zone_named(name) is None


def test_instance_suffix_is_utc_or_a_date() -> None:
    """Suffixes are UTC for timed events and plain dates for all-day events."""
    assert instance_suffix(datetime(2025, 3, 1, 9, tzinfo=BERLIN)) == "20250301T080000Z"
    assert instance_suffix(date(2025, 3, 1)) == "20250301"


@given(
    st.one_of(
        st.dates(min_value=date(1000, 1, 1)),
        st.datetimes(
            min_value=datetime(1000, 1, 2),  # noqa: DTZ001
            timezones=st.just(UTC),
        ).map(lambda moment: moment.replace(microsecond=0)),
    )
)
def test_parse_suffix_reads_what_instance_suffix_writes(
    original: date | datetime,
) -> None:
    """Every original start survives its instance id."""
    assert parse_suffix(instance_suffix(original)) == original


@given(st.text())
def test_parse_suffix_never_raises(suffix: str) -> None:
    """Any text is a suffix or not; nothing raises."""
    parsed = parse_suffix(suffix)
    assert parsed is None or isinstance(parsed, date)


@pytest.mark.parametrize(
    ("event_id", "expected"),
    [
        ("abc123_20250301T080000Z", ("abc123", "20250301T080000Z")),
        ("abc123_20250301", ("abc123", "20250301")),
        ("a_b_20250301", ("a_b", "20250301")),
        ("abc123", None),
        ("_20250301", None),
        ("abc123_tomorrow", None),
    ],
)
def test_split_instance_id(event_id: str, expected: tuple[str, str] | None) -> None:
    """Only a series id followed by an original start is an instance id."""
    assert split_instance_id(event_id) == expected


def test_display_name_prefers_the_users_name_for_a_calendar() -> None:
    """summaryOverride, else summary, else the id."""
    calendar = {"id": "c@group", "summary": "Family", "summaryOverride": "Home"}
    assert display_name(calendar) == "Home"
    assert display_name({"id": "c@group", "summary": "Family"}) == "Family"
    assert display_name({"id": "c@group", "summary": ""}) == "c@group"


def _fields(resource: Any) -> frozenset[str]:
    """Return the keys a TypedDict names."""
    return frozenset(resource.__required_keys__ | resource.__optional_keys__)


async def test_googles_answers_hold_only_fields_the_model_names(
    client: GoogleCalendarApi,
) -> None:
    """The TypedDicts name every field of the events, pages and calendars Google sends."""
    body: EventBody = {
        "summary": "Standup",
        "start": {"dateTime": "2030-01-07T09:00:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2030-01-07T09:15:00", "timeZone": "Europe/Berlin"},
        "attendees": [{"email": ACCOUNT}, {"email": "guest@example.com"}],
        "reminders": {
            "useDefault": False,
            "overrides": [{"method": "popup", "minutes": 5}],
        },
        "extendedProperties": {"private": {"origin": "test"}},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
        "conferenceData": {
            "createRequest": {
                "requestId": "standup",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        },
    }
    created = await client.insert_event(ACCOUNT, body, conference_data_version=1)
    page = await client.list_events(ACCOUNT)
    calendars = await client.list_calendars()

    assert {"attendees", "conferenceData", "creator", "organizer"} <= set(created)
    assert set(page) <= _fields(EventList)
    for event in [created, *page.get("items", [])]:
        assert set(event) <= _fields(Event)
        for attendee in event.get("attendees", []):
            assert set(attendee) <= _fields(Attendee)
        for person in (event.get("creator", {}), event.get("organizer", {})):
            assert set(person) <= _fields(Person)
        assert set(event.get("conferenceData", {})) <= _fields(ConferenceData)
    for calendar in calendars:
        assert set(calendar) <= _fields(CalendarListEntry)
    assert set(await client.get_colors()) <= _fields(Colors)


def test_channel_expiration_is_in_milliseconds_since_the_epoch() -> None:
    """Google sends the expiration as a string of milliseconds."""
    assert channel_expiration({"expiration": "1700000000000"}) == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=UTC
    )
    assert channel_expiration({}) is None
    assert channel_expiration({"expiration": "soon"}) is None


@given(st.one_of(st.text(), st.integers(), st.none(), st.floats()))
def test_channel_expiration_never_raises(value: object) -> None:
    """Whatever Google puts there is a time or unknown."""
    channel: Channel = {"expiration": value}  # type: ignore[typeddict-item]
    expiration = channel_expiration(channel)
    assert expiration is None or expiration.tzinfo is UTC
