"""The plan of an idempotent export: appointments in, Google writes out.

Pure: no I/O and no Home Assistant. Each appointment gets a stable event id from
its origin and source uid and carries a hash of its content in private extended
properties, so running an export again writes only what changed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
import hashlib
import json

from .batch import BatchOperation
from .model import Event, EventBody, format_time, parse_time, zone_named

ORIGIN_KEY = "gcs_origin"
SOURCE_UID_KEY = "gcs_source_uid"
HASH_KEY = "gcs_hash"
ORIGIN_SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Appointment:
    """One appointment to export, identified by its source uid."""

    uid: str
    summary: str
    start: date | datetime
    end: date | datetime
    description: str | None = None
    location: str | None = None


def export_event_id(origin: str, uid: str) -> str:
    """Return the stable Google event id (base32hex) of an exported appointment."""
    digest = hashlib.sha256(f"{origin}\0{uid}".encode()).digest()
    return base64.b32hexencode(digest).decode().rstrip("=").lower()


def appointment_body(
    appointment: Appointment, *, origin: str, time_zone: str
) -> EventBody:
    """Return the Google body of an appointment, tagged with origin and hash."""
    content: EventBody = {
        "summary": appointment.summary,
        "description": appointment.description or "",
        "location": appointment.location or "",
        "start": format_time(appointment.start, time_zone),
        "end": format_time(appointment.end, time_zone),
    }
    content_hash = hashlib.sha256(
        json.dumps(content, sort_keys=True).encode()
    ).hexdigest()[:32]
    content["extendedProperties"] = {
        "private": {
            ORIGIN_KEY: origin,
            SOURCE_UID_KEY: appointment.uid,
            HASH_KEY: content_hash,
        }
    }
    return content


def private_properties(event: Event | EventBody) -> dict[str, str]:
    """Return the private extended properties of a Google event."""
    return event.get("extendedProperties", {}).get("private", {})


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One operation of an export plan and the appointment it serves."""

    operation: BatchOperation
    label: str


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What an export must do to make Google match the appointments."""

    creates: tuple[PlannedWrite, ...] = ()
    updates: tuple[PlannedWrite, ...] = ()
    removes: tuple[PlannedWrite, ...] = ()
    unchanged: int = 0

    @property
    def operations(self) -> list[PlannedWrite]:
        """Return every write in the order it is sent."""
        return [*self.creates, *self.updates, *self.removes]


def _in_window(
    event: Event,
    window: tuple[datetime, datetime] | None,
    time_zone: str,
) -> bool:
    """Return True when an event starts inside the window (always without one).

    An all-day event starts at midnight in time_zone.
    """
    if window is None:
        return True
    try:
        start = parse_time(event["start"])
    except KeyError, ValueError:
        return False
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(), zone_named(time_zone) or UTC)
    return window[0] <= start < window[1]


def plan_export(
    appointments: Iterable[Appointment],
    existing: Iterable[Event],
    *,
    calendar_id: str,
    origin: str,
    time_zone: str,
    remove_missing: bool = False,
    window: tuple[datetime, datetime] | None = None,
) -> ExportPlan:
    """Compare appointments with the events already exported from one origin."""
    current = {
        event["id"]: event
        for event in existing
        if private_properties(event).get(ORIGIN_KEY) == origin
        and event.get("status") != "cancelled"
    }
    creates: list[PlannedWrite] = []
    updates: list[PlannedWrite] = []
    unchanged = 0
    wanted: set[str] = set()
    for appointment in {item.uid: item for item in appointments}.values():
        event_id = export_event_id(origin, appointment.uid)
        wanted.add(event_id)
        body = appointment_body(appointment, origin=origin, time_zone=time_zone)
        found = current.get(event_id)
        if found is None:
            creates.append(
                PlannedWrite(
                    BatchOperation(
                        "insert", calendar_id, body={"id": event_id, **body}
                    ),
                    appointment.summary,
                )
            )
        elif (
            private_properties(found).get(HASH_KEY)
            == private_properties(body)[HASH_KEY]
        ):
            unchanged += 1
        else:
            updates.append(
                PlannedWrite(
                    BatchOperation("patch", calendar_id, body=body, event_id=event_id),
                    appointment.summary,
                )
            )
    removes: list[PlannedWrite] = []
    if remove_missing:
        removes.extend(
            PlannedWrite(
                BatchOperation("delete", calendar_id, event_id=event_id),
                str(event.get("summary", event_id)),
            )
            for event_id, event in current.items()
            if event_id not in wanted and _in_window(event, window, time_zone)
        )
    return ExportPlan(tuple(creates), tuple(updates), tuple(removes), unchanged)
