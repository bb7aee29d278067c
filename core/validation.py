"""Input a clerk can trust: dates in range, resident ID numbers, phones, text that fits.

Checks are plain functions raising :class:`InvalidInput` with a message a clerk
understands (services call them, whatever the caller: admin form, API, import, CLI),
and WTForms validators wrapping the same functions for forms.

* **Dates**: nothing before 1 January of ``EARLIEST_YEAR`` (a setting, default 2000;
  "1800-01-01" is a typing mistake); a date recording something that happened (a case
  received, a session held, an item collected) is not after the township's today; an
  end is not before its start.
* **Resident ID numbers** (居民身份证号码) by the national standard GB 11643 with its
  check digit, through ``python-stdnum`` (``stdnum.cn.ric``): length, birth date,
  check digit.
* **Phones** through ``phonenumbers`` (Google's libphonenumber) for region CN: a mobile
  number or a fixed line with its area code.
* **Text longer than its column** is refused with a message naming the limit, never cut.

A model column names its check in ``info``: ``mapped_column(String(18),
info={"check": "resident_id"})`` (also ``"phone"``), and a date that records what
happened ``info={"past": True}``; :class:`admin.views.TownshipModelView` reads these
and adds the validators to every generated form, with the length of every text
column and the date range on every date field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import ValidationError


class InvalidInput(ValueError):
    """A value was refused; the message says why and what to do."""


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------


def earliest_date() -> date:
    """1 January of the ``EARLIEST_YEAR`` setting."""
    year = 2000
    if has_app_context():
        year = int(current_app.config.get("EARLIEST_YEAR") or 2000)
    return date(year, 1, 1)


def check_date(
    value: date | None,
    *,
    township: Any = None,
    past: bool = False,
    label: Any = None,
) -> date | None:
    """``value`` if it lies between ``EARLIEST_YEAR`` and (for ``past`` dates, which record
    what happened) the township's today; :class:`InvalidInput` otherwise."""
    from core import clock

    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    what = f"{label}: " if label else ""
    first = earliest_date()
    if value < first:
        raise InvalidInput(
            what
            + _(
                "%(day)s is before %(first)s; check the year.",
                day=value.isoformat(),
                first=first.isoformat(),
            )
        )
    if past:
        today = clock.today(township)
        if value > today:
            raise InvalidInput(
                what
                + _(
                    "%(day)s is in the future (today is %(today)s).",
                    day=value.isoformat(),
                    today=today.isoformat(),
                )
            )
    return value


def check_range(start: date | None, end: date | None, *, label: Any = None) -> None:
    """An end (``end``) is not before its start."""
    if start is not None and end is not None and end < start:
        what = f"{label}: " if label else ""
        raise InvalidInput(
            what
            + _(
                "%(end)s comes before %(start)s.",
                end=end.isoformat(),
                start=start.isoformat(),
            )
        )


# ---------------------------------------------------------------------------
# Resident ID numbers and phones
# ---------------------------------------------------------------------------


def check_resident_id(value: str | None) -> str | None:
    """A resident ID number (GB 11643, 18 characters with its check digit), normalised
    (upper-case ``X``); None or "" stay as they are."""
    from stdnum import exceptions
    from stdnum.cn import ric

    if value is None or not str(value).strip():
        return None
    text = str(value).strip().replace(" ", "").upper()
    try:
        return ric.validate(text)
    except exceptions.InvalidChecksum:
        raise InvalidInput(
            _("%(value)s: the check digit does not match; check every digit.", value=text)
        ) from None
    except exceptions.InvalidLength:
        raise InvalidInput(
            _("%(value)s: a resident ID number has 18 characters.", value=text)
        ) from None
    except exceptions.ValidationError:
        raise InvalidInput(
            _("%(value)s is not a resident ID number (birth date or digits wrong).", value=text)
        ) from None


def check_phone(value: str | None) -> str | None:
    """A Chinese phone number (mobile, or fixed line with area code), normalised to its
    national digits (``13812345678``, ``010 12345678`` → ``01012345678``)."""
    import phonenumbers

    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidInput(_("%(value)s is not a phone number.", value=text)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _(
                "%(value)s is not a valid phone number "
                "(a mobile number, or a fixed line with its area code).",
                value=text,
            )
        )
    if number.country_code != 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


# ---------------------------------------------------------------------------
# Text that fits its column
# ---------------------------------------------------------------------------


def column_length(column: Any) -> int | None:
    """The length of a text column (``Model.title`` or a ``Column``), None if unbounded."""
    prop = getattr(column, "property", None)
    if prop is not None and getattr(prop, "columns", None):
        column = prop.columns[0]
    return getattr(getattr(column, "type", None), "length", None)


def check_length(value: str | None, limit: int | None, *, label: Any = None) -> str | None:
    """``value`` if it has at most ``limit`` characters; refused (never cut) otherwise."""
    if value is None or limit is None or len(value) <= limit:
        return value
    what = f"{label}: " if label else ""
    raise InvalidInput(
        what
        + _(
            "%(n)s characters is too long; at most %(limit)s.",
            n=len(value),
            limit=limit,
        )
    )


def fits(value: str | None, column: Any, *, label: Any = None) -> str | None:
    """``check_length`` with the length of ``column`` (``fits(title, Case.title)``)."""
    return check_length(value, column_length(column), label=label)


# ---------------------------------------------------------------------------
# WTForms validators (the same checks in forms)
# ---------------------------------------------------------------------------


class _Validator:
    field_flags: dict = {}

    def check(self, form, field) -> Any:
        raise NotImplementedError

    def __call__(self, form, field) -> None:
        if field.data in (None, ""):
            return
        try:
            result = self.check(form, field)
        except InvalidInput as exc:
            raise ValidationError(str(exc)) from None
        if result is not None and result != field.data:
            field.data = result


class DateInRange(_Validator):
    """Not before ``EARLIEST_YEAR``; with ``past=True`` not after the township's today
    (the township of the form's ``township_id`` field, else the default zone)."""

    def __init__(self, past: bool = False):
        self.past = past

    def check(self, form, field):
        township = getattr(getattr(form, "township_id", None), "data", None)
        return check_date(field.data, township=township or None, past=self.past)


class EndAfter(_Validator):
    """The field is an end that must not come before the field named ``start``."""

    def __init__(self, start: str):
        self.start = start

    def check(self, form, field):
        start = getattr(form, self.start, None)
        check_range(getattr(start, "data", None), field.data)


class ResidentId(_Validator):
    """A resident ID number (GB 11643 check digit), normalised."""

    def check(self, form, field):
        return check_resident_id(field.data)


class Phone(_Validator):
    """A Chinese phone number (libphonenumber, region CN), normalised."""

    def check(self, form, field):
        return check_phone(field.data)


class FitsLength(_Validator):
    """At most ``limit`` characters, with a message that says so (nothing is cut)."""

    def __init__(self, limit: int):
        self.limit = limit

    def check(self, form, field):
        check_length(str(field.data), self.limit)


#: the checks a column's ``info={"check": ...}`` may name
CHECKS = {"resident_id": ResidentId, "phone": Phone}

#: words for the checks, e.g. in the README or a form's description
CHECK_LABELS = {"resident_id": _l("Resident ID number"), "phone": _l("Phone")}
