"""The calendar panel shows what Google shows: colors, birthdays apart, no declined.

A real Home Assistant and the emulator (demo data) run as processes. The account is
linked through Home Assistant's own HTTP API (onboarding, config flow, the emulator's
consent form), then Debian's Chromium opens the calendar panel as a person would.
Screenshots go to the test's temporary directory, or to $E2E_SCREENSHOTS when set
(README's picture is refreshed that way, never by a plain test run).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from playwright.async_api import expect
import pytest

from .conftest import DOMAIN, OWNER, STEP_TIMEOUT, Process, onboard_through_api

DEMO_USER = "demo@example.com"
FAMILY = "family.demo@group.calendar.google.com"
# Google's palette: the demo's primary calendar is color 14, Family color 7.
PRIMARY_COLOR = "rgb(159, 225, 231)"  # #9fe1e7
FAMILY_COLOR = "rgb(66, 214, 146)"  # #42d692


async def _link_account(
    session: aiohttp.ClientSession, base_url: str, token: str
) -> None:
    """Run the config flow: consent as the demo user, sync every calendar."""
    # The frontend says where it runs: Home Assistant builds the OAuth redirect from it.
    headers = {"Authorization": f"Bearer {token}", "HA-Frontend-Base": base_url}
    flows = f"{base_url}/api/config/config_entries/flow"
    async with session.post(flows, json={"handler": DOMAIN}, headers=headers) as r:
        r.raise_for_status()
        menu = await r.json()
    assert menu["type"] == "menu", menu
    async with session.post(
        f"{flows}/{menu['flow_id']}", json={"next_step_id": "oauth"}, headers=headers
    ) as r:
        r.raise_for_status()
        flow = await r.json()
    assert flow["type"] == "external", flow
    query = {
        key: values[0] for key, values in parse_qs(urlsplit(flow["url"]).query).items()
    }
    consent = flow["url"].split("?", 1)[0]
    # The consent form posts back and redirects to Home Assistant's callback.
    async with session.post(
        consent, data={**query, "email": DEMO_USER, "action": "allow"}
    ) as r:
        r.raise_for_status()
    async with session.post(f"{flows}/{flow['flow_id']}", headers=headers) as r:
        r.raise_for_status()
        flow = await r.json()
    assert flow["step_id"] == "calendars", flow
    options = flow["data_schema"][0]["selector"]["select"]["options"]
    async with session.post(
        f"{flows}/{flow['flow_id']}",
        json={"calendars": [option["value"] for option in options]},
        headers=headers,
    ) as r:
        r.raise_for_status()
        assert (await r.json())["type"] == "create_entry"


async def _log_in(page: Any, base_url: str) -> None:
    """Log in on Home Assistant's login page as the owner."""
    await page.goto(base_url)
    await page.locator("input[name=username]").fill(OWNER["username"])
    await page.locator("input[name=password]").fill(OWNER["password"])
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("link", name="Settings")).to_be_visible(
        timeout=STEP_TIMEOUT
    )


async def _dot_color(page: Any, summary: str) -> str:
    """Return the color of an event's dot in the panel's list view."""
    row = page.locator(".fc-list-event", has_text=summary).first
    await expect(row).to_be_visible(timeout=STEP_TIMEOUT)
    dot = row.locator(".fc-list-event-dot")
    return str(await dot.evaluate("e => getComputedStyle(e).borderTopColor"))


async def _shot(page: Any, e2e_dir: Path, name: str) -> None:
    """Save a screenshot: into $E2E_SCREENSHOTS when set, else the test's directory."""
    folder = Path(os.environ.get("E2E_SCREENSHOTS") or e2e_dir / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    partial = target.with_suffix(".png.tmp")
    await page.screenshot(path=str(partial), type="png")
    os.replace(partial, target)


@pytest.mark.timeout(240)
async def test_calendar_panel_shows_colors_birthdays_apart_and_no_declined(
    emulator_server: Process, hass_server: Process, browser_page: Any, e2e_dir: Path
) -> None:
    """Colors from Google, a separate Birthdays calendar, the declined one hidden."""
    page = browser_page
    base_url = hass_server.url
    async with aiohttp.ClientSession() as session:
        token = (await onboard_through_api(session, base_url))["access_token"]
        await _link_account(session, base_url, token)
    await _log_in(page, base_url)

    await page.goto(f"{base_url}/calendar")
    # The birthday is in a calendar of its own, listed next to the others.
    await expect(page.get_by_text("Alex's birthday").first).to_be_visible(
        timeout=STEP_TIMEOUT
    )
    await expect(page.get_by_text("Birthdays").first).to_be_visible()
    # The invitation the user declined is hidden, as in Google.
    await expect(page.get_by_text("Budget meeting (declined)")).to_have_count(0)
    await _shot(page, e2e_dir, "11-colors-and-birthdays")

    # Each calendar keeps the color it has in Google (the list view shows every
    # event of the week with its calendar's color).
    await page.get_by_label("List (7 days)").click()
    assert await _dot_color(page, "Dentist") == PRIMARY_COLOR
    assert await _dot_color(page, "Football practice") == FAMILY_COLOR
    await expect(page.get_by_text("Budget meeting (declined)")).to_have_count(0)

    problems = hass_server.errors_about("google_calendar_sync")
    assert not problems, "Home Assistant logged errors:\n" + "\n".join(problems)
