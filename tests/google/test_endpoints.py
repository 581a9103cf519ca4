"""Tests of the endpoints: Google's, or the emulator's named by the environment."""

from __future__ import annotations

import pytest

from custom_components.google_calendar_sync.google.endpoints import (
    ENV_ENDPOINT,
    GoogleEndpoints,
    endpoints_from_environment,
)


def test_endpoints_default_to_google() -> None:
    endpoints = endpoints_from_environment({})
    assert endpoints == GoogleEndpoints()
    assert endpoints.api == "https://www.googleapis.com/calendar/v3/"
    assert endpoints.allow_insecure_webhook is False


@pytest.mark.parametrize("base", ["http://127.0.0.1:8765", "http://127.0.0.1:8765/"])
def test_endpoints_from_environment_select_the_emulator(base: str) -> None:
    endpoints = endpoints_from_environment({ENV_ENDPOINT: base})
    assert endpoints == GoogleEndpoints(
        api="http://127.0.0.1:8765/calendar/v3/",
        batch="http://127.0.0.1:8765/batch/calendar/v3",
        authorize="http://127.0.0.1:8765/o/oauth2/v2/auth",
        token="http://127.0.0.1:8765/token",
        allow_insecure_webhook=True,
    )


def test_endpoints_read_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_ENDPOINT, "http://localhost:1/")
    assert endpoints_from_environment().token == "http://localhost:1/token"
    monkeypatch.setenv(ENV_ENDPOINT, "  ")
    assert endpoints_from_environment() == GoogleEndpoints()
