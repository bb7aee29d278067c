"""Staff views of hearings and inquiries (群众听证质询), in their own admin menu.

Permissions (declared in ``__init__``): ``hearings.read`` to see hearings; ``hearings.manage``
to call, announce, invite, open, record attendance and questions, conclude and cancel. The
person responsible for a question answers it on the question's page (and sees that question
without ``hearings.read``).
"""

from __future__ import annotations

from datetime import date, time

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_

from admin.audit import record_audit
from admin.views import TownshipModelView, township_choices
from core import clock
from core.access import can, mask_phone
from core.db import db
from core.models import OrgUnit
from plugins.hearings import services
from plugins.hearings.models import (
    Hearing,
    HearingKind,
    HearingQuestion,
    HearingStatus,
    ParticipantCategory,
    QuestionStatus,
)

READ = services.READ
MANAGE = services.MANAGE
S = HearingStatus


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _time(raw: str | None) -> time | None:
    try:
        return time.fromisoformat((raw or "").strip()[:5]) if (raw or "").strip() else None
    except ValueError:
        return None


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def _hearing_input(form) -> tuple[services.HearingInput, list[str]]:
    problems = []
    if (form.get("start_time") or "").strip() and _time(form.get("start_time")) is None:
        problems.append(_("The time of day is not a time (HH:MM)."))
    seats_raw = (form.get("public_seats") or "").strip()
    seats = _int(seats_raw)
    if seats_raw and seats is None:
        problems.append(_("Seats for the public: a whole number, or empty for no limit."))
    for name, label in (("decided_on", _("Decided on")), ("held_on", _("Date of the hearing"))):
        raw = (form.get(name) or "").strip()
        if raw and _date(raw) is None:
            problems.append(_("%(what)s: %(value)s is not a date.", what=label, value=raw[:20]))
    return (
        services.HearingInput(
            kind=form.get("kind") or None,
            topic=form.get("topic", ""),
            background=form.get("background", ""),
            decided_by=form.get("decided_by", ""),
            decided_on=_date(form.get("decided_on")),
            held_on=_date(form.get("held_on")),
            start_time=_time(form.get("start_time")),
            place=form.get("place", ""),
            public_seats=seats,
        ),
        problems,
    )


def _topic(view, context, model, name):
    return model.topic if len(model.topic) <= 60 else model.topic[:59] + "…"


class HearingView(TownshipModelView):
    """Hearings and inquiries; one page per hearing for every step, printable minutes and
    letters."""

    permission_read = READ
    permission_write = MANAGE
    allow_delete = False
    column_list = ("held_on", "kind", "topic", "place", "status")
    column_filters = ("kind", "status", "held_on")
    column_searchable_list = ("topic",)
    column_default_sort = ("held_on", True)
    column_formatters = {"topic": _topic}
    column_labels = {
        "held_on": _l("Date of the hearing"),
        "kind": _l("Kind"),
        "topic": _l("Hearing topic"),
        "place": _l("Place"),
        "status": _l("Status"),
    }

    def _township_for_new(self) -> OrgUnit:
        writable = self.writable_township_ids()
        choices = township_choices(writable)
        chosen = request.values.get("township", type=int)
        if chosen not in writable:
            chosen = choices[0][0]
        return db.session.get(OrgUnit, chosen)

    def _form_page(self, township, hearing, values, problems):
        return self.render(
            "hearings/admin/hearing_form.html",
            township=township,
            townships=township_choices(self.writable_township_ids()),
            hearing=hearing,
            kinds=list(HearingKind),
            values=values,
            problems=problems,
        ), (400 if problems else 200)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        township = self._township_for_new()
        problems: list[str] = []
        values = dict(request.form) if request.method == "POST" else {"kind": "hearing"}
        if request.method == "POST":
            data, problems = _hearing_input(request.form)
            if not problems:
                try:
                    hearing = services.create_hearing(township, data, current_user)
                except services.HearingError as exc:
                    db.session.rollback()
                    problems = exc.problems
                else:
                    record_audit("create", "Hearing", hearing.id, township_id=township.id)
                    db.session.commit()
                    flash(_("The hearing was called. Announce it when it is ready."), "success")
                    return redirect(url_for(".details_view", id=hearing.id), 303)
        return self._form_page(township, None, values, problems)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        hearing = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, MANAGE, hearing.township_id):
            abort(403)
        problems: list[str] = []
        if request.method == "POST":
            values = dict(request.form)
            data, problems = _hearing_input(request.form)
            if not problems:
                try:
                    services.update_hearing(hearing, data, current_user)
                except services.HearingError as exc:
                    db.session.rollback()
                    problems = exc.problems
                else:
                    record_audit("update", "Hearing", hearing.id, township_id=hearing.township_id)
                    db.session.commit()
                    flash(_("Saved."), "success")
                    return redirect(url_for(".details_view", id=hearing.id), 303)
        else:
            values = {
                "kind": hearing.kind.value,
                "topic": hearing.topic,
                "background": hearing.background,
                "decided_by": hearing.decided_by,
                "decided_on": hearing.decided_on.isoformat(),
                "held_on": hearing.held_on.isoformat(),
                "start_time": hearing.start_time.strftime("%H:%M") if hearing.start_time else "",
                "place": hearing.place,
                "public_seats": "" if hearing.public_seats is None else str(hearing.public_seats),
            }
        return self._form_page(hearing.township, hearing, values, problems)

    def _step(self, hearing: Hearing, step: str) -> str:
        """Run one step of the hearing's page; returns the message to flash."""
        form = request.form
        if step == "announce":
            services.announce_hearing(hearing, current_user)
            return _("The hearing is announced on the public site; registration is open.")
        if step == "open":
            services.open_hearing(hearing, current_user)
            return _("The hearing is in session: record attendance and questions.")
        if step == "cancel":
            services.cancel_hearing(hearing, current_user, form.get("reason", ""))
            return _("The hearing is cancelled.")
        if step == "invite":
            who = form.get("who", "")
            kind, _sep, number = who.partition(":")
            services.invite(
                hearing,
                current_user,
                form.get("category") or None,
                person_id=_int(number) if kind == "person" else None,
                user_id=_int(number) if kind == "user" else None,
            )
            return _("The participant is invited.")
        if step == "attendance":
            present = {i for i in (_int(v) for v in form.getlist("present")) if i is not None}
            n = services.record_attendance(hearing, current_user, present)
            return _("Attendance recorded: %(n)s present.", n=n)
        if step == "question":
            question = services.record_question(
                hearing,
                current_user,
                services.QuestionInput(
                    question=form.get("question", ""),
                    participant_id=_int(form.get("participant_id")),
                    asker_name=form.get("asker_name", ""),
                    answer=form.get("answer", ""),
                    answered_by=form.get("answered_by", ""),
                    reason=form.get("reason", ""),
                    responsible_id=_int(form.get("responsible_id")),
                    deadline=_date(form.get("deadline")),
                ),
            )
            if question.status == QuestionStatus.pending:
                return _(
                    "Question %(n)s recorded; %(name)s answers it by %(day)s.",
                    n=question.number,
                    name=question.responsible.name,
                    day=question.deadline.isoformat(),
                )
            return _("Question %(n)s recorded with its answer.", n=question.number)
        if step == "conclude":
            services.conclude(hearing, current_user, form.get("result", ""))
            return _("The hearing is concluded: the result is published and fed back.")
        abort(400)

    @expose("/details/", methods=("GET", "POST"))
    def details_view(self):
        hearing = self.get_one(str(request.values.get("id", type=int) or 0))
        tid = hearing.township_id
        may_manage = can(current_user, MANAGE, tid)
        problems: list[str] = []
        values = dict(request.form) if request.method == "POST" else {}
        if request.method == "POST":
            if not may_manage:
                abort(403)
            step = request.form.get("step", "")
            raw_deadline = request.form.get("deadline", "").strip()
            if step == "question" and raw_deadline and _date(raw_deadline) is None:
                problems.append(_("The deadline is not a date."))
            if not problems:
                try:
                    message = self._step(hearing, step)
                except services.HearingError as exc:
                    db.session.rollback()
                    problems = exc.problems
                else:
                    flash(message, "success")
                    return redirect(url_for(".details_view", id=hearing.id), 303)
        db.session.refresh(hearing)
        rows = services.participants(hearing.id)
        sensitive = can(current_user, "people.read_sensitive", tid)
        invited = {("person", p.person_id) for p in rows if p.person_id} | {
            ("user", p.user_id) for p in rows if p.user_id
        }
        return self.render(
            "hearings/admin/hearing.html",
            hearing=hearing,
            may_manage=may_manage,
            participants=rows,
            groups=services.by_category(rows),
            phone=lambda p: p.phone if sensitive else (mask_phone(p.phone) or "–"),
            questions=services.questions(hearing.id),
            categories=list(ParticipantCategory),
            people=[p for p in services.people_register(tid) if ("person", p.id) not in invited],
            staff=services.staff(tid),
            invitable=[u for u in services.staff(tid) if ("user", u.id) not in invited],
            today=clock.today(tid),
            trail=services.trail(hearing.id),
            action_label=services.action_label,
            public_url=services.public_link(hearing) if services.is_public(hearing) else None,
            registration_open=services.registration_open(hearing),
            values=values,
            problems=problems,
            S=S,
        ), (400 if problems else 200)

    @expose("/minutes/")
    def minutes_view(self):
        """The minutes (会议纪要) on A4."""
        hearing = self.get_one(str(request.args.get("id", type=int) or 0))
        return self.render("hearings/admin/minutes_print.html", **services.minutes_context(hearing))

    @expose("/letters/")
    def letters_view(self):
        """The result as a letter (A4, one page each) to every participant without an
        account; before the conclusion there is nothing to send."""
        hearing = self.get_one(str(request.args.get("id", type=int) or 0))
        if hearing.status != S.concluded:
            abort(404)
        return self.render(
            "hearings/admin/letters_print.html",
            hearing=hearing,
            letters=services.letters(hearing),
            questions=services.questions(hearing.id),
        )


def _asker(view, context, model, name):
    if model.asker_category is not None:
        return f"{model.asker_name}（{model.asker_category.label}）"
    return model.asker_name


def _question(view, context, model, name):
    return model.question if len(model.question) <= 50 else model.question[:49] + "…"


def _responsible(view, context, model, name):
    return model.responsible.name if model.responsible else "–"


class QuestionView(TownshipModelView):
    """Questions put at hearings and how each was answered; the person responsible for a
    question sees it (and answers it here) without ``hearings.read``."""

    permission_read = "admin.access"
    allow_create = False
    allow_edit = False
    allow_delete = False

    def _mine_or_readable(self):
        return or_(
            HearingQuestion.township_id.in_(self.township_ids(READ)),
            HearingQuestion.responsible_id == current_user.id,
        )

    def get_query(self):
        return super().get_query().filter(self._mine_or_readable())

    def get_count_query(self):
        return super().get_count_query().filter(self._mine_or_readable())

    def get_one(self, id):
        question = super().get_one(id)
        if (
            question.township_id not in self.township_ids(READ)
            and question.responsible_id != current_user.id
        ):
            abort(404)
        return question

    column_list = (
        "hearing",
        "number",
        "question",
        "asker_name",
        "status",
        "responsible",
        "deadline",
    )
    column_filters = ("status", "deadline")
    column_searchable_list = ("question", "asker_name")
    column_default_sort = ("created_at", True)
    column_formatters = {
        "question": _question,
        "asker_name": _asker,
        "responsible": _responsible,
    }
    column_labels = {
        "hearing": _l("Hearing"),
        "number": _l("Question No."),
        "question": _l("Question"),
        "asker_name": _l("Who asked"),
        "status": _l("Status"),
        "responsible": _l("Person responsible"),
        "deadline": _l("Answer deadline"),
    }

    @expose("/details/")
    def details_view(self):
        return redirect(url_for(".answer_view", id=request.args.get("id", type=int) or 0))

    @expose("/answer/", methods=("GET", "POST"))
    def answer_view(self):
        question = self.get_one(str(request.values.get("id", type=int) or 0))
        problems: list[str] = []
        values = dict(request.form) if request.method == "POST" else {}
        if request.method == "POST":
            try:
                services.answer_question(question, current_user, request.form.get("answer", ""))
            except services.HearingError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("The answer is recorded and published; the case is closed."), "success")
                return redirect(url_for(".answer_view", id=question.id), 303)
        db.session.refresh(question)
        tid = question.township_id
        case = question.case
        return self.render(
            "hearings/admin/question.html",
            question=question,
            hearing=question.hearing,
            case=case,
            may_answer=question.status == QuestionStatus.pending
            and services.may_answer(current_user, question),
            may_read_hearing=can(current_user, READ, tid),
            overdue=question.status == QuestionStatus.pending
            and case is not None
            and case.due_on is not None
            and case.due_on < clock.today(tid),
            values=values,
            problems=problems,
        ), (400 if problems else 200)


def admin_views():
    return [
        HearingView(Hearing, name=_l("Hearings and inquiries"), endpoint="hearings_hearings"),
        QuestionView(HearingQuestion, name=_l("Questions"), endpoint="hearings_questions"),
    ]
