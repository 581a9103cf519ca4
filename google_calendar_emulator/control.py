"""Control endpoints under /emulator/ for scripts and out-of-process tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
import ipaddress
import json
import logging
from typing import Any

from aiohttp import web

from .channels import registry
from .demo import seed_demo, seed_other_ways
from .errors import ApiError, bad_request
from .server import GoogleCalendarEmulator

_LOGGER = logging.getLogger(__name__)

PREFIX = "/emulator"
EMULATOR_KEY = web.AppKey("google_calendar_emulator_control", GoogleCalendarEmulator)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _is_loopback(remote: str | None) -> bool:
    """Return True for a loopback peer address."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _json(data: Any, status: int = 200) -> web.Response:
    """Answer with JSON."""
    return web.json_response(
        data, status=status, dumps=lambda obj: json.dumps(obj, default=str)
    )


def _error(err: ApiError) -> web.Response:
    """Answer with Google's error shape."""
    return web.Response(
        status=err.code, body=err.body_bytes(), content_type="application/json"
    )


async def _body(request: web.Request) -> dict[str, Any]:
    """Return the JSON object body, {} when empty."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise bad_request("Body is not JSON.", reason="parseError") from err
    if not isinstance(body, dict):
        raise bad_request("Body must be a JSON object.", reason="parseError")
    return body


def _field(body: dict[str, Any], name: str) -> str:
    """Return a required string field."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"Missing {name}.", reason="required")
    return value


def _guard(handler: Handler) -> Handler:
    """Refuse non-loopback peers and render emulator errors as Google does."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if not _is_loopback(request.remote):
            return _error(
                ApiError(403, "forbidden", "Control endpoints are loopback only.")
            )
        try:
            return await handler(request)
        except ApiError as err:
            return _error(err)
        except KeyError as err:
            return _error(ApiError(404, "notFound", f"Not Found: {err}"))

    return guarded


def _emulator(request: web.Request) -> GoogleCalendarEmulator:
    return request.app[EMULATOR_KEY]


async def index(request: web.Request) -> web.StreamResponse:
    """Describe the emulator and its endpoints."""
    emulator = _emulator(request)
    return _json(
        {
            "base_url": emulator.base_url,
            "api_endpoint": emulator.api_endpoint,
            "batch_uri": emulator.batch_uri,
            "authorize_url": emulator.authorize_url,
            "token_url": emulator.token_url,
            "endpoints": sorted(
                {
                    f"{route.method} {route.resource.canonical}"
                    for route in request.app.router.routes()
                    if route.resource is not None
                    and route.resource.canonical.startswith(PREFIX)
                    and route.method != "HEAD"
                }
            ),
        }
    )


async def add_user(request: web.Request) -> web.StreamResponse:
    """Create a user and its primary calendar."""
    body = await _body(request)
    calendar_id = _emulator(request).add_user(_field(body, "email"))
    return _json({"email": body["email"], "calendar_id": calendar_id}, status=201)


async def add_calendar(request: web.Request) -> web.StreamResponse:
    """Create a secondary calendar for a user."""
    body = await _body(request)
    calendar_id = _emulator(request).add_calendar(
        _field(body, "owner"),
        _field(body, "summary"),
        calendar_id=body.get("calendar_id"),
        time_zone=body.get("time_zone", "UTC"),
        access_role=body.get("access_role", "owner"),
        color_id=str(body.get("color_id", "1")),
    )
    return _json({"calendar_id": calendar_id}, status=201)


async def share_calendar(request: web.Request) -> web.StreamResponse:
    """Give another user access to a calendar."""
    body = await _body(request)
    _emulator(request).share_calendar(
        request.match_info["calendar_id"],
        _field(body, "email"),
        body.get("access_role", "reader"),
    )
    return _json({}, status=200)


async def create_service_account(request: web.Request) -> web.StreamResponse:
    """Create a service account; answer its JSON key, as the Cloud console does."""
    body = await _body(request)
    key = _emulator(request).create_service_account(
        _field(body, "name"), delegation=bool(body.get("delegation", False))
    )
    return _json(key, status=201)


async def create_service_account_key(request: web.Request) -> web.StreamResponse:
    """Add a key to a service account; answer the JSON key."""
    key = _emulator(request).create_service_account_key(request.match_info["email"])
    return _json(key, status=201)


async def delete_service_account_key(request: web.Request) -> web.StreamResponse:
    """Delete a service account key: its assertions answer invalid_grant."""
    _emulator(request).identities.delete_key(
        request.match_info["email"], request.match_info["key_id"]
    )
    return web.Response(status=204)


async def delete_service_account(request: web.Request) -> web.StreamResponse:
    """Delete a service account and its tokens."""
    _emulator(request).identities.delete_service_account(request.match_info["email"])
    return web.Response(status=204)


async def create_api_key(request: web.Request) -> web.StreamResponse:
    """Create an API key ({"restricted": true}: allowed for other APIs only)."""
    body = await _body(request)
    key = _emulator(request).create_api_key(
        restricted=bool(body.get("restricted", False))
    )
    return _json({"key": key}, status=201)


async def set_public(request: web.Request) -> web.StreamResponse:
    """Make a calendar public ({"public": false} makes it private again)."""
    body = await _body(request)
    public = bool(body.get("public", True))
    _emulator(request).set_public(request.match_info["calendar_id"], public)
    return _json({"public": public})


async def mint_tokens(request: web.Request) -> web.StreamResponse:
    """Issue an access and refresh token for a user without the consent page."""
    body = await _body(request)
    tokens = _emulator(request).issue_tokens(
        _field(body, "email"), body.get("client_id", "test-client-id")
    )
    return _json(tokens, status=201)


async def expire_tokens(request: web.Request) -> web.StreamResponse:
    """Expire every access token (refresh tokens keep working)."""
    _emulator(request).expire_access_tokens()
    return _json({})


async def revoke_token(request: web.Request) -> web.StreamResponse:
    """Revoke a refresh token."""
    body = await _body(request)
    _emulator(request).revoke_refresh_token(_field(body, "refresh_token"))
    return _json({})


async def list_events(request: web.Request) -> web.StreamResponse:
    """Return the stored, not cancelled events of a calendar."""
    return _json(
        {"items": _emulator(request).events(request.match_info["calendar_id"])}
    )


async def insert_event(request: web.Request) -> web.StreamResponse:
    """Insert an event as if a user created it in Google."""
    event = _emulator(request).insert_event(
        request.match_info["calendar_id"], await _body(request)
    )
    return _json(event, status=201)


async def patch_event(request: web.Request) -> web.StreamResponse:
    """Patch an event as if a user edited it in Google."""
    event = _emulator(request).patch_event(
        request.match_info["calendar_id"],
        request.match_info["event_id"],
        await _body(request),
    )
    return _json(event)


async def delete_event(request: web.Request) -> web.StreamResponse:
    """Delete an event as if a user deleted it in Google."""
    _emulator(request).delete_event(
        request.match_info["calendar_id"], request.match_info["event_id"]
    )
    return web.Response(status=204)


async def invalidate_sync_tokens(request: web.Request) -> web.StreamResponse:
    """Make every (or one calendar's) sync token answer 410."""
    body = await _body(request)
    _emulator(request).invalidate_sync_tokens(body.get("calendar_id"))
    return _json({})


async def seed(request: web.Request) -> web.StreamResponse:
    """Load a named data set (only "demo" exists)."""
    body = await _body(request)
    name = body.get("name", "demo")
    if name != "demo":
        raise bad_request(f"Unknown seed {name!r}.")
    summary = seed_demo(_emulator(request))
    summary["tokens"] = _emulator(request).issue_tokens(summary["user"])
    summary.update(seed_other_ways(_emulator(request)))
    return _json(summary, status=201)


async def list_channels(request: web.Request) -> web.StreamResponse:
    """Return every watch channel with its delivery records."""
    channels = _emulator(request).channels
    return _json({"items": [channel.as_dict() for channel in channels.values()]})


async def get_faults(request: web.Request) -> web.StreamResponse:
    """Return the armed API and notification faults."""
    emulator = _emulator(request)
    return _json(
        {
            "api": [
                fault.as_dict()
                for fault in emulator.faults.faults
                if fault.remaining > 0
            ],
            "notifications": registry(emulator).faults.as_dict(),
        }
    )


async def set_faults(request: web.Request) -> web.StreamResponse:
    """Arm API faults ({"api": [...]}) and notification faults ({"notifications": {...}})."""
    body = await _body(request)
    emulator = _emulator(request)
    for spec in body.get("api", []):
        if not isinstance(spec, dict):
            raise bad_request("Each api fault must be an object.")
        try:
            emulator.faults.add(
                spec["kind"],
                times=int(spec.get("times", 1)),
                method=spec.get("method"),
                path_contains=spec.get("path_contains"),
                delay=float(spec.get("delay", 0.0)),
                retry_after=spec.get("retry_after"),
            )
        except (KeyError, ValueError) as err:
            raise bad_request(f"Invalid fault: {err}") from err
    notifications = body.get("notifications") or {}
    faults = registry(emulator).faults
    try:
        faults.drop_next = int(notifications.get("drop_next", faults.drop_next))
        faults.duplicate_next = int(
            notifications.get("duplicate_next", faults.duplicate_next)
        )
        faults.reorder_next = int(
            notifications.get("reorder_next", faults.reorder_next)
        )
        faults.delay = float(notifications.get("delay", faults.delay))
    except (TypeError, ValueError) as err:
        raise bad_request(f"Invalid notification fault: {err}") from err
    return await get_faults(request)


async def clear_faults(request: web.Request) -> web.StreamResponse:
    """Disarm every fault and deliver held notifications."""
    emulator = _emulator(request)
    emulator.faults.clear()
    registry(emulator).faults.clear()
    registry(emulator).release_held()
    return _json({})


async def list_requests(request: web.Request) -> web.StreamResponse:
    """Return the request log."""
    return _json({"items": [asdict(entry) for entry in _emulator(request).requests]})


async def reset(request: web.Request) -> web.StreamResponse:
    """Forget all users, calendars, tokens, channels, faults and logged requests."""
    emulator = _emulator(request)
    registry(emulator).reset()
    emulator.model.reset()
    emulator.oauth.access_tokens.clear()
    emulator.oauth.refresh_tokens.clear()
    emulator.oauth.codes.clear()
    emulator.identities.reset()
    emulator.faults.clear()
    emulator.requests.clear()
    return _json({})


def setup(app: web.Application, emulator: GoogleCalendarEmulator) -> None:
    """Register the control routes on the emulator's application."""
    app[EMULATOR_KEY] = emulator
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/", index),
        ("POST", "/users", add_user),
        ("POST", "/calendars", add_calendar),
        ("POST", "/calendars/{calendar_id}/share", share_calendar),
        ("POST", "/calendars/{calendar_id}/public", set_public),
        ("POST", "/service-accounts", create_service_account),
        ("DELETE", "/service-accounts/{email}", delete_service_account),
        ("POST", "/service-accounts/{email}/keys", create_service_account_key),
        (
            "DELETE",
            "/service-accounts/{email}/keys/{key_id}",
            delete_service_account_key,
        ),
        ("POST", "/api-keys", create_api_key),
        ("POST", "/tokens", mint_tokens),
        ("POST", "/tokens/expire", expire_tokens),
        ("POST", "/tokens/revoke", revoke_token),
        ("GET", "/calendars/{calendar_id}/events", list_events),
        ("POST", "/calendars/{calendar_id}/events", insert_event),
        ("PATCH", "/calendars/{calendar_id}/events/{event_id}", patch_event),
        ("DELETE", "/calendars/{calendar_id}/events/{event_id}", delete_event),
        ("POST", "/sync-tokens/invalidate", invalidate_sync_tokens),
        ("POST", "/seed", seed),
        ("GET", "/channels", list_channels),
        ("GET", "/faults", get_faults),
        ("POST", "/faults", set_faults),
        ("DELETE", "/faults", clear_faults),
        ("GET", "/requests", list_requests),
        ("POST", "/reset", reset),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, PREFIX + path, _guard(handler))
