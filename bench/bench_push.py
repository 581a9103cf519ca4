"""Measure push: edit-to-bus-event latency, API calls per change, burst coalescing.

Runs Home Assistant in-process (the test harness's core, real HTTP server on loopback,
the integration set up from a config entry) against the emulator, which delivers watch
notifications over real HTTP to the webhook.
Run from the repository root: .venv/bin/python bench/bench_push.py [EDITS] [BURST]
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
import statistics
import sys
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from homeassistant.core import Event, HomeAssistant  # noqa: E402

from bench import _ha  # noqa: E402
from bench._common import ACCOUNT, running_emulator  # noqa: E402
from custom_components.google_calendar_sync.const import EVENT_CHANGED  # noqa: E402
from google_calendar_emulator import GoogleCalendarEmulator  # noqa: E402


def _list_requests(emulator: GoogleCalendarEmulator) -> int:
    """Return how many events.list requests the emulator answered."""
    return sum(
        1
        for request in emulator.requests.matching("GET", "/events")
        if "/events/" not in request.path
    )


def _api_requests(emulator: GoogleCalendarEmulator) -> int:
    """Return the Calendar API requests the emulator answered (no token grants)."""
    return len(emulator.requests.matching(path_contains="/calendar/v3/"))


async def _latency(
    hass: HomeAssistant, emulator: GoogleCalendarEmulator, edits: int
) -> tuple[list[float], float]:
    """Edit one event `edits` times; return latencies and API requests per edit."""
    event = emulator.insert_event(ACCOUNT, _ha.probe_body("Latency probe"))
    waiting: asyncio.Future[None] | None = None

    def _on_change(event: Event[Any]) -> None:
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    await emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)
    unsubscribe = hass.bus.async_listen(EVENT_CHANGED, _on_change)
    latencies: list[float] = []
    before = _api_requests(emulator)
    try:
        for index in range(edits):
            waiting = hass.loop.create_future()
            started = time.perf_counter()
            emulator.patch_event(ACCOUNT, event["id"], {"summary": f"Edit {index}"})
            await asyncio.wait_for(waiting, timeout=10)
            latencies.append(time.perf_counter() - started)
            await emulator.notifications_idle()
            await hass.async_block_till_done(wait_background_tasks=True)
    finally:
        unsubscribe()
    return latencies, (_api_requests(emulator) - before) / edits


async def _burst(harness: _ha.Harness, count: int) -> tuple[int, float, int, list[str]]:
    """Post `count` genuine notifications at once, with one real edit mid-burst."""
    hass, emulator = harness.hass, harness.emulator
    channel = harness.entry.runtime_data.stored.channels[ACCOUNT]
    headers = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
    }
    url = f"{hass.config.internal_url}/api/webhook/{_ha.WEBHOOK_ID}"
    summaries: list[str] = []
    unsubscribe = hass.bus.async_listen(
        EVENT_CHANGED, lambda event: summaries.append(event.data["summary"])
    )
    before = _list_requests(emulator)

    async def _post(session: aiohttp.ClientSession, number: int) -> int:
        if number == count // 2:
            emulator.insert_event(ACCOUNT, _ha.probe_body("Mid-burst"))
        async with session.post(
            url, headers={**headers, "X-Goog-Message-Number": str(number + 2)}
        ) as response:
            return response.status

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*(_post(session, n) for n in range(count)))
    elapsed = time.perf_counter() - started
    await emulator.notifications_idle()
    await hass.async_block_till_done(wait_background_tasks=True)
    unsubscribe()
    failed = sum(1 for status in statuses if status != 200)
    return _list_requests(emulator) - before, elapsed, failed, summaries


async def run(edits: int, burst: int) -> None:
    """Set everything up, measure, print, tear down."""
    async with running_emulator() as emulator, _ha.ours(emulator, push=True) as harness:
        latencies, per_change = await _latency(harness.hass, emulator, edits)
        syncs, elapsed, failed, summaries = await _burst(harness, burst)

    latencies_ms = sorted(latency * 1000 for latency in latencies)
    p99 = latencies_ms[min(len(latencies_ms) - 1, int(len(latencies_ms) * 0.99))]
    print(f"edit -> {EVENT_CHANGED} latency over {edits} edits:")
    print(
        f"  median {statistics.median(latencies_ms):.1f} ms, p99 {p99:.1f} ms,"
        f" max {latencies_ms[-1]:.1f} ms"
    )
    print(f"API requests per change: {per_change:.2f} (events.list, incremental)")
    print(
        f"burst of {burst} notifications in {elapsed:.2f} s"
        f" ({burst / elapsed:.0f}/s, {failed} not answered 200):"
        f" {syncs} syncs; changes announced: {summaries}"
    )


def main() -> None:
    """Parse the optional counts and run."""
    logging.basicConfig(level=logging.WARNING)
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 250
    burst = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    started = time.perf_counter()
    asyncio.run(run(edits, burst))
    print(f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
