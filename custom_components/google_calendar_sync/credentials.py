"""The ways in, seen from Home Assistant: an API client for each kind of entry."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryNotReady,
    OAuth2TokenRequestBaseError,
    OAuth2TokenRequestReauthError,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    ImplementationUnavailableError,
    OAuth2Session,
    async_get_config_entry_implementation,
)

from .const import (
    CONF_AUTH_TYPE,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SUBJECT,
    DOMAIN,
    OAUTH2_SCOPES,
    AuthType,
)
from .google.auth import ServiceAccountAuth, ServiceAccountKey
from .google.client import GoogleCalendarApi
from .google.endpoints import endpoints_from_environment
from .google.errors import GoogleAuthError, GoogleTransientError
from .google.transport import REQUEST_TIMEOUT_SECONDS


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


class ConfigEntryAuth:
    """Access tokens from Home Assistant's OAuth2Session of a config entry."""

    def __init__(self, session: OAuth2Session) -> None:
        """Wrap the session."""
        self._session = session
        self._refresh_lock = asyncio.Lock()

    @property
    def _access_token(self) -> str:
        return str(self._session.token["access_token"])

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        """Return a valid access token, refreshing through Home Assistant."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                if force_refresh:
                    await self._async_force_refresh()
                else:
                    await self._session.async_ensure_token_valid()
        except aiohttp.ClientResponseError as err:
            # HA raises OAuth2TokenRequestReauthError for any 4xx (invalid_grant);
            # implementations that do not map their errors raise the raw 400/401.
            if isinstance(err, OAuth2TokenRequestReauthError) or err.status in {
                400,
                401,
            }:
                raise GoogleAuthError(
                    err.status,
                    "invalid_grant",
                    f"Token refresh rejected: {err.status} {err.message}",
                ) from err
            raise GoogleTransientError(
                err.status, None, f"Token refresh failed: {err.status} {err.message}"
            ) from err
        except (
            OAuth2TokenRequestBaseError,
            aiohttp.ClientError,
            TimeoutError,
        ) as err:
            raise GoogleTransientError(
                None, None, f"Token refresh failed: {err!r}"
            ) from err
        return self._access_token

    async def _async_force_refresh(self) -> None:
        """Refresh the token even though it has not expired yet (Google said 401)."""
        rejected = self._access_token
        async with self._refresh_lock:
            # Another request refreshed while we waited: its token is new enough.
            if self._access_token != rejected:
                return
            session = self._session
            new_token = await session.implementation.async_refresh_token(session.token)
            if not new_token.get("access_token"):
                raise GoogleTransientError(
                    None, None, "Token refresh answered no access token"
                )
            entry = session.config_entry
            session.hass.config_entries.async_update_entry(
                entry, data={**entry.data, "token": new_token}
            )
