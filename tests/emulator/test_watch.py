"""Push notifications: events.watch, channels.stop and webhook delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
import time
from typing import Any

from aiohttp import web
from googleapiclient.errors import HttpError
import pytest

from google_calendar_emulator import GoogleCalendarEmulator
from google_calendar_emulator.channels import (
    ChannelRegistry,
    _acceptable_address,
    registry,
)

from .conftest import CalendarClient

EVENT = {
    "summary": "Standup",
    "start": {"dateTime": "2026-11-23T09:00:00Z"},
    "end": {"dateTime": "2026-11-23T09:15:00Z"},
}


@dataclass
class Receiver:
    """A local webhook that records every notification it gets."""

    url: str
    messages: list[dict[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    # Statuses to answer with, in order; 200 once exhausted.
    answers: list[int] = field(default_factory=list)
    stall: float = 0.0
    unstall: asyncio.Event = field(default_factory=asyncio.Event)
    received: asyncio.Event = field(default_factory=asyncio.Event)

    def states(self) -> list[tuple[str, int]]:
        """Return (state, message number) of each message received."""
        return [
            (m["X-Goog-Resource-State"], int(m["X-Goog-Message-Number"]))
            for m in self.messages
        ]


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncGenerator[Receiver]:
    """Run an aiohttp webhook receiver on a free loopback port."""
    state = Receiver(url="")

    async def hook(request: web.Request) -> web.Response:
        state.messages.append(dict(request.headers))
        state.received.set()
        state.bodies.append(await request.read())
        if state.stall:
            async with asyncio.timeout(state.stall):
                await state.unstall.wait()
        status = state.answers.pop(0) if state.answers else 200
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield state
    finally:
        state.unstall.set()
        await runner.cleanup()


@pytest.fixture
def channels(calendar_emulator: GoogleCalendarEmulator) -> ChannelRegistry:
    """Return the emulator's channel registry with quick retries."""
    channels = registry(calendar_emulator)
    channels.retry_initial_delay = 0.01
    return channels


async def _watch(
    client: CalendarClient,
    receiver: Receiver,
    channel_id: str = "channel-1",
    calendar_id: str = "primary",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "id": channel_id,
        "type": "web_hook",
        "address": receiver.url,
        "token": "target=ha",
        **extra,
    }
    return await client(
        lambda s: s.events().watch(calendarId=calendar_id, body=body)  # type: ignore[no-any-return]
    )


async def _insert(client: CalendarClient, **fields: Any) -> dict[str, Any]:
    return await client(
        lambda s: s.events().insert(calendarId="primary", body={**EVENT, **fields})  # type: ignore[no-any-return]
    )


@dataclass
class Watched:
    """A channel on the primary calendar whose sync message has arrived."""

    emulator: GoogleCalendarEmulator
    client: CalendarClient
    channels: ChannelRegistry
    receiver: Receiver
    channel: dict[str, Any]

    async def insert(self) -> None:
        """Insert an event through the API."""
        await _insert(self.client)

    async def idle(self) -> None:
        """Wait until every notification is delivered."""
        await self.emulator.notifications_idle()


@pytest.fixture
async def watched(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> Watched:
    """Watch the primary calendar on channel-1 and wait for the sync message."""
    channel = await _watch(calendar_client, receiver)
    await calendar_emulator.notifications_idle()
    return Watched(calendar_emulator, calendar_client, channels, receiver, channel)


async def test_watch_answers_with_googles_channel_resource(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    before = int(time.time() * 1000)
    channel = await _watch(calendar_client, receiver)

    assert channel["kind"] == "api#channel"
    assert channel["id"] == "channel-1"
    assert channel["token"] == "target=ha"
    assert channel["resourceUri"] == (
        f"{calendar_emulator.api_endpoint}calendars/user%40example.com/events?alt=json"
    )
    assert isinstance(channel["expiration"], str)
    week_ms = 7 * 24 * 3600 * 1000
    assert before + week_ms <= int(channel["expiration"]) <= before + week_ms + 5000
    assert calendar_emulator.channels["channel-1"].calendar_id == "user@example.com"


async def test_sync_message_comes_first_with_googles_headers(watched: Watched) -> None:
    channel = watched.channel

    assert watched.receiver.states() == [("sync", 1)]
    headers = watched.receiver.messages[0]
    assert headers["X-Goog-Channel-ID"] == "channel-1"
    assert headers["X-Goog-Channel-Token"] == "target=ha"
    assert headers["X-Goog-Resource-ID"] == channel["resourceId"]
    assert headers["X-Goog-Resource-URI"] == channel["resourceUri"]
    assert headers["User-Agent"].startswith("APIs-Google")
    expiration = parsedate_to_datetime(headers["X-Goog-Channel-Expiration"])
    assert headers["X-Goog-Channel-Expiration"].endswith(" GMT")
    assert int(expiration.timestamp()) == int(channel["expiration"]) // 1000
    assert watched.receiver.bodies == [b""]


async def test_channel_without_token_sends_no_token_header(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    body = {"id": "no-token", "type": "web_hook", "address": receiver.url}
    channel = await calendar_client(
        lambda s: s.events().watch(calendarId="primary", body=body)
    )
    await calendar_emulator.notifications_idle()

    assert "token" not in channel
    assert "X-Goog-Channel-Token" not in receiver.messages[0]


async def test_insert_edit_and_delete_each_send_exists(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    await _watch(calendar_client, receiver)
    event = await _insert(calendar_client)
    await calendar_emulator.notifications_idle()
    await calendar_client(
        lambda s: s.events().patch(
            calendarId="primary", eventId=event["id"], body={"summary": "Moved"}
        )
    )
    await calendar_emulator.notifications_idle()
    await calendar_client(
        lambda s: s.events().delete(calendarId="primary", eventId=event["id"])
    )
    await calendar_emulator.notifications_idle()

    assert receiver.states() == [
        ("sync", 1),
        ("exists", 2),
        ("exists", 3),
        ("exists", 4),
    ]


async def test_change_made_as_a_user_in_google_notifies(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    await _watch(calendar_client, receiver)
    calendar_emulator.insert_event("user@example.com", dict(EVENT))
    # The model is loop-agnostic: a helper called from a worker thread notifies too.
    await asyncio.to_thread(calendar_emulator.insert_event, "user@example.com", EVENT)
    await calendar_emulator.notifications_idle()

    assert receiver.states() == [("sync", 1), ("exists", 2), ("exists", 3)]


async def test_changes_in_other_calendars_are_not_sent(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    other = calendar_emulator.add_calendar("user@example.com", "Other")
    await _watch(calendar_client, receiver)
    calendar_emulator.insert_event(other, dict(EVENT))
    await calendar_emulator.notifications_idle()

    assert receiver.states() == [("sync", 1)]


async def test_resource_id_is_stable_per_calendar(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    other = calendar_emulator.add_calendar("user@example.com", "Other")
    first = await _watch(calendar_client, receiver, "channel-a")
    second = await _watch(calendar_client, receiver, "channel-b")
    third = await _watch(calendar_client, receiver, "channel-c", calendar_id=other)

    assert first["resourceId"] == second["resourceId"] != third["resourceId"]


async def test_duplicate_channel_id_is_rejected(
    calendar_client: CalendarClient, receiver: Receiver
) -> None:
    await _watch(calendar_client, receiver)
    with pytest.raises(HttpError) as err:
        await _watch(calendar_client, receiver)
    assert err.value.status_code == 400
    assert err.value.error_details[0]["reason"] == "channelIdNotUnique"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"type": "web_hook", "address": "https://example.com/hook"}, "required"),
        ({"id": "x" * 65, "address": "https://example.com/hook"}, "invalid"),
        ({"id": "c", "type": "email", "address": "https://example.com/"}, "invalid"),
        ({"id": "c", "address": "http://example.com/hook"}, "push.webhookUrlNotHttps"),
        ({"id": "c", "address": "ftp://127.0.0.1/hook"}, "push.webhookUrlNotHttps"),
        ({"id": "c", "address": "https:///nohost"}, "push.webhookUrlNotHttps"),
        (
            {"id": "c", "address": "https://example.com/", "token": "t" * 257},
            "invalid",
        ),
        (
            {"id": "c", "address": "https://example.com/", "params": {"ttl": "x"}},
            "invalid",
        ),
        ({"id": "c", "address": "https://example.com/", "expiration": "x"}, "invalid"),
    ],
)
async def test_invalid_watch_requests_answer_400(
    calendar_client: CalendarClient, body: dict[str, Any], reason: str
) -> None:
    with pytest.raises(HttpError) as err:
        await calendar_client(
            lambda s: s.events().watch(calendarId="primary", body=body)
        )
    assert err.value.status_code == 400
    assert err.value.error_details[0]["reason"] == reason


async def test_watch_needs_a_valid_token_and_access(
    calendar_emulator: GoogleCalendarEmulator, receiver: Receiver
) -> None:
    calendar_emulator.add_user("other@example.com")
    other = await asyncio.to_thread(
        CalendarClient,
        calendar_emulator,
        calendar_emulator.issue_tokens("other@example.com")["access_token"],
    )
    with pytest.raises(HttpError) as err:
        await _watch(other, receiver, calendar_id="user@example.com")
    assert err.value.status_code == 404

    stranger = await asyncio.to_thread(CalendarClient, calendar_emulator, "not-a-token")
    with pytest.raises(HttpError) as err:
        await _watch(stranger, receiver)
    assert err.value.status_code == 401


def test_https_anywhere_and_http_only_on_loopback() -> None:
    assert _acceptable_address("https://hooks.example.com/x", allow_insecure=False)
    assert _acceptable_address(
        "http://127.0.0.1:8123/api/webhook/x", allow_insecure=True
    )
    assert _acceptable_address("http://localhost/x", allow_insecure=True)
    assert not _acceptable_address("http://127.0.0.1/x", allow_insecure=False)
    assert not _acceptable_address("http://192.168.1.2/x", allow_insecure=True)


async def test_params_ttl_sets_the_expiration(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    before = int(time.time() * 1000)
    channel = await _watch(calendar_client, receiver, params={"ttl": "3600"})

    assert before + 3_600_000 <= int(channel["expiration"]) <= before + 3_605_000


async def test_requested_expiration_caps_the_ttl(
    calendar_client: CalendarClient, receiver: Receiver
) -> None:
    wanted = int((datetime.now(UTC) + timedelta(hours=2)).timestamp() * 1000)
    channel = await _watch(calendar_client, receiver, expiration=str(wanted))

    assert int(channel["expiration"]) == wanted


async def test_expired_channel_sends_nothing(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    await _watch(calendar_client, receiver, params={"ttl": "1"})
    await calendar_emulator.notifications_idle()
    channel = channels["channel-1"]
    assert channel.active
    # A channel expires in real time: wait out its one-second ttl.
    await asyncio.sleep(
        max(0.0, (channel.expiration - datetime.now(UTC)).total_seconds())
    )

    await _insert(calendar_client)
    await calendar_emulator.notifications_idle()

    assert not channel.active
    assert receiver.states() == [("sync", 1)]
    assert channel.as_dict()["active"] is False


async def test_retries_with_backoff_on_503(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    receiver.answers = [503, 502, 200]
    await _watch(calendar_client, receiver)
    await calendar_emulator.notifications_idle()

    assert receiver.states() == [("sync", 1)] * 3
    delivery = channels["channel-1"].deliveries[0]
    assert delivery.attempts == 3
    assert delivery.statuses == [503, 502, 200]
    assert delivery.delivered


async def test_gives_up_after_the_last_retry(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    channels.retry_max_attempts = 3
    receiver.answers = [500] * 10
    await _watch(calendar_client, receiver)
    await calendar_emulator.notifications_idle()

    delivery = channels["channel-1"].deliveries[0]
    assert delivery.statuses == [500, 500, 500]
    assert not delivery.delivered
    assert delivery.error == "gave up after retries"


async def test_no_retry_on_404(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    receiver.answers = [404]
    await _watch(calendar_client, receiver)
    await calendar_emulator.notifications_idle()
    await _insert(calendar_client)
    await calendar_emulator.notifications_idle()

    # The failed sync message is not retried; the channel keeps working.
    assert receiver.states() == [("sync", 1), ("exists", 2)]
    failed, delivered = channels["channel-1"].deliveries
    assert failed.statuses == [404]
    assert failed.error == "failed delivery: HTTP 404"
    assert delivered.delivered


async def test_unreachable_receiver_is_retried_then_given_up(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    channels.retry_max_attempts = 2
    await receiver_gone(receiver)
    await _watch(calendar_client, receiver)
    await calendar_emulator.notifications_idle()

    delivery = channels["channel-1"].deliveries[0]
    assert delivery.statuses == [None, None]
    assert not delivery.delivered


async def receiver_gone(receiver: Receiver) -> None:
    """Point the receiver URL at a port nobody listens on."""
    receiver.url = "http://127.0.0.1:9/hook"


async def test_stop_halts_notifications(watched: Watched) -> None:
    channel = watched.channel
    answer = await watched.client(
        lambda s: s.channels().stop(
            body={"id": channel["id"], "resourceId": channel["resourceId"]}
        )
    )
    await watched.insert()
    await watched.idle()

    assert answer == ""
    assert watched.receiver.states() == [("sync", 1)]
    assert not watched.emulator.channels["channel-1"].active


async def test_stop_of_unknown_or_stopped_channel_answers_404(
    calendar_client: CalendarClient, receiver: Receiver
) -> None:
    channel = await _watch(calendar_client, receiver)
    body = {"id": channel["id"], "resourceId": channel["resourceId"]}
    await calendar_client(lambda s: s.channels().stop(body=body))

    for bad in (
        body,
        {"id": "unknown", "resourceId": channel["resourceId"]},
        {"id": channel["id"], "resourceId": "wrong"},
    ):
        with pytest.raises(HttpError) as err:
            await calendar_client(lambda s, bad=bad: s.channels().stop(body=bad))
        assert err.value.status_code == 404


async def test_only_the_owner_may_stop_a_channel(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    receiver: Receiver,
) -> None:
    channel = await _watch(calendar_client, receiver)
    body = {"id": channel["id"], "resourceId": channel["resourceId"]}
    other = await asyncio.to_thread(
        CalendarClient,
        calendar_emulator,
        calendar_emulator.issue_tokens("other@example.com")["access_token"],
    )
    other_client = await asyncio.to_thread(
        CalendarClient,
        calendar_emulator,
        calendar_emulator.issue_tokens("user@example.com", "another-client")[
            "access_token"
        ],
    )
    for stranger in (other, other_client):
        with pytest.raises(HttpError) as err:
            await stranger(lambda s: s.channels().stop(body=body))
        assert err.value.status_code == 404
    assert calendar_emulator.channels["channel-1"].active


async def test_drop_fault_loses_the_next_notifications(watched: Watched) -> None:
    watched.channels.faults.drop_next = 2
    for _ in range(3):
        await watched.insert()
    await watched.idle()

    assert watched.receiver.states() == [("sync", 1), ("exists", 4)]
    assert [d.dropped for d in watched.channels["channel-1"].deliveries] == [
        False,
        True,
        True,
        False,
    ]


async def test_duplicate_fault_delivers_a_message_twice(watched: Watched) -> None:
    watched.channels.faults.duplicate_next = 1
    await watched.insert()
    await watched.insert()
    await watched.idle()

    assert watched.receiver.states() == [
        ("sync", 1),
        ("exists", 2),
        ("exists", 2),
        ("exists", 3),
    ]


async def test_reorder_fault_delivers_held_messages_newest_first(
    watched: Watched,
) -> None:
    watched.channels.faults.reorder_next = 3
    for _ in range(3):
        await watched.insert()
        await watched.idle()
    assert watched.channels.faults.as_dict()["held"] == 0

    assert watched.receiver.states() == [
        ("sync", 1),
        ("exists", 4),
        ("exists", 3),
        ("exists", 2),
    ]


async def test_held_messages_can_be_released_early(watched: Watched) -> None:
    watched.channels.faults.reorder_next = 5
    await watched.insert()
    await watched.insert()
    await watched.idle()
    assert watched.receiver.states() == [("sync", 1)]
    assert watched.channels.faults.as_dict()["held"] == 2

    watched.channels.faults.clear()
    watched.channels.release_held()
    await watched.idle()

    assert watched.receiver.states() == [("sync", 1), ("exists", 3), ("exists", 2)]


async def test_delay_fault_postpones_delivery(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    channels.faults.delay = 0.2
    started = time.monotonic()
    await _watch(calendar_client, receiver)
    assert receiver.messages == []
    await calendar_emulator.notifications_idle()

    assert time.monotonic() - started >= 0.2
    assert receiver.states() == [("sync", 1)]


async def test_emulator_stop_cancels_deliveries_in_flight(
    calendar_emulator: GoogleCalendarEmulator,
    calendar_client: CalendarClient,
    channels: ChannelRegistry,
    receiver: Receiver,
) -> None:
    receiver.stall = 30
    await _watch(calendar_client, receiver)
    await receiver.received.wait()

    async with asyncio.timeout(5):
        await calendar_emulator.stop()

    assert channels.in_flight == 0
    # Changes after the stop go nowhere.
    calendar_emulator.insert_event("user@example.com", dict(EVENT))
    assert len(channels["channel-1"].deliveries) == 1


async def test_reset_forgets_channels(watched: Watched) -> None:
    watched.channels.reset()
    await watched.insert()
    await watched.idle()

    assert len(watched.channels) == 0
    assert list(watched.channels) == []
    assert watched.receiver.states() == [("sync", 1)]
