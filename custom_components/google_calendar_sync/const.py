"""Constants for the Google Calendar Sync integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "google_calendar_sync"

OAUTH2_SCOPES: Final = ["https://www.googleapis.com/auth/calendar"]

EVENT_CHANGED: Final = f"{DOMAIN}_event_changed"

CONF_CALENDARS: Final = "calendars"
CONF_SYNC_WINDOW_DAYS: Final = "sync_window_days"
CONF_PUSH_ENABLED: Final = "push_enabled"
CONF_POLL_INTERVAL_MINUTES: Final = "poll_interval_minutes"
CONF_SAFETY_NET_HOURS: Final = "safety_net_hours"
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
DEFAULT_POLL_INTERVAL_MINUTES: Final = 15
DEFAULT_SAFETY_NET_HOURS: Final = 6
# Shown greyed out like Google shows a declined invitation.
DECLINED_COLOR: Final = "#9e9e9e"
