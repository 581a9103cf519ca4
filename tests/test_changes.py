"""The payload of a change: the same for the bus event and the event entities.

Bus events end to end (created, updated, cancelled, first sync silent) are in
tests/test_coordinator.py; here the payload of changes a sync rarely makes.
"""

from __future__ import annotations

from custom_components.google_calendar_sync.changes import change_data
from custom_components.google_calendar_sync.google.colors import ColorPalette
from custom_components.google_calendar_sync.google.diff import ChangeKind, EventChange

from .conftest import ACCOUNT


def test_bus_event_of_a_bare_cancellation_has_no_times() -> None:
    """A cancellation known only by its id still makes a well-formed bus event."""
    data = change_data(
        EventChange(ChangeKind.CANCELLED, {"id": "abc", "status": "cancelled"}),
        entity_id=None,
        calendar={"id": ACCOUNT},
        palette=ColorPalette(),
    )
    assert data["calendar_id"] == ACCOUNT
    assert data["change"] == "cancelled"
    assert data["start"] is None
    assert data["end"] is None
    assert data["all_day"] is False
    assert data["changed_fields"] == []
