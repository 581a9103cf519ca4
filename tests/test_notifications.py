"""Notifications: what Google posts to the webhook is checked; where it posts."""

from __future__ import annotations

from collections.abc import Callable
import enum
import logging
import sys
from typing import Any

from aiohttp import ClientSession
import homeassistant.components
from homeassistant.core import HomeAssistant
import pytest

from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.push import async_remove_push
from google_calendar_emulator import GoogleCalendarEmulator

from .common import push_issue, settle_notifications
from .conftest import ACCOUNT, WEBHOOK_ID, PushHarness


async def test_forged_notifications_are_refused_without_api_calls(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    hass_url: str,
    push: PushHarness,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unknown channels, wrong tokens and missing headers get a 4xx and no sync."""
    await settle_notifications(hass, calendar_emulator)
    channel = push.stored.channels[ACCOUNT]
    genuine = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "7",
    }
    forged = [
        ({}, 400),
        ({"X-Goog-Resource-State": "exists"}, 400),
        ({**genuine, "X-Goog-Channel-ID": "not-ours"}, 404),
        ({**genuine, "X-Goog-Channel-ID": "not-ours"}, 404),
        ({**genuine, "X-Goog-Channel-Token": "guess"}, 403),
        ({k: v for k, v in genuine.items() if k != "X-Goog-Channel-Token"}, 403),
        ({**genuine, "X-Goog-Resource-ID": "another-resource"}, 400),
    ]
    requests_before = len(calendar_emulator.requests)
    caplog.set_level(logging.DEBUG, logger="custom_components.google_calendar_sync")

    async with ClientSession() as session:
        for headers, status in forged:
            async with session.post(
                f"{hass_url}/api/webhook/{WEBHOOK_ID}", headers=headers
            ) as response:
                assert response.status == status, headers
        await hass.async_block_till_done()
        assert push.changes == []
        assert len(calendar_emulator.requests) == requests_before

        async with session.post(
            f"{hass_url}/api/webhook/{WEBHOOK_ID}", headers=genuine
        ) as response:
            assert response.status == 200
        async with session.get(f"{hass_url}/api/webhook/{WEBHOOK_ID}") as response:
            assert response.status == 405  # POST only

    assert push.changes == [ACCOUNT]
    refusals = [r for r in caplog.records if "Refused a push notification" in r.message]
    assert [r.levelno for r in refusals] == [logging.DEBUG] * 4  # once per reason
    assert push.manager.diagnostics()["notifications_rejected"] == {
        "bad_token": 2,
        "missing_headers": 2,
        "resource_mismatch": 1,
        "unknown_channel": 2,
    }


class _FakeCloud:
    """Just enough of homeassistant.components.cloud for the cloudhook path."""

    class CloudNotAvailable(Exception):  # noqa: N818 - the name cloud uses
        """Raised when the cloud cannot be used."""

    class CloudConnectionState(enum.Enum):
        CLOUD_CONNECTED = "connected"
        CLOUD_DISCONNECTED = "disconnected"

    def __init__(self, hook_url: str) -> None:
        self.hook_url = hook_url
        self.connected = False
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.listeners: list[Callable[[Any], Any]] = []

    def async_active_subscription(self, hass: HomeAssistant) -> bool:
        return True

    def async_is_connected(self, hass: HomeAssistant) -> bool:
        return self.connected

    async def async_get_or_create_cloudhook(
        self, hass: HomeAssistant, webhook_id: str
    ) -> str:
        self.created.append(webhook_id)
        return self.hook_url

    async def async_delete_cloudhook(
        self, hass: HomeAssistant, webhook_id: str
    ) -> None:
        self.deleted.append(webhook_id)
        raise self.CloudNotAvailable

    def async_listen_connection_change(
        self, hass: HomeAssistant, target: Callable[[Any], Any]
    ) -> Callable[[], None]:
        self.listeners.append(target)
        return lambda: self.listeners.remove(target)


@pytest.fixture
def fake_cloud(
    hass: HomeAssistant, hass_url: str, monkeypatch: pytest.MonkeyPatch
) -> _FakeCloud:
    """Pretend Home Assistant Cloud is set up with an active subscription."""
    # The cloudhook forwards to this instance, as Nabu Casa's relay would.
    cloud = _FakeCloud(f"https://127.0.0.1:1/cloudhook/{WEBHOOK_ID}")
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", cloud)
    monkeypatch.setattr(homeassistant.components, "cloud", cloud, raising=False)
    hass.config.components.add("cloud")
    return cloud


async def test_cloudhook_is_used_once_cloud_connects(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    fake_cloud: _FakeCloud,
    make_push: Callable[..., PushHarness],
    google_mode_api: GoogleCalendarApi,
) -> None:
    """With a subscription the cloudhook is the address, created once connected."""
    harness = make_push(api=google_mode_api)

    assert not await harness.manager.async_start([ACCOUNT])  # cloud not connected
    assert push_issue(hass) is not None

    fake_cloud.connected = True
    for listener in list(fake_cloud.listeners):
        await listener(_FakeCloud.CloudConnectionState.CLOUD_CONNECTED)

    assert harness.states == {ACCOUNT: True}
    assert push_issue(hass) is None
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.data["cloudhook_url"] == fake_cloud.hook_url
    channel = calendar_emulator.channels[harness.stored.channels[ACCOUNT].channel_id]
    assert channel.address == fake_cloud.hook_url
    assert harness.manager.diagnostics()["address_kind"] == "cloudhook"

    # The stored cloudhook is reused without asking the cloud again.
    await harness.manager.async_stop()
    assert fake_cloud.listeners == []
    assert await harness.manager.async_start([ACCOUNT])
    assert fake_cloud.created == [WEBHOOK_ID]
    await harness.manager.async_stop()

    await async_remove_push(hass, entry)
    assert fake_cloud.deleted == [WEBHOOK_ID]
