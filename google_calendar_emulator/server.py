"""The emulator's aiohttp server and its Python API.

Seams for the extras modules (channels.py, batch.py, control.py):

- `GoogleCalendarEmulator.__init__` builds `self.app` and calls `setup(app, emulator)` of
  `channels`, `batch` and `control` when those modules exist, BEFORE the catch-all
  Calendar API route is added, so routes they register under `/calendar/v3/...` win.
  Register cleanup with `app.on_cleanup` / `app.on_shutdown`; `stop()` runs them.
- `emulator.model` (`CalendarModel`): `model.add_change_listener(callback)` calls
  `callback(calendar_id)` after every committed change, over HTTP or the Python helpers.
- `emulator.authenticate(request) -> email` raises `ApiError` (401); any `ApiError` a
  handler raises is rendered as Google's JSON error by the middleware.
- `await emulator.dispatch(method, path_qs, headers, body) -> (status, headers, body)` runs
  one Calendar API call in-process (a batch part): faults and the request log apply.
- `emulator.faults`, `emulator.requests`, `emulator.channels` (a mapping the channels
  module may replace), `emulator.add_idle_waiter(async_fn)` (awaited by
  `notifications_idle()`), `emulator.base_url` (known after `start()`).
- The middleware applies faults and logs every request whose path starts with
  `/calendar/`, `/batch/` or `/token`, so extras routes there get both for free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
import importlib
import json
import logging
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from aiohttp import web
from multidict import CIMultiDict

from . import errors
from .colors import colors_resource
from .errors import ApiError
from .faults import Fault, FaultInjector, FaultKind
from .identities import JWT_BEARER, Identities
from .model import PUBLIC_READER, CalendarModel
from .oauth import READ_ONLY_SCOPES, AccessToken, OAuthServer
from .requests_log import LoggedRequest, RequestLog

_LOGGER = logging.getLogger(__name__)

API_PREFIX = "/calendar/v3/"
_LOGGED_PREFIXES = ("/calendar/", "/batch/", "/token")
_EXTRAS = ("channels", "batch", "control")
_JSON_TYPE = "application/json; charset=UTF-8"

type ApiResult = tuple[int, dict[str, str], bytes]


class GoogleCalendarEmulator:
    """A Google Calendar API v3 server on loopback, with OAuth and test controls."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token_ttl: timedelta = timedelta(hours=1),
    ) -> None:
        """Build the app; nothing listens until start()."""
        self.host = host
        self.port = port
        self.model = CalendarModel()
        self.oauth = OAuthServer(self.model, access_token_ttl)
        self.identities = Identities(self.oauth)
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.channels: Mapping[str, Any] = {}
        self._idle_waiters: list[Callable[[], Awaitable[None]]] = []
        self._runner: web.AppRunner | None = None
        # Set by stop(): releases requests a HANG fault holds.
        self._stopping = asyncio.Event()
        self.base_url = f"http://{host}:{port}/"
        self.app = self._build_app()

    # --- URLs -------------------------------------------------------------------------

    @property
    def api_endpoint(self) -> str:
        """Return the Calendar API root (the client's api_endpoint)."""
        return f"{self.base_url}calendar/v3/"

    @property
    def batch_uri(self) -> str:
        """Return the batch endpoint."""
        return f"{self.base_url}batch/calendar/v3"

    @property
    def authorize_url(self) -> str:
        """Return the OAuth consent page URL."""
        return f"{self.base_url}o/oauth2/v2/auth"

    @property
    def token_url(self) -> str:
        """Return the OAuth token endpoint."""
        return f"{self.base_url}token"

    # --- lifecycle --------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 << 20)
        app.router.add_get("/o/oauth2/v2/auth", self.oauth.authorize_page)
        app.router.add_post("/o/oauth2/v2/auth", self.oauth.authorize_submit)
        app.router.add_post("/token", self._token)
        app.router.add_get("/", self._index)
        for name in _EXTRAS:
            try:
                module = importlib.import_module(f"{__package__}.{name}")
            except ImportError as err:
                if err.name != f"{__package__}.{name}":
                    raise
                continue
            if (setup := getattr(module, "setup", None)) is not None:
                setup(app, self)
        app.router.add_route("*", API_PREFIX + "{tail:.*}", self._api_handler)
        return app

    async def start(self) -> None:
        """Start listening; base_url then carries the real port."""
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self.base_url = f"http://{self.host}:{self.port}/"
        _LOGGER.debug("Google Calendar emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop listening and run the app's cleanup callbacks."""
        self._stopping.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start the emulator."""
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the emulator."""
        await self.stop()

    # --- Python API -------------------------------------------------------------------

    def add_user(self, email: str) -> str:
        """Create a user with a primary calendar whose id is the email."""
        return self.model.add_user(email)

    def add_calendar(
        self,
        owner: str,
        summary: str,
        *,
        calendar_id: str | None = None,
        time_zone: str = "UTC",
        access_role: str = "owner",
        color_id: str = "1",
    ) -> str:
        """Create a secondary calendar colored from the palette; return its id."""
        return self.model.add_calendar(
            owner,
            summary,
            calendar_id=calendar_id,
            time_zone=time_zone,
            access_role=access_role,
            color_id=color_id,
        )

    def share_calendar(self, calendar_id: str, email: str, access_role: str) -> None:
        """Give another user access to a calendar."""
        self.model.share_calendar(calendar_id, email, access_role)

    def issue_tokens(
        self, email: str, client_id: str = "test-client-id"
    ) -> dict[str, Any]:
        """Mint tokens for a user without the consent page."""
        return self.oauth.issue_tokens(email, client_id)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Revoke a refresh token: the next refresh answers invalid_grant."""
        self.oauth.revoke_refresh_token(refresh_token)

    def expire_access_tokens(self) -> None:
        """Expire every access token: the API answers 401 until a refresh."""
        self.oauth.expire_access_tokens()

    def insert_event(self, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create an event as the calendar's owner would in Google (Meet included)."""
        return self.model.insert_event(
            None, calendar_id, body, conference_data_version=1
        )

    def patch_event(
        self, calendar_id: str, event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Patch an event or instance as a user editing it in Google."""
        return self.model.edit_event(
            None, calendar_id, event_id, body, patch=True, conference_data_version=1
        )

    def update_event(
        self, calendar_id: str, event_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace an event or instance as a user editing it in Google."""
        return self.model.edit_event(
            None, calendar_id, event_id, body, patch=False, conference_data_version=1
        )

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Delete an event or instance as a user in Google."""
        self.model.delete_event(None, calendar_id, event_id)

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        """Return an event or instance (cancelled ones too)."""
        return self.model.get_event(None, calendar_id, event_id)

    def put_unchecked_event(self, calendar_id: str, resource: dict[str, Any]) -> str:
        """Store a resource unchecked (see CalendarModel.put_unchecked_event)."""
        return self.model.put_unchecked_event(calendar_id, resource)

    def events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Return the stored events that are not cancelled."""
        return self.model.stored_events(calendar_id)

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Make existing sync tokens answer 410 fullSyncRequired."""
        self.model.invalidate_sync_tokens(calendar_id)

    def create_service_account(
        self, name: str, *, delegation: bool = False
    ) -> dict[str, Any]:
        """Create a service account (empty calendarList); return its JSON key."""
        return self.identities.create_service_account(
            name, delegation=delegation, token_uri=self.token_url
        )

    def create_service_account_key(self, email: str) -> dict[str, Any]:
        """Add a key to a service account; return the JSON key."""
        return self.identities.create_key(email, token_uri=self.token_url)

    def create_api_key(self, *, restricted: bool = False) -> str:
        """Create an API key; a restricted one is refused by the Calendar API."""
        return self.identities.create_api_key(restricted=restricted)

    def set_public(self, calendar_id: str, public: bool = True) -> None:
        """Make a calendar public (readable with an API key) or private."""
        self.model.set_public(calendar_id, public)

    def add_idle_waiter(self, waiter: Callable[[], Awaitable[None]]) -> None:
        """Register a coroutine function that notifications_idle() awaits."""
        self._idle_waiters.append(waiter)

    async def notifications_idle(self) -> None:
        """Wait until no notification is in flight."""
        for waiter in list(self._idle_waiters):
            await waiter()

    def authenticate(self, request: web.Request) -> str:
        """Return the user of the request's bearer token or raise the 401 ApiError."""
        return self.oauth.authenticate(request.headers.get("Authorization")).email

    # --- HTTP plumbing ----------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        """Route the token endpoint by grant type."""
        form = await request.post()
        if form.get("grant_type") == JWT_BEARER:
            return await self.identities.token(request)
        return await self.oauth.token(request)

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text="Google Calendar API v3 emulator\n")

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """Apply faults, render ApiError as Google JSON and log the request."""
        path = request.path
        if not path.startswith(_LOGGED_PREFIXES):
            return await self._render(request, handler)
        response: web.StreamResponse
        fault = self.faults.take(request.method, path)
        if fault is not None:
            await self._stall(fault)
        if fault is not None and fault.kind in {FaultKind.DROP, FaultKind.HANG}:
            self._log(request, 0, 0)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more to say on a dead connection
        if fault is not None and (error := fault.error()) is not None:
            response = _error_response(error, fault.retry_after)
        else:
            response = await self._render(request, handler)
            if fault is not None and fault.kind is FaultKind.SLOW_ANSWER:
                await asyncio.sleep(fault.delay)
            if (
                fault is not None
                and response.status == 200
                and isinstance(response, web.Response)
                and (garbage := fault.garbage(_body_bytes(response))) is not None
            ):
                response = web.Response(
                    status=200, body=garbage[1], headers={"Content-Type": garbage[0]}
                )
        size = (
            len(response.body)
            if isinstance(response, web.Response) and isinstance(response.body, bytes)
            else (response.content_length or 0)
        )
        self._log(request, response.status, size)
        return response

    async def _stall(self, fault: Fault) -> None:
        """Wait as a DELAY or HANG fault asks."""
        if fault.kind is FaultKind.DELAY:
            await asyncio.sleep(fault.delay)
        elif fault.kind is FaultKind.HANG:
            await self._stopping.wait()

    def _log(self, request: web.Request, status: int, size: int) -> None:
        self.requests.record(
            LoggedRequest(
                method=request.method,
                path=request.path,
                query={key: request.query.getall(key) for key in request.query},
                status=status,
                response_bytes=size,
                request_bytes=request.content_length or 0,
            )
        )

    @staticmethod
    async def _render(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as err:
            return _error_response(err)

    async def _api_handler(self, request: web.Request) -> web.Response:
        """Serve /calendar/v3/... through the in-process dispatcher."""
        body = await request.read()
        status, headers, payload = await self._handle_api(
            request.method,
            request.rel_url.raw_path,
            request.rel_url.raw_query_string,
            headers=request.headers,
            body=body,
        )
        return web.Response(status=status, headers=headers, body=payload or None)

    async def dispatch(
        self,
        method: str,
        path_qs: str,
        headers: Mapping[str, str],
        body: bytes = b"",
    ) -> ApiResult:
        """Run one Calendar API request in-process (a batch part)."""
        parts = urlsplit(path_qs)
        path = unquote(parts.path)
        fault = self.faults.take(method, path)
        result: ApiResult
        if fault is not None:
            await self._stall(fault)
        if fault is not None and fault.kind in {FaultKind.DROP, FaultKind.HANG}:
            # A batch part cannot lose its connection alone: answer like a backend hiccup.
            result = _error_result(errors.backend_error(503))
        elif fault is not None and (error := fault.error()) is not None:
            result = _error_result(error, fault.retry_after)
        else:
            result = await self._handle_api(
                method.upper(),
                parts.path,
                parts.query,
                headers=CIMultiDict(headers),
                body=body,
            )
            if fault is not None and fault.kind is FaultKind.SLOW_ANSWER:
                await asyncio.sleep(fault.delay)
            if (
                fault is not None
                and result[0] == 200
                and (garbage := fault.garbage(result[2])) is not None
            ):
                result = 200, {"Content-Type": garbage[0]}, garbage[1]
        self.requests.record(
            LoggedRequest(
                method=method.upper(),
                path=path,
                query=parse_qs(parts.query, keep_blank_values=True),
                status=result[0],
                response_bytes=len(result[2]),
                request_bytes=len(body),
                batch_part=True,
            )
        )
        return result

    async def _handle_api(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        *,
        headers: Mapping[str, str],
        body: bytes,
    ) -> ApiResult:
        """Route and answer one Calendar API call; errors become Google JSON."""
        try:
            segments = [
                unquote(segment)
                for segment in raw_path.removeprefix(API_PREFIX).strip("/").split("/")
            ]
            query = parse_qs(raw_query, keep_blank_values=True)
            authorization = headers.get("Authorization")
            if authorization is None and (keys := query.get("key")):
                token = self._api_key_reader(keys[0], method, segments)
            else:
                token = self.oauth.authenticate(authorization)
            return self._route(
                method, segments, query, headers=headers, body=body, token=token
            )
        except ApiError as err:
            return _error_result(err)

    def _api_key_reader(
        self, key: str, method: str, segments: list[str]
    ) -> AccessToken:
        """Return the anonymous reader of an API key request, or raise Google's error."""
        self.identities.check_api_key(
            key, "Events.List" if "events" in segments else "Calendars.Get"
        )
        if method not in ("GET", "HEAD") or segments[:1] == ["users"]:
            # An API key names no user: calendarList and writes need OAuth.
            raise ApiError(
                401,
                "required",
                "Login Required.",
                location="Authorization",
                location_type="header",
            )
        return AccessToken(
            PUBLIC_READER,
            "api-key",
            " ".join(sorted(READ_ONLY_SCOPES)),
            self.oauth.clock() + timedelta(days=1),
        )

    def _route(
        self,
        method: str,
        segments: list[str],
        query: dict[str, list[str]],
        *,
        headers: Mapping[str, str],
        body: bytes,
        token: AccessToken,
    ) -> ApiResult:
        """Map a path to a model call."""
        model, user = self.model, token.email
        if method not in ("GET", "HEAD") and not token.can_write:
            raise errors.insufficient_scopes()
        cdv = _int_param(query, "conferenceDataVersion")
        if_match = headers.get("If-Match")
        match segments:
            case ["colors"] if method == "GET":
                return _ok(colors_resource())
            case ["users", "me", "calendarList"] if method == "GET":
                return _ok(model.calendar_list(user, query))
            case ["users", "me", "calendarList"] if method == "POST":
                calendar_id = _json(body).get("id")
                if not isinstance(calendar_id, str) or not calendar_id:
                    raise errors.required("id")
                return _ok(model.insert_calendar_list_entry(user, calendar_id))
            case ["users", "me", "calendarList", calendar_id] if method == "GET":
                return _ok(model.calendar_list_entry(user, calendar_id))
            case ["calendars", calendar_id] if method == "GET":
                return _ok(model.calendar_resource(user, calendar_id))
            case ["calendars", calendar_id, "events"] if method == "GET":
                return _ok(model.list_events(user, calendar_id, query))
            case ["calendars", calendar_id, "events"] if method == "POST":
                return _ok(
                    model.insert_event(
                        user, calendar_id, _json(body), conference_data_version=cdv
                    )
                )
            case ["calendars", calendar_id, "events", "import"] if method == "POST":
                return _ok(
                    model.import_event(
                        user, calendar_id, _json(body), conference_data_version=cdv
                    )
                )
            case ["calendars", calendar_id, "events", event_id] if method == "GET":
                event = model.get_event(user, calendar_id, event_id)
                if headers.get("If-None-Match") == event["etag"]:
                    return 304, {"ETag": event["etag"]}, b""
                return _ok(event)
            case ["calendars", calendar_id, "events", event_id] if method in (
                "PATCH",
                "PUT",
            ):
                return _ok(
                    model.edit_event(
                        user,
                        calendar_id,
                        event_id,
                        _json(body),
                        patch=method == "PATCH",
                        if_match=if_match,
                        conference_data_version=cdv,
                    )
                )
            case ["calendars", calendar_id, "events", event_id] if method == "DELETE":
                model.delete_event(user, calendar_id, event_id, if_match=if_match)
                return 204, {}, b""
            case ["calendars", calendar_id, "events", event_id, "move"] if (
                method == "POST"
            ):
                destination = query.get("destination", [""])[0]
                if not destination:
                    raise errors.required("destination")
                return _ok(model.move_event(user, calendar_id, event_id, destination))
            case ["calendars", calendar_id, "events", event_id, "instances"] if (
                method == "GET"
            ):
                return _ok(model.instances(user, calendar_id, event_id, query))
        raise errors.not_found()


def _int_param(query: Mapping[str, list[str]], name: str) -> int:
    values = query.get(name)
    if not values:
        return 0
    try:
        return int(values[0])
    except ValueError:
        raise errors.bad_request(
            f"Invalid value for: {name}", location=name, location_type="parameter"
        ) from None


def _json(body: bytes) -> dict[str, Any]:
    """Parse a JSON request body."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise errors.bad_request("Parse Error", reason="parseError") from None
    if not isinstance(value, dict):
        raise errors.bad_request("Parse Error", reason="parseError")
    return value


def _ok(payload: dict[str, Any]) -> ApiResult:
    headers = {"Content-Type": _JSON_TYPE}
    if etag := payload.get("etag"):
        headers["ETag"] = etag
    return 200, headers, json.dumps(payload).encode()


def _error_headers(retry_after: str | None) -> dict[str, str]:
    headers = {"Content-Type": _JSON_TYPE}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return headers


def _error_result(error: ApiError, retry_after: str | None = None) -> ApiResult:
    return error.code, _error_headers(retry_after), error.body_bytes()


def _error_response(error: ApiError, retry_after: str | None = None) -> web.Response:
    return web.Response(
        status=error.code, body=error.body_bytes(), headers=_error_headers(retry_after)
    )


def _body_bytes(response: web.Response) -> bytes:
    return response.body if isinstance(response.body, bytes) else b""
