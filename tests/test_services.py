"""Registration of the actions.

The actions themselves are tested in test_service_events.py and test_service_export.py.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, SupportsResponse
from homeassistant.setup import async_setup_component

from custom_components.google_calendar_sync.const import DOMAIN


async def test_actions_are_registered_when_the_integration_is_set_up(
    hass: HomeAssistant,
) -> None:
    """The actions exist before any entry (action-setup), answering as declared."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert {
        name: hass.services.supports_response(DOMAIN, name)
        for name in hass.services.async_services_for_domain(DOMAIN)
    } == {
        "create_event": SupportsResponse.OPTIONAL,
        "update_event": SupportsResponse.OPTIONAL,
        "delete_event": SupportsResponse.NONE,
        "export_appointments": SupportsResponse.OPTIONAL,
    }
