"""Fault injection, the request log and in-process dispatch."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import FaultKind, GoogleCalendarEmulator

from .conftest import CalendarClient


def list_primary(service: Any) -> Any:
    """Build an events.list request for the primary calendar."""
    return service.events().list(calendarId="primary")


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (500, None, (500, "backendError")),
        (503, None, (503, "backendError")),
        (403, "rateLimitExceeded", (403, "rateLimitExceeded")),
        (403, "userRateLimitExceeded", (403, "userRateLimitExceeded")),
        (403, "quotaExceeded", (403, "quotaExceeded")),
        (429, None, (429, "rateLimitExceeded")),
    ],
)
async def test_next_request_fails_with_google_error(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    status: int,
    reason: str | None,
    expected: tuple[int, str],
) -> None:
    code, expected_reason = expected
    calendar_emulator.faults.fail_next(status, reason=reason)
    with pytest.raises(HttpError) as err:
        await calendar_client(list_primary)
    assert err.value.status_code == code
    assert err.value.error_details[0]["reason"] == expected_reason
    assert calendar_emulator.faults.pending == 0
    await calendar_client(list_primary)
    assert [entry.status for entry in calendar_emulator.requests] == [code, 200]


async def test_faults_match_method_path_and_count(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    fault = calendar_emulator.faults.fail_next(
        500, times=2, method="POST", path_contains="/events"
    )
    await calendar_client(list_primary)
    body = {"start": {"date": "2026-01-01"}, "end": {"date": "2026-01-02"}}
    for _ in range(2):
        with pytest.raises(HttpError):
            await calendar_client(
                lambda s: s.events().insert(calendarId="primary", body=body)
            )
    await calendar_client(lambda s: s.events().insert(calendarId="primary", body=body))
    assert fault.hits == 2
    assert calendar_emulator.faults.pending == 0

    calendar_emulator.faults.fail_next(500, path_contains="/calendarList")
    calendar_emulator.faults.clear()
    await calendar_client(lambda s: s.calendarList().list())
    with pytest.raises(ValueError, match="Unsupported"):
        calendar_emulator.faults.fail_next(418)


async def test_dropped_connection_and_delay(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    emulator_token: dict[str, Any],
) -> None:
    url = f"{calendar_emulator.api_endpoint}calendars/primary/events"
    headers = {"Authorization": f"Bearer {emulator_token['access_token']}"}
    async with aiohttp.ClientSession() as session:
        calendar_emulator.faults.drop_next(path_contains="/events")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(url, headers=headers, json={})
        # aiohttp (and httplib2) retry an idempotent request once after a disconnect.
        calendar_emulator.faults.drop_next(times=2, method="GET")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.get(url, headers=headers)
    # The server survives a dropped connection.
    await calendar_client(list_primary)

    calendar_emulator.faults.delay_next(0.3)
    started = time.monotonic()
    await calendar_client(list_primary)
    assert time.monotonic() - started >= 0.3
    assert [entry.status for entry in calendar_emulator.requests] == [0, 0, 0, 200, 200]


async def test_garbage_answers_and_retry_after(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> None:
    url = f"{calendar_emulator.api_endpoint}calendars/primary/events"
    headers = {"Authorization": f"Bearer {emulator_token['access_token']}"}
    calendar_emulator.faults.fail_next(429, retry_after="7")
    for kind in (
        FaultKind.NOT_UTF8,
        FaultKind.HTML,
        FaultKind.TRUNCATED,
        FaultKind.EMPTY,
    ):
        calendar_emulator.faults.add(kind)
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "7"
        bodies = []
        for _ in range(4):
            async with session.get(url, headers=headers) as response:
                assert response.status == 200
                bodies.append(await response.read())
        async with session.get(url, headers=headers) as response:
            whole = await response.read()
    not_utf8, html, truncated, empty = bodies
    with pytest.raises(UnicodeDecodeError):
        not_utf8.decode()
    assert html.startswith(b"<html>")
    assert truncated == whole[: len(whole) // 2]
    assert empty == b""


@pytest.mark.usefixtures("socket_enabled")
async def test_a_hanging_request_is_released_when_the_emulator_stops() -> None:
    emulator = GoogleCalendarEmulator()
    await emulator.start()
    emulator.add_user("hang@example.com")
    token = emulator.issue_tokens("hang@example.com")["access_token"]
    hang = emulator.faults.add(FaultKind.HANG)
    url = f"{emulator.api_endpoint}calendars/primary/events"
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(
            session.get(url, headers={"Authorization": f"Bearer {token}"})
        )
        await hang.reached()
        assert not request.done()
        await emulator.stop()
        with pytest.raises(aiohttp.ClientError):
            await request


async def test_token_endpoint_faults(calendar_emulator: GoogleCalendarEmulator) -> None:
    tokens = calendar_emulator.issue_tokens("user@example.com")
    calendar_emulator.faults.add(FaultKind.UNAVAILABLE, path_contains="/token")
    async with aiohttp.ClientSession() as session:
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        async with session.post(calendar_emulator.token_url, data=form) as response:
            assert response.status == 503
        async with session.post(calendar_emulator.token_url, data=form) as response:
            assert response.status == 200


async def test_request_log_records_and_clears(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    await calendar_client(lambda s: s.events().list(calendarId="primary", maxResults=7))
    async with (
        aiohttp.ClientSession() as session,
        session.get(calendar_emulator.authorize_url) as response,
    ):
        assert response.status == 400  # the consent page is not logged
    entries = list(calendar_emulator.requests)
    assert len(entries) == len(calendar_emulator.requests) == 1
    entry = entries[0]
    assert entry.method == "GET"
    assert entry.path == "/calendar/v3/calendars/primary/events"
    assert entry.query["maxResults"] == ["7"]
    assert entry.status == 200
    assert entry.response_bytes > 0
    assert calendar_emulator.requests.count("GET", "/events") == 1
    assert calendar_emulator.requests.count("POST") == 0
    calendar_emulator.requests.clear()
    assert len(calendar_emulator.requests) == 0


async def test_a_test_can_wait_for_a_fault_or_a_logged_request(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    fault = calendar_emulator.faults.fail_next(500, times=2, path_contains="/events")
    first_hit = asyncio.ensure_future(fault.reached())
    both_hits = asyncio.ensure_future(fault.reached(2))
    logged = asyncio.ensure_future(calendar_emulator.requests.wait_for(2, "GET"))
    await asyncio.sleep(0)  # each waiter is waiting now
    assert not (first_hit.done() or both_hits.done() or logged.done())

    with pytest.raises(HttpError):
        await calendar_client(list_primary)
    await first_hit
    assert not both_hits.done()

    await calendar_client(lambda s: s.calendarList().list())
    await logged  # answered, the failed listing and the calendar list
    with pytest.raises(HttpError):
        await calendar_client(list_primary)
    await both_hits
    assert fault.as_dict()["hits"] == 2


async def test_dispatch_runs_an_api_call_in_process(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> None:
    headers = {
        "Authorization": f"Bearer {emulator_token['access_token']}",
        "Content-Type": "application/json",
    }
    body = json.dumps(
        {
            "summary": "Batched",
            "start": {"date": "2026-01-01"},
            "end": {"date": "2026-01-02"},
        }
    ).encode()
    status, response_headers, payload = await calendar_emulator.dispatch(
        "POST",
        "/calendar/v3/calendars/user%40example.com/events?alt=json",
        headers,
        body,
    )
    assert status == 200
    assert response_headers["Content-Type"].startswith("application/json")
    event = json.loads(payload)
    assert calendar_emulator.get_event("user@example.com", event["id"])["summary"] == (
        "Batched"
    )

    calendar_emulator.faults.fail_next(403, reason="rateLimitExceeded")
    calendar_emulator.faults.drop_next()
    calendar_emulator.faults.delay_next(0.01)
    path = f"/calendar/v3/calendars/primary/events/{event['id']}"
    statuses = [
        (await calendar_emulator.dispatch("GET", path, headers))[0] for _ in range(4)
    ]
    assert statuses == [403, 503, 200, 200]
    status, _, payload = await calendar_emulator.dispatch("GET", path, {})
    assert status == 401
    status, _, _ = await calendar_emulator.dispatch("PATCH", path, headers, b"not json")
    assert status == 400
    status, _, _ = await calendar_emulator.dispatch("GET", "/calendar/v3/nope", headers)
    assert status == 404
    assert all(entry.batch_part for entry in calendar_emulator.requests)
    assert len(calendar_emulator.requests) == 8
