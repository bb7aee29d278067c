"""Codes and enums are shown by their labels, never raw.

Every enum a user can see derives from :class:`LabelledEnum` and says how it reads
in words (``labels()``, lazy strings through Flask-Babel). :func:`display` turns any
value a list, a detail page, an export or a trail shows into words: an enum by its
label, a boolean as 是/否, a time in the township's zone to the minute, nothing as a
dash. A plugin whose codes are not enums (a JSON list of channels, say) registers a
mapping with :func:`register_codes`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

#: code -> label mappings registered by name (e.g. "releases.channel")
_CODES: dict[str, Mapping[str, Any]] = {}
#: (language, enum class, value) -> label (labels are fixed once the catalogs are loaded)
_LABELS: dict[tuple[Any, type, str], str] = {}


class LabelledEnum(enum.StrEnum):
    """A string enum whose members have labels for people (zh_CN and en through Babel)."""

    @classmethod
    def labels(cls) -> Mapping[Any, Any]:
        """``{member: lazy label}``; a member missing here is a bug the crawl test finds."""
        return {}

    @property
    def label(self) -> str:
        """The member in words, in the current language (worked out once per process
        and language: a list shows the same few labels on every row)."""
        # members of two enums with the same value are equal (StrEnum): the class too
        key = (get_locale(), type(self), self._value_)
        found = _LABELS.get(key)
        if found is None:
            found = str(self.labels().get(self, self.value))
            if len(_LABELS) < 20_000:
                _LABELS[key] = found
        return found

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """``[(value, label)]`` for a select, in declaration order."""
        return [(member.value, member.label) for member in cls]


class LazyChoices:
    """Choices evaluated when a page renders (so they follow the user's language).

    ``fixed``: the same choices for every user, in a given language (an enum's labels); a
    list page may then keep them per language. Choices that depend on the user (the
    townships they may see) leave it false.
    """

    def __init__(self, source: Callable[[], Iterable[tuple[Any, Any]]], *, fixed: bool = False):
        self.source = source
        self.fixed = fixed

    def __iter__(self):
        return iter([(value, str(text)) for value, text in self.source()])

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(list(self.source()))


def enum_choices(enum_class: type[enum.Enum]) -> LazyChoices:
    """Lazy ``[(value, label)]`` of an enum (a :class:`LabelledEnum` or any enum)."""
    return LazyChoices(lambda: [(m.value, label_of(m)) for m in enum_class], fixed=True)


def register_codes(name: str, mapping: Mapping[str, Any]) -> None:
    """Register labels for codes that are not an enum (``register_codes("releases.channel",
    {"web": _l("Web portal"), ...})``)."""
    _CODES[name] = mapping


def code_label(name: str, code: Any) -> str:
    """The label of ``code`` in the registered mapping ``name`` (the code itself if unknown)."""
    mapping = _CODES.get(name, {})
    return str(mapping.get(code, code))


def label_of(value: Any) -> str:
    """The label of an enum member (its value if it has none)."""
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, enum.Enum):
        return str(getattr(value, "label", value.value))
    return str(value)


YES = _l("Yes")
NO = _l("No")
NOTHING = "–"


def display(value: Any, township: Any = None) -> str:
    """Any value as a person reads it (see the module docstring)."""
    from core import clock

    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, enum.Enum):
        return label_of(value)
    if isinstance(value, datetime):
        return clock.format_datetime(value, township)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return "、".join(display(v, township) for v in value)
    return str(value)


def shorten(text: Any, limit: int = 80) -> tuple[str, bool]:
    """``(text cut to limit characters with an ellipsis, whether it was cut)`` for trails."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text, False
    return text[: limit - 1] + "…", True
