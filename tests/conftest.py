"""Shared fixtures for the Google Calendar Sync tests."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_storage
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

# Importing our package first makes pytest-homeassistant-custom-component find the
# integration instead of reporting "Integration not found".
import custom_components  # noqa: F401
from custom_components.google_calendar_sync.channels import PushManager
from custom_components.google_calendar_sync.const import (
    CONF_CALENDARS,
    CONF_PUSH_ENABLED,
    CONF_SYNC_WINDOW_DAYS,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.google_calendar_sync.coordinator import CalendarSyncCoordinator
from custom_components.google_calendar_sync.google.client import GoogleCalendarApi
from custom_components.google_calendar_sync.google.endpoints import (
    ENV_ENDPOINT,
    GoogleEndpoints,
)
from custom_components.google_calendar_sync.google.transport import (
    RetryPolicy,
    StaticTokenAuth,
)
from custom_components.google_calendar_sync.stored import StoredData
from google_calendar_emulator import GoogleCalendarEmulator

from .action_helpers import setup_practice
from .common import FakeSleep, linked_entry, loaded_entry, service_account_entry

pytest_plugins = ["google_calendar_emulator.pytest_plugin"]

ACCOUNT = "user@example.com"
SERVICE_ACCOUNT = "calendar-sync@emulator-project.iam.gserviceaccount.com"
CLUB_CALENDAR = "club@group.calendar.google.com"
OTHER_ACCOUNT = "other@example.com"
WORK = "work@group.calendar.google.com"
FAMILY = "family@group.calendar.google.com"
HOLIDAYS = "holidays@group.calendar.google.com"
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
WEBHOOK_ID = "0123456789abcdef0123456789abcdef"
# Another user's calendar, shared read-only with ACCOUNT (shared_calendar).
SHARED = "boss@group.calendar.google.com"
SECOND_CALENDAR = "team@group.calendar.example.com"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip tests with wall-clock limits unless -m names the timing marker.

    A loaded machine must never fail the suite; .ci/run runs them apart.
    """
    if "timing" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="wall-clock limits: run with -m timing")
    for item in items:
        if item.get_closest_marker("timing") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def no_backoff() -> Generator[MagicMock]:
    """Retry at once: no test waits out a backoff delay.

    Yield the patched RetryPolicy.delay, to see which delays were asked for.
    The Google side's tests of the backoff itself override this fixture.
    """
    with patch.object(RetryPolicy, "delay", return_value=0.0) as delay:
        yield delay


@pytest.fixture
def disk_storage() -> bool:
    """Keep Home Assistant's stores in memory; parametrize True for real files."""
    return False


@pytest.fixture
def hass_storage(disk_storage: bool) -> Generator[dict[str, Any]]:
    """Home Assistant's stores in memory, as its own tests keep them, or on disk.

    On disk (the test's config folder) a test sees what Home Assistant does with a
    file it cannot parse.
    """
    if disk_storage:
        yield {}
        return
    with mock_storage() as stored:
        yield stored


@pytest.fixture
def hass_config_dir(tmp_path: Path) -> str:
    """Give each test a configuration folder of its own.

    The default one lies inside the shared virtualenv: runs in parallel (xdist
    workers, other checkouts) would read each other's half-written files there.
    """
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    return str(config_dir)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components."""


@pytest.fixture(autouse=True)
def config_dir_of_the_test(hass: HomeAssistant, tmp_path: Path) -> None:
    """Put the files the integration writes itself (calendar logs) in tmp_path."""
    hass.config.config_dir = str(tmp_path)


@pytest.fixture
def emulator_endpoint(
    calendar_emulator: GoogleCalendarEmulator, monkeypatch: pytest.MonkeyPatch
) -> GoogleCalendarEmulator:
    """Point the integration at the emulator instead of Google."""
    monkeypatch.setenv(ENV_ENDPOINT, calendar_emulator.base_url)
    return calendar_emulator


@pytest.fixture
async def setup_credentials(hass: HomeAssistant, emulator_endpoint: Any) -> None:
    """Register application credentials; set up the other dependencies with views.

    Both register HTTP views, which must happen before a test serves HTTP.
    """
    assert await async_setup_component(hass, "application_credentials", {})
    assert await async_setup_component(hass, "file_upload", {})
    await async_import_client_credential(
        hass, DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), DOMAIN
    )


@pytest.fixture
async def hass_url(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> str:
    """Serve Home Assistant's HTTP app (webhooks included) on a loopback port."""
    assert await async_setup_component(hass, "webhook", {})
    client = await hass_client_no_auth()
    url = str(client.make_url("/")).rstrip("/")
    await hass.config.async_update(internal_url=url)
    return url


@pytest.fixture
def service_account_key(calendar_emulator: GoogleCalendarEmulator) -> dict[str, Any]:
    """Create a service account with the "Club" calendar shared (writer) with it.

    Return its JSON key. Its calendarList is still empty, as in Google.
    """
    key = calendar_emulator.create_service_account("calendar-sync")
    calendar_emulator.add_calendar(ACCOUNT, "Club", calendar_id=CLUB_CALENDAR)
    calendar_emulator.share_calendar(CLUB_CALENDAR, SERVICE_ACCOUNT, "writer")
    return key


@pytest.fixture
def sa_entry(
    calendar_emulator: GoogleCalendarEmulator,
    service_account_key: dict[str, Any],
    entry_options: dict[str, Any],
) -> MockConfigEntry:
    """Return a service account entry syncing the Club calendar (in its list)."""
    calendar_emulator.model.insert_calendar_list_entry(SERVICE_ACCOUNT, CLUB_CALENDAR)
    return service_account_entry(
        service_account_key,
        {**entry_options, CONF_CALENDARS: [CLUB_CALENDAR]},
        webhook_id=WEBHOOK_ID,
    )


@pytest.fixture
async def setup_service_account(
    hass: HomeAssistant, setup_credentials: None, sa_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set the service account entry up against the emulator (push as configured)."""
    async with loaded_entry(hass, sa_entry):
        yield sa_entry


@pytest.fixture
def calendars(calendar_emulator: GoogleCalendarEmulator) -> dict[str, str]:
    """Give the account a writable, a read-only and the primary calendar."""
    family = calendar_emulator.add_calendar(ACCOUNT, "Family", calendar_id=FAMILY)
    calendar_emulator.add_user(OTHER_ACCOUNT)
    holidays = calendar_emulator.add_calendar(
        OTHER_ACCOUNT, "Holidays", calendar_id=HOLIDAYS
    )
    calendar_emulator.share_calendar(holidays, ACCOUNT, "reader")
    return {"primary": ACCOUNT, "family": family, "holidays": holidays}


@pytest.fixture
def work_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Return a second writable calendar of the account."""
    return calendar_emulator.add_calendar(ACCOUNT, "Work", calendar_id=WORK)


@pytest.fixture
def shared_calendar(calendar_emulator: GoogleCalendarEmulator) -> str:
    """Return a calendar another user shares read-only with the account."""
    calendar_emulator.add_user("boss@example.com")
    calendar_emulator.add_calendar("boss@example.com", "Boss", calendar_id=SHARED)
    calendar_emulator.share_calendar(SHARED, ACCOUNT, "reader")
    return SHARED


@pytest.fixture
def entry_options() -> dict[str, Any]:
    """Return the options of the test entry (push off: polling only)."""
    return {
        CONF_CALENDARS: [ACCOUNT],
        CONF_SYNC_WINDOW_DAYS: 365,
        CONF_PUSH_ENABLED: False,
    }


@pytest.fixture
def config_entry(
    calendar_emulator: GoogleCalendarEmulator, entry_options: dict[str, Any]
) -> MockConfigEntry:
    """Return a config entry carrying a token minted by the emulator."""
    return linked_entry(
        ACCOUNT,
        calendar_emulator.issue_tokens(ACCOUNT, CLIENT_ID),
        webhook_id=WEBHOOK_ID,
        options=entry_options,
    )


@pytest.fixture
async def setup_integration(
    hass: HomeAssistant,
    setup_credentials: None,
    config_entry: MockConfigEntry,
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the integration against the emulator and unload it afterwards."""
    async with loaded_entry(hass, config_entry):
        yield config_entry


type GetEvents = Callable[[datetime, datetime], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def coordinator(setup_integration: MockConfigEntry) -> CalendarSyncCoordinator:
    """Return the coordinator of the set-up primary calendar."""
    coordinator: CalendarSyncCoordinator = setup_integration.runtime_data.coordinators[
        ACCOUNT
    ]
    return coordinator


@pytest.fixture(name="now")
def now_fixture() -> datetime:
    """Return the current time rounded to the hour."""
    return dt_util.utcnow().replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def calendar_entity_id(hass: HomeAssistant) -> Callable[..., str]:
    """Return a helper giving the entity id of a synced calendar of an account."""

    def _entity_id(calendar_id: str = ACCOUNT, account: str = ACCOUNT) -> str:
        entity_id = er.async_get(hass).async_get_entity_id(
            "calendar", DOMAIN, f"{account}-{calendar_id}"
        )
        assert entity_id is not None
        return entity_id

    return _entity_id


@pytest.fixture
def get_events(
    hass: HomeAssistant, calendar_entity_id: Callable[[str], str]
) -> GetEvents:
    """Return a helper reading the primary calendar through calendar.get_events."""

    async def _get_events(start: datetime, end: datetime) -> list[dict[str, Any]]:
        entity_id = calendar_entity_id(ACCOUNT)
        response = await hass.services.async_call(
            "calendar",
            "get_events",
            {
                "entity_id": entity_id,
                "start_date_time": start,
                "end_date_time": end,
            },
            blocking=True,
            return_response=True,
        )
        assert response is not None
        return response[entity_id]["events"]  # type: ignore[index,return-value]

    return _get_events


@pytest.fixture
def entity_id(
    setup_integration: MockConfigEntry, calendar_entity_id: Callable[[str], str]
) -> str:
    """Return the entity id of the primary calendar, set up against the emulator."""
    return calendar_entity_id(ACCOUNT)


@pytest.fixture
async def practice(hass: HomeAssistant) -> MockConfigEntry:
    """Return a set-up local calendar "Practice" holding 120 future appointments."""
    return await setup_practice(hass)


@pytest.fixture
def sleeps() -> FakeSleep:
    """Return a sleep that records backoff delays instead of waiting."""
    return FakeSleep()


@pytest.fixture
def endpoints(calendar_emulator: GoogleCalendarEmulator) -> GoogleEndpoints:
    """Return the emulator's endpoints."""
    return GoogleEndpoints.for_base_url(calendar_emulator.base_url)


# Push: a PushManager on the emulator, with what it reports to its owner.


class _FreshTokens:
    """Mint an emulator access token per request so frozen-clock jumps stay valid."""

    def __init__(self, emulator: GoogleCalendarEmulator) -> None:
        self._emulator = emulator

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        return str(self._emulator.issue_tokens(ACCOUNT)["access_token"])


@pytest.fixture
def push_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return a config entry carrying a webhook id."""
    entry = MockConfigEntry(
        domain=DOMAIN, title=ACCOUNT, data={CONF_WEBHOOK_ID: WEBHOOK_ID}
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def emulator_api(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> GoogleCalendarApi:
    """Return a client of the emulator (plain-http loopback webhooks allowed)."""
    calendar_emulator.add_calendar(ACCOUNT, "Team", calendar_id=SECOND_CALENDAR)
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        _FreshTokens(calendar_emulator),
        GoogleEndpoints.for_base_url(calendar_emulator.base_url),
    )


@pytest.fixture
async def google_mode_api(
    hass: HomeAssistant, calendar_emulator: GoogleCalendarEmulator
) -> GoogleCalendarApi:
    """Return a client that, like Google, needs an HTTPS webhook address."""
    token = calendar_emulator.issue_tokens(ACCOUNT)
    endpoints = GoogleEndpoints.for_base_url(calendar_emulator.base_url)
    return await GoogleCalendarApi.async_create(
        async_get_clientsession(hass),
        StaticTokenAuth(token["access_token"]),
        dataclasses.replace(endpoints, allow_insecure_webhook=False),
    )


@dataclasses.dataclass
class PushHarness:
    """A PushManager with what it reported."""

    manager: PushManager
    stored: StoredData
    changes: list[str]
    states: dict[str, bool]


@pytest.fixture
def make_push(
    hass: HomeAssistant, push_entry: MockConfigEntry, emulator_api: GoogleCalendarApi
) -> Callable[..., PushHarness]:
    """Build PushManagers that record what they ask of their owner."""

    def _make(
        stored: StoredData | None = None, api: GoogleCalendarApi | None = None
    ) -> PushHarness:
        stored = stored if stored is not None else StoredData()
        changes: list[str] = []
        states: dict[str, bool] = {}
        manager = PushManager(
            hass,
            push_entry,
            api or emulator_api,
            stored,
            changes.append,
            on_push_state=states.__setitem__,
        )
        return PushHarness(manager, stored, changes, states)

    return _make


@pytest.fixture
async def push(
    hass: HomeAssistant, hass_url: str, make_push: Callable[..., PushHarness]
) -> AsyncGenerator[PushHarness]:
    """Return a started PushManager for both calendars; stop it afterwards."""
    harness = make_push()
    assert await harness.manager.async_start([ACCOUNT, SECOND_CALENDAR])
    yield harness
    await harness.manager.async_stop()
