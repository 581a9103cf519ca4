"""Application credentials for Google Calendar Sync."""

from __future__ import annotations

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import MY_AUTH_CALLBACK_PATH

from .google.endpoints import endpoints_from_environment


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Return Google's OAuth endpoints, or the emulator's when configured."""
    endpoints = endpoints_from_environment()
    return AuthorizationServer(
        authorize_url=endpoints.authorize, token_url=endpoints.token
    )


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Return the links shown while entering application credentials."""
    return {
        "oauth_consent_url": "https://console.cloud.google.com/apis/credentials/consent",
        "oauth_creds_url": "https://console.cloud.google.com/apis/credentials",
        "redirect_url": MY_AUTH_CALLBACK_PATH,
        "more_info_url": "https://github.com/google-calendar-sync/google_calendar_sync",
    }
