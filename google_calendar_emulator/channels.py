"""Push notification channels: events.watch, channels.stop and webhook delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from .errors import ApiError, insufficient_scopes

if TYPE_CHECKING:
    from .server import GoogleCalendarEmulator

_LOGGER = logging.getLogger(__name__)

API_PREFIX = "/calendar/v3"
DEFAULT_TTL = timedelta(days=7)
MAX_CHANNEL_ID_LENGTH = 64
MAX_TOKEN_LENGTH = 256
USER_AGENT = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
# Google retries these with exponential backoff; anything else is a failed delivery.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
SUCCESS_STATUSES = frozenset({102, 200, 201, 202, 204})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(slots=True)
class Delivery:
    """One notification message and what became of it."""

    message_number: int
    state: str
    headers: dict[str, str]
    attempts: int = 0
    statuses: list[int | None] = field(default_factory=list)
    delivered: bool = False
    dropped: bool = False
    error: str | None = None
    finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly view."""
        return {
            "message_number": self.message_number,
            "state": self.state,
            "attempts": self.attempts,
            "statuses": list(self.statuses),
            "delivered": self.delivered,
            "dropped": self.dropped,
            "error": self.error,
        }


@dataclass(slots=True)
class Channel:
    """A watch channel on the events of one calendar."""

    id: str
    resource_id: str
    resource_uri: str
    calendar_id: str
    address: str
    token: str | None
    expiration: datetime
    owner: str
    client_id: str | None = None
    message_number: int = 0
    stopped: bool = False
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def expiration_ms(self) -> int:
        """Return the expiration as milliseconds since the epoch."""
        return int(self.expiration.timestamp() * 1000)

    def expired(self, now: datetime | None = None) -> bool:
        """Return True once the channel has passed its expiration."""
        return (now or datetime.now(UTC)) >= self.expiration

    @property
    def active(self) -> bool:
        """Return True while the channel still sends notifications."""
        return not self.stopped and not self.expired()

    def resource(self) -> dict[str, Any]:
        """Return the channel resource as Google answers events.watch."""
        resource: dict[str, Any] = {
            "kind": "api#channel",
            "id": self.id,
            "resourceId": self.resource_id,
            "resourceUri": self.resource_uri,
            "expiration": str(self.expiration_ms),
        }
        if self.token is not None:
            resource["token"] = self.token
        return resource

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly view, deliveries included."""
        return {
            **self.resource(),
            "calendarId": self.calendar_id,
            "address": self.address,
            "owner": self.owner,
            "active": self.active,
            "stopped": self.stopped,
            "deliveries": [delivery.as_dict() for delivery in self.deliveries],
        }


@dataclass(slots=True)
class NotificationFaults:
    """Misbehaviour of the push pipe that a test switches on."""

    drop_next: int = 0
    duplicate_next: int = 0
    # Hold this many messages, then release them newest first.
    reorder_next: int = 0
    delay: float = 0.0
    held: list[tuple[Channel, Delivery]] = field(default_factory=list)

    def clear(self) -> None:
        """Switch every notification fault off (held messages stay held)."""
        self.drop_next = self.duplicate_next = self.reorder_next = 0
        self.delay = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly view."""
        return {
            "drop_next": self.drop_next,
            "duplicate_next": self.duplicate_next,
            "reorder_next": self.reorder_next,
            "delay": self.delay,
            "held": len(self.held),
        }


class ChannelRegistry(Mapping[str, Channel]):
    """All channels of one emulator and the background tasks delivering to them."""

    def __init__(self, base_url: str) -> None:
        """Create an empty registry for the emulator served at base_url."""
        self._base_url = base_url
        self._channels: dict[str, Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._session: ClientSession | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.faults = NotificationFaults()
        # Google starts its backoff in seconds; tests want milliseconds.
        self.retry_initial_delay = 0.05
        self.retry_max_attempts = 5
        self.request_timeout = 10.0

    def __getitem__(self, channel_id: str) -> Channel:
        """Return the channel with this id."""
        return self._channels[channel_id]

    def __iter__(self) -> Iterator[str]:
        """Iterate over channel ids."""
        return iter(self._channels)

    def __len__(self) -> int:
        """Return the number of known channels."""
        return len(self._channels)

    @property
    def base_url(self) -> str:
        """Return the emulator base URL used in resource URIs."""
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value

    def resource_id_for(self, calendar_id: str) -> str:
        """Return the stable resource id of a calendar's events collection."""
        return hashlib.sha1(  # noqa: S324 - an identifier, not security
            f"events:{calendar_id}".encode()
        ).hexdigest()[:27]

    def resource_uri_for(self, calendar_id: str) -> str:
        """Return the versioned resource URI Google puts in notifications."""
        return (
            f"{self._base_url}calendar/v3/calendars/{quote(calendar_id, safe='')}"
            "/events?alt=json"
        )

    def for_calendar(self, calendar_id: str) -> list[Channel]:
        """Return the active channels watching a calendar."""
        return [
            channel
            for channel in self._channels.values()
            if channel.calendar_id == calendar_id and channel.active
        ]

    def watch(
        self,
        calendar_id: str,
        body: Mapping[str, Any],
        *,
        owner: str,
        client_id: str | None = None,
        allow_insecure: bool = True,
    ) -> Channel:
        """Open a channel from an events.watch body and send its sync message."""
        channel_id = body.get("id")
        if not isinstance(channel_id, str) or not channel_id:
            raise ApiError(400, "required", "Required channel id")
        if len(channel_id) > MAX_CHANNEL_ID_LENGTH:
            raise ApiError(400, "invalid", "Invalid channel id")
        if channel_id in self._channels:
            raise ApiError(
                400,
                "channelIdNotUnique",
                f"Channel id {channel_id} not unique",
            )
        if body.get("type", "web_hook") not in ("web_hook", "webhook"):
            raise ApiError(400, "invalid", "Invalid channel type")
        address = body.get("address")
        if not isinstance(address, str) or not _acceptable_address(
            address, allow_insecure=allow_insecure
        ):
            raise ApiError(
                400,
                "push.webhookUrlNotHttps",
                "WebHook callback must be HTTPS: " + str(address),
            )
        token = body.get("token")
        if token is not None and (
            not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH
        ):
            raise ApiError(400, "invalid", "Invalid channel token")
        channel = Channel(
            id=channel_id,
            resource_id=self.resource_id_for(calendar_id),
            resource_uri=self.resource_uri_for(calendar_id),
            calendar_id=calendar_id,
            address=address,
            token=token,
            expiration=_expiration(body),
            owner=owner,
            client_id=client_id,
        )
        self._loop = asyncio.get_running_loop()
        self._channels[channel_id] = channel
        self._locks[channel_id] = asyncio.Lock()
        self._enqueue(channel, "sync")
        return channel

    def stop(
        self, body: Mapping[str, Any], *, owner: str, client_id: str | None = None
    ) -> None:
        """Stop a channel on behalf of its owner."""
        channel = self._channels.get(str(body.get("id")))
        if (
            channel is None
            or channel.stopped
            or channel.resource_id != body.get("resourceId")
        ):
            raise ApiError(
                404,
                "notFound",
                f"Channel '{body.get('id')}' not found for project",
            )
        if channel.owner != owner or (
            client_id is not None
            and channel.client_id is not None
            and channel.client_id != client_id
        ):
            # Google hides channels of other users and clients behind a 404 too.
            raise ApiError(
                404,
                "notFound",
                f"Channel '{channel.id}' not found for project",
            )
        channel.stopped = True

    def notify_changed(self, calendar_id: str) -> None:
        """Send an exists message on every active channel of a calendar."""
        loop = self._loop
        if self._closed or loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._notify_now(calendar_id)
        else:
            # The model is loop-agnostic: a helper may run in an executor thread.
            loop.call_soon_threadsafe(self._notify_now, calendar_id)

    def _notify_now(self, calendar_id: str) -> None:
        if self._closed:
            return
        for channel in self.for_calendar(calendar_id):
            self._enqueue(channel, "exists")

    def release_held(self) -> None:
        """Deliver the held messages now, newest first."""
        held, self.faults.held = self.faults.held, []
        for channel, delivery in reversed(held):
            self._spawn(channel, delivery)

    def as_state(self) -> list[dict[str, Any]]:
        """Return the channels that still send notifications, JSON-friendly."""
        return [
            {
                "id": channel.id,
                "calendar_id": channel.calendar_id,
                "address": channel.address,
                "token": channel.token,
                "expiration": channel.expiration.isoformat(),
                "owner": channel.owner,
                "client_id": channel.client_id,
                "message_number": channel.message_number,
            }
            for channel in self._channels.values()
            if channel.active
        ]

    def restore_state(self, state: list[dict[str, Any]]) -> None:
        """Reopen the channels as_state returned, without a new sync message."""
        self.reset()
        self._loop = asyncio.get_running_loop()
        for fields in state:
            channel = Channel(
                **{
                    **fields,
                    "expiration": datetime.fromisoformat(fields["expiration"]),
                },
                resource_id=self.resource_id_for(fields["calendar_id"]),
                resource_uri=self.resource_uri_for(fields["calendar_id"]),
            )
            self._channels[channel.id] = channel
            self._locks[channel.id] = asyncio.Lock()

    def reset(self) -> None:
        """Forget every channel and fault; in-flight deliveries finish on their own."""
        for channel in self._channels.values():
            channel.stopped = True
        self._channels.clear()
        self.faults = NotificationFaults()

    @property
    def in_flight(self) -> int:
        """Return how many deliveries are under way."""
        return len(self._tasks)

    async def wait_idle(self) -> None:
        """Wait until no delivery is in flight."""
        while self._tasks:
            await self._idle.wait()
            # A finished delivery may have spawned a retry or a duplicate.
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Cancel in-flight deliveries and close the HTTP session."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.faults.held.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _enqueue(self, channel: Channel, state: str) -> None:
        """Number a message and hand it to the fault pipeline."""
        channel.message_number += 1
        headers = {
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": format_datetime(
                channel.expiration, usegmt=True
            ),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": channel.resource_uri,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel.message_number),
            "User-Agent": USER_AGENT,
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        delivery = Delivery(channel.message_number, state, headers)
        channel.deliveries.append(delivery)
        faults = self.faults
        if faults.drop_next > 0:
            faults.drop_next -= 1
            delivery.dropped = True
            delivery.finished_at = datetime.now(UTC)
            _LOGGER.debug(
                "Dropping message %s of %s", delivery.message_number, channel.id
            )
            return
        if faults.reorder_next > 0:
            faults.reorder_next -= 1
            faults.held.append((channel, delivery))
            if faults.reorder_next == 0:
                self.release_held()
            return
        self._spawn(channel, delivery)
        if faults.duplicate_next > 0:
            faults.duplicate_next -= 1
            duplicate = Delivery(delivery.message_number, state, dict(headers))
            channel.deliveries.append(duplicate)
            self._spawn(channel, duplicate)

    def _spawn(self, channel: Channel, delivery: Delivery) -> None:
        """Start delivering a message in the background."""
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(
            self._deliver(channel, delivery),
            name=f"emulator-notify-{channel.id}-{delivery.message_number}",
        )
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def _deliver(self, channel: Channel, delivery: Delivery) -> None:
        """POST one message, retrying like Google on 5xx answers."""
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        # One message at a time per channel keeps the order the pipeline chose.
        async with self._locks.setdefault(channel.id, asyncio.Lock()):
            delay = self.retry_initial_delay
            for attempt in range(1, self.retry_max_attempts + 1):
                if channel.stopped or channel.expired():
                    delivery.error = "channel stopped or expired"
                    break
                delivery.attempts = attempt
                status = await self._post(channel, delivery)
                delivery.statuses.append(status)
                if status in SUCCESS_STATUSES:
                    delivery.delivered = True
                    break
                if status is not None and status not in RETRYABLE_STATUSES:
                    delivery.error = f"failed delivery: HTTP {status}"
                    break
                if attempt < self.retry_max_attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
            else:
                delivery.error = "gave up after retries"
            delivery.finished_at = datetime.now(UTC)

    async def _post(self, channel: Channel, delivery: Delivery) -> int | None:
        """Send the request; None means the receiver could not be reached."""
        if urlsplit(channel.address).hostname not in LOOPBACK_HOSTS:
            # The emulator runs on machines with no outside network: it never sends
            # traffic beyond loopback, so such an address is an undeliverable receiver.
            delivery.error = "the emulator delivers only to loopback addresses"
            return None
        if self._session is None:
            self._session = ClientSession(
                timeout=ClientTimeout(total=self.request_timeout)
            )
        try:
            async with self._session.post(
                channel.address, data=b"", headers=delivery.headers
            ) as response:
                await response.read()
                return response.status
        except (ClientError, TimeoutError) as err:
            delivery.error = repr(err)
            _LOGGER.debug("Notification to %s failed: %s", channel.address, err)
            return None


def _acceptable_address(address: str, *, allow_insecure: bool) -> bool:
    """Accept https anywhere and http on loopback (the emulator's only concession)."""
    parts = urlsplit(address)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return (
        allow_insecure and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    )


def _expiration(body: Mapping[str, Any]) -> datetime:
    """Work out when a new channel expires from params.ttl or expiration."""
    now = datetime.now(UTC)
    ttl = DEFAULT_TTL
    params = body.get("params") or {}
    if isinstance(params, Mapping) and params.get("ttl") is not None:
        try:
            ttl = timedelta(seconds=float(params["ttl"]))
        except (TypeError, ValueError) as err:
            raise ApiError(400, "invalid", "Invalid value for ttl") from err
    expiration = now + ttl
    if body.get("expiration") is not None:
        try:
            requested = datetime.fromtimestamp(int(body["expiration"]) / 1000, UTC)
        except (TypeError, ValueError) as err:
            raise ApiError(400, "invalid", "Invalid expiration") from err
        expiration = min(expiration, requested)
    return expiration


def _json_body(raw: bytes) -> dict[str, Any]:
    """Parse a JSON object body, or raise Google's 400 parse error."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    return body


def registry(emulator: GoogleCalendarEmulator) -> ChannelRegistry:
    """Return the channel registry that setup() installed on an emulator."""
    channels = emulator.channels
    if not isinstance(channels, ChannelRegistry):
        raise TypeError("The emulator was built without the channels module")
    return channels


def setup(app: web.Application, emulator: GoogleCalendarEmulator) -> ChannelRegistry:
    """Register events.watch and channels.stop and deliver on every model change."""
    channels = ChannelRegistry(emulator.base_url)

    async def watch(request: web.Request) -> web.StreamResponse:
        token = emulator.oauth.authenticate(request.headers.get("Authorization"))
        calendar = emulator.model.resolve(
            token.email, request.match_info["calendar_id"]
        )
        body = _json_body(await request.read())
        # The port is only known after start().
        channels.base_url = emulator.base_url
        channel = channels.watch(
            calendar.id, body, owner=token.email, client_id=token.client_id
        )
        return web.json_response(channel.resource())

    async def stop(request: web.Request) -> web.StreamResponse:
        token = emulator.oauth.authenticate(request.headers.get("Authorization"))
        if not token.can_write:
            raise insufficient_scopes()
        body = _json_body(await request.read())
        channels.stop(body, owner=token.email, client_id=token.client_id)
        return web.Response(status=204)

    async def on_shutdown(_app: web.Application) -> None:
        await channels.close()

    app.router.add_post(f"{API_PREFIX}/calendars/{{calendar_id}}/events/watch", watch)
    app.router.add_post(f"{API_PREFIX}/channels/stop", stop)
    app.on_shutdown.append(on_shutdown)
    emulator.model.add_change_listener(channels.notify_changed)
    emulator.add_idle_waiter(channels.wait_idle)
    emulator.channels = channels
    return channels
