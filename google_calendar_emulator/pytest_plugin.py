"""Pytest fixtures: a running emulator and a token for its default user."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest

from .server import GoogleCalendarEmulator

DEFAULT_USER = "user@example.com"


@pytest.fixture
async def calendar_emulator(
    socket_enabled: None,
) -> AsyncGenerator[GoogleCalendarEmulator]:
    """Run the emulator on a free loopback port with user@example.com."""
    emulator = GoogleCalendarEmulator(host="127.0.0.1", port=0)
    emulator.add_user(DEFAULT_USER)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def emulator_token(calendar_emulator: GoogleCalendarEmulator) -> dict[str, Any]:
    """Return fresh tokens (access and refresh) for user@example.com."""
    return calendar_emulator.issue_tokens(DEFAULT_USER)
