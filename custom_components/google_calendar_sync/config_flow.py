"""Config flow for Google Calendar Sync: a way in, then the calendars to sync.

The ways in: a user's OAuth grant, a service account's JSON key, or an API key for
public calendars (read only, no calendar step: the user names the calendars).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import hashlib
import logging
from typing import Any, override

from homeassistant.components import webhook
from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_API_KEY, CONF_TOKEN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    FileSelector,
    FileSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .const import (
    CONF_AUTH_TYPE,
    CONF_CALENDARS,
    CONF_EXPORT_SOURCES,
    CONF_EXPORT_TARGET,
    CONF_FREE_EVENTS_BUSY,
    CONF_PUSH_ENABLED,
    CONF_SERVICE_ACCOUNT_KEY,
    CONF_SHOW_DECLINED,
    CONF_SUBJECT,
    CONF_SYNC_WINDOW_DAYS,
    CONF_WEBHOOK_ID,
    DEFAULT_SYNC_WINDOW_DAYS,
    DOMAIN,
    OAUTH2_SCOPES,
    AuthType,
)
from .coordinator import WRITABLE_ROLES, GoogleCalendarSyncConfigEntry
from .credentials import async_api_key_api, async_service_account_api, auth_type
from .export_routes import configured_routes, looping_routes, option_routes
from .google.addresses import calendar_ids_from_text
from .google.auth import InvalidServiceAccountKeyError, ServiceAccountKey
from .google.client import GoogleCalendarApi
from .google.endpoints import endpoints_from_environment
from .google.errors import (
    GoogleAuthError,
    GoogleBadRequestError,
    GoogleCalendarApiError,
    GoogleForbiddenError,
    GoogleNotFoundError,
)
from .google.model import display_name
from .google.transport import StaticTokenAuth

_LOGGER = logging.getLogger(__name__)

DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_SYNC_WINDOW_DAYS: DEFAULT_SYNC_WINDOW_DAYS,
    CONF_PUSH_ENABLED: True,
    CONF_SHOW_DECLINED: False,
    CONF_FREE_EVENTS_BUSY: [],
}


# Service account form: the JSON key (uploaded or pasted), a user to act for, calendars.
CONF_KEY_FILE = "key_file"
CONF_KEY_JSON = "key_json"
CONF_CALENDAR_IDS = "calendar_ids"


def _calendar_options(
    calendars: Iterable[Mapping[str, Any]],
) -> list[SelectOptionDict]:
    """Return select options naming calendars the way the user knows them."""
    return [
        SelectOptionDict(value=calendar["id"], label=display_name(calendar))
        for calendar in calendars
    ]


def _calendars_schema(
    calendars: list[dict[str, Any]], default: list[str]
) -> probatio.Schema:
    """Return a form to pick calendars from the account's calendar list."""
    return probatio.Schema(
        {
            probatio.Required(CONF_CALENDARS, default=default): probatio.All(
                SelectSelector(
                    SelectSelectorConfig(
                        options=_calendar_options(calendars),
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                msg="invalid_calendars",
            )
        }
    )


def _whole_number(*, maximum: int, unit: str, error: str) -> probatio.All[int]:
    """Return a selector for a whole number from 1 to maximum.

    A bad value is refused with the error's key, which the frontend shows
    translated (options.error), instead of voluptuous's text.
    """
    return probatio.All(
        NumberSelector(
            NumberSelectorConfig(
                min=1,
                max=maximum,
                step=1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=unit,
            )
        ),
        probatio.Coerce(int),
        msg=error,
    )


def _default_selection(
    calendars: list[dict[str, Any]], given: Iterable[str] = ()
) -> list[str]:
    """Return the writable calendars, the primary one and those the user named."""
    named = set(given)
    return [
        calendar["id"]
        for calendar in calendars
        if calendar.get("primary")
        or calendar.get("accessRole") in WRITABLE_ROLES
        or calendar["id"] in named
    ]


def _key_schema() -> dict[probatio.Marker, Any]:
    """Return the fields that take a service account's JSON key."""
    return {
        probatio.Optional(CONF_KEY_FILE): FileSelector(
            FileSelectorConfig(accept=".json,application/json")
        ),
        probatio.Optional(CONF_KEY_JSON): TextSelector(
            TextSelectorConfig(multiline=True)
        ),
    }


def _service_account_schema(subject: str | None, calendar_ids: list[str]) -> Any:
    """Return the service account form, filled with what is known."""
    return probatio.Schema(
        {
            **_key_schema(),
            probatio.Optional(
                CONF_SUBJECT, description={"suggested_value": subject}
            ): TextSelector(TextSelectorConfig(type=TextSelectorType.EMAIL)),
            probatio.Optional(
                CONF_CALENDAR_IDS, description={"suggested_value": calendar_ids}
            ): TextSelector(TextSelectorConfig(multiple=True)),
        }
    )


def _api_key_schema(calendars: list[str]) -> Any:
    """Return the public calendar form, filled with what is known."""
    return probatio.Schema(
        {
            probatio.Optional(CONF_API_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            probatio.Required(
                CONF_CALENDARS, description={"suggested_value": calendars}
            ): TextSelector(TextSelectorConfig(multiple=True)),
        }
    )


def api_key_unique_id(api_key: str) -> str:
    """Return the unique id of an API key entry (a digest: the key is a secret)."""
    return "api_key_" + hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _read_uploaded_file(hass: HomeAssistant, file_id: str) -> str:
    """Return the text of an uploaded file (blocking: run in the executor)."""
    with process_uploaded_file(hass, file_id) as path:
        return path.read_text(encoding="utf-8")


def _export_errors(
    hass: HomeAssistant,
    entry: GoogleCalendarSyncConfigEntry,
    user_input: dict[str, Any],
) -> dict[str, str]:
    """Refuse an export without a synced target, or one that loops."""
    sources = user_input.get(CONF_EXPORT_SOURCES)
    target = user_input.get(CONF_EXPORT_TARGET)
    if not sources:
        return {}
    if not target:
        return {CONF_EXPORT_TARGET: "export_target_missing"}
    if target not in user_input.get(CONF_CALENDARS, []):
        return {CONF_EXPORT_TARGET: "export_target_not_synced"}
    routes = option_routes(hass, user_input)
    if any(source == target for source, target in routes):
        return {CONF_EXPORT_SOURCES: "export_into_itself"}
    if looping_routes(configured_routes(hass, except_entry_id=entry.entry_id), routes):
        return {CONF_EXPORT_SOURCES: "export_loop"}
    return {}


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
        self._calendars: list[dict[str, Any]] = []
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

    async def _async_key_from_input(
        self, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> ServiceAccountKey | None:
        """Return the uploaded or pasted JSON key; record why not in errors."""
        if file_id := user_input.get(CONF_KEY_FILE):
            text = await self.hass.async_add_executor_job(
                _read_uploaded_file, self.hass, file_id
            )
        elif not (text := user_input.get(CONF_KEY_JSON, "")).strip():
            errors["base"] = "key_required"
            return None
        try:
            return ServiceAccountKey.from_json(text)
        except InvalidServiceAccountKeyError as err:
            _LOGGER.debug("Not a service account key: %s", err)
            errors["base"] = "invalid_key"
            return None

    async def _async_check_service_account(
        self,
        key: ServiceAccountKey,
        subject: str | None,
        calendar_ids: list[str],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> list[dict[str, Any]] | None:
        """Sign in as the service account, add the named calendars, list them all."""
        api = await async_service_account_api(self.hass, key, subject)
        try:
            for calendar_id in calendar_ids:
                try:
                    await api.add_to_calendar_list(calendar_id)
                except (GoogleNotFoundError, GoogleForbiddenError) as err:
                    _LOGGER.debug("Calendar %s is not shared: %s", calendar_id, err)
                    placeholders["calendar"] = calendar_id
                    errors[CONF_CALENDAR_IDS] = "calendar_not_shared"
                    return None
            calendars = await api.list_calendars()
        except GoogleAuthError as err:
            _LOGGER.debug("Google refused the service account: %s", err)
            placeholders["error"] = err.message
            errors["base"] = (
                "delegation_refused"
                if err.reason == "unauthorized_client"
                else "key_refused"
            )
            return None
        except GoogleCalendarApiError as err:
            _LOGGER.debug("Reaching Google as the service account failed: %s", err)
            errors["base"] = "cannot_connect"
            return None
        return calendars

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
            if reconfiguring and not (
                user_input.get(CONF_KEY_FILE) or user_input.get(CONF_KEY_JSON)
            ):
                # Reconfiguring keeps the key unless a new one is given.
                key = ServiceAccountKey.from_info(entry.data[CONF_SERVICE_ACCOUNT_KEY])
            else:
                key = await self._async_key_from_input(user_input, errors)
            if key is not None:
                placeholders["email"] = key.client_email
                calendars = await self._async_check_service_account(
                    key, subject, calendar_ids, errors, placeholders
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
            data_schema=_service_account_schema(subject, calendar_ids),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def _async_read_public_calendars(
        self,
        api_key: str,
        calendar_ids: list[str],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> list[dict[str, Any]] | None:
        """Read each calendar with the key; record why not in errors."""
        api = await async_api_key_api(self.hass, api_key)
        calendars: list[dict[str, Any]] = []
        for calendar_id in calendar_ids:
            try:
                calendars.append(await api.get_calendar_resource(calendar_id))
            except GoogleBadRequestError as err:
                _LOGGER.debug("Google refused the API key: %s", err)
                errors[CONF_API_KEY] = "invalid_api_key"
                return None
            except GoogleForbiddenError as err:
                _LOGGER.debug("Google refused the API key: %s", err)
                placeholders["error"] = err.message
                errors[CONF_API_KEY] = "api_key_restricted"
                return None
            except GoogleNotFoundError:
                placeholders["calendar"] = calendar_id
                errors[CONF_CALENDARS] = "calendar_not_public"
                return None
            except GoogleCalendarApiError as err:
                _LOGGER.debug(
                    "Reading %s with the API key failed: %s", calendar_id, err
                )
                errors["base"] = "cannot_connect"
                return None
        return calendars

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
            calendar_ids = list(
                dict.fromkeys(
                    calendar_id
                    for text in user_input.get(CONF_CALENDARS, [])
                    for calendar_id in calendar_ids_from_text(text)
                )
            )
            api_key = (user_input.get(CONF_API_KEY) or "").strip()
            if reconfiguring and not api_key:
                # Reconfiguring keeps the key unless a new one is given.
                api_key = entry.data[CONF_API_KEY]
            if not api_key:
                errors[CONF_API_KEY] = "api_key_required"
            elif not calendar_ids:
                errors[CONF_CALENDARS] = "no_calendars_selected"
            elif (
                calendars := await self._async_read_public_calendars(
                    api_key, calendar_ids, errors, placeholders
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
            data_schema=_api_key_schema(calendar_ids),
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
            key := await self._async_key_from_input(user_input, errors)
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
                await self._async_check_service_account(
                    key, subject, [], errors, placeholders
                )
                is not None
            ):
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_SERVICE_ACCOUNT_KEY: dict(key.info)}
                )
        return self.async_show_form(
            step_id="reauth_service_account",
            data_schema=probatio.Schema(_key_schema()),
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
        if self.source == SOURCE_RECONFIGURE:
            default = list(
                dict.fromkeys(
                    [
                        *self._get_reconfigure_entry().options.get(CONF_CALENDARS, []),
                        *self._given_calendars,
                    ]
                )
            )
        else:
            default = _default_selection(self._calendars, self._given_calendars)
        return self.async_show_form(
            step_id="calendars",
            data_schema=_calendars_schema(self._calendars, default),
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
        options = {**DEFAULT_OPTIONS, **entry.options}
        errors: dict[str, str] = {}
        if user_input is not None:
            if not user_input.get(CONF_CALENDARS):
                errors["base"] = "no_calendars_selected"
            errors.update(_export_errors(self.hass, entry, user_input))
            if not errors:
                # Keep options owned by other steps; a cleared export field is gone.
                data = {**entry.options, **user_input}
                for key in (CONF_EXPORT_SOURCES, CONF_EXPORT_TARGET):
                    if key not in user_input:
                        data.pop(key, None)
                return self.async_create_entry(data=data)
        selected: list[str] = list(options.get(CONF_CALENDARS, []))
        calendars: list[dict[str, Any]] = []
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
        calendars.extend({"id": cid} for cid in selected if cid not in known)
        schema = _calendars_schema(calendars, selected).extend(
            {
                probatio.Required(
                    CONF_SYNC_WINDOW_DAYS, default=options[CONF_SYNC_WINDOW_DAYS]
                ): _whole_number(
                    maximum=3650, unit="d", error="invalid_sync_window_days"
                ),
                probatio.Required(
                    CONF_PUSH_ENABLED, default=options[CONF_PUSH_ENABLED]
                ): BooleanSelector(),
                probatio.Required(
                    CONF_SHOW_DECLINED, default=options[CONF_SHOW_DECLINED]
                ): BooleanSelector(),
                probatio.Required(
                    CONF_FREE_EVENTS_BUSY, default=options[CONF_FREE_EVENTS_BUSY]
                ): probatio.All(
                    SelectSelector(
                        SelectSelectorConfig(
                            options=_calendar_options(calendars),
                            multiple=True,
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    ),
                    msg="invalid_free_events_busy",
                ),
                # Automatic export of Home Assistant calendars into a Google one.
                probatio.Optional(
                    CONF_EXPORT_SOURCES,
                    description={"suggested_value": options.get(CONF_EXPORT_SOURCES)},
                ): probatio.All(
                    EntitySelector(
                        EntitySelectorConfig(domain="calendar", multiple=True)
                    ),
                    msg="invalid_export_sources",
                ),
                probatio.Optional(
                    CONF_EXPORT_TARGET,
                    description={"suggested_value": options.get(CONF_EXPORT_TARGET)},
                ): probatio.All(
                    SelectSelector(
                        SelectSelectorConfig(
                            options=_calendar_options(
                                calendar
                                for calendar in calendars
                                if calendar.get("accessRole") in WRITABLE_ROLES
                            ),
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    ),
                    msg="invalid_export_target",
                ),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema, errors=errors)
