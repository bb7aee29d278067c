"""The plugin contract: every hook the core offers, in one place.

Names tell behaviour (STYLE.md habit 2):

* ``township_<things>`` **collects**: every plugin may return a value, the core
  gathers the list;
* ``township_<verb>_<noun>`` **decides**: ``firstresult``, the first non-None
  answer wins; the core's own answer is a ``trylast`` default;
* ``township_<noun>_<past participle>`` **reacts** to an event after it is committed.

A plugin implements hooks in its ``__init__.py`` with ``from core import hookimpl``.
``tests/core/test_hookspecs.py`` checks that every hook here is documented in the
README and exercised by a test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask
    from sqlalchemy.orm import Session

    from core.contract import (
        AdminView,
        ArchivalRecord,
        CaseKind,
        DashboardFigure,
        InboxSource,
        JobSpec,
        Permission,
        PersonYearFigure,
        PluginInfo,
        PolicySpec,
        PublicLink,
        PublicReceipt,
        PublicSection,
        ReceiptSection,
        Role,
    )
    from core.models import Absence, Case, OrgUnit, User
    from core.tasks import LazyActor

hookspec = pluggy.HookspecMarker("township")


# ---------------------------------------------------------------------------
# Plugin identity and data
# ---------------------------------------------------------------------------


@hookspec
def township_plugin_info() -> PluginInfo:
    """Collect: who the plugin is (key, names, version, dependencies, migrations).

    Called once when plugins load. Every plugin must implement it; its ``key`` is
    the namespace its tables, endpoints, queue and job ids must stay inside.

    Example::

        @hookimpl
        def township_plugin_info():
            return PluginInfo(key="releases", name="信息发布", name_en="Information release",
                              version="1.0", migrations=Path(__file__).parent / "migrations")
    """


@hookspec
def township_models() -> list[type]:
    """Collect: the plugin's SQLAlchemy model classes.

    Called once when plugins load, so the models are imported (their tables join
    the shared metadata) and their table names are checked against the namespace.
    Return the classes, e.g. ``[Release, Product]``.
    """


# ---------------------------------------------------------------------------
# Web: admin views, pages
# ---------------------------------------------------------------------------


@hookspec
def township_admin_views() -> list[AdminView]:
    """Collect: flask-admin views for the plugin's menu category.

    Called once while the admin site is built. Each view must have an explicit
    ``endpoint`` starting with ``<key>_`` and should derive from
    :class:`admin.views.TownshipModelView` (township-scoped). The core puts the
    views into a menu category named after the plugin, shown only to users of a
    township that enabled it.
    """


@hookspec
def township_blueprints() -> list[Blueprint]:
    """Collect: Flask blueprints with the plugin's pages.

    Called once in the app factory. A blueprint must be named ``<key>``; it is
    mounted at ``/t/<township>/<key>/`` and its views find the township in
    ``flask.g.township``. For a township that has not enabled the plugin every
    URL answers 404.
    """


# ---------------------------------------------------------------------------
# Tasks and schedules
# ---------------------------------------------------------------------------


@hookspec
def township_actors() -> list[LazyActor]:
    """Collect: the plugin's dramatiq actors, declared with :func:`core.tasks.actor`.

    Called once when the broker is set up; the core binds each to the configured
    broker. Actor names start with ``<key>.`` and their queue is ``<key>``.
    """


@hookspec
def township_jobs() -> list[JobSpec]:
    """Collect: scheduled jobs with their default triggers.

    Called when the scheduler starts and when the admin lists jobs. A job only
    enqueues its actor; ids start with ``<key>.``. Admins may override a trigger.
    """


# ---------------------------------------------------------------------------
# Rules: policies, case kinds, roles
# ---------------------------------------------------------------------------


@hookspec
def township_policies() -> list[PolicySpec]:
    """Collect: policy figures with their rule-book defaults (keys ``<key>.*``).

    Called when policies are read or edited. A township's own value overrides
    the default; :func:`core.policies.get_policy` returns the value in force.
    """


@hookspec
def township_case_kinds() -> list[CaseKind]:
    """Collect: case kinds with default time limits (codes ``<key>.*``).

    Called when cases are registered and when time-limit policies are edited.
    """


@hookspec
def township_roles() -> list[Role]:
    """Collect: roles and the permissions they grant (codes ``<key>_*``).

    Called once when plugins load; roles can then be given to users per org unit.
    """


@hookspec
def township_permissions() -> list[Permission]:
    """Collect: permissions the plugin declares (codes ``<key>.*``) and the roles that get
    them by default.

    Called once when plugins load. A role named in ``default_roles`` (a core role
    such as ``leader`` or one of the plugin's own) holds the permission in every
    township unless that township's administrator changes the grant (admin:
    角色与权限). A check of a permission nobody declared is an error in tests.

    Example::

        @hookimpl
        def township_permissions():
            return [Permission("releases.approve", "审批信息产品", "Approve information products",
                               default_roles=frozenset({"leader", "township_admin"}))]
    """


@hookspec(firstresult=True)
def township_make_receipt_number(township: OrgUnit, kind: str) -> str | None:
    """Decide: the public receipt number (回执号) of a new case.

    The core's ``trylast`` default returns ``<township code>-<yymmdd>-<8 random
    characters>``; a plugin returning a string overrides it. Must be unique and
    hard to guess: it is the only key a citizen needs to see a case's status.
    """


# ---------------------------------------------------------------------------
# Case events (after commit)
# ---------------------------------------------------------------------------


@hookspec
def township_case_accepted(case: Case) -> None:
    """React: a case was accepted and its due date set."""


@hookspec
def township_case_forwarded(case: Case, department: OrgUnit | None) -> None:
    """React: a case was forwarded to a department or a higher level."""


@hookspec
def township_case_extended(case: Case, amount: int) -> None:
    """React: a leader extended a case's time limit to ``amount``."""


@hookspec
def township_case_overdue(case: Case) -> None:
    """React: a case passed its due date unresolved.

    Called once per due date, inside the reminder task's transaction: what the
    plugin writes commits with the reminder, exactly once.
    """


@hookspec
def township_case_closed(case: Case) -> None:
    """React: a case was closed (e.g. the archives institution files it)."""


@hookspec
def township_record_produced(township: OrgUnit, record: ArchivalRecord) -> None:
    """React: an institution produced a record that belongs in the archive (立卷).

    Called by the producing plugin through :func:`core.institutions.enabled_hook`,
    so only plugins the township enabled hear it (an archives institution files
    the record). Called inside the producer's transaction: what the receiver
    writes commits with the record, once; file by ``record.reference`` idempotently.
    """


@hookspec
def township_case_reopened(case: Case) -> None:
    """React: a closed or resolved case was reopened (e.g. after a dissatisfied rating)."""


@hookspec
def township_institution_toggled(township: OrgUnit, plugin_key: str, enabled: bool) -> None:
    """React: a township enabled or disabled an institution."""


@hookspec
def township_user_returned(user: User, township: OrgUnit, absence: Absence) -> None:
    """React: a staff member recorded as away (外出) is back.

    Called after the return is committed, once per absence, only for plugins the
    township enabled (e.g. appointments puts the leader's waiting cards in the
    inbox and notifies them).
    """


# ---------------------------------------------------------------------------
# The staff's daily flow: inbox, receipts, public pages
# ---------------------------------------------------------------------------


@hookspec
def township_inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Collect: what waits for ``user`` (待办): approvals, confirmations, follow-ups.

    Called when the inbox, its navbar count or the dashboard panel render.
    ``township_ids`` are the townships the user may see. Return
    :class:`~core.contract.InboxSource` objects whose ``query`` selects the items
    for this user (no query is run by the hook itself); the core keeps only rows of
    townships that enabled the source's plugin, unions, sorts by due date and pages.
    To tell a user when an item arrives, call :func:`core.inbox.announce` (one
    notification per item, not per page view).
    """


@hookspec(firstresult=True)
def township_find_receipt(receipt_no: str) -> PublicReceipt | None:
    """Decide: the public view of a receipt number (回执号) this institution issued.

    Called by the public lookup and the printed receipt. Return a
    :class:`~core.contract.PublicReceipt` if the number is yours, else None. The
    core's ``trylast`` default answers for cases; the core also checks that the
    issuing plugin is enabled for the receipt's township.
    """


@hookspec
def township_receipt_sections(receipt: PublicReceipt) -> list[ReceiptSection]:
    """Collect: more to show a citizen under a receipt (a rating form, a delivery's steps).

    Called when the public lookup shows a receipt, only for plugins the receipt's
    township enabled. ``receipt.obj`` is the row behind it (a ``Case`` for cases).
    """


@hookspec
def township_public_sections(township: OrgUnit) -> list[PublicSection]:
    """Collect: panels on a township's public page (service hall hours, who is on duty).

    Called when the township's public page renders, only for enabled plugins. Keep
    it to a query or two; nothing personal.
    """


@hookspec
def township_staff_public_links(township: OrgUnit, user: User) -> list[PublicLink]:
    """Collect: links on a staff member's public page ("who serves you"), e.g. "rate this
    service" or "report a problem"; only plugins the township enabled are asked."""


# ---------------------------------------------------------------------------
# Figures per person, API
# ---------------------------------------------------------------------------


@hookspec
def township_person_year_figures(
    township: OrgUnit, year: int, user_ids: list[int] | None
) -> list[PersonYearFigure]:
    """Collect: figures per staff member and year (matters handled against the quota,
    training compliance, supervision findings), for the annual evaluation.

    Called through :func:`core.institutions.enabled_hook`, so only institutions the
    township enabled answer; ``user_ids=None`` means every staff member. The year
    is the township's calendar year (its time zone). Return one
    :class:`~core.contract.PersonYearFigure` per person and figure.
    """


@hookspec
def township_api_resources() -> list:
    """Collect: the plugin's API blueprints (:class:`core.api.ApiBlueprint`, named
    ``<key>_api``), mounted at ``/api/v1/<key>/...`` and described in the one OpenAPI
    document at ``/api/openapi.json``.

    Called once in the app factory. A route starting with ``<code:township>`` receives
    the township; for a township the token's user may not use, or that has not enabled
    the plugin, the core answers 404 before the view runs. Anything else returned, or a
    name outside the plugin's namespace, refuses to start.
    """


# ---------------------------------------------------------------------------
# Dashboard, demo data, command line
# ---------------------------------------------------------------------------


@hookspec
def township_dashboard_figures(township: OrgUnit, session: Session) -> list[DashboardFigure]:
    """Collect: figures for a township's dashboard.

    Called when the dashboard renders, only for plugins the township enabled, once per
    township shown. Keep it to a fixed, small number of queries; a plugin whose figures
    come from queries that group well by township implements
    ``county_dashboard_figures`` instead.
    """


@hookspec
def county_dashboard_figures(
    townships: list[OrgUnit], session: Session
) -> dict[int, list[DashboardFigure]]:
    """Collect: figures for the dashboards of several townships at once, by township id.

    The county administrator's home page shows every township of the county: a plugin
    that implements this hook is asked once, with the townships that enabled it, and
    should answer in a fixed number of queries whatever their number (group by
    township in SQL). It is then not asked ``township_dashboard_figures`` for the
    dashboard; a plugin that implements only that hook is asked township by township.
    """


@hookspec
def township_demo_data(township: OrgUnit, session: Session) -> None:
    """React: ``township demo`` seeds a demo township; add the plugin's sample rows.

    Called once per demo township, idempotently: check before inserting.
    """


@hookspec
def township_cli_commands() -> list[click.Command]:
    """Collect: click commands or groups, added as ``township <name> ...``.

    Called once when the ``township`` command starts. A group should be named
    after the plugin key.
    """


@hookspec
def township_app_created(app: Flask) -> None:
    """React: the app factory finished; last chance to add template filters etc."""


def hook_names() -> list[str]:
    """Every hook of the contract, in file order."""
    return [
        name
        for name, value in globals().items()
        if name.startswith("township_") and callable(value)
    ]
