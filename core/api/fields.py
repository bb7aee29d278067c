"""Marshmallow fields and validators of the API, with messages a clerk can read.

The same field validates a request, shapes a response and writes the OpenAPI
document (flask-smorest and apispec read its type, ``minLength``/``maxLength``,
``minimum``/``maximum``, ``pattern`` and ``enum``), so the document says exactly what
the code refuses. Every message goes through Flask-Babel, in the caller's language.

* :class:`Text` refuses NUL characters (PostgreSQL cannot store them) and, with
  ``max_length``, anything longer than its column (never cut);
* :class:`Integer` refuses ``true``/``false`` and numbers with a fraction;
* :class:`Boolean` accepts only JSON ``true``/``false`` in a body, and only the words
  ``true``/``false`` in a query string;
* :class:`PastDate` is an ISO date between ``EARLIEST_YEAR`` and the township's today.
"""

from __future__ import annotations

import numbers
from datetime import date
from typing import Any

import marshmallow as ma
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import validate

#: documented on every string: PostgreSQL cannot store the NUL character
NO_NUL = r"^[^\u0000]*$"

#: the messages of marshmallow's own checks, translated
MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field cannot be null."),
    "validator_failed": _l("Invalid value."),
}


class Schema(ma.Schema):
    """A request schema: unknown fields are refused, each with its own message."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {
        "unknown": _l("Unknown field."),
        "type": _l("The body must be a JSON object."),
    }


class OutputSchema(ma.Schema):
    """A response schema (never loads)."""

    class Meta:
        ordered = True


# ---------------------------------------------------------------------------
# Validators (apispec reads min/max/choices from marshmallow's own classes)
# ---------------------------------------------------------------------------


class Length(validate.Length):
    def _format_error(self, value: Any, message: str) -> str:
        if self.min and (value is None or len(value) < self.min):
            if self.min == 1:
                return _("This field is required.")
            return _("Must be at least %(n)s characters.", n=self.min)
        return _("Must be at most %(n)s characters.", n=self.max)


class Range(validate.Range):
    def _format_error(self, value: Any, message: str) -> str:
        if self.max is None:
            return _("Must be at least %(n)s.", n=self.min)
        return _("Must be a whole number from %(min)s to %(max)s.", min=self.min, max=self.max)


class OneOf(validate.OneOf):
    def _format_error(self, value: Any) -> str:
        return _("Unknown value; use one of: %(names)s.", names=", ".join(map(str, self.choices)))


class Regexp(validate.Regexp):
    def __init__(self, regex: str, message: Any):
        super().__init__(regex)
        self.message = message

    def _format_error(self, value: Any) -> str:
        return str(self.message)


# ---------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------


class Text(ma.fields.String):
    """A string without NUL characters, stripped of surrounding blanks; ``max_length``
    refuses a longer one, ``required`` also refuses an empty one."""

    default_error_messages = {**MESSAGES, "invalid": _l("Must be a string.")}

    def __init__(
        self,
        *,
        max_length: int | None = None,
        min_length: int | None = None,
        strip: bool = True,
        **kwargs: Any,
    ):
        validators = list(kwargs.pop("validate", None) or [])
        if min_length is None and kwargs.get("required"):
            min_length = 1
        if max_length is not None or min_length:
            validators.insert(0, Length(min=min_length, max=max_length))
        metadata = kwargs.pop("metadata", {}) or {}
        if not any(isinstance(v, validate.Regexp) for v in validators):
            metadata.setdefault("pattern", NO_NUL)
        self.strip = strip
        super().__init__(validate=validators, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError(_("Must not contain the NUL character."))
        return text.strip() if self.strip else text


class Integer(ma.fields.Integer):
    """A JSON integer (not ``true``, not ``1.5``, not ``"7"`` in a body)."""

    default_error_messages = {**MESSAGES, "invalid": _l("Must be an integer.")}

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if self.strict and not isinstance(value, numbers.Integral):
            raise self.make_error("invalid")
        return super()._validated(value)


class Number(ma.fields.Float):
    """A JSON number (not ``true``, not ``"1.5"``)."""

    default_error_messages = {
        **MESSAGES,
        "invalid": _l("Must be a number."),
        "special": _l("Must be a number."),
    }

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid")
        return super()._validated(value)


class QueryInteger(Integer):
    """An integer in a query string: ASCII digits only (``²`` and ``٣`` are not numbers)."""

    def __init__(self, **kwargs: Any):
        kwargs["strict"] = False
        super().__init__(**kwargs)

    def _validated(self, value: Any) -> int:
        if not (isinstance(value, str) and value.isascii() and value.isdigit() and value):
            raise self.make_error("invalid")
        if len(value) > 12:  # far above any maximum: no need to read it
            raise ma.ValidationError(_("The number is too large."))
        return super()._validated(value)


class Boolean(ma.fields.Boolean):
    """JSON ``true`` or ``false`` only."""

    default_error_messages = {**MESSAGES, "invalid": _l("Must be true or false.")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class QueryBoolean(ma.fields.Boolean):
    """``true`` or ``false`` in a query string."""

    default_error_messages = {**MESSAGES, "invalid": _l("Must be true or false.")}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value == "true":
            return True
        if value == "false":
            return False
        raise self.make_error("invalid")


class IsoDate(ma.fields.Date):
    """A date written YYYY-MM-DD (the service that uses it checks the range)."""

    default_error_messages = {
        **MESSAGES,
        "invalid": _l("Must be a date written YYYY-MM-DD."),
        "format": _l("Must be a date written YYYY-MM-DD."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or len(value) != 10:
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class PastDate(IsoDate):
    """An ISO date (YYYY-MM-DD), not before ``EARLIEST_YEAR`` and not after today."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        from core import clock

        if day > clock.today():
            raise ma.ValidationError(_("The date cannot be in the future."))
        earliest = date(int(current_app.config.get("EARLIEST_YEAR") or 2000), 1, 1)
        if day < earliest:
            raise ma.ValidationError(_("The date cannot be before %(day)s.", day=earliest))
        return day


class Month(ma.fields.String):
    """A month written ``YYYY-MM``, returned as ``(year, month)``."""

    default_error_messages = {**MESSAGES, "invalid": _l("Give the month as YYYY-MM.")}

    def __init__(self, **kwargs: Any):
        metadata = kwargs.pop("metadata", {}) or {}
        metadata.setdefault("pattern", r"^[0-9]{4}-(0[1-9]|1[0-2])$")
        metadata.setdefault("examples", ["2025-01"])
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any):
        import re

        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
            raise self.make_error("invalid")
        year, month = int(text[:4]), int(text[5:])
        earliest = int(current_app.config.get("EARLIEST_YEAR") or 2000)
        if year < earliest:
            raise ma.ValidationError(
                _("The date cannot be before %(day)s.", day=date(earliest, 1, 1))
            )
        return year, month


class Nested(ma.fields.Nested):
    default_error_messages = {**MESSAGES, "type": _l("Must be a JSON object.")}


class List(ma.fields.List):
    default_error_messages = {**MESSAGES, "invalid": _l("Must be a list.")}


# plain output fields (they never load, so their messages never show)
String = ma.fields.String
Date = ma.fields.Date
DateTime = ma.fields.AwareDateTime
Float = ma.fields.Float
Dict = ma.fields.Dict
Raw = ma.fields.Raw
Constant = ma.fields.Constant
