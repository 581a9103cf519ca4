"""Fault injection: make the next matching requests fail, drop, stall or answer garbage."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum
import threading
from typing import Any

from .errors import ApiError, backend_error, rate_limited


class FaultKind(StrEnum):
    """What an injected fault does to a request."""

    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    RATE_LIMIT = "rateLimitExceeded"  # 403
    USER_RATE_LIMIT = "userRateLimitExceeded"  # 403
    QUOTA = "quotaExceeded"  # 403
    TOO_MANY_REQUESTS = "429"  # 429 rateLimitExceeded
    DROP = "drop"  # close the connection without an answer
    DELAY = "delay"  # wait `delay` seconds, then answer normally
    HANG = "hang"  # never answer (until the emulator stops)
    SLOW_ANSWER = "slow_answer"  # apply, then answer after `delay` seconds
    # A 200 a proxy or a broken backend might send instead of Google's JSON:
    NOT_UTF8 = "not_utf8"  # bytes that are not UTF-8
    HTML = "html"  # an HTML page
    TRUNCATED = "truncated"  # the real answer, cut in half (the request is applied)
    EMPTY = "empty"  # no body at all


@dataclass(slots=True)
class Fault:
    """One armed fault; `remaining` counts the requests it still affects."""

    kind: FaultKind
    remaining: int = 1
    method: str | None = None
    path_contains: str | None = None
    delay: float = 0.0
    retry_after: str | None = None  # Retry-After header of an error answer
    hits: int = 0
    _hit: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def take_one(self) -> None:
        """Count one request this fault affects."""
        self.remaining -= 1
        self.hits += 1
        self._hit.set()

    def as_dict(self) -> dict[str, Any]:
        """Return the fault as JSON-friendly data."""
        return {
            "kind": self.kind.value,
            "remaining": self.remaining,
            "method": self.method,
            "path_contains": self.path_contains,
            "delay": self.delay,
            "retry_after": self.retry_after,
            "hits": self.hits,
        }

    async def reached(self, hits: int = 1) -> None:
        """Wait until `hits` requests have met this fault (in the emulator's loop)."""
        while self.hits < hits:
            self._hit.clear()
            await self._hit.wait()

    def matches(self, method: str, path: str) -> bool:
        """Return True if this fault applies to the request."""
        if self.remaining <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or self.path_contains in path

    def error(self) -> ApiError | None:
        """Return the error this fault answers with, None for drop/delay."""
        match self.kind:
            case FaultKind.SERVER_ERROR:
                return backend_error(500)
            case FaultKind.UNAVAILABLE:
                return backend_error(503)
            case FaultKind.RATE_LIMIT | FaultKind.USER_RATE_LIMIT | FaultKind.QUOTA:
                return rate_limited(self.kind.value, 403)
            case FaultKind.TOO_MANY_REQUESTS:
                return rate_limited("rateLimitExceeded", 429)
        return None

    def garbage(self, answer: bytes) -> tuple[str, bytes] | None:
        """Return the content type and body replacing a 200 answer, None if real."""
        match self.kind:
            case FaultKind.NOT_UTF8:
                return "application/json", b'{"kind": "\xff\xfe\xfa"}'
            case FaultKind.HTML:
                return "text/html", b"<html><body>Proxy sign-in required</body></html>"
            case FaultKind.TRUNCATED:
                return "application/json", answer[: len(answer) // 2]
            case FaultKind.EMPTY:
                return "application/json", b""
        return None


@dataclass
class FaultInjector:
    """Armed faults; the first matching fault is consumed by each request.

    Faults apply to the Calendar API, batch requests (the outer request and each part)
    and the token endpoint, never to the consent page or the /emulator control paths.
    """

    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(
        self,
        kind: FaultKind | str,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        delay: float = 0.0,
        retry_after: str | None = None,
    ) -> Fault:
        """Arm a fault for the next `times` requests matching method and path."""
        fault = Fault(
            FaultKind(kind),
            remaining=times,
            method=method,
            path_contains=path_contains,
            delay=delay,
            retry_after=retry_after,
        )
        with self._lock:
            self.faults.append(fault)
        return fault

    def fail_next(
        self,
        status: int = 500,
        *,
        reason: str | None = None,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        retry_after: str | None = None,
    ) -> Fault:
        """Arm an HTTP error by status (500, 503, 429, 403 with a rate-limit reason).

        retry_after is sent as the Retry-After header (seconds or an HTTP date).
        """
        kind: FaultKind
        if status == 403:
            kind = FaultKind(reason or FaultKind.RATE_LIMIT)
        elif status == 429:
            kind = FaultKind.TOO_MANY_REQUESTS
        elif status == 503:
            kind = FaultKind.UNAVAILABLE
        elif status == 500:
            kind = FaultKind.SERVER_ERROR
        else:
            raise ValueError(f"Unsupported fault status {status}")
        return self.add(
            kind,
            times=times,
            method=method,
            path_contains=path_contains,
            retry_after=retry_after,
        )

    def drop_next(
        self,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> Fault:
        """Arm a dropped connection."""
        return self.add(
            FaultKind.DROP, times=times, method=method, path_contains=path_contains
        )

    def delay_next(
        self,
        seconds: float,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> Fault:
        """Arm a delay before the normal answer."""
        return self.add(
            FaultKind.DELAY,
            times=times,
            method=method,
            path_contains=path_contains,
            delay=seconds,
        )

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first fault that matches the request."""
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.take_one()
                    return fault
            self.faults = [fault for fault in self.faults if fault.remaining > 0]
        return None

    @property
    def pending(self) -> int:
        """Return how many faulted requests are still armed."""
        with self._lock:
            return sum(fault.remaining for fault in self.faults)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self.faults.clear()
