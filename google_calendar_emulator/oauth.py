"""OAuth 2.0 for the emulator: consent page, token endpoint and bearer checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import html
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import BasicAuth, web

from . import errors
from .model import CalendarModel

DEFAULT_SCOPE = "https://www.googleapis.com/auth/calendar"
READ_ONLY_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar.readonly",
        "https://www.googleapis.com/auth/calendar.events.readonly",
    }
)
INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "Token has been expired or revoked.",
}


@dataclass(slots=True)
class AccessToken:
    """A bearer token and whom it belongs to."""

    email: str
    client_id: str
    scope: str
    expires_at: datetime

    @property
    def can_write(self) -> bool:
        """Return True unless every granted scope is read-only."""
        return not set(self.scope.split()) <= READ_ONLY_SCOPES


@dataclass(slots=True)
class Grant:
    """A refresh token or an authorization code."""

    email: str
    client_id: str
    scope: str
    redirect_uri: str | None = None


@dataclass
class OAuthServer:
    """Codes, refresh tokens and access tokens, plus the HTTP handlers."""

    model: CalendarModel
    access_token_ttl: timedelta
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    # Every (client_id, client_secret) the token endpoint saw, for tests to assert on.
    clients: list[tuple[str, str | None]] = field(default_factory=list)

    # --- Python API -------------------------------------------------------------------

    def as_state(self) -> dict[str, Any]:
        """Return refresh and access tokens, JSON-friendly (codes are short-lived)."""
        return {
            "refresh_tokens": {
                token: [grant.email, grant.client_id, grant.scope]
                for token, grant in self.refresh_tokens.items()
            },
            "access_tokens": {
                token: [
                    value.email,
                    value.client_id,
                    value.scope,
                    value.expires_at.isoformat(),
                ]
                for token, value in self.access_tokens.items()
            },
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Replace the tokens with what as_state returned."""
        self.refresh_tokens = {
            token: Grant(email, client_id, scope)
            for token, (email, client_id, scope) in state["refresh_tokens"].items()
        }
        self.access_tokens = {
            token: AccessToken(
                email, client_id, scope, datetime.fromisoformat(expires_at)
            )
            for token, (email, client_id, scope, expires_at) in state[
                "access_tokens"
            ].items()
        }
        self.codes.clear()

    def issue_tokens(
        self, email: str, client_id: str = "test-client-id", scope: str = DEFAULT_SCOPE
    ) -> dict[str, Any]:
        """Mint a refresh token and an access token for a user."""
        self.model.add_user(email)
        refresh_token = f"1//{secrets.token_urlsafe(32)}"
        self.refresh_tokens[refresh_token] = Grant(email, client_id, scope)
        body = self.access_token_body(email, client_id, scope)
        body["refresh_token"] = refresh_token
        return body

    def access_token_body(
        self, email: str, client_id: str, scope: str
    ) -> dict[str, Any]:
        """Mint an access token for a user and client; return the token answer."""
        token = f"ya29.{secrets.token_urlsafe(32)}"
        self.access_tokens[token] = AccessToken(
            email, client_id, scope, self.clock() + self.access_token_ttl
        )
        return {
            "access_token": token,
            "expires_in": int(self.access_token_ttl.total_seconds()),
            "scope": scope,
            "token_type": "Bearer",
        }

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Revoke a refresh token and the access tokens of its user and client."""
        grant = self.refresh_tokens.pop(refresh_token, None)
        if grant is None:
            return
        self.access_tokens = {
            token: value
            for token, value in self.access_tokens.items()
            if (value.email, value.client_id) != (grant.email, grant.client_id)
        }

    def expire_access_tokens(self) -> None:
        """Make every access token expired (refresh tokens keep working)."""
        past = self.clock() - timedelta(seconds=1)
        for token in self.access_tokens.values():
            token.expires_at = past

    def authenticate(self, authorization: str | None) -> AccessToken:
        """Return the access token of an Authorization header, or raise the 401."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise errors.unauthenticated()
        token = self.access_tokens.get(authorization[7:].strip())
        if token is None or token.expires_at <= self.clock():
            raise errors.unauthenticated()
        return token

    # --- HTTP -------------------------------------------------------------------------

    async def authorize_page(self, request: web.Request) -> web.Response:
        """Show the consent page: pick a user, then Allow or Deny."""
        query = request.query
        if not query.get("redirect_uri") or not query.get("client_id"):
            return web.Response(
                status=400,
                text="Error 400: invalid_request (missing client_id or redirect_uri)",
            )
        hint = query.get("login_hint")
        options = "".join(
            f'<option value="{html.escape(email)}"'
            f"{' selected' if email == hint else ''}>{html.escape(email)}</option>"
            for email in self.model.users
        )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in query.items()
        )
        scope = html.escape(query.get("scope", DEFAULT_SCOPE))
        page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in - Google Calendar emulator</title></head>
<body>
<h1>Google Calendar emulator</h1>
<p id="client">{html.escape(query["client_id"])} wants to access your Google Calendar.</p>
<p id="scope">{scope}</p>
<form id="consent" method="post" action="/o/oauth2/v2/auth">
{hidden}
<label for="email">Account</label>
<select id="email" name="email">{options}</select>
<label for="new_email">or another email</label>
<input id="new_email" name="new_email" type="email">
<button id="allow" name="action" value="allow" type="submit">Allow</button>
<button id="deny" name="action" value="deny" type="submit">Deny</button>
</form>
</body></html>"""
        return web.Response(text=page, content_type="text/html")

    async def authorize_submit(self, request: web.Request) -> web.Response:
        """Handle the consent form: redirect back with a code (or access_denied)."""
        form = await request.post()
        redirect_uri = str(form.get("redirect_uri", ""))
        if not redirect_uri:
            return web.Response(status=400, text="Error 400: missing redirect_uri")
        params: dict[str, str] = {}
        if form.get("action") != "allow":
            params["error"] = "access_denied"
        else:
            email = str(form.get("new_email") or form.get("email") or "")
            if not email:
                return web.Response(status=400, text="Error 400: choose an account")
            self.model.add_user(email)
            code = f"4/{secrets.token_urlsafe(24)}"
            self.codes[code] = Grant(
                email,
                str(form.get("client_id", "")),
                str(form.get("scope") or DEFAULT_SCOPE),
                redirect_uri,
            )
            params["code"] = code
            params["scope"] = self.codes[code].scope
        if state := form.get("state"):
            params["state"] = str(state)
        parts = urlsplit(redirect_uri)
        query = (
            f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
        )
        raise web.HTTPFound(urlunsplit(parts._replace(query=query)))

    async def token(self, request: web.Request) -> web.Response:
        """Handle the authorization_code and refresh_token grants."""
        form = await request.post()
        client_id = str(form.get("client_id") or "")
        client_secret = form.get("client_secret")
        if not client_id and (header := request.headers.get("Authorization")):
            try:
                basic = BasicAuth.decode(header)
            except ValueError:
                pass
            else:
                client_id, client_secret = basic.login, basic.password
        self.clients.append((client_id, str(client_secret) if client_secret else None))
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.codes.pop(str(form.get("code", "")), None)
            if grant is None:
                return _oauth_error("invalid_grant", "Malformed auth code.")
            if grant.redirect_uri and form.get("redirect_uri") not in (
                None,
                grant.redirect_uri,
            ):
                return _oauth_error("redirect_uri_mismatch", "Bad Request")
            return web.json_response(
                self.issue_tokens(
                    grant.email, grant.client_id or client_id, grant.scope
                )
            )
        if grant_type == "refresh_token":
            refresh = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if refresh is None:
                return web.json_response(INVALID_GRANT, status=400)
            return web.json_response(
                self.access_token_body(refresh.email, refresh.client_id, refresh.scope)
            )
        grant_name = str(grant_type or "")
        return _oauth_error(
            "unsupported_grant_type", f"Invalid grant_type: {grant_name}"
        )


def _oauth_error(error: str, description: str) -> web.Response:
    """Return the token endpoint's error shape."""
    return web.json_response(
        {"error": error, "error_description": description}, status=400
    )
