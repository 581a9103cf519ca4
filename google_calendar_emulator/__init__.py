"""A Google Calendar API v3 emulator for tests and local development."""

from __future__ import annotations

from .errors import ApiError
from .faults import Fault, FaultInjector, FaultKind
from .model import CalendarModel
from .requests_log import LoggedRequest, RequestLog
from .server import GoogleCalendarEmulator

__all__ = [
    "ApiError",
    "CalendarModel",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "GoogleCalendarEmulator",
    "LoggedRequest",
    "RequestLog",
]
