"""The sync store: snapshots and channels survive restarts, bad files never crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import storage
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.google_calendar_sync.google.sync import CalendarSnapshot
from custom_components.google_calendar_sync.store import (
    SAVE_DELAY,
    STORAGE_MINOR_VERSION,
    StoredChannel,
    StoredData,
    SyncStore,
)

ENTRY_ID = "entry1"
KEY = f"google_calendar_sync.{ENTRY_ID}"
# Captured before the hass fixture replaces file access with an in-memory dict.
REAL_LOAD = storage.Store._async_load


def sample_data() -> StoredData:
    """Return stored data with one calendar and one channel."""
    event = {
        "id": "abc123",
        "etag": '"1"',
        "summary": "Dentist",
        "start": {"dateTime": "2026-05-04T10:00:00+02:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-05-04T11:00:00+02:00", "timeZone": "Europe/Berlin"},
    }
    return StoredData(
        calendars={
            "user@example.com": CalendarSnapshot(
                sync_token="token-1",
                events={"abc123": event},
                last_synced=datetime(2026, 5, 1, 12, 30, tzinfo=UTC),
            ),
            "empty@example.com": CalendarSnapshot(),
        },
        channels={
            "user@example.com": StoredChannel(
                calendar_id="user@example.com",
                channel_id="channel-1",
                resource_id="resource-1",
                token="secret",
                expiration=datetime(2026, 5, 8, 12, tzinfo=UTC),
            )
        },
    )


async def test_round_trip_survives_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    await SyncStore(hass, ENTRY_ID).async_save(sample_data())

    assert hass_storage[KEY]["version"] == 1
    assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION
    assert hass_storage[KEY]["data"]["channels"]["user@example.com"]["expiration"] == (
        "2026-05-08T12:00:00+00:00"
    )
    # A new store object, as after a restart, reads the same data back.
    assert await SyncStore(hass, ENTRY_ID).async_load() == sample_data()


async def test_missing_store_is_empty(hass: HomeAssistant) -> None:
    assert await SyncStore(hass, ENTRY_ID).async_load() == StoredData()


async def test_delay_save_writes_the_data_of_write_time(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    store = SyncStore(hass, ENTRY_ID)
    data = StoredData()

    store.async_delay_save(lambda: data)
    data.calendars["later@example.com"] = CalendarSnapshot(sync_token="late")
    await hass.async_block_till_done()
    assert KEY not in hass_storage

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY + 1))
    await hass.async_block_till_done()

    assert hass_storage[KEY]["data"]["calendars"]["later@example.com"][
        "sync_token"
    ] == ("late")


async def test_remove(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    store = SyncStore(hass, ENTRY_ID)
    await store.async_save(sample_data())

    await store.async_remove()

    assert KEY not in hass_storage


async def test_unknown_newer_version_falls_back_to_a_full_sync(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[KEY] = {
        "version": 2,
        "minor_version": 1,
        "key": KEY,
        "data": {"something": "new"},
    }
    store = SyncStore(hass, ENTRY_ID)

    assert await store.async_load() == StoredData()
    assert await store.async_load() == StoredData()

    assert caplog.text.count("running a full sync") == 1


async def test_older_minor_version_migrates(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    await SyncStore(hass, ENTRY_ID).async_save(sample_data())
    hass_storage[KEY]["minor_version"] = 1
    for snapshot in hass_storage[KEY]["data"]["calendars"].values():
        del snapshot["calendar_id"]

    assert await SyncStore(hass, ENTRY_ID).async_load() == sample_data()
    assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION


@pytest.mark.parametrize(
    "data",
    [[], "text", 5, {"calendars": []}, {"channels": "none"}],
)
async def test_content_of_the_wrong_shape_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    data: Any,
) -> None:
    hass_storage[KEY] = {"version": 1, "minor_version": 2, "key": KEY, "data": data}

    assert await SyncStore(hass, ENTRY_ID).async_load() == StoredData()
    assert caplog.text.count("running a full sync") == 1


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"events": {"x": {"id": "y"}}}, "id differs"),
        ({"events": {"x": ["not", "an", "event"]}}, "not an object"),
        ({"events": {"x": {"id": "x", "recurringEventId": 5}}}, "not text"),
        ({"events": [], "sync_token": "t"}, "expected a mapping"),
        ({"events": {}, "sync_token": 5}, "sync_token"),
        ({"events": {}, "last_synced": "not a date"}, "not a date"),
        ({"events": {}, "last_synced": "2026-01-01T00:00:00"}, "naive"),
        ({"calendar_id": "empty@example.com", "events": {}}, "snapshot of"),
        (None, "expected a mapping"),
    ],
)
async def test_an_unusable_calendar_costs_only_that_calendar(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    broken: Any,
    problem: str,
) -> None:
    """One warning names the calendar; the others and the channels are kept."""
    await SyncStore(hass, ENTRY_ID).async_save(sample_data())
    hass_storage[KEY]["data"]["calendars"]["user@example.com"] = broken

    loaded = await SyncStore(hass, ENTRY_ID).async_load()

    expected = sample_data()
    del expected.calendars["user@example.com"]
    assert loaded == expected
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "calendar user@example.com is unusable" in warnings[0]
    assert problem in warnings[0]
    assert "running a full sync" in warnings[0]


async def test_an_unusable_channel_costs_only_that_channel(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await SyncStore(hass, ENTRY_ID).async_save(sample_data())
    hass_storage[KEY]["data"]["channels"]["user@example.com"] = {"calendar_id": "a"}

    loaded = await SyncStore(hass, ENTRY_ID).async_load()

    assert loaded == StoredData(calendars=sample_data().calendars)
    assert "channel user@example.com is unusable" in caplog.text


@pytest.mark.parametrize(
    ("version", "minor_version"), [(0, 1), (2, 1), ("1", 1), (1, "2"), (None, 1)]
)
async def test_an_unknown_version_falls_back_to_a_full_sync(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    version: Any,
    minor_version: Any,
) -> None:
    """Older majors, newer versions and nonsense: nothing is trusted."""
    await SyncStore(hass, ENTRY_ID).async_save(sample_data())
    hass_storage[KEY]["version"] = version
    hass_storage[KEY]["minor_version"] = minor_version

    assert await SyncStore(hass, ENTRY_ID).async_load() == StoredData()
    assert caplog.text.count("running a full sync") == 1


async def test_a_newer_minor_version_is_read_without_its_new_keys(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Minor versions only add keys, as Home Assistant prescribes."""
    await SyncStore(hass, ENTRY_ID).async_save(sample_data())
    hass_storage[KEY]["minor_version"] = STORAGE_MINOR_VERSION + 1
    hass_storage[KEY]["data"]["novelty"] = {"x": 1}

    assert await SyncStore(hass, ENTRY_ID).async_load() == sample_data()


async def test_text_json_cannot_hold_is_saved_safely(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A lone surrogate (Google may escape one) never fails a save."""
    data = sample_data()
    event = data.calendars["user@example.com"].events["abc123"]
    event["summary"] = "Lunch \ud83c with \ud800"
    event["sequence"] = 2**70

    store = SyncStore(hass, ENTRY_ID)
    store.async_delay_save(lambda: data)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY + 1))
    await hass.async_block_till_done()

    loaded = await SyncStore(hass, ENTRY_ID).async_load()
    stored = loaded.calendars["user@example.com"].events["abc123"]
    assert stored["summary"] == "Lunch \ufffd with \ufffd"
    assert stored["sequence"] == str(2**70)
    assert stored["etag"] == event["etag"]


async def test_store_that_raises_on_load_is_ignored(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    with patch.object(
        storage.Store, "async_load", side_effect=HomeAssistantError("broken disk")
    ):
        assert await SyncStore(hass, ENTRY_ID).async_load() == StoredData()

    assert "broken disk" in caplog.text


async def test_corrupt_json_file_on_disk_is_ignored(
    hass: HomeAssistant,
) -> None:
    path = Path(hass.config.path(".storage", KEY))
    path.parent.mkdir()
    path.write_text('{"version": 1, "data": {"calendars": ', encoding="utf-8")

    with patch.object(storage.Store, "_async_load", REAL_LOAD):
        assert await SyncStore(hass, ENTRY_ID).async_load() == StoredData()

    # Home Assistant keeps the broken file aside for the user.
    assert not path.exists()
    assert list(path.parent.glob(f"{KEY}.corrupt.*"))
