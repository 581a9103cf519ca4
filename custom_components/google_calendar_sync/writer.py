"""Write Home Assistant edits to Google; keep our own writes from being news."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
import contextlib
from contextlib import AbstractAsyncContextManager
import logging
from typing import Any, Protocol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .convert import (
    RANGE_THIS_AND_FUTURE,
    EditScope,
    EventTarget,
    event_body,
    following_series,
    remaining_recurrence,
    resolve_target,
    same_rule,
    trim_recurrence,
)
from .google.client import GoogleCalendarApi
from .google.errors import (
    GoogleCalendarApiError,
    GoogleNotFoundError,
    GooglePreconditionFailedError,
)
from .google.meet import meet_link, written_description
from .google.model import (
    CalendarListEntry,
    Event,
    EventBody,
    format_time,
    parse_suffix,
    parse_time,
    split_instance_id,
)
from .google.sync import CalendarSnapshot

_LOGGER = logging.getLogger(__name__)


class WriteTarget(Protocol):
    """What a writer needs of a calendar's coordinator."""

    @property
    def hass(self) -> HomeAssistant:
        """Return Home Assistant."""

    @property
    def api(self) -> GoogleCalendarApi:
        """Return the client of the calendar's account."""

    @property
    def calendar_id(self) -> str:
        """Return the calendar's id."""

    @property
    def calendar(self) -> CalendarListEntry:
        """Return the calendar's list entry (its timeZone)."""

    @property
    def snapshot(self) -> CalendarSnapshot:
        """Return the stored snapshot of the calendar."""

    def async_apply_remote_write(self, event: Event) -> None:
        """Store Google's answer to our write."""

    def async_apply_remote_delete(self, event_id: str) -> None:
        """Forget an event we deleted."""

    async def async_request_sync(self) -> None:
        """Sync now (after a conflict)."""

    def async_own_writes(self) -> AbstractAsyncContextManager[None]:
        """Return the block our writes and the storing of their answers run in."""


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
        lookup: Callable[[str], Event | None],
        on_write: Callable[[Event], None],
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
    def for_coordinator(cls, coordinator: WriteTarget) -> EventWriter:
        """Return a writer for the calendar of a coordinator."""

        def lookup(event_id: str) -> Event | None:
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
        self, body: EventBody, *, conference_data_version: int | None = None
    ) -> Event:
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

    async def async_create(self, event: Mapping[str, Any]) -> Event:
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
            if body["recurrence"] and same_rule(body["recurrence"], master):
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
        body: EventBody,
        scope: EditScope = EditScope.EVENT,
        *,
        conference_data_version: int | None = None,
    ) -> Event:
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
    ) -> EventBody:
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

    async def _async_split(self, target: EventTarget) -> Event | None:
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

    async def _async_undo_split(self, master: Event, error: HomeAssistantError) -> None:
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

    async def _async_current(self, event_id: str) -> Event:
        """Return the stored event, or read it from Google."""
        if (stored := self._lookup(event_id)) is not None:
            return stored
        return await self._async_get(event_id)

    async def _async_get(self, event_id: str) -> Event:
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
        body: EventBody,
        *,
        conference_data_version: int | None = None,
    ) -> Event:
        """Patch an event with If-Match on the stored etag; store Google's answer."""
        answers: list[Event] = []

        async def store(result: Event) -> None:
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
            if target is not None and target.master_id is not None:
                await self._async_store_cancelled_instance(target, target.master_id)

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

    async def _async_store_cancelled_instance(
        self, target: EventTarget, master_id: str
    ) -> None:
        """Keep the cancelled exception so the timeline hides that instance."""
        try:
            cancelled = await self._api.get_event(self._calendar_id, target.event_id)
        except GoogleCalendarApiError:
            cancelled = {"id": target.event_id, "status": "cancelled"}
        if target.original_start is not None and "originalStartTime" not in cancelled:
            cancelled["originalStartTime"] = format_time(
                target.original_start, self._time_zone
            )
        cancelled.setdefault("recurringEventId", master_id)
        cancelled["status"] = "cancelled"
        self._on_write(cancelled)
