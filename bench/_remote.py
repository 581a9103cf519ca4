"""The emulator in a child process, seeded with a calendar of many events.

Benchmarks of our CPU time and event-loop stalls must not count Google's side:
in-process, the emulator serializing a 2,500-event page would run on our loop.
The child seeds the calendar, mints tokens, prints one JSON line with its URLs and
serves until its stdin closes. Changes go through the emulator's control endpoints.
Child: python -m bench._remote COUNT
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import json
from pathlib import Path
import sys
from typing import Any

import aiohttp

from bench._data import ACCOUNT, Traffic, seed_calendar
from google_calendar_emulator import GoogleCalendarEmulator

ROOT = Path(__file__).resolve().parent.parent
# The OAuth clients the benchmarks use: ours, the built-in google integration's, and
# the emulator's default one (the bare API clients).
CLIENTS = ("bench-client", "bench-google", "test-client-id")


@dataclass(frozen=True, slots=True)
class RemoteEmulator:
    """An emulator in a child process: its URLs, tokens and control endpoints."""

    base_url: str
    api_endpoint: str
    authorize_url: str
    token_url: str
    tokens: dict[str, dict[str, Any]]
    event_ids: tuple[str, ...]
    session: aiohttp.ClientSession

    def issue_tokens(
        self, email: str, client_id: str = "test-client-id"
    ) -> dict[str, Any]:
        """Return the tokens the child minted for the bench account and client_id."""
        assert email == ACCOUNT, email
        return self.tokens[client_id]

    async def _control(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        async with self.session.request(
            method, f"{self.base_url}emulator/{path}", json=body
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def patch_event(self, event_id: str, body: dict[str, Any]) -> None:
        """Change an event as a user would in Google."""
        await self._control("PATCH", f"calendars/{ACCOUNT}/events/{event_id}", body)

    async def invalidate_sync_tokens(self) -> None:
        """Make Google answer the next incremental sync with 410 Gone."""
        await self._control("POST", "sync-tokens/invalidate", {})

    async def traffic(self) -> Traffic:
        """Return the Calendar API traffic so far (token grants, batch parts aside)."""
        entries = (await self._control("GET", "requests"))["items"]
        api = [
            entry
            for entry in entries
            if not entry["batch_part"] and "/token" not in entry["path"]
        ]
        return Traffic(len(api), sum(entry["response_bytes"] for entry in api))


@contextlib.asynccontextmanager
async def remote_emulator(count: int) -> AsyncIterator[RemoteEmulator]:
    """Run an emulator child process whose bench calendar holds count events."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._remote",
        str(count),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator child process ended before it was ready")
        ready = json.loads(line)
        async with aiohttp.ClientSession() as session:
            yield RemoteEmulator(
                base_url=ready["base_url"],
                api_endpoint=ready["api_endpoint"],
                authorize_url=ready["authorize_url"],
                token_url=ready["token_url"],
                tokens=ready["tokens"],
                event_ids=tuple(ready["event_ids"]),
                session=session,
            )
    finally:
        process.stdin.close()
        await process.wait()


async def _serve(count: int) -> None:
    """Seed, start, say where, serve until stdin closes."""
    emulator = GoogleCalendarEmulator()
    emulator.add_user(ACCOUNT)
    events = seed_calendar(emulator, ACCOUNT, count)
    await emulator.start()
    try:
        ready = {
            "base_url": emulator.base_url,
            "api_endpoint": emulator.api_endpoint,
            "authorize_url": emulator.authorize_url,
            "token_url": emulator.token_url,
            "tokens": {
                client: emulator.issue_tokens(ACCOUNT, client) for client in CLIENTS
            },
            # Single events (not series) that the benchmarks change one at a time.
            "event_ids": [
                event["id"] for event in events if not event.get("recurrence")
            ][:50],
        }
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.read)
    finally:
        await emulator.stop()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1])))
