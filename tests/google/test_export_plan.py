"""The export plan: stable ids, content hashes, and only the writes that are due."""

from __future__ import annotations

from datetime import timedelta
import re

from custom_components.google_calendar_sync.google.export_plan import (
    HASH_KEY,
    ORIGIN_KEY,
    SOURCE_UID_KEY,
    appointment_body,
    export_event_id,
    plan_export,
)
from tests.common import APPOINTMENTS_START, appointments

ACCOUNT = "user@example.com"
BASE = APPOINTMENTS_START


def test_export_event_id_is_stable_base32hex() -> None:
    """Ids depend on origin and uid only and use Google's alphabet."""
    first = export_event_id("calendar.practice", "appointment-1")
    assert first == export_event_id("calendar.practice", "appointment-1")
    assert first != export_event_id("service", "appointment-1")
    assert re.fullmatch(r"[0-9a-v]{5,1024}", first)


def test_appointment_body_carries_origin_and_hash() -> None:
    """The body is tagged so a later export recognises it."""
    appointment = appointments(1)[0]
    body = appointment_body(appointment, origin="calendar.practice", time_zone="UTC")
    private = body["extendedProperties"]["private"]
    assert private[ORIGIN_KEY] == "calendar.practice"
    assert private[SOURCE_UID_KEY] == "appointment-0"
    changed = appointment_body(
        appointments(1, changed={0})[0], origin="calendar.practice", time_zone="UTC"
    )
    assert changed["extendedProperties"]["private"][HASH_KEY] != private[HASH_KEY]


def test_plan_export_compares_hashes() -> None:
    """Unchanged events are left alone, changed ones patched, new ones inserted."""
    origin = "calendar.practice"
    existing = [
        {
            "id": export_event_id(origin, a.uid),
            **appointment_body(a, origin=origin, time_zone="UTC"),
        }
        for a in appointments(3)
    ]
    existing.append(
        {
            "id": "someoneelse",
            "extendedProperties": {"private": {ORIGIN_KEY: "service"}},
        }
    )
    wanted = appointments(4, changed={1})[1:]
    plan = plan_export(
        wanted,
        existing,
        calendar_id=ACCOUNT,
        origin=origin,
        time_zone="UTC",
        remove_missing=True,
        window=(BASE - timedelta(days=1), BASE + timedelta(days=30)),
    )
    assert plan.unchanged == 1
    assert [w.operation.method for w in plan.operations] == [
        "insert",
        "patch",
        "delete",
    ]
    assert plan.removes[0].operation.event_id == export_event_id(
        origin, "appointment-0"
    )
    # Outside the window nothing is removed; without the option neither.
    outside = plan_export(
        wanted,
        existing,
        calendar_id=ACCOUNT,
        origin=origin,
        time_zone="UTC",
        remove_missing=True,
        window=(BASE + timedelta(days=1), BASE + timedelta(days=30)),
    )
    assert outside.removes == ()
    assert (
        plan_export(
            wanted, existing, calendar_id=ACCOUNT, origin=origin, time_zone="UTC"
        ).removes
        == ()
    )
