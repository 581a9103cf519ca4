"""Convert Home Assistant calendar input to Google event bodies and write them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import contextlib
from contextlib import AbstractAsyncContextManager
import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Any

from dateutil.rrule import rrule, rrulestr
from homeassistant.components.calendar.const import EVENT_END, EVENT_START
from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .google.errors import (
    GoogleCalendarApiError,
    GoogleNotFoundError,
    GooglePreconditionFailedError,
)
from .google.meet import meet_link, written_description
from .google.model import format_time, parse_suffix, parse_time, split_instance_id
from .google.recurrence import check_recurrence

if TYPE_CHECKING:
    from .coordinator import CalendarSyncCoordinator
    from .google.client import GoogleCalendarApi

_LOGGER = logging.getLogger(__name__)

# What Home Assistant's calendar panel sends for "this and all following events".
RANGE_THIS_AND_FUTURE = "THISANDFUTURE"

_RRULE_PREFIX = "RRULE:"
# UNTIL of a rule (RFC 5545): a UTC date-time for timed series, a date all day.
_UNTIL_UTC_FORMAT = "%Y%m%dT%H%M%SZ"
_UNTIL_DATE_FORMAT = "%Y%m%d"


class EditScope(StrEnum):
    """Which part of an event an edit from an action changes."""

    EVENT = "event"  # the whole event; for a recurring event, the whole series
    OCCURRENCE = "occurrence"  # one occurrence of a recurring event
    FOLLOWING = "following"  # one occurrence and all that follow it


class InvalidRecurrenceError(ValueError):
    """Raised when a recurrence rule cannot be parsed or never occurs."""


def normalize_rrule(value: str) -> str:
    """Return a rule without the RRULE: prefix (the form Home Assistant uses)."""
    value = value.strip()
    if value.upper().startswith(_RRULE_PREFIX):
        value = value[len(_RRULE_PREFIX) :]
    return value


def _anchor(value: date | datetime) -> datetime:
    """Return the datetime a rule starts at (midnight for all-day events)."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())


def _rule(value: str, dtstart: date | datetime) -> rrule:
    """Parse a rule anchored at dtstart."""
    parsed = rrulestr(normalize_rrule(value), dtstart=_anchor(dtstart))
    if not isinstance(parsed, rrule):  # pragma: no cover - rrulestr without rruleset
        raise InvalidRecurrenceError(value)
    return parsed


def validate_rrule(value: str, dtstart: date | datetime) -> str:
    """Return the normalized rule, or raise if it is malformed or never occurs.

    Parsed the way the timeline expands series. An impossible rule (30 February)
    makes dateutil scan to year 9999: call this in the executor.
    """
    rule = normalize_rrule(value)
    when = format_time(dtstart, "UTC")
    try:
        check_recurrence(
            {"start": when, "end": when, "recurrence": [_RRULE_PREFIX + rule]}
        )
    except ValueError as err:
        raise InvalidRecurrenceError(str(err)) from err
    return rule


def event_body(
    event: Mapping[str, Any], *, time_zone: str, recurring: bool = True
) -> dict[str, Any]:
    """Return a Google event body for a Home Assistant calendar event dict.

    The dict is what calendar entities receive: summary, dtstart, dtend, and
    optionally description, location and rrule.
    """
    body: dict[str, Any] = {
        "summary": event.get("summary", ""),
        "description": event.get("description") or "",
        "location": event.get("location") or "",
        "start": format_time(_field(event, EVENT_START, "start"), time_zone),
        "end": format_time(_field(event, EVENT_END, "end"), time_zone),
    }
    if recurring:
        rule = event.get("rrule")
        body["recurrence"] = [_RRULE_PREFIX + normalize_rrule(rule)] if rule else []
    return body


def _field(event: Mapping[str, Any], key: str, alias: str) -> Any:
    """Return a field by Home Assistant's key or its plain alias."""
    return event[key] if key in event else event[alias]


@dataclass(frozen=True, slots=True)
class EventTarget:
    """Which Google event an entity call means."""

    event_id: str
    master_id: str | None = None
    original_start: date | datetime | None = None

    @property
    def is_instance(self) -> bool:
        """Return True when the target is one instance of a recurring event."""
        return self.master_id is not None


def resolve_target(uid: str, recurrence_id: str | None) -> EventTarget:
    """Map Home Assistant's uid and recurrence_id to Google ids.

    Accepts both the series id with the instance suffix as recurrence_id and the
    full instance id ("master_20250101T100000Z") as uid. Base32hex ids never hold
    an underscore, so one marks an instance id.
    """
    if recurrence_id:
        master = uid
        if uid.endswith(f"_{recurrence_id}"):
            master = uid[: -len(recurrence_id) - 1]
        elif "_" in recurrence_id:
            # The full instance id was passed as recurrence id.
            master, _, recurrence_id = recurrence_id.rpartition("_")
        return EventTarget(
            event_id=f"{master}_{recurrence_id}",
            master_id=master,
            original_start=parse_suffix(recurrence_id),
        )
    if (instance := split_instance_id(uid)) is not None:
        # An instance id without recurrence id: "all events" of that series.
        return EventTarget(event_id=instance[0])
    return EventTarget(event_id=uid)


def trim_recurrence(
    recurrence: list[str], series_start: date | datetime, cut: date | datetime
) -> list[str] | None:
    """Return the recurrence ending before cut, or None when nothing is left."""
    if _as_datetime(cut) <= _as_datetime(series_start):
        return None
    if isinstance(cut, datetime):
        until = (cut - timedelta(seconds=1)).astimezone(UTC).strftime(_UNTIL_UTC_FORMAT)
    else:
        until = (cut - timedelta(days=1)).strftime(_UNTIL_DATE_FORMAT)
    trimmed: list[str] = []
    for line in recurrence:
        if not line.upper().startswith(_RRULE_PREFIX):
            trimmed.append(line)
            continue
        parts = [
            part
            for part in normalize_rrule(line).split(";")
            if part and part.split("=")[0].upper() not in ("UNTIL", "COUNT")
        ]
        parts.append(f"UNTIL={until}")
        trimmed.append(_RRULE_PREFIX + ";".join(parts))
    return trimmed


def remaining_recurrence(
    recurrence: list[str], series_start: date | datetime, cut: date | datetime
) -> list[str]:
    """Return the rule for the series continuing at cut (COUNT reduced)."""
    result: list[str] = []
    for line in recurrence:
        if not line.upper().startswith(_RRULE_PREFIX):
            continue  # EXDATE/RDATE lines name dates of the old series
        parts = normalize_rrule(line).split(";")
        count = next(
            (int(p.split("=")[1]) for p in parts if p.upper().startswith("COUNT=")),
            None,
        )
        if count is not None:
            before = _occurrences_before(line, series_start, cut)
            parts = [p for p in parts if not p.upper().startswith("COUNT=")]
            parts.append(f"COUNT={max(count - before, 1)}")
        result.append(_RRULE_PREFIX + ";".join(parts))
    return result


def _occurrences_before(
    line: str, series_start: date | datetime, cut: date | datetime
) -> int:
    """Count the occurrences of a rule that start before cut."""
    rule = _rule(line, _naive_in_zone(series_start))
    limit = _naive_in_zone(cut, series_start)
    count = 0
    for occurrence in rule:
        if occurrence >= limit:
            break
        count += 1
    return count


def _naive_in_zone(
    value: date | datetime, reference: date | datetime | None = None
) -> datetime:
    """Return a naive datetime (in the reference's zone) for rule arithmetic."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    zone = (reference or value).tzinfo if isinstance(reference, datetime) else None
    if zone is not None:
        value = value.astimezone(zone)
    return value.replace(tzinfo=None)


def _as_datetime(value: date | datetime) -> datetime:
    """Return an aware datetime for comparisons (dates at UTC midnight)."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _translated(key: str, **placeholders: str) -> HomeAssistantError:
    """Return a translated Home Assistant error."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


class EventWriter:
    """Write Home Assistant edits to one Google calendar and store the answers."""

    def __init__(
        self,
        api: GoogleCalendarApi,
        calendar_id: str,
        *,
        time_zone: str,
        lookup: Callable[[str], dict[str, Any] | None],
        on_write: Callable[[dict[str, Any]], None],
        on_delete: Callable[[str], None],
        on_conflict: Callable[[], Awaitable[None]] | None = None,
        own_writes: Callable[[], AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        """Initialize the writer.

        own_writes (the coordinator's) wraps each write and the storing of its
        answer, so a sync meanwhile does not announce it as a change in Google.
        """
        self._api = api
        self._calendar_id = calendar_id
        self._time_zone = time_zone
        self._lookup = lookup
        self._on_write = on_write
        self._on_delete = on_delete
        self._on_conflict = on_conflict
        self._own_writes = own_writes

    @classmethod
    def for_coordinator(cls, coordinator: CalendarSyncCoordinator) -> EventWriter:
        """Return a writer for the calendar of a coordinator."""

        def lookup(event_id: str) -> dict[str, Any] | None:
            return coordinator.snapshot.events.get(event_id)

        return cls(
            coordinator.api,
            coordinator.calendar_id,
            time_zone=coordinator.calendar.get("timeZone")
            or coordinator.hass.config.time_zone,
            lookup=lookup,
            on_write=coordinator.async_apply_remote_write,
            on_delete=coordinator.async_apply_remote_delete,
            on_conflict=coordinator.async_request_sync,
            own_writes=coordinator.async_own_writes,
        )

    def _writing(self) -> AbstractAsyncContextManager[object]:
        """Return the block one write and the storing of its answer run in."""
        if self._own_writes is None:
            return contextlib.nullcontext()
        return self._own_writes()

    async def async_insert(
        self, body: dict[str, Any], *, conference_data_version: int | None = None
    ) -> dict[str, Any]:
        """Insert an event body and store Google's answer."""
        try:
            async with self._writing():
                created = await self._api.insert_event(
                    self._calendar_id,
                    body,
                    conference_data_version=conference_data_version,
                )
                self._on_write(created)
        except GoogleCalendarApiError as err:
            raise _translated("api_error", message=str(err)) from err
        return created

    async def async_create(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Create an event from a Home Assistant event dict."""
        return await self.async_insert(event_body(event, time_zone=self._time_zone))

    async def async_update(
        self,
        uid: str,
        event: Mapping[str, Any],
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Update an event, one instance, this and following, or the series."""
        target = resolve_target(uid, recurrence_id)
        if not target.is_instance:
            await self._async_patch(target.event_id, self._body(target, event))
            return
        if recurrence_range == RANGE_THIS_AND_FUTURE:
            master = await self._async_split(target)
            if master is None:
                # The first instance: "this and following" is the whole series.
                await self._async_patch(
                    target.master_id or target.event_id, self._body(target, event)
                )
                return
            body = self._body(target, event)
            if body["recurrence"] and _same_rule(body["recurrence"], master):
                # The panel resends the series rule; a COUNT must shrink with it.
                body["recurrence"] = remaining_recurrence(
                    master.get("recurrence", []),
                    parse_time(master["start"]),
                    target.original_start or parse_time(master["start"]),
                )
            try:
                await self.async_insert(body)
            except HomeAssistantError as err:
                # Half a split loses the following instances: undo the trim.
                await self._async_undo_split(master, err)
                raise
            return
        await self._async_patch(
            target.event_id, self._body(target, event, recurring=False)
        )

    async def async_edit(
        self,
        event_id: str,
        body: dict[str, Any],
        scope: EditScope = EditScope.EVENT,
        *,
        conference_data_version: int | None = None,
    ) -> dict[str, Any]:
        """Patch Google fields of an event, one occurrence, or this and following.

        event_id is an event, series or instance id; the occurrence scopes need an
        instance id. Returns Google's answer (for "following", the new series).
        """
        instance = split_instance_id(event_id)
        if scope is EditScope.EVENT or instance is None:
            return await self._async_patch(
                instance[0] if instance else event_id,
                body,
                conference_data_version=conference_data_version,
            )
        if scope is EditScope.OCCURRENCE:
            return await self._async_patch(
                event_id, body, conference_data_version=conference_data_version
            )
        master_id, suffix = instance
        target = EventTarget(event_id, master_id, parse_suffix(suffix))
        master = await self._async_split(target)
        if master is None:
            # The first occurrence: "this and following" is the whole series.
            return await self._async_patch(
                master_id, body, conference_data_version=conference_data_version
            )
        following = following_series(master, target.original_start, body)
        try:
            # Version 1 keeps the series' Meet conference on the new series.
            return await self.async_insert(following, conference_data_version=1)
        except HomeAssistantError as err:
            await self._async_undo_split(master, err)
            raise

    def _body(
        self, target: EventTarget, event: Mapping[str, Any], *, recurring: bool = True
    ) -> dict[str, Any]:
        """Return the body of an edit, without the Meet link the description shows."""
        body = event_body(event, time_zone=self._time_zone, recurring=recurring)
        stored = self._lookup(target.event_id)
        if stored is None and target.master_id is not None:
            # A generated instance shows the link of its series.
            stored = self._lookup(target.master_id)
        if stored is not None:
            body["description"] = written_description(
                body["description"], meet_link(stored)
            )
        return body

    async def async_delete(
        self,
        uid: str,
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Delete an event, one instance, this and following, or the series."""
        target = resolve_target(uid, recurrence_id)
        if target.is_instance and recurrence_range == RANGE_THIS_AND_FUTURE:
            if await self._async_split(target) is not None:
                return
            await self._async_delete(target.master_id or target.event_id)
            return
        await self._async_delete(target.event_id, target)

    async def _async_split(self, target: EventTarget) -> dict[str, Any] | None:
        """End the series before the instance; None when it is the first one."""
        if target.master_id is None:  # pragma: no cover - callers pass instances
            return None
        master = await self._async_current(target.master_id)
        series_start = parse_time(master["start"])
        cut = target.original_start or series_start
        trimmed = trim_recurrence(master.get("recurrence", []), series_start, cut)
        if trimmed is None:
            return None
        await self._async_patch(target.master_id, {"recurrence": trimmed})
        return master

    async def _async_undo_split(
        self, master: dict[str, Any], error: HomeAssistantError
    ) -> None:
        """Give a trimmed series its recurrence back after the new one failed."""
        try:
            # The stored master carries the trim's etag, so If-Match still holds.
            await self._async_patch(
                master["id"], {"recurrence": master.get("recurrence", [])}
            )
        except HomeAssistantError as err:
            _LOGGER.warning(
                "Could not restore the recurrence of %s after a failed split: %s",
                master["id"],
                err,
            )
            raise _translated(
                "series_split_incomplete", event_id=master["id"], message=str(error)
            ) from err

    async def _async_current(self, event_id: str) -> dict[str, Any]:
        """Return the stored event, or read it from Google."""
        if (stored := self._lookup(event_id)) is not None:
            return stored
        return await self._async_get(event_id)

    async def _async_get(self, event_id: str) -> dict[str, Any]:
        """Read an event from Google."""
        try:
            return await self._api.get_event(self._calendar_id, event_id)
        except GoogleNotFoundError as err:
            raise _translated("event_not_found", event_id=event_id) from err
        except GoogleCalendarApiError as err:
            raise _translated("api_error", message=str(err)) from err

    async def _async_patch(
        self,
        event_id: str,
        body: dict[str, Any],
        *,
        conference_data_version: int | None = None,
    ) -> dict[str, Any]:
        """Patch an event with If-Match on the stored etag; store Google's answer."""
        answers: list[dict[str, Any]] = []

        async def store(result: dict[str, Any]) -> None:
            self._on_write(result)
            answers.append(result)

        await self._async_conditional(
            event_id,
            lambda etag: self._api.patch_event(
                self._calendar_id,
                event_id,
                body,
                etag=etag,
                conference_data_version=conference_data_version,
            ),
            store,
        )
        return answers[0]

    async def _async_delete(
        self, event_id: str, target: EventTarget | None = None
    ) -> None:
        """Delete an event (or the instance of target) with If-Match on the etag."""

        async def forget(_: None) -> None:
            self._on_delete(event_id)
            if target is not None and target.is_instance:
                await self._async_store_cancelled_instance(target)

        await self._async_conditional(
            event_id,
            lambda etag: self._api.delete_event(self._calendar_id, event_id, etag=etag),
            forget,
        )

    async def _async_conditional[T](
        self,
        event_id: str,
        write: Callable[[str | None], Awaitable[T]],
        store: Callable[[T], Awaitable[None]],
    ) -> None:
        """Run a write with If-Match on the stored etag, then store its answer.

        Google's errors are translated; a conflict syncs after the write block.
        """
        stored = self._lookup(event_id)
        etag = stored.get("etag") if stored else None
        try:
            async with self._writing():
                await store(await write(etag))
        except GooglePreconditionFailedError as err:
            await self._async_refresh(event_id)
            raise _translated("event_changed_remotely", event_id=event_id) from err
        except GoogleNotFoundError as err:
            raise _translated("event_not_found", event_id=event_id) from err
        except GoogleCalendarApiError as err:
            raise _translated("api_error", message=str(err)) from err

    async def _async_refresh(self, event_id: str) -> None:
        """Store Google's current version after a conflict."""
        if self._on_conflict is not None:
            # A sync stores the version and announces the change made in Google;
            # storing it here silently would hide that change from the bus.
            await self._on_conflict()
            return
        try:
            current = await self._api.get_event(self._calendar_id, event_id)
        except GoogleCalendarApiError:
            _LOGGER.debug("Could not re-read %s after a conflict", event_id)
            return
        if current.get("status") == "cancelled" and not current.get("recurringEventId"):
            self._on_delete(event_id)
        else:
            self._on_write(current)

    async def _async_store_cancelled_instance(self, target: EventTarget) -> None:
        """Keep the cancelled exception so the timeline hides that instance."""
        try:
            cancelled = await self._api.get_event(self._calendar_id, target.event_id)
        except GoogleCalendarApiError:
            cancelled = {"id": target.event_id, "status": "cancelled"}
        if target.original_start is not None and "originalStartTime" not in cancelled:
            cancelled["originalStartTime"] = format_time(
                target.original_start, self._time_zone
            )
        cancelled.setdefault("recurringEventId", target.master_id)
        cancelled["status"] = "cancelled"
        self._on_write(cancelled)


# Fields of a series that belong to it alone, not to a series split off it.
_SERIES_OWN_FIELDS = frozenset(
    {
        "id",
        "etag",
        "iCalUID",
        "htmlLink",
        "created",
        "updated",
        "sequence",
        "status",
        "kind",
        "creator",
        "organizer",
        "recurringEventId",
        "originalStartTime",
        "hangoutLink",
        "conferenceData",
    }
)


def following_series(
    master: Mapping[str, Any],
    original_start: date | datetime | None,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the body of the series that continues master at an occurrence.

    It keeps the master's fields (attendees, reminders, the Meet conference) and
    the rest of its rule, starts at the occurrence, and takes the changes on top.
    """
    series_start = parse_time(master["start"])
    series_end = parse_time(master["end"])
    cut = original_start or series_start
    body = {
        key: copy.deepcopy(value)
        for key, value in master.items()
        if key not in _SERIES_OWN_FIELDS
    }
    if isinstance(series_start, datetime) and isinstance(cut, datetime):
        zone = master["start"].get("timeZone")
        start: date | datetime = cut.astimezone(series_start.tzinfo)
        body["start"] = format_time(start, zone or "UTC")
        body["end"] = format_time(start + (series_end - series_start), zone or "UTC")
    else:
        day = cut.date() if isinstance(cut, datetime) else cut
        body["start"] = {"date": day.isoformat()}
        body["end"] = {"date": (day + (series_end - series_start)).isoformat()}
    body["recurrence"] = remaining_recurrence(
        master.get("recurrence", []), series_start, cut
    )
    if conference := master.get("conferenceData"):
        # The same conference: a new request would make a new Meet link.
        body["conferenceData"] = {
            key: copy.deepcopy(value)
            for key, value in conference.items()
            if key != "createRequest"
        }
    body.update(copy.deepcopy(dict(changes)))
    if body.get("conferenceData", {}) is None:
        del body["conferenceData"]
    return body


def _same_rule(recurrence: list[str], master: Mapping[str, Any]) -> bool:
    """Return True when a rule list repeats the master's RRULE lines."""
    master_rules = [
        normalize_rrule(line).upper()
        for line in master.get("recurrence", [])
        if line.upper().startswith(_RRULE_PREFIX)
    ]
    return [normalize_rrule(line).upper() for line in recurrence] == master_rules
