"""Shared pieces of the comparison benchmarks: emulator, clients, traffic counting.

The calendar data lives in bench._data (light to import: the emulator's child
process needs it); its names are re-exported here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import statistics
import sys
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench._data import ACCOUNT, TIME_ZONE, Traffic, event_bodies, seed_calendar  # noqa: E402
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi  # noqa: E402
from custom_components.google_calendar_sync.google.endpoints import GoogleEndpoints  # noqa: E402
from custom_components.google_calendar_sync.google.transport import StaticTokenAuth  # noqa: E402
from google_calendar_emulator import GoogleCalendarEmulator  # noqa: E402

if TYPE_CHECKING:
    from bench._remote import RemoteEmulator

__all__ = ["ACCOUNT", "TIME_ZONE", "Traffic", "event_bodies", "seed_calendar"]


@contextlib.asynccontextmanager
async def running_emulator() -> AsyncIterator[GoogleCalendarEmulator]:
    """Run an emulator with the bench account."""
    emulator = GoogleCalendarEmulator()
    emulator.add_user(ACCOUNT)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@contextlib.asynccontextmanager
async def our_api(
    emulator: GoogleCalendarEmulator | RemoteEmulator,
) -> AsyncIterator[GoogleCalendarApi]:
    """Return our Google client pointed at the emulator."""
    token = emulator.issue_tokens(ACCOUNT)["access_token"]
    async with aiohttp.ClientSession() as session:
        yield await GoogleCalendarApi.async_create(
            session,
            StaticTokenAuth(token),
            GoogleEndpoints.for_base_url(emulator.base_url),
        )


class TrafficMeter:
    """Count the Calendar API traffic after a mark (token grants excluded)."""

    def __init__(self, emulator: GoogleCalendarEmulator) -> None:
        """Start counting from now."""
        self._emulator = emulator
        self._mark = len(emulator.requests)

    def reset(self) -> None:
        """Count from now on."""
        self._mark = len(self._emulator.requests)

    def read(self) -> Traffic:
        """Return the traffic since the mark (batch parts are not HTTP requests)."""
        entries = list(self._emulator.requests)[self._mark :]
        api = [
            entry
            for entry in entries
            if not entry.batch_part and "/token" not in entry.path
        ]
        return Traffic(len(api), sum(entry.response_bytes for entry in api))

    def paths(self) -> list[str]:
        """Return method and path of the requests since the mark."""
        entries = list(self._emulator.requests)[self._mark :]
        return [f"{entry.method} {entry.path}" for entry in entries]


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def median(values: list[float]) -> float:
    """Return the median."""
    return statistics.median(values)
