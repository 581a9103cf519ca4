"""Constants for the Google Calendar Sync integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

DOMAIN: Final = "google_calendar_sync"

OAUTH2_SCOPES: Final = ["https://www.googleapis.com/auth/calendar"]

EVENT_CHANGED: Final = f"{DOMAIN}_event_changed"

CONF_CALENDARS: Final = "calendars"
CONF_SYNC_WINDOW_DAYS: Final = "sync_window_days"
CONF_PUSH_ENABLED: Final = "push_enabled"
CONF_EXPORT_SOURCES: Final = "export_sources"
CONF_EXPORT_TARGET: Final = "export_target"
CONF_WEBHOOK_ID: Final = "webhook_id"
CONF_AUTH_TYPE: Final = "auth_type"
CONF_SERVICE_ACCOUNT_KEY: Final = "service_account_key"
CONF_SUBJECT: Final = "subject"


class AuthType(StrEnum):
    """How an entry reaches Google (entries without auth_type are OAuth)."""

    OAUTH = "oauth"
    SERVICE_ACCOUNT = "service_account"
    API_KEY = "api_key"


# Declined invitations: hidden (False, like Google's default) or shown greyed out in
# a calendar of their own.
CONF_SHOW_DECLINED: Final = "show_declined"
# Calendars whose events marked free still make the calendar's state "on".
CONF_FREE_EVENTS_BUSY: Final = "free_events_busy"

DEFAULT_SYNC_WINDOW_DAYS: Final = 365
# Fixed, as Home Assistant wants (no user-set polling intervals; an automation can
# call homeassistant.update_entity for more): how often a calendar is polled while
# push is off or unavailable, and while push is live, to catch a lost notification.
POLL_INTERVAL: Final = timedelta(minutes=15)
SAFETY_NET_INTERVAL: Final = timedelta(hours=6)
# Shown greyed out like Google shows a declined invitation.
DECLINED_COLOR: Final = "#9e9e9e"
