"""The user's path in a real browser: from a new Home Assistant to two-way sync.

A real Home Assistant and the Google Calendar emulator run as processes; Debian's
Chromium, driven by Playwright, does what a person would do. Each step saves a
screenshot to tests/e2e/screenshots/ (README shows the key ones).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from .conftest import CHROMIUM, SCREENSHOTS, Process

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing; run scripts/e2e_setup to install it",
    ),
]
playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect

DEMO_USER = "demo@example.com"
OWNER = {"name": "Demo Owner", "username": "demo", "password": "demo-password"}
EDITED_SUMMARY = "Dentist (moved in Google)"
CREATED_SUMMARY = "Picnic planned in Home Assistant"
# Generous, bounded waits: a step that needs longer than this is broken.
STEP_TIMEOUT = 30_000
SYNC_TIMEOUT = 30.0


async def shot(page: Any, name: str) -> None:
    """Save a screenshot of the page as tests/e2e/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    partial = target.with_suffix(".png.tmp")
    await page.screenshot(path=str(partial), type="png")
    # Replace at once so a crashed run never leaves a half-written picture.
    os.replace(partial, target)


async def poll(
    check: Callable[[], Awaitable[Any]], what: str, timeout: float = SYNC_TIMEOUT
) -> Any:
    """Return the first truthy result of check, or fail after timeout seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (result := await check()) is None or result is False:
        if loop.time() > deadline:
            pytest.fail(f"Timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.5)
    return result


class GoogleSide:
    """What a person does in Google Calendar, through the emulator's HTTP API."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to the emulator at base_url."""
        self._session = session
        self._base_url = base_url
        self._token: str | None = None

    async def _access_token(self) -> str:
        """Return an access token of the demo user, minted by the emulator."""
        if self._token is None:
            async with self._session.post(
                f"{self._base_url}emulator/tokens", json={"email": DEMO_USER}
            ) as response:
                response.raise_for_status()
                self._token = str((await response.json())["access_token"])
        return self._token

    async def calendar_ids(self) -> list[str]:
        """List the ids of the demo user's calendars through the Calendar API v3."""
        token = await self._access_token()
        async with self._session.get(
            f"{self._base_url}calendar/v3/users/me/calendarList",
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            response.raise_for_status()
            return [item["id"] for item in (await response.json())["items"]]

    async def delivered_notifications(self, calendar_id: str) -> int:
        """Count the push notifications the emulator delivered for a calendar."""
        async with self._session.get(f"{self._base_url}emulator/channels") as response:
            response.raise_for_status()
            return sum(
                1
                for channel in (await response.json())["items"]
                if channel["calendarId"] == calendar_id
                for delivery in channel["deliveries"]
                if delivery["delivered"] and delivery["message_number"] > 1
            )

    async def events(self, calendar_id: str) -> list[dict[str, Any]]:
        """List the events of a calendar through the Calendar API v3."""
        token = await self._access_token()
        async with self._session.get(
            f"{self._base_url}calendar/v3/calendars/{quote(calendar_id, safe='')}/events",
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            response.raise_for_status()
            return list((await response.json())["items"])

    async def patch_event(
        self, calendar_id: str, event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Edit an event through the Calendar API v3, as Google's own UI would."""
        token = await self._access_token()
        async with self._session.patch(
            f"{self._base_url}calendar/v3/calendars/{quote(calendar_id, safe='')}"
            f"/events/{quote(event_id, safe='')}",
            headers={"Authorization": f"Bearer {token}"},
            json=body,
        ) as response:
            response.raise_for_status()
            return dict(await response.json())


async def complete_onboarding(page: Any, base_url: str) -> None:
    """Create the owner through the onboarding UI and accept the defaults."""
    await page.goto(base_url)
    create = page.get_by_role("button", name="Create my smart home")
    await expect(create).to_be_visible(timeout=STEP_TIMEOUT)
    await shot(page, "01-onboarding-welcome")
    await create.click()

    await page.locator("input[name=name]").fill(OWNER["name"])
    await page.locator("input[name=username]").fill(OWNER["username"])
    await page.locator("input[name=password]").fill(OWNER["password"])
    await page.locator("input[name=password_confirm]").fill(OWNER["password"])
    await shot(page, "02-onboarding-create-owner")
    await page.get_by_role("button", name="Create account").click()

    # Location, country and analytics keep their defaults.
    for marker in (
        page.get_by_text("Home location"),
        page.get_by_text("country your home is in"),
        page.locator("input[name=usage]"),
    ):
        await expect(marker).to_be_visible(timeout=STEP_TIMEOUT)
        await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Finish").click()
    await expect(page.get_by_role("link", name="Settings")).to_be_visible(
        timeout=STEP_TIMEOUT
    )


async def add_integration(page: Any, base_url: str) -> None:
    """Add Google Calendar Sync: sign in on the consent page, choose calendars."""
    await page.goto(f"{base_url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    await page.get_by_placeholder("Search for a brand name").fill(
        "Google Calendar Sync"
    )
    brand = page.locator("ha-integration-list-item", has_text="Google Calendar Sync")
    await expect(brand).to_be_visible(timeout=STEP_TIMEOUT)
    await shot(page, "03-add-integration")

    await brand.click()
    # The first step asks for the way in; signing in is the first choice.
    sign_in = page.get_by_text("Sign in with Google")
    await expect(sign_in).to_be_visible(timeout=STEP_TIMEOUT)
    # The application credentials are already there, so Home Assistant goes straight
    # to Google's (the emulator's) consent page, in a new window.
    async with page.context.expect_page(timeout=STEP_TIMEOUT) as popup_info:
        await sign_in.click()
    consent = await popup_info.value
    await expect(consent.get_by_role("button", name="Allow")).to_be_visible(
        timeout=STEP_TIMEOUT
    )
    await consent.select_option("#email", DEMO_USER)
    await shot(consent, "04-google-consent")
    # Allow redirects to /auth/external/callback, whose page closes the window.
    async with consent.expect_event("close", timeout=STEP_TIMEOUT):
        await consent.get_by_role("button", name="Allow").click()

    holidays = page.locator("ha-checkbox", has_text="Holidays")
    await expect(holidays).to_be_visible(timeout=STEP_TIMEOUT)
    # Writable calendars come selected; add the read-only holidays as well.
    await holidays.click()
    await shot(page, "05-choose-calendars")
    await page.get_by_role("button", name="Submit").click()

    finish = page.get_by_role("button", name="Skip and finish")
    await expect(finish).to_be_visible(timeout=STEP_TIMEOUT)
    await shot(page, "06-entry-created")
    await finish.click()


@pytest.mark.timeout(240)
async def test_user_journey(
    emulator_server: Process, hass_server: Process, browser_page: Any
) -> None:
    """A new user sets up the integration in the UI and sees both directions sync."""
    page = browser_page
    base_url = hass_server.url
    async with aiohttp.ClientSession() as session:
        google = GoogleSide(session, emulator_server.url)

        await complete_onboarding(page, base_url)
        await add_integration(page, base_url)

        # The calendar panel shows the demo account's events; today's are always in
        # view: a one-off, and the moved instance of a recurring meeting.
        await page.goto(f"{base_url}/calendar")
        await expect(page.get_by_text("Dentist").first).to_be_visible(
            timeout=STEP_TIMEOUT
        )
        await shot(page, "07-calendar-panel")
        # The list view (this week) shows whole titles, which the month grid cuts.
        await page.get_by_label("List (7 days)").click()
        await expect(page.get_by_text("Weekly team sync (moved)")).to_be_visible()

        # An edit in Google shows up in the open panel, pushed, without a reload.
        await page.evaluate("window.__e2e_same_page = true")
        dentist = next(
            event
            for event in await google.events(DEMO_USER)
            if event.get("summary") == "Dentist"
        )
        await google.patch_event(DEMO_USER, dentist["id"], {"summary": EDITED_SUMMARY})
        await expect(page.get_by_text(EDITED_SUMMARY).first).to_be_visible(
            timeout=STEP_TIMEOUT
        )
        assert await page.evaluate("window.__e2e_same_page === true"), (
            "the page reloaded"
        )

        # It came by push (a webhook call), not by the 15-minute poll.
        async def pushed() -> bool:
            return await google.delivered_notifications(DEMO_USER) >= 1

        await poll(pushed, "a delivered push notification", timeout=10)
        await shot(page, "08-edited-in-google")

        # An event added in the panel's dialog lands in Google.
        await page.get_by_role("button", name="Add event").click()
        dialog = page.locator("dialog-calendar-event-editor")
        await dialog.locator("input[name=summary]").fill(CREATED_SUMMARY)
        await dialog.locator("input[name=location]").fill("City park")
        await shot(page, "09-add-event-dialog")
        await dialog.get_by_role("button", name="Add event").click()
        await expect(dialog.locator("input[name=summary]")).to_be_hidden(
            timeout=STEP_TIMEOUT
        )

        async def created_in_google() -> dict[str, Any] | None:
            # In whichever writable calendar the dialog proposed (the primary one).
            for calendar_id in await google.calendar_ids():
                for event in await google.events(calendar_id):
                    if event.get("summary") == CREATED_SUMMARY:
                        return event
            return None

        created = await poll(created_in_google, "the new event in Google")
        assert created["location"] == "City park"
        # The dialog proposes the next full hour, which may fall in next week.
        start = datetime.fromisoformat(created["start"]["dateTime"]).astimezone(UTC)
        today = datetime.now(UTC).date()
        end_of_week = today + timedelta(days=(5 - today.weekday()) % 7)  # Saturday
        if start.date() > end_of_week:
            await page.get_by_label("Next").click()
        await expect(page.get_by_text(CREATED_SUMMARY).first).to_be_visible(
            timeout=STEP_TIMEOUT
        )
        await shot(page, "10-created-in-home-assistant")

    # The whole journey went without an error from the integration.
    errors = hass_server.errors_about("google_calendar_sync")
    assert not errors, "Home Assistant logged errors:\n" + "\n".join(errors)


def test_screenshots_are_referenced_in_readme() -> None:
    """README shows the key screenshots, and each one it shows exists."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = readme.read_text()
    shown = [
        line.split("](", 1)[1].split(")", 1)[0]
        for line in text.splitlines()
        if line.startswith("![") and "tests/e2e/screenshots/" in line
    ]
    assert shown, "README shows no screenshot"
    for path in shown:
        assert (readme.parent / path).is_file(), f"README shows missing {path}"
