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
    #: tables and indexes the plugin's migrations create with raw SQL that no model
    #: describes (a full-text table, a trigram index); shell patterns such as
    #: ``"archives_fts*"``, left alone by autogenerate and the models-vs-migrations test
    unmanaged: tuple[str, ...] = ()


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
    #: the archive class a closed case of this kind is filed under (a code of the
    #: archives institution's scheme, e.g. ``"YW.petitions"``); None = let the archivist choose
    archive_class: str | None = None


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
class JobInstance:
    """One member of a job family (:attr:`JobSpec.instances`): its own trigger and message.

    ``key`` names it within the family (job id ``<family id>:<key>``); ``kwargs`` go
    into its actor's message, with ``scheduled_for`` (the due time, ISO 8601) added.
    """

    key: str
    trigger: str
    timezone: str = "Asia/Shanghai"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: when it fires by default and which actor it enqueues.

    ``trigger`` is a crontab (``"0 8 * * *"``, cron's day-of-week numbering) or
    ``"every N seconds"``/``"every N minutes"``. Admins may override it.

    A *family* sets ``instances``: a function (called in the active scheduler's app
    context on every poll; keep it to one query) returning :class:`JobInstance` s, e.g.
    one per township's release plan. The scheduler then keeps one job per instance with
    the instance's own trigger, adding, rescheduling and removing them as the list
    changes, and ``trigger`` is only the default shown to admins; an admin can switch
    the whole family off.
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
    instances: Callable[[], list[JobInstance]] | None = None


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
    """A record an institution produced that belongs in the archive (立卷归档).

    The core keeps every record it is handed (``core_record``), frozen as it was, so
    an archives institution enabled later can still file what was produced before.
    """

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
    #: responsible party (责任者), e.g. the township's name or an office
    responsible: str = ""
    #: document number (文号), if the record has one
    doc_number: str = ""
    #: pages, if known (a printed record)
    pages: int | None = None
    #: the archive class the producing institution suggests (a code of the scheme)
    class_hint: str | None = None
    #: the retention the producer suggests: ``permanent``, ``30y`` or ``10y``
    retention_hint: str | None = None
    #: the frozen content as the public or staff saw it (HTML, already escaped/sanitised)
    content: str = ""
    #: the trail of the record: ``[{"at": time, "who": name, "what": label, "note": ...}]``;
    #: ``what`` in words, never a code (``core.records.in_product_language(label)``)
    trail: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class AdminView:
    """An admin view a plugin adds: a flask-admin view instance in the plugin's menu."""

    view: Any
    #: called with the app when the view is built, e.g. to add links; optional
    setup: Callable[..., None] | None = None


# ---------------------------------------------------------------------------
# The staff's daily flow: inbox, receipts, public pages
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxSource:
    """One kind of thing that waits for a user (an approval, a confirmation, a follow-up).

    ``query`` is a SQLAlchemy ``Select`` of exactly five labelled columns:
    ``object_id`` (int), ``title`` (str), ``township_id`` (int), ``since`` (datetime,
    when it started waiting) and ``due_on`` (date or NULL). The core unions every
    source's query, keeps the townships that enabled the source's plugin, sorts by
    due date and pages it, so a leader's inbox costs two queries however many
    institutions contribute. The item links to ``url_for(endpoint, **{id_arg:
    object_id})``, the page where the user acts on it.
    """

    #: ``<plugin key>.<what>``, e.g. ``releases.product_approval``
    key: str
    label: str
    label_en: str
    query: Any
    endpoint: str
    id_arg: str = "id"


@dataclass(frozen=True)
class ReceiptStep:
    """One step a citizen sees under a receipt number."""

    on: Any  # date or datetime
    label: str
    note: str = ""


@dataclass
class PublicReceipt:
    """What a citizen sees under a receipt number (回执号): status and dates, nothing personal.

    Returned by ``township_find_receipt``; the core renders the public lookup and the
    printable receipt (A5, QR code to the lookup) from it.
    """

    receipt_no: str
    #: the township that issued it (an OrgUnit)
    township: Any
    #: key of the plugin that issued it (``core`` for cases)
    source: str
    #: what the receipt is for, e.g. the case kind's label (public: no personal data)
    kind_label: str
    status_label: str
    received_on: Any  # date
    due_on: Any = None  # date or None
    #: how the due date was counted, e.g. "3 个工作日，自受理次日起算"
    due_explained: str = ""
    department: str | None = None
    #: who is responsible and how to reach them (staff names and office phones are public)
    responsible: str | None = None
    contact: str | None = None
    steps: list[ReceiptStep] = field(default_factory=list)
    #: an answer or result the citizen may read (no personal data)
    answer: str | None = None
    finished: bool = False
    #: the row behind it (e.g. the Case), for ``township_receipt_sections``; never rendered
    obj: Any = None
    #: the case's title and applicant, shown only on the staff's printed receipt
    staff_title: str | None = None
    staff_applicant: str | None = None


@dataclass(frozen=True)
class ReceiptSection:
    """More to show under a receipt (a rating form, a proxy record's progress)."""

    title: str
    html: Any  # Markup the plugin built (escape what users typed)
    order: int = 100


@dataclass(frozen=True)
class PublicSection:
    """A panel on a township's public page (service hall hours, today's duty staff ...)."""

    title: str
    html: Any  # Markup
    order: int = 100


@dataclass(frozen=True)
class PublicLink:
    """A link offered on a public page of someone else's (e.g. "rate this service" on a
    staff member's "who serves you" page)."""

    label: str
    url: str
    order: int = 100


# ---------------------------------------------------------------------------
# Permissions and figures per person
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Permission:
    """A permission a plugin declares, and the roles (core's or its own) that hold it unless
    a township changes the grant in the admin (角色与权限)."""

    #: ``<plugin key>.<what>``, e.g. ``releases.approve``
    code: str
    label: str
    label_en: str
    default_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PersonYearFigure:
    """A figure about one staff member in one year, offered to other institutions (the
    evaluation institution reads these for the annual sheet)."""

    #: ``<plugin key>.<figure>``, e.g. ``commitment.matters_handled``
    key: str
    label: str
    label_en: str
    user_id: int
    year: int
    value: Any
    #: what the rule book asks for (None = no target)
    target: Any = None
    #: whether the target is met (None = no target)
    met: bool | None = None
    note: str = ""
