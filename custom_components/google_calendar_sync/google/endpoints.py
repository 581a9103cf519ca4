"""Where Google's Calendar API and OAuth endpoints live, or the emulator's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import os

ENV_ENDPOINT = "GOOGLE_CALENDAR_SYNC_ENDPOINT"


@dataclass(frozen=True, slots=True)
class GoogleEndpoints:
    """Where the Calendar API, its batch endpoint and the OAuth endpoints live."""

    api: str = "https://www.googleapis.com/calendar/v3/"
    batch: str = "https://www.googleapis.com/batch/calendar/v3"
    authorize: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token: str = "https://oauth2.googleapis.com/token"  # noqa: S105
    allow_insecure_webhook: bool = False

    @classmethod
    def for_base_url(cls, base_url: str) -> GoogleEndpoints:
        """Return the endpoints of a Google look-alike (the emulator) at base_url."""
        base = base_url.rstrip("/") + "/"
        return cls(
            api=f"{base}calendar/v3/",
            batch=f"{base}batch/calendar/v3",
            authorize=f"{base}o/oauth2/v2/auth",
            token=f"{base}token",
            allow_insecure_webhook=True,
        )


def endpoints_from_environment(
    environ: Mapping[str, str] = os.environ,
) -> GoogleEndpoints:
    """Return Google's endpoints, or the emulator's when the environment names one."""
    if base_url := environ.get(ENV_ENDPOINT, "").strip():
        return GoogleEndpoints.for_base_url(base_url)
    return GoogleEndpoints()
