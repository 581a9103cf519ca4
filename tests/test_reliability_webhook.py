"""Webhook abuse: floods of forged notifications are cheap to refuse and harmless."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncGenerator
from datetime import timedelta
import gc
import logging
import time
import tracemalloc
from urllib.parse import urlsplit

from aiohttp import ClientSession, TCPConnector
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.google_calendar_sync.const import EVENT_CHANGED
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, WEBHOOK_ID
from .reliability_helpers import (
    make_entry,
    percentile,
    serve_http,
    setup_entry,
    unload_entry,
)

FLOOD = 2_000
TRACED_FLOOD = 200
HUGE_BODY = b"x" * (1 << 20)  # 1 MiB
# A limit no loaded machine misses (tests run a debug event loop); checked only in
# the timing run (-m timing), which .ci/run starts apart from the suite.
MAX_P95_SECONDS = 5.0


@pytest.fixture
async def hass_url(
    hass: HomeAssistant,
    setup_credentials: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> str:
    """Serve Home Assistant's HTTP app (webhooks included) on a loopback port."""
    return await serve_http(hass, hass_client_no_auth)


@pytest.fixture
async def pushed_entry(
    hass: HomeAssistant,
    setup_credentials: None,
    hass_url: str,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the integration with a live push channel."""
    # One access-log record per request would be the test's memory, not ours.
    caplog.set_level(logging.WARNING)
    for name in ("aiohttp.access", "asyncio", "homeassistant.components.http"):
        caplog.set_level(logging.WARNING, logger=name)
    entry = make_entry(calendar_emulator, [ACCOUNT], push=True)
    await setup_entry(hass, entry)
    await calendar_emulator.notifications_idle()
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinators[ACCOUNT].push_active
    yield entry
    await unload_entry(hass, entry)


def _forgeries(genuine: dict[str, str]) -> list[tuple[dict[str, str], bytes, int]]:
    """Return one round of forged notifications: headers, body, expected status."""
    without_token = {k: v for k, v in genuine.items() if k != "X-Goog-Channel-Token"}
    return [
        ({**genuine, "X-Goog-Channel-Token": "guessed"}, b"", 403),
        (without_token, b"", 403),
        ({**genuine, "X-Goog-Channel-ID": "not-ours"}, b"", 404),
        ({**genuine, "X-Goog-Channel-ID": "x" * 4000}, b"", 404),
        ({}, b"", 400),
        ({"X-Goog-Channel-ID": genuine["X-Goog-Channel-ID"]}, b"", 400),
        ({**genuine, "X-Goog-Resource-State": ""}, b"", 400),
        ({**genuine, "X-Goog-Resource-ID": "other"}, b"", 400),
        (
            {
                **genuine,
                "X-Goog-Channel-Token": "guessed",
                "X-Goog-Message-Number": "-1",
            },
            b"{not json",
            403,
        ),
        ({**genuine, "X-Goog-Channel-Token": "\u00e9" * 10}, b"", 403),
    ]


async def _flood(
    url: str,
    genuine: dict[str, str],
    count: int,
    *,
    huge_every: int = 200,
    until: asyncio.Event | None = None,
    answered: asyncio.Event | None = None,
) -> tuple[Counter[int], list[float]]:
    """Send count forged notifications, 50 at a time; return statuses and latencies.

    With until, keep sending rounds of count until it is set. answered is set once
    Home Assistant answered the first one.
    """
    if until is not None:
        total: Counter[int] = Counter()
        while not until.is_set():
            statuses, _ = await _flood(
                url, genuine, count, huge_every=huge_every, answered=answered
            )
            total += statuses
        return total, []
    round_ = _forgeries(genuine)
    statuses = Counter()
    latencies: list[float] = []
    limit = asyncio.Semaphore(50)

    async def _one(session: ClientSession, number: int) -> None:
        headers, body, expected = round_[number % len(round_)]
        if number % huge_every == 0:
            body = HUGE_BODY
        async with limit:
            started = time.perf_counter()
            async with session.post(url, headers=headers, data=body) as response:
                await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] += 1
                if answered is not None:
                    answered.set()
                assert response.status == expected, (headers.keys(), response.status)

    async with ClientSession(connector=TCPConnector(limit=50)) as session:
        await asyncio.gather(*(_one(session, number) for number in range(count)))
    return statuses, latencies


def _genuine_headers(entry: MockConfigEntry) -> dict[str, str]:
    """Return the headers Google sends on the entry's channel."""
    channel = entry.runtime_data.stored.channels[ACCOUNT]
    return {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "2",
    }


@pytest.mark.timing
async def test_flood_of_forgeries_is_refused_fast_without_api_calls_or_memory(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    pushed_entry: MockConfigEntry,
) -> None:
    """2,000 forged notifications: all refused, quickly, no request, no growth."""
    url = f"{hass_url}/api/webhook/{WEBHOOK_ID}"
    genuine = _genuine_headers(pushed_entry)
    push = pushed_entry.runtime_data.push
    assert push is not None
    # Warm up the HTTP stack so one-time allocations are not counted as growth.
    await _flood(url, genuine, 100)
    requests_before = len(calendar_emulator.requests)

    started = time.perf_counter()
    statuses, latencies = await _flood(url, genuine, FLOOD)
    elapsed = time.perf_counter() - started
    await hass.async_block_till_done()

    # Memory: tracing slows every allocation, so it watches a smaller flood.
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        traced, _ = await _flood(url, genuine, TRACED_FLOOD)
        await hass.async_block_till_done()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    diff = after.compare_to(before, "filename")
    growth = sum(stat.size_diff for stat in diff)
    ours = sum(
        stat.size_diff
        for stat in diff
        if "custom_components/google_calendar_sync" in str(stat.traceback)
    )

    print(
        f"\n{FLOOD} forged notifications in {elapsed:.2f}s "
        f"({FLOOD / elapsed:.0f}/s): "
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms; "
        f"{TRACED_FLOOD} more: memory growth {growth / 1024:.0f} KiB "
        f"(integration {ours / 1024:.1f} KiB)"
    )
    assert sum(traced.values()) == TRACED_FLOOD
    assert sum(statuses.values()) == FLOOD
    assert set(statuses) == {400, 403, 404}
    assert len(calendar_emulator.requests) == requests_before  # not one API call
    assert push.diagnostics()["syncs_requested"] == 0
    assert percentile(latencies, 0.95) < MAX_P95_SECONDS
    # A rejection costs a counter increment, never a stored record. The rest of
    # the growth is the debug event loop's bookkeeping of the test harness
    # (source tracebacks, keep-alive handlers), bounded and not ours.
    assert ours < 32 * 1024
    assert growth < 4 * 1024 * 1024


async def test_genuine_channel_still_syncs_during_a_flood(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    pushed_entry: MockConfigEntry,
) -> None:
    """A real change in Google reaches the bus while forgeries pour in."""
    url = f"{hass_url}/api/webhook/{WEBHOOK_ID}"
    genuine = _genuine_headers(pushed_entry)
    changes = async_capture_events(hass, EVENT_CHANGED)
    announced = asyncio.Event()
    hass.bus.async_listen_once(EVENT_CHANGED, callback(lambda _event: announced.set()))
    start = dt_util.utcnow().replace(microsecond=0) + timedelta(days=1)
    # Forgeries keep pouring in, round after round, until the change is announced.
    refusing = asyncio.Event()
    flood = asyncio.create_task(
        _flood(url, genuine, FLOOD // 10, until=announced, answered=refusing)
    )
    await refusing.wait()
    created = calendar_emulator.insert_event(
        ACCOUNT,
        {
            "summary": "During the flood",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        },
    )
    await announced.wait()
    received_during_flood = not flood.done()  # the flood stops only after this
    statuses, _ = await flood
    await calendar_emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert set(statuses) == {400, 403, 404}
    assert [(e.data["event_id"], e.data["change"]) for e in changes] == [
        (created["id"], "created")
    ]
    assert received_during_flood
    coordinator = pushed_entry.runtime_data.coordinators[ACCOUNT]
    assert created["id"] in coordinator.snapshot.events
    # Only the genuine notification synced: one or two incremental listings.
    lists = [
        r
        for r in calendar_emulator.requests.matching("GET", "/events")
        if r.path.endswith("/events") and "syncToken" in r.query
    ]
    assert 1 <= len(lists) <= 2


async def _raw_post(url: str, headers: list[tuple[bytes, bytes]]) -> int:
    """POST header bytes as they are (no client library re-encodes them)."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    request = [
        f"POST {parts.path} HTTP/1.1".encode(),
        f"Host: {parts.netloc}".encode(),
        b"Content-Length: 0",
        b"Connection: close",
        *(name + b": " + value for name, value in headers),
    ]
    writer.write(b"\r\n".join(request) + b"\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


NOT_TEXT = b"\xff\xfe\xc3("


@pytest.mark.parametrize(
    ("name", "value", "status"),
    [
        ("X-Goog-Channel-Token", NOT_TEXT, 400),
        ("X-Goog-Channel-ID", NOT_TEXT, 400),
        ("X-Goog-Resource-ID", NOT_TEXT, 400),
        ("X-Goog-Resource-State", NOT_TEXT, 400),
        ("X-Goog-Message-Number", NOT_TEXT, 400),
        ("X-Goog-Resource-State", b"teleported", 400),
        ("X-Goog-Message-Number", b"many", 400),
        ("X-Goog-Channel-Token", "\u00e9t\u00e9".encode(), 403),
    ],
)
async def test_malformed_notification_is_refused_without_an_error(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    pushed_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    *,
    name: str,
    value: bytes,
    status: int,
) -> None:
    """Header bytes that are not text, or values Google never sends: a clean 4xx."""
    changes = async_capture_events(hass, EVENT_CHANGED)
    calendar_emulator.requests.clear()
    headers = [
        (key.encode(), value if key == name else text.encode())
        for key, text in _genuine_headers(pushed_entry).items()
    ]

    assert await _raw_post(f"{hass_url}/api/webhook/{WEBHOOK_ID}", headers) == status

    await hass.async_block_till_done()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert changes == []
    assert calendar_emulator.requests.entries == []
