"""Service accounts and the JWT bearer grant, as Google's token endpoint answers them."""

from __future__ import annotations

from collections.abc import AsyncGenerator
import time
from typing import Any

import aiohttp
from google.auth import crypt, jwt
import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.identities import JWT_BEARER

USER = "user@example.com"
SCOPE = "https://www.googleapis.com/auth/calendar"
SA = "robot@emulator-project.iam.gserviceaccount.com"


@pytest.fixture
def key(calendar_emulator: GoogleCalendarEmulator) -> dict[str, Any]:
    """Create the service account robot@ and return its JSON key."""
    return calendar_emulator.create_service_account("robot")


@pytest.fixture
async def session(
    calendar_emulator: GoogleCalendarEmulator,
) -> AsyncGenerator[aiohttp.ClientSession]:
    """Return an HTTP session for the test."""
    async with aiohttp.ClientSession() as session:
        yield session


def _assertion(key: dict[str, Any], **claims: Any) -> str:
    """Sign claims with the key, defaulting to a valid grant request."""
    now = int(time.time())
    payload = {
        "iss": key["client_email"],
        "scope": SCOPE,
        "aud": key["token_uri"],
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    signer = crypt.RSASigner.from_service_account_info(key)
    return jwt.encode(signer, payload).decode()


async def _grant(
    session: aiohttp.ClientSession, emulator: GoogleCalendarEmulator, assertion: str
) -> tuple[int, dict[str, Any]]:
    async with session.post(
        emulator.token_url, data={"grant_type": JWT_BEARER, "assertion": assertion}
    ) as resp:
        return resp.status, await resp.json()


async def _api(
    session: aiohttp.ClientSession,
    emulator: GoogleCalendarEmulator,
    method: str,
    path: str,
    *,
    token: str,
    body: Any = None,
) -> tuple[int, dict[str, Any]]:
    async with session.request(
        method,
        emulator.api_endpoint + path,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        return resp.status, await resp.json()


async def test_json_key_looks_like_googles(
    calendar_emulator: GoogleCalendarEmulator, key: dict[str, Any]
) -> None:
    """The key has the fields Google's key files have."""
    assert key["type"] == "service_account"
    assert key["client_email"] == SA
    assert key["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert key["token_uri"] == calendar_emulator.token_url
    assert {"project_id", "private_key_id", "client_id", "auth_uri"} <= set(key)


async def test_signed_assertion_gets_a_token_with_an_empty_calendar_list(
    calendar_emulator: GoogleCalendarEmulator,
    key: dict[str, Any],
    session: aiohttp.ClientSession,
) -> None:
    """The grant answers a bearer token; shared calendars appear once inserted."""
    status, body = await _grant(session, calendar_emulator, _assertion(key))
    assert status == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert "refresh_token" not in body
    token = body["access_token"]

    status, listing = await _api(
        session, calendar_emulator, "GET", "users/me/calendarList", token=token
    )
    assert (status, listing["items"]) == (200, [])

    shared = calendar_emulator.add_calendar(USER, "Club")
    status, error = await _api(
        session,
        calendar_emulator,
        "POST",
        "users/me/calendarList",
        token=token,
        body={"id": shared},
    )
    assert (status, error["error"]["errors"][0]["reason"]) == (404, "notFound")

    calendar_emulator.share_calendar(shared, SA, "writer")
    status, entry = await _api(
        session,
        calendar_emulator,
        "POST",
        "users/me/calendarList",
        token=token,
        body={"id": shared},
    )
    assert (status, entry["id"], entry["accessRole"]) == (200, shared, "writer")
    status, listing = await _api(
        session, calendar_emulator, "GET", "users/me/calendarList", token=token
    )
    assert [item["id"] for item in listing["items"]] == [shared]

    status, error = await _api(
        session,
        calendar_emulator,
        "POST",
        "users/me/calendarList",
        token=token,
        body={},
    )
    assert (status, error["error"]["errors"][0]["reason"]) == (400, "required")


async def test_users_keep_their_implicit_calendar_list(
    calendar_emulator: GoogleCalendarEmulator,
    emulator_token: dict[str, Any],
    session: aiohttp.ClientSession,
) -> None:
    """Inserting for a user only answers the entry: their list shows all anyway."""
    team = calendar_emulator.add_calendar(USER, "Team")
    status, entry = await _api(
        session,
        calendar_emulator,
        "POST",
        "users/me/calendarList",
        token=emulator_token["access_token"],
        body={"id": team},
    )
    assert (status, entry["id"]) == (200, team)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"aud": "https://example.com/token"}, (400, "invalid_grant", "audience")),
        ({"iat": 1, "exp": 3601}, (400, "invalid_grant", "short-lived")),
        (
            {"iat": int(time.time()), "exp": int(time.time()) + 7200},
            (400, "invalid_grant", "short-lived"),
        ),
        ({"iat": "now"}, (400, "invalid_grant", "short-lived")),
        ({"scope": None}, (400, "invalid_scope", "scope")),
        (
            {"iss": "nobody@x.iam.gserviceaccount.com"},
            (400, "invalid_grant", "account"),
        ),
        ({"sub": USER}, (401, "unauthorized_client", "unauthorized")),
    ],
)
async def test_grant_checks_every_claim(
    calendar_emulator: GoogleCalendarEmulator,
    key: dict[str, Any],
    session: aiohttp.ClientSession,
    claims: dict[str, Any],
    expected: tuple[int, str, str],
) -> None:
    """Audience, lifetime, scope, issuer and delegation are checked like Google."""
    status, body = await _grant(session, calendar_emulator, _assertion(key, **claims))
    assert (status, body["error"]) == expected[:2]
    assert expected[2] in body["error_description"]


async def test_grant_checks_the_signature(
    calendar_emulator: GoogleCalendarEmulator,
    key: dict[str, Any],
    session: aiohttp.ClientSession,
) -> None:
    """A key of another account, a deleted key or a forged JWT is refused."""
    other = calendar_emulator.create_service_account("other")
    forged = _assertion({**other, "private_key_id": key["private_key_id"]}, iss=SA)
    for assertion in (forged, "a.b", "e30.W10.c2ln", _assertion(key) + "x"):
        status, body = await _grant(session, calendar_emulator, assertion)
        assert status == 400
        assert body["error"] == "invalid_grant"

    calendar_emulator.identities.delete_key(SA, key["private_key_id"])
    status, body = await _grant(session, calendar_emulator, _assertion(key))
    assert (status, body["error_description"]) == (400, "Invalid JWT Signature.")


async def test_delegation_acts_for_an_existing_user(
    calendar_emulator: GoogleCalendarEmulator, session: aiohttp.ClientSession
) -> None:
    """With delegation allowed, sub names the user whose calendars are used."""
    admin = calendar_emulator.create_service_account("admin", delegation=True)
    status, body = await _grant(session, calendar_emulator, _assertion(admin, sub=USER))
    assert status == 200
    status, listing = await _api(
        session,
        calendar_emulator,
        "GET",
        "users/me/calendarList",
        token=body["access_token"],
    )
    assert [item["id"] for item in listing["items"]] == [USER]

    for subject in ("nobody@example.com", SA):
        status, body = await _grant(
            session, calendar_emulator, _assertion(admin, sub=subject)
        )
        assert (status, body["error_description"]) == (400, "Invalid email or User ID")


async def test_deleted_service_account_loses_its_tokens(
    calendar_emulator: GoogleCalendarEmulator,
    key: dict[str, Any],
    session: aiohttp.ClientSession,
) -> None:
    """Deleting the account ends its tokens and its grants."""
    _, body = await _grant(session, calendar_emulator, _assertion(key))
    calendar_emulator.identities.delete_service_account(SA)
    status, _ = await _api(
        session,
        calendar_emulator,
        "GET",
        "users/me/calendarList",
        token=body["access_token"],
    )
    assert status == 401
    status, body = await _grant(session, calendar_emulator, _assertion(key))
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_account_names_are_unique(
    calendar_emulator: GoogleCalendarEmulator,
) -> None:
    """Creating a service account twice is a conflict."""
    calendar_emulator.create_service_account("robot")
    with pytest.raises(Exception, match="already exists"):
        calendar_emulator.create_service_account("robot")
