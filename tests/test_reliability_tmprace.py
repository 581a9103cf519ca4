from datetime import timedelta
from typing import Any
from unittest.mock import patch
from homeassistant.util import dt as dt_util
from custom_components.google_calendar_sync.api import GoogleCalendarApi
from .conftest import ACCOUNT
from .reliability_helpers import *  # noqa
from .test_reliability_load import _entity

async def test_race(hass, setup_credentials, calendar_emulator):
    entry = make_entry(calendar_emulator, [ACCOUNT])
    await setup_entry(hass, entry)
    entity = _entity(hass)
    start = dt_util.now().replace(microsecond=0) + timedelta(days=1)
    await entity.async_create_event(summary="One", dtstart=start, dtend=start + timedelta(hours=1))
    [event] = calendar_emulator.events(ACCOUNT)
    coordinator = coordinator_of(entry, ACCOUNT)
    original = GoogleCalendarApi.list_events
    async def list_then_write(self, *args: Any, **kwargs: Any):
        page = await original(self, *args, **kwargs)
        # The second edit reaches Google and is stored while the page is on its way.
        await entity.async_update_event(event["id"], {"summary": "Two", "dtstart": start, "dtend": start + timedelta(hours=1)})
        return page
    with record_announcements(hass) as announced:
        with patch.object(GoogleCalendarApi, "list_events", list_then_write):
            await coordinator.async_sync()
        await coordinator.async_sync()
    print(announced)
    assert store_state(coordinator.snapshot) == google_state(calendar_emulator, ACCOUNT)
    assert announced == []
    await unload_entry(hass, entry)
