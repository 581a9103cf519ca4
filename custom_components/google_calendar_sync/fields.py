"""Validators of action fields that refuse bad input with translated messages.

Each field has one validator; a failing validator raises FieldInvalid, which names
the translated message. TranslatedSchema turns the first error of a call, from a
field or from the schema itself (a missing, unknown or conflicting field), into a
ServiceValidationError a user understands instead of voluptuous's text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any, override

from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN
from .convert import EditScope

# Google's documented limits (Events resource, reminders.overrides): at most 5
# overrides, minutes from 0 to 40320 (four weeks).
MAX_REMINDERS = 5
MAX_REMINDER_MINUTES = 40320
# Google Workspace Admin Help, "Invite groups to calendar events": an event can
# have at most 500 invitees added one by one.
MAX_ATTENDEES = 500

type Validator = Callable[[Any], Any]

# The fields of the actions.
ATTR_SUMMARY = "summary"
ATTR_DESCRIPTION = "description"
ATTR_LOCATION = "location"
ATTR_START_DATE_TIME = "start_date_time"
ATTR_END_DATE_TIME = "end_date_time"
ATTR_START_DATE = "start_date"
ATTR_END_DATE = "end_date"
ATTR_DURATION = "duration"
ATTR_TIME_ZONE = "time_zone"
ATTR_ATTENDEES = "attendees"
ATTR_RRULE = "rrule"
ATTR_REMINDERS = "reminders"
ATTR_TRANSPARENCY = "transparency"
ATTR_ADD_MEET_LINK = "add_meet_link"
ATTR_SOURCE_ENTITY_ID = "source_entity_id"
ATTR_APPOINTMENTS = "appointments"
ATTR_REMOVE_MISSING = "remove_missing"
ATTR_UID = "uid"
ATTR_START = "start"
ATTR_END = "end"
ATTR_EVENT_ID = "event_id"
ATTR_SCOPE = "scope"


class FieldInvalid(probatio.Invalid):
    """A field's value is invalid; carries the translated message to show."""

    def __init__(
        self,
        *,
        translation_key: str,
        translation_placeholders: Mapping[str, str] | None = None,
    ) -> None:
        """Remember the translation of the error."""
        super().__init__(translation_key)
        self.field_key = translation_key
        self.field_placeholders = dict(translation_placeholders or {})


def field_error(key: str, **placeholders: str) -> FieldInvalid:
    """Return the translated error of a field."""
    return FieldInvalid(translation_key=key, translation_placeholders=placeholders)


def service_error(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error of an action."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def translated_field(key: str, *validators: Validator) -> Validator:
    """Return a validator that refuses a bad value with the field's message."""
    validator = probatio.All(*validators)

    def validate(value: Any) -> Any:
        try:
            return validator(value)
        except probatio.Invalid as err:
            raise FieldInvalid(translation_key=key) from err

    return validate


def _text(value: Any) -> str:
    """Return text with surrounding blanks removed."""
    return str(cv.string(value)).strip()


def _not_empty(value: str) -> str:
    """Refuse empty text."""
    if not value:
        raise probatio.Invalid("empty")
    return value


SUMMARY = translated_field("invalid_summary", _text, _not_empty)
DESCRIPTION = translated_field("invalid_description", cv.string)
LOCATION = translated_field("invalid_location", cv.string)
START_DATE_TIME = translated_field("invalid_start_date_time", cv.datetime)
END_DATE_TIME = translated_field("invalid_end_date_time", cv.datetime)
START_DATE = translated_field("invalid_start_date", cv.date)
END_DATE = translated_field("invalid_end_date", cv.date)
DURATION = translated_field("invalid_duration", cv.time_period)
TIME_ZONE = translated_field("invalid_time_zone", _text, _not_empty)
RRULE = translated_field("invalid_rrule_text", _text, _not_empty)
TRANSPARENCY = translated_field(
    "invalid_transparency", probatio.In(["opaque", "transparent"])
)
ADD_MEET_LINK = translated_field("invalid_add_meet_link", cv.boolean)
EVENT_ID = translated_field("invalid_event_id", _text, _not_empty)
SCOPE = translated_field("invalid_scope", probatio.Coerce(EditScope))
REMOVE_MISSING = translated_field("invalid_remove_missing", cv.boolean)
SOURCE_ENTITY_ID = translated_field("invalid_source_entity_id", cv.entity_id)
_EMAIL = probatio.Email()


def attendees(value: Any) -> list[str]:
    """Validate attendee email addresses, at most as many as Google accepts."""
    emails = cv.ensure_list(value)
    if len(emails) > MAX_ATTENDEES:
        raise field_error(
            "too_many_attendees", count=str(len(emails)), maximum=str(MAX_ATTENDEES)
        )
    valid: list[str] = []
    for email in emails:
        try:
            valid.append(str(_EMAIL(_text(email))))
        except probatio.Invalid as err:
            raise field_error("invalid_attendee", email=str(email)) from err
    return valid


def reminders(value: Any) -> list[int]:
    """Validate reminder minutes, at most as many and as early as Google accepts."""
    items = cv.ensure_list(value)
    if len(items) > MAX_REMINDERS:
        raise field_error(
            "too_many_reminders", count=str(len(items)), maximum=str(MAX_REMINDERS)
        )
    minutes: list[int] = []
    for item in items:
        try:
            minutes.append(
                probatio.All(
                    probatio.Coerce(int),
                    probatio.Range(min=0, max=MAX_REMINDER_MINUTES),
                )(item)
            )
        except probatio.Invalid as err:
            raise field_error(
                "invalid_reminder",
                minutes=str(item),
                maximum=str(MAX_REMINDER_MINUTES),
            ) from err
    return minutes


def appointment_list(item: probatio.Schema) -> Validator:
    """Return a validator of a list of appointments, naming the bad one."""

    def validate(value: Any) -> list[Any]:
        if not isinstance(value, list) or not all(
            isinstance(appointment, dict) for appointment in value
        ):
            raise field_error("invalid_appointments")
        valid: list[Any] = []
        for number, appointment in enumerate(value, start=1):
            try:
                valid.append(item(appointment))
            except probatio.MultipleInvalid as err:
                path = err.errors[0].path
                raise field_error(
                    "invalid_appointment",
                    number=str(number),
                    field=str(path[0]),
                ) from err
        return valid

    return validate


async def async_time_zone(name: str) -> tzinfo:
    """Return a time zone by its IANA name, loading it without blocking the loop."""
    if (zone := await dt_util.async_get_time_zone(name)) is None:
        raise service_error("unknown_time_zone", time_zone=name)
    return zone


def localize(value: datetime, zone: tzinfo) -> datetime:
    """Give a naive datetime the requested zone."""
    if value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)


def check_order(start: date | datetime, end: date | datetime) -> None:
    """Refuse an end that is not after the start."""
    if type(start) is not type(end):
        raise service_error("mixed_start_end")
    if end <= start:
        raise service_error("end_before_start", start=str(start), end=str(end))


def _exclusive_groups(fields: Mapping[Any, Any]) -> dict[str, list[str]]:
    """Return the fields of each group of exclusion of a schema."""
    groups: dict[str, list[str]] = {}
    for marker in fields:
        if isinstance(marker, probatio.Exclusive):
            groups.setdefault(str(marker.group_of_exclusion), []).append(
                str(marker.schema)
            )
    return groups


class TranslatedSchema(probatio.Schema):
    """An action's schema whose errors are translated ServiceValidationErrors."""

    def __init__(self, fields: Mapping[Any, Any], schema: Validator) -> None:
        """Wrap the schema built from the fields (an entity service schema)."""
        super().__init__(schema)
        self._groups = _exclusive_groups(fields)

    @override
    def __call__(self, data: Any, **kwargs: Any) -> Any:
        """Validate, refusing the first error with its translated message."""
        try:
            return super().__call__(data, **kwargs)
        except probatio.MultipleInvalid as err:
            raise self._translate(err.errors[0], data) from err

    def _translate(self, error: probatio.Invalid, data: Any) -> ServiceValidationError:
        """Return the message of one error."""
        if isinstance(error, FieldInvalid):
            return ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=error.field_key,
                translation_placeholders=error.field_placeholders or None,
            )
        if isinstance(error, probatio.ExclusiveInvalid):
            fields = self._groups.get(str(error.placeholders.get("group")), [])
            given = [name for name in fields if name in data] or fields
            return service_error("conflicting_fields", fields=", ".join(given))
        field = str(error.path[0]) if error.path else ""
        if isinstance(error, probatio.RequiredFieldInvalid):
            return service_error("missing_field", field=field)
        if isinstance(error, probatio.ExtraKeysInvalid):
            return service_error("unknown_field", field=field)
        return service_error("invalid_field", field=field)


def translated_entity_schema(fields: dict[Any, Any]) -> TranslatedSchema:
    """Return the entity service schema of an action's fields, translated."""
    return TranslatedSchema(fields, cv.make_entity_service_schema(fields))
