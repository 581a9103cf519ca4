"""Protocol tests that run against the emulator and, with credentials, real Google.

The "google" variants carry the `contract` marker and are skipped with a reason unless
GOOGLE_CALENDAR_CONTRACT_REFRESH_TOKEN, _CLIENT_ID and _CLIENT_SECRET are set.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any
import uuid

from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest
import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.contract import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_REFRESH_TOKEN,
    SKIP_REASON,
    CalendarBackend,
    GoogleCredentials,
    emulator_backend,
    google_backend,
    google_credentials,
)

CREDENTIALS = google_credentials()

# The emulator always runs; Google only when a developer supplied credentials.
backends = pytest.mark.parametrize(
    "backend_name",
    [
        "emulator",
        pytest.param(
            "google",
            marks=[
                pytest.mark.contract,
                pytest.mark.skipif(CREDENTIALS is None, reason=SKIP_REASON),
            ],
        ),
    ],
)


class Api:
    """The real client on a backend; every call runs in the executor."""

    def __init__(self, backend: CalendarBackend, service: Any) -> None:
        self.backend = backend
        self.service = service

    async def __call__(self, make_request: Callable[[Any], Any]) -> Any:
        request = make_request(self.service)
        return await asyncio.to_thread(request.execute, http=self.backend.new_http())

    async def batch(self, add: Callable[[Any, BatchHttpRequest], None]) -> list[Any]:
        results: list[Any] = []

        def callback(_: str, response: Any, error: HttpError | None) -> None:
            results.append(error or response)

        batch = BatchHttpRequest(callback=callback, batch_uri=self.backend.batch_uri)
        add(self.service, batch)
        await asyncio.to_thread(batch.execute, http=self.backend.new_http())
        return results


@pytest.fixture
async def calendar_backend(
    backend_name: str, calendar_emulator: GoogleCalendarEmulator
) -> AsyncGenerator[CalendarBackend]:
    """Yield the emulator or Google, each with a scratch calendar."""
    if backend_name == "google":
        assert CREDENTIALS is not None
        async with google_backend(CREDENTIALS) as backend:
            yield backend
        return
    async with emulator_backend(calendar_emulator) as backend:
        yield backend


@pytest.fixture
async def api(calendar_backend: CalendarBackend) -> Api:
    """Return the real client on the chosen backend."""
    service = await asyncio.to_thread(calendar_backend.build_service)
    return Api(calendar_backend, service)


def _event(summary: str, hour: int = 9) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": f"2030-01-07T{hour:02d}:00:00Z"},
        "end": {"dateTime": f"2030-01-07T{hour:02d}:30:00Z"},
    }


@backends
async def test_insert_then_list(api: Api) -> None:
    calendar_id = api.backend.calendar_id
    inserted = await api(
        lambda s: s.events().insert(calendarId=calendar_id, body=_event("Insert"))
    )
    listed = await api(lambda s: s.events().list(calendarId=calendar_id))

    assert inserted["kind"] == "calendar#event"
    assert inserted["status"] == "confirmed"
    assert {"id", "etag", "iCalUID", "created", "updated"} <= set(inserted)
    assert [event["id"] for event in listed["items"]] == [inserted["id"]]
    assert listed["kind"] == "calendar#events"
    assert "nextSyncToken" in listed
    assert "nextPageToken" not in listed


@backends
async def test_sync_token_returns_exactly_the_changes(api: Api) -> None:
    calendar_id = api.backend.calendar_id
    events = api.service.events()
    kept = await api(
        lambda s: events.insert(calendarId=calendar_id, body=_event("Kept"))
    )
    gone = await api(
        lambda s: events.insert(calendarId=calendar_id, body=_event("Gone", 10))
    )
    first = await api(lambda s: events.list(calendarId=calendar_id))

    added = await api(
        lambda s: events.insert(calendarId=calendar_id, body=_event("Added", 11))
    )
    await api(lambda s: events.delete(calendarId=calendar_id, eventId=gone["id"]))
    changes = await api(
        lambda s: events.list(calendarId=calendar_id, syncToken=first["nextSyncToken"])
    )

    by_id = {event["id"]: event for event in changes["items"]}
    assert set(by_id) == {added["id"], gone["id"]}
    assert by_id[gone["id"]]["status"] == "cancelled"
    assert by_id[added["id"]]["status"] == "confirmed"
    assert kept["id"] not in by_id
    assert changes["nextSyncToken"] != first["nextSyncToken"]


@backends
async def test_garbage_sync_token_answers_410_full_sync_required(api: Api) -> None:
    calendar_id = api.backend.calendar_id
    with pytest.raises(HttpError) as err:
        await api(
            lambda s: s.events().list(
                calendarId=calendar_id, syncToken=f"garbage{uuid.uuid4().hex}"
            )
        )

    assert err.value.status_code == 410
    assert err.value.error_details[0]["reason"] == "fullSyncRequired"


@backends
async def test_batch_inserts(api: Api) -> None:
    calendar_id = api.backend.calendar_id
    results = await api.batch(
        lambda service, batch: [
            batch.add(
                service.events().insert(
                    calendarId=calendar_id, body=_event(f"Batch {n}", 8 + n)
                )
            )
            for n in range(3)
        ]
    )
    listed = await api(lambda s: s.events().list(calendarId=calendar_id))

    assert sorted(result["summary"] for result in results) == [
        "Batch 0",
        "Batch 1",
        "Batch 2",
    ]
    assert len(listed["items"]) == 3


def test_credentials_come_from_the_environment() -> None:
    assert google_credentials({}) is None
    assert google_credentials({ENV_REFRESH_TOKEN: "r", ENV_CLIENT_ID: "i"}) is None
    assert google_credentials(
        {ENV_REFRESH_TOKEN: "r", ENV_CLIENT_ID: "i", ENV_CLIENT_SECRET: "s"}
    ) == GoogleCredentials("r", "i", "s")
