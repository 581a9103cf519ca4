"""Store safety: crashes around the store write lose nothing, corruption costs a resync."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
import logging
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.journal import CalendarLog
from custom_components.google_calendar_sync.store import calendar_file_name
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT
from .reliability_helpers import (
    coordinator_of,
    fast_retries,
    google_state,
    make_entry,
    record_announcements,
    setup_entry,
    store_state,
    unload_entry,
)


def _timed(summary: str, start: datetime) -> dict[str, Any]:
    """Return a one-hour event body."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
    }


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
) -> AsyncGenerator[MockConfigEntry]:
    """Set up a polling entry of the primary calendar with fast backoff."""
    config_entry = make_entry(calendar_emulator, [ACCOUNT])
    with fast_retries():
        await setup_entry(hass, config_entry)
        yield config_entry
        await unload_entry(hass, config_entry)


async def _crash(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Stop the entry as a power cut would: whatever was not saved yet is lost."""
    with (
        patch.object(Store, "async_save", AsyncMock()),
        patch.object(CalendarLog, "save", return_value=0),
    ):
        await unload_entry(hass, entry)


async def test_crash_before_the_store_write_loses_nothing(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    now: datetime,
) -> None:
    """Synced (and announced) but never saved: after the crash the sync token is old.

    The next sync repeats the listing from the saved token, so nothing is missed; the
    repeated changes are new to the restored state and announced again (at least
    once, the price of announcing before the delayed save).
    """
    path = Path(
        hass.config.path(".storage", calendar_file_name(entry.entry_id, ACCOUNT))
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    saved = path.read_bytes()
    await setup_entry(hass, entry)

    created = calendar_emulator.insert_event(ACCOUNT, _timed("Unsaved", now))
    with record_announcements(hass) as announced:
        await coordinator_of(entry, ACCOUNT).async_sync()
        # The delayed write has not happened yet when the power goes.
        assert path.read_bytes() == saved
        await _crash(hass, entry)
        assert path.read_bytes() == saved

        await setup_entry(hass, entry)

    coordinator = coordinator_of(entry, ACCOUNT)
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    assert created["id"] in coordinator.snapshot.events
    assert [(a.event_id, a.change) for a in announced] == [
        (created["id"], "created"),
        (created["id"], "created"),
    ]


async def test_unload_waits_for_a_sync_in_flight(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    entry: MockConfigEntry,
    now: datetime,
) -> None:
    """Regression: a sync finishing after the final save was announced, then lost.

    The restarted entry listed the same change again and announced it twice.
    """
    coordinator = coordinator_of(entry, ACCOUNT)
    created = calendar_emulator.insert_event(ACCOUNT, _timed("In flight", now))
    held = calendar_emulator.faults.delay_next(0.3, path_contains="/events")
    with record_announcements(hass) as announced:
        sync = hass.async_create_background_task(
            coordinator.async_request_sync(), "sync in flight"
        )
        await held.reached()  # the listing is on its way
        assert not sync.done()
        await unload_entry(hass, entry)
        await sync
        await setup_entry(hass, entry)
        await coordinator_of(entry, ACCOUNT).async_sync()

    assert [(a.event_id, a.change) for a in announced].count(
        (created["id"], "created")
    ) == 1
    assert created["id"] in coordinator_of(entry, ACCOUNT).snapshot.events


# Broken whatever the store: not JSON, not our layout, versions we cannot read.
_BROKEN_FILES = [
    pytest.param(b"{not json", id="truncated-json"),
    pytest.param(b"\x00\x00\x00\x00", id="zeros"),
    pytest.param(
        b'{"version": 1, "minor_version": 1, "key": "k", "data": []}',
        id="wrong-shape",
    ),
    pytest.param(b"null", id="null"),
    pytest.param(b"[1, 2]", id="list"),
    pytest.param(b'"text"', id="text"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"version": 1, "minor_version": 1}', id="no-data"),
    pytest.param(
        b'{"version": 9, "minor_version": 1, "key": "k", "data": {}}', id="newer"
    ),
    pytest.param(
        b'{"version": 0, "minor_version": 1, "key": "k", "data": {}}', id="older"
    ),
    pytest.param(
        b'{"version": "1", "minor_version": 1, "key": "k", "data": {}}',
        id="text-version",
    ),
]
# Broken in the layout of the single store of earlier versions.
_BROKEN_SINGLE_STORE = [
    pytest.param(
        b'{"version": 1, "minor_version": 1, "key": "k", "data": '
        b'{"calendars": {"user@example.com": {"sync_token": 5, "events": {}}}}}',
        id="wrong-type",
    ),
    pytest.param(
        b'{"version": 1, "minor_version": 2, "key": "k", "data": {"calendars": '
        b'{"user@example.com": {"calendar_id": "other@example.com", '
        b'"sync_token": "t", "events": {}}}}}',
        id="another-calendars-snapshot",
    ),
]
# Broken calendar files: not our log, or one that holds what it must not.
_HEADER = b'{"format": 1, "calendar_id": "user@example.com"}\n'
_BROKEN_CALENDAR_FILES = [
    pytest.param(_HEADER + b'{"sync_token": 5}\n', id="wrong-type"),
    pytest.param(
        b'{"format": 1, "calendar_id": "other@example.com"}\n',
        id="another-calendars-snapshot",
    ),
    pytest.param(_HEADER + b'{"event": {"id": 5}}\n', id="bad-event"),
]


@pytest.mark.parametrize("disk_storage", [True])
@pytest.mark.parametrize(
    ("single_store", "content"),
    [
        *(
            pytest.param(True, *param.values, id=f"single-{param.id}")
            for param in [*_BROKEN_FILES, *_BROKEN_SINGLE_STORE]
        ),
        *(
            pytest.param(False, *param.values, id=f"calendar-{param.id}")
            for param in [*_BROKEN_FILES, *_BROKEN_CALENDAR_FILES]
        ),
    ],
)
async def test_corrupted_store_file_leads_to_a_full_resync_and_a_log_line(  # noqa: PLR0917
    hass: HomeAssistant,
    setup_credentials: None,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
    now: datetime,
    single_store: bool,
    content: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A store file that cannot be parsed does not fail setup: one warning, full sync.

    The same for the single store of earlier versions and for a calendar's store.
    """
    created = calendar_emulator.insert_event(ACCOUNT, _timed("In Google", now))
    config_entry = make_entry(calendar_emulator, [ACCOUNT])
    config_entry.add_to_hass(hass)
    monkeypatch.setattr(hass.config, "config_dir", str(tmp_path))
    key = (
        f"{DOMAIN}.{config_entry.entry_id}"
        if single_store
        else calendar_file_name(config_entry.entry_id, ACCOUNT)
    )
    path = tmp_path / ".storage" / key
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    caplog.set_level(logging.WARNING)

    with record_announcements(hass) as announced:
        await setup_entry(hass, config_entry)

    coordinator = coordinator_of(config_entry, ACCOUNT)
    assert created["id"] in coordinator.snapshot.events
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    # Ours ("running a full sync") or Home Assistant's, which sets the file aside.
    lines = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and key in r.getMessage()
    ]
    assert lines
    assert len([r for r in lines if "running a full sync" in r.getMessage()]) <= 1
    assert announced == []  # a first full sync is the initial state, not news
    await unload_entry(hass, config_entry)


async def test_no_sync_starts_once_unloading_began(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    entry: MockConfigEntry,
    now: datetime,
) -> None:
    """A notification arriving during unload syncs nothing the final save would miss."""
    coordinator = coordinator_of(entry, ACCOUNT)
    calendar_emulator.insert_event(ACCOUNT, _timed("Too late", now))
    await coordinator.async_shutdown()
    calendar_emulator.requests.clear()

    assert len(await coordinator.async_sync()) == 0
    assert len(calendar_emulator.requests) == 0


async def test_text_json_cannot_hold_is_stored_and_announced_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar_emulator: GoogleCalendarEmulator,
    caplog: pytest.LogCaptureFixture,
    now: datetime,
) -> None:
    """A lone surrogate in a summary: the save works, a restart announces nothing."""
    with record_announcements(hass) as announced:
        created = calendar_emulator.insert_event(
            ACCOUNT, _timed("Lunch \ud800", now + timedelta(days=1))
        )
        await coordinator_of(entry, ACCOUNT).async_sync()
        await unload_entry(hass, entry)
        await setup_entry(hass, entry)
        await coordinator_of(entry, ACCOUNT).async_sync()
        calendar_emulator.invalidate_sync_tokens(ACCOUNT)
        await coordinator_of(entry, ACCOUNT).async_sync()

    assert [(a.event_id, a.change) for a in announced] == [(created["id"], "created")]
    stored = coordinator_of(entry, ACCOUNT).snapshot.events[created["id"]]
    assert stored["summary"] == "Lunch \ufffd"
    assert "Error writing config" not in caplog.text
