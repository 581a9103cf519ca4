"""Push status: a repair issue while push is down for good, and each channel's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.google_calendar_sync.const import DOMAIN
from custom_components.google_calendar_sync.push_status import (
    ChannelState,
    PushFailure,
    async_delete_push_issue,
    async_report_push_failure,
    channel_state,
)

from .common import push_issue

EXPIRES = datetime(2030, 1, 8, 12, tzinfo=UTC)
MARGIN = timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (EXPIRES - MARGIN - timedelta(seconds=1), ChannelState.LIVE),
        (EXPIRES - MARGIN, ChannelState.RENEWAL_DUE),
        (EXPIRES - timedelta(seconds=1), ChannelState.RENEWAL_DUE),
        (EXPIRES, ChannelState.EXPIRED),
    ],
)
def test_a_channel_is_due_a_margin_before_it_expires(
    now: datetime, state: ChannelState
) -> None:
    assert channel_state(EXPIRES, MARGIN, now) is state


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return an entry of the integration."""
    entry = MockConfigEntry(domain=DOMAIN, title="user@example.com")
    entry.add_to_hass(hass)
    return entry


@pytest.mark.parametrize(
    ("failure", "translation_key"),
    [
        (PushFailure.NO_URL, "push_unavailable"),
        (PushFailure.WATCH_REFUSED, "push_refused"),
    ],
)
async def test_a_lasting_failure_raises_an_issue_until_push_is_live(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    failure: PushFailure,
    translation_key: str,
) -> None:
    async_report_push_failure(hass, entry, failure, "Google said no")

    issue = push_issue(hass)
    assert issue is not None
    assert issue.translation_key == translation_key
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "title": "user@example.com",
        "error": "Google said no",
    }

    async_report_push_failure(hass, entry, None, None)
    assert push_issue(hass) is None


async def test_a_temporary_failure_raises_no_issue(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    async_report_push_failure(hass, entry, PushFailure.TEMPORARY, "503")

    assert push_issue(hass) is None


async def test_the_issue_goes_with_the_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    async_report_push_failure(hass, entry, PushFailure.NO_URL, None)

    async_delete_push_issue(hass, entry.entry_id)

    assert push_issue(hass) is None
