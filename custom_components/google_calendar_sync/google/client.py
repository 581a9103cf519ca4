"""The Calendar API v3 calls this package makes: GoogleCalendarApi.

google-api-python-client builds every request from its bundled discovery document
(read once, in the executor); the Transport sends it on Home Assistant's shared
aiohttp session, and batches of writes go through BatchSender.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
import functools
from typing import Any

import aiohttp
from googleapiclient.discovery import build
from googleapiclient.model import JsonModel
import orjson

from .batch import DEFAULT_BATCH_SIZE, BatchOperation, BatchOutcome, BatchSender
from .endpoints import GoogleEndpoints
from .model import CalendarListEntry, Channel, Colors, Event, EventBody, EventList
from .transport import AccessTokenProvider, RetryPolicy, Transport, if_match

# Google allows 2,500 events per page but 250 calendars per calendarList page.
CALENDAR_LIST_PAGE_SIZE = 250


class _NeverSendHttp:
    """The transport given to the client library: we send requests ourselves."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse: every request goes out on the aiohttp session."""
        raise RuntimeError("Requests are sent on the aiohttp session")


class _OrjsonModel(JsonModel):  # type: ignore[misc]
    """The client library's JSON model, parsing answers with orjson.

    A page of 2,500 events (2 MB) parses on the event loop in a third less time,
    and a parse holds the GIL in any thread. What orjson refuses (a lone
    surrogate escape, NaN, text that is not UTF-8) goes to the library's own
    parser, which decides as before. Numbers past 64 bits become floats.
    """

    def deserialize(self, content: bytes | str) -> Any:
        """Return the parsed answer (the text itself if it is not JSON)."""
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            return super().deserialize(content)


def _rfc3339(value: datetime) -> str:
    """Return an RFC 3339 timestamp with an offset (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


async def _run_in_default_executor(func: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(
        None, functools.partial(func, *args)
    )


def _build_service(api_endpoint: str, api_key: str | None) -> Any:
    """Build the Calendar service from the bundled discovery document (reads files).

    With an API key the client library adds `key=` to every request it builds.
    """
    return build(
        "calendar",
        "v3",
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
        developerKey=api_key,
        http=_NeverSendHttp(),
        model=_OrjsonModel(),
    )


class GoogleCalendarApi:
    """Async Google Calendar API v3 client on an aiohttp session.

    `auth` is None for an API key client: requests then carry only `key=` (public
    calendars, read only).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth: AccessTokenProvider | None,
        endpoints: GoogleEndpoints,
        service: Any,
        *,
        retry: RetryPolicy | None = None,
        executor: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        """Use async_create: it builds the service without blocking the loop."""
        self.endpoints = endpoints
        self.transport = Transport(session, auth, retry or RetryPolicy())
        self._calendar_list = service.calendarList()
        self._calendars = service.calendars()
        self._events = service.events()
        self._channels = service.channels()
        self._colors = service.colors()
        self._batches = BatchSender(
            self.transport,
            self._events,
            endpoints.batch,
            executor or _run_in_default_executor,
        )

    @classmethod
    async def async_create(
        cls,
        session: aiohttp.ClientSession,
        auth: AccessTokenProvider | None,
        endpoints: GoogleEndpoints,
        *,
        api_key: str | None = None,
        retry: RetryPolicy | None = None,
        executor: Callable[..., Awaitable[Any]] | None = None,
    ) -> GoogleCalendarApi:
        """Build the client; the discovery document is read in the executor."""
        run = executor or _run_in_default_executor
        service = await run(_build_service, endpoints.api, api_key)
        return cls(session, auth, endpoints, service, retry=retry, executor=run)

    @property
    def request_count(self) -> int:
        """Return how many HTTP requests this client has sent."""
        return self.transport.request_count

    def async_close(self) -> None:
        """Cancel everything in flight and refuse new requests (unload).

        The callers get GoogleClientClosedError at once, so an unload never waits
        for Google, however long it takes to answer.
        """
        self.transport.close()

    async def list_calendars(self) -> list[CalendarListEntry]:
        """Return every calendarList entry of the account (all pages)."""
        items: list[CalendarListEntry] = []
        page_token: str | None = None
        while True:
            page = await self.transport.execute(
                functools.partial(
                    self._calendar_list.list,
                    maxResults=CALENDAR_LIST_PAGE_SIZE,
                    pageToken=page_token,
                )
            )
            items.extend(page.get("items", []))
            if not (page_token := page.get("nextPageToken")):
                return items

    async def get_calendar(self, calendar_id: str) -> CalendarListEntry:
        """Return the calendarList entry (summary, accessRole, timeZone) of a calendar."""
        result: CalendarListEntry = await self.transport.execute(
            lambda: self._calendar_list.get(calendarId=calendar_id)
        )
        return result

    async def add_to_calendar_list(self, calendar_id: str) -> CalendarListEntry:
        """Add a calendar shared with the account to its calendarList; return the entry.

        A service account's calendarList starts empty: shared calendars appear in it
        only once inserted.
        """
        result: CalendarListEntry = await self.transport.execute(
            lambda: self._calendar_list.insert(body={"id": calendar_id})
        )
        return result

    async def get_calendar_resource(self, calendar_id: str) -> CalendarListEntry:
        """Return calendars.get (summary, timeZone): what an API key may read."""
        result: CalendarListEntry = await self.transport.execute(
            lambda: self._calendars.get(calendarId=calendar_id)
        )
        return result

    async def get_colors(self) -> Colors:
        """Return Google's color palette (colors.get): calendar and event colors."""
        result: Colors = await self.transport.execute(self._colors.get)
        return result

    async def list_events(
        self,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        page_token: str | None = None,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        single_events: bool = False,
        show_deleted: bool | None = None,
        max_results: int = 2500,
        order_by: str | None = None,
        private_extended_property: Sequence[str] = (),
    ) -> EventList:
        """Return one page of events (full or incremental with sync_token)."""
        params: dict[str, Any] = {"calendarId": calendar_id, "maxResults": max_results}
        if sync_token is not None:
            params["syncToken"] = sync_token
        if page_token is not None:
            params["pageToken"] = page_token
        if time_min is not None:
            params["timeMin"] = _rfc3339(time_min)
        if time_max is not None:
            params["timeMax"] = _rfc3339(time_max)
        if single_events:
            params["singleEvents"] = True
        if show_deleted is not None:
            params["showDeleted"] = show_deleted
        if order_by is not None:
            params["orderBy"] = order_by
        if private_extended_property:
            params["privateExtendedProperty"] = list(private_extended_property)
        result: EventList = await self.transport.execute(
            lambda: self._events.list(**params)
        )
        return result

    async def get_event(self, calendar_id: str, event_id: str) -> Event:
        """Return one event."""
        result: Event = await self.transport.execute(
            lambda: self._events.get(calendarId=calendar_id, eventId=event_id)
        )
        return result

    async def insert_event(
        self,
        calendar_id: str,
        body: EventBody,
        *,
        conference_data_version: int | None = None,
    ) -> Event:
        """Create an event and return Google's copy."""
        result: Event = await self.transport.execute(
            lambda: self._events.insert(
                **_write_params(calendar_id, None, body, conference_data_version)
            )
        )
        return result

    async def patch_event(
        self,
        calendar_id: str,
        event_id: str,
        body: EventBody,
        *,
        etag: str | None = None,
        conference_data_version: int | None = None,
    ) -> Event:
        """Merge body into an event; with etag, only if it is unchanged."""
        result: Event = await self.transport.execute(
            lambda: if_match(
                self._events.patch(
                    **_write_params(
                        calendar_id, event_id, body, conference_data_version
                    )
                ),
                etag,
            )
        )
        return result

    async def delete_event(
        self, calendar_id: str, event_id: str, *, etag: str | None = None
    ) -> None:
        """Delete an event; with etag, only if it is unchanged."""
        await self.transport.execute(
            lambda: if_match(
                self._events.delete(calendarId=calendar_id, eventId=event_id), etag
            )
        )

    async def watch_events(
        self,
        calendar_id: str,
        *,
        channel_id: str,
        address: str,
        token: str,
        ttl: timedelta | None = None,
    ) -> Channel:
        """Open a push channel for the events of a calendar."""
        body: Channel = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
        }
        if ttl is not None:
            body["params"] = {"ttl": str(int(ttl.total_seconds()))}
        result: Channel = await self.transport.execute(
            lambda: self._events.watch(calendarId=calendar_id, body=body)
        )
        return result

    async def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Stop a push channel."""
        await self.transport.execute(
            lambda: self._channels.stop(
                body={"id": channel_id, "resourceId": resource_id}
            )
        )

    async def execute_batch(
        self,
        operations: Sequence[BatchOperation],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[BatchOutcome]:
        """Run writes in batches; return one outcome per operation, in order.

        Parts that were rate limited or failed transiently go again in a later batch,
        after a backoff, as long as the retry policy allows.
        """
        return await self._batches.execute(operations, batch_size)


def _write_params(
    calendar_id: str,
    event_id: str | None,
    body: EventBody,
    conference_data_version: int | None,
) -> dict[str, Any]:
    """Return the parameters of an insert or a patch."""
    params: dict[str, Any] = {"calendarId": calendar_id, "body": body}
    if event_id is not None:
        params["eventId"] = event_id
    if conference_data_version is not None:
        params["conferenceDataVersion"] = conference_data_version
    return params
