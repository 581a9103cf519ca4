"""Tests of the action fields: validators, zones and the order of start and end."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.google_calendar_sync import fields


def test_validators_return_clean_values() -> None:
    """Valid input comes back normalised: trimmed text, whole minutes, a list."""
    assert fields.SUMMARY("  Dentist ") == "Dentist"
    assert fields.reminders("15") == [15]
    assert fields.attendees("alice@example.com") == ["alice@example.com"]


@pytest.mark.parametrize(
    ("validator", "value", "key", "placeholders"),
    [
        (fields.SUMMARY, "", "invalid_summary", {}),
        (
            fields.reminders,
            ["x"],
            "invalid_reminder",
            {"minutes": "x", "maximum": "40320"},
        ),
        (fields.attendees, ["a@"], "invalid_attendee", {"email": "a@"}),
    ],
)
def test_validators_name_their_translated_message(
    validator: fields.Validator, value: object, key: str, placeholders: dict[str, str]
) -> None:
    """A refused value carries the key and placeholders of its message."""
    with pytest.raises(fields.FieldInvalid) as err:
        validator(value)
    assert err.value.field_key == key
    assert err.value.field_placeholders == placeholders


def test_a_naive_time_takes_the_zone_asked_for() -> None:
    """A time without a zone gets the call's; a time with one keeps it."""
    zone = ZoneInfo("Europe/Berlin")
    naive = datetime(2030, 1, 7, 9, 0)  # noqa: DTZ001 - naive on purpose
    assert fields.localize(naive, zone) == naive.replace(tzinfo=zone)
    aware = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    assert fields.localize(aware, zone) is aware


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        (date(2030, 1, 8), date(2030, 1, 7), "end_before_start"),
        (date(2030, 1, 7), date(2030, 1, 7), "end_before_start"),
        (date(2030, 1, 7), datetime(2030, 1, 8, tzinfo=UTC), "mixed_start_end"),
    ],
)
def test_an_end_must_come_after_a_start_of_its_kind(
    start: date, end: date, key: str
) -> None:
    """Dates go with dates, times with times, and the end is later."""
    with pytest.raises(ServiceValidationError) as err:
        fields.check_order(start, end)
    assert err.value.translation_key == key
    fields.check_order(date(2030, 1, 7), date(2030, 1, 8))
