"""Push notifications: where Google posts them, and what it posts, checked first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
import hmac
from http import HTTPStatus
import logging
from typing import Any

from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError, get_url

from .const import CONF_WEBHOOK_ID

_LOGGER = logging.getLogger(__name__)

CONF_CLOUDHOOK_URL = "cloudhook_url"

HEADER_CHANNEL_ID = "X-Goog-Channel-ID"
HEADER_CHANNEL_TOKEN = "X-Goog-Channel-Token"  # noqa: S105 - a header name
HEADER_RESOURCE_ID = "X-Goog-Resource-ID"
HEADER_RESOURCE_STATE = "X-Goog-Resource-State"
HEADER_MESSAGE_NUMBER = "X-Goog-Message-Number"

RESOURCE_STATE_SYNC = "sync"
# What Google sends in X-Goog-Resource-State for a watched collection of events.
RESOURCE_STATES = frozenset({RESOURCE_STATE_SYNC, "exists", "not_exists"})
_NOTIFICATION_HEADERS = (
    HEADER_CHANNEL_ID,
    HEADER_CHANNEL_TOKEN,
    HEADER_RESOURCE_ID,
    HEADER_RESOURCE_STATE,
    HEADER_MESSAGE_NUMBER,
)


@dataclass(slots=True)
class _Acceptor:
    """What a notification for one channel id must carry."""

    calendar_id: str
    token: str
    resource_id: str | None  # unknown until the watch answer (sync may come first)


def _is_text(value: str) -> bool:
    """Return True if a header value came as valid UTF-8."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class NotificationReceiver:
    """Accept the notifications of known channels; a genuine change calls on_change.

    Forgeries, unknown channels and malformed headers are refused without any API
    call, so a flood of them costs Google nothing.
    """

    def __init__(self, title: str, on_change: Callable[[str], None]) -> None:
        """Receive for the entry titled title; on_change gets the calendar id."""
        self._title = title
        self._on_change = on_change
        self._acceptors: dict[str, _Acceptor] = {}
        self._logged_rejections: set[str] = set()
        self.notifications_accepted = 0
        self.syncs_requested = 0
        self.rejections: Counter[str] = Counter()

    def expect(
        self,
        channel_id: str,
        calendar_id: str,
        token: str,
        resource_id: str | None = None,
    ) -> None:
        """Accept notifications of a channel (resource id None: not known yet)."""
        self._acceptors[channel_id] = _Acceptor(calendar_id, token, resource_id)

    def set_resource_id(self, channel_id: str, resource_id: str | None) -> None:
        """Check the resource id of a channel once Google named it."""
        self._acceptors[channel_id].resource_id = resource_id

    def forget(self, channel_id: str) -> None:
        """Refuse the notifications of a channel from now on."""
        self._acceptors.pop(channel_id, None)

    def forget_all(self) -> None:
        """Refuse every notification from now on."""
        self._acceptors.clear()

    def diagnostics(self) -> dict[str, Any]:
        """Return what was accepted and refused."""
        return {
            "notifications_accepted": self.notifications_accepted,
            "syncs_requested": self.syncs_requested,
            "notifications_rejected": dict(sorted(self.rejections.items())),
        }

    async def async_handle_webhook(
        self, hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        """Answer a Google notification at once; the sync runs after the answer."""
        headers = request.headers
        channel_id = headers.get(HEADER_CHANNEL_ID)
        state = headers.get(HEADER_RESOURCE_STATE)
        if not channel_id or not state:
            return self._reject("missing_headers", HTTPStatus.BAD_REQUEST)
        if not all(_is_text(headers.get(name, "")) for name in _NOTIFICATION_HEADERS):
            # Bytes that are not UTF-8 arrive as surrogates and cannot be compared.
            return self._reject("malformed_headers", HTTPStatus.BAD_REQUEST)
        if (acceptor := self._acceptors.get(channel_id)) is None:
            return self._reject("unknown_channel", HTTPStatus.NOT_FOUND)
        token = headers.get(HEADER_CHANNEL_TOKEN, "")
        if not hmac.compare_digest(token.encode(), acceptor.token.encode()):
            return self._reject("bad_token", HTTPStatus.FORBIDDEN)
        resource_id = headers.get(HEADER_RESOURCE_ID)
        if acceptor.resource_id is not None and resource_id != acceptor.resource_id:
            return self._reject("resource_mismatch", HTTPStatus.BAD_REQUEST)
        if (
            state not in RESOURCE_STATES
            or not headers.get(HEADER_MESSAGE_NUMBER, "1").isdigit()
        ):
            return self._reject("malformed_notification", HTTPStatus.BAD_REQUEST)
        self.notifications_accepted += 1
        if state == RESOURCE_STATE_SYNC:
            # The handshake sent when a channel opens: nothing changed yet.
            return Response(status=HTTPStatus.OK)
        # "exists" covers creation, edits and deletion. Message numbers are not used
        # to skip anything: the sync is incremental, so duplicates cost one request.
        self.syncs_requested += 1
        self._on_change(acceptor.calendar_id)
        return Response(status=HTTPStatus.OK)

    def _reject(self, reason: str, status: HTTPStatus) -> Response:
        """Refuse a notification without any API call, logging each reason once."""
        self.rejections[reason] += 1
        if reason not in self._logged_rejections:
            self._logged_rejections.add(reason)
            _LOGGER.debug(
                "Refused a push notification for %s (%s); further ones are not logged",
                self._title,
                reason,
            )
        return Response(status=status)


async def async_webhook_address(
    hass: HomeAssistant, entry: ConfigEntry[Any], *, allow_insecure: bool
) -> tuple[str | None, str | None]:
    """Return the public URL Google should post to and its kind, None if none.

    A Home Assistant Cloud subscription gives a cloudhook (kept in the entry);
    otherwise an external HTTPS URL, or with allow_insecure (the emulator) any.
    """
    webhook_id = str(entry.data[CONF_WEBHOOK_ID])
    if "cloud" in hass.config.components:
        from homeassistant.components import cloud

        if cloud.async_active_subscription(hass):
            if url := entry.data.get(CONF_CLOUDHOOK_URL):
                return str(url), "cloudhook"
            if cloud.async_is_connected(hass):
                try:
                    url = await cloud.async_get_or_create_cloudhook(hass, webhook_id)
                except cloud.CloudNotAvailable as err:
                    _LOGGER.debug("No cloudhook: %s", err)
                else:
                    hass.config_entries.async_update_entry(
                        entry, data={**entry.data, CONF_CLOUDHOOK_URL: url}
                    )
                    return str(url), "cloudhook"
    try:
        if allow_insecure:
            base = get_url(hass, allow_cloud=False, prefer_external=True)
        else:
            # Google only posts to HTTPS addresses with a valid certificate.
            base = get_url(
                hass,
                allow_internal=False,
                allow_cloud=False,
                allow_ip=False,
                require_ssl=True,
            )
    except NoURLAvailableError:
        return None, None
    kind = "insecure" if allow_insecure else "external"
    return f"{base}{webhook.async_generate_path(webhook_id)}", kind


async def async_remove_cloudhook(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Delete the cloudhook of a removed entry."""
    if CONF_CLOUDHOOK_URL not in entry.data or "cloud" not in hass.config.components:
        return
    from homeassistant.components import cloud

    try:
        await cloud.async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
    except cloud.CloudNotAvailable:
        _LOGGER.debug("Home Assistant Cloud not available to delete the cloudhook")
