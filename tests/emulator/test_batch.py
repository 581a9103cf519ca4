"""Batch requests as google-api-python-client's BatchHttpRequest sends them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import email.parser
import json
from typing import Any

import aiohttp
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest
import httplib2
import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.batch import (
    MAX_BATCH_PARTS,
    PartResponse,
    parse_batch,
    render_batch,
)

from .conftest import CalendarClient

type Outcome = tuple[str, Any, HttpError | None]


def _event(number: int) -> dict[str, Any]:
    return {
        "summary": f"Imported {number}",
        "start": {"dateTime": f"2026-12-01T{number % 24:02d}:00:00Z"},
        "end": {"dateTime": f"2026-12-01T{number % 24:02d}:30:00Z"},
    }


def _authorized_http(access_token: str) -> AuthorizedHttp:
    # httplib2.Http is not thread-safe: a fresh one per batch.
    return AuthorizedHttp(Credentials(access_token), http=httplib2.Http(timeout=10))


async def _run_batch(
    client: CalendarClient, add: Callable[[Any, BatchHttpRequest], None]
) -> list[Outcome]:
    """Build a batch against the emulator's batch URI, run it, return the outcomes."""
    outcomes: list[Outcome] = []

    def callback(request_id: str, response: Any, exception: HttpError | None) -> None:
        outcomes.append((request_id, response, exception))

    batch = BatchHttpRequest(callback=callback, batch_uri=client.emulator.batch_uri)
    add(client.service, batch)
    await asyncio.to_thread(batch.execute, http=_authorized_http(client.access_token))
    return outcomes


async def test_120_inserts_go_out_in_3_batch_requests(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    outcomes: list[Outcome] = []
    for start in range(0, 120, 50):
        numbers = range(start, min(start + 50, 120))
        outcomes += await _run_batch(
            calendar_client,
            lambda service, batch, numbers=numbers: [
                batch.add(service.events().insert(calendarId="primary", body=_event(n)))
                for n in numbers
            ],
        )

    assert len(outcomes) == 120
    assert all(error is None for _, _, error in outcomes)
    assert sorted(r["summary"] for _, r, _ in outcomes) == sorted(
        f"Imported {n}" for n in range(120)
    )
    assert len(calendar_emulator.events("user@example.com")) == 120
    log = calendar_emulator.requests
    outer = log.matching("POST", "/batch/calendar/v3", include_batch_parts=False)
    assert [entry.status for entry in outer] == [200, 200, 200]
    parts = [entry for entry in log if entry.batch_part]
    assert len(parts) == 120
    assert {(p.method, p.path, p.status) for p in parts} == {
        ("POST", "/calendar/v3/calendars/primary/events", 200)
    }


async def test_parts_answer_independently(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    first = calendar_emulator.insert_event("user@example.com", _event(1))
    second = calendar_emulator.insert_event("user@example.com", _event(2))

    def add(service: Any, batch: BatchHttpRequest) -> None:
        events = service.events()
        batch.add(
            events.patch(
                calendarId="primary", eventId=first["id"], body={"summary": "Moved"}
            ),
            request_id="patch",
        )
        batch.add(
            events.delete(calendarId="primary", eventId=second["id"]),
            request_id="delete",
        )
        batch.add(
            events.get(calendarId="primary", eventId="missing00"),
            request_id="missing",
        )
        batch.add(
            events.insert(calendarId="primary", body={**_event(3), "id": first["id"]}),
            request_id="duplicate",
        )

    outcomes = {
        request_id: (r, e)
        for request_id, r, e in await _run_batch(calendar_client, add)
    }

    assert outcomes["patch"][0]["summary"] == "Moved"
    assert outcomes["patch"][1] is None
    assert outcomes["delete"] == ("", None)
    assert outcomes["missing"][1] is not None
    assert outcomes["missing"][1].status_code == 404
    assert outcomes["duplicate"][1] is not None
    assert outcomes["duplicate"][1].status_code == 409
    assert outcomes["duplicate"][1].error_details[0]["reason"] == "duplicate"
    assert [e["id"] for e in calendar_emulator.events("user@example.com")] == [
        first["id"]
    ]


async def test_a_fault_on_one_part_fails_only_that_part(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    calendar_emulator.faults.fail_next(
        403, reason="rateLimitExceeded", path_contains="/calendar/v3/calendars"
    )

    outcomes = await _run_batch(
        calendar_client,
        lambda service, batch: [
            batch.add(service.events().insert(calendarId="primary", body=_event(n)))
            for n in range(3)
        ],
    )

    errors = [error for _, _, error in outcomes if error is not None]
    assert len(errors) == 1
    assert errors[0].status_code == 403
    assert errors[0].error_details[0]["reason"] == "rateLimitExceeded"
    assert len(calendar_emulator.events("user@example.com")) == 2


async def test_a_fault_on_the_batch_request_fails_it_whole(
    calendar_emulator: GoogleCalendarEmulator, calendar_client: CalendarClient
) -> None:
    calendar_emulator.faults.fail_next(503, path_contains="/batch/")

    with pytest.raises(HttpError) as err:
        await _run_batch(
            calendar_client,
            lambda service, batch: batch.add(
                service.events().insert(calendarId="primary", body=_event(1))
            ),
        )

    assert err.value.status_code == 503
    assert calendar_emulator.events("user@example.com") == []


async def _post_raw_batch(
    emulator: GoogleCalendarEmulator,
    parts: list[str],
    authorization: str | None,
) -> tuple[int, str, bytes]:
    boundary = "===============7330845974216740156=="
    body = (
        "".join(
            f"--{boundary}\nContent-Type: application/http\n"
            f"Content-ID: <base + {number}>\n\n{part}\n"
            for number, part in enumerate(parts)
        )
        + f"--{boundary}--"
    )
    headers = {"Content-Type": f'multipart/mixed; boundary="{boundary}"'}
    if authorization is not None:
        headers["Authorization"] = authorization
    async with (
        aiohttp.ClientSession() as session,
        session.post(emulator.batch_uri, data=body.encode(), headers=headers) as resp,
    ):
        return resp.status, resp.headers["Content-Type"], await resp.read()


def _insert_part(number: int) -> str:
    body = json.dumps(_event(number))
    return (
        "POST /calendar/v3/calendars/primary/events?alt=json HTTP/1.1\n"
        "Content-Type: application/json\n"
        f"content-length: {len(body)}\n\n{body}"
    )


async def test_parts_use_the_outer_authorization(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> None:
    status, content_type, body = await _post_raw_batch(
        calendar_emulator,
        [_insert_part(1), "GET /calendar/v3/calendars/primary HTTP/1.1\n\n"],
        f"Bearer {emulator_token['access_token']}",
    )

    assert status == 200
    assert content_type.startswith("multipart/mixed; boundary=")
    message = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts = message.get_payload()
    assert [part["Content-ID"] for part in parts] == [
        "<response-base + 0>",
        "<response-base + 1>",
    ]
    assert all(part.get_payload().startswith("HTTP/1.1 200 OK\r\n") for part in parts)


async def test_parts_without_any_credentials_answer_401(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    status, _, body = await _post_raw_batch(calendar_emulator, [_insert_part(1)], None)

    assert status == 200
    assert b"HTTP/1.1 401 Unauthorized" in body


async def test_more_than_1000_parts_answer_400(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> None:
    status, _, body = await _post_raw_batch(
        calendar_emulator,
        [_insert_part(n) for n in range(MAX_BATCH_PARTS + 1)],
        f"Bearer {emulator_token['access_token']}",
    )

    assert status == 400
    assert json.loads(body)["error"]["code"] == 400
    assert calendar_emulator.events("user@example.com") == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/mixed", b"no boundary at all"),
        (
            "multipart/mixed; boundary=b",
            b"--b\nContent-Type: text/plain\n\nGARBAGE\n--b--",
        ),
        (
            "multipart/mixed; boundary=b",
            b"--b\nContent-Type: application/http\n\nGET relative HTTP/1.1\n\n\n--b--",
        ),
    ],
)
def test_malformed_batches_are_rejected(content_type: str, body: bytes) -> None:
    with pytest.raises(Exception) as err:
        parse_batch(content_type, body)
    assert getattr(err.value, "code", None) == 400


def test_nested_multipart_is_rejected() -> None:
    body = (
        b"--outer\nContent-Type: multipart/mixed; boundary=inner\n\n"
        b"--inner\nContent-Type: application/http\n\nGET /x HTTP/1.1\n\n\n--inner--\n"
        b"--outer--"
    )
    with pytest.raises(Exception) as err:
        parse_batch("multipart/mixed; boundary=outer", body)
    assert getattr(err.value, "code", None) == 400


def test_render_batch_handles_unknown_status_and_missing_content_id() -> None:
    content_type, body = render_batch([PartResponse(None, 299, {}, b"")])

    assert content_type.startswith("multipart/mixed; boundary=batch_")
    assert b"HTTP/1.1 299 Unknown\r\n" in body
    assert b"Content-ID" not in body
