"""Tests of the reusable field validators of the actions."""

from __future__ import annotations

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
