"""OAuth: the consent page, the token endpoint and bearer checks on the API."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import CalendarClient

REDIRECT_URI = "http://127.0.0.1:8123/auth/external/callback"
SCOPE = "https://www.googleapis.com/auth/calendar"


async def _consent(
    emulator: GoogleCalendarEmulator,
    session: aiohttp.ClientSession,
    *,
    email: str = "user@example.com",
    action: str = "allow",
    scope: str = SCOPE,
) -> dict[str, list[str]]:
    """Open the consent page, submit it like a browser and return the redirect query."""
    params = {
        "response_type": "code",
        "client_id": "my-client",
        "redirect_uri": REDIRECT_URI,
        "state": "opaque-state",
        "scope": scope,
        "access_type": "offline",
        "prompt": "consent",
    }
    async with session.get(emulator.authorize_url, params=params) as response:
        assert response.status == 200
        page = await response.text()
    assert 'id="allow"' in page
    assert f'<option value="{email}"' in page
    form = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page))
    form.update({"email": email, "action": action})
    async with session.post(
        emulator.authorize_url, data=form, allow_redirects=False
    ) as response:
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


async def _token(
    emulator: GoogleCalendarEmulator, session: aiohttp.ClientSession, **form: str
) -> tuple[int, dict[str, Any]]:
    async with session.post(
        emulator.token_url,
        data={"client_id": "my-client", "client_secret": "my-secret", **form},
    ) as response:
        return response.status, await response.json()


async def test_authorization_code_grant_issues_working_tokens(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        redirect = await _consent(calendar_emulator, session)
        assert redirect["state"] == ["opaque-state"]
        status, tokens = await _token(
            calendar_emulator,
            session,
            grant_type="authorization_code",
            code=redirect["code"][0],
            redirect_uri=REDIRECT_URI,
        )
    assert status == 200
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == SCOPE
    assert tokens["refresh_token"]
    assert calendar_emulator.oauth.clients == [("my-client", "my-secret")]

    client = await asyncio.to_thread(
        CalendarClient, calendar_emulator, tokens["access_token"]
    )
    calendars = await client(lambda s: s.calendarList().list())
    assert [entry["id"] for entry in calendars["items"]] == ["user@example.com"]


async def test_an_authorization_code_works_once(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        code = (await _consent(calendar_emulator, session))["code"][0]
        first, _ = await _token(
            calendar_emulator, session, grant_type="authorization_code", code=code
        )
        second, body = await _token(
            calendar_emulator, session, grant_type="authorization_code", code=code
        )
    assert (first, second) == (200, 400)
    assert body["error"] == "invalid_grant"


async def test_denying_consent_redirects_with_access_denied(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        redirect = await _consent(calendar_emulator, session, action="deny")
    assert redirect == {"error": ["access_denied"], "state": ["opaque-state"]}


async def test_consent_page_needs_client_and_redirect(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(calendar_emulator.authorize_url) as response,
    ):
        assert response.status == 400


async def test_refresh_grant_and_revocation_with_google_auth(
    calendar_emulator: GoogleCalendarEmulator, emulator_token: dict[str, Any]
) -> None:
    credentials = google.oauth2.credentials.Credentials(
        token=None,
        refresh_token=emulator_token["refresh_token"],
        token_uri=calendar_emulator.token_url,
        client_id="test-client-id",
        client_secret="secret",
    )
    await asyncio.to_thread(
        credentials.refresh, google.auth.transport.requests.Request()
    )
    assert credentials.token
    assert credentials.token != emulator_token["access_token"]

    calendar_emulator.revoke_refresh_token(emulator_token["refresh_token"])
    with pytest.raises(google.auth.exceptions.RefreshError, match="invalid_grant"):
        await asyncio.to_thread(
            credentials.refresh, google.auth.transport.requests.Request()
        )


async def test_unknown_refresh_token_is_invalid_grant(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        status, body = await _token(
            calendar_emulator, session, grant_type="refresh_token", refresh_token="nope"
        )
    assert status == 400
    assert body == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


async def test_unsupported_grant_type(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        status, body = await _token(calendar_emulator, session, grant_type="password")
    assert status == 400
    assert body["error"] == "unsupported_grant_type"


async def test_expired_access_token_gets_401_until_refreshed(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    emulator_token: dict[str, Any],
) -> None:
    await calendar_client(lambda s: s.calendars().get(calendarId="primary"))
    calendar_emulator.expire_access_tokens()

    with pytest.raises(HttpError) as err:
        await calendar_client(lambda s: s.calendars().get(calendarId="primary"))
    assert err.value.status_code == 401
    assert err.value.error_details[0]["reason"] == "authError"

    async with aiohttp.ClientSession() as session:
        status, tokens = await _token(
            calendar_emulator,
            session,
            grant_type="refresh_token",
            refresh_token=emulator_token["refresh_token"],
        )
    assert status == 200
    assert "refresh_token" not in tokens
    client = await asyncio.to_thread(
        CalendarClient, calendar_emulator, tokens["access_token"]
    )
    calendar = await client(lambda s: s.calendars().get(calendarId="primary"))
    assert calendar["id"] == "user@example.com"


async def test_access_tokens_expire_after_the_configured_ttl(
    socket_enabled: None,
) -> None:
    emulator = GoogleCalendarEmulator(access_token_ttl=timedelta(seconds=-1))
    emulator.add_user("user@example.com")
    async with emulator:
        tokens = emulator.issue_tokens("user@example.com")
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{emulator.api_endpoint}users/me/calendarList",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            ) as response,
        ):
            assert response.status == 401


async def test_missing_or_bad_bearer_token_gets_google_401(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    url = f"{calendar_emulator.api_endpoint}users/me/calendarList"
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            async with session.get(url, headers=headers) as response:
                assert response.status == 401
                body = await response.json()
            assert body["error"]["code"] == 401
            assert body["error"]["errors"][0] == {
                "domain": "global",
                "reason": "authError",
                "message": "Invalid Credentials",
                "locationType": "header",
                "location": "Authorization",
            }


async def test_read_only_scope_cannot_write(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    async with aiohttp.ClientSession() as session:
        redirect = await _consent(
            calendar_emulator,
            session,
            scope="https://www.googleapis.com/auth/calendar.readonly",
        )
        _, tokens = await _token(
            calendar_emulator,
            session,
            grant_type="authorization_code",
            code=redirect["code"][0],
        )
    client = await asyncio.to_thread(
        CalendarClient, calendar_emulator, tokens["access_token"]
    )
    await client(lambda s: s.events().list(calendarId="primary"))
    with pytest.raises(HttpError) as err:
        await client(
            lambda s: s.events().insert(
                calendarId="primary",
                body={"start": {"date": "2026-01-01"}, "end": {"date": "2026-01-02"}},
            )
        )
    assert err.value.status_code == 403
    assert err.value.error_details[0]["reason"] == "insufficientPermissions"
