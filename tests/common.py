"""Test support shared by the tests and the benchmarks."""

from __future__ import annotations

import time
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import CONF_WEBHOOK_ID, DOMAIN


def linked_entry(
    account: str,
    token: dict[str, Any],
    *,
    webhook_id: str,
    options: dict[str, Any],
) -> MockConfigEntry:
    """Return the config entry the OAuth flow creates for account with token."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=account,
        unique_id=account,
        data={
            "auth_implementation": DOMAIN,
            # Home Assistant's OAuth flow stores when the access token runs out.
            "token": {**token, "expires_at": time.time() + token["expires_in"]},
            CONF_WEBHOOK_ID: webhook_id,
        },
        options=options,
    )
