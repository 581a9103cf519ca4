"""Batches of event writes: one HTTP request for up to DEFAULT_BATCH_SIZE writes.

The client library serializes and parses the multipart batch in the executor;
its transport hands the one HTTP round trip back to the event loop, where the
Transport sends it on the aiohttp session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
import functools
import logging
from typing import Any, Literal, cast

from googleapiclient.http import BatchHttpRequest, HttpRequest
import httplib2

from .errors import (
    RETRYABLE_ERRORS,
    GoogleCalendarApiError,
    GoogleTransientError,
    error_from_http_error,
)
from .model import Event, EventBody
from .transport import AccessTokenProvider, Transport, if_match

_LOGGER = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50


@dataclass(frozen=True, slots=True)
class BatchOperation:
    """One write in a batch."""

    method: Literal["insert", "patch", "delete"]
    calendar_id: str
    body: EventBody | None = None
    event_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What Google answered to one operation of a batch."""

    operation: BatchOperation
    result: Event | None
    error: GoogleCalendarApiError | None


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


class _BatchHttp:
    """An httplib2-like transport that sends on the aiohttp session via the loop."""

    def __init__(
        self,
        transport: Transport,
        loop: asyncio.AbstractEventLoop,
        credentials: _BatchCredentials,
    ) -> None:
        self._transport = transport
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
            self._transport.send(
                method, uri, data, dict(headers or {}), self.credentials.access_token
            ),
            self._loop,
        ).result()


class BatchSender:
    """Runs event writes in batches on a Transport."""

    def __init__(
        self,
        transport: Transport,
        events: Any,
        batch_uri: str,
        executor: Callable[..., Awaitable[Any]],
    ) -> None:
        """Build requests with the events resource of the client library."""
        self._transport = transport
        self._events = events
        self._batch_uri = batch_uri
        self._executor = executor

    async def execute(
        self, operations: Sequence[BatchOperation], batch_size: int
    ) -> list[BatchOutcome]:
        """Run writes in batches; return one outcome per operation, in order.

        Parts that were rate limited or failed transiently go again in a later batch,
        after a backoff, as long as the retry policy allows.
        """
        retry_policy = self._transport.retry
        outcomes: dict[int, BatchOutcome] = {}
        pending = list(range(len(operations)))
        delay: float | None = None
        for retry in range(retry_policy.max_attempts):
            if retry:
                await self._transport.cancellable(
                    retry_policy.sleep(
                        retry_policy.delay(retry - 1) if delay is None else delay
                    )
                )
            for start in range(0, len(pending), batch_size):
                chunk = pending[start : start + batch_size]
                results = await self._transport.with_retries(
                    functools.partial(self._send, operations, chunk)
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

    def _request(self, operation: BatchOperation) -> HttpRequest:
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
            case "delete":
                request = self._events.delete(
                    calendarId=operation.calendar_id, eventId=operation.event_id
                )
        return if_match(request, operation.etag)

    async def _send(
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
                # The answer to an insert or a patch is an events resource.
                result = cast("Event", response) if isinstance(response, dict) else None
                outcomes[index] = BatchOutcome(operation, result, None)
            else:
                outcomes[index] = BatchOutcome(
                    operation,
                    None,
                    GoogleTransientError(
                        None, "invalidResponse", "Google answered a part without JSON"
                    ),
                )

        batch = BatchHttpRequest(callback=on_answer, batch_uri=self._batch_uri)
        for index in indexes:
            batch.add(self._request(operations[index]), request_id=str(index))
        loop = asyncio.get_running_loop()
        credentials = _BatchCredentials(self._transport.auth, loop, access_token)
        http = _BatchHttp(self._transport, loop, credentials)
        try:
            # By keyword: the client library warns about a positional transport.
            await self._executor(functools.partial(batch.execute, http=http))
        except UnicodeDecodeError as err:
            raise GoogleTransientError(
                None,
                "invalidResponse",
                f"Google answered a batch that is not text: {err}",
            ) from err
        return outcomes
