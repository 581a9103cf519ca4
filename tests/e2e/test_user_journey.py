"""The user's path in a real browser: from a new Home Assistant to two-way sync.

A real Home Assistant and the Google Calendar emulator run as processes; Debian's
Chromium, driven by Playwright, does what a person would do. The demo data and the
browser's clock stand at three times of day (just after midnight, noon, just before
midnight): nothing may depend on the hour. Each step takes a screenshot, kept with the
test's files (scripts/screenshots refreshes README's pictures from the noon run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import expect
import pytest

from .conftest import (
    STEP_TIMEOUT,
    TIME_ZONE,
    EmulatorServer,
    Process,
    Shot,
    complete_onboarding,
    open_calendar_list,
)

DEMO_USER = "demo@example.com"
EDITED_SUMMARY = "Dentist (moved in Google)"
CREATED_SUMMARY = "Picnic planned in Home Assistant"
AUTOMATION = "Tell me about changes in Google"
AUTOMATION_ENTITY = "automation.tell_me_about_changes_in_google"
AUTOMATION_YAML = f"""alias: {AUTOMATION}
description: Made in the automation editor by the browser test.
triggers:
  - trigger: event
    event_type: google_calendar_sync_event_changed
actions:
  - action: persistent_notification.create
    data:
      title: Changed in Google
      message: "{{{{ trigger.event.data.summary }}}}"
"""
SYNC_TIMEOUT = 30.0


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


async def add_integration(page: Any, base_url: str, shot: Shot) -> None:
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


async def create_automation_in_editor(
    page: Any, base_url: str, config_dir: Path
) -> None:
    """Write an automation in the automation editor's YAML mode and save it."""
    await page.goto(f"{base_url}/config/automation/edit/new")
    await page.get_by_role("button", name="Menu").last.click()
    await page.get_by_role("menuitem", name="Edit in YAML").click()
    editor = page.locator("ha-code-editor .cm-content").first
    await expect(editor).to_be_visible(timeout=STEP_TIMEOUT)
    await editor.click()
    await page.keyboard.press("Control+a")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(AUTOMATION_YAML)
    # The alias names it: Save stores it at once.
    await page.get_by_role("button", name="Save").last.click()

    async def saved() -> bool:
        return AUTOMATION in (config_dir / "automations.yaml").read_text()

    await poll(saved, "the automation in automations.yaml")


async def state_of(page: Any, entity_id: str) -> dict[str, Any] | None:
    """Return an entity's state as the frontend knows it."""
    state: dict[str, Any] | None = await page.evaluate(
        "id => document.querySelector('home-assistant').hass.states[id] ?? null",
        entity_id,
    )
    return state


@pytest.mark.parametrize(
    "demo_clock",
    [
        pytest.param(time(0, 30), id="after-midnight"),
        pytest.param(time(12, 0), id="noon"),
        pytest.param(time(23, 30), id="before-midnight"),
    ],
    indirect=True,
)
async def test_user_journey(
    emulator_server: EmulatorServer,
    hass_server: Process,
    browser_page: Any,
    shot: Shot,
    demo_clock: datetime,
) -> None:
    """A new user sets up the integration in the UI and sees both directions sync."""
    page = browser_page
    base_url = hass_server.url
    assert hass_server.app_log is not None
    config_dir = hass_server.app_log.parent
    async with aiohttp.ClientSession() as session:
        google = GoogleSide(session, emulator_server.url)

        await complete_onboarding(page, base_url, shot)
        await add_integration(page, base_url, shot)
        # configuration.yaml includes automations.yaml: what the editor saves runs.
        await create_automation_in_editor(page, base_url, config_dir)

        # The calendar panel shows the demo account's events; the list view (this
        # week) shows today's whole, where the month grid may fold a busy day.
        await open_calendar_list(page, base_url)
        await expect(page.get_by_text("Dentist").first).to_be_visible(
            timeout=STEP_TIMEOUT
        )
        await expect(page.get_by_text("Weekly team sync (moved)")).to_be_visible()
        await shot(page, "07-calendar-panel")

        # scripts/develop restarted: the emulator continues from its state file, so
        # Home Assistant's tokens and watch channel still work.
        await asyncio.to_thread(emulator_server.restart)

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

        # The automation made in the editor ran on the change.
        async def automation_ran() -> bool:
            state = await state_of(page, AUTOMATION_ENTITY)
            return state is not None and bool(state["attributes"]["last_triggered"])

        await poll(automation_ran, "the automation to run")

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
        # The list shows today and the six days after it; the dialog proposes a start
        # around the browser's clock, which may fall in the list before or after.
        zone = ZoneInfo(TIME_ZONE)
        start = datetime.fromisoformat(created["start"]["dateTime"]).astimezone(zone)
        today = demo_clock.date()
        if start.date() < today:
            await page.get_by_label("Previous").click()
        elif start.date() > today + timedelta(days=6):
            await page.get_by_label("Next").click()
        await expect(page.get_by_text(CREATED_SUMMARY).first).to_be_visible(
            timeout=STEP_TIMEOUT
        )
        await shot(page, "10-created-in-home-assistant")

    # Neither the integration nor the demo's configuration warned or failed.
    problems = hass_server.problems()
    assert not problems, "home-assistant.log:\n" + "\n".join(problems)


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
