"""Tests of batches of writes: chunks, per-part outcomes, parts retried later."""

from __future__ import annotations

from datetime import timedelta
import logging

from homeassistant.core import HomeAssistant
import pytest

from custom_components.google_calendar_sync.google.batch import (
    BatchOperation,
    BatchOutcome,
)
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints
from custom_components.google_calendar_sync.google.errors import (
    GoogleConflictError,
    GoogleNotFoundError,
    GooglePreconditionFailedError,
    GoogleRateLimitError,
)
from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.faults import FaultKind
from tests.common import FakeSleep
from tests.conftest import ACCOUNT

from .conftest import START, client_with_expired_token, timed_event


@pytest.mark.parametrize("kind", [FaultKind.NOT_UTF8, FaultKind.HTML, FaultKind.EMPTY])
async def test_a_garbled_batch_answer_is_retried_whole(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
    kind: FaultKind,
) -> None:
    calendar_emulator.faults.add(kind, path_contains="/batch/")
    outcomes = await client.execute_batch(
        [
            BatchOperation(
                "insert", ACCOUNT, timed_event("Eventually", START, id="garbled1")
            )
        ]
    )
    # The first batch was applied before its answer got lost: the retry conflicts.
    assert outcomes[0].error is None or isinstance(
        outcomes[0].error, GoogleConflictError
    )
    assert sleeps.delays == [1.0]
    assert [event["id"] for event in calendar_emulator.events(ACCOUNT)] == ["garbled1"]


async def test_a_garbled_batch_part_is_retried_in_a_later_batch(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    kept = calendar_emulator.insert_event(ACCOUNT, timed_event("Kept", START))
    calendar_emulator.faults.add(FaultKind.HTML, path_contains="/events/")
    outcomes = await client.execute_batch(
        [BatchOperation("patch", ACCOUNT, {"summary": "Renamed"}, event_id=kept["id"])]
    )
    assert outcomes[0].error is None
    assert outcomes[0].result is not None
    assert outcomes[0].result["summary"] == "Renamed"
    assert sleeps.delays == [1.0]


async def test_a_batch_logs_no_warning(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await client.execute_batch(
        [
            BatchOperation("insert", ACCOUNT, timed_event(f"Quiet {n}", START))
            for n in range(3)
        ]
    )
    assert len(calendar_emulator.events(ACCOUNT)) == 3
    # The client library's and ours: asyncio's slow-callback notes depend on load.
    assert [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and record.name.startswith(("googleapiclient", "custom_components"))
    ] == []


async def test_retry_after_of_batch_parts_is_honoured(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(
        429, path_contains="/calendar/v3/calendars/", retry_after="5"
    )
    calendar_emulator.faults.fail_next(
        503, path_contains="/calendar/v3/calendars/", retry_after="3"
    )
    outcomes = await client.execute_batch(
        [
            BatchOperation("insert", ACCOUNT, timed_event(f"Slow {n}", START))
            for n in range(3)
        ]
    )
    assert [outcome.error for outcome in outcomes] == [None, None, None]
    assert sleeps.delays == [5.0]


async def test_batch_of_120_inserts_takes_three_batch_requests(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    operations = [
        BatchOperation(
            "insert",
            ACCOUNT,
            timed_event(f"Item {number}", START + timedelta(hours=number)),
        )
        for number in range(120)
    ]
    outcomes = await client.execute_batch(operations)
    assert [outcome.operation for outcome in outcomes] == operations
    assert all(outcome.error is None for outcome in outcomes)
    assert [outcome.result["summary"] for outcome in outcomes if outcome.result] == [
        f"Item {number}" for number in range(120)
    ]
    assert client.request_count == 3
    batch_requests = [
        entry
        for entry in calendar_emulator.requests.matching("POST", "/batch/calendar/v3")
        if not entry.batch_part
    ]
    assert len(batch_requests) == 3
    assert len(calendar_emulator.events(ACCOUNT)) == 120


async def test_batch_surfaces_per_part_failures(
    client: GoogleCalendarApi, calendar_emulator: GoogleCalendarEmulator
) -> None:
    kept = calendar_emulator.insert_event(ACCOUNT, timed_event("Kept", START))
    doomed = calendar_emulator.insert_event(ACCOUNT, timed_event("Doomed", START))
    calendar_emulator.insert_event(
        ACCOUNT, timed_event("Exists", START, id="dupe12345")
    )
    operations = [
        BatchOperation(
            "insert", ACCOUNT, timed_event("Duplicate", START, id="dupe12345")
        ),
        BatchOperation("patch", ACCOUNT, {"summary": "Renamed"}, event_id=kept["id"]),
        BatchOperation(
            "patch", ACCOUNT, {"summary": "Stale"}, event_id=kept["id"], etag='"stale"'
        ),
        BatchOperation("delete", ACCOUNT, event_id=doomed["id"], etag=doomed["etag"]),
        BatchOperation("delete", ACCOUNT, event_id="missing1"),
    ]
    outcomes = await client.execute_batch(operations)
    assert isinstance(outcomes[0].error, GoogleConflictError)
    assert outcomes[1].error is None
    assert outcomes[1].result is not None
    assert outcomes[1].result["summary"] == "Renamed"
    assert isinstance(outcomes[2].error, GooglePreconditionFailedError)
    assert outcomes[3] == BatchOutcome(operations[3], None, None)
    assert isinstance(outcomes[4].error, GoogleNotFoundError)
    assert client.request_count == 1


async def test_batch_retries_rate_limited_parts_in_a_later_batch(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    # Parts are addressed under /calendar/v3/calendars/, the outer request is not.
    calendar_emulator.faults.fail_next(
        403,
        reason="rateLimitExceeded",
        times=2,
        path_contains="/calendar/v3/calendars/",
    )
    operations = [
        BatchOperation("insert", ACCOUNT, timed_event(f"Item {number}", START))
        for number in range(4)
    ]
    outcomes = await client.execute_batch(operations)
    assert all(outcome.error is None for outcome in outcomes)
    assert len(calendar_emulator.events(ACCOUNT)) == 4
    assert client.request_count == 2
    assert sleeps.delays == [1.0]


async def test_batch_gives_up_on_parts_that_stay_rate_limited(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(
        429, times=100, path_contains="/calendar/v3/calendars/"
    )
    outcomes = await client.execute_batch(
        [BatchOperation("insert", ACCOUNT, timed_event("Never", START))]
    )
    assert isinstance(outcomes[0].error, GoogleRateLimitError)
    assert client.request_count == 5
    assert sleeps.delays == [1.0, 2.0, 4.0, 8.0]


async def test_batch_request_failure_is_retried_whole(
    client: GoogleCalendarApi,
    calendar_emulator: GoogleCalendarEmulator,
    sleeps: FakeSleep,
) -> None:
    calendar_emulator.faults.fail_next(503, path_contains="/batch/")
    calendar_emulator.faults.drop_next(path_contains="/batch/")
    outcomes = await client.execute_batch(
        [BatchOperation("insert", ACCOUNT, timed_event("Eventually", START))]
    )
    assert outcomes[0].error is None
    assert client.request_count == 3
    assert sleeps.delays == [1.0, 2.0]


async def test_batch_parts_rejected_with_401_are_refreshed_and_resent(
    hass: HomeAssistant,
    endpoints: GoogleEndpoints,
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    client, auth = await client_with_expired_token(hass, endpoints, calendar_emulator)
    outcomes = await client.execute_batch(
        [BatchOperation("insert", ACCOUNT, timed_event("Authorized", START))]
    )
    assert outcomes[0].error is None
    assert auth.refreshes == 1
    # The client library resends only the rejected parts, in a second batch.
    assert client.request_count == 2
