"""Service-account credentials: the JWT bearer grant, sent on an aiohttp session.

Google side only: nothing here knows Home Assistant. A service account's JSON key
signs a short-lived assertion with google-auth (RS256); the token endpoint trades it
for an access token (RFC 7523, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`).
With `subject`, the token acts for that Workspace user (domain-wide delegation).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import json
import time
from typing import Any

import aiohttp
from google.auth import crypt, jwt

from .errors import GoogleAuthError, GoogleTransientError
from .transport import REQUEST_TIMEOUT

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # seconds: Google's maximum
# Refresh this long before the access token runs out, so no request meets a stale one.
REFRESH_MARGIN = 300
KEY_FIELDS = ("client_email", "private_key", "private_key_id")


class InvalidServiceAccountKeyError(ValueError):
    """The text is not a service account's JSON key."""


@dataclass(frozen=True, slots=True)
class ServiceAccountKey:
    """A service account's JSON key, checked and ready to sign."""

    info: Mapping[str, Any]
    signer: crypt.Signer

    @classmethod
    def from_info(cls, info: Any) -> ServiceAccountKey:
        """Check a parsed JSON key; raise InvalidServiceAccountKeyError if it is not one."""
        if not isinstance(info, Mapping) or info.get("type") != "service_account":
            raise InvalidServiceAccountKeyError("not a service account key")
        for name in KEY_FIELDS:
            if not isinstance(info.get(name), str) or not info[name]:
                raise InvalidServiceAccountKeyError(f"{name} is missing")
        try:
            signer = crypt.RSASigner.from_service_account_info(info)
        except ValueError as err:
            raise InvalidServiceAccountKeyError("the private key is invalid") from err
        return cls(dict(info), signer)

    @classmethod
    def from_json(cls, text: str) -> ServiceAccountKey:
        """Parse and check the text of a JSON key file."""
        try:
            info = json.loads(text)
        except ValueError as err:
            raise InvalidServiceAccountKeyError("not JSON") from err
        return cls.from_info(info)

    @property
    def client_email(self) -> str:
        """Return the service account's email (its identity)."""
        return str(self.info["client_email"])

    @property
    def key_id(self) -> str:
        """Return the id of this key (Google lists it in the console)."""
        return str(self.info["private_key_id"])

    def assertion(
        self, *, audience: str, scopes: list[str], subject: str | None, now: int
    ) -> str:
        """Return a signed JWT asking for an access token (RFC 7523)."""
        claims: dict[str, Any] = {
            "iss": self.client_email,
            "scope": " ".join(scopes),
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        if subject:
            claims["sub"] = subject
        signed: bytes = jwt.encode(self.signer, claims)
        return signed.decode()


class ServiceAccountAuth:
    """Access tokens of a service account, refreshed before they expire."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        key: ServiceAccountKey,
        token_url: str,
        *,
        scopes: list[str],
        subject: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep what the grant needs; no token is fetched yet."""
        self._session = session
        self.key = key
        self._token_url = token_url
        self._scopes = scopes
        self.subject = subject
        self._clock = clock
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def async_get_access_token(self, *, force_refresh: bool = False) -> str:
        """Return a valid access token, asking for a new one when needed."""
        rejected = self._access_token if force_refresh else None
        async with self._lock:
            # Another caller refreshed while we waited: its token is new enough.
            if (
                self._access_token is not None
                and self._access_token != rejected
                and self._clock() < self._expires_at - REFRESH_MARGIN
            ):
                return self._access_token
            self._access_token, self._expires_at = await self._async_grant()
            return self._access_token

    async def _async_grant(self) -> tuple[str, float]:
        """Trade a fresh assertion for an access token; return it and its expiry."""
        now = int(self._clock())
        assertion = await asyncio.get_running_loop().run_in_executor(
            None,
            lambda: self.key.assertion(
                audience=self._token_url,
                scopes=self._scopes,
                subject=self.subject,
                now=now,
            ),
        )
        data = {"grant_type": JWT_BEARER_GRANT, "assertion": assertion}
        try:
            async with self._session.post(
                self._token_url, data=data, timeout=REQUEST_TIMEOUT
            ) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError) as err:
            raise GoogleTransientError(
                None, None, f"Token request failed: {err!r}"
            ) from err
        if not isinstance(body, dict):
            body = {}
        if status in (400, 401, 403):
            # invalid_grant (key deleted or disabled, account gone, bad subject),
            # unauthorized_client (delegation not allowed), invalid_scope.
            raise GoogleAuthError(
                status,
                str(body.get("error") or "invalid_grant"),
                str(body.get("error_description") or f"HTTP {status}"),
            )
        if status >= 300 or not isinstance(body.get("access_token"), str):
            raise GoogleTransientError(
                status, None, f"Token request answered HTTP {status}"
            )
        return body["access_token"], now + float(
            body.get("expires_in", ASSERTION_LIFETIME)
        )
