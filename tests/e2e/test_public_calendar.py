"""A public calendar by API key in a real browser: no sign-in, its events in the panel.

Uses the demo seed's public "Football club" calendar and its API key.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect
import pytest

from google_calendar_emulator.demo import DEMO_API_KEY, PUBLIC_CALENDAR

from .conftest import STEP_TIMEOUT, Process, complete_onboarding, open_calendar_list


@pytest.mark.timeout(240)
async def test_public_calendar_by_api_key(
    emulator_server: Process, hass_server: Process, browser_page: Any
) -> None:
    """Add the public calendar with the API key and see its matches, read only."""
    page = browser_page
    base_url = hass_server.url
    await complete_onboarding(page, base_url)

    await page.goto(f"{base_url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    await page.get_by_placeholder("Search for a brand name").fill(
        "Google Calendar Sync"
    )
    await page.locator(
        "ha-integration-list-item", has_text="Google Calendar Sync"
    ).click()
    public = page.get_by_text("Public calendar (API key, read only)")
    await expect(public).to_be_visible(timeout=STEP_TIMEOUT)
    await public.click()

    await page.locator("input[name=api_key]").fill(DEMO_API_KEY)
    calendars = page.locator("ha-selector-text", has_text="Calendars")
    if not await calendars.locator("input").count():
        await calendars.get_by_role("button").first.click()
    await calendars.locator("input").first.fill(PUBLIC_CALENDAR)
    await page.get_by_role("button", name="Submit").click()

    finish = page.get_by_role("button", name="Skip and finish")
    await expect(finish).to_be_visible(timeout=STEP_TIMEOUT)
    await finish.click()

    # The panel's list view (this week) shows today's home match and the away match.
    await open_calendar_list(page, base_url)
    await expect(page.get_by_text("Home match").first).to_be_visible(
        timeout=STEP_TIMEOUT
    )
    await expect(page.get_by_text("Away match").first).to_be_visible()
    # Read only: no calendar in Home Assistant can take a new event.
    await expect(page.get_by_role("button", name="Add event")).to_have_count(0)
