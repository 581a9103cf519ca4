"""Google Meet links: read from an event, shown in its description, never written back.

Home Assistant's calendar event has no field for a conference, so the link is shown
as the last line of the description. An edit made in Home Assistant sends that
description back; the writer takes the line out again, so the link stays where
Google keeps it (conferenceData) and never lands in the event's own description.
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import Event

MEET_LABEL = "Google Meet: "
_SEPARATOR = "\n\n"


def meet_link(event: Event) -> str | None:
    """Return the Meet link of an event, if Google made one."""
    if link := event.get("hangoutLink"):
        return str(link)
    conference = event.get("conferenceData")
    if not isinstance(conference, Mapping):
        return None
    for entry_point in conference.get("entryPoints") or ():
        if (
            isinstance(entry_point, Mapping)
            and entry_point.get("entryPointType") == "video"
            and entry_point.get("uri")
        ):
            return str(entry_point["uri"])
    return None


def shown_description(description: str | None, link: str | None) -> str | None:
    """Return the description with the Meet link as its last line."""
    if not link:
        return description
    line = MEET_LABEL + link
    return f"{description}{_SEPARATOR}{line}" if description else line


def written_description(description: str, link: str | None) -> str:
    """Return a description edited in Home Assistant without the shown link."""
    if not link:
        return description
    line = MEET_LABEL + link
    stripped = description.rstrip()
    if stripped == line:
        return ""
    if stripped.endswith(_SEPARATOR + line):
        return stripped[: -len(_SEPARATOR + line)]
    return description
