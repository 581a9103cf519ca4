"""In-memory Google Calendar data: users, calendars, events, recurrence, sync tokens.

Pure, synchronous and loop-agnostic: the server translates HTTP into these calls and the
emulator's Python helpers use the very same methods, so change listeners (push
notifications) fire for both. `user=None` means "the system" (a helper acting as the
calendar's owner) and skips access checks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
import copy
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import hashlib
import logging
import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rruleset, rrulestr

from . import errors, event_fields
from .colors import CALENDAR_COLORS

_LOGGER = logging.getLogger(__name__)

# The ACL principal of a public calendar (Google's ACL scope "default"): API keys.
PUBLIC_READER = "anonymous"
ROLE_RANK = {"none": 0, "freeBusyReader": 1, "reader": 2, "writer": 3, "owner": 4}
EVENT_ID_RE = re.compile(r"^[0-9a-v]{5,1024}$")
DEFAULT_MAX_RESULTS = 250
MAX_RESULTS = 2500
# Instances generated for an open-ended rule when the query gives no timeMax.
DEFAULT_EXPANSION_HORIZON = timedelta(days=730)
MAX_INSTANCES = 5000
# Fields a client may not set: the server owns them.
READ_ONLY_FIELDS = (
    "kind",
    "etag",
    "htmlLink",
    "created",
    "updated",
    "creator",
    "organizer",
    "hangoutLink",
    "recurringEventId",
    "originalStartTime",
)
# Parameters Google refuses together with syncToken.
SYNC_TOKEN_CONFLICTS = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
_PAGE_CACHE_SIZE = 256

type Query = Mapping[str, list[str]]
type ChangeListener = Callable[[str], None]


def format_timestamp(value: datetime) -> str:
    """Format a UTC timestamp the way Google does (milliseconds, Z)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{value.microsecond // 1000:03d}Z"
    )


def parse_rfc3339(value: str, parameter: str) -> datetime:
    """Parse an RFC 3339 timestamp that must carry an offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise errors.bad_request(
            f"Invalid value for: {parameter}",
            location=parameter,
            location_type="parameter",
        ) from None
    if parsed.tzinfo is None:
        raise errors.bad_request(
            f"Invalid value for: {parameter}",
            location=parameter,
            location_type="parameter",
        )
    return parsed


def _zone(name: str | None, default: str) -> ZoneInfo:
    """Return the zone for an IANA name, falling back to the calendar's."""
    try:
        return ZoneInfo(name or default)
    except ZoneInfoNotFoundError, ValueError:
        raise errors.bad_request(f"Invalid time zone definition: {name}") from None


def _rdates(line: str, dtstart: datetime) -> list[datetime]:
    """Read one RDATE/EXDATE line (TZID and VALUE=DATE honoured) in DTSTART's terms.

    Parameter values are case-sensitive (TZID names a zone); dateutil upper-cases
    whole lines, so these dates are read here.
    """
    head, _, values = line.partition(":")
    params = {
        key.upper(): value.strip('"')
        for key, _, value in (part.partition("=") for part in head.split(";")[1:])
    }
    zone = ZoneInfo(params["TZID"]) if "TZID" in params else dtstart.tzinfo
    moments = []
    for value in filter(None, values.split(",")):
        if value.endswith("Z"):
            moment = datetime.strptime(value[:-1] + "+0000", "%Y%m%dT%H%M%S%z")
        elif "T" in value:
            moment = datetime.fromisoformat(value).replace(tzinfo=zone)
        else:
            moment = datetime.combine(date.fromisoformat(value), dtstart.timetz())
        if dtstart.tzinfo is None:
            moment = moment.replace(tzinfo=None)
        else:
            moment = moment.astimezone(dtstart.tzinfo)
        moments.append(moment)
    return moments


def _google_rule(line: str, dtstart: datetime) -> str:
    """Return an RRULE/EXRULE line expanded the way Google shows it.

    Google deviates from RFC 5545 for FREQ=YEARLY with BYMONTHDAY but without
    BYMONTH: the event recurs once a year, in the start's month (the RFC and
    dateutil expand it every month).
    """
    parts = {part.partition("=")[0].upper() for part in line.split(";")}
    if (
        "FREQ=YEARLY" in line.upper()
        and "BYMONTHDAY" in parts
        and not parts & {"BYMONTH", "BYWEEKNO", "BYYEARDAY"}
    ):
        return f"{line};BYMONTH={dtstart.month}"
    return line


@dataclass
class Calendar:
    """One calendar with its events (cancelled ones kept as tombstones)."""

    id: str
    summary: str
    time_zone: str
    owner: str
    acl: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    color_id: str = "1"  # in the calendar palette (colors.get)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    serials: dict[str, int] = field(default_factory=dict)  # event id -> change serial
    # Keys of resources stored unchecked (put_unchecked_event): listed as they are.
    unchecked: set[str] = field(default_factory=set)

    def etag(self) -> str:
        """Return an etag that changes with the calendar's contents."""
        return f'"{max(self.serials.values(), default=0):016d}"'


@dataclass
class _Page:
    """A listing cut into pages: later pages come from the first page's snapshot."""

    calendar_id: str
    items: list[dict[str, Any]]
    offset: int
    serial: int


@dataclass(frozen=True, slots=True)
class _Bounds:
    """Aware start and end of an event or instance."""

    start: datetime
    end: datetime


def _first(query: Query, name: str) -> str | None:
    """Return the first value of a query parameter."""
    values = query.get(name)
    return values[0] if values else None


def _flag(query: Query, name: str, default: bool = False) -> bool:
    """Return a boolean query parameter."""
    value = _first(query, name)
    if value is None:
        return default
    return value.lower() == "true"


def _merge(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Merge a PATCH body: objects merge recursively, null deletes, lists replace."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif key in ("start", "end") and isinstance(value, dict):
            # A time merges (timeZone survives) but date and dateTime exclude each other.
            when = {**(target.get(key) or {}), **value}
            given = value.keys() & {"date", "dateTime"}
            for field_name in {"date", "dateTime"} - given if given else ():
                when.pop(field_name, None)
            target[key] = {k: v for k, v in when.items() if v is not None}
        elif (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and key != "conferenceData"
        ):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class CalendarModel:
    """Users, calendars and events, with a change journal for sync tokens."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        """Create an empty model."""
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.users: dict[str, str] = {}  # email -> primary calendar id
        self.calendars: dict[str, Calendar] = {}
        # Users whose calendarList holds only what was inserted (service accounts);
        # other users' lists show every calendar they can access.
        self.calendar_lists: dict[str, set[str]] = {}
        self._serial = 0
        self._sync_tokens: dict[str, tuple[str, int]] = {}
        self._pages: OrderedDict[str, _Page] = OrderedDict()
        self._listeners: list[ChangeListener] = []

    # --- change journal -------------------------------------------------------------

    def add_change_listener(self, callback: ChangeListener) -> Callable[[], None]:
        """Call `callback(calendar_id)` after every committed change; return a remover."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def reset(self) -> None:
        """Forget every user, calendar and sync token; listeners and serials stay."""
        self.users.clear()
        self.calendars.clear()
        self.calendar_lists.clear()
        self._sync_tokens.clear()
        self._pages.clear()

    def as_state(self) -> dict[str, Any]:
        """Return users, calendars, events and sync tokens, JSON-friendly."""
        return {
            "serial": self._serial,
            "users": dict(self.users),
            "calendars": [
                {**asdict(calendar), "unchecked": sorted(calendar.unchecked)}
                for calendar in self.calendars.values()
            ],
            "sync_tokens": {
                token: [calendar_id, serial]
                for token, (calendar_id, serial) in self._sync_tokens.items()
            },
            "calendar_lists": {
                user: sorted(listed) for user, listed in self.calendar_lists.items()
            },
        }

    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Replace everything with what as_state returned (listeners stay)."""
        self.reset()
        self._serial = int(state["serial"])
        self.users.update(state["users"])
        for fields in state["calendars"]:
            calendar = Calendar(**{**fields, "unchecked": set(fields["unchecked"])})
            self.calendars[calendar.id] = calendar
        self._sync_tokens = {
            token: (str(calendar_id), int(serial))
            for token, (calendar_id, serial) in state["sync_tokens"].items()
        }
        self.calendar_lists = {
            user: set(listed) for user, listed in state["calendar_lists"].items()
        }

    def _notify(self, calendar_id: str) -> None:
        """Tell listeners that a calendar changed."""
        for listener in list(self._listeners):
            try:
                listener(calendar_id)
            except Exception:
                _LOGGER.exception("Change listener failed for %s", calendar_id)

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _store(self, calendar: Calendar, event: dict[str, Any]) -> dict[str, Any]:
        """Stamp etag/updated on an event and record it in the journal."""
        serial = self._next_serial()
        event["etag"] = f'"3{serial:015d}"'
        event["updated"] = format_timestamp(self.clock())
        calendar.events[event["id"]] = event
        calendar.serials[event["id"]] = serial
        calendar.unchecked.discard(event["id"])
        return event

    @property
    def serial(self) -> int:
        """Return the last change serial."""
        return self._serial

    # --- users and calendars ----------------------------------------------------------

    def add_user(self, email: str) -> str:
        """Create a user and the primary calendar (id == email); idempotent."""
        if email not in self.users:
            self.users[email] = email
            self.calendars[email] = Calendar(
                id=email,
                summary=email,
                time_zone="UTC",
                owner=email,
                acl={email: "owner"},
                color_id="14",
            )
        return email

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
        """Create a secondary calendar that `owner` sees with `access_role`."""
        self.add_user(owner)
        _zone(time_zone, "UTC")
        if color_id not in CALENDAR_COLORS:
            raise ValueError(f"Unknown calendar color {color_id}")
        calendar_id = (
            calendar_id or f"{secrets.token_hex(16)}@group.calendar.google.com"
        )
        if calendar_id in self.calendars:
            raise errors.duplicate()
        self.calendars[calendar_id] = Calendar(
            id=calendar_id,
            summary=summary,
            time_zone=time_zone,
            owner=owner,
            acl={owner: access_role},
            color_id=color_id,
        )
        return calendar_id

    def share_calendar(self, calendar_id: str, email: str, access_role: str) -> None:
        """Give another user access to a calendar."""
        if access_role not in ROLE_RANK:
            raise ValueError(f"Unknown access role {access_role}")
        self.add_user(email)
        self.calendar(calendar_id).acl[email] = access_role

    def set_public(self, calendar_id: str, public: bool = True) -> None:
        """Make a calendar readable by anyone (API keys included), or private again."""
        acl = self.calendar(calendar_id).acl
        if public:
            acl[PUBLIC_READER] = "reader"
        else:
            acl.pop(PUBLIC_READER, None)

    def calendar(self, calendar_id: str) -> Calendar:
        """Return a calendar by id, 404 if unknown."""
        if (calendar := self.calendars.get(calendar_id)) is None:
            raise errors.not_found()
        return calendar

    def resolve(
        self, user: str | None, calendar_id: str, *, write: bool = False
    ) -> Calendar:
        """Return the calendar a user addresses ("primary" included), checking access."""
        if calendar_id == "primary":
            if user is None:
                raise errors.not_found()
            calendar_id = self.users.get(user, user)
        calendar = self.calendar(calendar_id)
        if user is None:
            return calendar
        role = calendar.acl.get(user, "none")
        if ROLE_RANK[role] < ROLE_RANK["freeBusyReader"]:
            raise errors.not_found()
        if write and ROLE_RANK[role] < ROLE_RANK["writer"]:
            raise errors.forbidden(
                "You need to have writer access to this calendar.",
                reason="requiredAccessLevel",
            )
        if not write and ROLE_RANK[role] < ROLE_RANK["reader"]:
            raise errors.forbidden(
                "You need to have reader access to this calendar.",
                reason="requiredAccessLevel",
            )
        return calendar

    def calendar_resource(self, user: str | None, calendar_id: str) -> dict[str, Any]:
        """Return the calendars.get body."""
        calendar = self.resolve(user, calendar_id)
        body: dict[str, Any] = {
            "kind": "calendar#calendar",
            "etag": calendar.etag(),
            "id": calendar.id,
            "summary": calendar.summary,
            "timeZone": calendar.time_zone,
            "conferenceProperties": {
                "allowedConferenceSolutionTypes": ["hangoutsMeet"]
            },
        }
        if calendar.description is not None:
            body["description"] = calendar.description
        return body

    def calendar_list_entry(self, user: str, calendar_id: str) -> dict[str, Any]:
        """Return one calendarList entry as the user sees it."""
        calendar = self.resolve(user, calendar_id)
        entry = self.calendar_resource(user, calendar.id)
        entry.update(
            {
                "kind": "calendar#calendarListEntry",
                "colorId": calendar.color_id,
                "backgroundColor": CALENDAR_COLORS[calendar.color_id]["background"],
                "foregroundColor": "#000000",
                "selected": True,
                "accessRole": calendar.acl[user],
                "defaultReminders": [],
            }
        )
        if calendar.id == user:
            entry["primary"] = True
        return entry

    def insert_calendar_list_entry(self, user: str, calendar_id: str) -> dict[str, Any]:
        """Add a calendar the user can access to their calendarList (insert)."""
        entry = self.calendar_list_entry(user, calendar_id)
        if (listed := self.calendar_lists.get(user)) is not None:
            listed.add(entry["id"])
        return entry

    def calendar_list(self, user: str, query: Query) -> dict[str, Any]:
        """Return a calendarList.list page."""
        min_role = _first(query, "minAccessRole") or "freeBusyReader"
        listed = self.calendar_lists.get(user)
        entries = [
            self.calendar_list_entry(user, calendar.id)
            for calendar in self.calendars.values()
            if ROLE_RANK[calendar.acl.get(user, "none")] >= ROLE_RANK.get(min_role, 1)
            and (listed is None or calendar.id in listed)
        ]
        max_results = min(self._int(query, "maxResults", 100), 250)
        offset = 0
        if (token := _first(query, "pageToken")) is not None:
            try:
                offset = int(token.removeprefix("cl"))
            except ValueError:
                raise errors.bad_request("Invalid page token value.") from None
        body: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "etag": f'"{self._serial:016d}"',
            "items": entries[offset : offset + max_results],
        }
        if offset + max_results < len(entries):
            body["nextPageToken"] = f"cl{offset + max_results}"
        else:
            body["nextSyncToken"] = f"cls{self._serial}"
        return body

    @staticmethod
    def _int(query: Query, name: str, default: int) -> int:
        """Return a positive integer query parameter."""
        value = _first(query, name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise errors.bad_request(
                f"Invalid value for: {name}", location=name, location_type="parameter"
            ) from None
        if number < 1:
            raise errors.bad_request(
                f"Invalid value '{value}'. Values must be within the range: [1, 2500]",
                location=name,
                location_type="parameter",
            )
        return number

    # --- sync tokens ------------------------------------------------------------------

    def invalidate_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Forget sync tokens (all, or one calendar's): their next use answers 410."""
        self._sync_tokens = {
            token: value
            for token, value in self._sync_tokens.items()
            if calendar_id is not None and value[0] != calendar_id
        }

    def _mint_sync_token(self, calendar_id: str, serial: int) -> str:
        token = f"C{secrets.token_urlsafe(18)}"
        self._sync_tokens[token] = (calendar_id, serial)
        return token

    def put_unchecked_event(self, calendar_id: str, resource: dict[str, Any]) -> str:
        """Store a resource as it is, as data Google's own checks would refuse.

        For robustness tests: listings return it unchanged (whatever timeMin says),
        sync tokens and notifications see it as a change. Replaces the event of
        the same id; returns the key it is stored under (its id if it has one).
        """
        calendar = self.calendar(calendar_id)
        event_id = resource.get("id")
        serial = self._next_serial()
        key = event_id if isinstance(event_id, str) else f"_unchecked{serial}"
        calendar.events[key] = copy.deepcopy(resource)
        calendar.serials[key] = serial
        calendar.unchecked.add(key)
        self._notify(calendar.id)
        return key

    # --- time helpers -----------------------------------------------------------------

    def _bounds(self, calendar: Calendar, event: Mapping[str, Any]) -> _Bounds:
        """Return the aware start and end of an event."""
        return _Bounds(
            self._moment(calendar, event["start"]), self._moment(calendar, event["end"])
        )

    def _moment(self, calendar: Calendar, when: Mapping[str, Any]) -> datetime:
        """Turn a start/end object into an aware datetime."""
        if "date" in when:
            return datetime.combine(
                date.fromisoformat(when["date"]),
                time(),
                _zone(when.get("timeZone"), calendar.time_zone),
            )
        parsed = datetime.fromisoformat(when["dateTime"])
        if parsed.tzinfo is None:
            parsed = parsed.replace(
                tzinfo=_zone(when.get("timeZone"), calendar.time_zone)
            )
        return parsed

    def _validate_times(
        self, calendar: Calendar, event: dict[str, Any], *, recurring: bool
    ) -> None:
        """Check start/end the way Google does."""
        for name in ("start", "end"):
            when = event.get(name)
            if not isinstance(when, dict) or not (
                when.get("date") or when.get("dateTime")
            ):
                raise errors.required(f"{name} time")
            try:
                if when.get("date"):
                    date.fromisoformat(when["date"])
                    when.pop("dateTime", None)
                else:
                    when.pop("date", None)
                    parsed = datetime.fromisoformat(when["dateTime"])
                    if parsed.tzinfo is None and not when.get("timeZone"):
                        raise errors.bad_request(
                            f"Missing time zone definition for {name} time."
                        )
                    # Google answers RFC 3339 with the offset, in the timeZone given.
                    moment = self._moment(calendar, when)
                    if when.get("timeZone"):
                        # Through UTC: a wall-clock time in a DST gap moves on.
                        moment = moment.astimezone(UTC).astimezone(
                            _zone(when["timeZone"], "UTC")
                        )
                    when["dateTime"] = moment.isoformat()
                if when.get("timeZone"):
                    _zone(when["timeZone"], calendar.time_zone)
            except ValueError:
                raise errors.bad_request(f"Invalid {name} time.") from None
            if recurring and "dateTime" in when and not when.get("timeZone"):
                raise errors.bad_request(
                    f"Missing time zone definition for {name} time."
                )
        if ("date" in event["start"]) != ("date" in event["end"]):
            raise errors.bad_request(
                "Start and end times must either both be date or both be dateTime."
            )
        bounds = self._bounds(calendar, event)
        if bounds.end < bounds.start:
            raise errors.bad_request(
                "The specified time range is empty.", reason="timeRangeEmpty"
            )

    # --- recurrence -------------------------------------------------------------------

    def _instances(
        self,
        calendar: Calendar,
        master: Mapping[str, Any],
        *,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        limit: int = MAX_INSTANCES,
    ) -> list[dict[str, Any]]:
        """Expand a recurring event into generated instances overlapping the range."""
        start, end = master["start"], master["end"]
        all_day = "date" in start
        if all_day:
            zone = _zone(None, calendar.time_zone)
            dtstart = datetime.combine(date.fromisoformat(start["date"]), time())
            duration = date.fromisoformat(end["date"]) - date.fromisoformat(
                start["date"]
            )
        else:
            zone = _zone(start.get("timeZone"), calendar.time_zone)
            dtstart = datetime.fromisoformat(start["dateTime"])
            dtstart = (
                dtstart.replace(tzinfo=zone)
                if dtstart.tzinfo is None
                else dtstart.astimezone(zone)
            )
            # Elapsed time: a series spanning a DST change keeps the true length.
            duration = self._moment(calendar, end).astimezone(UTC) - dtstart.astimezone(
                UTC
            )
        ruleset = self._ruleset(master.get("recurrence") or [], dtstart)
        horizon = time_max or (
            max(self.clock(), self._moment(calendar, start)) + DEFAULT_EXPANSION_HORIZON
        )
        instances: list[dict[str, Any]] = []
        for occurrence in ruleset:
            aware = occurrence.replace(tzinfo=zone) if all_day else occurrence
            if aware >= horizon or len(instances) >= limit:
                break
            if time_min is not None and aware + duration <= time_min:
                # An instance of zero duration at time_min still overlaps nothing.
                continue
            instances.append(self._instance(master, occurrence, duration, all_day))
        return instances

    @staticmethod
    def _ruleset(lines: Iterable[str], dtstart: datetime) -> rruleset:
        """Parse RRULE/EXRULE/RDATE/EXDATE lines with dateutil."""
        rules = [
            _google_rule(line, dtstart)
            for line in lines
            if not line.upper().startswith(("RDATE", "EXDATE"))
        ]
        text = "\n".join(rules) or "RRULE:FREQ=DAILY;COUNT=1"
        if dtstart.tzinfo is None:
            # All-day series: Google accepts a UTC UNTIL, dateutil wants its date.
            text = re.sub(r"UNTIL=(\d{8})T\d{6}Z?", r"UNTIL=\1", text)
        try:
            ruleset = rrulestr(text, dtstart=dtstart, forceset=True)
        except ValueError:
            if dtstart.tzinfo is None:
                raise
            # An aware DTSTART needs UTC UNTIL values: widen date-only ones.
            text = re.sub(r"UNTIL=(\d{8})(?=;|$|\n)", r"UNTIL=\1T235959Z", text)
            text = re.sub(r"UNTIL=(\d{8}T\d{6})(?=;|$|\n)", r"UNTIL=\1Z", text)
            ruleset = rrulestr(text, dtstart=dtstart, forceset=True)
        for line in lines:
            if line.upper().startswith("RDATE"):
                for moment in _rdates(line, dtstart):
                    ruleset.rdate(moment)
            elif line.upper().startswith("EXDATE"):
                for moment in _rdates(line, dtstart):
                    ruleset.exdate(moment)
        return ruleset

    @staticmethod
    def _instance(
        master: Mapping[str, Any],
        occurrence: datetime,
        duration: timedelta,
        all_day: bool,
    ) -> dict[str, Any]:
        """Build one generated instance of a master."""
        instance = copy.deepcopy(dict(master))
        instance.pop("recurrence", None)
        if all_day:
            day = occurrence.date()
            suffix = day.strftime("%Y%m%d")
            instance["start"] = {"date": day.isoformat()}
            instance["end"] = {"date": (day + duration).isoformat()}
            instance["originalStartTime"] = {"date": day.isoformat()}
        else:
            zone_name = master["start"].get("timeZone")
            suffix = occurrence.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            instance["start"] = {"dateTime": occurrence.isoformat()}
            end_zone = master["end"].get("timeZone")
            end = (occurrence.astimezone(UTC) + duration).astimezone(
                _zone(end_zone, "UTC") if end_zone else occurrence.tzinfo
            )
            instance["end"] = {"dateTime": end.isoformat()}
            instance["originalStartTime"] = {"dateTime": occurrence.isoformat()}
            if zone_name:
                instance["start"]["timeZone"] = zone_name
                instance["end"]["timeZone"] = master["end"].get("timeZone", zone_name)
                instance["originalStartTime"]["timeZone"] = zone_name
        instance["id"] = f"{master['id']}_{suffix}"
        instance["recurringEventId"] = master["id"]
        return instance

    def _generated_instance(
        self, calendar: Calendar, event_id: str
    ) -> dict[str, Any] | None:
        """Return the generated instance an instance id names, if the rule has it."""
        master_id, sep, suffix = event_id.rpartition("_")
        master = calendar.events.get(master_id)
        if (
            not sep
            or master is None
            or master.get("status") == "cancelled"
            or not master.get("recurrence")
        ):
            return None
        try:
            if "T" in suffix:
                moment = datetime.strptime(suffix + "+0000", "%Y%m%dT%H%M%SZ%z")
            else:
                moment = datetime.combine(
                    date.fromisoformat(suffix),
                    time(),
                    _zone(None, calendar.time_zone),
                )
        except ValueError:
            return None
        for instance in self._instances(
            calendar,
            master,
            time_min=moment - timedelta(days=1),
            time_max=moment + timedelta(days=1, seconds=1),
        ):
            if instance["id"] == event_id:
                return instance
        return None

    # --- event reads ------------------------------------------------------------------

    def _find(self, calendar: Calendar, event_id: str) -> dict[str, Any]:
        """Return a stored event or a generated instance (not a copy), 404 if none."""
        if (event := calendar.events.get(event_id)) is not None:
            return event
        if (instance := self._generated_instance(calendar, event_id)) is not None:
            return instance
        raise errors.not_found()

    def get_event(
        self, user: str | None, calendar_id: str, event_id: str
    ) -> dict[str, Any]:
        """Return events.get (a deleted event comes back with status cancelled)."""
        calendar = self.resolve(user, calendar_id)
        return copy.deepcopy(self._find(calendar, event_id))

    def stored_events(self, calendar_id: str) -> list[dict[str, Any]]:
        """Return copies of the stored events that are not cancelled."""
        calendar = self.calendar(calendar_id)
        return [
            copy.deepcopy(event)
            for event in calendar.events.values()
            if event.get("status") != "cancelled"
        ]

    def list_events(
        self, user: str | None, calendar_id: str, query: Query
    ) -> dict[str, Any]:
        """Return one events.list page."""
        calendar = self.resolve(user, calendar_id)
        max_results = min(
            self._int(query, "maxResults", DEFAULT_MAX_RESULTS), MAX_RESULTS
        )
        page_token = _first(query, "pageToken")
        sync_token = _first(query, "syncToken")
        if sync_token is not None:
            # showDeleted cannot be false there: deleted events are always listed.
            conflicts = [*SYNC_TOKEN_CONFLICTS]
            if _first(query, "showDeleted") is not None and not _flag(
                query, "showDeleted"
            ):
                conflicts.append("showDeleted")
            for name in conflicts:
                if name in query:
                    raise errors.bad_request(
                        f"Parameter {name} is not allowed together with syncToken.",
                        reason="invalidParameter" if name != "orderBy" else "invalid",
                        location=name,
                        location_type="parameter",
                    )
            known = self._sync_tokens.get(sync_token)
            if known is None or known[0] != calendar.id:
                raise errors.full_sync_required()
        if page_token is not None:
            page = self._pages.get(page_token)
            if page is None or page.calendar_id != calendar.id:
                raise errors.bad_request(
                    "Invalid page token value.",
                    location="pageToken",
                    location_type="parameter",
                )
        else:
            page = _Page(
                calendar_id=calendar.id,
                items=self._select(calendar, query, sync_token),
                offset=0,
                serial=self._serial,
            )
        end = page.offset + max_results
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": calendar.etag(),
            "summary": calendar.summary,
            "description": calendar.description or "",
            "updated": format_timestamp(self.clock()),
            "timeZone": _first(query, "timeZone") or calendar.time_zone,
            "accessRole": "owner" if user is None else calendar.acl[user],
            "defaultReminders": [],
            "items": page.items[page.offset : end],
        }
        if end < len(page.items):
            token = secrets.token_urlsafe(24)
            self._pages[token] = _Page(calendar.id, page.items, end, page.serial)
            while len(self._pages) > _PAGE_CACHE_SIZE:
                self._pages.popitem(last=False)
            body["nextPageToken"] = token
        else:
            body["nextSyncToken"] = self._mint_sync_token(calendar.id, page.serial)
        return body

    def _select(
        self, calendar: Calendar, query: Query, sync_token: str | None
    ) -> list[dict[str, Any]]:
        """Return every item of a listing, in order, as the client will see it."""
        single_events = _flag(query, "singleEvents")
        order_by = _first(query, "orderBy")
        if order_by is not None and order_by not in ("startTime", "updated"):
            raise errors.bad_request(
                "Invalid value for: orderBy",
                location="orderBy",
                location_type="parameter",
            )
        if order_by == "startTime" and not single_events:
            raise errors.bad_request(
                "The requested ordering is not available for the particular query.",
                reason="invalid",
            )
        if sync_token is not None:
            since = self._sync_tokens[sync_token][1]
            changed = sorted(
                (
                    (serial, event_id)
                    for event_id, serial in calendar.serials.items()
                    if serial > since
                )
            )
            items: list[dict[str, Any]] = []
            for _, event_id in changed:
                event = calendar.events[event_id]
                if event_id in calendar.unchecked:
                    items.append(copy.deepcopy(event))
                elif (
                    single_events
                    and event.get("recurrence")
                    and (event.get("status") != "cancelled")
                ):
                    items.extend(
                        instance
                        for instance in self._instances(calendar, event)
                        if instance["id"] not in calendar.events
                    )
                else:
                    items.append(self._public(event))
            return items

        time_min = time_max = updated_min = None
        if (value := _first(query, "timeMin")) is not None:
            time_min = parse_rfc3339(value, "timeMin")
        if (value := _first(query, "timeMax")) is not None:
            time_max = parse_rfc3339(value, "timeMax")
        if (value := _first(query, "updatedMin")) is not None:
            updated_min = parse_rfc3339(value, "updatedMin")
        if time_min and time_max and time_max <= time_min:
            raise errors.bad_request("Bad Request", reason="timeRangeEmpty")
        show_deleted = _flag(query, "showDeleted")

        candidates: list[dict[str, Any]] = []
        unchecked: list[dict[str, Any]] = []
        for key, event in calendar.events.items():
            if key in calendar.unchecked:
                # Its times may not parse: listed whatever the range asks.
                unchecked.append(copy.deepcopy(event))
                continue
            cancelled = event.get("status") == "cancelled"
            exception = "recurringEventId" in event
            if single_events:
                if event.get("recurrence"):
                    if cancelled:
                        continue
                    candidates.extend(
                        instance
                        for instance in self._instances(
                            calendar, event, time_min=time_min, time_max=time_max
                        )
                        if instance["id"] not in calendar.events
                    )
                    continue
                if exception and self._master_gone(calendar, event):
                    continue
                if cancelled and not show_deleted:
                    continue
            else:
                # Google's nuance: cancelled instances of recurring events are listed when
                # showDeleted and singleEvents are both false (not once the whole
                # series is deleted).
                if (
                    cancelled
                    and not show_deleted
                    and (not exception or self._master_gone(calendar, event))
                ):
                    continue
                if event.get("recurrence") and not cancelled:
                    if (time_min or time_max) and not self._instances(
                        calendar, event, time_min=time_min, time_max=time_max, limit=1
                    ):
                        continue
                    candidates.append(event)
                    continue
            if not self._overlaps(calendar, event, time_min, time_max):
                continue
            candidates.append(event)

        selected = [
            event for event in candidates if self._matches(event, query, updated_min)
        ]
        if order_by == "updated":
            selected.sort(key=lambda event: (event["updated"], event["id"]))
        else:
            selected.sort(
                key=lambda event: (self._moment(calendar, event["start"]), event["id"])
            )
        return [self._public(event) for event in selected] + unchecked

    @staticmethod
    def _master_gone(calendar: Calendar, exception: Mapping[str, Any]) -> bool:
        master = calendar.events.get(exception["recurringEventId"])
        return master is None or master.get("status") == "cancelled"

    def _overlaps(
        self,
        calendar: Calendar,
        event: Mapping[str, Any],
        time_min: datetime | None,
        time_max: datetime | None,
    ) -> bool:
        """Apply timeMin (exclusive, on the end) and timeMax (exclusive, on the start)."""
        if time_min is None and time_max is None:
            return True
        bounds = self._bounds(calendar, event)
        if time_min is not None and bounds.end <= time_min:
            return False
        return time_max is None or bounds.start < time_max

    @staticmethod
    def _matches(
        event: Mapping[str, Any], query: Query, updated_min: datetime | None
    ) -> bool:
        """Apply the property, text, iCalUID and updatedMin filters."""
        properties = event.get("extendedProperties") or {}
        for param, scope in (
            ("privateExtendedProperty", "private"),
            ("sharedExtendedProperty", "shared"),
        ):
            values = properties.get(scope) or {}
            for condition in query.get(param, []):
                key, _, value = condition.partition("=")
                if values.get(key) != value:
                    return False
        if (uid := _first(query, "iCalUID")) is not None and event.get(
            "iCalUID"
        ) != uid:
            return False
        if updated_min is not None and (
            datetime.fromisoformat(event["updated"]) < updated_min
        ):
            return False
        if (text := _first(query, "q")) is not None:
            haystack = " ".join(
                str(event.get(name) or "")
                for name in ("summary", "description", "location")
            ).lower()
            if not all(word in haystack for word in text.lower().split()):
                return False
        return True

    @staticmethod
    def _public(event: Mapping[str, Any]) -> dict[str, Any]:
        """Return an event as a listing shows it; cancelled ones carry few fields."""
        if event.get("status") != "cancelled":
            return copy.deepcopy(dict(event))
        return {
            key: copy.deepcopy(event[key])
            for key in (
                "kind",
                "etag",
                "id",
                "status",
                "updated",
                "recurringEventId",
                "originalStartTime",
            )
            if key in event
        }

    def instances(
        self, user: str | None, calendar_id: str, event_id: str, query: Query
    ) -> dict[str, Any]:
        """Return events.instances: the master's instances with exceptions in place."""
        calendar = self.resolve(user, calendar_id)
        master = calendar.events.get(event_id)
        if master is None or master.get("status") == "cancelled":
            raise errors.not_found()
        if not master.get("recurrence"):
            raise errors.bad_request("The event is not a recurring event.")
        time_min = time_max = None
        if (value := _first(query, "timeMin")) is not None:
            time_min = parse_rfc3339(value, "timeMin")
        if (value := _first(query, "timeMax")) is not None:
            time_max = parse_rfc3339(value, "timeMax")
        show_deleted = _flag(query, "showDeleted")
        items = [
            instance
            for instance in self._instances(
                calendar, master, time_min=time_min, time_max=time_max
            )
            if instance["id"] not in calendar.events
        ]
        for event in calendar.events.values():
            if event.get("recurringEventId") != event_id:
                continue
            if event.get("status") == "cancelled" and not show_deleted:
                continue
            if self._overlaps(calendar, event, time_min, time_max):
                items.append(event)
        items.sort(
            key=lambda event: (self._moment(calendar, event["start"]), event["id"])
        )
        max_results = min(
            self._int(query, "maxResults", DEFAULT_MAX_RESULTS), MAX_RESULTS
        )
        offset = 0
        if (token := _first(query, "pageToken")) is not None:
            try:
                offset = int(token.removeprefix("i"))
            except ValueError:
                raise errors.bad_request("Invalid page token value.") from None
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": calendar.etag(),
            "summary": calendar.summary,
            "updated": format_timestamp(self.clock()),
            "timeZone": calendar.time_zone,
            "accessRole": "owner" if user is None else calendar.acl[user],
            "defaultReminders": [],
            "items": [
                self._public(item) for item in items[offset : offset + max_results]
            ],
        }
        if offset + max_results < len(items):
            body["nextPageToken"] = f"i{offset + max_results}"
        return body

    # --- event writes -----------------------------------------------------------------

    def _new_event(
        self, calendar: Calendar, user: str | None, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Build a new event from a client body."""
        event_id = body.get("id")
        if event_id is not None:
            if not isinstance(event_id, str) or not EVENT_ID_RE.match(event_id):
                raise errors.bad_request("Invalid resource id value.")
            if event_id in calendar.events:
                raise errors.duplicate()
        else:
            event_id = secrets.token_hex(13)  # 26 hex digits: valid base32hex
        event = {
            key: copy.deepcopy(value)
            for key, value in body.items()
            if key not in READ_ONLY_FIELDS and value is not None
        }
        now = format_timestamp(self.clock())
        creator = user or calendar.owner
        event.update(
            {
                "kind": "calendar#event",
                "id": event_id,
                "status": body.get("status") or "confirmed",
                "htmlLink": self._html_link(calendar.id, event_id),
                "created": now,
                "creator": {"email": creator},
                "organizer": {
                    "email": calendar.id,
                    "displayName": calendar.summary,
                    "self": True,
                },
                "iCalUID": body.get("iCalUID") or f"{event_id}@google.com",
                "sequence": int(body.get("sequence") or 0),
                "reminders": body.get("reminders") or {"useDefault": True},
                "eventType": body.get("eventType") or "default",
            }
        )
        if calendar.id == creator:
            event["creator"]["self"] = True
        return event

    @staticmethod
    def _html_link(calendar_id: str, event_id: str) -> str:
        import base64

        eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode()
        return f"https://www.google.com/calendar/event?eid={eid.rstrip('=')}"

    @staticmethod
    def _apply_conference(
        event: dict[str, Any],
        body: Mapping[str, Any],
        conference_data_version: int,
        previous: Mapping[str, Any] | None,
    ) -> None:
        """Honour conferenceData only with conferenceDataVersion=1, like Google."""
        if conference_data_version < 1:
            # Google ignores conference data the client cannot express; keep the old.
            event.pop("conferenceData", None)
            event.pop("hangoutLink", None)
            if previous is not None:
                for key in ("conferenceData", "hangoutLink"):
                    if key in previous:
                        event[key] = copy.deepcopy(previous[key])
            return
        if "conferenceData" not in body:
            return
        data = body["conferenceData"]
        if data is None:
            event.pop("conferenceData", None)
            event.pop("hangoutLink", None)
            return
        create = data.get("createRequest")
        if not create:
            event["conferenceData"] = copy.deepcopy(data)
            return
        request_id = create.get("requestId")
        if not request_id:
            raise errors.required("conferenceData.createRequest.requestId")
        old = (previous or {}).get("conferenceData") or {}
        if (old.get("createRequest") or {}).get("requestId") == request_id:
            # Reusing a requestId makes the request ignored.
            event["conferenceData"] = copy.deepcopy(old)
            if "hangoutLink" in (previous or {}):
                event["hangoutLink"] = previous["hangoutLink"]  # type: ignore[index]
            return
        solution = (create.get("conferenceSolutionKey") or {}).get(
            "type", "hangoutsMeet"
        )
        if solution != "hangoutsMeet":
            raise errors.bad_request("Invalid conference type value.")
        digest = hashlib.sha256(f"{event['id']}:{request_id}".encode()).hexdigest()
        letters = "".join(chr(ord("a") + int(ch, 16) % 26) for ch in digest[:10])
        code = f"{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
        link = f"https://meet.google.com/{code}"
        event["conferenceData"] = {
            "createRequest": {
                "requestId": request_id,
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
                "status": {"statusCode": "success"},
            },
            "entryPoints": [
                {
                    "entryPointType": "video",
                    "uri": link,
                    "label": f"meet.google.com/{code}",
                }
            ],
            "conferenceSolution": {
                "key": {"type": "hangoutsMeet"},
                "name": "Google Meet",
                "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
            },
            "conferenceId": code,
        }
        event["hangoutLink"] = link

    def insert_event(
        self,
        user: str | None,
        calendar_id: str,
        body: Mapping[str, Any],
        *,
        conference_data_version: int = 0,
    ) -> dict[str, Any]:
        """Create an event (events.insert)."""
        calendar = self.resolve(user, calendar_id, write=True)
        return self._create(user, calendar, body, conference_data_version)

    def _create(
        self,
        user: str | None,
        calendar: Calendar,
        body: Mapping[str, Any],
        conference_data_version: int,
    ) -> dict[str, Any]:
        """Validate, store and announce a new event."""
        event = self._new_event(calendar, user, body)
        self._validate_times(calendar, event, recurring=bool(event.get("recurrence")))
        self._validate_recurrence(calendar, event)
        event_fields.check_new(event, primary=calendar.id == calendar.owner)
        event_fields.check_fields(event)
        event_fields.mark_attendees(event, calendar.owner)
        self._apply_conference(event, body, conference_data_version, None)
        self._store(calendar, event)
        self._notify(calendar.id)
        return copy.deepcopy(event)

    def import_event(
        self,
        user: str | None,
        calendar_id: str,
        body: Mapping[str, Any],
        *,
        conference_data_version: int = 0,
    ) -> dict[str, Any]:
        """Import a private copy by iCalUID (events.import); an existing copy is updated."""
        calendar = self.resolve(user, calendar_id, write=True)
        uid = body.get("iCalUID")
        if not uid:
            raise errors.required("iCalUID")
        for existing in calendar.events.values():
            if existing.get("iCalUID") == uid and "recurringEventId" not in existing:
                replacement = {**body, "status": body.get("status") or "confirmed"}
                return self._replace(
                    user,
                    calendar,
                    existing["id"],
                    replacement,
                    if_match=None,
                    conference_data_version=conference_data_version,
                    patch=False,
                )
        return self._create(user, calendar, body, conference_data_version)

    def _validate_recurrence(
        self, calendar: Calendar, event: Mapping[str, Any]
    ) -> None:
        """Reject recurrence lines dateutil cannot read."""
        lines = event.get("recurrence")
        if not lines:
            return
        if not isinstance(lines, list) or any(
            not isinstance(line, str) or "DTSTART" in line for line in lines
        ):
            raise errors.bad_request("Invalid recurrence rule.")
        try:
            self._instances(calendar, event, limit=1)
        except ValueError, TypeError:
            raise errors.bad_request("Invalid recurrence rule.") from None

    def edit_event(
        self,
        user: str | None,
        calendar_id: str,
        event_id: str,
        body: Mapping[str, Any],
        *,
        patch: bool,
        if_match: str | None = None,
        conference_data_version: int = 0,
    ) -> dict[str, Any]:
        """Patch (merge into) or update (replace) an event or instance."""
        calendar = self.resolve(user, calendar_id, write=True)
        return self._replace(
            user,
            calendar,
            event_id,
            body,
            if_match=if_match,
            conference_data_version=conference_data_version,
            patch=patch,
        )

    def _replace(
        self,
        user: str | None,
        calendar: Calendar,
        event_id: str,
        body: Mapping[str, Any],
        *,
        if_match: str | None,
        conference_data_version: int,
        patch: bool,
    ) -> dict[str, Any]:
        """Apply a patch or update, turning an instance edit into an exception."""
        current = self._find(calendar, event_id)
        if if_match is not None and if_match not in ("*", current["etag"]):
            raise errors.condition_not_met()
        if body.get("id") not in (None, event_id):
            raise errors.bad_request("The event id cannot be changed.")
        event_fields.check_change(current, body)
        writable = {
            key: value
            for key, value in body.items()
            if key not in READ_ONLY_FIELDS and key not in ("id", "iCalUID", "sequence")
        }
        if patch:
            event = copy.deepcopy(current)
            _merge(event, writable)
        else:
            event = {
                key: copy.deepcopy(current[key])
                for key in (
                    "kind",
                    "id",
                    "htmlLink",
                    "created",
                    "creator",
                    "organizer",
                    "iCalUID",
                    "recurringEventId",
                    "originalStartTime",
                    "eventType",
                )
                if key in current
            }
            event.update(
                {key: copy.deepcopy(v) for key, v in writable.items() if v is not None}
            )
            event.setdefault("status", "confirmed")
            event.setdefault("reminders", {"useDefault": True})
        event["sequence"] = int(current.get("sequence", 0)) + 1
        if "recurringEventId" in event:
            event.pop("recurrence", None)
        self._validate_times(calendar, event, recurring=bool(event.get("recurrence")))
        self._validate_recurrence(calendar, event)
        event_fields.check_fields(event)
        event_fields.mark_attendees(event, calendar.owner)
        self._apply_conference(event, body, conference_data_version, current)
        self._store(calendar, event)
        if event.get("status") == "cancelled" and event.get("recurrence"):
            self._cancel_exceptions(calendar, event["id"])
        self._notify(calendar.id)
        return copy.deepcopy(event)

    def delete_event(
        self,
        user: str | None,
        calendar_id: str,
        event_id: str,
        *,
        if_match: str | None = None,
    ) -> None:
        """Cancel an event; an instance id becomes a cancelled exception."""
        calendar = self.resolve(user, calendar_id, write=True)
        current = self._find(calendar, event_id)
        if current.get("status") == "cancelled":
            raise errors.deleted()
        if if_match is not None and if_match not in ("*", current["etag"]):
            raise errors.condition_not_met()
        event = copy.deepcopy(current)
        event["status"] = "cancelled"
        event["sequence"] = int(event.get("sequence", 0)) + 1
        self._store(calendar, event)
        if event.get("recurrence"):
            self._cancel_exceptions(calendar, event_id)
        self._notify(calendar.id)

    def move_event(
        self, user: str | None, calendar_id: str, event_id: str, destination: str
    ) -> dict[str, Any]:
        """Move an event to another calendar (events.move): default events only."""
        source = self.resolve(user, calendar_id, write=True)
        target = self.resolve(user, destination, write=True)
        current = self._find(source, event_id)
        if current.get("status") == "cancelled":
            raise errors.deleted()
        event_fields.check_move(current)
        if "recurringEventId" in current:
            raise errors.bad_request("Cannot move an instance of a recurring event.")
        if target is source:
            return copy.deepcopy(current)
        if event_id in target.events:
            raise errors.duplicate()
        moved = copy.deepcopy(current)
        moved["organizer"] = {
            "email": target.id,
            "displayName": target.summary,
            "self": True,
        }
        moved["htmlLink"] = self._html_link(target.id, event_id)
        moved["sequence"] = int(moved.get("sequence", 0)) + 1
        self._store(target, moved)
        tombstone = copy.deepcopy(current)
        tombstone["status"] = "cancelled"
        self._store(source, tombstone)
        self._notify(source.id)
        self._notify(target.id)
        return copy.deepcopy(moved)

    def _cancel_exceptions(self, calendar: Calendar, master_id: str) -> None:
        """Cancel the exceptions of a deleted recurring event."""
        for stored in list(calendar.events.values()):
            if (
                stored.get("recurringEventId") == master_id
                and stored.get("status") != "cancelled"
            ):
                exception = copy.deepcopy(stored)
                exception["status"] = "cancelled"
                self._store(calendar, exception)
