"""The township's working-day calendar: its own days (local holidays, extra working
days) and a month view saying, for each day, whether it is worked and why."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import extract, func, select

from admin.audit import record_audit, snapshot
from admin.views import TownshipBaseView, township_choices
from core import clock
from core.access import can
from core.calendar import WorkingCalendar, official_years, uncovered_years
from core.db import db
from core.models import CalendarDay

MANAGE = "calendar.manage"
PAGE_SIZE = 50


def _month(raw: str | None, township=None) -> date:
    try:
        year, month = (int(part) for part in (raw or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        today = clock.today(township)
        return date(today.year, today.month, 1)


class CalendarView(TownshipBaseView):
    # who works with cases reads the working days; a learner has no use for it
    permission_read = "cases.read"

    @expose("/")
    def index(self):
        return self._page(self.chosen_township(), request.args.get("month"))

    def _page(self, township, month_text: str | None):
        month = _month(month_text, township)
        page = max(request.args.get("page", 0, type=int), 0)
        year = request.args.get("year", month.year, type=int)
        in_year = (CalendarDay.township_id == township.id) & (
            extract("year", CalendarDay.day) == year
        )
        total = db.session.scalar(select(func.count(CalendarDay.id)).where(in_year)) or 0
        rows = db.session.scalars(
            select(CalendarDay)
            .where(in_year)
            .order_by(CalendarDay.day)
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        working = WorkingCalendar.for_township(township.id)
        weeks = [
            [working.info(day) if day.month == month.month else None for day in week]
            for week in pycalendar.Calendar().monthdatescalendar(month.year, month.month)
        ]
        previous = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
        following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        known = official_years()
        return self.render(
            "admin/township/calendar.html",
            township=township,
            townships=township_choices(self.township_ids()),
            rows=rows,
            page=page,
            pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            year=year,
            month=month,
            previous=previous,
            following=following,
            weeks=weeks,
            uncovered=uncovered_years(),
            month_estimated=month.year not in known,
            may_manage=can(current_user, MANAGE, township.id),
        )

    @expose("/day/", methods=("POST",))
    def add_day(self):
        """Add or change one of the township's own days."""
        township = self.chosen_township(MANAGE)
        back = url_for(".index", township=township.id, month=request.form.get("month", ""))
        try:
            day = date.fromisoformat(request.form.get("day", ""))
        except ValueError:
            flash(_("Give the day as YYYY-MM-DD."), "danger")
            return self._page(township, request.form.get("month")), 400
        kind = request.form.get("kind")
        if kind not in ("holiday", "workday"):
            flash(_("Choose a holiday or an extra working day."), "danger")
            return self._page(township, request.form.get("month")), 400
        note = (request.form.get("note") or "").strip()[:200]
        row = db.session.scalar(
            select(CalendarDay).where(
                CalendarDay.township_id == township.id, CalendarDay.day == day
            )
        )
        before = snapshot(row) if row else None
        if row is None:
            row = CalendarDay(township_id=township.id, day=day)
            db.session.add(row)
        row.is_workday = kind == "workday"
        row.note = note
        db.session.flush()
        record_audit(
            "update" if before else "create",
            "CalendarDay",
            row.id,
            township_id=township.id,
            before=before,
            after=snapshot(row),
        )
        db.session.commit()
        flash(_("%(day)s is saved.", day=day.isoformat()), "success")
        return redirect(back, 303)

    @expose("/day/remove/", methods=("POST",))
    def remove_day(self):
        township = self.chosen_township(MANAGE)
        row = db.session.get(CalendarDay, request.form.get("id", type=int) or 0)
        back = url_for(".index", township=township.id, month=request.form.get("month", ""))
        if row is None or row.township_id != township.id:
            flash(_("That day is not in this township's calendar."), "danger")
            return self._page(township, request.form.get("month")), 404
        record_audit("delete", "CalendarDay", row.id, township_id=township.id, before=snapshot(row))
        db.session.delete(row)
        db.session.commit()
        flash(_("%(day)s is removed.", day=row.day.isoformat()), "success")
        return redirect(back, 303)
