"""Our own writes: a sync never announces them, a listing that predates them never undoes them.

End to end (writes racing syncs through the emulator) in test_reliability_own_writes.py
and test_reliability_convergence.py; here the reconciliation of one listing.
"""

from __future__ import annotations

from custom_components.google_calendar_sync.google.diff import (
    ChangeKind,
    ChangeSet,
    EventChange,
)
from custom_components.google_calendar_sync.google.sync import (
    CalendarSnapshot,
    SyncResult,
)
from custom_components.google_calendar_sync.own_writes import OwnWrites


def test_our_writes_without_timestamps_or_cancelled_are_kept() -> None:
    """Without `updated` our write wins; a series we cancelled stays forgotten."""
    listed_master = {"id": "series", "etag": '"1"', "status": "confirmed"}
    listed_exception = {"id": "series_x", "etag": '"2"', "recurringEventId": "series"}
    ours = {"id": "single", "etag": '"5"', "summary": "Ours"}
    events = {
        "series": listed_master,
        "series_x": listed_exception,
        "single": {"id": "single", "etag": '"4"', "summary": "Listed"},
    }
    changes = ChangeSet(
        updated=(
            EventChange(ChangeKind.UPDATED, events["single"]),
            EventChange(ChangeKind.UPDATED, listed_exception),
        ),
        created=(EventChange(ChangeKind.CREATED, listed_master),),
    )

    snapshot = CalendarSnapshot("token", events)
    kept = OwnWrites.reconcile(
        SyncResult(snapshot, changes, full_sync=False, requests=1),
        {"single": ours, "series": None},
    )

    assert events == {"single": ours}
    assert kept == ChangeSet()
    assert snapshot.sync_token == "token"


def test_our_write_missing_from_a_full_listing_is_kept_until_a_full_sync() -> None:
    """The full listing may predate our write: keep it, list everything again."""
    ours = {"id": "new", "etag": '"9"', "updated": "2026-01-01T00:00:00.000Z"}
    snapshot = CalendarSnapshot("token", {})
    changes = ChangeSet(cancelled=(EventChange(ChangeKind.CANCELLED, ours),))

    kept = OwnWrites.reconcile(
        SyncResult(snapshot, changes, full_sync=True, requests=1), {"new": ours}
    )

    assert snapshot.events == {"new": ours}
    assert snapshot.sync_token is None
    assert kept == ChangeSet()
