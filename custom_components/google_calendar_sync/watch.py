"""Open and stop watch channels at Google; the receiver learns which to accept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging
import secrets
from typing import TYPE_CHECKING
import uuid

from homeassistant.util import dt as dt_util

from .google.errors import (
    GoogleAuthError,
    GoogleCalendarApiError,
    GoogleRateLimitError,
    GoogleTransientError,
)
from .google.model import channel_expiration
from .stored import StoredChannel

if TYPE_CHECKING:
    from .google.client import GoogleCalendarApi
    from .notifications import NotificationReceiver

_LOGGER = logging.getLogger(__name__)

# Google's default and maximum channel lifetime for calendar events.
CHANNEL_TTL = timedelta(days=7)
# How long an unload waits for Google to confirm stopping the channels (seconds);
# channels it does not confirm expire by themselves.
CHANNEL_STOP_TIMEOUT = 3


class WatchRefusedError(Exception):
    """Google refused to open a channel for a reason retrying soon will not fix."""

    def __init__(self, calendar_id: str, error: GoogleCalendarApiError) -> None:
        """Keep the calendar and Google's error."""
        super().__init__(str(error))
        self.calendar_id = calendar_id
        self.error = error


class Watcher:
    """Open and stop an entry's channels; each open channel is one the receiver takes."""

    def __init__(
        self, api: GoogleCalendarApi, receiver: NotificationReceiver, title: str
    ) -> None:
        """Talk to Google through api about the channels of the entry named title."""
        self._api = api
        self._receiver = receiver
        self._title = title

    def expect(self, channel: StoredChannel) -> None:
        """Accept the notifications of a channel opened before."""
        self._receiver.expect(
            channel.channel_id,
            channel.calendar_id,
            channel.token,
            channel.resource_id or None,
        )

    async def async_open(self, calendar_id: str, address: str) -> StoredChannel:
        """Open a channel with a fresh id and secret; raise WatchRefusedError on a 4xx."""
        channel_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        # Accept the "sync" handshake, which may arrive before the watch answer.
        self._receiver.expect(channel_id, calendar_id, token)
        try:
            answer = await self._api.watch_events(
                calendar_id,
                channel_id=channel_id,
                address=address,
                token=token,
                ttl=CHANNEL_TTL,
            )
        except BaseException as err:
            self._receiver.forget(channel_id)
            _LOGGER.debug("Watching %s failed: %r", calendar_id, err)
            if isinstance(err, GoogleCalendarApiError) and _is_refusal(err):
                raise WatchRefusedError(calendar_id, err) from err
            raise
        resource_id = str(answer.get("resourceId", ""))
        self._receiver.set_resource_id(channel_id, resource_id or None)
        channel = StoredChannel(
            calendar_id=calendar_id,
            channel_id=channel_id,
            resource_id=resource_id,
            token=token,
            expiration=channel_expiration(answer) or dt_util.utcnow() + CHANNEL_TTL,
        )
        _LOGGER.debug(
            "Opened channel %s for %s until %s",
            channel_id,
            calendar_id,
            channel.expiration,
        )
        return channel

    async def async_stop_all(self, channels: list[StoredChannel]) -> None:
        """Stop channels at Google, waiting at most CHANNEL_STOP_TIMEOUT seconds."""
        try:
            async with asyncio.timeout(CHANNEL_STOP_TIMEOUT):
                await asyncio.gather(
                    *(self.async_stop(channel) for channel in channels)
                )
        except TimeoutError:
            _LOGGER.warning(
                "Google did not confirm stopping the push channels of %s within %d "
                "seconds; they expire by themselves",
                self._title,
                CHANNEL_STOP_TIMEOUT,
            )

    async def async_stop(self, channel: StoredChannel) -> None:
        """Stop a channel at Google; errors are logged, never raised."""
        self._receiver.forget(channel.channel_id)
        try:
            await self._api.stop_channel(channel.channel_id, channel.resource_id)
        except GoogleCalendarApiError as err:
            # An expired or already stopped channel is gone anyway.
            _LOGGER.debug("Stopping channel %s failed: %s", channel.channel_id, err)
        else:
            _LOGGER.debug("Stopped channel %s", channel.channel_id)


def _is_refusal(err: GoogleCalendarApiError) -> bool:
    """Return True for a 4xx that retrying in minutes will not fix."""
    if isinstance(err, GoogleTransientError | GoogleRateLimitError | GoogleAuthError):
        return False
    return err.status is not None and 400 <= err.status < 500
