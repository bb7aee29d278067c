"""The admin's home page: the township dashboard (due soon, overdue, per handler, plugin
figures) and the warning when this year's official holiday schedule is unknown."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, case, func, select

from admin.timeliness import open_due_state, prime
from admin.views import SecureViewMixin
from core import clock
from core.calendar import uncovered_years
from core.contract import DashboardFigure
from core.db import db
from core.institutions import is_enabled
from core.models import OPEN_STATUSES, Case, OrgUnit, User
from core.plugins import state

#: how far ahead "due soon" candidates are looked for (more than any threshold in days)
DUE_SOON_HORIZON_DAYS = 40


@dataclass
class HandlerRow:
    name: str
    open: int = 0
    overdue: int = 0
    #: the handler's user id (0: cases without a handler yet), for the list link
    user_id: int = 0


@dataclass
class TownshipDashboard:
    township: OrgUnit
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    handlers: list[HandlerRow] = field(default_factory=list)
    figures: list[DashboardFigure] = field(default_factory=list)


def plugin_figures(township: OrgUnit) -> list[DashboardFigure]:
    """The figures of the institutions a township enabled, for its dashboard."""
    return county_plugin_figures([township])[township.id]


def county_plugin_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """The figures of the institutions each township enabled, by township id.

    An institution implementing ``county_dashboard_figures`` is asked once, with the
    townships that enabled it; one implementing only ``township_dashboard_figures`` is
    asked township by township. Institutions answer in pluggy's order (the last
    registered first), whichever hook they implement.
    """
    township_state = state()
    hook = township_state.pm.hook
    at_once = {id(impl.plugin) for impl in hook.county_dashboard_figures.get_hookimpls()}
    one_by_one = {id(impl.plugin) for impl in hook.township_dashboard_figures.get_hookimpls()}
    keys = {id(loaded.obj): key for key, loaded in township_state.plugins.items()}
    figures: dict[int, list[DashboardFigure]] = {t.id: [] for t in townships}
    for _name, obj in reversed(township_state.pm.list_name_plugin()):
        key = keys.get(id(obj))
        if key is None or (id(obj) not in at_once and id(obj) not in one_by_one):
            continue
        adopting = [t for t in townships if is_enabled(t.id, key)]
        if not adopting:
            continue
        if id(obj) in at_once:
            for answer in township_state.call_for(
                key, "county_dashboard_figures", townships=adopting, session=db.session
            ):
                for township_id, found in (answer or {}).items():
                    if township_id in figures:
                        figures[township_id].extend(found or ())
            continue
        for township in adopting:
            for found in township_state.call_for(
                key, "township_dashboard_figures", township=township, session=db.session
            ):
                figures[township.id].extend(found or ())
    return figures


def build_dashboards(township_ids: set[int], today: date | None = None) -> list[TownshipDashboard]:
    """Dashboards of these townships in a fixed number of queries (plus the plugins')."""
    if not township_ids:
        return []
    townships = db.session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(township_ids)).order_by(OrgUnit.name)
    ).all()
    boards = {t.id: TownshipDashboard(t) for t in townships}
    for township in townships:  # their zones, remembered (not read one township at a time)
        clock.zone_name(township)
    prime(township_ids)
    is_open = Case.status.in_(OPEN_STATUSES)
    past_due = (
        Case.due_on < today
        if today is not None
        else clock.before_today(Case.due_on, Case.township_id, township_ids)
    )
    overdue = case((and_(Case.due_on.is_not(None), past_due), 1), else_=0)

    for tid, count, late in db.session.execute(
        select(Case.township_id, func.count(Case.id), func.coalesce(func.sum(overdue), 0))
        .where(is_open, Case.township_id.in_(township_ids))
        .group_by(Case.township_id)
    ):
        boards[tid].open, boards[tid].overdue = count, int(late)

    # "due soon" depends on the township and the due date only: the open cases are
    # counted per due date in SQL, and each date is judged once (not each case)
    for tid, due_on, count in db.session.execute(
        select(Case.township_id, Case.due_on, func.count(Case.id))
        .where(
            is_open,
            Case.township_id.in_(township_ids),
            Case.due_on >= (today or min(clock.today_groups(township_ids))),
            Case.due_on
            <= (today or max(clock.today_groups(township_ids)))
            + timedelta(days=DUE_SOON_HORIZON_DAYS),
        )
        .group_by(Case.township_id, Case.due_on)
    ):
        if open_due_state(tid, due_on, today) == "due_soon":
            boards[tid].due_soon += count

    handlers: dict[int, list[HandlerRow]] = defaultdict(list)
    for tid, user_id, name, count, late in db.session.execute(
        select(
            Case.township_id,
            Case.handler_id,
            User.name,
            func.count(Case.id),
            func.coalesce(func.sum(overdue), 0),
        )
        .outerjoin(User, User.id == Case.handler_id)
        .where(is_open, Case.township_id.in_(township_ids))
        .group_by(Case.township_id, Case.handler_id, User.name)
        .order_by(Case.township_id, User.name)
    ):
        handlers[tid].append(
            HandlerRow(name or str(_l("(no handler yet)")), count, int(late), user_id or 0)
        )
    figures = county_plugin_figures(townships)
    for tid, board in boards.items():
        board.handlers = handlers.get(tid, [])
        board.figures = figures[tid]
    return list(boards.values())


class DashboardView(SecureViewMixin, AdminIndexView):
    """The home page of the staff site."""

    permission_read = "admin.access"

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name: str, **kwargs: Any):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        from core import inbox

        boards = build_dashboards(self.township_ids("dashboard.read"))
        waiting, waiting_total = inbox.page(current_user, 1, per_page=5)
        cases = next((v for v in self.admin._views if v.endpoint == "admin_cases"), None)
        return self.render(
            "admin/township/dashboard.html",
            cases_link=cases.filter_url if cases is not None else None,
            boards=boards,
            uncovered=uncovered_years(),
            waiting=waiting,
            waiting_total=waiting_total,
        )
