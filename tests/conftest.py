"""Shared fixtures for the Google Calendar Sync tests."""

from __future__ import annotations

# Importing our package first makes pytest-homeassistant-custom-component find the
# integration instead of reporting "Integration not found".
import custom_components  # noqa: F401
import pytest

pytest_plugins = ["google_calendar_emulator.pytest_plugin"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components."""
