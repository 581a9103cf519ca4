"""An automation built in the UI editor on an event entity runs on a change in Google.

Home Assistant and the emulator run as processes (tests/e2e/conftest.py). The owner
and the integration are set up through Home Assistant's HTTP API (the user journey
test walks those screens); the automation is built in the automation editor with
Chromium: trigger *Event received* on *Primary calendar changes*, event type
*Updated*. Renaming an event in the emulator must run it, and its trace must show it.

With E2E_SCREENSHOTS set to a directory, the editor is photographed there
(scripts/screenshots_automation_editor does so for README); the test itself writes
nothing in the repository.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import os
from pathlib import Path
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import aiohttp
from playwright.async_api import expect
import pytest

from .conftest import (
    DOMAIN,
    STEP_TIMEOUT,
    Process,
    goto_until_visible,
    onboard_through_api,
)

DEMO_USER = "demo@example.com"
EVENT_ENTITY = "event.demo_example_com_primary_calendar_changes"
AUTOMATION_NAME = "Tell me when a meeting changes"
EDITED_SUMMARY = "Dentist (moved in Google)"
MESSAGE = "{{ trigger.to_state.attributes.summary }} changed in Google"
SYNC_TIMEOUT = 30.0


async def poll(
    check: Callable[[], Awaitable[Any]], what: str, timeout: float = SYNC_TIMEOUT
) -> Any:
    """Return the first truthy result of check, or fail after timeout seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await check()):
        if loop.time() > deadline:
            pytest.fail(f"Timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.5)
    return result


async def photograph(page: Any, name: str) -> None:
    """Save a screenshot when E2E_SCREENSHOTS names a directory (never in tests)."""
    if not (directory := os.environ.get("E2E_SCREENSHOTS")):
        return
    target = Path(directory) / f"{name}.png"
    partial = target.with_suffix(".png.tmp")
    await page.screenshot(path=str(partial), type="png")
    os.replace(partial, target)


class HomeAssistantApi:
    """The owner's side of Home Assistant's HTTP API."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to Home Assistant at base_url."""
        self.session = session
        self.base_url = base_url
        self.client_id = f"{base_url}/"
        self.tokens: dict[str, Any] = {}

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens['access_token']}",
            # What the frontend sends: the OAuth flow builds its redirect URI from it.
            "HA-Frontend-Base": self.base_url,
        }

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON as the owner; return the answer."""
        async with self.session.post(
            f"{self.base_url}{path}", json=body, headers=self._headers
        ) as response:
            assert response.status < 400, await response.text()
            return await response.json()

    async def get(self, path: str) -> Any:
        """GET as the owner; return the answer."""
        async with self.session.get(
            f"{self.base_url}{path}", headers=self._headers
        ) as response:
            assert response.status < 400, await response.text()
            return await response.json()

    async def onboard(self) -> None:
        """Create the owner and finish onboarding with the defaults."""
        self.tokens = await onboard_through_api(self.session, self.base_url)

    async def add_integration(self, emulator_url: str) -> None:
        """Add the demo account: consent in the emulator, keep the default calendars."""
        menu = await self.post("/api/config/config_entries/flow", {"handler": DOMAIN})
        assert menu["type"] == "menu", menu
        flow = await self.post(
            f"/api/config/config_entries/flow/{menu['flow_id']}",
            {"next_step_id": "oauth"},
        )
        assert flow["type"] == "external", flow
        consent = dict(parse_qsl(urlsplit(flow["url"]).query))
        async with self.session.post(
            f"{emulator_url}o/oauth2/v2/auth",
            data={**consent, "email": DEMO_USER, "action": "allow"},
            allow_redirects=False,
        ) as response:
            assert response.status == 302, await response.text()
            callback = response.headers["Location"]
        async with self.session.get(callback) as response:
            assert response.status == 200, await response.text()
        step = await self.post(f"/api/config/config_entries/flow/{flow['flow_id']}", {})
        assert step["step_id"] == "calendars", step
        done = await self.post(
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            {"calendars": [DEMO_USER]},
        )
        assert done["type"] == "create_entry", done

    async def browser_tokens(self) -> dict[str, Any]:
        """Return what the frontend keeps in localStorage after a login."""
        return {
            **self.tokens,
            "hassUrl": self.base_url,
            "clientId": self.client_id,
            "expires": 10**13,
        }


async def rename_in_google(
    session: aiohttp.ClientSession, emulator_url: str, summary: str, new: str
) -> None:
    """Rename an event of the demo user's primary calendar, as Google's UI would."""
    calendar = quote(DEMO_USER, safe="")
    async with session.get(
        f"{emulator_url}emulator/calendars/{calendar}/events"
    ) as response:
        response.raise_for_status()
        events = (await response.json())["items"]
    event = next(event for event in events if event.get("summary") == summary)
    async with session.patch(
        f"{emulator_url}emulator/calendars/{calendar}/events/{quote(event['id'], safe='')}",
        json={"summary": new},
    ) as response:
        response.raise_for_status()


async def build_automation(page: Any, base_url: str) -> None:
    """Build the automation in the visual editor and save it."""
    await page.goto(f"{base_url}/config/automation/edit/new")
    await page.get_by_role("button", name="Add trigger").first.click()
    await page.get_by_placeholder("Search").first.fill("Event received")
    await page.get_by_text("Event received", exact=True).first.click()
    # Target: the event entity of the primary calendar.
    await page.get_by_role("button", name="Add target").click()
    await page.get_by_placeholder("Search").last.fill("Primary calendar changes")
    await page.get_by_text(DEMO_USER, exact=True).last.click()
    # Event type: the entity's translated types (attribute "Change").
    await page.locator("ha-entity-state-picker ha-picker-field").first.click()
    await page.get_by_text("Updated", exact=True).last.click()
    await page.keyboard.press("Escape")
    await expect(page.get_by_text("Updated", exact=True).first).to_be_visible()
    await photograph(page, "automation-editor-event-entity")

    await page.get_by_role("button", name="Add action").first.click()
    await page.get_by_placeholder("Search").first.fill("persistent notification")
    await page.get_by_text(
        "Persistent Notification: Create persistent notification", exact=True
    ).click()
    await page.locator("ha-service-control ha-selector-text input").first.fill(MESSAGE)

    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("textbox", name="Name*").fill(AUTOMATION_NAME)
    await page.get_by_role("button", name="Save").last.click()
    await expect(page.get_by_text(AUTOMATION_NAME).first).to_be_visible()


@pytest.mark.timeout(240)
async def test_automation_on_the_event_entity_runs_on_a_change_in_google(
    emulator_server: Process, hass_server: Process, browser_page: Any
) -> None:
    """A UI-built automation on the event entity runs and its trace shows it."""
    page = browser_page
    base_url = hass_server.url
    async with aiohttp.ClientSession() as session:
        hass = HomeAssistantApi(session, base_url)
        await hass.onboard()
        await hass.add_integration(emulator_server.url)
        state = await hass.get(f"/api/states/{EVENT_ENTITY}")
        assert state["attributes"]["event_types"] == ["created", "updated", "cancelled"]

        # A static file of the origin: the app itself would redirect to the login.
        await page.goto(f"{base_url}/manifest.json")
        await page.evaluate(
            "tokens => localStorage.setItem('hassTokens', JSON.stringify(tokens))",
            await hass.browser_tokens(),
        )
        await build_automation(page, base_url)

        async def automation() -> dict[str, Any] | None:
            return next(
                (
                    state
                    for state in await hass.get("/api/states")
                    if state["entity_id"].startswith("automation.")
                    and state["attributes"].get("friendly_name") == AUTOMATION_NAME
                ),
                None,
            )

        saved = await poll(automation, "the saved automation")
        assert saved["attributes"]["last_triggered"] is None
        automation_id = saved["attributes"]["id"]

        await rename_in_google(session, emulator_server.url, "Dentist", EDITED_SUMMARY)

        async def ran() -> bool:
            state = await automation()
            return bool(state and state["attributes"]["last_triggered"])

        await poll(ran, "the automation to run")
        changes = await hass.get(f"/api/states/{EVENT_ENTITY}")
        assert changes["attributes"]["event_type"] == "updated"
        assert changes["attributes"]["summary"] == EDITED_SUMMARY
        assert changes["attributes"]["changed_fields"] == ["summary"]

        # The trace of the run, as the user opens it from the editor.
        # The run is stored when it ends: the page is loaded again until it shows.
        await goto_until_visible(
            page,
            f"{base_url}/config/automation/trace/{automation_id}",
            page.get_by_text("Executed:"),
        )
        await expect(page.get_by_text("Event received").first).to_be_visible()
        await page.get_by_role("tab", name="Trace timeline").click()
        # Its timeline: the trigger, the notification the action created, the end.
        # The action is named once the frontend has loaded the action descriptions,
        # by its id before ("persistent_notification.create"): either will do.
        for line in (
            re.compile("Triggered by the state of"),
            re.compile("persistent.notification", re.IGNORECASE),
            re.compile("Finished at"),
        ):
            await expect(page.get_by_text(line).first).to_be_visible(
                timeout=STEP_TIMEOUT
            )
        await photograph(page, "automation-trace")

    errors = hass_server.errors_about("google_calendar_sync")
    assert not errors, "Home Assistant logged errors:\n" + "\n".join(errors)
