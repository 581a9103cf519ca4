"""Google Calendar API client: endpoints, typed errors, backoff, batch, token adapters.

google-api-python-client builds every request from its bundled discovery document;
the requests are sent on Home Assistant's shared aiohttp session so nothing blocks the
event loop. Batches are serialized and parsed by the client library in the executor,
with a transport that hands the single HTTP round trip back to the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
import functools
import json
import logging
import math
import os
import random
from typing import Any, Literal, Protocol

import aiohttp
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest
import httplib2

_LOGGER = logging.getLogger(__name__)

ENV_ENDPOINT = "GOOGLE_CALENDAR_SYNC_ENDPOINT"

# Every request to Google (and every token refresh) gives up after this long.
REQUEST_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
# A Retry-After longer than this (seconds) is cut to it.
RETRY_AFTER_MAX = 60.0
DEFAULT_BATCH_SIZE = 50
# Google allows 2,500 events per page but 250 calendars per calendarList page.
CALENDAR_LIST_PAGE_SIZE = 250

RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
)


@dataclass(frozen=True, slots=True)
class GoogleEndpoints:
    """Where the Calendar API, its batch endpoint and the OAuth endpoints live."""

    api: str = "https://www.googleapis.com/calendar/v3/"
    batch: str = "https://www.googleapis.com/batch/calendar/v3"
    authorize: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token: str = "https://oauth2.googleapis.com/token"  # noqa: S105
    allow_insecure_webhook: bool = False

    @classmethod
    def for_base_url(cls, base_url: str) -> GoogleEndpoints:
        """Return the endpoints of a Google look-alike (the emulator) at base_url."""
        base = base_url.rstrip("/") + "/"
        return cls(
            api=f"{base}calendar/v3/",
            batch=f"{base}batch/calendar/v3",
            authorize=f"{base}o/oauth2/v2/auth",
            token=f"{base}token",
            allow_insecure_webhook=True,
        )


def endpoints_from_environment(
    environ: Mapping[str, str] = os.environ,
) -> GoogleEndpoints:
    """Return Google's endpoints, or the emulator's when the environment names one."""
    if base_url := environ.get(ENV_ENDPOINT, "").strip():
        return GoogleEndpoints.for_base_url(base_url)
    return GoogleEndpoints()


class GoogleCalendarApiError(Exception):
    """A Calendar API call failed."""

    def __init__(
        self,
        status: int | None,
        reason: str | None,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Store the HTTP status, Google's error reason, the message and Retry-After."""
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class GoogleAuthError(GoogleCalendarApiError):
    """The credentials were rejected (401) or can no longer be refreshed."""


class GoogleNotFoundError(GoogleCalendarApiError):
    """The calendar, event or channel does not exist (404)."""


class GoogleGoneError(GoogleCalendarApiError):
    """The sync token expired or the resource was deleted (410)."""


class GoogleRateLimitError(GoogleCalendarApiError):
    """Google asks us to slow down (403 rate-limit reasons, 429)."""


class GoogleTransientError(GoogleCalendarApiError):
    """A server error (5xx), a dropped connection or a timeout."""


class GoogleConflictError(GoogleCalendarApiError):
    """The requested identifier already exists (409)."""


class GooglePreconditionFailedError(GoogleCalendarApiError):
    """The etag given in If-Match is stale (412)."""


class GoogleForbiddenError(GoogleCalendarApiError):
    """The call is not allowed (403 that is not a rate limit)."""


class GoogleBadRequestError(GoogleCalendarApiError):
    """Google rejected the request as invalid (400)."""


class GoogleClientClosedError(GoogleCalendarApiError):
    """The client was closed (the entry is unloading): the request was cancelled."""

    def __init__(self) -> None:
        """Say why nothing was sent, or why the answer was not awaited."""
        super().__init__(None, "clientClosed", "The connection to Google was closed")


_ERROR_BY_STATUS: dict[int, type[GoogleCalendarApiError]] = {
    400: GoogleBadRequestError,
    401: GoogleAuthError,
    404: GoogleNotFoundError,
    409: GoogleConflictError,
    410: GoogleGoneError,
    412: GooglePreconditionFailedError,
    429: GoogleRateLimitError,
}

RETRYABLE_ERRORS = (GoogleRateLimitError, GoogleTransientError)


def error_from_http_error(err: HttpError) -> GoogleCalendarApiError:
    """Return the typed error for an error answer from Google."""
    if isinstance(err, BatchError):
        # Google, or a proxy on the way, answered something that is not a batch.
        return GoogleTransientError(None, "batchError", str(err.reason))
    status = int(err.resp.status)
    reason = _error_reason(err.content)
    message = str(err.reason) or f"HTTP {status}"
    error_type: type[GoogleCalendarApiError]
    if status == 403:
        error_type = (
            GoogleRateLimitError
            if reason in RATE_LIMIT_REASONS
            else GoogleForbiddenError
        )
    elif status >= 500:
        error_type = GoogleTransientError
    else:
        error_type = _ERROR_BY_STATUS.get(status, GoogleCalendarApiError)
    return error_type(
        status, reason, message, retry_after=retry_after(err.resp.get("retry-after"))
    )


def retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks to wait, at most RETRY_AFTER_MAX.

    The header holds delay-seconds or an HTTP date; None when absent or unreadable.
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except TypeError, ValueError, IndexError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def not_json_error(response: httplib2.Response) -> GoogleTransientError:
    """Return the error for a success answer whose body is not a JSON object."""
    return GoogleTransientError(
        response.status,
        "invalidResponse",
        "Google answered HTTP "
        f"{response.status} ({response.get('content-type', 'no content type')}) "
        "without a JSON object",
    )


def _error_reason(content: bytes) -> str | None:
    """Return the first `error.errors[].reason` of a Google error body."""
    try:
        reason = json.loads(content)["error"]["errors"][0]["reason"]
    except ValueError, KeyError, IndexError, TypeError:
        return None
    return reason if isinstance(reason, str) else None


class AccessTokenProvider(Protocol):
    """Something that hands out OAuth access tokens."""

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        """Return a valid access token; refresh it first when asked to."""


class StaticTokenAuth:
    """A fixed access token (config flow before the entry exists, tests)."""

    def __init__(self, access_token: str) -> None:
        """Keep the token."""
        self._access_token = access_token

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        """Return the token; a fixed token cannot be refreshed."""
        return self._access_token


def _default_sleep() -> Callable[[float], Awaitable[None]]:
    return asyncio.sleep


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter for rate limits and transient errors."""

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 32.0
    sleep: Callable[[float], Awaitable[None]] = field(default_factory=_default_sleep)
    rand: Callable[[], float] = random.random

    def delay(self, retry: int) -> float:
        """Return the wait before retry number `retry` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.initial_delay * 2.0**retry)
        return self.rand() * ceiling


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One write in a batch."""

    method: Literal["insert", "patch", "update", "delete"]
    calendar_id: str
    body: dict[str, Any] | None = None
    event_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What Google answered to one operation of a batch."""

    operation: BatchOperation
    result: dict[str, Any] | None
    error: GoogleCalendarApiError | None


class _NeverSendHttp:
    """The transport given to the client library: we send requests ourselves."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse: every request goes out on the aiohttp session."""
        raise RuntimeError("Requests are sent on the aiohttp session")


class _BatchCredentials:
    """oauth2client-style credentials the client library uses on per-part 401s."""

    access_token_expired = False

    def __init__(
        self,
        auth: AccessTokenProvider | None,
        loop: asyncio.AbstractEventLoop,
        access_token: str,
    ) -> None:
        self._auth = auth
        self._loop = loop
        self.access_token = access_token

    def refresh(self, http: Any) -> None:
        """Refresh the token through the event loop (called from the executor).

        An API key has nothing to refresh: the parts then keep Google's 401.
        """
        if self._auth is None:
            return
        self.access_token = asyncio.run_coroutine_threadsafe(
            self._auth.async_get_access_token(force_refresh=True), self._loop
        ).result()


class _BatchTransport:
    """An httplib2-like transport that sends on the aiohttp session via the loop."""

    def __init__(
        self,
        send: Callable[
            [str, str, bytes | None, dict[str, str], str],
            Coroutine[Any, Any, tuple[httplib2.Response, bytes]],
        ],
        loop: asyncio.AbstractEventLoop,
        credentials: _BatchCredentials,
    ) -> None:
        self._send = send
        self._loop = loop
        self.credentials = credentials

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[httplib2.Response, bytes]:
        """Send one request on the event loop and wait for the answer."""
        data = body.encode() if isinstance(body, str) else body
        return asyncio.run_coroutine_threadsafe(
            self._send(
                method, uri, data, dict(headers or {}), self.credentials.access_token
            ),
            self._loop,
        ).result()


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
        self._session = session
        self._auth = auth
        self.endpoints = endpoints
        self._retry = retry or RetryPolicy()
        self._executor = executor or _run_in_default_executor
        self._calendar_list = service.calendarList()
        self._calendars = service.calendars()
        self._events = service.events()
        self._channels = service.channels()
        self._colors = service.colors()
        self.request_count = 0
        # Requests, token refreshes and backoff waits that async_close cancels.
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._closed = False

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

    def async_close(self) -> None:
        """Cancel everything in flight and refuse new requests (unload).

        The callers get GoogleClientClosedError at once, so an unload never waits
        for Google, however long it takes to answer.
        """
        self._closed = True
        for work in self._in_flight:
            work.cancel()

    def _raise_if_closed(self, work: Awaitable[Any]) -> None:
        """Refuse new work once closed."""
        if self._closed:
            if isinstance(work, Coroutine):
                work.close()
            raise GoogleClientClosedError

    async def _async_cancellable[T](self, work: Awaitable[T]) -> T:
        """Run work so that async_close can cancel it."""
        self._raise_if_closed(work)
        future = asyncio.ensure_future(work)
        self._in_flight.add(future)
        try:
            return await future
        except asyncio.CancelledError:
            current = asyncio.current_task()
            # Cancelled by async_close, not because our caller was cancelled.
            if self._closed and (current is None or not current.cancelling()):
                raise GoogleClientClosedError from None
            raise
        finally:
            self._in_flight.discard(future)

    async def list_calendars(self) -> list[dict[str, Any]]:
        """Return every calendarList entry of the account (all pages)."""
        items: list[dict[str, Any]] = []
        page_token: str | None = None
        while True:
            page = await self._execute(
                functools.partial(
                    self._calendar_list.list,
                    maxResults=CALENDAR_LIST_PAGE_SIZE,
                    pageToken=page_token,
                )
            )
            items.extend(page.get("items", []))
            if not (page_token := page.get("nextPageToken")):
                return items

    async def get_calendar(self, calendar_id: str) -> dict[str, Any]:
        """Return the calendarList entry (summary, accessRole, timeZone) of a calendar."""
        result: dict[str, Any] = await self._execute(
            lambda: self._calendar_list.get(calendarId=calendar_id)
        )
        return result

    async def add_to_calendar_list(self, calendar_id: str) -> dict[str, Any]:
        """Add a calendar shared with the account to its calendarList; return the entry.

        A service account's calendarList starts empty: shared calendars appear in it
        only once inserted.
        """
        result: dict[str, Any] = await self._execute(
            lambda: self._calendar_list.insert(body={"id": calendar_id})
        )
        return result

    async def get_calendar_resource(self, calendar_id: str) -> dict[str, Any]:
        """Return calendars.get (summary, timeZone): what an API key may read."""
        result: dict[str, Any] = await self._execute(
            lambda: self._calendars.get(calendarId=calendar_id)
        )
        return result

    async def get_colors(self) -> dict[str, Any]:
        """Return Google's color palette (colors.get): calendar and event colors."""
        result: dict[str, Any] = await self._execute(self._colors.get)
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
    ) -> dict[str, Any]:
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
        result: dict[str, Any] = await self._execute(
            lambda: self._events.list(**params)
        )
        return result

    async def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        """Return one event."""
        result: dict[str, Any] = await self._execute(
            lambda: self._events.get(calendarId=calendar_id, eventId=event_id)
        )
        return result

    async def insert_event(
        self,
        calendar_id: str,
        body: dict[str, Any],
        *,
        conference_data_version: int | None = None,
    ) -> dict[str, Any]:
        """Create an event and return Google's copy."""
        result: dict[str, Any] = await self._execute(
            lambda: self._events.insert(
                **_write_params(calendar_id, None, body, conference_data_version)
            )
        )
        return result

    async def patch_event(
        self,
        calendar_id: str,
        event_id: str,
        body: dict[str, Any],
        *,
        etag: str | None = None,
        conference_data_version: int | None = None,
    ) -> dict[str, Any]:
        """Merge body into an event; with etag, only if it is unchanged."""
        return await self._write_event(
            self._events.patch,
            calendar_id,
            event_id,
            body,
            etag=etag,
            conference_data_version=conference_data_version,
        )

    async def update_event(
        self,
        calendar_id: str,
        event_id: str,
        body: dict[str, Any],
        *,
        etag: str | None = None,
        conference_data_version: int | None = None,
    ) -> dict[str, Any]:
        """Replace an event; with etag, only if it is unchanged."""
        return await self._write_event(
            self._events.update,
            calendar_id,
            event_id,
            body,
            etag=etag,
            conference_data_version=conference_data_version,
        )

    async def _write_event(
        self,
        method: Callable[..., HttpRequest],
        calendar_id: str,
        event_id: str,
        body: dict[str, Any],
        *,
        etag: str | None,
        conference_data_version: int | None,
    ) -> dict[str, Any]:
        """Send a patch or update of an event; with etag, only if it is unchanged."""
        result: dict[str, Any] = await self._execute(
            lambda: _if_match(
                method(
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
        await self._execute(
            lambda: _if_match(
                self._events.delete(calendarId=calendar_id, eventId=event_id), etag
            )
        )

    async def list_instances(
        self,
        calendar_id: str,
        event_id: str,
        *,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        page_token: str | None = None,
        show_deleted: bool = False,
    ) -> dict[str, Any]:
        """Return one page of the instances of a recurring event."""
        params: dict[str, Any] = {
            "calendarId": calendar_id,
            "eventId": event_id,
            "showDeleted": show_deleted,
        }
        if time_min is not None:
            params["timeMin"] = _rfc3339(time_min)
        if time_max is not None:
            params["timeMax"] = _rfc3339(time_max)
        if page_token is not None:
            params["pageToken"] = page_token
        result: dict[str, Any] = await self._execute(
            lambda: self._events.instances(**params)
        )
        return result

    async def watch_events(
        self,
        calendar_id: str,
        *,
        channel_id: str,
        address: str,
        token: str,
        ttl: timedelta | None = None,
    ) -> dict[str, Any]:
        """Open a push channel for the events of a calendar."""
        body: dict[str, Any] = {
            "id": channel_id,
            "type": "web_hook",
            "address": address,
            "token": token,
        }
        if ttl is not None:
            body["params"] = {"ttl": str(int(ttl.total_seconds()))}
        result: dict[str, Any] = await self._execute(
            lambda: self._events.watch(calendarId=calendar_id, body=body)
        )
        return result

    async def stop_channel(self, channel_id: str, resource_id: str) -> None:
        """Stop a push channel."""
        await self._execute(
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
        outcomes: dict[int, BatchOutcome] = {}
        pending = list(range(len(operations)))
        delay: float | None = None
        for retry in range(self._retry.max_attempts):
            if retry:
                await self._async_cancellable(
                    self._retry.sleep(
                        self._retry.delay(retry - 1) if delay is None else delay
                    )
                )
            for start in range(0, len(pending), batch_size):
                chunk = pending[start : start + batch_size]
                results = await self._with_retries(
                    functools.partial(self._send_batch, operations, chunk)
                )
                outcomes.update(results)
            pending = [
                index
                for index in pending
                if isinstance(outcomes[index].error, RETRYABLE_ERRORS)
            ]
            if not pending:
                break
            # Honour the longest Retry-After of the parts that go again.
            delay = max(
                (
                    after
                    for index in pending
                    if (error := outcomes[index].error) is not None
                    and (after := error.retry_after) is not None
                ),
                default=None,
            )
            _LOGGER.debug("Retrying %d batch operations", len(pending))
        return [outcomes[index] for index in range(len(operations))]

    def _batch_request(self, operation: BatchOperation) -> HttpRequest:
        """Build the request of one batch operation."""
        match operation.method:
            case "insert":
                return self._events.insert(
                    calendarId=operation.calendar_id, body=operation.body
                )
            case "patch":
                request = self._events.patch(
                    calendarId=operation.calendar_id,
                    eventId=operation.event_id,
                    body=operation.body,
                )
            case "update":
                request = self._events.update(
                    calendarId=operation.calendar_id,
                    eventId=operation.event_id,
                    body=operation.body,
                )
            case "delete":
                request = self._events.delete(
                    calendarId=operation.calendar_id, eventId=operation.event_id
                )
        return _if_match(request, operation.etag)

    async def _send_batch(
        self,
        operations: Sequence[BatchOperation],
        indexes: Sequence[int],
        access_token: str,
    ) -> dict[int, BatchOutcome]:
        """Send one batch request and return the outcome of each part."""
        outcomes: dict[int, BatchOutcome] = {}

        def on_answer(request_id: str, response: Any, exception: Any) -> None:
            index = int(request_id)
            operation = operations[index]
            if exception is not None:
                outcomes[index] = BatchOutcome(
                    operation, None, error_from_http_error(exception)
                )
            elif isinstance(response, dict) or operation.method == "delete":
                # A delete answers nothing worth reading.
                result = response if isinstance(response, dict) else None
                outcomes[index] = BatchOutcome(operation, result, None)
            else:
                outcomes[index] = BatchOutcome(
                    operation,
                    None,
                    GoogleTransientError(
                        None, "invalidResponse", "Google answered a part without JSON"
                    ),
                )

        batch = BatchHttpRequest(callback=on_answer, batch_uri=self.endpoints.batch)
        for index in indexes:
            batch.add(self._batch_request(operations[index]), request_id=str(index))
        loop = asyncio.get_running_loop()
        credentials = _BatchCredentials(self._auth, loop, access_token)
        transport = _BatchTransport(self._async_send, loop, credentials)
        try:
            # By keyword: the client library warns about a positional transport.
            await self._executor(functools.partial(batch.execute, http=transport))
        except UnicodeDecodeError as err:
            raise GoogleTransientError(
                None,
                "invalidResponse",
                f"Google answered a batch that is not text: {err}",
            ) from err
        return outcomes

    async def _execute(self, make_request: Callable[[], HttpRequest]) -> Any:
        """Build and send one request with retries; return the parsed answer."""

        async def send_once(token: str) -> Any:
            request = make_request()
            body = request.body
            data = body.encode() if isinstance(body, str) else body
            response, content = await self._async_send(
                request.method, request.uri, data, dict(request.headers), token
            )
            if response.status >= 300:
                raise HttpError(response, content, uri=request.uri)
            try:
                result = request.postproc(response, content)
            except UnicodeDecodeError as err:
                raise not_json_error(response) from err
            # The client library hands back the text of a body that is not a JSON
            # object (an HTML page from a proxy, a cut-off answer); methods without
            # a response body (delete, channels.stop) answer 204 or raw bytes.
            if not isinstance(result, dict | bytes) and response.status != 204:
                raise not_json_error(response)
            return result

        return await self._with_retries(send_once)

    async def _with_retries[T](self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run call(access_token) with backoff for rate limits and transient errors.

        A 401 refreshes the token once and tries once more.
        """
        refreshed = force_refresh = False
        retry = 0
        while True:
            try:
                token = (
                    await self._async_cancellable(
                        self._auth.async_get_access_token(force_refresh=force_refresh)
                    )
                    if self._auth is not None
                    else ""
                )
                force_refresh = False
                try:
                    return await call(token)
                except HttpError as err:
                    raise error_from_http_error(err) from err
                except (aiohttp.ClientError, TimeoutError) as err:
                    raise GoogleTransientError(
                        None, None, f"Connection to Google failed: {err!r}"
                    ) from err
            except GoogleAuthError as err:
                if err.status != 401 or refreshed:
                    raise
                _LOGGER.debug("Access token rejected, refreshing it once")
                refreshed = force_refresh = True
            except RETRYABLE_ERRORS as err:
                retry += 1
                if retry >= self._retry.max_attempts:
                    raise
                delay = (
                    err.retry_after
                    if err.retry_after is not None
                    else self._retry.delay(retry - 1)
                )
                _LOGGER.debug(
                    "Google answered %s (%s), retry %d in %.2fs",
                    err.status,
                    err.reason,
                    retry,
                    delay,
                )
                await self._async_cancellable(self._retry.sleep(delay))

    async def _async_send(
        self,
        method: str,
        uri: str,
        data: bytes | None,
        headers: dict[str, str],
        token: str,
    ) -> tuple[httplib2.Response, bytes]:
        """Send one HTTP request on the aiohttp session (async_close cancels it).

        Without a token (an API key client) no authorization header is sent.
        """
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.request_count += 1
        return await self._async_cancellable(
            self._async_round_trip(method, uri, data, headers)
        )

    async def _async_round_trip(
        self, method: str, uri: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[httplib2.Response, bytes]:
        """Send a request and read the whole answer."""
        async with self._session.request(
            method, uri, data=data, headers=headers, timeout=REQUEST_TIMEOUT
        ) as resp:
            content = await resp.read()
        response = httplib2.Response(
            {"status": str(resp.status)}
            | {key.lower(): value for key, value in resp.headers.items()}
        )
        response.reason = resp.reason or ""
        return response, content


def _write_params(
    calendar_id: str,
    event_id: str | None,
    body: dict[str, Any],
    conference_data_version: int | None,
) -> dict[str, Any]:
    """Return the parameters of an insert, patch or update."""
    params: dict[str, Any] = {"calendarId": calendar_id, "body": body}
    if event_id is not None:
        params["eventId"] = event_id
    if conference_data_version is not None:
        params["conferenceDataVersion"] = conference_data_version
    return params


def _if_match(request: HttpRequest, etag: str | None) -> HttpRequest:
    """Make a write conditional on the event's etag."""
    if etag is not None:
        request.headers["if-match"] = etag
    return request
