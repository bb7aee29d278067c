"""Staff views of the evaluation institution (社会监督考评), in its own admin menu.

Permissions (declared in ``__init__``): ``evaluation.read`` to see; ``evaluation.record``
to record phone follow-ups and rectification plans; ``evaluation.follow_up`` (leaders)
to handle dissatisfied ratings; ``evaluation.decide`` to grade, check rectifications
and decide suspensions; ``evaluation.manage`` to run rounds and apply the rule;
``evaluation.mark`` to mark in rounds.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms import SelectField, ValidationError
from wtforms.fields.choices import SelectChoice

from admin.audit import record_audit
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can
from core.db import db
from core.models import Case, OrgUnit, User
from plugins.evaluation import services
from plugins.evaluation.models import (
    ConsequenceKind,
    EvaluationConsequence,
    EvaluationCriterion,
    EvaluationFollowUp,
    EvaluationRating,
    EvaluationRectification,
    EvaluationRound,
    FollowUpStatus,
    Grade,
    RatingChannel,
    RatingLevel,
    RectificationSource,
    RectificationStatus,
    RoundStatus,
)

READ = services.READ
PAGE_SIZE = 50


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100_000 else 1


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


def _year(township: OrgUnit) -> int:
    today = clock.today(township)
    year = request.args.get("year", type=int) or today.year
    earliest = services.earliest_date().year
    if not earliest <= year <= today.year:
        abort(404)
    return year


def _case_link(view, context, model, name):
    from markupsafe import Markup

    case = model.case
    return Markup('<a href="{}">{}</a> {}').format(
        url_for("admin_cases.details_view", id=case.id), case.receipt_no, case.title
    )


def _staff_name(view, context, model, name):
    return model.staff.name if model.staff else "–"


def _comment(view, context, model, name):
    text = model.comment or ""
    return text if len(text) <= 40 else text[:39] + "…"


# ---------------------------------------------------------------------------
# Ratings and follow-ups
# ---------------------------------------------------------------------------


class RatingView(TownshipModelView):
    """Citizens' ratings; "create" records a phone follow-up (电话回访)."""

    permission_read = READ
    permission_write = services.RECORD
    allow_edit = False
    allow_delete = False
    can_view_details = True
    column_list = ("rated_on", "case", "staff", "level", "channel", "comment")
    column_details_list = (
        "rated_on",
        "rated_at",
        "case",
        "staff",
        "level",
        "channel",
        "comment",
        "recorded_by",
    )
    column_filters = ("level", "channel", "rated_on")
    column_searchable_list = ("receipt_no",)
    column_default_sort = ("rated_at", True)
    column_formatters = {"case": _case_link, "staff": _staff_name, "comment": _comment}
    column_formatters_detail = {"case": _case_link, "staff": _staff_name}
    column_labels = {
        "rated_on": _l("Rated on"),
        "rated_at": _l("Rated at"),
        "case": _l("Case"),
        "receipt_no": _l("Receipt number"),
        "staff": _l("Staff who served"),
        "level": _l("Rating"),
        "channel": _l("How it was given"),
        "comment": _l("Comment"),
        "recorded_by": _l("Recorded by"),
    }

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        """Record what a citizen said on a follow-up call (a closed case, rated once)."""
        if not self.can_create:
            abort(403)
        writable = self.writable_township_ids()
        values = dict(request.form) if request.method == "POST" else {}
        problems: list[str] = []
        if request.method == "POST":
            number = (request.form.get("receipt_no") or "").strip().upper()
            case = db.session.scalar(select(Case).where(Case.receipt_no == number))
            if case is None or case.township_id not in writable:
                problems = [_("No case of your township has this receipt number.")]
            else:
                try:
                    rating = services.rate_case(
                        case,
                        request.form.get("level") or None,
                        request.form.get("comment", ""),
                        channel=RatingChannel.phone,
                        recorded_by=current_user,
                    )
                except services.EvaluationError as exc:
                    problems = exc.problems
                else:
                    record_audit(
                        "create",
                        "EvaluationRating",
                        rating.id,
                        township_id=rating.township_id,
                        after={"case": case.receipt_no, "level": rating.level.value},
                    )
                    db.session.commit()
                    flash(_("The follow-up call was recorded."), "success")
                    return redirect(url_for(".index_view"), 303)
        return self.render(
            "evaluation/admin/phone.html",
            values=values,
            problems=problems,
            levels=list(RatingLevel),
        ), (400 if problems else 200)


def _follow_up_case(view, context, model, name):
    return _case_link(view, context, model, name)


class FollowUpView(TownshipModelView):
    """Dissatisfied ratings waiting for (or settled by) the handler's leader."""

    permission_read = READ
    allow_create = False
    allow_edit = False
    allow_delete = False
    column_list = ("case", "status", "due_on", "leader", "decided_by", "decided_at")
    column_filters = ("status", "due_on")
    column_default_sort = ("created_at", True)
    column_formatters = {"case": _follow_up_case}
    column_labels = {
        "case": _l("Case"),
        "status": _l("Status"),
        "due_on": _l("Due on"),
        "leader": _l("Leader in charge"),
        "decided_by": _l("Decided by"),
        "decided_at": _l("Decided at"),
        "answer": _l("Answer or reason"),
        "created_at": _l("Opened at"),
        "rating": _l("Rating"),
    }
    column_details_list = (
        "case",
        "rating",
        "status",
        "due_on",
        "leader",
        "answer",
        "decided_by",
        "decided_at",
        "created_at",
    )
    column_formatters_detail = {"case": _follow_up_case}
    list_template = "evaluation/admin/follow_up_list.html"

    @expose("/handle/", methods=("GET", "POST"))
    def handle_view(self):
        """The leader reopens the case or answers the citizen (and may plan a rectification)."""
        follow_up = self.get_one(str(request.values.get("id", type=int) or 0))
        problems: list[str] = []
        values = dict(request.form) if request.method == "POST" else {}
        if request.method == "POST":
            try:
                if request.form.get("decision") == "reopen":
                    services.reopen_from_follow_up(
                        follow_up, current_user, request.form.get("reason", "")
                    )
                    flash(_("The case was reopened; its handler sees it again."), "success")
                else:
                    plan = None
                    if request.form.get("rectify"):
                        plan = services.RectificationInput(
                            problem=follow_up.rating.comment
                            or _(
                                "Dissatisfied rating of %(receipt)s",
                                receipt=follow_up.case.receipt_no,
                            ),
                            plan=request.form.get("plan", ""),
                            owner_id=request.form.get("owner_id", type=int),
                            deadline=_date(request.form.get("deadline")),
                            source=RectificationSource.citizen_rating,
                            rating_id=follow_up.rating_id,
                            subject_user_id=follow_up.rating.staff_id,
                        )
                    services.answer_follow_up(
                        follow_up, current_user, request.form.get("answer", ""), plan
                    )
                    flash(_("Your answer was recorded."), "success")
            except services.EvaluationError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                return redirect(url_for(".handle_view", id=follow_up.id), 303)
        db.session.refresh(follow_up)
        return self.render(
            "evaluation/admin/follow_up.html",
            follow_up=follow_up,
            rating=follow_up.rating,
            case=follow_up.case,
            may_decide=follow_up.status == FollowUpStatus.open
            and can(current_user, services.FOLLOW_UP, follow_up.township_id),
            staff=services.township_staff(follow_up.township_id),
            trail=services.trail("follow_up", follow_up.id),
            action_label=services.action_label,
            values=values,
            problems=problems,
        ), (400 if problems else 200)


# ---------------------------------------------------------------------------
# Rounds and their form
# ---------------------------------------------------------------------------


class RoundView(TownshipModelView):
    """Evaluation rounds (default: one a year); a new round copies the township's form."""

    permission_read = READ
    permission_write = services.MANAGE
    allow_delete = False
    column_list = ("name", "year", "starts_on", "ends_on", "status")
    column_filters = ("year", "status")
    column_default_sort = ("starts_on", True)
    form_columns = ("name", "year", "starts_on", "ends_on")
    column_labels = {
        "name": _l("Round"),
        "year": _l("Year"),
        "starts_on": _l("Marking from"),
        "ends_on": _l("Marking until"),
        "status": _l("Status"),
        "created_at": _l("Created at"),
        "closed_at": _l("Marking closed at"),
        "township": _l("Township"),
    }
    column_descriptions = {
        "name": _l("A new round takes the form (criteria and marks) of the township's last round.")
    }

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not is_created and model.status != RoundStatus.open:
            raise ValidationError(_("A closed round cannot change."))
        problems = services.check_round(
            model.name, model.year, model.starts_on, model.ends_on, clock.today(model.township_id)
        )
        if problems:
            raise ValidationError("; ".join(problems))
        model.name = model.name.strip()
        if is_created:
            model.status = RoundStatus.open

    def after_model_change(self, form, model, is_created):
        if is_created:
            services.copy_criteria(model)
            db.session.commit()


class CriterionView(TownshipModelView):
    """The township's form: criteria and the most marks each gives, per round."""

    permission_read = READ
    permission_write = services.MANAGE
    column_list = ("round", "position", "name", "max_score")
    column_default_sort = ("round_id", True)
    form_columns = ("round_id", "position", "name", "max_score")
    column_labels = {
        "round": _l("Round"),
        "round_id": _l("Round"),
        "position": _l("Order"),
        "name": _l("Criterion"),
        "max_score": _l("Most marks"),
        "township": _l("Township"),
    }

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if hasattr(form_class, "township_id"):
            delattr(form_class, "township_id")
        form_class.round_id = SelectField(_l("Round"), coerce=int)
        return form_class

    def _offer_rounds(self, form):
        rounds = db.session.scalars(
            select(EvaluationRound)
            .where(
                EvaluationRound.township_id.in_(self.writable_township_ids()),
                EvaluationRound.status == RoundStatus.open,
            )
            .order_by(EvaluationRound.starts_on.desc())
        ).all()
        form.round_id.choices = [SelectChoice(str(r.id), r.name) for r in rounds]
        return form

    def create_form(self, obj=None):
        return self._offer_rounds(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer_rounds(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        round_ = db.session.get(EvaluationRound, model.round_id or 0)
        if round_ is None:
            raise ValidationError(_("Choose the round."))
        model.township_id = round_.township_id
        super().on_model_change(form, model, is_created)
        if round_.status != RoundStatus.open or services.has_marks(round_.id):
            raise ValidationError(_("The form of a round cannot change once marking began."))
        if not (model.name or "").strip():
            raise ValidationError(_("Name the criterion."))
        if model.max_score is None or not 1 <= model.max_score <= 1000:
            raise ValidationError(_("The most marks must lie between 1 and 1000."))

    def on_model_delete(self, model):
        if services.has_marks(model.round_id):
            raise ValidationError(_("The form of a round cannot change once marking began."))
        super().on_model_delete(model)


class MarkingView(TownshipBaseView):
    """Mark cadres and units in an open round: one subject at a time, every criterion."""

    permission_read = services.MARK

    def _round(self) -> EvaluationRound:
        round_ = db.session.get(EvaluationRound, request.values.get("round", type=int) or 0)
        if round_ is None or round_.township_id not in self.township_ids(self.permission_read):
            abort(404)
        return round_

    @expose("/")
    def index(self):
        if "round" not in request.args:
            township = self.chosen_township()
            rounds = db.session.scalars(
                select(EvaluationRound)
                .where(EvaluationRound.township_id == township.id)
                .order_by(EvaluationRound.starts_on.desc())
            ).all()
            return self.render(
                "evaluation/admin/rounds_to_mark.html",
                township=township,
                townships=township_choices(self.township_ids(self.permission_read)),
                rounds=rounds,
            )
        round_ = self._round()
        everyone = services.subjects(round_.township_id)
        page = _page()
        pages = max(1, -(-len(everyone) // PAGE_SIZE))
        shown = everyone[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return self.render(
            "evaluation/admin/marking.html",
            round=round_,
            subjects=shown,
            page=page,
            pages=pages,
            done=services.marked_by(round_.id, current_user.id),
            group=services.rater_group(current_user, round_.township_id),
            me=f"user:{current_user.id}",
        )

    @expose("/subject", methods=("GET", "POST"))
    def subject(self):
        round_ = self._round()
        subject = services.subject_of(round_.township_id, request.values.get("subject", ""))
        if subject is None:
            abort(404)
        problems: list[str] = []
        form = services.criteria(round_.id)
        if request.method == "POST":
            scores = {c.id: request.form.get(f"score-{c.id}", "") for c in form}
            try:
                total = services.save_marks(round_, current_user, subject, scores)
            except services.EvaluationError as exc:
                db.session.rollback()
                problems = exc.problems
                values = {c.id: scores[c.id] for c in form}
            else:
                flash(
                    _("Marks for %(name)s saved: %(total)d.", name=subject.name, total=total),
                    "success",
                )
                return redirect(url_for(".index", round=round_.id), 303)
        else:
            values = services.own_marks(round_.id, current_user.id, subject.key)
        return self.render(
            "evaluation/admin/mark_subject.html",
            round=round_,
            subject=subject,
            criteria=form,
            values=values,
            problems=problems,
        ), (400 if problems else 200)


class ResultsView(TownshipBaseView):
    """A round's results per cadre and unit; leaders grade cadres; the round is closed."""

    permission_read = READ

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township()
        rounds = db.session.scalars(
            select(EvaluationRound)
            .where(EvaluationRound.township_id == township.id)
            .order_by(EvaluationRound.starts_on.desc())
        ).all()
        chosen = request.values.get("round", type=int)
        round_ = next((r for r in rounds if r.id == chosen), rounds[0] if rounds else None)
        problems: list[str] = []
        if request.method == "POST" and round_ is not None:
            try:
                if request.form.get("close"):
                    services.close_round(round_, current_user)
                    flash(_("The round was closed and its results archived."), "success")
                else:
                    user_id = request.form.get("user_id", type=int) or 0
                    services.set_grade(
                        round_,
                        user_id,
                        request.form.get("grade", ""),
                        current_user,
                        request.form.get("note", ""),
                    )
                    flash(_("Grade saved."), "success")
            except services.EvaluationError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                return redirect(url_for(".index", township=township.id, round=round_.id), 303)
        lines = []
        if round_ is not None:
            results = services.round_results(round_)
            grades = services.grades(round_.id)
            barred = {
                uid
                for uid, rows in services.consequences(township.id, round_.year).items()
                if services.barred(township.id, uid, round_.year)
            }
            for subject in services.subjects(township.id):
                lines.append(
                    {
                        "subject": subject,
                        "result": results.get(subject.key),
                        "grade": grades.get(subject.user_id) if subject.user_id else None,
                        "barred": subject.user_id in barred,
                    }
                )
        return self.render(
            "evaluation/admin/results.html",
            township=township,
            townships=township_choices(self.township_ids(self.permission_read)),
            rounds=rounds,
            round=round_,
            lines=lines,
            max_total=services.max_total(round_.id) if round_ else 0,
            grades=list(Grade),
            may_grade=can(current_user, services.DECIDE, township.id),
            may_close=can(current_user, services.MANAGE, township.id),
            problems=problems,
        ), (400 if problems else 200)


# ---------------------------------------------------------------------------
# Rectification
# ---------------------------------------------------------------------------


def _owner(view, context, model, name):
    return model.owner.name if model.owner else "–"


class RectificationView(TownshipModelView):
    """Rectification plans (整改): owner, deadline, reported done, checked by a leader.

    An owner sees their own plans even without ``evaluation.read``.
    """

    permission_read = "admin.access"

    def _mine_or_readable(self):
        return or_(
            EvaluationRectification.township_id.in_(self.township_ids(READ)),
            EvaluationRectification.owner_id == current_user.id,
        )

    def get_query(self):
        return super().get_query().filter(self._mine_or_readable())

    def get_count_query(self):
        return super().get_count_query().filter(self._mine_or_readable())

    def get_one(self, id):
        item = super().get_one(id)
        if item.township_id not in self.township_ids(READ) and item.owner_id != current_user.id:
            abort(404)
        return item

    permission_write = services.RECORD
    allow_edit = False
    allow_delete = False
    column_list = ("problem", "subject_user", "owner", "deadline", "status", "source")
    column_filters = ("status", "source", "deadline")
    column_searchable_list = ("problem",)
    column_default_sort = ("deadline", False)
    column_formatters = {"owner": _owner, "problem": lambda v, c, m, n: m.problem[:60]}
    column_labels = {
        "problem": _l("Problem"),
        "plan": _l("Plan"),
        "subject_user": _l("Cadre concerned"),
        "owner": _l("Owner"),
        "deadline": _l("Rectification deadline"),
        "status": _l("Status"),
        "source": _l("Raised by"),
        "done_note": _l("What was done"),
        "check_note": _l("Check"),
        "checked_by": _l("Checked by"),
        "created_at": _l("Created at"),
    }
    column_details_list = (
        "problem",
        "plan",
        "subject_user",
        "owner",
        "deadline",
        "status",
        "source",
        "done_note",
        "checked_by",
        "check_note",
        "created_at",
    )

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        writable = self.writable_township_ids()
        chosen = request.values.get("township", type=int)
        townships = township_choices(writable)
        if chosen not in writable:
            chosen = townships[0][0]
        township = db.session.get(OrgUnit, chosen)
        values = dict(request.form) if request.method == "POST" else {}
        problems: list[str] = []
        if request.method == "POST":
            data = services.RectificationInput(
                problem=request.form.get("problem", ""),
                plan=request.form.get("plan", ""),
                owner_id=request.form.get("owner_id", type=int),
                deadline=_date(request.form.get("deadline")),
                source=RectificationSource(request.form.get("source"))
                if request.form.get("source") in RectificationSource._value2member_map_
                else RectificationSource.other,
                round_id=request.form.get("round_id", type=int),
                subject_user_id=request.form.get("subject_user_id", type=int),
                subject_unit_id=request.form.get("subject_unit_id", type=int),
            )
            if (
                data.round_id
                and db.session.scalar(
                    select(EvaluationRound.township_id).where(EvaluationRound.id == data.round_id)
                )
                != township.id
            ):
                data.round_id = None
            try:
                item = services.create_rectification(township, data, current_user)
            except services.EvaluationError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                record_audit("create", "EvaluationRectification", item.id, township_id=township.id)
                db.session.commit()
                flash(_("The rectification plan was recorded."), "success")
                return redirect(url_for(".index_view"), 303)
        return self.render(
            "evaluation/admin/rectification_new.html",
            township=township,
            townships=townships,
            staff=services.township_staff(township.id),
            units=services.stations(township.id),
            rounds=db.session.scalars(
                select(EvaluationRound).where(EvaluationRound.township_id == township.id)
            ).all(),
            sources=list(RectificationSource),
            values=values,
            problems=problems,
        ), (400 if problems else 200)

    @expose("/handle/", methods=("GET", "POST"))
    def handle_view(self):
        item = self.get_one(str(request.values.get("id", type=int) or 0))
        problems: list[str] = []
        if request.method == "POST":
            try:
                if request.form.get("step") == "done":
                    services.mark_done(item, current_user, request.form.get("note", ""))
                else:
                    services.check_rectification(
                        item,
                        current_user,
                        request.form.get("step") == "accept",
                        request.form.get("note", ""),
                    )
            except services.EvaluationError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("Saved."), "success")
                return redirect(url_for(".handle_view", id=item.id), 303)
        db.session.refresh(item)
        return self.render(
            "evaluation/admin/rectification.html",
            item=item,
            may_report=item.status == RectificationStatus.open
            and (
                item.owner_id == current_user.id
                or can(current_user, services.RECORD, item.township_id)
            ),
            may_check=item.status == RectificationStatus.done
            and can(current_user, services.DECIDE, item.township_id)
            and item.owner_id != current_user.id,
            today=clock.today(item.township_id),
            trail=services.trail("rectification", item.id),
            action_label=services.action_label,
            problems=problems,
        ), (400 if problems else 200)


# ---------------------------------------------------------------------------
# Consequences
# ---------------------------------------------------------------------------


class ConsequencesView(TownshipBaseView):
    """A year's citizen satisfaction per cadre against the thresholds; the rule applied
    (warnings in force, suspensions proposed) and the leaders' decisions."""

    permission_read = READ

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township()
        year = _year(township)
        if request.method == "POST":
            if not can(current_user, services.MANAGE, township.id):
                abort(403)
            new = services.apply_rule(township, year)
            record_audit(
                "update",
                "EvaluationConsequence",
                None,
                township_id=township.id,
                after={"year": year, **new},
            )
            db.session.commit()
            flash(
                _(
                    "The rule was applied to %(year)d: %(w)d new warnings, "
                    "%(p)d suspensions proposed.",
                    year=year,
                    w=new["warnings"],
                    p=new["proposals"],
                ),
                "success",
            )
            return redirect(url_for(".index", township=township.id, year=year), 303)
        page = _page()
        users, total = services.staff_page(township.id, page, PAGE_SIZE)
        ids = [u.id for u in users]
        sats = services.year_satisfaction(township.id, year, ids)
        found = services.consequences(township.id, year, ids)
        limits = services.thresholds(township.id)
        rows = [
            {
                "user": u,
                "sat": sats.get(u.id) or services.Satisfaction(u.id),
                "verdict": services.verdict(sats.get(u.id), limits),
                "consequences": found.get(u.id, []),
            }
            for u in users
        ]
        return self.render(
            "evaluation/admin/consequences.html",
            township=township,
            townships=township_choices(self.township_ids(self.permission_read)),
            year=year,
            years=list(range(clock.today(township).year, services.earliest_date().year - 1, -1))[
                :10
            ],
            rows=rows,
            limits=limits,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            may_apply=can(current_user, services.MANAGE, township.id),
            ConsequenceKind=ConsequenceKind,
        )

    @expose("/decide", methods=("GET", "POST"))
    def decide(self):
        proposal = db.session.get(EvaluationConsequence, request.values.get("id", type=int) or 0)
        if proposal is None or proposal.township_id not in self.township_ids(self.permission_read):
            abort(404)
        problems: list[str] = []
        if request.method == "POST":
            try:
                services.decide_suspension(
                    proposal,
                    current_user,
                    request.form.get("decision") == "confirm",
                    request.form.get("note", ""),
                )
            except services.EvaluationError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("The decision was recorded."), "success")
                return redirect(url_for(".decide", id=proposal.id), 303)
        db.session.refresh(proposal)
        return self.render(
            "evaluation/admin/decide.html",
            proposal=proposal,
            may_decide=can(current_user, services.DECIDE, proposal.township_id)
            and proposal.user_id != current_user.id,
            trail=services.trail("consequence", proposal.id),
            action_label=services.action_label,
            problems=problems,
        ), (400 if problems else 200)


# ---------------------------------------------------------------------------
# The annual sheet
# ---------------------------------------------------------------------------


class SheetView(TownshipBaseView):
    """The annual sheet per cadre: on screen, printable (A4) and as XLSX for the township."""

    permission_read = READ

    @expose("/")
    def index(self):
        township = self.chosen_township()
        year = _year(township)
        page = _page()
        users, total = services.staff_page(township.id, page, PAGE_SIZE)
        sats = services.year_satisfaction(township.id, year, [u.id for u in users])
        return self.render(
            "evaluation/admin/sheets.html",
            township=township,
            townships=township_choices(self.township_ids(self.permission_read)),
            year=year,
            years=list(range(clock.today(township).year, services.earliest_date().year - 1, -1))[
                :10
            ],
            users=users,
            sats=sats,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
        )

    def _sheet(self):
        township = self.chosen_township()
        year = _year(township)
        user_id = request.args.get("user", type=int)
        if not services.is_staff(township.id, user_id):
            abort(404)
        return services.annual_sheet(township, db.session.get(User, user_id), year)

    @expose("/cadre")
    def cadre(self):
        return self.render("evaluation/admin/sheet.html", sheet=self._sheet(), printable=False)

    @expose("/print")
    def print_view(self):
        return self.render("evaluation/admin/sheet_print.html", sheet=self._sheet())

    @expose("/export.xlsx")
    def export(self):
        from plugins.evaluation.exports import township_year_xlsx

        township = self.chosen_township()
        year = _year(township)
        data = township_year_xlsx(township, year)
        return Response(
            data,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": (
                    f"attachment; filename=evaluation-{township.code}-{year}.xlsx"
                )
            },
        )


def admin_views():
    return [
        RatingView(EvaluationRating, name=_l("Citizen ratings"), endpoint="evaluation_ratings"),
        FollowUpView(
            EvaluationFollowUp, name=_l("Dissatisfied ratings"), endpoint="evaluation_follow_ups"
        ),
        RectificationView(
            EvaluationRectification, name=_l("Rectification"), endpoint="evaluation_rectifications"
        ),
        RoundView(EvaluationRound, name=_l("Evaluation rounds"), endpoint="evaluation_rounds"),
        CriterionView(
            EvaluationCriterion, name=_l("Evaluation form"), endpoint="evaluation_criteria"
        ),
        MarkingView(name=_l("Marking"), endpoint="evaluation_marking"),
        ResultsView(name=_l("Round results"), endpoint="evaluation_results"),
        ConsequencesView(name=_l("Consequences"), endpoint="evaluation_consequences"),
        SheetView(name=_l("Annual sheets"), endpoint="evaluation_sheet"),
    ]
