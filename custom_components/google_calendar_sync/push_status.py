"""How push is doing: why it is down (repair issue) and the state of each channel."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

ISSUE_NO_URL = "push_unavailable"
ISSUE_WATCH_REFUSED = "push_refused"

REDACTED = "**REDACTED**"


class PushFailure(StrEnum):
    """Why push is not live."""

    NO_URL = "no_url"
    WATCH_REFUSED = "watch_refused"
    TEMPORARY = "temporary"


class ChannelState(StrEnum):
    """State of a watch channel as shown in diagnostics."""

    LIVE = "live"
    RENEWAL_DUE = "renewal_due"
    EXPIRED = "expired"


def channel_state(
    expiration: datetime, renewal_margin: timedelta, now: datetime
) -> ChannelState:
    """Return the state of a channel expiring then, renewed a margin before."""
    if expiration <= now:
        return ChannelState.EXPIRED
    if expiration - renewal_margin <= now:
        return ChannelState.RENEWAL_DUE
    return ChannelState.LIVE


def push_issue_id(entry_id: str) -> str:
    """Return the repair issue id used for an entry's push problems."""
    return f"push_unavailable_{entry_id}"


@callback
def async_delete_push_issue(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the push repair issue of an entry (push disabled or entry removed)."""
    ir.async_delete_issue(hass, DOMAIN, push_issue_id(entry_id))


@callback
def async_report_push_failure(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    failure: PushFailure | None,
    detail: str | None,
) -> None:
    """Raise the repair issue of a lasting failure; clear it once push is live."""
    if failure is None:
        async_delete_push_issue(hass, entry.entry_id)
        return
    if failure is PushFailure.TEMPORARY:
        # Retried within minutes; not worth bothering the user.
        _LOGGER.debug("Push for %s failed for now: %s", entry.title, detail)
        return
    _LOGGER.info(
        "Push for %s is unavailable (%s); polling instead", entry.title, failure
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        push_issue_id(entry.entry_id),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=(
            ISSUE_NO_URL if failure is PushFailure.NO_URL else ISSUE_WATCH_REFUSED
        ),
        translation_placeholders={"title": entry.title, "error": detail or ""},
    )
