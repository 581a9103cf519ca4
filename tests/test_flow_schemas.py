"""The forms of the config flow: which calendars are offered and chosen by default."""

from __future__ import annotations

from homeassistant.helpers.selector import SelectSelectorMode
import probatio
import pytest

from custom_components.google_calendar_sync.flow_schemas import (
    calendar_selector,
    calendars_schema,
    default_selection,
)

CALENDARS = [
    {"id": "me@example.com", "summary": "me@example.com", "primary": True},
    {"id": "family", "summary": "Family", "accessRole": "writer"},
    {"id": "team", "summary": "Team", "summaryOverride": "Work", "accessRole": "owner"},
    {"id": "holidays", "summary": "Holidays", "accessRole": "reader"},
    {"id": "busy", "accessRole": "freeBusyReader"},
]


def test_default_selection_is_what_the_account_may_write_and_what_was_named() -> None:
    """Read-only calendars are offered but not ticked, unless the user named them."""
    assert default_selection(CALENDARS) == ["me@example.com", "family", "team"]
    assert default_selection(CALENDARS, ["holidays"]) == [
        "me@example.com",
        "family",
        "team",
        "holidays",
    ]


def test_reconfigure_ticks_the_synced_calendars_and_the_named_ones() -> None:
    """What is synced stays ticked, read-only or not; named calendars join it."""
    assert default_selection(CALENDARS, ["busy"], ["holidays", "family"]) == [
        "holidays",
        "family",
        "busy",
    ]


def test_calendars_are_offered_by_the_name_the_user_knows() -> None:
    """The user's own name for a calendar wins, then Google's, then its id."""
    selector = calendar_selector(CALENDARS, mode=SelectSelectorMode.DROPDOWN)
    assert [(o["value"], o["label"]) for o in selector.config["options"]] == [
        ("me@example.com", "me@example.com"),
        ("family", "Family"),
        ("team", "Work"),
        ("holidays", "Holidays"),
        ("busy", "busy"),
    ]
    assert selector.config["multiple"]
    assert selector.config["mode"] == SelectSelectorMode.DROPDOWN


def test_calendar_form_refuses_a_calendar_it_does_not_offer() -> None:
    """Only listed calendars can be chosen; the default is filled in."""
    schema = calendars_schema(CALENDARS, ["family"])
    assert schema({}) == {"calendars": ["family"]}
    assert schema({"calendars": ["team"]}) == {"calendars": ["team"]}
    with pytest.raises(probatio.Invalid, match="invalid_calendars"):
        schema({"calendars": ["nowhere"]})
