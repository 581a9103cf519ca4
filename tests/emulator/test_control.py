"""Control endpoints under /emulator/ for scripts and out-of-process tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any
from unittest.mock import Mock

import aiohttp
from aiohttp.test_utils import make_mocked_request
from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.channels import registry
from google_calendar_emulator.control import EMULATOR_KEY, _guard, _is_loopback, index
from google_calendar_emulator.demo import (
    DEMO_API_KEY,
    DEMO_SERVICE_ACCOUNT,
    DEMO_USER,
    FAMILY_CALENDAR,
    HOLIDAYS_CALENDAR,
    PUBLIC_CALENDAR,
)

from .conftest import CalendarClient

EVENT = {
    "summary": "Lunch",
    "start": {"dateTime": "2026-11-23T12:00:00Z"},
    "end": {"dateTime": "2026-11-23T13:00:00Z"},
}


class Control:
    """A tiny JSON client for the control endpoints."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base = f"{base_url}emulator"

    async def __call__(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with self.session.request(method, self.base + path, **kwargs) as resp:
            text = await resp.text()
            return resp.status, (await resp.json() if text else None)


@pytest.fixture
async def control(
    calendar_emulator: GoogleCalendarEmulator,
) -> AsyncGenerator[Control]:
    """Return a control client for the running emulator."""
    async with aiohttp.ClientSession() as session:
        yield Control(session, calendar_emulator.base_url)


async def _client(emulator: GoogleCalendarEmulator, token: str) -> CalendarClient:
    return await asyncio.to_thread(CalendarClient, emulator, token)


async def test_index_lists_urls_and_endpoints(
    calendar_emulator: GoogleCalendarEmulator, control: Control
) -> None:
    status, body = await control("GET", "/")

    assert status == 200
    assert body["api_endpoint"] == calendar_emulator.api_endpoint
    assert body["batch_uri"] == calendar_emulator.batch_uri
    assert "POST /emulator/seed" in body["endpoints"]
    assert "GET /emulator/channels" in body["endpoints"]


async def test_users_calendars_and_minted_tokens_work_with_the_api(
    calendar_emulator: GoogleCalendarEmulator, control: Control
) -> None:
    assert await control("POST", "/users", {"email": "ann@example.com"}) == (
        201,
        {"email": "ann@example.com", "calendar_id": "ann@example.com"},
    )
    status, created = await control(
        "POST",
        "/calendars",
        {"owner": "ann@example.com", "summary": "Chores", "time_zone": "Europe/Berlin"},
    )
    assert status == 201
    status, _ = await control(
        "POST",
        f"/calendars/{created['calendar_id']}/share",
        {"email": "user@example.com", "access_role": "reader"},
    )
    assert status == 200
    status, tokens = await control("POST", "/tokens", {"email": "ann@example.com"})
    assert status == 201
    assert set(tokens) >= {"access_token", "refresh_token", "expires_in"}

    client = await _client(calendar_emulator, tokens["access_token"])
    calendars = await client(lambda s: s.calendarList().list())
    assert sorted(item["summary"] for item in calendars["items"]) == [
        "Chores",
        "ann@example.com",
    ]


async def test_event_edits_as_a_user_in_google(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    control: Control,
) -> None:
    status, event = await control("POST", "/calendars/user@example.com/events", EVENT)
    assert status == 201
    status, patched = await control(
        "PATCH",
        f"/calendars/user@example.com/events/{event['id']}",
        {"summary": "Brunch"},
    )
    assert status == 200
    assert patched["sequence"] == event["sequence"] + 1

    seen = await calendar_client(
        lambda s: s.events().get(calendarId="primary", eventId=event["id"])
    )
    assert seen["summary"] == "Brunch"
    assert (await control("GET", "/calendars/user@example.com/events"))[1]["items"][0][
        "id"
    ] == event["id"]

    status, _ = await control(
        "DELETE", f"/calendars/user@example.com/events/{event['id']}"
    )
    assert status == 204
    assert calendar_emulator.events("user@example.com") == []


async def test_errors_come_back_in_googles_shape(control: Control) -> None:
    status, body = await control("POST", "/users", raw=b"not json")
    assert status == 400
    assert body["error"]["errors"][0]["reason"] == "parseError"

    assert (await control("POST", "/users", raw=b"[1]"))[0] == 400
    assert (await control("POST", "/users", {}))[1]["error"]["errors"][0][
        "reason"
    ] == "required"
    assert (await control("GET", "/calendars/nobody@example.com/events"))[0] == 404
    assert (await control("DELETE", "/calendars/user@example.com/events/abcdef"))[
        0
    ] == 404
    assert (await control("POST", "/seed", {"name": "huge"}))[0] == 400


async def test_seed_demo_gives_three_calendars_and_a_token(
    calendar_emulator: GoogleCalendarEmulator, control: Control
) -> None:
    status, seeded = await control("POST", "/seed", {"name": "demo"})
    assert status == 201
    assert seeded["user"] == DEMO_USER

    client = await _client(calendar_emulator, seeded["tokens"]["access_token"])
    calendars = await client(lambda s: s.calendarList().list())
    roles = {item["id"]: item["accessRole"] for item in calendars["items"]}
    assert roles == {
        DEMO_USER: "owner",
        FAMILY_CALENDAR: "owner",
        HOLIDAYS_CALENDAR: "reader",
    }
    with pytest.raises(HttpError) as err:
        await client(
            lambda s: s.events().insert(calendarId=HOLIDAYS_CALENDAR, body=EVENT)
        )
    assert err.value.status_code == 403

    instances = await client(
        lambda s: s.events().instances(
            calendarId=DEMO_USER, eventId="demo00000001", showDeleted=True
        )
    )
    items = instances["items"]
    assert len(items) == 12
    assert [i.get("summary") for i in items].count("Weekly team sync (moved)") == 1

    # What the demo shows of Google: types, a declined invitation and colors.
    events = (await client(lambda s: s.events().list(calendarId=DEMO_USER)))["items"]
    types = {event.get("eventType") for event in events}
    assert {"birthday", "workingLocation", "outOfOffice", "focusTime"} <= types
    assert any(
        attendee.get("self") and attendee["responseStatus"] == "declined"
        for event in events
        for attendee in event.get("attendees", [])
    )
    assert {event["colorId"] for event in events if "colorId" in event} >= {"5", "11"}
    family = next(c for c in calendars["items"] if c["id"] == FAMILY_CALENDAR)
    assert family["backgroundColor"] == "#42d692"
    assert [i["status"] for i in items].count("cancelled") == 1

    primary = await client(
        lambda s: s.events().list(calendarId=DEMO_USER, singleEvents=False)
    )
    assert any(event.get("hangoutLink") for event in primary["items"])
    family = calendar_emulator.events(FAMILY_CALENDAR)
    assert any("date" in event["start"] for event in family)

    # Seeding again changes nothing.
    status, again = await control("POST", "/seed", {})
    assert status == 201
    assert len(calendar_emulator.events(DEMO_USER)) == len(again["events"][DEMO_USER])


async def test_api_faults_can_be_armed_listed_and_cleared(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    control: Control,
) -> None:
    status, faults = await control(
        "POST",
        "/faults",
        {"api": [{"kind": "503", "times": 2, "path_contains": "/events"}]},
    )
    assert status == 200
    assert faults["api"][0]["kind"] == "503"
    assert faults["api"][0]["remaining"] == 2

    with pytest.raises(HttpError) as err:
        await calendar_client(lambda s: s.events().list(calendarId="primary"))
    assert err.value.status_code == 503

    assert (await control("DELETE", "/faults"))[0] == 200
    assert (await control("GET", "/faults"))[1]["api"] == []
    await calendar_client(lambda s: s.events().list(calendarId="primary"))


@pytest.mark.parametrize(
    "body",
    [
        {"api": ["503"]},
        {"api": [{"kind": "teapot"}]},
        {"api": [{"times": 1}]},
        {"notifications": {"drop_next": "many"}},
    ],
)
async def test_invalid_faults_answer_400(
    control: Control, body: dict[str, Any]
) -> None:
    assert (await control("POST", "/faults", body))[0] == 400


async def test_notification_faults_and_channel_listing(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    control: Control,
) -> None:
    registry(calendar_emulator).retry_max_attempts = 1
    status, faults = await control(
        "POST",
        "/faults",
        {"notifications": {"drop_next": 1, "duplicate_next": 2, "delay": 0.01}},
    )
    assert faults["notifications"] == {
        "drop_next": 1,
        "duplicate_next": 2,
        "reorder_next": 0,
        "delay": 0.01,
        "held": 0,
    }
    await calendar_client(
        lambda s: s.events().watch(
            calendarId="primary",
            body={"id": "c1", "type": "web_hook", "address": "https://127.0.0.1:9/"},
        )
    )
    await calendar_emulator.notifications_idle()

    status, channels = await control("GET", "/channels")
    assert status == 200
    (channel,) = channels["items"]
    assert channel["id"] == "c1"
    assert channel["calendarId"] == "user@example.com"
    assert channel["owner"] == "user@example.com"
    assert channel["deliveries"][0]["dropped"] is True

    await control("DELETE", "/faults")
    assert (await control("GET", "/faults"))[1]["notifications"]["duplicate_next"] == 0


async def test_tokens_sync_tokens_and_request_log(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    emulator_token: dict[str, Any],
    control: Control,
) -> None:
    listed = await calendar_client(lambda s: s.events().list(calendarId="primary"))
    assert (await control("POST", "/sync-tokens/invalidate", {}))[0] == 200
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().list(
                calendarId="primary", syncToken=listed["nextSyncToken"]
            )
        )
    assert err.value.status_code == 410

    status, log = await control("GET", "/requests")
    assert status == 200
    assert [entry["status"] for entry in log["items"]] == [200, 410]

    assert (await control("POST", "/tokens/expire"))[0] == 200
    with pytest.raises(HttpError) as err:
        await calendar_client(lambda s: s.events().list(calendarId="primary"))
    assert err.value.status_code == 401

    refresh = emulator_token["refresh_token"]
    assert (await control("POST", "/tokens/revoke", {"refresh_token": refresh}))[
        0
    ] == 200
    assert refresh not in calendar_emulator.oauth.refresh_tokens


async def test_reset_forgets_everything(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    control: Control,
) -> None:
    await control("POST", "/seed", {})
    await calendar_client(lambda s: s.events().list(calendarId="primary"))
    calendar_emulator.faults.fail_next(500)

    assert (await control("POST", "/reset"))[0] == 200

    assert calendar_emulator.model.calendars == {}
    assert calendar_emulator.oauth.access_tokens == {}
    assert len(calendar_emulator.requests) == 0
    assert calendar_emulator.faults.pending == 0
    # The emulator keeps working after a reset.
    assert (await control("POST", "/seed", {}))[0] == 201


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert not _is_loopback("192.168.1.20")
    assert not _is_loopback("not-an-ip")
    assert not _is_loopback(None)


async def test_control_refuses_other_hosts(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    transport = Mock()
    transport.get_extra_info.return_value = ("192.168.1.20", 40000)
    request = make_mocked_request(
        "GET", "/emulator/", app=calendar_emulator.app, transport=transport
    )
    assert request.app[EMULATOR_KEY] is calendar_emulator

    response = await _guard(index)(request)

    assert response.status == 403


async def test_service_accounts_and_keys_are_managed_like_in_the_console(
    calendar_emulator: GoogleCalendarEmulator, control: Control
) -> None:
    """Create a service account (answers its JSON key), add and delete keys."""
    status, key = await control("POST", "/service-accounts", {"name": "robot"})
    assert status == 201
    email = key["client_email"]
    assert email == "robot@emulator-project.iam.gserviceaccount.com"
    assert key["token_uri"] == calendar_emulator.token_url
    account = calendar_emulator.identities.service_accounts[email]
    assert not account.delegation

    status, second = await control("POST", f"/service-accounts/{email}/keys")
    assert status == 201
    assert set(account.public_keys) == {key["private_key_id"], second["private_key_id"]}
    status, _ = await control(
        "DELETE", f"/service-accounts/{email}/keys/{key['private_key_id']}"
    )
    assert status == 204
    assert set(account.public_keys) == {second["private_key_id"]}

    status, _ = await control("POST", "/service-accounts", {"name": "robot"})
    assert status == 409
    status, admin = await control(
        "POST", "/service-accounts", {"name": "admin", "delegation": True}
    )
    assert calendar_emulator.identities.service_accounts[
        admin["client_email"]
    ].delegation

    status, _ = await control("DELETE", f"/service-accounts/{email}")
    assert status == 204
    assert email not in calendar_emulator.identities.service_accounts
    status, _ = await control("DELETE", f"/service-accounts/{email}")
    assert status == 404

    status, _ = await control("POST", "/reset")
    assert calendar_emulator.identities.service_accounts == {}


async def test_api_keys_and_public_calendars(
    calendar_emulator: GoogleCalendarEmulator, control: Control
) -> None:
    """API keys (valid or restricted) and public calendars are created by control."""
    status, body = await control("POST", "/api-keys")
    assert status == 201
    assert not calendar_emulator.identities.api_keys[body["key"]].restricted
    status, body = await control("POST", "/api-keys", {"restricted": True})
    assert calendar_emulator.identities.api_keys[body["key"]].restricted

    calendar_id = calendar_emulator.add_calendar("user@example.com", "Matches")
    status, body = await control("POST", f"/calendars/{calendar_id}/public")
    assert (status, body) == (200, {"public": True})
    assert calendar_emulator.model.calendars[calendar_id].acl["anonymous"] == "reader"
    status, body = await control(
        "POST", f"/calendars/{calendar_id}/public", {"public": False}
    )
    assert body == {"public": False}
    assert "anonymous" not in calendar_emulator.model.calendars[calendar_id].acl


async def test_seed_demo_offers_every_way_in(
    calendar_emulator: GoogleCalendarEmulator, control: Control
) -> None:
    """The demo seed has a service account with Family shared and a public calendar."""
    status, seeded = await control("POST", "/seed", {"name": "demo"})
    assert status == 201
    key = seeded["service_account_key"]
    assert key["client_email"] == DEMO_SERVICE_ACCOUNT
    assert (
        calendar_emulator.model.calendars[FAMILY_CALENDAR].acl[DEMO_SERVICE_ACCOUNT]
        == "writer"
    )
    assert seeded["api_key"] == DEMO_API_KEY
    async with aiohttp.ClientSession() as session:
        url = f"{calendar_emulator.api_endpoint}calendars/{PUBLIC_CALENDAR}/events"
        async with session.get(url, params={"key": DEMO_API_KEY}) as resp:
            events = (await resp.json())["items"]
    assert {event["summary"] for event in events} == {
        "Home match",
        "Away match",
        "Cup final",
    }

    # Seeding again mints a new key of the same account and adds no events.
    status, again = await control("POST", "/seed", {})
    assert again["service_account_key"]["client_email"] == DEMO_SERVICE_ACCOUNT
    assert again["service_account_key"]["private_key_id"] != key["private_key_id"]
    assert len(calendar_emulator.events(PUBLIC_CALENDAR)) == 3
