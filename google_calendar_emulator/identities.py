"""Service accounts (JWT bearer grant) and API keys for the emulator.

Google's behaviour modelled here:
- A service account has an email, a project, an OAuth client id and RSA keys; its JSON
  key holds the private key and the key id (`kid` of the assertions it signs).
- The token endpoint's JWT bearer grant
  (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, `assertion=<JWT>`) checks
  the RS256 signature against the account's registered public keys, the issuer, the
  audience (the token endpoint), `iat`/`exp` (at most one hour apart, not expired),
  the scope and the `sub` user (domain-wide delegation, allowed per account).
  Errors are `{"error", "error_description"}`: 400 `invalid_grant` for the assertion,
  400 `invalid_scope`, 401 `unauthorized_client` when delegation is not allowed.
- A service account's calendarList starts empty: calendars shared with it appear only
  after calendarList.insert.
- API keys go in the `key` query parameter. An unknown key answers 400 "API key not
  valid", a key restricted to other APIs 403, a calendar that is not public 404; an API
  key identifies no user, so calendarList and writes answer 401.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
import json
import secrets
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import errors
from .errors import ApiError

if TYPE_CHECKING:
    from .oauth import OAuthServer

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 3600
CLOCK_SKEW = 300


@dataclass(slots=True)
class ServiceAccount:
    """A service account and the public halves of its keys."""

    email: str
    project_id: str
    client_id: str
    delegation: bool
    public_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)  # by key id


@dataclass(slots=True)
class ApiKey:
    """An API key; a restricted one may not call the Calendar API."""

    key: str
    restricted: bool = False


class GrantError(Exception):
    """The token endpoint refuses an assertion."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        """Store Google's error code, description and HTTP status."""
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> web.Response:
        """Return the token endpoint's error answer."""
        return web.json_response(
            {"error": self.error, "error_description": self.description},
            status=self.status,
        )


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _invalid_signature() -> GrantError:
    return GrantError("invalid_grant", "Invalid JWT Signature.")


@dataclass
class Identities:
    """Service accounts and API keys known to the emulator."""

    oauth: OAuthServer
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every service account and API key."""
        self.service_accounts.clear()
        self.api_keys.clear()

    def as_state(self) -> dict[str, Any]:
        """Return service accounts (public keys as PEM) and API keys, JSON-friendly."""
        return {
            "service_accounts": [
                {
                    "email": account.email,
                    "project_id": account.project_id,
                    "client_id": account.client_id,
                    "delegation": account.delegation,
                    "public_keys": {
                        key_id: key.public_bytes(
                            serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo,
                        ).decode()
                        for key_id, key in account.public_keys.items()
                    },
                }
                for account in self.service_accounts.values()
            ],
            "api_keys": {key.key: key.restricted for key in self.api_keys.values()},
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Replace service accounts and API keys with what as_state returned."""
        self.reset()
        for fields in state["service_accounts"]:
            public_keys: dict[str, rsa.RSAPublicKey] = {}
            for key_id, pem in fields["public_keys"].items():
                key = serialization.load_pem_public_key(pem.encode())
                if not isinstance(key, rsa.RSAPublicKey):
                    raise TypeError(f"Key {key_id} of {fields['email']} is not RSA")
                public_keys[key_id] = key
            self.service_accounts[fields["email"]] = ServiceAccount(
                email=fields["email"],
                project_id=fields["project_id"],
                client_id=fields["client_id"],
                delegation=fields["delegation"],
                public_keys=public_keys,
            )
        self.api_keys = {
            key: ApiKey(key, restricted)
            for key, restricted in state["api_keys"].items()
        }

    # --- service accounts ---------------------------------------------------------

    def create_service_account(
        self,
        name: str,
        *,
        project_id: str = "emulator-project",
        delegation: bool = False,
        token_uri: str,
    ) -> dict[str, Any]:
        """Create a service account with an empty calendarList; return a JSON key."""
        email = f"{name}@{project_id}.iam.gserviceaccount.com"
        if email in self.service_accounts:
            raise errors.duplicate()
        self.service_accounts[email] = ServiceAccount(
            email=email,
            project_id=project_id,
            client_id=str(100000000000000000000 + len(self.service_accounts)),
            delegation=delegation,
        )
        self.oauth.model.add_user(email)
        self.oauth.model.calendar_lists[email] = set()
        return self.create_key(email, token_uri=token_uri)

    def create_key(self, email: str, *, token_uri: str) -> dict[str, Any]:
        """Add a key to a service account; return its JSON key file as Google does."""
        account = self.service_accounts[email]
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        account.public_keys[key_id] = private_key.public_key()
        private_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": account.project_id,
            "private_key_id": key_id,
            "private_key": private_pem,
            "client_email": account.email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": (
                "https://www.googleapis.com/robot/v1/metadata/x509/"
                + account.email.replace("@", "%40")
            ),
            "universe_domain": "googleapis.com",
        }

    def delete_key(self, email: str, key_id: str) -> None:
        """Delete a key: assertions it signs answer invalid_grant."""
        del self.service_accounts[email].public_keys[key_id]

    def delete_service_account(self, email: str) -> None:
        """Delete a service account (its tokens stop working)."""
        del self.service_accounts[email]
        self.oauth.access_tokens = {
            token: value
            for token, value in self.oauth.access_tokens.items()
            if value.client_id != email
        }

    def jwt_bearer_grant(self, assertion: str, token_url: str) -> dict[str, Any]:
        """Check a signed assertion; return the access token answer or raise."""
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(payload_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            raise GrantError("invalid_grant", "Invalid JWT format.") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise GrantError("invalid_grant", "Invalid JWT format.")
        account = self.service_accounts.get(str(claims.get("iss", "")))
        if account is None:
            raise GrantError("invalid_grant", "Invalid grant: account not found")
        public_key = account.public_keys.get(str(header.get("kid", "")))
        if header.get("alg") != "RS256" or public_key is None:
            raise _invalid_signature()
        try:
            public_key.verify(
                signature,
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise _invalid_signature() from None
        if claims.get("aud") != token_url:
            raise GrantError(
                "invalid_grant",
                "Invalid JWT: Failed audience check. The expected audience is "
                f"{token_url}.",
            )
        now = self.oauth.clock().timestamp()
        issued, expires = claims.get("iat"), claims.get("exp")
        if (
            not isinstance(issued, int | float)
            or not isinstance(expires, int | float)
            or expires - issued > MAX_ASSERTION_LIFETIME
            or issued > now + CLOCK_SKEW
            or expires < now - CLOCK_SKEW
        ):
            raise GrantError(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scope = claims.get("scope")
        if not isinstance(scope, str) or not scope.strip():
            raise GrantError(
                "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        user = account.email
        if (subject := claims.get("sub")) and subject != account.email:
            if not account.delegation:
                raise GrantError(
                    "unauthorized_client",
                    "Client is unauthorized to retrieve access tokens using this "
                    "method, or client not authorized for any of the scopes requested.",
                    status=401,
                )
            if subject not in self.oauth.model.users or subject in (
                self.service_accounts
            ):
                raise GrantError("invalid_grant", "Invalid email or User ID")
            user = str(subject)
        body = self.oauth.access_token_body(user, account.email, scope)
        body.pop("scope")
        return body

    async def token(self, request: web.Request) -> web.Response:
        """Answer the JWT bearer grant of the token endpoint."""
        form = await request.post()
        try:
            body = self.jwt_bearer_grant(
                str(form.get("assertion", "")), str(request.url.with_query(None))
            )
        except GrantError as err:
            return err.response()
        return web.json_response(body)

    # --- API keys -----------------------------------------------------------------

    def create_api_key(
        self, *, restricted: bool = False, key: str | None = None
    ) -> str:
        """Create an API key (restricted: allowed for other APIs only)."""
        key = key or f"AIza{secrets.token_urlsafe(26)[:35]}"
        self.api_keys[key] = ApiKey(key, restricted)
        return key

    def check_api_key(self, key: str, method_name: str) -> None:
        """Raise Google's answer for an unknown or restricted key."""
        api_key = self.api_keys.get(key)
        if api_key is None:
            raise ApiError(
                400, "badRequest", "API key not valid. Please pass a valid API key."
            )
        if api_key.restricted:
            raise ApiError(
                403,
                "forbidden",
                "Requests to this API calendar-json.googleapis.com method "
                f"calendar.v3.{method_name} are blocked.",
            )
