"""Public calendar addresses: the calendar ids in what Google Calendar lets you copy.

Google side only. Google Calendar shows a calendar's id under "Integrate calendar", next
to its public URL (`.../calendar/embed?src=ID`), its public iCal address
(`.../calendar/ical/ID/public/basic.ics`) and share links (`...?cid=BASE64-OF-ID`).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, unquote, urlsplit

_SCHEMES = ("http", "https", "webcal")


def _from_cid(value: str) -> str:
    """Return the id in a `cid` parameter: base64 of the id, or the id itself."""
    if "@" in value:
        return value
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except binascii.Error, UnicodeDecodeError, ValueError:
        return value
    return decoded if "@" in decoded else value


def calendar_ids_from_text(text: str) -> list[str]:
    """Return the calendar ids a calendar id, public URL or iCal address names."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
        return [unquote(text)] if text else []
    query = parse_qs(parts.query)
    if sources := query.get("src"):
        # parse_qs has decoded them already: a second unquote would read "%00" as NUL.
        return [source.strip() for source in sources if source.strip()]
    if cids := query.get("cid"):
        return [_from_cid(cid.strip()) for cid in cids if cid.strip()]
    segments = [unquote(segment) for segment in parts.path.split("/")]
    if "ical" in segments:
        index = segments.index("ical") + 1
        if index < len(segments) and segments[index]:
            return [segments[index]]
    return []
