from unittest.mock import patch
from hypothesis import given, settings, HealthCheck
from .test_reliability_convergence import *  # noqa
from .test_reliability_convergence import _scenario, SCENARIOS
import custom_components.google_calendar_sync.coordinator as c

@settings(max_examples=30, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(steps=SCENARIOS)
async def test_mut(hass, world, steps):
    orig = c.CalendarSyncCoordinator._fire_changes
    def fire(self, changes):
        orig(self, type(changes)(changes.created, changes.updated[1:], changes.cancelled))
    with patch.object(c.CalendarSyncCoordinator, "_fire_changes", fire):
        await _scenario(hass, world, steps)
