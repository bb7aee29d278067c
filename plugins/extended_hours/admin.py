"""Admin views of extended hours (延时办理), in its own menu:

* the after-hours service log (延时服务登记): the list and the form;
* window coverage: the coming weeks day by day, who is at the windows, empty days red,
  *Check now*, and a link to the rota to fill them (the core's swap or one-off change);
* the conduct rule register: who acknowledged this year's rule, and the button to
  acknowledge it;
* the report: after-hours services per month and staff member, coverage gaps per month
  (XLSX).

Permissions: ``extended_hours.read`` reads; ``extended_hours.write`` records services;
``extended_hours.coverage`` is told of empty days. Every staff member acknowledges the
rule for themselves.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from admin.audit import record_audit
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock, duty
from core.db import db
from core.models import OrgUnit
from core.models.duty import DutyPost
from plugins.extended_hours import services
from plugins.extended_hours.models import ExtendedHoursService
from plugins.extended_hours.policy import KEY
from plugins.extended_hours.services import READ, WRITE, ExtendedHoursError

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _township_for(view, permission: str) -> OrgUnit:
    allowed = view.township_ids(permission)
    choices = township_choices(allowed)
    if not choices:
        abort(404)
    chosen = request.values.get("township", type=int)
    if chosen is None:
        chosen = choices[0][0]
    if chosen not in allowed:
        abort(404)
    return db.session.get(OrgUnit, chosen)


def _when(view, context, model, name):
    tid = model.township_id
    return "{} {}–{}".format(
        model.served_on.isoformat(),
        clock.local(model.starts_at, tid).strftime("%H:%M"),
        clock.local(model.ends_at, tid).strftime("%H:%M"),
    )


def _case(view, context, model, name):
    if model.case is None:
        return Markup("&ndash;")
    return Markup('<a href="{}">{}</a>').format(
        url_for("admin_cases.details_view", id=model.case_id), model.case.receipt_no
    )


class ServiceView(TownshipModelView):
    """After-hours services (延时服务登记)."""

    plugin_key = KEY
    permission_read = READ
    permission_write = WRITE
    allow_edit = allow_delete = False
    action_disallowed_list = ["delete"]
    column_list = ("served_on", "citizen_name", "matter", "staff", "urgent", "case", "result")
    column_details_list = (
        "served_on",
        "starts_at",
        "ends_at",
        "citizen_name",
        "citizen_phone",
        "matter",
        "staff",
        "urgent",
        "case",
        "result",
        "recorded_by",
        "created_at",
    )
    column_labels = {
        "served_on": _l("Served on"),
        "starts_at": _l("From"),
        "ends_at": _l("Until"),
        "citizen_name": _l("Citizen"),
        "citizen_phone": _l("Phone"),
        "matter": _l("Matter"),
        "staff": _l("Served by"),
        "urgent": _l("Urgent"),
        "case": _l("Case"),
        "result": _l("Result"),
        "recorded_by": _l("Recorded by"),
    }
    column_formatters = {"served_on": _when, "case": _case}
    column_formatters_detail = {"case": _case}
    column_filters = ("served_on", "urgent")
    column_searchable_list = ("citizen_name", "matter")
    column_sortable_list = ("served_on",)
    column_default_sort = ("served_on", True)
    list_also_load = ("case",)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(404)
        township = _township_for(self, WRITE)
        problems: list[str] = []
        form = request.form
        if request.method == "POST":
            raw = (form.get("served_on") or "").strip()
            served_on, bad = None, None
            if raw:
                try:
                    served_on = date.fromisoformat(raw)
                except ValueError:
                    bad = raw
            try:
                entry = services.record_service(
                    township,
                    services.ServiceInput(
                        citizen_name=form.get("citizen_name", ""),
                        citizen_phone=form.get("citizen_phone", ""),
                        matter=form.get("matter", ""),
                        served_on=served_on,
                        starts=form.get("starts", ""),
                        ends=form.get("ends", ""),
                        staff_id=form.get("staff_id", type=int),
                        result=form.get("result", ""),
                        urgent=form.get("urgent") == "1",
                        receipt_no=form.get("receipt_no", ""),
                        bad_date=bad,
                    ),
                    by=current_user._get_current_object(),
                )
            except ExtendedHoursError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                record_audit("create", "ExtendedHoursService", entry.id, township_id=township.id)
                db.session.commit()
                flash(_("The after-hours service is recorded."), "success")
                return redirect(url_for(".index_view"), 303)
        opens, closes = services.office_hours(township.id)
        return (
            self.render(
                "extended_hours/admin/service_new.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                staff=duty.township_staff(township),
                problems=problems,
                form=form,
                today=clock.today(township),
                opens=opens.strftime("%H:%M"),
                closes=closes.strftime("%H:%M"),
                me=current_user.id,
            ),
            400 if problems else 200,
        )


class CoverageView(TownshipBaseView):
    """The coming weeks, day by day: who is at the service windows; empty days in red."""

    plugin_key = KEY
    permission_read = READ

    @expose("/")
    def index(self):
        gap = request.args.get("gap", type=int)
        if gap is not None and request.args.get("township") is None:
            # from the inbox: the township of the gap, if the user may see it
            found = db.session.get(services.ExtendedHoursGap, gap)
            if found is not None and found.township_id in self.township_ids(READ):
                return redirect(url_for(".index", township=found.township_id, gap=gap))
        township = self.chosen_township(READ)
        start, end = services.coverage_span(township.id)
        days = duty.rota(township, start, (end - start).days + 1)
        empty = [d.day for d in days if not d.on(DutyPost.window)]
        return self.render(
            "extended_hours/admin/coverage.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            days=days,
            empty=empty,
            start=start,
            end=end,
            window=DutyPost.window,
            weekday=services._weekday,
            highlight=request.args.get("gap", type=int),
            gap_days={g.id: g.day for g in services.open_gaps(township.id)},
        )

    @expose("/check", methods=("POST",))
    def check(self):
        township = self.chosen_township(READ)
        gaps = services.sync_gaps(township.id)
        db.session.commit()
        if gaps:
            flash(_("%(n)s days without anyone at the service windows.", n=len(gaps)), "warning")
        else:
            flash(_("Every day of the coming weeks has someone at the windows."), "success")
        return redirect(url_for(".index", township=township.id), 303)


class PledgeView(TownshipBaseView):
    """The conduct rule register: who acknowledged the rule of extended service, per year."""

    plugin_key = KEY
    permission_read = "admin.access"

    @expose("/")
    def index(self):
        township = self.chosen_township()
        current = services.pledge_year(township.id)
        year = request.args.get("year", type=int) or current
        if not 2000 <= year <= current:
            abort(404)
        rows = services.register(township.id, year)
        mine = next((r for r in rows if r.user.id == current_user.id), None)
        return self.render(
            "extended_hours/admin/pledges.html",
            township=township,
            townships=township_choices(self.township_ids()),
            year=year,
            current=current,
            rows=rows,
            mine=mine,
            done=sum(1 for r in rows if r.pledge is not None),
        )

    @expose("/acknowledge", methods=("POST",))
    def acknowledge(self):
        township = self.chosen_township()
        try:
            services.acknowledge_rule(township, current_user._get_current_object())
        except ExtendedHoursError as exc:
            db.session.rollback()
            flash(" ".join(exc.problems), "error")
        else:
            flash(_("Thank you: your acknowledgement is recorded."), "success")
        return redirect(url_for(".index", township=township.id), 303)


class ReportView(TownshipBaseView):
    """After-hours services per month and staff member; coverage gaps per month (XLSX)."""

    plugin_key = KEY
    permission_read = READ

    def _year(self, township) -> int:
        today = clock.today(township)
        year = request.args.get("year", type=int) or today.year
        if not 2000 <= year <= today.year + 1:
            abort(404)
        return year

    @expose("/")
    def index(self):
        township = self.chosen_township(READ)
        year = self._year(township)
        rows = services.services_per_month(township.id, year)
        totals: dict[int, int] = {}
        for row in rows:
            totals[row.month] = totals.get(row.month, 0) + row.services
        return self.render(
            "extended_hours/admin/report.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            year=year,
            rows=rows,
            totals=totals,
            gaps=services.gaps_per_month(township.id, year),
        )

    @expose("/xlsx")
    def xlsx(self):
        township = self.chosen_township(READ)
        year = self._year(township)
        body = services.report_xlsx(township, year)
        return Response(
            body,
            mimetype=XLSX_MIMETYPE,
            headers={
                "Content-Disposition": f'attachment; filename="extended-hours-{township.code}-'
                f'{year}.xlsx"'
            },
        )


def admin_views():
    from core.contract import AdminView

    return [
        AdminView(
            ServiceView(
                ExtendedHoursService,
                name=_l("After-hours services"),
                endpoint="extended_hours_services",
            )
        ),
        AdminView(CoverageView(name=_l("Window coverage"), endpoint="extended_hours_coverage")),
        AdminView(PledgeView(name=_l("Conduct rule"), endpoint="extended_hours_pledges")),
        AdminView(ReportView(name=_l("Extended hours report"), endpoint="extended_hours_report")),
    ]
