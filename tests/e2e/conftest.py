"""Fixtures for the browser test: the emulator and Home Assistant as real processes.

Home Assistant runs out of process here (``hass -c TMPDIR``), so the in-process test
harness of pytest-homeassistant-custom-component is not involved: the fixtures below
replace the ones that would start it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterator
from dataclasses import dataclass
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
# The demo data is laid out around today in UTC: Home Assistant and the browser use UTC
# too, so "today" in the calendar panel is the demo's today at any hour.
TIME_ZONE = "UTC"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


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
    log: Path
    url: str

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
        """Return the ERROR lines of the log that mention text."""
        return [
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if " ERROR " in line and text in line
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
def emulator_server(
    socket_enabled: None, e2e_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Process]:
    """Run the Google Calendar emulator, seeded with the demo account."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = _start(
        "emulator",
        [
            sys.executable,
            "-m",
            "google_calendar_emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            "demo",
        ],
        e2e_dir / "emulator.log",
        url,
    )
    try:
        process.wait_until_ready(url + "emulator/")
        yield process
    finally:
        process.stop()
        if _failed(request):
            print(f"--- emulator log (end) ---\n{process.tail()}")


def _storage(key: str, version: int, minor_version: int, data: Any) -> str:
    """Return a Home Assistant storage file."""
    return json.dumps(
        {"version": version, "minor_version": minor_version, "key": key, "data": data}
    )


def write_hass_config(config_dir: Path, port: int) -> None:
    """Write what scripts/develop writes, on another port: configuration and storage."""
    config = (REPO / "config" / "configuration.yaml").read_text()
    config = config.replace("8123", str(port)).replace("Europe/Amsterdam", TIME_ZONE)
    (config_dir / "configuration.yaml").write_text(config)
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


@pytest.fixture
def hass_server(
    emulator_server: Process, e2e_dir: Path, request: pytest.FixtureRequest
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


@pytest.fixture
async def browser_page(
    hass_server: Process, e2e_dir: Path, request: pytest.FixtureRequest
) -> AsyncGenerator[Any]:
    """Open Debian's Chromium (never a downloaded browser) on an empty page."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; run scripts/e2e_setup to install it")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as playwright:
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
            page = await context.new_page()
            yield page
            if _failed(request):
                for number, open_page in enumerate(context.pages):
                    failure = e2e_dir / f"failure-{number}.png"
                    await open_page.screenshot(path=str(failure))
                    print(f"Page {open_page.url} at the failure: {failure}")
        finally:
            await browser.close()
