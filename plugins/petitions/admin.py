"""Admin views of petition auditing and leader reception (信访接待), in its own menu.

* **Reception sessions** (接访活动): the list, planning a session, and one page per session
  with the invitations, attendance, observers' opinions, the petitions received there,
  the printable invitation list and the printable session record (A4).
* **Petitions** (信访件): the list, registering one, and one page per petition with the
  petitioners (masked unless ``petitions.read_personal``), the acceptance decision, the
  hand-overs and their follow-up, extension, escalation and the collective decision,
  the answer, risk flags.
* **Risk register**, **follow-ups**, and the **observer register**.

Permissions: ``petitions.read`` sees; ``petitions.write`` (the petition officer,
township administrators) acts; the leader on reception duty registers petitions on their
day; ``petitions.decide`` (leaders) records collective decisions.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can
from core.cases import pending_extension
from core.db import db
from core.models import OrgUnit, Person, UnitKind, User
from plugins.petitions import services
from plugins.petitions.models import (
    Attendance,
    Channel,
    FollowUp,
    Observer,
    ObserverCategory,
    Opinion,
    Petition,
    PetitionCategory,
    Petitioner,
    ReceptionSession,
    RiskFlag,
    RiskKind,
    SessionStatus,
)
from plugins.petitions.policy import REGULATION_NOTE
from plugins.petitions.services import PetitionError

READ = services.READ
WRITE = services.WRITE
DECIDE = services.DECIDE
#: the rows of petitioners a form offers (a group lists at most five representatives)
PETITIONER_ROWS = 5


def _me() -> User:
    return current_user._get_current_object()


def _day(name: str, required: bool = False) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        if required:
            raise PetitionError(_("Give the date as YYYY-MM-DD."))
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PetitionError(_("Give the date as YYYY-MM-DD.")) from None


def _int(name: str) -> int | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise PetitionError(_("Give a whole number."))
    return int(raw)


def _user_in(users: list[User], raw) -> User | None:
    try:
        wanted = int(raw)
    except (TypeError, ValueError):
        return None
    return next((u for u in users if u.id == wanted), None)


def _receipt_link(endpoint: str):
    def formatter(view, context, model, name):
        petition = model if isinstance(model, Petition) else model.petition
        if petition is None:
            return ""
        return Markup('<a href="{}">{}</a>').format(
            url_for(endpoint, id=petition.id), petition.case.receipt_no
        )

    return formatter


class _Acting:
    """Shared by the pages with small forms: run a service, flash, or show the error."""

    def _act(self, render, work, back):
        try:
            work()
        except PetitionError as exc:
            db.session.rollback()
            return render(exc.problems), 400
        flash(_("Saved."), "success")
        return redirect(back, 303)


# ---------------------------------------------------------------------------
# Reception sessions
# ---------------------------------------------------------------------------


class SessionView(_Acting, TownshipModelView):
    """Reception sessions (接访活动); every step is a small form on the session's page."""

    permission_read = READ
    permission_write = WRITE
    allow_create = allow_edit = allow_delete = False
    column_list = ("held_on", "starts_at", "place", "receiving_leader", "convener", "status")
    column_labels = {
        "held_on": _l("Date"),
        "starts_at": _l("Time"),
        "place": _l("Place"),
        "receiving_leader": _l("Receiving leader"),
        "convener": _l("Convener"),
        "status": _l("Status"),
        "published": _l("On the public schedule"),
        "topic": _l("Topic"),
    }
    column_formatters = {
        "place": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".details_view", id=m.id), m.place
        )
    }
    column_filters = ("status", "held_on")
    column_default_sort = ("held_on", True)

    @expose("/details/")
    def details_view(self):
        return self._page(self.get_one(request.args.get("id", "")))

    def _page(self, session: ReceptionSession, problems: list[str] | None = None):
        tid = session.township_id
        invited = {i.observer_id for i in session.invitations}
        candidates = db.session.scalars(
            select(Observer)
            .where(Observer.township_id == tid, Observer.active.is_(True))
            .order_by(Observer.category, Observer.id)
        ).all()
        petitions = db.session.scalars(
            select(Petition).where(Petition.session_id == session.id).order_by(Petition.id)
        ).all()
        today = clock.today(tid)
        return self.render(
            "petitions/admin/session.html",
            session=session,
            problems=problems or [],
            may_write=can(current_user, WRITE, tid),
            may_answer=can(current_user, WRITE, tid)
            or current_user.id == session.receiving_leader_id,
            may_register=session.status == SessionStatus.planned
            and session.held_on <= today
            and (can(current_user, WRITE, tid) or current_user.id == session.receiving_leader_id),
            held=session.held_on <= today,
            open=session.status == SessionStatus.planned,
            candidates=[o for o in candidates if o.id not in invited],
            present=[i for i in session.invitations if i.attendance == Attendance.present],
            attendances=[a for a in Attendance if a != Attendance.invited],
            petitions=petitions,
            to_call=[i for i in session.invitations if not i.notified],
        )

    def _session_act(self, session_id: int, work):
        session = self.get_one(str(session_id))
        return self._act(
            lambda problems: self._page(self.get_one(str(session_id)), problems),
            lambda: work(session),
            url_for(".details_view", id=session_id),
        )

    @expose("/<int:session_id>/invite", methods=("POST",))
    def invite(self, session_id):
        def work(session):
            ids = []
            for raw in request.form.getlist("observer"):
                if not raw.isdigit():
                    raise PetitionError(_("Choose at least one observer to invite."))
                ids.append(int(raw))
            services.invite(session, ids, by=_me())

        return self._session_act(session_id, work)

    @expose("/<int:session_id>/attendance", methods=("POST",))
    def attendance(self, session_id):
        def work(session):
            marks = {}
            for invitation in session.invitations:
                value = request.form.get(f"attendance-{invitation.id}")
                if value:
                    marks[invitation.id] = value
            services.record_attendance(session, marks, by=_me())

        return self._session_act(session_id, work)

    @expose("/<int:session_id>/opinion", methods=("POST",))
    def opinion(self, session_id):
        def work(session):
            observer_id = _int("observer_id")
            if observer_id is None:
                raise PetitionError(_("Choose the observer who spoke."))
            services.add_opinion(
                session,
                observer_id=observer_id,
                said=request.form.get("said", ""),
                suggestion=request.form.get("suggestion", ""),
                answer=request.form.get("answer", ""),
                by=_me(),
            )

        return self._session_act(session_id, work)

    @expose("/<int:session_id>/opinion/<int:opinion_id>/answer", methods=("POST",))
    def answer(self, session_id, opinion_id):
        def work(session):
            opinion = db.session.get(Opinion, opinion_id)
            if opinion is None or opinion.session_id != session.id:
                abort(404)
            services.answer_opinion(opinion, answer=request.form.get("answer", ""), by=_me())

        return self._session_act(session_id, work)

    @expose("/<int:session_id>/close", methods=("POST",))
    def close(self, session_id):
        return self._session_act(
            session_id,
            lambda session: services.close_session(
                session, by=_me(), summary=request.form.get("summary", "")
            ),
        )

    @expose("/<int:session_id>/cancel", methods=("POST",))
    def cancel(self, session_id):
        return self._session_act(
            session_id,
            lambda session: services.cancel_session(
                session, by=_me(), reason=request.form.get("reason", "")
            ),
        )

    @expose("/<int:session_id>/record")
    def record(self, session_id):
        """The session record (接访记录), A4: nothing personal about the petitioners."""
        session = self.get_one(str(session_id))
        return self.render(
            "petitions/admin/record_print.html",
            record=services.session_record(session),
            printed_on=clock.today(session.township_id),
        )

    @expose("/<int:session_id>/invitations")
    def invitations(self, session_id):
        """The invitation list (A4) for observers without an account: to call or visit."""
        session = self.get_one(str(session_id))
        if not can(current_user, WRITE, session.township_id):
            abort(403)
        return self.render(
            "petitions/admin/invitations_print.html",
            session=session,
            invitations=session.invitations,
        )


class PlanSessionView(TownshipBaseView):
    """Plan a reception session: date and time, place, receiving leader, convener."""

    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        leaders = services.leaders(township.id)
        staff = services.staff(township.id)
        problems: list[str] = []
        form = request.form if request.method == "POST" else {}
        if request.method == "POST":
            try:
                session = services.plan_session(
                    township,
                    by=_me(),
                    held_on=_day("held_on"),
                    starts_at=request.form.get("starts_at", ""),
                    place=request.form.get("place", ""),
                    leader=_user_in(leaders, request.form.get("leader_id"))
                    or self._any_user(request.form.get("leader_id")),
                    convener=_user_in(staff, request.form.get("convener_id"))
                    or self._any_user(request.form.get("convener_id")),
                    topic=request.form.get("topic", ""),
                    published=bool(request.form.get("published")),
                )
            except PetitionError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("The session is planned; now invite the observers."), "success")
                return redirect(url_for("petitions_sessions.details_view", id=session.id), 303)
        return (
            self.render(
                "petitions/admin/plan.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                leaders=leaders,
                staff=staff,
                form=form,
                problems=problems,
                today=clock.today(township),
            ),
            400 if problems else 200,
        )

    @staticmethod
    def _any_user(raw) -> User | None:
        """A user id sent that is not among the offered choices: the service says why."""
        try:
            return db.session.get(User, int(raw))
        except (TypeError, ValueError):
            return None


# ---------------------------------------------------------------------------
# Petitions
# ---------------------------------------------------------------------------


class OpenFilter(BaseSQLAFilter):
    """Open or closed rows (a date column that is empty while open)."""

    def __init__(self, column, name):
        super().__init__(
            column, name, options=(("open", _l("Still open")), ("closed", _l("Concluded")))
        )

    def apply(self, query, value, alias=None):
        column = self.get_column(alias)
        return query.filter(column.is_(None) if value == "open" else column.is_not(None))

    def operation(self):
        return _l("is")


def _case_status(view, context, model, name):
    return model.case.status.label


def _case_due(view, context, model, name):
    due = model.case.due_on
    return due.isoformat() if due else "—"


class PetitionView(_Acting, TownshipModelView):
    """Petitions (信访件); each one's page carries its whole course."""

    permission_read = READ
    permission_write = WRITE
    allow_create = allow_edit = allow_delete = False
    column_list = (
        "received_on",
        "case",
        "title",
        "channel",
        "category",
        "village",
        "head_count",
        "acceptance",
        "status",
        "due_on",
    )
    column_labels = {
        "received_on": _l("Received on"),
        "case": _l("Receipt number"),
        "title": _l("Matter"),
        "channel": _l("Channel"),
        "category": _l("Category"),
        "village": _l("Village concerned"),
        "head_count": _l("Number of people"),
        "acceptance": _l("Acceptance"),
        "status": _l("Status"),
        "due_on": _l("Due date"),
        "registered_via": _l("Registered through"),
        "is_group": _l("Group petition"),
        "decide_by": _l("Decide acceptance by"),
        "escalated_on": _l("Escalated on"),
    }
    column_formatters = {
        "case": _receipt_link(".details_view"),
        "title": lambda v, c, m, n: m.case.title,
        "status": _case_status,
        "due_on": _case_due,
    }
    column_filters = (
        "acceptance",
        "channel",
        "category",
        "registered_via",
        "is_group",
        "received_on",
    )
    column_default_sort = ("received_on", True)

    def _petition(self, petition_id) -> Petition:
        return self.get_one(str(petition_id))

    @expose("/details/")
    def details_view(self):
        return self._page(self._petition(request.args.get("id", "")))

    def _page(self, petition: Petition, problems: list[str] | None = None):
        tid = petition.township_id
        me = _me()
        flags = db.session.scalars(
            select(RiskFlag).where(RiskFlag.petition_id == petition.id).order_by(RiskFlag.id)
        ).all()
        case = petition.case
        return self.render(
            "petitions/admin/petition.html",
            petition=petition,
            case=case,
            problems=problems or [],
            petitioners=services.shown_petitioners(petition, me),
            may_handle=services.may_handle(me, petition),
            may_write=can(me, WRITE, tid),
            may_decide=can(me, DECIDE, tid),
            flags=flags,
            risk_kinds=list(RiskKind),
            stations=services.units(tid, UnitKind.station),
            staff=services.staff(tid),
            leaders=services.leaders(tid),
            room=services.extension_room(petition),
            pending=pending_extension(case),
            today=clock.today(tid),
            regulation=REGULATION_NOTE,
            open_case=case.status.value
            in ("received", "accepted", "in_progress", "forwarded", "reopened"),
        )

    def _petition_act(self, petition_id: int, work):
        petition = self._petition(petition_id)
        return self._act(
            lambda problems: self._page(self._petition(petition_id), problems),
            lambda: work(petition),
            url_for(".details_view", id=petition_id),
        )

    @expose("/<int:petition_id>/acceptance", methods=("POST",))
    def acceptance(self, petition_id):
        return self._petition_act(
            petition_id,
            lambda p: services.decide_acceptance(
                p,
                accept=request.form.get("decision") == "accept",
                by=_me(),
                on=_day("on"),
                reason=request.form.get("reason", ""),
            ),
        )

    @expose("/<int:petition_id>/hand-over", methods=("POST",))
    def hand_over(self, petition_id):
        def work(p):
            department = db.session.get(OrgUnit, _int("department_id") or 0)
            handler = _user_in(services.staff(p.township_id), request.form.get("handler_id"))
            services.hand_over(
                p,
                department=department,
                handler=handler,
                due_on=_day("due_on"),
                instructions=request.form.get("instructions", ""),
                by=_me(),
            )

        return self._petition_act(petition_id, work)

    @expose("/<int:petition_id>/follow-up/<int:follow_up_id>/done", methods=("POST",))
    def follow_up_done(self, petition_id, follow_up_id):
        def work(p):
            follow_up = db.session.get(FollowUp, follow_up_id)
            if follow_up is None or follow_up.petition_id != p.id:
                abort(404)
            services.follow_up_done(
                follow_up, outcome=request.form.get("outcome", ""), by=_me(), on=_day("on")
            )

        return self._petition_act(petition_id, work)

    @expose("/<int:petition_id>/progress", methods=("POST",))
    def progress(self, petition_id):
        return self._petition_act(
            petition_id,
            lambda p: services.add_progress(
                p, text=request.form.get("text", ""), by=_me(), on=_day("on")
            ),
        )

    @expose("/<int:petition_id>/extension", methods=("POST",))
    def extension(self, petition_id):
        return self._petition_act(
            petition_id,
            lambda p: services.ask_extension(
                p, days=_int("days"), reason=request.form.get("reason", ""), by=_me()
            ),
        )

    @expose("/<int:petition_id>/escalate", methods=("POST",))
    def escalate(self, petition_id):
        return self._petition_act(
            petition_id,
            lambda p: services.escalate(p, reason=request.form.get("reason", ""), by=_me()),
        )

    @expose("/<int:petition_id>/decision", methods=("POST",))
    def decision(self, petition_id):
        def work(p):
            team = services.leaders(p.township_id)
            members = []
            for raw in request.form.getlist("member"):
                user = _user_in(team, raw) or PlanSessionView._any_user(raw)
                if user is not None:
                    members.append(user)
            services.record_decision(
                p,
                meeting_on=_day("meeting_on"),
                members=members,
                decision=request.form.get("decision", ""),
                by=_me(),
            )

        return self._petition_act(petition_id, work)

    @expose("/<int:petition_id>/answer", methods=("POST",))
    def answer(self, petition_id):
        return self._petition_act(
            petition_id,
            lambda p: services.answer(
                p,
                result=request.form.get("result", ""),
                told_how=request.form.get("told_how", ""),
                told_on=_day("told_on"),
                close=bool(request.form.get("close")),
                by=_me(),
            ),
        )

    @expose("/<int:petition_id>/close", methods=("POST",))
    def close(self, petition_id):
        return self._petition_act(
            petition_id,
            lambda p: services.close_petition(p, by=_me(), note=request.form.get("note", "")),
        )

    @expose("/<int:petition_id>/flag", methods=("POST",))
    def flag(self, petition_id):
        def work(p):
            petitioner = None
            raw = _int("petitioner_id")
            if raw:
                petitioner = db.session.get(Petitioner, raw)
                if petitioner is None or petitioner.petition_id != p.id:
                    raise PetitionError(_("The petitioner is not one of this petition's."))
            services.flag_risk(
                p.township_id,
                petition=p,
                petitioner=petitioner,
                kind=request.form.get("kind", ""),
                description=request.form.get("description", ""),
                measures=request.form.get("measures", ""),
                by=_me(),
            )

        return self._petition_act(petition_id, work)


class RegisterView(TownshipBaseView):
    """Register a petition: at a session, on the leader reception day (the leader on
    reception duty), or at any time (the officer)."""

    permission_read = READ

    def _townships(self) -> set[int]:
        """Where the user may register: with ``petitions.write``, or where they are the
        leader on reception duty today (asked only of leaders)."""
        writable = self.township_ids(WRITE)
        leading = self.township_ids(DECIDE) - writable
        return writable | {
            t
            for t in leading
            if services.reception_leader_today(current_user, t)
            or services.receiving_today(current_user, t)
        }

    def is_accessible(self) -> bool:
        if not current_user.is_authenticated:
            return False
        return bool(self.township_ids(WRITE) or self.township_ids(DECIDE))

    @expose("/", methods=("GET", "POST"))
    def index(self):
        allowed = self._townships()
        raw = request.values.get("township", type=int)
        if raw is None and allowed:
            raw = township_choices(allowed)[0][0]
        if raw not in allowed:
            if raw is None or raw in self.township_ids(READ):
                return self.render("petitions/admin/not_on_duty.html"), 403
            abort(404)
        township = db.session.get(OrgUnit, raw)
        today = clock.today(township)
        sessions = db.session.scalars(
            select(ReceptionSession)
            .where(
                ReceptionSession.township_id == township.id,
                ReceptionSession.status == SessionStatus.planned,
                ReceptionSession.held_on <= today,
            )
            .order_by(ReceptionSession.held_on.desc())
            .limit(10)
        ).all()
        if not can(current_user, WRITE, township.id):
            sessions = [s for s in sessions if s.receiving_leader_id == current_user.id]
        problems: list[str] = []
        form = request.form if request.method == "POST" else {}
        if request.method == "POST":
            try:
                data = services.PetitionInput(
                    channel=request.form.get("channel") or None,
                    category=request.form.get("category") or None,
                    matter=request.form.get("matter", ""),
                    description=request.form.get("description", ""),
                    village_id=_int("village_id"),
                    is_group=bool(request.form.get("is_group")),
                    head_count=_int("head_count"),
                    received_on=_day("received_on"),
                    session_id=_int("session_id"),
                    petitioners=[
                        services.PetitionerInput(
                            request.form.get(f"name-{n}", ""),
                            request.form.get(f"id_number-{n}", ""),
                            request.form.get(f"phone-{n}", ""),
                            request.form.get(f"address-{n}", ""),
                        )
                        for n in range(PETITIONER_ROWS)
                    ],
                )
                petition = services.register_petition(township, data, by=_me())
            except PetitionError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(
                    _("Petition registered; receipt number %(no)s.", no=petition.case.receipt_no),
                    "success",
                )
                return redirect(url_for("petitions_petitions.details_view", id=petition.id), 303)
        chosen = request.values.get("session", type=int)
        return (
            self.render(
                "petitions/admin/register.html",
                township=township,
                townships=township_choices(allowed),
                sessions=sessions,
                chosen_session=chosen,
                channels=list(Channel),
                categories=list(PetitionCategory),
                villages=services.units(township.id, UnitKind.village),
                rows=range(PETITIONER_ROWS),
                form=form,
                problems=problems,
                today=today,
                on_duty=services.reception_leader_today(current_user, township.id),
                officer=can(current_user, WRITE, township.id),
            ),
            400 if problems else 200,
        )


# ---------------------------------------------------------------------------
# Risks and follow-ups
# ---------------------------------------------------------------------------


class RiskView(_Acting, TownshipModelView):
    """The risk register (风险台账): open flags first."""

    permission_read = READ
    permission_write = WRITE
    allow_create = allow_edit = allow_delete = False
    column_list = ("flagged_on", "kind", "petition", "description", "measures", "closed_on")
    column_labels = {
        "flagged_on": _l("Flagged on"),
        "kind": _l("Risk"),
        "petition": _l("Petition"),
        "description": _l("The risk"),
        "measures": _l("Measures taken"),
        "closed_on": _l("Closed on"),
    }
    column_formatters = {
        "petition": _receipt_link("petitions_petitions.details_view"),
        "description": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".details_view", id=m.id), m.description
        ),
        "measures": lambda v, c, m, n: m.measures or _("Not decided yet"),
        "closed_on": lambda v, c, m, n: m.closed_on.isoformat() if m.closed_on else _("Still open"),
    }
    list_also_load = ("petition.case",)
    column_filters = ("kind", OpenFilter(RiskFlag.closed_on, _l("Open or closed")), "flagged_on")
    column_default_sort = [("closed_on", False), ("flagged_on", True)]

    @expose("/details/")
    def details_view(self):
        return self._page(self.get_one(request.args.get("id", "")))

    def _page(self, flag: RiskFlag, problems: list[str] | None = None):
        shown = None
        if flag.petitioner is not None:
            shown = next(
                (
                    p
                    for p in services.shown_petitioners(flag.petitioner.petition, _me())
                    if p.id == flag.petitioner_id
                ),
                None,
            )
        return self.render(
            "petitions/admin/risk.html",
            flag=flag,
            petitioner=shown,
            problems=problems or [],
            may_write=can(current_user, WRITE, flag.township_id),
        )

    def _flag_act(self, flag_id: int, work):
        flag = self.get_one(str(flag_id))
        return self._act(
            lambda problems: self._page(self.get_one(str(flag_id)), problems),
            lambda: work(flag),
            url_for(".details_view", id=flag_id),
        )

    @expose("/<int:flag_id>/measures", methods=("POST",))
    def measures(self, flag_id):
        return self._flag_act(
            flag_id,
            lambda f: services.set_measures(f, measures=request.form.get("measures", ""), by=_me()),
        )

    @expose("/<int:flag_id>/close", methods=("POST",))
    def close(self, flag_id):
        return self._flag_act(
            flag_id,
            lambda f: services.close_flag(
                f, note=request.form.get("note", ""), by=_me(), on=_day("on")
            ),
        )


class FollowUpView(TownshipModelView):
    """Hand-overs to departments and their follow-up (督办): open ones first."""

    permission_read = READ
    permission_write = WRITE
    allow_create = allow_edit = allow_delete = False
    can_view_details = False
    column_list = ("petition", "title", "department", "owner", "handed_on", "due_on", "done_on")
    column_labels = {
        "petition": _l("Petition"),
        "title": _l("Matter"),
        "department": _l("Department"),
        "owner": _l("Followed up by"),
        "handed_on": _l("Handed over on"),
        "due_on": _l("Report back by"),
        "done_on": _l("Reported done on"),
    }
    column_formatters = {
        "petition": _receipt_link("petitions_petitions.details_view"),
        "title": lambda v, c, m, n: m.petition.case.title,
        "done_on": lambda v, c, m, n: m.done_on.isoformat() if m.done_on else _("Still open"),
    }
    list_also_load = ("petition.case",)
    column_filters = (OpenFilter(FollowUp.done_on, _l("Open or done")), "due_on")
    column_default_sort = [("done_on", False), ("due_on", False)]


# ---------------------------------------------------------------------------
# The observer register
# ---------------------------------------------------------------------------


class ObserverView(TownshipModelView):
    """The observer register (旁听人员名册), by category."""

    permission_read = READ
    permission_write = WRITE
    allow_create = allow_delete = False
    can_view_details = False
    column_list = ("name", "category", "title", "phone", "account", "active")
    column_labels = {
        "name": _l("Name"),
        "category": _l("Category"),
        "title": _l("Post or unit"),
        "phone": _l("Phone"),
        "account": _l("Invited through"),
        "active": _l("On the roster"),
        "note": _l("Note"),
    }
    column_formatters = {
        "name": lambda v, c, m, n: m.name,
        "phone": lambda v, c, m, n: m.phone or "—",
        "account": lambda v, c, m, n: _("Notification") if m.user_id else _("Phone call"),
    }
    list_also_load = ("person", "user")
    column_filters = ("category", "active")
    column_default_sort = [("category", False), ("id", False)]
    form_columns = ("category", "title", "active", "note")
    form_overrides = {"category": SelectField}
    form_args = {
        "category": {
            "label": _l("Category"),
            "choices": lambda: [SelectChoice(c.value, c.label) for c in ObserverCategory],
        },
        "title": {"label": _l("Post or unit")},
        "active": {"label": _l("On the roster")},
        "note": {"label": _l("Note")},
    }

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if hasattr(form_class, "township_id"):
            delattr(form_class, "township_id")  # an observer stays in their township
        return form_class


class AddObserverView(TownshipBaseView):
    """Put someone on the observer register: a person of the register (found by name or
    the last digits of their phone), a staff member, or a new person."""

    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        q = (request.values.get("q") or "").strip()[:40]
        found: list[Person] = []
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions = [Person.name.like(like, escape="\\")]
            if q.isdigit():
                conditions.append(Person.phone.like("%" + q))
            found = list(
                db.session.scalars(
                    select(Person)
                    .where(Person.township_id == township.id, or_(*conditions))
                    .order_by(Person.name, Person.id)
                    .limit(20)
                )
            )
        staff = services.staff(township.id)
        problems: list[str] = []
        form = request.form if request.method == "POST" else {}
        if request.method == "POST":
            person = None
            raw_person = request.form.get("person_id", "")
            if raw_person.isdigit():
                person = db.session.get(Person, int(raw_person))
            try:
                village = None
                raw_village = request.form.get("village_id", "")
                if raw_village.isdigit():
                    village = services._unit(
                        township.id,
                        int(raw_village),
                        UnitKind.village,
                        _("The village is not one of this township's."),
                    )
                services.add_observer(
                    township,
                    request.form.get("category", ""),
                    by=_me(),
                    person=person,
                    user=_user_in(staff, request.form.get("user_id")),
                    new_name=request.form.get("new_name", ""),
                    new_phone=request.form.get("new_phone", ""),
                    new_village=village,
                    title=request.form.get("title", ""),
                )
            except PetitionError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("Added to the observer register."), "success")
                return redirect(url_for("petitions_observers.index_view"), 303)
        return (
            self.render(
                "petitions/admin/observer_add.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                categories=list(ObserverCategory),
                staff=staff,
                villages=services.units(township.id, UnitKind.village),
                q=q,
                found=found,
                form=form,
                problems=problems,
            ),
            400 if problems else 200,
        )


def admin_views() -> list:
    from core.contract import AdminView

    return [
        AdminView(PetitionView(Petition, name=_l("Petitions"), endpoint="petitions_petitions")),
        AdminView(RegisterView(name=_l("Register a petition"), endpoint="petitions_register")),
        AdminView(
            SessionView(
                ReceptionSession, name=_l("Reception sessions"), endpoint="petitions_sessions"
            )
        ),
        AdminView(PlanSessionView(name=_l("Plan a session"), endpoint="petitions_plan")),
        AdminView(FollowUpView(FollowUp, name=_l("Follow-ups"), endpoint="petitions_followups")),
        AdminView(RiskView(RiskFlag, name=_l("Risk register"), endpoint="petitions_risks")),
        AdminView(
            ObserverView(Observer, name=_l("Observer register"), endpoint="petitions_observers")
        ),
        AdminView(AddObserverView(name=_l("Add an observer"), endpoint="petitions_observer_add")),
    ]
