"""Value types the hooks exchange. Plugins build these; the core reads them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.models.cases import LimitUnit


@dataclass(frozen=True)
class PluginInfo:
    """Who a plugin is. ``key`` is its namespace: tables ``<key>_*``, endpoints
    ``<key>_*``, blueprint ``<key>``, queue ``<key>``, job ids ``<key>.*``."""

    key: str
    name: str  # zh_CN label, e.g. "信息发布"
    name_en: str
    version: str
    description: str = ""
    #: keys of plugins this one needs to be enabled first
    dependencies: tuple[str, ...] = ()
    #: folder of the plugin's Alembic revisions (its own branch labelled ``key``)
    migrations: Path | None = None


@dataclass(frozen=True)
class CaseKind:
    """A kind of case with its default time limit (rule book figures)."""

    code: str
    label: str
    label_en: str
    amount: int
    unit: LimitUnit
    #: the most a leader may extend the limit to; None = no extension
    max_amount: int | None = None


@dataclass(frozen=True)
class Role:
    """A role a user can hold in an org unit, and what it may do."""

    code: str
    label: str
    label_en: str
    permissions: frozenset[str]
    #: roles at county level reach every township of the county
    county_level: bool = False


@dataclass(frozen=True)
class PolicySpec:
    """A policy figure with the rule book's default; townships override it."""

    key: str
    label: str
    label_en: str
    default: Any
    type: type = int
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    help: str = ""

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to the policy's type, or raise ValueError with a
        message for the person who typed it."""
        from flask_babel import gettext as _

        if value is None or value == "":
            if self.default is None:
                return None
            raise ValueError(_("A value is required."))
        try:
            converted = self.type(value)
        except (TypeError, ValueError) as exc:
            if self.type is int:
                raise ValueError(_("Not a whole number: %(value)s", value=value)) from exc
            raise ValueError(_("Not a number: %(value)s", value=value)) from exc
        if self.minimum is not None and converted < self.minimum:
            raise ValueError(_("Must be at least %(n)s.", n=f"{self.minimum:g}"))
        if self.maximum is not None and converted > self.maximum:
            raise ValueError(_("Must be at most %(n)s.", n=f"{self.maximum:g}"))
        return converted


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: when it fires by default and which actor it enqueues.

    ``trigger`` is a crontab (``"0 8 * * *"``, cron's day-of-week numbering) or
    ``"every N seconds"``/``"every N minutes"``. Admins may override it.
    """

    id: str
    actor_name: str
    trigger: str
    label: str
    label_en: str = ""
    coalesce: bool = True
    misfire_grace_time: int = 3600
    timezone: str = "Asia/Shanghai"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DashboardFigure:
    """A number on the township dashboard."""

    label: str
    value: Any = None
    link: str | None = None
    level: str = "info"  # info | warning | danger | success
    #: a chart (markup the plugin built, e.g. inline SVG; escape what users typed),
    #: shown full width under the numbers instead of a value
    chart: Any = None


@dataclass(frozen=True)
class ArchivalRecord:
    """A record an institution produced that belongs in the archive (立卷归档)."""

    #: key of the plugin that produced it
    source: str
    #: unique within the source, e.g. ``"release-batch:12"`` (the archive files it once)
    reference: str
    kind: str
    title: str
    produced_at: datetime
    summary: str = ""
    #: where staff can see the original, if anywhere
    url: str | None = None


@dataclass(frozen=True)
class AdminView:
    """An admin view a plugin adds: a flask-admin view instance in the plugin's menu."""

    view: Any
    #: called with the app when the view is built, e.g. to add links; optional
    setup: Callable[..., None] | None = None
