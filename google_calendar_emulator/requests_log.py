"""A log of every request the emulator answered."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
import threading


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request and the size of its answer."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    response_bytes: int
    request_bytes: int = 0
    batch_part: bool = False  # a part of a batch request, dispatched in-process


@dataclass
class RequestLog:
    """Every API, batch and token request, in arrival order."""

    entries: list[LoggedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _recorded: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def record(self, entry: LoggedRequest) -> None:
        """Append one request."""
        with self._lock:
            self.entries.append(entry)
        self._recorded.set()

    async def wait_for(
        self, count: int, method: str | None = None, path_contains: str | None = None
    ) -> None:
        """Wait until `count` answered requests match (in the emulator's loop)."""
        while self.count(method, path_contains) < count:
            self._recorded.clear()
            await self._recorded.wait()

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self.entries.clear()

    def matching(
        self,
        method: str | None = None,
        path_contains: str | None = None,
        *,
        include_batch_parts: bool = True,
    ) -> list[LoggedRequest]:
        """Return the requests that match method and path substring."""
        with self._lock:
            return [
                entry
                for entry in self.entries
                if (method is None or entry.method == method.upper())
                and (path_contains is None or path_contains in entry.path)
                and (include_batch_parts or not entry.batch_part)
            ]

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """Return how many requests match."""
        return len(self.matching(method, path_contains))

    def __iter__(self) -> Iterator[LoggedRequest]:
        """Iterate over a copy of the entries."""
        with self._lock:
            return iter(list(self.entries))

    def __len__(self) -> int:
        """Return the number of requests."""
        with self._lock:
            return len(self.entries)
