"""Event types, the user's answer, free or busy, and the views they put events in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings, strategies as st

from custom_components.google_calendar_sync.google.event_views import (
    BusyTimeline,
    CalendarViews,
    EventType,
    EventView,
    ResponseStatus,
    event_type,
    event_view,
    is_free,
    partition,
    response_status,
)
from custom_components.google_calendar_sync.google.timeline import CalendarTimeline

ME = "user@example.com"
FIRST = datetime(2030, 1, 1, 9, tzinfo=UTC)
RANGE = (FIRST - timedelta(days=1), FIRST + timedelta(days=30))


def _answer(status: str) -> list[dict[str, Any]]:
    return [
        {"email": "boss@example.com", "responseStatus": "accepted"},
        {"email": ME, "self": True, "responseStatus": status},
    ]


def _timed(start: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **fields,
    }


def test_event_types_in_home_assistants_spelling() -> None:
    assert event_type({}) is EventType.DEFAULT
    assert event_type({"eventType": "outOfOffice"}) is EventType.OUT_OF_OFFICE
    assert event_type({"eventType": "focusTime"}) is EventType.FOCUS_TIME
    assert event_type({"eventType": "fromGmail"}) is EventType.FROM_GMAIL
    # A type Google adds later is shown like a default event.
    assert event_type({"eventType": "somethingNew"}) is EventType.DEFAULT


def test_the_users_own_answer() -> None:
    assert response_status({}) is None
    assert response_status({"attendees": [{"email": "x@example.com"}]}) is None
    assert (
        response_status({"attendees": _answer("declined")}) is ResponseStatus.DECLINED
    )
    assert (
        response_status({"attendees": _answer("needsAction")})
        is ResponseStatus.NEEDS_ACTION
    )
    assert response_status({"attendees": "broken"}) is None


def test_free_and_busy() -> None:
    assert is_free({"transparency": "transparent"})
    assert not is_free({"transparency": "opaque"})
    assert not is_free({})


def test_views_keep_birthdays_working_locations_and_declined_apart() -> None:
    assert event_view({"eventType": "birthday"}) is EventView.BIRTHDAYS
    assert event_view({"eventType": "workingLocation"}) is EventView.WORKING_LOCATIONS
    assert event_view({"attendees": _answer("declined")}) is EventView.DECLINED
    assert event_view({"attendees": _answer("tentative")}) is EventView.CALENDAR
    assert event_view({"eventType": "outOfOffice"}) is EventView.CALENDAR
    assert event_view({"eventType": "focusTime"}) is EventView.CALENDAR


def test_a_declined_instance_leaves_its_series_for_the_declined_view() -> None:
    master = _timed(
        FIRST,
        id="series",
        summary="Standup",
        recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        attendees=_answer("accepted"),
    )
    second = FIRST + timedelta(days=1)
    declined = _timed(
        second,
        id="series_20300102T090000Z",
        summary="Standup",
        recurringEventId="series",
        originalStartTime={"dateTime": second.isoformat()},
        attendees=_answer("declined"),
    )
    views = CalendarViews.build([master, declined], default_time_zone="UTC")
    shown = views.timelines[EventView.CALENDAR].overlapping(*RANGE)
    hidden = views.timelines[EventView.DECLINED].overlapping(*RANGE)
    assert [event.start for event in shown] == [FIRST, FIRST + timedelta(days=2)]
    assert [(event.uid, event.start) for event in hidden] == [(declined["id"], second)]
    assert [e.uid for e in views.busy.overlapping(*RANGE)] == [e.uid for e in shown]


def test_free_events_are_left_out_of_the_busy_timeline() -> None:
    views = CalendarViews.build(
        [
            _timed(FIRST, id="busy1", summary="Busy"),
            _timed(FIRST, id="free1", summary="Free", transparency="transparent"),
        ],
        default_time_zone="UTC",
    )
    assert [e.uid for e in views.timelines[EventView.CALENDAR].overlapping(*RANGE)] == [
        "busy1",
        "free1",
    ]
    assert [e.uid for e in views.busy.overlapping(*RANGE)] == ["busy1"]
    views.warm(FIRST)
    assert views.busy.active_or_next(FIRST).uid == "busy1"  # type: ignore[union-attr]


_KIND = st.sampled_from(
    ["plain", "declined", "free", "birthday", "workingLocation", "outOfOffice"]
)


def _fields(kind: str) -> dict[str, Any]:
    match kind:
        case "declined":
            return {"attendees": _answer("declined")}
        case "free":
            return {"transparency": "transparent"}
        case "plain":
            return {}
    return {"eventType": kind}


@settings(max_examples=60, deadline=None)
@given(
    master_kind=_KIND,
    exceptions=st.dictionaries(
        st.integers(0, 9), st.one_of(st.just("cancelled"), _KIND), max_size=6
    ),
    singles=st.lists(_KIND, max_size=4),
)
def test_every_occurrence_shows_in_exactly_one_view(
    master_kind: str, exceptions: dict[int, str], singles: list[str]
) -> None:
    """Splitting by view never loses, duplicates or resurrects an occurrence."""
    events = [
        _timed(
            FIRST,
            id="series",
            summary="Series",
            recurrence=["RRULE:FREQ=DAILY;COUNT=10"],
            **_fields(master_kind),
        )
    ]
    for day, kind in exceptions.items():
        original = FIRST + timedelta(days=day)
        exception = _timed(
            original + timedelta(hours=2),
            id=f"series_{original:%Y%m%dT%H%M%SZ}",
            summary="Changed",
            recurringEventId="series",
            originalStartTime={"dateTime": original.isoformat()},
        )
        if kind == "cancelled":
            exception["status"] = "cancelled"
        else:
            exception.update(_fields(kind))
        events.append(exception)
    events.extend(
        _timed(FIRST + timedelta(days=n), id=f"single{n}", summary="One", **_fields(k))
        for n, k in enumerate(singles)
    )

    everything = CalendarTimeline(events, default_time_zone="UTC").overlapping(*RANGE)
    views = CalendarViews.build(events, default_time_zone="UTC")
    by_view = {view: views.timelines[view].overlapping(*RANGE) for view in EventView}
    assert sorted(
        (event.uid, event.start) for found in by_view.values() for event in found
    ) == sorted((event.uid, event.start) for event in everything)
    for view, found in by_view.items():
        assert all(event_view(event.source) is view for event in found)
    assert [(e.uid, e.start) for e in views.busy.overlapping(*RANGE)] == [
        (e.uid, e.start) for e in by_view[EventView.CALENDAR] if not is_free(e.source)
    ]


def test_partition_keeps_cancelled_exceptions_with_their_series() -> None:
    master = _timed(
        FIRST, id="s", recurrence=["RRULE:FREQ=DAILY"], eventType="birthday"
    )
    cancelled = {
        "id": "s_20300102T090000Z",
        "status": "cancelled",
        "recurringEventId": "s",
        "originalStartTime": {"dateTime": (FIRST + timedelta(days=1)).isoformat()},
    }
    orphan = {**cancelled, "id": "x_1", "recurringEventId": "x"}
    parts = partition([master, cancelled, orphan], event_view)
    assert parts == {
        EventView.BIRTHDAYS: [master, cancelled],
        EventView.CALENDAR: [orphan],
    }


def _pool_event(event_id: str, kind: str, hours: int) -> dict[str, Any]:
    """Return an event of the pool below in a view kind, moved by hours."""
    if event_id.startswith("series_"):
        original = FIRST + timedelta(days=int(event_id[-1]))
        fields: dict[str, Any] = {
            "recurringEventId": "series",
            "originalStartTime": {"dateTime": original.isoformat()},
        }
        if kind == "cancelled":
            return {"id": event_id, "status": "cancelled", **fields}
        event = _timed(original + timedelta(hours=hours), id=event_id, **fields)
    elif event_id == "series":
        event = _timed(
            FIRST + timedelta(hours=hours),
            id=event_id,
            recurrence=["RRULE:FREQ=DAILY;COUNT=10"],
        )
    else:
        event = _timed(FIRST + timedelta(hours=hours), id=event_id)
    return {**event, "summary": f"{event_id} {kind} {hours}", **_fields(kind)}


@settings(max_examples=100, deadline=None)
@given(
    changes=st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["series", "series_2", "series_5", "one", "two"]),
                st.one_of(st.none(), st.just("cancelled"), _KIND),
                st.integers(0, 30),
            ),
            min_size=1,
            max_size=3,
        ),
        max_size=6,
    )
)
def test_applied_changes_answer_what_a_build_answers(
    changes: list[list[tuple[str, str | None, int]]],
) -> None:
    """Views kept in step change by change equal views built from the snapshot."""
    snapshot: dict[str, dict[str, Any]] = {}
    views = CalendarViews.build([], default_time_zone="UTC")
    for batch in changes:
        for event_id, kind, hours in batch:
            if kind is None or (kind == "cancelled" and event_id in ("one", "two")):
                snapshot.pop(event_id, None)
            else:
                snapshot[event_id] = _pool_event(event_id, kind, hours)
        views.apply(snapshot, [event_id for event_id, _, _ in batch])

    built = CalendarViews.build(snapshot.values(), default_time_zone="UTC")

    def seen(timeline: CalendarTimeline | BusyTimeline) -> list[tuple[str, Any, str]]:
        return [(e.uid, e.start, e.summary) for e in timeline.overlapping(*RANGE)]

    for view in EventView:
        assert seen(views.timelines[view]) == seen(built.timelines[view])
    assert seen(views.busy) == seen(built.busy)
