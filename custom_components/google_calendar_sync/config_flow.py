"""Config flow for Google Calendar Sync: a way in, then the calendars to sync.

The ways in: a user's OAuth grant, a service account's JSON key, or an API key for
public calendars (read only, no calendar step: the user names the calendars). Their
forms are in flow_schemas.py, their checks in flow_service_account.py and
flow_public.py, the options' form and checks in flow_options.py.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any, override

from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_API_KEY, CONF_TOKEN
from homeassistant.core import callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_PUSH_ENABLED,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SUBJECT,
    CONF_WEBHOOK_ID,
    DOMAIN,
    OAUTH2_SCOPES,
    AuthType,
)
from .coordinator import GoogleCalendarSyncConfigEntry
from .credentials import auth_type
from .flow_options import DEFAULT_OPTIONS, options_errors, options_schema
from .flow_public import (
    api_key_unique_id,
    async_read_public_calendars,
    public_calendar_ids,
)
from .flow_schemas import (
    CONF_CALENDAR_IDS,
    api_key_schema,
    calendars_schema,
    default_selection,
    key_schema,
    service_account_schema,
)
from .flow_service_account import (
    async_check_service_account,
    async_key_from_input,
    key_given,
)
from .google.auth import ServiceAccountKey
from .google.client import GoogleCalendarApi
from .google.endpoints import endpoints_from_environment
from .google.errors import GoogleAuthError, GoogleCalendarApiError
from .google.model import CalendarListEntry, display_name
from .google.transport import StaticTokenAuth

_LOGGER = logging.getLogger(__name__)


class OAuth2FlowHandler(
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN
):
    """Link a Google account and choose the calendars to sync."""

    DOMAIN = DOMAIN
    # 1.2: polling intervals are no longer options (async_migrate_entry drops them).
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Initialize the flow."""
        super().__init__()
        self._data: dict[str, Any] = {}
        self._account: str | None = None
        self._calendars: list[CalendarListEntry] = []
        self._given_calendars: list[str] = []

    @property
    @override
    def logger(self) -> logging.Logger:
        """Return the logger of the flow."""
        return _LOGGER

    @property
    @override
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask for calendar access and a refresh token."""
        return {
            "scope": " ".join(OAUTH2_SCOPES),
            # Offline access and forced consent make Google issue a refresh token.
            "access_type": "offline",
            "prompt": "consent",
        }

    @staticmethod
    @callback
    @override
    def async_get_options_flow(
        config_entry: GoogleCalendarSyncConfigEntry,
    ) -> GoogleCalendarSyncOptionsFlow:
        """Return the options flow."""
        return GoogleCalendarSyncOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the ways in: a Google sign-in or a service account."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[AuthType.OAUTH, AuthType.SERVICE_ACCOUNT, AuthType.API_KEY],
        )

    async def async_step_oauth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with Google (OAuth), then pick calendars."""
        return await super().async_step_user(user_input)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start reauthentication after Google refused the token or the key."""
        if auth_type(entry_data) is AuthType.SERVICE_ACCOUNT:
            return await self.async_step_reauth_service_account()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user to sign in to Google again."""
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                description_placeholders={
                    "account": str(self._get_reauth_entry().unique_id)
                },
            )
        return await self.async_step_oauth()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the calendars again, signing in only if the entry is not loaded."""
        entry: GoogleCalendarSyncConfigEntry = self._get_reconfigure_entry()
        if auth_type(entry.data) is AuthType.SERVICE_ACCOUNT:
            return await self.async_step_service_account()
        if auth_type(entry.data) is AuthType.API_KEY:
            return await self.async_step_api_key()
        if entry.state is not ConfigEntryState.LOADED:
            return await self.async_step_oauth()
        self._account = entry.unique_id
        try:
            self._calendars = await entry.runtime_data.api.list_calendars()
        except GoogleAuthError:
            return self.async_abort(reason="invalid_auth")
        except GoogleCalendarApiError as err:
            _LOGGER.debug("Listing calendars failed: %s", err)
            return self.async_abort(reason="cannot_connect")
        return await self.async_step_calendars()

    @override
    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Identify the account, then continue to the calendar choice."""
        api = await GoogleCalendarApi.async_create(
            async_get_clientsession(self.hass),
            StaticTokenAuth(data[CONF_TOKEN][CONF_ACCESS_TOKEN]),
            endpoints_from_environment(),
        )
        try:
            primary = await api.get_calendar("primary")
            calendars = await api.list_calendars()
        except GoogleAuthError:
            return self.async_abort(reason="invalid_auth")
        except GoogleCalendarApiError as err:
            _LOGGER.debug("Reading the calendar list failed: %s", err)
            return self.async_abort(reason="cannot_connect")
        account = str(primary["id"])
        await self.async_set_unique_id(account)
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(
                reason="wrong_account",
                description_placeholders={
                    "account": str(self._get_reauth_entry().unique_id)
                },
            )
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data_updates=data
            )
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(
                reason="wrong_account",
                description_placeholders={
                    "account": str(self._get_reconfigure_entry().unique_id)
                },
            )
        else:
            self._abort_if_unique_id_configured()
        if not calendars:
            return self.async_abort(reason="no_calendars")
        self._data = data
        self._account = account
        self._calendars = calendars
        return await self.async_step_calendars()

    async def async_step_service_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take a service account's JSON key, a user to act for and calendar ids."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        reconfiguring = self.source == SOURCE_RECONFIGURE
        subject: str | None = None
        calendar_ids: list[str] = []
        if reconfiguring:
            entry = self._get_reconfigure_entry()
            subject = entry.data.get(CONF_SUBJECT)
            calendar_ids = list(entry.options.get(CONF_CALENDARS, []))
        if user_input is not None:
            subject = (user_input.get(CONF_SUBJECT) or "").strip() or None
            calendar_ids = [
                calendar_id.strip()
                for calendar_id in user_input.get(CONF_CALENDAR_IDS, [])
                if calendar_id.strip()
            ]
            key: ServiceAccountKey | None
            if reconfiguring and not key_given(user_input):
                # Reconfiguring keeps the key unless a new one is given.
                key = ServiceAccountKey.from_info(entry.data[CONF_SERVICE_ACCOUNT_KEY])
            else:
                key = await async_key_from_input(self.hass, user_input, errors)
            if key is not None:
                placeholders["email"] = key.client_email
                calendars = await async_check_service_account(
                    self.hass,
                    key,
                    subject,
                    calendar_ids,
                    errors=errors,
                    placeholders=placeholders,
                )
                if calendars == []:
                    errors["base"] = "no_shared_calendars"
                elif calendars is not None:
                    account = subject or key.client_email
                    await self.async_set_unique_id(account)
                    if reconfiguring:
                        self._abort_if_unique_id_mismatch(
                            reason="wrong_account",
                            description_placeholders={"account": str(entry.unique_id)},
                        )
                    else:
                        self._abort_if_unique_id_configured()
                    self._data = {
                        CONF_AUTH_TYPE: AuthType.SERVICE_ACCOUNT,
                        CONF_SERVICE_ACCOUNT_KEY: dict(key.info),
                        CONF_SUBJECT: subject,
                    }
                    self._account = account
                    self._calendars = calendars
                    self._given_calendars = calendar_ids
                    return await self.async_step_calendars()
        return self.async_show_form(
            step_id="service_account",
            data_schema=service_account_schema(subject, calendar_ids),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_api_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take an API key and public calendars (ids or public addresses)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        reconfiguring = self.source == SOURCE_RECONFIGURE
        calendar_ids: list[str] = []
        if reconfiguring:
            entry = self._get_reconfigure_entry()
            calendar_ids = list(entry.options.get(CONF_CALENDARS, []))
        if user_input is not None:
            calendar_ids = public_calendar_ids(user_input.get(CONF_CALENDARS, []))
            api_key = (user_input.get(CONF_API_KEY) or "").strip()
            if reconfiguring and not api_key:
                # Reconfiguring keeps the key unless a new one is given.
                api_key = entry.data[CONF_API_KEY]
            if not api_key:
                errors[CONF_API_KEY] = "api_key_required"
            elif not calendar_ids:
                errors[CONF_CALENDARS] = "no_calendars_selected"
            elif (
                calendars := await async_read_public_calendars(
                    self.hass,
                    api_key,
                    calendar_ids,
                    errors=errors,
                    placeholders=placeholders,
                )
            ) is not None:
                unique_id = api_key_unique_id(api_key)
                options = {CONF_CALENDARS: calendar_ids, CONF_PUSH_ENABLED: False}
                if reconfiguring:
                    # A new key (the old one was deleted or restricted) moves the entry.
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=unique_id,
                        data_updates={CONF_API_KEY: api_key},
                        options={**entry.options, **options},
                    )
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=", ".join(display_name(calendar) for calendar in calendars),
                    data={CONF_AUTH_TYPE: AuthType.API_KEY, CONF_API_KEY: api_key},
                    options={**DEFAULT_OPTIONS, **options},
                )
        return self.async_show_form(
            step_id="api_key",
            data_schema=api_key_schema(calendar_ids),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reauth_service_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take a new JSON key after Google refused the old one."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders = {"account": str(entry.unique_id)}
        if user_input is not None and (
            key := await async_key_from_input(self.hass, user_input, errors)
        ):
            old = ServiceAccountKey.from_info(entry.data[CONF_SERVICE_ACCOUNT_KEY])
            if key.client_email != old.client_email:
                return self.async_abort(
                    reason="wrong_service_account",
                    description_placeholders={"email": old.client_email},
                )
            subject = entry.data.get(CONF_SUBJECT)
            placeholders["email"] = key.client_email
            if (
                await async_check_service_account(
                    self.hass,
                    key,
                    subject,
                    [],
                    errors=errors,
                    placeholders=placeholders,
                )
                is not None
            ):
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_SERVICE_ACCOUNT_KEY: dict(key.info)}
                )
        return self.async_show_form(
            step_id="reauth_service_account",
            data_schema=key_schema(),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_calendars(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose the calendars to sync."""
        errors: dict[str, str] = {}
        if user_input is not None:
            known = {calendar["id"] for calendar in self._calendars}
            selected = [cid for cid in user_input[CONF_CALENDARS] if cid in known]
            if not selected:
                errors["base"] = "no_calendars_selected"
            elif self.source == SOURCE_RECONFIGURE:
                entry = self._get_reconfigure_entry()
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates=self._data,
                    options={**entry.options, CONF_CALENDARS: selected},
                )
            else:
                return self.async_create_entry(
                    title=str(self._account),
                    data={
                        **self._data,
                        CONF_WEBHOOK_ID: webhook.async_generate_id(),
                    },
                    options={**DEFAULT_OPTIONS, CONF_CALENDARS: selected},
                )
        synced = None
        if self.source == SOURCE_RECONFIGURE:
            synced = self._get_reconfigure_entry().options.get(CONF_CALENDARS, [])
        default = default_selection(self._calendars, self._given_calendars, synced)
        return self.async_show_form(
            step_id="calendars",
            data_schema=calendars_schema(self._calendars, default),
            description_placeholders={"account": str(self._account)},
            errors=errors,
        )


class GoogleCalendarSyncOptionsFlow(OptionsFlowWithReload):
    """Change the synced calendars, the sync window, push and what is shown."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the options."""
        entry: GoogleCalendarSyncConfigEntry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = options_errors(self.hass, entry.entry_id, user_input)
            if not errors:
                # Keep options owned by other steps; a cleared export field is gone.
                data = {**entry.options, **user_input}
                for key in (CONF_EXPORT_SOURCES, CONF_EXPORT_TARGET):
                    if key not in user_input:
                        data.pop(key, None)
                return self.async_create_entry(data=data)
        options = {**DEFAULT_OPTIONS, **entry.options}
        calendars: list[CalendarListEntry] = []
        if entry.state is ConfigEntryState.LOADED:
            calendars = [
                coordinator.calendar
                for coordinator in entry.runtime_data.coordinators.values()
            ]
            try:
                calendars = await entry.runtime_data.api.list_calendars()
            except GoogleCalendarApiError as err:
                _LOGGER.debug("Listing calendars failed, offering synced ones: %s", err)
        known = {calendar["id"] for calendar in calendars}
        calendars.extend(
            {"id": cid} for cid in options.get(CONF_CALENDARS, []) if cid not in known
        )
        return self.async_show_form(
            step_id="init",
            data_schema=options_schema(calendars, options),
            errors=errors,
        )
