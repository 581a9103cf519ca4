"""Cost at scale: CPU, event-loop stalls, store writes, queries and startup.

Our integration runs in-process in a test Home Assistant (real HTTP server on a free
loopback port, real Store files in a temporary config directory); the emulator runs
in a child process (bench._remote), so its work is neither in our CPU time nor on
our event loop. For each calendar size:

- a 1-change sync: one event edited in Google, then the coordinator's sync (what a
  push notification triggers), until Home Assistant is idle again;
- a local write: calendar.create_event on the entity (Google's answer stored, the
  timeline updated), until Home Assistant is idle again;
- the coalesced save that follows each: the bytes written under .storage to the
  integration's files (a new or replaced file counts whole, a file grown in place
  counts its growth) and the CPU of writing them;
- one month's async_get_events through the entity: the first call and the best of
  REPEATS;
- the size of the integration's files under .storage after the first full sync.

CPU is this process's CPU time (time.process_time: every thread, so the executor's
work counts too), median of CHANGES changes, measured without the loop-lag probe;
the longest event-loop stall comes from separate changes with the probe on
(bench._loop). At the largest size also: a full sync (Google answers the sync token
with 410 Gone), and startup from the stored calendar (the entry set up again after
an unload) to the first answered month query, and the store's size, against Home
Assistant's built-in google integration set up over the same calendar.
Run from the repository root: .venv/bin/python bench/bench_scale.py [SIZES...]
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import json
import os
from pathlib import Path
import statistics
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from bench import _ha
from bench._common import ACCOUNT, TIME_ZONE
from bench._loop import Cost, measured
from bench._remote import RemoteEmulator, remote_emulator
from custom_components.google_calendar_sync.const import DOMAIN

DEFAULT_SIZES = (1_000, 10_000, 20_000)
# Changes measured per size for CPU (median), and with the probe on for stalls.
CHANGES = 5
PROBED = 2
REPEATS = 3
ZONE = ZoneInfo(TIME_ZONE)
MONTH = (datetime(2030, 3, 1, tzinfo=ZONE), datetime(2030, 4, 1, tzinfo=ZONE))
# Past the save delay (Home Assistant's google waits 120 s), before http's 5-minute
# config revert timer; a final write flushes whatever waits longer.
SAVE_HORIZON = timedelta(minutes=3)
# How often startup asks again while an integration answers "not synced yet".
ANSWER_RETRY = 0.01


class StorageMeter:
    """Bytes written to the integration's files under .storage, whatever the layout.

    A file that is new or was replaced (Home Assistant writes atomically: a new
    inode) counts whole; a file changed in place counts its growth if it grew (an
    append log) and its whole size if not (rewritten in place).
    """

    def __init__(self, hass: HomeAssistant, prefix: str = f"{DOMAIN}.") -> None:
        """Watch the files under hass's .storage whose names start with prefix."""
        self._hass = hass
        self._folder = Path(hass.config.config_dir) / ".storage"
        self._prefix = prefix

    def files(self) -> dict[Path, os.stat_result]:
        """Return the integration's files and their status."""
        if not self._folder.exists():
            return {}
        return {
            path: path.stat()
            for path in self._folder.rglob("*")
            if path.is_file()
            and path.relative_to(self._folder).parts[0].startswith(self._prefix)
        }

    def size(self) -> int:
        """Return the bytes the files take now."""
        return sum(status.st_size for status in self.files().values())

    @staticmethod
    def written(
        before: dict[Path, os.stat_result], after: dict[Path, os.stat_result]
    ) -> int:
        """Return the bytes written between two listings."""
        total = 0
        for path, now in after.items():
            old = before.get(path)
            if old is None or old.st_ino != now.st_ino:
                total += now.st_size
            elif (now.st_mtime_ns, now.st_size) != (old.st_mtime_ns, old.st_size):
                grown = now.st_size - old.st_size
                total += grown if grown > 0 else now.st_size
        return total

    async def flush(self) -> None:
        """Let every delayed save happen now, as time passing or a stop would."""
        hass = self._hass
        async_fire_time_changed(hass, dt_util.utcnow() + SAVE_HORIZON)
        await hass.async_block_till_done()
        hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
        await hass.async_block_till_done()

    async def measure_flush(self) -> tuple[int, float]:
        """Flush; return the bytes written and the CPU seconds it took."""
        before = self.files()
        started = time.process_time()
        await self.flush()
        return self.written(before, self.files()), time.process_time() - started


def _summary(costs: list[Cost], probed: list[Cost], saves: list[tuple[int, float]]):
    """Return the median CPU and wall time, the longest stall, the median save."""
    return {
        "cpu_s": statistics.median(cost.cpu_s for cost in costs),
        "wall_s": statistics.median(cost.wall_s for cost in costs),
        "stall_s": max(cost.stall_s for cost in probed),
        "store_bytes": statistics.median(size for size, _ in saves),
        "save_cpu_s": statistics.median(cpu for _, cpu in saves),
        "changes": len(costs),
    }


class _Bench:
    """Our integration set up against a remote emulator's calendar."""

    def __init__(self, harness: _ha.Harness, remote: RemoteEmulator) -> None:
        self.harness = harness
        self.hass = harness.hass
        self.remote = remote
        self.storage = StorageMeter(harness.hass)
        self._edits = 0

    @property
    def coordinator(self) -> Any:
        return self.harness.entry.runtime_data.coordinators[ACCOUNT]

    def entity(self) -> CalendarEntity:
        component = self.hass.data["entity_components"]["calendar"]
        found = component.get_entity(self.harness.entity_id)
        assert isinstance(found, CalendarEntity)
        return found

    async def one_change_sync(self, *, probe: bool) -> tuple[Cost, tuple[int, float]]:
        """Edit one event in Google, then sync; return the cost and the save."""
        remote = self.remote
        self._edits += 1
        event_id = remote.event_ids[self._edits % len(remote.event_ids)]
        await remote.patch_event(event_id, {"summary": f"Changed {self._edits}"})
        await self.storage.flush()
        async with measured(probe=probe) as cost:
            changes = await self.coordinator.async_sync()
            await self.hass.async_block_till_done()
        assert len(changes) == 1, changes.counts()
        return cost, await self.storage.measure_flush()

    async def local_write(self, *, probe: bool) -> tuple[Cost, tuple[int, float]]:
        """Create one event through the entity; return the cost and the save."""
        self._edits += 1
        await self.storage.flush()
        async with measured(probe=probe) as cost:
            await self.hass.services.async_call(
                "calendar",
                "create_event",
                {
                    "entity_id": self.harness.entity_id,
                    "summary": f"Bench write {self._edits}",
                    "start_date_time": "2030-03-10 10:00:00",
                    "end_date_time": "2030-03-10 11:00:00",
                },
                blocking=True,
            )
            await self.hass.async_block_till_done()
        return cost, await self.storage.measure_flush()

    async def month_query(self) -> dict[str, Any]:
        """Time one month's async_get_events: first call and best of REPEATS."""
        return await _month_query(self.hass, self.entity())

    async def full_sync(self) -> dict[str, Any]:
        """Sync after Google refused the sync token: a full listing."""
        await self.storage.flush()
        before = await self.remote.traffic()
        await self.remote.invalidate_sync_tokens()
        async with measured(probe=True) as cost:
            await self.coordinator.async_sync()
            await self.hass.async_block_till_done()
        after = await self.remote.traffic()
        return {
            "wall_s": cost.wall_s,
            "stall_s": cost.stall_s,
            "gc_s": cost.gc_s,
            "requests": after.requests - before.requests,
        }


async def _month_query(hass: HomeAssistant, entity: CalendarEntity) -> dict[str, Any]:
    """Time one month's async_get_events of entity: first call, best of REPEATS."""
    start, end = MONTH
    started = time.perf_counter()
    found = await entity.async_get_events(hass, start, end)
    first = time.perf_counter() - started
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        await entity.async_get_events(hass, start, end)
        best = min(best, time.perf_counter() - started)
    return {"first_s": first, "best_s": best, "found": len(found)}


async def _first_answer(harness: _ha.Harness) -> list[CalendarEvent]:
    """Ask the entity for the month until it answers (the built-in one once synced).

    The entity itself, as the calendar card's request and the calendar.get_events
    action do: both then turn the answer into dicts on the loop, Home Assistant's
    own code and the same for any integration (about 0.1 s for 3,183 events here),
    which is left out of the stall.
    """
    component = harness.hass.data["entity_components"]["calendar"]
    while True:
        if (entity := component.get_entity(harness.entity_id)) is not None:
            try:
                return list(
                    await entity.async_get_events(harness.hass, MONTH[0], MONTH[1])
                )
            except HomeAssistantError:
                pass
        await asyncio.sleep(ANSWER_RETRY)


async def _startup(harness: _ha.Harness, remote: RemoteEmulator) -> dict[str, Any]:
    """Stop the entry, its store written as at shutdown; set it up again; ask a month.

    Returns the time until setup returned (entities available), until the first
    month answered, the longest loop stall and the API requests meanwhile.
    """
    hass, entry = harness.hass, harness.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    # The built-in integration saves 120 s after a sync, or at shutdown.
    await StorageMeter(hass).flush()
    before = await remote.traffic()
    async with measured(probe=True) as cost:
        started = time.perf_counter()
        assert await hass.config_entries.async_setup(entry.entry_id)
        ready = time.perf_counter() - started
        found = len(await _first_answer(harness))
        answered = time.perf_counter() - started
    await hass.async_block_till_done()
    return {
        "setup_s": ready,
        "first_query_s": answered,
        "stall_s": cost.stall_s,
        "gc_s": cost.gc_s,
        "found": found,
        "requests": (await remote.traffic()).requests - before.requests,
    }


async def measure_size(size: int, *, largest: bool) -> dict[str, Any]:
    """Measure one calendar size; the largest also gets full sync and startup."""
    figures: dict[str, Any] = {"events": size}
    async with remote_emulator(size) as remote:
        async with _ha.ours(remote, push=False) as harness:
            bench = _Bench(harness, remote)
            await bench.storage.flush()
            figures["store_size_bytes"] = bench.storage.size()
            for name, step in (
                ("sync", bench.one_change_sync),
                ("write", bench.local_write),
            ):
                costs, saves = [], []
                for _ in range(CHANGES):
                    cost, save = await step(probe=False)
                    costs.append(cost)
                    saves.append(save)
                probed = [(await step(probe=True))[0] for _ in range(PROBED)]
                figures[name] = _summary(costs, probed, saves)
            figures["query"] = await bench.month_query()
            if largest:
                figures["full_sync"] = await bench.full_sync()
                figures["startup"] = await _startup(harness, remote)
        if largest:
            figures["builtin_google"] = await _builtin_google(remote)
    return figures


async def _builtin_google(remote: RemoteEmulator) -> dict[str, Any]:
    """The built-in google integration over the same calendar: startup and a month.

    Its first setup syncs the calendar (gcal_sync) into its own Store; the entry is
    then set up again from that store, as after a restart.
    """
    async with _ha.builtin_google(remote) as harness:
        storage = StorageMeter(harness.hass, f"{_ha.GOOGLE}.")
        await _first_answer(harness)  # its first sync is done
        await storage.flush()
        size = storage.size()
        startup = await _startup(harness, remote)
        component = harness.hass.data["entity_components"]["calendar"]
        query = await _month_query(
            harness.hass, component.get_entity(harness.entity_id)
        )
    return {"startup": startup, "query": query, "store_size_bytes": size}


async def measure(sizes: tuple[int, ...] = DEFAULT_SIZES) -> list[dict[str, Any]]:
    """Measure every size; the largest in full."""
    return [await measure_size(size, largest=size == max(sizes)) for size in sizes]


def main() -> None:
    """Print the figures as JSON."""
    sizes = tuple(int(arg) for arg in sys.argv[1:]) or DEFAULT_SIZES
    print(json.dumps(asyncio.run(measure(sizes)), indent=2))


if __name__ == "__main__":
    main()
