"""The emulator's state survives a restart through its state file."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import date
import json
from pathlib import Path
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from google.auth import crypt, jwt
import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.demo import DEMO_USER, seed_demo
from google_calendar_emulator.identities import JWT_BEARER
from google_calendar_emulator.state import StateFile, dump_state, restore_state

TODAY = date(2030, 1, 7)


@pytest.fixture
async def restarted(socket_enabled: None) -> AsyncGenerator[GoogleCalendarEmulator]:
    """Return a second, empty emulator: the first one after a restart."""
    emulator = GoogleCalendarEmulator(host="127.0.0.1", port=0)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


def _by_id(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Key events by id."""
    return {event["id"]: event for event in events}


async def _token(
    session: aiohttp.ClientSession, emulator: GoogleCalendarEmulator, refresh: str
) -> tuple[int, dict[str, Any]]:
    """Refresh an access token at the emulator's token endpoint."""
    async with session.post(
        emulator.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": "test-client-id",
            "client_secret": "secret",
        },
    ) as response:
        return response.status, await response.json()


async def test_restart_keeps_events_tokens_sync_tokens_and_channels(
    calendar_emulator: GoogleCalendarEmulator,
    restarted: GoogleCalendarEmulator,
    tmp_path: Path,
) -> None:
    """Home Assistant's tokens, sync token and channel still work after a restart."""
    seed_demo(calendar_emulator, today=TODAY)
    tokens = calendar_emulator.issue_tokens(DEMO_USER)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    events_url = f"{calendar_emulator.api_endpoint}calendars/{DEMO_USER}/events"
    async with aiohttp.ClientSession() as session:
        async with session.get(events_url, headers=auth) as response:
            sync_token = (await response.json())["nextSyncToken"]
        async with session.post(
            f"{events_url}/watch",
            headers=auth,
            json={"id": "channel-1", "type": "web_hook", "address": "https://h/x"},
        ) as response:
            assert response.status == 200
        await calendar_emulator.notifications_idle()

        path = tmp_path / "emulator-state.json"
        StateFile(calendar_emulator, path).save()
        assert StateFile(restarted, path).load()

        for calendar_id in calendar_emulator.model.calendars:
            assert _by_id(restarted.events(calendar_id)) == _by_id(
                calendar_emulator.events(calendar_id)
            )
        restarted_url = f"{restarted.api_endpoint}calendars/{DEMO_USER}/events"
        async with session.get(
            restarted_url, headers=auth, params={"syncToken": sync_token}
        ) as response:
            assert response.status == 200  # the same access token, no 410
            assert (await response.json())["items"] == []
        status, refreshed = await _token(session, restarted, tokens["refresh_token"])
        assert status == 200
        assert refreshed["access_token"] != tokens["access_token"]
    assert restarted.channels["channel-1"].active
    assert restarted.channels["channel-1"].address == "https://h/x"


async def test_a_missing_file_loads_nothing_and_save_follows_changes(
    calendar_emulator: GoogleCalendarEmulator, tmp_path: Path
) -> None:
    """A first start finds no file; each save writes the state of the moment."""
    path = tmp_path / "state" / "emulator.json"
    state = StateFile(calendar_emulator, path)
    assert not state.load()
    state.save()
    assert json.loads(path.read_text())["oauth"]["refresh_tokens"] == {}
    calendar_emulator.issue_tokens("user@example.com")
    state.save()
    assert len(json.loads(path.read_text())["oauth"]["refresh_tokens"]) == 1
    assert not list(path.parent.glob("*.tmp"))


async def test_unknown_state_version_is_refused(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """A state file from another version is not half-loaded."""
    state = dump_state(calendar_emulator)
    with pytest.raises(ValueError, match="Unsupported emulator state version"):
        restore_state(calendar_emulator, {**state, "version": 0})


async def test_restart_keeps_service_accounts_api_keys_and_calendar_lists(
    calendar_emulator: GoogleCalendarEmulator, restarted: GoogleCalendarEmulator
) -> None:
    """A service account's key, its calendar list and API keys work after a restart."""
    key = calendar_emulator.create_service_account("robot")
    robot = key["client_email"]
    club = calendar_emulator.add_calendar("user@example.com", "Club")
    calendar_emulator.share_calendar(club, robot, "writer")
    calendar_emulator.model.calendar_lists[robot].add(club)
    calendar_emulator.model.set_public(club)
    api_key = calendar_emulator.identities.create_api_key()
    restricted = calendar_emulator.identities.create_api_key(restricted=True)

    restore_state(restarted, json.loads(json.dumps(dump_state(calendar_emulator))))

    now = int(time.time())
    assertion = jwt.encode(
        crypt.RSASigner.from_service_account_info(key),
        {
            "iss": robot,
            "scope": "https://www.googleapis.com/auth/calendar",
            "aud": restarted.token_url,
            "iat": now,
            "exp": now + 3600,
        },
    ).decode()
    events = f"{restarted.api_endpoint}calendars/{quote(club)}/events"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            restarted.token_url, data={"grant_type": JWT_BEARER, "assertion": assertion}
        ) as response:
            assert response.status == 200
            token = (await response.json())["access_token"]
        async with session.get(
            f"{restarted.api_endpoint}users/me/calendarList",
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert [item["id"] for item in (await response.json())["items"]] == [club]
        async with session.get(events, params={"key": api_key}) as response:
            assert response.status == 200
        async with session.get(events, params={"key": restricted}) as response:
            assert response.status == 403
