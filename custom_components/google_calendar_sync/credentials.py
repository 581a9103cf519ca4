"""The ways in, seen from Home Assistant: an API client for each kind of entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    ImplementationUnavailableError,
    OAuth2Session,
    async_get_config_entry_implementation,
)

from .api import ConfigEntryAuth, GoogleCalendarApi, endpoints_from_environment
from .auth import ServiceAccountAuth, ServiceAccountKey
from .const import (
    CONF_AUTH_TYPE,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SUBJECT,
    DOMAIN,
    OAUTH2_SCOPES,
    AuthType,
)


def auth_type(data: Mapping[str, Any]) -> AuthType:
    """Return how an entry reaches Google (entries from before 0.2 are OAuth)."""
    return AuthType(data.get(CONF_AUTH_TYPE, AuthType.OAUTH))


async def async_service_account_api(
    hass: HomeAssistant, key: ServiceAccountKey, subject: str | None
) -> GoogleCalendarApi:
    """Return a client acting as a service account (or for subject, by delegation)."""
    session = async_get_clientsession(hass)
    endpoints = endpoints_from_environment()
    auth = ServiceAccountAuth(
        session, key, endpoints.token, scopes=OAUTH2_SCOPES, subject=subject
    )
    return await GoogleCalendarApi.async_create(session, auth, endpoints)


async def async_api_key_api(hass: HomeAssistant, api_key: str) -> GoogleCalendarApi:
    """Return a read-only client for public calendars (no user, no token)."""
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        None,
        endpoints_from_environment(),
        api_key=api_key,
    )


async def async_entry_api(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> GoogleCalendarApi:
    """Return the client of a config entry, whichever way it reaches Google."""
    match auth_type(entry.data):
        case AuthType.SERVICE_ACCOUNT:
            return await async_service_account_api(
                hass,
                ServiceAccountKey.from_info(entry.data[CONF_SERVICE_ACCOUNT_KEY]),
                entry.data.get(CONF_SUBJECT),
            )
        case AuthType.API_KEY:
            return await async_api_key_api(hass, entry.data[CONF_API_KEY])
    try:
        implementation = await async_get_config_entry_implementation(hass, entry)
    except ImplementationUnavailableError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="oauth_implementation_unavailable",
        ) from err
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        ConfigEntryAuth(OAuth2Session(hass, entry, implementation)),
        endpoints_from_environment(),
    )
