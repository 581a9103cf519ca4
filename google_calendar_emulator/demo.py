"""Demo data: a small, believable account for scripts/develop and the browser test."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from .server import GoogleCalendarEmulator

_LOGGER = logging.getLogger(__name__)

DEMO_USER = "demo@example.com"
FAMILY_CALENDAR = "family.demo@group.calendar.google.com"
HOLIDAYS_CALENDAR = "en.demo#holiday@group.v.calendar.google.com"
DEMO_TIME_ZONE = "UTC"


def _timed(start: datetime, minutes: int) -> dict[str, Any]:
    """Return start/end fields of a timed event, in the start's time zone."""
    end = start + timedelta(minutes=minutes)
    zone = str(start.tzinfo)
    return {
        "start": {"dateTime": start.isoformat(), "timeZone": zone},
        "end": {"dateTime": end.isoformat(), "timeZone": zone},
    }


def _instance_id(master_id: str, start: datetime) -> str:
    """Return Google's id of one instance of a recurring timed event."""
    return f"{master_id}_{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def seed_demo(
    emulator: GoogleCalendarEmulator,
    *,
    today: date | None = None,
    time_zone: str = DEMO_TIME_ZONE,
) -> dict[str, Any]:
    """Create the demo user and calendars with events around today (once).

    Events fall at fixed, natural local times in time_zone on fixed days relative to
    today (default: today there), whatever the hour of seeding: breakfast at 8:00,
    the dentist at 15:00.
    """
    zone = ZoneInfo(time_zone)
    today = today or datetime.now(zone).date()

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour, minute), zone)

    calendars = {
        "primary": DEMO_USER,
        "family": FAMILY_CALENDAR,
        "holidays": HOLIDAYS_CALENDAR,
    }
    if FAMILY_CALENDAR in emulator.model.calendars:
        # Seeding twice would only duplicate events: report what is there.
        return {
            "user": DEMO_USER,
            "calendars": calendars,
            "events": {
                calendar_id: [event["id"] for event in emulator.events(calendar_id)]
                for calendar_id in calendars.values()
            },
        }

    emulator.add_user(DEMO_USER)
    emulator.add_calendar(
        DEMO_USER,
        "Family",
        calendar_id=FAMILY_CALENDAR,
        time_zone=time_zone,
        color_id="7",
    )
    emulator.add_calendar(
        DEMO_USER,
        "Holidays",
        calendar_id=HOLIDAYS_CALENDAR,
        time_zone=time_zone,
        access_role="reader",
    )

    primary = DEMO_USER
    created: dict[str, list[str]] = {
        primary: [],
        FAMILY_CALENDAR: [],
        HOLIDAYS_CALENDAR: [],
    }

    def insert(calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        event = emulator.insert_event(calendar_id, body)
        created[calendar_id].append(event["id"])
        return event

    # A weekly team meeting that started two weeks ago, with today's instance moved
    # and next week's cancelled, so recurrence exceptions show up in the UI.
    first = at(-14, 9, 30)
    weekly = insert(
        primary,
        {
            "id": "demo00000001",
            "summary": "Weekly team sync",
            "description": "Agenda in the shared doc.",
            "location": "Room 4.01",
            **_timed(first, 30),
            "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=12"],
        },
    )
    emulator.patch_event(
        primary,
        _instance_id(weekly["id"], at(0, 9, 30)),
        {"summary": "Weekly team sync (moved)", **_timed(at(0, 11), 30)},
    )
    emulator.delete_event(primary, _instance_id(weekly["id"], at(7, 9, 30)))

    insert(
        primary,
        {
            "summary": "Breakfast with Sam",
            **_timed(at(0, 8), 60),
            "colorId": "5",  # banana
        },
    )
    insert(
        primary,
        {"summary": "Dentist", "location": "Main Street 5", **_timed(at(0, 15), 45)},
    )
    insert(
        primary,
        {
            "summary": "Focus time",
            "eventType": "focusTime",
            **_timed(at(1, 9), 90),
            "colorId": "9",  # blueberry
        },
    )
    insert(
        primary,
        {
            "summary": "Project review",
            "description": "Join with Google Meet.",
            **_timed(at(1, 11), 60),
            "conferenceData": {
                "createRequest": {
                    "requestId": "demo-meet-1",
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            },
        },
    )
    # Google hides what the user declined and keeps birthdays and working
    # locations apart: Home Assistant shows them the same way.
    insert(
        primary,
        {
            "summary": "Budget meeting (declined)",
            **_timed(at(0, 13), 60),
            "attendees": [
                {"email": "boss@example.com", "responseStatus": "accepted"},
                {"email": DEMO_USER, "responseStatus": "declined"},
            ],
        },
    )
    insert(
        primary,
        {
            "summary": "Alex's birthday",
            "eventType": "birthday",
            "start": {"date": (today + timedelta(days=1)).isoformat()},
            "end": {"date": (today + timedelta(days=2)).isoformat()},
            "recurrence": ["RRULE:FREQ=YEARLY"],
            "transparency": "transparent",
            "visibility": "private",
            "birthdayProperties": {"type": "birthday"},
        },
    )
    insert(
        primary,
        {
            "summary": "Office",
            "eventType": "workingLocation",
            "start": {"date": today.isoformat()},
            "end": {"date": (today + timedelta(days=1)).isoformat()},
            "transparency": "transparent",
            "workingLocationProperties": {
                "type": "officeLocation",
                "officeLocation": {"label": "Main office"},
            },
        },
    )
    insert(
        primary,
        {
            "summary": "Out of office",
            "eventType": "outOfOffice",
            **_timed(at(3, 8), 10 * 60),
            "colorId": "11",  # tomato
        },
    )
    insert(
        FAMILY_CALENDAR,
        {
            "summary": "Grandma's birthday",
            "start": {"date": (today + timedelta(days=2)).isoformat()},
            "end": {"date": (today + timedelta(days=3)).isoformat()},
        },
    )
    # Every Tuesday and Thursday evening, since the Tuesday of last week.
    last_tuesday = -7 - (today.weekday() - 1) % 7
    insert(
        FAMILY_CALENDAR,
        {
            "summary": "Football practice",
            **_timed(at(last_tuesday, 17), 90),
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU,TH"],
        },
    )
    for offset, name in ((5, "Demo Day"), (40, "Founders' Day")):
        day: date = today + timedelta(days=offset)
        insert(
            HOLIDAYS_CALENDAR,
            {
                "summary": name,
                "start": {"date": day.isoformat()},
                "end": {"date": (day + timedelta(days=1)).isoformat()},
                "transparency": "transparent",
            },
        )
    _LOGGER.info("Seeded demo data for %s", DEMO_USER)
    return {"user": DEMO_USER, "calendars": calendars, "events": created}


DEMO_SERVICE_ACCOUNT = "demo-sync@emulator-project.iam.gserviceaccount.com"
DEMO_API_KEY = "AIzaDemoKeyForPublicCalendars0000000000"
PUBLIC_CALENDAR = "football.demo@group.calendar.google.com"
PUBLIC_CALENDAR_OWNER = "club@example.com"


def seed_other_ways(
    emulator: GoogleCalendarEmulator, *, now: datetime | None = None
) -> dict[str, Any]:
    """Seed the two other ways in: a service account and a public calendar.

    The service account demo-sync@ has the Family calendar shared with it (writer);
    the public "Football club" calendar is readable with DEMO_API_KEY. Answers the
    service account's JSON key (a new key on every call) and the API key.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    identities = emulator.identities
    if DEMO_SERVICE_ACCOUNT in identities.service_accounts:
        key = emulator.create_service_account_key(DEMO_SERVICE_ACCOUNT)
    else:
        key = emulator.create_service_account("demo-sync")
        emulator.share_calendar(FAMILY_CALENDAR, DEMO_SERVICE_ACCOUNT, "writer")
    identities.create_api_key(key=DEMO_API_KEY)
    if PUBLIC_CALENDAR not in emulator.model.calendars:
        emulator.add_calendar(
            PUBLIC_CALENDAR_OWNER,
            "Football club",
            calendar_id=PUBLIC_CALENDAR,
            time_zone=DEMO_TIME_ZONE,
        )
        emulator.set_public(PUBLIC_CALENDAR)
        midnight = datetime.combine(now.date(), time(), UTC)
        for days, summary in ((0, "Home match"), (3, "Away match"), (10, "Cup final")):
            emulator.insert_event(
                PUBLIC_CALENDAR,
                {
                    "summary": summary,
                    "location": "Club ground" if days != 3 else "Riverside",
                    **_timed(midnight + timedelta(days=days, hours=18), 105),
                },
            )
    return {
        "service_account_key": key,
        "api_key": DEMO_API_KEY,
        "public_calendar": PUBLIC_CALENDAR,
    }
