"""The duty rota (值班表) and staff presence (外出登记) in the staff site.

* **Duty rota** (``admin_duty_rota``): a week, day by day and post by post, with who is
  away now, the swaps and one-off changes of the week, and the printed week (A4);
  people who keep the rota (``duty.manage``) swap two duties and make one-off changes.
* **Weekly pattern** (``admin_duty_pattern``): who is on duty on each weekday, for
  working days and rest days apart; ``duty.manage`` adds and removes people from a date.
* **Staff away** (``admin_duty_presence``): who is away now, planned away periods and
  the history; anyone records their own away period and their return ("I am back"),
  ``presence.manage`` (office clerks, administrators) anyone's.

Every page is scoped to a township the user may see (``?township=<id>``); a row of
another township answers 404. Each form calls one service of :mod:`core.duty` or
:mod:`core.presence`, which checks everything before writing anything; a refusal
shows its message on the page (status 400) with what was typed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar
from flask import abort, flash, redirect, render_template, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from admin.views import TownshipBaseView, township_choices
from core import clock, duty, presence
from core.access import can
from core.db import db, utcnow
from core.duty import WEEKDAY_LABELS, DutyError, PatternDay
from core.models import Absence, DutyChange, DutyPattern, DutyPost, User
from core.presence import PresenceError

MANAGE_DUTY = "duty.manage"
MANAGE_PRESENCE = presence.MANAGE
HISTORY_PAGE_SIZE = 20

#: how the calendar explains a day (the same words as the working-day calendar)
DAY_REASONS = {
    "weekday": "working day",
    "weekend": "weekend",
    "holiday": "public holiday",
    "adjusted_workday": "adjusted working day (调休)",
    "township": "township's own day",
    "estimated_holiday": "estimated holiday",
}


def day_reason(info) -> str:
    """The calendar's reason for a day in words (translated at render time)."""
    return _(DAY_REASONS.get(info.reason, info.reason))


def holiday_name(info) -> str:
    """The holiday a day belongs to (``国庆节`` in Chinese, from ``chinese-calendar``); a
    township's own day keeps its note as typed."""
    from core.app import current_locale

    if not info.name or info.reason == "township" or current_locale() == "en":
        return info.name or ""
    chinese = {h.value: h.chinese for h in chinese_calendar.Holiday}
    return chinese.get(info.name, info.name)


def _parse_date(raw: str | None) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise DutyError(_("Give the day as YYYY-MM-DD.")) from None


def _week(raw: str | None, township) -> date:
    """The Monday of the week asked for (default: this week in the township)."""
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        day = clock.today(township)
    return duty.week_start(day)


def _person(raw: str | None, error: type[ValueError] = DutyError) -> User | None:
    """The user chosen in a select (None for an empty choice)."""
    if raw in (None, "", "none"):
        return None
    try:
        user = db.session.get(User, int(raw))
    except (TypeError, ValueError):
        user = None
    if user is None:
        raise error(_("Choose a person from the list."))
    return user


class DutyRotaView(TownshipBaseView):
    """A week of the rota, its changes, and the forms to swap and change."""

    permission_read = "admin.access"

    @expose("/")
    def index(self):
        return self._page(self.chosen_township())

    def _page(self, township, status: int = 200, form: Any = None):
        start = _week(request.values.get("start"), township)
        end = start + timedelta(days=6)
        days = duty.rota(township, start, 7)
        may_manage = can(current_user, MANAGE_DUTY, township.id)
        staff = duty.township_staff(township) if may_manage else []
        return self.render(
            "admin/township/duty_rota.html",
            township=township,
            townships=township_choices(self.township_ids()),
            start=start,
            end=end,
            previous=start - timedelta(days=7),
            following=start + timedelta(days=7),
            today=clock.today(township),
            days=days,
            posts=list(DutyPost),
            away=presence.away_user_ids(township, {e.user.id for d in days for e in d.entries}),
            changes=duty.changes_between(township, start, end),
            may_manage=may_manage,
            staff=staff,
            form=form or {},
            day_reason=day_reason,
            holiday_name=holiday_name,
            weekday_labels=WEEKDAY_LABELS,
        ), status

    def _back(self, township):
        start = request.form.get("start") or ""
        return redirect(url_for(".index", township=township.id, start=start), 303)

    @expose("/swap/", methods=("POST",))
    def swap(self):
        """Two people exchange their duties."""
        township = self.chosen_township(MANAGE_DUTY)
        form = request.form
        try:
            day_a, day_b = _parse_date(form.get("day_a")), _parse_date(form.get("day_b"))
            user_a, user_b = _person(form.get("user_a")), _person(form.get("user_b"))
            if user_a is None or user_b is None:
                raise DutyError(_("Choose both people of the swap."))
            duty.swap(
                township,
                form.get("post", ""),
                day_a,
                user_a,
                day_b,
                user_b,
                by=current_user,
                reason=form.get("reason", ""),
            )
        except DutyError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400, form)
        flash(
            _(
                "%(a)s and %(b)s swapped their duties.",
                a=user_a.name,
                b=user_b.name,
            ),
            "success",
        )
        return self._back(township)

    @expose("/change/", methods=("POST",))
    def change(self):
        """A one-off change: someone else, someone more, or nobody on a post that day."""
        township = self.chosen_township(MANAGE_DUTY)
        form = request.form
        try:
            day = _parse_date(form.get("day"))
            duty.change(
                township,
                day,
                form.get("post", ""),
                user=_person(form.get("user")),
                replaces=_person(form.get("replaces")),
                by=current_user,
                reason=form.get("reason", ""),
            )
        except DutyError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400, form)
        flash(_("The rota of %(day)s is changed.", day=day.isoformat()), "success")
        return self._back(township)

    @expose("/cancel/", methods=("POST",))
    def cancel(self):
        """Cancel a change (both sides of a swap)."""
        township = self.chosen_township(MANAGE_DUTY)
        row = db.session.get(DutyChange, request.form.get("id", type=int) or 0)
        if row is None or row.township_id != township.id:
            abort(404)
        day = row.day
        duty.cancel_change(row, by=current_user)
        flash(_("The change of %(day)s is cancelled.", day=day.isoformat()), "success")
        return self._back(township)

    @expose("/print/")
    def print_week(self):
        """The printed week (A4)."""
        township = self.chosen_township()
        start = _week(request.args.get("start"), township)
        days = duty.rota(township, start, 7)
        return render_template(
            "admin/township/duty_print.html",
            township=township,
            start=start,
            end=start + timedelta(days=6),
            days=days,
            posts=list(DutyPost),
            day_reason=day_reason,
            holiday_name=holiday_name,
            weekday_labels=WEEKDAY_LABELS,
            printed_at=utcnow(),
            back=url_for(".index", township=township.id, start=start.isoformat()),
        )


def _pattern_day(raw: str) -> PatternDay | None:
    """``w0`` .. ``w6`` (a weekday as a working day), ``r0`` .. ``r6`` (as a rest day)."""
    if len(raw) == 2 and raw[0] in "wr" and raw[1] in "0123456":
        return PatternDay(int(raw[1]), raw[0] == "r")
    return None


class DutyPatternView(TownshipBaseView):
    """The weekly pattern: working days and rest days, post by post."""

    permission_read = "admin.access"

    @expose("/")
    def index(self):
        return self._page(self.chosen_township())

    def _page(self, township, status: int = 200, form: Any = None):
        today = clock.today(township)
        grid: dict[tuple[str, bool, int], list[DutyPattern]] = {}
        for row in duty.pattern(township, today):
            grid.setdefault((row.post.value, row.rest_day, row.weekday), []).append(row)
        may_manage = can(current_user, MANAGE_DUTY, township.id)
        return self.render(
            "admin/township/duty_pattern.html",
            township=township,
            townships=township_choices(self.township_ids()),
            posts=list(DutyPost),
            grid=grid,
            today=today,
            may_manage=may_manage,
            staff=duty.township_staff(township) if may_manage else [],
            form=form or {},
            weekday_labels=WEEKDAY_LABELS,
        ), status

    @expose("/add/", methods=("POST",))
    def add(self):
        township = self.chosen_township(MANAGE_DUTY)
        form = request.form
        try:
            user = _person(form.get("user"))
            if user is None:
                raise DutyError(_("Choose a person from the list."))
            days = [d for d in (_pattern_day(v) for v in form.getlist("day")) if d]
            valid_from = _parse_date(form.get("valid_from")) if form.get("valid_from") else None
            duty.add_to_pattern(
                township,
                form.get("post", ""),
                user,
                days,
                by=current_user,
                valid_from=valid_from,
            )
        except DutyError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400, form)
        flash(_("%(name)s is added to the pattern.", name=user.name), "success")
        return redirect(url_for(".index", township=township.id), 303)

    @expose("/end/", methods=("POST",))
    def end(self):
        township = self.chosen_township(MANAGE_DUTY)
        row = db.session.get(DutyPattern, request.form.get("id", type=int) or 0)
        if row is None or row.township_id != township.id:
            abort(404)
        name = row.user.name
        try:
            from_day = (
                _parse_date(request.form.get("from_day")) if request.form.get("from_day") else None
            )
            duty.end_pattern_entry(row, by=current_user, from_day=from_day)
        except DutyError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400)
        flash(_("%(name)s is taken out of the pattern.", name=name), "success")
        return redirect(url_for(".index", township=township.id), 303)


def _parse_local(raw: str | None, township) -> datetime:
    """A ``datetime-local`` value typed in the township's zone, as an aware time."""
    text = (raw or "").strip()
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise PresenceError(_("Give the time as YYYY-MM-DD HH:MM.")) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=clock.zone(township))


def _users_loaded(*relations):
    return [joinedload(rel).lazyload(User.memberships) for rel in relations]


class PresenceView(TownshipBaseView):
    """Who is away now, planned away periods, the history; recording and returns."""

    permission_read = "admin.access"

    @expose("/")
    def index(self):
        return self._page(self.chosen_township())

    def _page(self, township, status: int = 200, form: Any = None):
        now = utcnow()
        options = _users_loaded(Absence.user, Absence.returned_by, Absence.created_by)
        away = db.session.scalars(
            select(Absence)
            .options(*options)
            .where(
                Absence.township_id == township.id,
                Absence.starts_at <= now,
                Absence.returned_at.is_(None),
            )
            .order_by(Absence.starts_at, Absence.id)
        ).all()
        planned = db.session.scalars(
            select(Absence)
            .options(*options)
            .where(
                Absence.township_id == township.id,
                Absence.starts_at > now,
                Absence.returned_at.is_(None),
            )
            .order_by(Absence.starts_at, Absence.id)
        ).all()
        ended = (Absence.township_id == township.id) & Absence.returned_at.is_not(None)
        total = db.session.scalar(select(func.count(Absence.id)).where(ended)) or 0
        pages = max(1, -(-total // HISTORY_PAGE_SIZE))
        page = min(max(request.args.get("page", 1, type=int), 1), pages)
        history = db.session.scalars(
            select(Absence)
            .options(*options)
            .where(ended)
            .order_by(Absence.returned_at.desc(), Absence.id.desc())
            .limit(HISTORY_PAGE_SIZE)
            .offset((page - 1) * HISTORY_PAGE_SIZE)
        ).all()
        may_manage = can(current_user, MANAGE_PRESENCE, township.id)
        is_staff = duty.is_township_staff(current_user, township)
        local_now = clock.now(township).replace(second=0, microsecond=0)
        defaults = {
            "user": str(current_user.id),
            "starts_at": local_now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local_now + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"),
        }
        return self.render(
            "admin/township/presence.html",
            township=township,
            townships=township_choices(self.township_ids()),
            away=away,
            planned=planned,
            history=history,
            page=page,
            pages=pages,
            total=total,
            now=now,
            may_manage=may_manage,
            may_record=may_manage or is_staff,
            staff=duty.township_staff(township) if may_manage else [],
            form={**defaults, **(form or {})},
            is_overdue=presence.is_overdue,
        ), status

    def _absence(self, township) -> Absence:
        row = db.session.get(Absence, request.form.get("id", type=int) or 0)
        if row is None or row.township_id != township.id:
            abort(404)
        return row

    @expose("/record/", methods=("POST",))
    def record(self):
        township = self.chosen_township()
        form = request.form
        try:
            user = _person(form.get("user"), PresenceError) or current_user._get_current_object()
            if not presence.may_manage(current_user, user, township):
                abort(403)
            absence = presence.record_absence(
                township,
                user,
                _parse_local(form.get("starts_at"), township),
                _parse_local(form.get("ends_at"), township),
                form.get("reason", ""),
                by=current_user,
            )
        except PresenceError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400, form)
        flash(
            _(
                "%(name)s is recorded as away until %(end)s.",
                name=absence.user.name,
                end=clock.format_datetime(absence.ends_at, township),
            ),
            "success",
        )
        return redirect(url_for(".index", township=township.id), 303)

    @expose("/back/", methods=("POST",))
    def back(self):
        """Record the return ("I am back" for oneself, "mark back" for a clerk)."""
        township = self.chosen_township()
        absence = self._absence(township)
        if not presence.may_manage(current_user, absence.user_id, township):
            abort(403)
        try:
            presence.mark_back(absence, by=current_user)
        except PresenceError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400)
        flash(_("%(name)s is back.", name=absence.user.name), "success")
        return redirect(url_for(".index", township=township.id), 303)

    @expose("/cancel/", methods=("POST",))
    def cancel(self):
        township = self.chosen_township()
        absence = self._absence(township)
        if not presence.may_manage(current_user, absence.user_id, township):
            abort(403)
        try:
            presence.cancel_absence(absence, by=current_user)
        except PresenceError as exc:
            flash(str(exc), "danger")
            return self._page(township, 400)
        flash(_("The away period is cancelled."), "success")
        return redirect(url_for(".index", township=township.id), 303)
