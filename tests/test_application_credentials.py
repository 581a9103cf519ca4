"""Tests for the application credentials platform."""

from __future__ import annotations

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pytest

from custom_components.google_calendar_sync.application_credentials import (
    async_get_authorization_server,
    async_get_description_placeholders,
)
from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.google.endpoints import ENV_ENDPOINT


async def test_authorization_server_defaults_to_google(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_ENDPOINT, raising=False)
    server = await async_get_authorization_server(hass)
    assert server.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert server.token_url == "https://oauth2.googleapis.com/token"


async def test_home_assistant_uses_the_configured_emulator_endpoints(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ENDPOINT, "http://127.0.0.1:8765/")
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential("client-id", "client-secret"), "emulator"
    )
    implementations = await config_entry_oauth2_flow.async_get_implementations(
        hass, DOMAIN
    )
    implementation = implementations["emulator"]
    assert isinstance(
        implementation, config_entry_oauth2_flow.LocalOAuth2Implementation
    )
    assert implementation.authorize_url == "http://127.0.0.1:8765/o/oauth2/v2/auth"
    assert implementation.token_url == "http://127.0.0.1:8765/token"
    assert implementation.client_id == "client-id"


async def test_description_placeholders_link_the_google_cloud_console(
    hass: HomeAssistant,
) -> None:
    placeholders = await async_get_description_placeholders(hass)
    assert placeholders == {
        "oauth_consent_url": "https://console.cloud.google.com/apis/credentials/consent",
        "oauth_creds_url": "https://console.cloud.google.com/apis/credentials",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
        "more_info_url": "https://github.com/google-calendar-sync/google_calendar_sync",
    }
