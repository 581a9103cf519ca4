"""Contract mode: the same protocol tests against the emulator or the real Google API.

A `CalendarBackend` is all a protocol test needs: the API endpoint, the batch URI, an
access token and a scratch calendar it may fill and that is removed afterwards. The
Google backend is only available when a developer supplies real credentials (see
scripts/google_refresh_token.py); without them the tests are skipped with a reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
import logging
import os
from typing import TYPE_CHECKING, Any
import uuid

from google.oauth2.credentials import Credentials
import google_auth_httplib2  # type: ignore[import-untyped]
from googleapiclient.discovery import build
import httplib2

if TYPE_CHECKING:
    from .server import GoogleCalendarEmulator

_LOGGER = logging.getLogger(__name__)

ENV_REFRESH_TOKEN = "GOOGLE_CALENDAR_CONTRACT_REFRESH_TOKEN"  # noqa: S105 - a variable name
ENV_CLIENT_ID = "GOOGLE_CALENDAR_CONTRACT_CLIENT_ID"
ENV_CLIENT_SECRET = "GOOGLE_CALENDAR_CONTRACT_CLIENT_SECRET"  # noqa: S105 - a variable name
GOOGLE_API_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
GOOGLE_BATCH_URI = "https://www.googleapis.com/batch/calendar/v3"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
SKIP_REASON = (
    f"contract tests against Google need {ENV_REFRESH_TOKEN}, {ENV_CLIENT_ID} and "
    f"{ENV_CLIENT_SECRET} (get a refresh token with scripts/google_refresh_token.py)"
)


@dataclass(frozen=True, slots=True)
class GoogleCredentials:
    """What it takes to mint access tokens for a real Google account."""

    refresh_token: str
    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class CalendarBackend:
    """A Calendar API v3 server for protocol tests: the emulator or Google."""

    name: str
    api_endpoint: str
    batch_uri: str
    access_token: str
    calendar_id: str

    def build_service(self) -> Any:
        """Build the real client for this backend (blocking: run it in the executor)."""
        return build(
            "calendar",
            "v3",
            static_discovery=True,
            client_options={"api_endpoint": self.api_endpoint},
            credentials=Credentials(self.access_token),  # type: ignore[no-untyped-call]
        )

    def new_http(self) -> Any:
        """Return a fresh authorized httplib2 transport (they are not thread-safe)."""
        return google_auth_httplib2.AuthorizedHttp(
            Credentials(self.access_token),  # type: ignore[no-untyped-call]
            http=httplib2.Http(timeout=30),
        )


def google_credentials(
    environ: Mapping[str, str] = os.environ,
) -> GoogleCredentials | None:
    """Return the contract credentials from the environment, None when incomplete."""
    values = [
        environ.get(name, "").strip()
        for name in (ENV_REFRESH_TOKEN, ENV_CLIENT_ID, ENV_CLIENT_SECRET)
    ]
    if not all(values):
        return None
    return GoogleCredentials(*values)


@asynccontextmanager
async def emulator_backend(
    emulator: GoogleCalendarEmulator, user: str = "contract@example.com"
) -> AsyncIterator[CalendarBackend]:
    """Yield a backend on a running emulator with a fresh scratch calendar."""
    emulator.add_user(user)
    calendar_id = emulator.add_calendar(
        user, f"Contract scratch {uuid.uuid4().hex[:8]}"
    )
    yield CalendarBackend(
        name="emulator",
        api_endpoint=emulator.api_endpoint,
        batch_uri=emulator.batch_uri,
        access_token=emulator.issue_tokens(user)["access_token"],
        calendar_id=calendar_id,
    )


def _google_access_token(credentials: GoogleCredentials) -> str:
    """Exchange the refresh token for an access token (blocking)."""

    oauth = Credentials(  # type: ignore[no-untyped-call]
        None,
        refresh_token=credentials.refresh_token,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        token_uri=GOOGLE_TOKEN_URI,
    )
    oauth.refresh(  # type: ignore[no-untyped-call]
        google_auth_httplib2.Request(httplib2.Http(timeout=30))
    )
    return str(oauth.token)


@asynccontextmanager
async def google_backend(
    credentials: GoogleCredentials,
) -> AsyncIterator[CalendarBackend]:
    """Yield a backend on the real Google API with a scratch calendar, then delete it."""
    token = await asyncio.to_thread(_google_access_token, credentials)
    bootstrap = CalendarBackend(
        name="google",
        api_endpoint=GOOGLE_API_ENDPOINT,
        batch_uri=GOOGLE_BATCH_URI,
        access_token=token,
        calendar_id="primary",
    )
    service = await asyncio.to_thread(bootstrap.build_service)
    created = await asyncio.to_thread(
        service.calendars()
        .insert(
            body={"summary": f"google_calendar_sync contract {uuid.uuid4().hex[:8]}"}
        )
        .execute,
        http=bootstrap.new_http(),
    )
    try:
        yield CalendarBackend(
            name="google",
            api_endpoint=GOOGLE_API_ENDPOINT,
            batch_uri=GOOGLE_BATCH_URI,
            access_token=token,
            calendar_id=created["id"],
        )
    finally:
        try:
            await asyncio.to_thread(
                service.calendars().delete(calendarId=created["id"]).execute,
                http=bootstrap.new_http(),
            )
        except Exception:
            _LOGGER.exception("Could not delete scratch calendar %s", created["id"])
