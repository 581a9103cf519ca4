"""How requests reach Google: tokens, the aiohttp session, retries and cancellation.

google-api-python-client builds each request; the Transport sends it on the
shared aiohttp session (nothing blocks the event loop), adds the access token,
refreshes it once on a 401, backs off on rate limits and transient errors, and
cancels everything in flight when closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
import logging
import random
from typing import Any, Protocol

import aiohttp
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest
import httplib2

from .errors import (
    RETRYABLE_ERRORS,
    GoogleAuthError,
    GoogleClientClosedError,
    GoogleTransientError,
    error_from_http_error,
    not_json_error,
)

_LOGGER = logging.getLogger(__name__)

# Every request to Google (and every token refresh) gives up after this long.
REQUEST_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)


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


def if_match(request: HttpRequest, etag: str | None) -> HttpRequest:
    """Make a write conditional on the event's etag."""
    if etag is not None:
        request.headers["if-match"] = etag
    return request


class Transport:
    """Sends requests on an aiohttp session with tokens, retries and cancellation.

    `auth` is None for an API key client: requests then carry no authorization
    header (the client library puts `key=` in their URL).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        auth: AccessTokenProvider | None,
        retry: RetryPolicy,
    ) -> None:
        """Send on session; retry as the policy says."""
        self._session = session
        self.auth = auth
        self.retry = retry
        self.request_count = 0
        # Requests, token refreshes and backoff waits that close cancels.
        self._in_flight: set[asyncio.Future[Any]] = set()
        self._closed = False

    def close(self) -> None:
        """Cancel everything in flight and refuse new requests.

        The callers get GoogleClientClosedError at once, so closing never waits
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

    async def cancellable[T](self, work: Awaitable[T]) -> T:
        """Run work so that close can cancel it."""
        self._raise_if_closed(work)
        future = asyncio.ensure_future(work)
        self._in_flight.add(future)
        try:
            return await future
        except asyncio.CancelledError:
            current = asyncio.current_task()
            # Cancelled by close, not because our caller was cancelled.
            if self._closed and (current is None or not current.cancelling()):
                raise GoogleClientClosedError from None
            raise
        finally:
            self._in_flight.discard(future)

    async def execute(self, make_request: Callable[[], HttpRequest]) -> Any:
        """Build and send one request with retries; return the parsed answer."""

        async def send_once(token: str) -> Any:
            request = make_request()
            body = request.body
            data = body.encode() if isinstance(body, str) else body
            response, content = await self.send(
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

        return await self.with_retries(send_once)

    async def with_retries[T](self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run call(access_token) with backoff for rate limits and transient errors.

        A 401 refreshes the token once and tries once more.
        """
        refreshed = force_refresh = False
        retry = 0
        while True:
            try:
                token = (
                    await self.cancellable(
                        self.auth.async_get_access_token(force_refresh=force_refresh)
                    )
                    if self.auth is not None
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
                if retry >= self.retry.max_attempts:
                    raise
                delay = (
                    err.retry_after
                    if err.retry_after is not None
                    else self.retry.delay(retry - 1)
                )
                _LOGGER.debug(
                    "Google answered %s (%s), retry %d in %.2fs",
                    err.status,
                    err.reason,
                    retry,
                    delay,
                )
                await self.cancellable(self.retry.sleep(delay))

    async def send(
        self,
        method: str,
        uri: str,
        data: bytes | None,
        headers: dict[str, str],
        token: str,
    ) -> tuple[httplib2.Response, bytes]:
        """Send one HTTP request on the aiohttp session (close cancels it).

        Without a token (an API key client) no authorization header is sent.
        """
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.request_count += 1
        return await self.cancellable(self._round_trip(method, uri, data, headers))

    async def _round_trip(
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
