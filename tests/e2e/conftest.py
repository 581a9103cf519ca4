"""Fixtures for the browser test: the emulator and Home Assistant as real processes.

Home Assistant runs out of process here (``hass -c TMPDIR``), so the in-process test
harness of pytest-homeassistant-custom-component is not involved: the fixtures below
replace the ones that would start it. Every test in this folder is marked e2e, and
skipped where Chromium is missing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, time as clock_time
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.request
from zoneinfo import ZoneInfo

import aiohttp
from playwright.async_api import (
    TimeoutError as PlaywrightTimeoutError,
    async_playwright,
    expect,
)
import pytest

from tests.common import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
DOMAIN = "google_calendar_sync"
CLIENT_ID = "demo-client-id"
CLIENT_SECRET = "demo-client-secret"  # the emulator accepts any client
# The demo's time zone (config/configuration.yaml): Home Assistant, the browser and the
# demo data all use it.
TIME_ZONE = "Europe/Amsterdam"
# README's screenshots are refreshed by scripts/screenshots, which points this at
# tests/e2e/screenshots; a test run keeps them in its temporary directory.
SCREENSHOTS_ENV = "E2E_SCREENSHOTS"
# What the log may say at WARNING or above during a run, and why.
KNOWN_LOG_LINES = (
    # Home Assistant says this of every custom integration.
    "We found a custom integration google_calendar_sync which has not been tested",
    # The onboarding page asks for the installation type before the owner exists.
    "Requested URL: '/api/onboarding/installation_type'",
    # scripts/develop and the tests run hass with --skip-pip on purpose.
    "Skipping pip installation of required modules",
    # Optional speed-ups and tools of the frontend's dependencies, not of the demo:
    # aiohttp's zlib-ng, the ffmpeg binary, libturbojpeg for camera snapshots.
    "zlib_ng and isal are not available",
    "[haffmpeg.",
    "Error loading libturbojpeg",
)
START_TIMEOUT = 60.0
# A page that must show something: milliseconds per try, and tries.
PAGE_TIMEOUT = 30_000
PAGE_ATTEMPTS = 3
STOP_TIMEOUT = 20.0


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this folder e2e, and skip them where Chromium is missing.

    First of the hooks: -m selects by this mark.
    """
    folder = Path(__file__).parent
    missing = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing; run scripts/e2e_setup to install it"
    )
    for item in items:
        if item.path.is_relative_to(folder):
            item.add_marker(pytest.mark.e2e)
            if not CHROMIUM.exists():
                item.add_marker(missing)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Replace the parent fixture: it would start an in-process Home Assistant."""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember each phase's outcome so fixtures can print logs after a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    """Return True if the test's setup or call failed."""
    return any(
        getattr(request.node, f"rep_{when}", None) is not None
        and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )


def _http_status(url: str) -> int | None:
    """Return the HTTP status of a GET (redirects not followed), None if unreachable."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


@dataclass
class Process:
    """A server started for the test, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path  # its output
    url: str
    app_log: Path | None = None  # the log file it writes itself, if any

    def wait_until_ready(self, probe: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until GET probe answers with any HTTP status below 500."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                pytest.fail(
                    f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}"
                )
            status = _http_status(probe)
            if status is not None and status < 500:
                return
            time.sleep(0.2)
        pytest.fail(f"{self.name} did not answer {probe} in {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        """Return the end of the log: warnings, errors and our own lines first."""
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        notable = [
            line
            for line in text
            if any(mark in line for mark in (" ERROR ", " WARNING ", DOMAIN))
        ]
        return "\n".join([*notable[-lines:], "--- last lines ---", *text[-20:]])

    def errors_about(self, text: str) -> list[str]:
        """Return the ERROR lines of the output that mention text."""
        return [
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if " ERROR " in line and text in line
        ]

    def problems(self) -> list[str]:
        """Return the WARNING, ERROR and CRITICAL lines of the log, known ones left out."""
        return [
            line
            for line in (self.app_log or self.log)
            .read_text(errors="replace")
            .splitlines()
            if any(f" {level} " in line for level in ("WARNING", "ERROR", "CRITICAL"))
            and not any(known in line for known in KNOWN_LOG_LINES)
        ]

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and its children."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(STOP_TIMEOUT)


def _start(
    name: str, args: list[str], log: Path, url: str, env: dict[str, str] | None = None
) -> Process:
    """Start a server in its own process group, output to a log file."""
    with log.open("wb") as out:
        popen = subprocess.Popen(  # noqa: S603 - fixed argument lists
            args,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    return Process(name, popen, log, url)


@pytest.fixture
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a fresh directory for the servers' files."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture
def demo_clock(request: pytest.FixtureRequest) -> datetime:
    """Return the moment the demo data and the browser take as now.

    Today at noon in the demo's time zone, or at the time of day a test gives with
    ``@pytest.mark.parametrize("demo_clock", [time(23, 30)], indirect=True)``.
    """
    zone = ZoneInfo(TIME_ZONE)
    at: clock_time = getattr(request, "param", clock_time(12, 0))
    return datetime.combine(datetime.now(zone).date(), at, zone)


class EmulatorServer(Process):
    """The emulator process; its state file lets it restart where it stopped."""

    args: list[str]

    def restart(self) -> None:
        """Stop the emulator and start it again on the same port and state file."""
        self.stop()
        restarted = _start(
            self.name, self.args, self.log.with_suffix(".2.log"), self.url
        )
        self.popen, self.log = restarted.popen, restarted.log
        self.wait_until_ready(self.url + "emulator/")


@pytest.fixture
def emulator_server(
    socket_enabled: None,
    e2e_dir: Path,
    demo_clock: datetime,
    request: pytest.FixtureRequest,
) -> Iterator[EmulatorServer]:
    """Run the Google Calendar emulator as scripts/develop does, demo data seeded."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    args = [
        sys.executable,
        "-m",
        "google_calendar_emulator",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--seed",
        "demo",
        "--today",
        demo_clock.date().isoformat(),
        "--time-zone",
        TIME_ZONE,
        "--state",
        str(e2e_dir / "emulator-state.json"),
    ]
    started = _start("emulator", args, e2e_dir / "emulator.log", url)
    process = EmulatorServer(started.name, started.popen, started.log, url)
    process.args = args
    try:
        process.wait_until_ready(url + "emulator/")
        yield process
    finally:
        process.stop()
        if _failed(request):
            print(f"--- emulator log (end) ---\n{process.tail()}")


# Files Home Assistant's default configuration has (configuration.yaml includes them;
# the UI editors write to them). scripts/develop creates the same.
DEMO_FILES = {"automations.yaml": "[]\n", "scripts.yaml": "", "scenes.yaml": ""}


def _storage(key: str, version: int, minor_version: int, data: Any) -> str:
    """Return a Home Assistant storage file."""
    return json.dumps(
        {"version": version, "minor_version": minor_version, "key": key, "data": data}
    )


def write_hass_config(config_dir: Path, port: int) -> None:
    """Write what scripts/develop writes, on another port: configuration and storage."""
    config = (REPO / "config" / "configuration.yaml").read_text()
    (config_dir / "configuration.yaml").write_text(config.replace("8123", str(port)))
    for name, content in DEMO_FILES.items():
        (config_dir / name).write_text(content)
    shutil.copytree(
        REPO / "config" / "custom_sentences", config_dir / "custom_sentences"
    )
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / DOMAIN).symlink_to(
        REPO / "custom_components" / DOMAIN
    )
    storage = config_dir / ".storage"
    storage.mkdir()
    credential = {
        "domain": DOMAIN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "auth_domain": DOMAIN,
        "name": "Google Calendar emulator",
        "id": f"{DOMAIN}_demo_client_id",
    }
    (storage / "application_credentials").write_text(
        _storage("application_credentials", 1, 1, {"items": [credential]})
    )
    # HTTP settings live in storage; YAML ones would be an unconfirmed trial with a
    # modal "confirm new HTTP server configuration" dialog.
    http = {
        "server_host": ["127.0.0.1"],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": "2026-01-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    (storage / "http").write_text(
        _storage(
            "http", 2, 2, {"stable": http, "pending": None, "yaml_migration_done": True}
        )
    )
    # Location, time zone and units come from configuration.yaml: onboarding skips
    # that step, and with it the weather, radio and speech integrations it would add.
    (storage / "onboarding").write_text(
        _storage("onboarding", 4, 1, {"done": ["core_config"]})
    )


@pytest.fixture
def hass_server(
    emulator_server: EmulatorServer, e2e_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Process]:
    """Run a real Home Assistant with the integration, pointed at the emulator."""
    port = free_port()
    config_dir = e2e_dir / "hass"
    config_dir.mkdir()
    write_hass_config(config_dir, port)
    hass = Path(sys.executable).with_name("hass")
    process = _start(
        "Home Assistant",
        # --skip-pip: everything is installed; never install into .venv at run time.
        [str(hass), "-c", str(config_dir), "--skip-pip"],
        e2e_dir / "hass.log",
        f"http://127.0.0.1:{port}",
        env={
            "GOOGLE_CALENDAR_SYNC_ENDPOINT": emulator_server.url,
            "PYTHONPATH": str(REPO),
        },
    )
    process.app_log = config_dir / "home-assistant.log"
    try:
        process.wait_until_ready(process.url + "/api/onboarding")
        yield process
    finally:
        process.stop()
        if _failed(request):
            log = config_dir / "home-assistant.log"
            if log.exists():
                shutil.copy(log, process.log.with_name("home-assistant.log"))
            print(f"--- Home Assistant log (end) ---\n{process.tail(120)}")
            print(f"Logs and configuration kept in {e2e_dir}")


# The owner every browser test creates in its fresh Home Assistant.
OWNER = {"name": "Demo Owner", "username": "demo", "password": "demo-password"}
# Generous, bounded waits: a step that needs longer than this is broken.
STEP_TIMEOUT = 30_000

type Shot = Callable[[Any, str], Awaitable[None]]


async def _no_shot(_page: Any, _name: str) -> None:
    """Take no screenshot."""


async def complete_onboarding(page: Any, base_url: str, shot: Shot = _no_shot) -> None:
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

    # Location and units come from configuration.yaml; analytics keep their defaults.
    await expect(page.locator("input[name=usage]")).to_be_visible(timeout=STEP_TIMEOUT)
    await page.get_by_role("button", name="Next").click()
    await page.get_by_role("button", name="Finish").click()
    await expect(page.get_by_role("link", name="Settings")).to_be_visible(
        timeout=STEP_TIMEOUT
    )


async def onboard_through_api(
    session: aiohttp.ClientSession, base_url: str
) -> dict[str, Any]:
    """Create the owner and finish onboarding through the API; return its tokens."""
    client_id = f"{base_url}/"
    async with session.post(
        f"{base_url}/api/onboarding/users",
        json={"client_id": client_id, "language": "en", **OWNER},
    ) as response:
        assert response.status == 200, await response.text()
        code = (await response.json())["auth_code"]
    async with session.post(
        f"{base_url}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
    ) as response:
        assert response.status == 200, await response.text()
        tokens: dict[str, Any] = await response.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    steps = {
        "core_config": {},
        "analytics": {},
        "integration": {
            "client_id": client_id,
            "redirect_uri": f"{client_id}?auth_callback=1",
        },
    }
    # The configuration may have done some already (the demo's location and zone).
    async with session.get(f"{base_url}/api/onboarding", headers=headers) as response:
        assert response.status == 200, await response.text()
        pending = [s["step"] for s in await response.json() if not s["done"]]
    for step in pending:
        if step in steps:
            async with session.post(
                f"{base_url}/api/onboarding/{step}", json=steps[step], headers=headers
            ) as response:
                assert response.status == 200, await response.text()
    return tokens


async def goto_until_visible(page: Any, url: str, locator: Any) -> None:
    """Open url and wait until locator shows, loading the page again if it does not.

    A busy machine can take long to load a panel's code the first time, and what a
    page shows may be written just after it loaded (a panel registered, a trace
    stored): give each try a generous wait and load again rather than fail at once.
    """
    for attempt in range(PAGE_ATTEMPTS):
        await page.goto(url)
        try:
            await expect(locator).to_be_visible(timeout=PAGE_TIMEOUT)
        except AssertionError, PlaywrightTimeoutError:
            if attempt == PAGE_ATTEMPTS - 1:
                raise
        else:
            return


async def open_calendar_list(page: Any, base_url: str) -> None:
    """Open the calendar panel in its list view (this week), as a person would."""
    list_view = page.get_by_label("List (7 days)")
    await goto_until_visible(page, f"{base_url}/calendar", list_view)
    await list_view.click()


@pytest.fixture
def shot(e2e_dir: Path) -> Shot:
    """Return an async function that saves a screenshot of a page as <name>.png.

    Into $E2E_SCREENSHOTS when set (scripts/screenshots: README's pictures), else into
    the test's temporary directory: a test run never writes tracked files.
    """
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or e2e_dir / "screenshots")

    async def save(page: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.png"
        partial = target.with_suffix(".png.tmp")
        await page.screenshot(path=str(partial), type="png")
        # Replace at once so a crashed run never leaves a half-written picture.
        os.replace(partial, target)

    return save


@pytest.fixture
async def browser_page(
    hass_server: Process,
    e2e_dir: Path,
    demo_clock: datetime,
    request: pytest.FixtureRequest,
) -> AsyncGenerator[Any]:
    """Open Debian's Chromium (never a downloaded browser) on an empty page."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 860},
                locale="en-US",
                timezone_id=TIME_ZONE,
            )
            context.set_default_timeout(20_000)
            # The browser's clock stands at the demo's now (its timers keep running).
            await context.clock.set_fixed_time(demo_clock)
            page = await context.new_page()
            yield page
            if _failed(request):
                for number, open_page in enumerate(context.pages):
                    failure = e2e_dir / f"failure-{number}.png"
                    await open_page.screenshot(path=str(failure))
                    print(f"Page {open_page.url} at the failure: {failure}")
        finally:
            await browser.close()
