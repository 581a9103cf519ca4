"""Fixtures that drive the emulator with the real google-api-python-client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import google.oauth2.credentials
from googleapiclient.discovery import build
import httplib2
import pytest

from google_calendar_emulator import GoogleCalendarEmulator

type Call = Callable[[Callable[[Any], Any]], Any]


class CalendarClient:
    """The real Calendar client pointed at the emulator; calls run in a thread."""

    def __init__(self, emulator: GoogleCalendarEmulator, access_token: str) -> None:
        self.emulator = emulator
        self.access_token = access_token
        self.service = build(
            "calendar",
            "v3",
            static_discovery=True,
            client_options={"api_endpoint": emulator.api_endpoint},
            credentials=google.oauth2.credentials.Credentials(access_token),
        )

    async def __call__(self, make_request: Callable[[Any], Any]) -> Any:
        """Build a request from the service and execute it in the executor."""
        request = make_request(self.service)
        # The bearer header is set by hand so a 401 surfaces as HttpError instead of a
        # refresh attempt; httplib2.Http is not thread-safe, hence one per call.
        request.headers["authorization"] = f"Bearer {self.access_token}"
        return await asyncio.to_thread(request.execute, http=httplib2.Http(timeout=10))


@pytest.fixture
async def calendar_client(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> CalendarClient:
    """Return a client for user@example.com."""
    return await asyncio.to_thread(
        CalendarClient, calendar_emulator, emulator_token["access_token"]
    )
