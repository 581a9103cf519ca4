"""Idle cost: Calendar API requests per calendar per day when nothing changes.

Ours with push live: safety-net polls plus watch-channel renewals. Against Home
Assistant's built-in google integration (run for real against the same emulator) and
our own polling fallback: a poll every interval. Every interval and every request is
observed in simulated time, not read from constants.
Run from the repository root: .venv/bin/python bench/bench_idle.py
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
import json
from pathlib import Path
import sys
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _ha
from bench._common import TrafficMeter, running_emulator
from google_calendar_emulator import GoogleCalendarEmulator

DAY = 86_400.0


def _listed(meter: TrafficMeter) -> bool:
    """Return True once an events.list request was made."""
    return any(path.endswith("/events") for path in meter.paths())


def _watched(meter: TrafficMeter) -> bool:
    """Return True once a channel was opened."""
    return any(path.endswith("/events/watch") for path in meter.paths())


async def _poll(
    harness: _ha.Harness, step: timedelta, limit: timedelta
) -> _ha.PollProbe:
    """Return the first idle poll: when it came and what it cost."""

    async def _done(meter: TrafficMeter) -> bool:
        return _listed(meter)

    probe = await _ha.probe_poll(harness, step=step, limit=limit, done=_done)
    assert probe.seconds is not None, "no poll within the limit"
    return probe


async def measure_push() -> dict[str, Any]:
    """Return our idle requests per day with push live."""
    async with running_emulator() as emulator, _ha.ours(emulator, push=True) as harness:
        safety = await _poll(harness, timedelta(minutes=5), timedelta(hours=24))

        async def _renewed(meter: TrafficMeter) -> bool:
            return _watched(meter)

        renewal = await _ha.probe_poll(
            harness, step=timedelta(hours=1), limit=timedelta(days=8), done=_renewed
        )
        assert renewal.seconds is not None, "the channel was never renewed"
        renewal_requests = sum(
            1
            for path in renewal.paths
            if path.endswith(("/events/watch", "/channels/stop"))
        )
    assert safety.seconds is not None
    per_day = DAY / safety.seconds * safety.requests + (
        DAY / renewal.seconds * renewal_requests
    )
    return {
        "safety_net_interval_s": safety.seconds,
        "requests_per_safety_poll": safety.requests,
        "renewal_interval_s": renewal.seconds,
        "requests_per_renewal": renewal_requests,
        "requests_per_day": per_day,
    }


async def _measure_polls(
    start: Callable[[GoogleCalendarEmulator], AbstractAsyncContextManager[_ha.Harness]],
) -> dict[str, Any]:
    """Return the idle requests per day of an integration that only polls."""
    async with running_emulator() as emulator, start(emulator) as harness:
        poll = await _poll(harness, timedelta(seconds=30), timedelta(hours=1))
    assert poll.seconds is not None
    return {
        "poll_interval_s": poll.seconds,
        "requests_per_poll": poll.requests,
        "requests_per_day": DAY / poll.seconds * poll.requests,
    }


async def measure_polling() -> dict[str, Any]:
    """Return our idle requests per day without push."""
    return await _measure_polls(lambda emulator: _ha.ours(emulator, push=False))


async def measure_builtin() -> dict[str, Any]:
    """Return the built-in google integration's idle requests per day."""
    return await _measure_polls(_ha.builtin_google)


async def measure() -> dict[str, Any]:
    """Measure all three."""
    return {
        "push": await measure_push(),
        "polling_fallback": await measure_polling(),
        "builtin_google": await measure_builtin(),
    }


def main() -> None:
    """Print the figures as JSON."""
    print(json.dumps(asyncio.run(measure()), indent=2))


if __name__ == "__main__":
    main()
