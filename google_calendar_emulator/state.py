"""Keep the emulator's state in a JSON file, so a restart continues where it stopped.

scripts/develop keeps it next to the demo's Home Assistant configuration: without it a
restarted emulator forgets the tokens Home Assistant holds (the entry then says
"Authentication expired"), the events and the watch channels. Faults, the request log
and deliveries in flight are not kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .channels import registry

if TYPE_CHECKING:
    from .server import GoogleCalendarEmulator

_LOGGER = logging.getLogger(__name__)

STATE_VERSION = 2


def dump_state(emulator: GoogleCalendarEmulator) -> dict[str, Any]:
    """Return everything a restarted emulator needs to continue."""
    return {
        "version": STATE_VERSION,
        "model": emulator.model.as_state(),
        "oauth": emulator.oauth.as_state(),
        "channels": registry(emulator).as_state(),
        "identities": emulator.identities.as_state(),
    }


def restore_state(emulator: GoogleCalendarEmulator, state: dict[str, Any]) -> None:
    """Replace the emulator's state with a dump (call it on the running emulator)."""
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"Unsupported emulator state version {state.get('version')}")
    emulator.model.restore_state(state["model"])
    emulator.oauth.restore_state(state["oauth"])
    registry(emulator).restore_state(state["channels"])
    emulator.identities.restore_state(state["identities"])


class StateFile:
    """Load the state at start, write it after every change and at the end."""

    def __init__(self, emulator: GoogleCalendarEmulator, path: Path) -> None:
        """Keep emulator's state in path."""
        self._emulator = emulator
        self._path = path
        self._written = ""

    def load(self) -> bool:
        """Restore the state from the file; return False when there is none."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        restore_state(self._emulator, json.loads(text))
        self._written = text
        _LOGGER.info("Restored the emulator's state from %s", self._path)
        return True

    def save(self) -> None:
        """Write the state if it changed (atomically: never half a file)."""
        text = json.dumps(dump_state(self._emulator), indent=1)
        if text == self._written:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_name(self._path.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self._path)
        self._written = text

    async def keep(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Save every interval seconds (tokens change without a model change) until stop."""
        while not stop.is_set():
            try:
                async with asyncio.timeout(interval):
                    await stop.wait()
            except TimeoutError:
                self.save()
        self.save()
