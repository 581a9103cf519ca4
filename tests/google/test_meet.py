"""Meet links: shown in the description in Home Assistant, never written back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.google_calendar_sync.const import EVENT_CHANGED
from custom_components.google_calendar_sync.google.meet import (
    meet_link,
    shown_description,
    written_description,
)
from google_calendar_emulator import GoogleCalendarEmulator
from tests.conftest import ACCOUNT, GetEvents

LINK = "https://meet.google.com/abc-defg-hij"

type Send = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def _meet_body(summary: str, start: datetime, **extra: Any) -> dict[str, Any]:
    """Return a Google body asking for a Meet conference."""
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {
            "dateTime": (start + timedelta(hours=1)).isoformat(),
            "timeZone": "UTC",
        },
        "conferenceData": {
            "createRequest": {
                "requestId": f"req-{summary}",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        },
        **extra,
    }


@pytest.fixture
async def send(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    setup_integration: MockConfigEntry,
    calendar_entity_id: Callable[[str], str],
) -> Send:
    """Return a helper sending a calendar panel command to the primary calendar."""
    client = await hass_ws_client(hass)

    async def _send(message: dict[str, Any]) -> dict[str, Any]:
        await client.send_json_auto_id(
            {**message, "entity_id": calendar_entity_id(ACCOUNT)}
        )
        answer: dict[str, Any] = await client.receive_json()
        assert answer["success"], answer
        return answer

    return _send


@pytest.fixture(name="start")
def start_fixture() -> datetime:
    """Return tomorrow at the full hour, in UTC."""
    return dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )


@pytest.mark.parametrize(
    ("event", "link"),
    [
        ({"hangoutLink": LINK}, LINK),
        (
            {
                "conferenceData": {
                    "entryPoints": [
                        {"entryPointType": "phone", "uri": "tel:+1-555"},
                        {"entryPointType": "video", "uri": LINK},
                    ]
                }
            },
            LINK,
        ),
        ({"conferenceData": {"entryPoints": [{"entryPointType": "phone"}]}}, None),
        ({"conferenceData": "odd"}, None),
        ({}, None),
    ],
)
def test_meet_link_is_read_from_the_event(
    event: dict[str, Any], link: str | None
) -> None:
    """The link is Google's hangoutLink, or the video entry point of the conference."""
    assert meet_link(event) == link


def test_link_is_the_last_line_of_the_description() -> None:
    """The link follows the description, or is all of it."""
    assert shown_description("Agenda", LINK) == f"Agenda\n\nGoogle Meet: {LINK}"
    assert shown_description(None, LINK) == f"Google Meet: {LINK}"
    assert shown_description("Agenda", None) == "Agenda"


@given(st.text(), st.sampled_from([LINK, None]))
def test_an_unchanged_shown_description_writes_back_the_original(
    description: str, link: str | None
) -> None:
    """Whatever the description, sending back what was shown writes what Google had."""
    shown = shown_description(description, link) or ""
    assert written_description(shown, link) == description or (
        # Google's description ending in blanks loses them; an empty one stays empty.
        written_description(shown, link) == description.rstrip() and link is not None
    )


def test_a_description_without_the_shown_line_is_written_as_is() -> None:
    """A user who removed or edited the link line writes exactly what they typed."""
    assert written_description("Agenda", LINK) == "Agenda"
    assert written_description(f"Agenda {LINK}", LINK) == f"Agenda {LINK}"


async def test_meet_link_shows_in_get_events_and_the_entity_state(
    hass: HomeAssistant,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    get_events: GetEvents,
    calendar_entity_id: Callable[[str], str],
) -> None:
    """An event with a Meet conference shows its link where users look."""
    changes = async_capture_events(hass, EVENT_CHANGED)
    now = dt_util.utcnow().replace(microsecond=0)
    created = calendar_emulator.insert_event(
        ACCOUNT, _meet_body("Call", now - timedelta(minutes=5), description="Agenda")
    )
    link = created["hangoutLink"]
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()

    events = await get_events(now - timedelta(hours=1), now + timedelta(hours=2))
    assert [event["description"] for event in events] == [
        f"Agenda\n\nGoogle Meet: {link}"
    ]
    state = hass.states.get(calendar_entity_id(ACCOUNT))
    assert state is not None
    assert state.attributes["description"] == f"Agenda\n\nGoogle Meet: {link}"
    # Automations get it apart, in the bus event and the event entity.
    assert [change.data["meet_link"] for change in changes] == [link]
    assert changes[0].data["description"] == "Agenda"


@pytest.mark.parametrize("description", ["Agenda", None])
async def test_an_edit_in_home_assistant_keeps_the_link_out_of_the_description(
    *,
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    send: Send,
    get_events: GetEvents,
    start: datetime,
    description: str | None,
) -> None:
    """The panel sends the shown description back; Google keeps its own fields."""
    extra = {"description": description} if description else {}
    created = calendar_emulator.insert_event(
        ACCOUNT, _meet_body("Call", start, **extra)
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    [shown] = await get_events(start, start + timedelta(hours=1))

    await send(
        {
            "type": "calendar/event/update",
            "uid": created["id"],
            "event": {
                "summary": "Call with Alex",
                "dtstart": shown["start"],
                "dtend": shown["end"],
                "description": shown["description"],
            },
        }
    )

    stored = calendar_emulator.get_event(ACCOUNT, created["id"])
    assert stored["summary"] == "Call with Alex"
    assert stored.get("description", "") == (description or "")
    assert stored["hangoutLink"] == created["hangoutLink"]
    assert stored["conferenceData"] == created["conferenceData"]
    [after] = await get_events(start, start + timedelta(hours=1))
    assert after["description"] == shown["description"]


async def test_editing_one_occurrence_keeps_the_series_link_out(
    calendar_emulator: GoogleCalendarEmulator,
    setup_integration: MockConfigEntry,
    send: Send,
    get_events: GetEvents,
    start: datetime,
) -> None:
    """An occurrence shows its series' link; editing it writes none into the exception."""
    series = calendar_emulator.insert_event(
        ACCOUNT,
        _meet_body(
            "Standup",
            start,
            description="Daily",
            recurrence=["RRULE:FREQ=DAILY;COUNT=3"],
        ),
    )
    await setup_integration.runtime_data.coordinators[ACCOUNT].async_sync()
    _first, second, _third = await get_events(start, start + timedelta(days=3))
    assert second["description"] == f"Daily\n\nGoogle Meet: {series['hangoutLink']}"
    instance_id = f"{series['id']}_{(start + timedelta(days=1)):%Y%m%dT%H%M%SZ}"

    await send(
        {
            "type": "calendar/event/update",
            "uid": series["id"],
            "recurrence_id": instance_id.rpartition("_")[2],
            "event": {
                "summary": "Long standup",
                "dtstart": second["start"],
                "dtend": second["end"],
                "description": second["description"],
            },
        }
    )

    exception = calendar_emulator.get_event(ACCOUNT, instance_id)
    assert exception["summary"] == "Long standup"
    assert exception["description"] == "Daily"
