"""What changed between two snapshots: change sets, changed fields, the diff."""

from __future__ import annotations

from custom_components.google_calendar_sync.google.diff import (
    ChangeKind,
    ChangeSet,
    EventChange,
    changed_fields,
    diff_events,
)

from .conftest import event, kinds, master


def test_change_set_iterates_counts_and_sizes() -> None:
    created = EventChange(ChangeKind.CREATED, event("a"))
    cancelled = EventChange(ChangeKind.CANCELLED, event("b"))
    changes = ChangeSet(created=(created,), cancelled=(cancelled,))

    assert list(changes) == [created, cancelled]
    assert len(changes) == 2
    assert changes.counts() == {"created": 1, "updated": 0, "cancelled": 1}
    assert len(ChangeSet()) == 0


def test_changed_fields_ignore_bookkeeping() -> None:
    old = event("a", "1", updated="2026-01-01T00:00:00Z", sequence=0)
    new = event(
        "a",
        "2",
        updated="2026-01-02T00:00:00Z",
        sequence=1,
        summary="Renamed",
        location="Room 2",
        extendedProperties={"private": {"k": "v"}},
    )

    assert changed_fields(old, new) == ("extendedProperties", "location", "summary")


def test_diff_ignores_exceptions_that_vanish_with_their_master() -> None:
    exception = event("m_1", recurringEventId="m", originalStartTime={})
    orphan = event("o_1", recurringEventId="o", originalStartTime={})

    changes = diff_events(
        {"m": master("m"), "m_1": exception, "o_1": orphan},
        {},
        ["m", "m_1", "o_1"],
    )

    assert kinds(changes) == [("cancelled", "m"), ("cancelled", "o_1")]
