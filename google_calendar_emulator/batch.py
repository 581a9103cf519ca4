"""Batch endpoint: multipart/mixed requests as google-api-python-client sends them."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
import email.parser
import email.policy
from http import HTTPStatus
import logging
from typing import TYPE_CHECKING
import uuid

from aiohttp import web

from .errors import bad_request

if TYPE_CHECKING:
    from .server import GoogleCalendarEmulator

_LOGGER = logging.getLogger(__name__)

BATCH_PATH = "/batch/calendar/v3"
MAX_BATCH_PARTS = 1000


@dataclass(frozen=True, slots=True)
class BatchPart:
    """One inner request of a batch."""

    content_id: str | None
    method: str
    path_qs: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class PartResponse:
    """The answer to one inner request."""

    content_id: str | None
    status: int
    headers: dict[str, str]
    body: bytes


def parse_batch(content_type: str, body: bytes) -> list[BatchPart]:
    """Split a multipart/mixed batch body into its inner HTTP requests."""
    if not content_type.lower().startswith("multipart/mixed"):
        raise bad_request("Invalid batch request: expected multipart/mixed.")
    envelope = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not envelope.is_multipart():
        raise bad_request("Invalid batch request: no parts.")
    parts: list[BatchPart] = []
    for mime_part in envelope.get_payload():
        if not isinstance(mime_part, Message):
            raise bad_request("Invalid batch request: bad part.")
        payload = mime_part.get_payload()
        if not isinstance(payload, str):
            raise bad_request("Invalid batch request: nested multipart.")
        raw = payload.encode("utf-8", "surrogateescape")
        parts.append(_parse_http_request(mime_part.get("Content-ID"), raw))
    return parts


def _parse_http_request(content_id: str | None, raw: bytes) -> BatchPart:
    """Parse one application/http request."""
    request_line, _, rest = raw.partition(b"\n")
    try:
        method, target, _version = request_line.decode("latin-1").strip().split(" ", 2)
    except ValueError as err:
        raise bad_request("Invalid batch request: bad request line.") from err
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(rest)
    headers = {key: str(value) for key, value in message.items()}
    inner = message.get_payload()
    body = inner.encode("utf-8", "surrogateescape") if isinstance(inner, str) else b""
    if (length := headers.get("content-length")) is not None and length.isdigit():
        body = body[: int(length)]
    if not target.startswith("/"):
        raise bad_request("Invalid batch request: relative path required.")
    return BatchPart(content_id, method.upper(), target, headers, body)


def render_batch(responses: list[PartResponse]) -> tuple[str, bytes]:
    """Return the content type and body of a multipart/mixed batch answer."""
    boundary = f"batch_{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for response in responses:
        chunks.append(f"--{boundary}\r\n".encode())
        chunks.append(b"Content-Type: application/http\r\n")
        if response.content_id is not None:
            chunks.append(
                f"Content-ID: {_response_id(response.content_id)}\r\n".encode()
            )
        chunks.append(b"\r\n")
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Unknown"
        chunks.append(f"HTTP/1.1 {response.status} {phrase}\r\n".encode())
        headers = dict(response.headers)
        headers["Content-Length"] = str(len(response.body))
        for key, value in headers.items():
            chunks.append(f"{key}: {value}\r\n".encode())
        chunks.append(b"\r\n")
        chunks.append(response.body)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


def _response_id(content_id: str) -> str:
    """Answer Content-ID <x> with <response-x>, as Google does."""
    inner = content_id.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    return f"<response-{inner}>"


def setup(app: web.Application, emulator: GoogleCalendarEmulator) -> None:
    """Register the batch endpoint; each part runs through emulator.dispatch."""

    async def handle(request: web.Request) -> web.StreamResponse:
        parts = parse_batch(
            request.headers.get("Content-Type", ""), await request.read()
        )
        if len(parts) > MAX_BATCH_PARTS:
            raise bad_request(
                f"Too many requests in batch: {len(parts)} > {MAX_BATCH_PARTS}."
            )
        # Google authorizes parts with the outer credentials unless a part has its own.
        outer_auth = request.headers.get("Authorization")
        responses: list[PartResponse] = []
        for part in parts:
            headers = dict(part.headers)
            if outer_auth is not None and not any(
                key.lower() == "authorization" for key in headers
            ):
                headers["Authorization"] = outer_auth
            status, answer_headers, body = await emulator.dispatch(
                part.method, part.path_qs, headers, part.body
            )
            responses.append(
                PartResponse(part.content_id, status, answer_headers, body)
            )
        content_type, body = render_batch(responses)
        return web.Response(
            status=200, body=body, headers={"Content-Type": content_type}
        )

    app.router.add_post(BATCH_PATH, handle)
