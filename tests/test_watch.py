"""Watch calls: channels opened and stopped at Google."""

from __future__ import annotations

import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.util import dt as dt_util
import pytest

from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.errors import GoogleTransientError
from custom_components.google_calendar_sync.notifications import NotificationReceiver
from custom_components.google_calendar_sync.watch import (
    CHANNEL_TTL,
    Watcher,
    WatchRefusedError,
)
from google_calendar_emulator import GoogleCalendarEmulator

from .conftest import ACCOUNT, WEBHOOK_ID


@pytest.fixture
def watcher(emulator_api: GoogleCalendarApi) -> Watcher:
    """Return a Watcher on the emulator whose receiver ignores changes."""
    return Watcher(emulator_api, NotificationReceiver(ACCOUNT, lambda _: None), ACCOUNT)


async def test_open_keeps_what_google_answered(
    calendar_emulator: GoogleCalendarEmulator, hass_url: str, watcher: Watcher
) -> None:
    address = f"{hass_url}/api/webhook/{WEBHOOK_ID}"

    channel = await watcher.async_open(ACCOUNT, address)

    at_google = calendar_emulator.channels[channel.channel_id]
    assert at_google.active
    assert at_google.address == address
    assert (channel.calendar_id, channel.token, channel.resource_id) == (
        ACCOUNT,
        at_google.token,
        at_google.resource_id,
    )
    assert round(channel.expiration.timestamp() * 1000) == at_google.expiration_ms


async def test_an_answer_without_expiration_lasts_the_default_ttl(
    hass_url: str, watcher: Watcher, freezer: FrozenDateTimeFactory
) -> None:
    async def answer_without_expiration(*_args: Any, **_kwargs: Any) -> Any:
        return {"resourceId": "resource"}

    with patch.object(GoogleCalendarApi, "watch_events", answer_without_expiration):
        channel = await watcher.async_open(ACCOUNT, f"{hass_url}/api/webhook/x")

    assert channel.expiration == dt_util.utcnow() + CHANNEL_TTL


async def test_a_refused_address_is_a_refusal_and_a_5xx_is_not(
    calendar_emulator: GoogleCalendarEmulator, watcher: Watcher
) -> None:
    with pytest.raises(WatchRefusedError) as refused:
        await watcher.async_open(ACCOUNT, "http://192.0.2.10:8123/api/webhook/x")
    assert refused.value.calendar_id == ACCOUNT
    assert refused.value.error.status == 400

    calendar_emulator.faults.add("503", times=100, path_contains="/watch")
    with pytest.raises(GoogleTransientError):
        await watcher.async_open(ACCOUNT, "http://127.0.0.1:1/api/webhook/x")
    assert not [c for c in calendar_emulator.channels.values() if c.active]


async def test_stopping_a_channel_google_no_longer_knows_is_only_logged(
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    watcher: Watcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = await watcher.async_open(ACCOUNT, f"{hass_url}/api/webhook/x")
    calendar_emulator.channels[channel.channel_id].stopped = True
    caplog.set_level(logging.DEBUG, logger="custom_components.google_calendar_sync")

    await watcher.async_stop_all([channel])

    assert f"Stopping channel {channel.channel_id} failed" in caplog.text
