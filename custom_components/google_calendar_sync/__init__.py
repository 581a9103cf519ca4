"""The Google Calendar Sync integration."""

from __future__ import annotations
