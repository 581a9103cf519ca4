"""Freshness: how long after an edit in Google Home Assistant knows about it.

- ours with push: real time from an edit in the emulator to the
  google_calendar_sync_event_changed bus event (bench_push's measurement, reused);
- ours without push (polling fallback) and Home Assistant's built-in google
  integration (run for real against the same emulator): simulated time from an edit
  made right after a poll until calendar.get_events shows it. That is the worst case;
  with edits at random moments the expected delay is half the poll interval.
Run from the repository root: .venv/bin/python bench/bench_freshness.py [EDITS]
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
from pathlib import Path
import sys
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _ha, bench_push
from bench._common import ACCOUNT, TrafficMeter, median, percentile, running_emulator

DEFAULT_EDITS = 200
POLL_STEP = timedelta(seconds=30)
POLL_LIMIT = timedelta(hours=1)


async def measure_push(edits: int) -> dict[str, Any]:
    """Return edit -> bus event latency over edits isolated edits, with push."""
    async with running_emulator() as emulator, _ha.ours(emulator, push=True) as harness:
        latencies, per_change = await bench_push._latency(harness.hass, emulator, edits)
    return {
        "edits": edits,
        "median_s": median(latencies),
        "p99_s": percentile(latencies, 0.99),
        "max_s": max(latencies),
        "api_requests_per_change": per_change,
    }


async def _edit_until_visible(harness: _ha.Harness) -> dict[str, Any]:
    """Edit the probe event right after a poll; step time until it is visible."""
    emulator = harness.emulator
    event = next(e for e in emulator.events(ACCOUNT) if e["summary"] == "Probe")
    assert await harness.visible_summaries() == ["Probe"]
    emulator.patch_event(ACCOUNT, event["id"], {"summary": "Probe edited"})

    async def _visible(_meter: TrafficMeter) -> bool:
        return "Probe edited" in await harness.visible_summaries()

    probe = await _ha.probe_poll(
        harness, step=POLL_STEP, limit=POLL_LIMIT, done=_visible
    )
    assert probe.seconds is not None, "the edit never showed up"
    return {
        "poll_interval_s": probe.seconds,
        "expected_delay_s": probe.seconds / 2,
        "worst_delay_s": probe.seconds,
        "requests_per_poll": probe.requests,
        "bytes_per_poll": probe.response_bytes,
    }


async def measure_polling() -> dict[str, Any]:
    """Return the delay of our polling fallback (push off)."""
    async with running_emulator() as emulator:
        emulator.insert_event(ACCOUNT, _ha.probe_body("Probe"))
        async with _ha.ours(emulator, push=False) as harness:
            return await _edit_until_visible(harness)


async def measure_builtin() -> dict[str, Any]:
    """Return the delay of Home Assistant's built-in google integration."""
    async with running_emulator() as emulator:
        emulator.insert_event(ACCOUNT, _ha.probe_body("Probe"))
        async with _ha.builtin_google(emulator) as harness:
            configured = _ha.google_poll_interval(harness)
            figures = await _edit_until_visible(harness)
    return {
        **figures,
        "configured_interval_s": configured.total_seconds() if configured else None,
    }


async def measure(edits: int = DEFAULT_EDITS) -> dict[str, Any]:
    """Measure all three."""
    return {
        "push": await measure_push(edits),
        "polling_fallback": await measure_polling(),
        "builtin_google": await measure_builtin(),
    }


def main() -> None:
    """Print the figures as JSON."""
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_EDITS
    print(json.dumps(asyncio.run(measure(edits)), indent=2))


if __name__ == "__main__":
    main()
