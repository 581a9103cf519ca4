"""Events a calendar cannot show: the shape check, and warning once about each.

unusable judges an event by the shape of its fields before the timeline parses
it; SkippedEvents reports every event a timeline leaves out, once per version.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
import threading

_LOGGER = logging.getLogger(__name__)


class SkippedEvents:
    """Warn once per version of each event of a calendar that cannot be shown.

    Timelines are updated after every sync and read on every query: without this
    the same warning would repeat. Called from the loop and the executor.
    """

    def __init__(self, calendar: str) -> None:
        """Start with nothing reported for the calendar."""
        self._calendar = calendar
        self._seen: set[tuple[str | None, str | None]] = set()
        self._lock = threading.Lock()

    def __call__(self, event_id: str | None, event: object, reason: str) -> None:
        """Log a warning the first time a version of an event is skipped."""
        source_id = event.get("id") if isinstance(event, Mapping) else None
        etag = event.get("etag") if isinstance(event, Mapping) else None
        key = (
            source_id if isinstance(source_id, str) else event_id,
            etag if isinstance(etag, str) else None,
        )
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        _LOGGER.warning(
            "Skipping event %.200s of calendar %s, which Home Assistant cannot "
            "show: %.200s",
            event_id or "without an id",
            self._calendar,
            reason,
        )


def unusable(event: Mapping[str, object]) -> str | None:
    """Return why an event cannot be shown, judged by the shape of its fields.

    It trusts no field of the event: Google's data may break the Event model.

    Values are parsed later, per event; a cancelled exception only hides an
    instance and needs no times.
    """
    for name in ("summary", "description", "location"):
        if not isinstance(event.get(name), str | None):
            return f"{name} is not text"
    if not isinstance(event.get("recurringEventId"), str | None):
        return "recurringEventId is not text"
    if event.get("status") == "cancelled":
        return None
    kinds = []
    for name in ("start", "end"):
        value = event.get(name)
        if not isinstance(value, Mapping):
            return f"{name} is {type(value).__name__}, not an object"
        present = [key for key in ("date", "dateTime") if key in value]
        if len(present) != 1:
            return f"{name} needs one of date or dateTime"
        if not isinstance(value[present[0]], str):
            return f"{name} {present[0]} is not text"
        kinds.append(present[0])
    if kinds[0] != kinds[1]:
        return "start and end mix date and dateTime"
    recurrence = event.get("recurrence")
    if (
        recurrence is not None
        and "recurringEventId" not in event
        and not (
            isinstance(recurrence, list)
            and all(isinstance(line, str) for line in recurrence)
        )
    ):
        return "recurrence is not a list of text lines"
    return None
