"""The evaluation rules (社会监督考评制度) as functions over ``db.session``.

* **Citizen satisfaction** (:func:`rate_case`): a closed case is rated once, under its
  receipt by the citizen or by staff after a phone call; a dissatisfied rating opens a
  follow-up for the handler's leader (:func:`follow_up_leaders`), who reopens the case
  through the core transition (:func:`reopen_from_follow_up`) or answers
  (:func:`answer_follow_up`).
* **Rounds** (:func:`open_round`, :func:`save_marks`, :func:`round_results`): leaders and
  peers mark cadres and units on the township's form; each rater's marks are kept; a
  cadre's figure is the mean of the leaders' totals and of the peers' totals, weighted by
  the policy ``evaluation.leader_weight``.
* **Rectification** (:func:`create_rectification`, :func:`mark_done`,
  :func:`check_rectification`): a plan with an owner and a deadline, checked by a leader.
* **Consequences** (:func:`apply_rule`, :func:`decide_suspension`, :func:`barred`): below
  the warning threshold a cadre is warned and barred from excellent, promotion and the
  reserve list that year; below the non-acceptance threshold the platform proposes a
  suspension and a leader decides. Every step lands in the trail (:func:`trail`).

Services commit (unless ``commit=False``, for durable tasks) and raise
:class:`EvaluationError` with every reason when they refuse: nothing is written then.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import clock
from core.access import can, users_with, visible_township_ids
from core.calendar import WorkingCalendar
from core.db import db, utcnow
from core.inbox import announce
from core.links import link
from core.models import Case, CaseStatus, Membership, OrgUnit, UnitKind, User
from core.policies import get_policy, policies_for
from plugins.evaluation import policy as P
from plugins.evaluation.models import (
    ConsequenceKind,
    ConsequenceStatus,
    EvaluationConsequence,
    EvaluationCriterion,
    EvaluationEvent,
    EvaluationFollowUp,
    EvaluationGrade,
    EvaluationMark,
    EvaluationRating,
    EvaluationRectification,
    EvaluationRound,
    FollowUpStatus,
    Grade,
    RaterGroup,
    RatingChannel,
    RatingLevel,
    RectificationSource,
    RectificationStatus,
    RoundStatus,
)

KEY = "evaluation"
READ = "evaluation.read"
RECORD = "evaluation.record"
FOLLOW_UP = "evaluation.follow_up"
DECIDE = "evaluation.decide"
MANAGE = "evaluation.manage"
MARK = "evaluation.mark"
AS_LEADER = "evaluation.rate_as_leader"

INBOX_FOLLOW_UP = "evaluation.follow_up"
INBOX_RECTIFY = "evaluation.rectification"
INBOX_CHECK = "evaluation.rectification_check"
INBOX_SUSPENSION = "evaluation.suspension"

COMMENT_MAX = 500
TEXT_MAX = 2000

#: the form of a new township's first round (the township changes it)
DEFAULT_CRITERIA = [
    ("服务态度", 25),
    ("工作效率", 25),
    ("办事质量", 25),
    ("廉洁自律", 25),
]


def action_label(code: str) -> str:
    labels = {
        "rated": _("Rated"),
        "follow_up_opened": _("Follow-up opened for the leader"),
        "answered": _("Answered by the leader"),
        "reopened": _("Case reopened by the leader"),
        "rectification_planned": _("Rectification planned"),
        "rectification_done": _("Rectification reported done"),
        "rectification_verified": _("Rectification checked and closed"),
        "rectification_sent_back": _("Rectification sent back"),
        "warned": _("Warned by the rule (below the warning threshold)"),
        "suspension_proposed": _(
            "Suspension proposed by the rule (below the non-acceptance threshold)"
        ),
        "suspension_confirmed": _("Suspension confirmed by a leader"),
        "suspension_rejected": _("Suspension not applied by a leader"),
        "graded": _("Graded"),
        "round_closed": _("Round closed"),
    }
    return labels.get(code, code)


class EvaluationError(ValueError):
    """A refused change; ``problems`` lists every reason (nothing was written)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


def _note(township_id: int, subject_type: str, subject_id: int, action: str, actor, note=""):
    db.session.add(
        EvaluationEvent(
            township_id=township_id,
            subject_type=subject_type,
            subject_id=subject_id,
            actor_id=actor.id if actor else None,
            action=action,
            note=note or "",
        )
    )


def trail(subject_type: str, subject_id: int) -> list[EvaluationEvent]:
    return list(
        db.session.scalars(
            select(EvaluationEvent)
            .where(
                EvaluationEvent.subject_type == subject_type,
                EvaluationEvent.subject_id == subject_id,
            )
            .order_by(EvaluationEvent.id)
        )
    )


def _in_default_locale():
    return force_locale(current_app.config["DEFAULT_LOCALE"])


def earliest_date() -> date:
    return date(int(current_app.config.get("EARLIEST_YEAR", 2000)), 1, 1)


# ---------------------------------------------------------------------------
# Staff of a township
# ---------------------------------------------------------------------------


def township_staff(township_id: int, user_ids: list[int] | None = None) -> list[User]:
    """Active users with a role in the township or one of its villages or stations (the
    cadres the institution evaluates), by name."""
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(OrgUnit.township_id == township_id, User.active.is_(True))
    )
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    return list(db.session.scalars(query.order_by(User.name, User.id).distinct()))


def staff_page(township_id: int, page: int, per_page: int) -> tuple[list[User], int]:
    """A page of the township's cadres and their number (two queries)."""
    ids = (
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(OrgUnit.township_id == township_id, User.active.is_(True))
        .distinct()
        .subquery()
    )
    total = db.session.scalar(select(func.count()).select_from(ids)) or 0
    users = db.session.scalars(
        select(User)
        .where(User.id.in_(select(ids.c.id)))
        .order_by(User.name, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(users), total


def is_staff(township_id: int, user_id: int | None) -> bool:
    if not user_id:
        return False
    return bool(
        db.session.scalar(
            select(Membership.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(Membership.user_id == user_id, OrgUnit.township_id == township_id)
            .limit(1)
        )
    )


def stations(township_id: int) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.station)
            .order_by(OrgUnit.name)
        )
    )


# ---------------------------------------------------------------------------
# Citizen satisfaction
# ---------------------------------------------------------------------------


def rating_of(case_id: int) -> EvaluationRating | None:
    return db.session.scalar(select(EvaluationRating).where(EvaluationRating.case_id == case_id))


def can_be_rated(case: Case) -> bool:
    return case.status == CaseStatus.closed


def follow_up_leaders(case: Case) -> tuple[User | None, list[User]]:
    """The leader in charge of the handler's department (a ``leader`` role held in the
    case's department), or else every leader of the township who follows up ratings;
    never the handler. Returns (the one assigned or None, everyone to tell)."""
    handler_id = case.handler_id or case.first_responder_id
    if case.department_id:
        in_charge = [
            u
            for u in db.session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.org_unit_id == case.department_id,
                    Membership.role == "leader",
                    User.active.is_(True),
                )
                .order_by(User.name, User.id)
            ).unique()
            if u.id != handler_id and can(u, FOLLOW_UP, case.township_id)
        ]
        if in_charge:
            return in_charge[0], in_charge[:1]
    leaders = [u for u in users_with(FOLLOW_UP, case.township_id) if u.id != handler_id]
    return None, leaders


def rate_case(
    case: Case,
    level: str | RatingLevel | None,
    comment: str = "",
    *,
    channel: RatingChannel = RatingChannel.receipt,
    recorded_by: User | None = None,
) -> EvaluationRating:
    """Record the one rating of a closed case; a dissatisfied one opens a follow-up for the
    handler's leader (in the inbox, announced). Commits.

    Refused: a case that is not closed, an unknown level, a comment longer than
    :data:`COMMENT_MAX`, a case rated before (also when two citizens post at once: the
    database's unique key decides), a phone follow-up by someone outside the township.
    """
    problems = []
    if not can_be_rated(case):
        problems.append(_("A case can be rated once it is closed."))
    try:
        level = RatingLevel(level)
    except ValueError:
        problems.append(_("Choose satisfied, basically satisfied or dissatisfied."))
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        problems.append(
            _("The comment is longer than %(n)d characters (%(m)d).", n=COMMENT_MAX, m=len(comment))
        )
    if channel == RatingChannel.phone and (
        recorded_by is None or case.township_id not in visible_township_ids(recorded_by)
    ):
        problems.append(_("Only the township's staff record phone follow-ups."))
    if rating_of(case.id) is not None:
        problems.append(_("This case has been rated already; a case is rated once."))
    if problems:
        raise EvaluationError(problems)
    today = clock.today(case.township_id)
    rating = EvaluationRating(
        township_id=case.township_id,
        case_id=case.id,
        receipt_no=case.receipt_no,
        staff_id=case.handler_id or case.first_responder_id,
        department_id=case.department_id,
        level=level,
        comment=comment,
        channel=channel,
        recorded_by_id=recorded_by.id if recorded_by else None,
        rated_on=today,
    )
    db.session.add(rating)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise EvaluationError(
            _("This case has been rated already; a case is rated once.")
        ) from None
    _note(case.township_id, "rating", rating.id, "rated", recorded_by)
    if level == RatingLevel.dissatisfied:
        _open_follow_up(case, rating, today)
    db.session.commit()
    return rating


def _open_follow_up(case: Case, rating: EvaluationRating, today: date) -> EvaluationFollowUp:
    assigned, tell = follow_up_leaders(case)
    days = int(get_policy(case.township_id, P.FOLLOW_UP_DAYS))
    due = WorkingCalendar.for_township(case.township_id).add_working_days(today, days).due
    follow_up = EvaluationFollowUp(
        township_id=case.township_id,
        rating_id=rating.id,
        case_id=case.id,
        leader_id=assigned.id if assigned else None,
        due_on=due,
    )
    db.session.add(follow_up)
    db.session.flush()
    _note(case.township_id, "follow_up", follow_up.id, "follow_up_opened", None)
    with _in_default_locale():
        title = _(
            "Dissatisfied rating: %(receipt)s %(title)s", receipt=case.receipt_no, title=case.title
        )
        body = _("Reopen the case or answer the citizen by %(due)s.", due=due.isoformat())
    announce(
        tell,
        INBOX_FOLLOW_UP,
        follow_up.id,
        title,
        body=body,
        township_id=case.township_id,
        link=link("evaluation_follow_ups.handle_view", id=follow_up.id),
    )
    return follow_up


def _check_leader(follow_up: EvaluationFollowUp, leader: User) -> None:
    if follow_up.status != FollowUpStatus.open:
        raise EvaluationError(_("This follow-up was decided already."))
    if not can(leader, FOLLOW_UP, follow_up.township_id):
        raise EvaluationError(_("Only a leader of the township follows up a rating."))
    handler = follow_up.case.handler_id or follow_up.case.first_responder_id
    if leader.id == handler:
        raise EvaluationError(_("The handler cannot follow up a rating of their own case."))


def answer_follow_up(
    follow_up: EvaluationFollowUp,
    leader: User,
    answer: str,
    rectification: RectificationInput | None = None,
) -> EvaluationFollowUp:
    """The leader answers the citizen (and may open a rectification plan at once). Commits."""
    _check_leader(follow_up, leader)
    answer = (answer or "").strip()
    problems = []
    if not answer:
        problems.append(_("Write the answer to the citizen."))
    elif len(answer) > TEXT_MAX:
        problems.append(_("The answer is longer than %(n)d characters.", n=TEXT_MAX))
    if rectification is not None:
        problems += check_rectification_input(follow_up.township_id, rectification)
    if problems:
        raise EvaluationError(problems)
    follow_up.status = FollowUpStatus.answered
    follow_up.answer = answer
    follow_up.decided_by_id = leader.id
    follow_up.decided_at = utcnow()
    _note(follow_up.township_id, "follow_up", follow_up.id, "answered", leader, answer)
    if rectification is not None:
        _add_rectification(follow_up.township_id, rectification, leader)
    db.session.commit()
    return follow_up


def reopen_from_follow_up(follow_up: EvaluationFollowUp, leader: User, reason: str) -> Case:
    """The leader reopens the case (the core's transition, with its own trail entry)."""
    from core.cases import CaseError, reopen_case

    _check_leader(follow_up, leader)
    reason = (reason or "").strip()
    if not reason:
        raise EvaluationError(_("Give a reason for reopening."))
    if len(reason) > TEXT_MAX:
        raise EvaluationError(_("The reason is longer than %(n)d characters.", n=TEXT_MAX))
    follow_up.status = FollowUpStatus.reopened
    follow_up.answer = reason
    follow_up.decided_by_id = leader.id
    follow_up.decided_at = utcnow()
    _note(follow_up.township_id, "follow_up", follow_up.id, "reopened", leader, reason)
    try:
        return reopen_case(follow_up.case, leader, reason)  # commits both
    except CaseError as exc:
        db.session.rollback()
        raise EvaluationError(str(exc)) from None


def case_reopened(case: Case) -> None:
    """The core reopened a case (by whatever way): an open follow-up of it is settled."""
    follow_up = db.session.scalar(
        select(EvaluationFollowUp).where(
            EvaluationFollowUp.case_id == case.id,
            EvaluationFollowUp.status == FollowUpStatus.open,
        )
    )
    if follow_up is None:
        return
    follow_up.status = FollowUpStatus.reopened
    follow_up.decided_at = utcnow()
    _note(case.township_id, "follow_up", follow_up.id, "reopened", None)
    db.session.commit()


# ---------------------------------------------------------------------------
# Rectification
# ---------------------------------------------------------------------------


@dataclass
class RectificationInput:
    problem: str
    plan: str
    owner_id: int | None
    deadline: date | None
    source: RectificationSource = RectificationSource.other
    rating_id: int | None = None
    round_id: int | None = None
    subject_user_id: int | None = None
    subject_unit_id: int | None = None


def check_rectification_input(township_id: int, data: RectificationInput) -> list[str]:
    problems = []
    for value, missing, too_long in (
        (
            data.problem,
            _("Describe the problem."),
            _("The problem is longer than 2000 characters."),
        ),
        (
            data.plan,
            _("Write the rectification plan."),
            _("The plan is longer than 2000 characters."),
        ),
    ):
        text = (value or "").strip()
        if not text:
            problems.append(missing)
        elif len(text) > TEXT_MAX:
            problems.append(too_long)
    if not is_staff(township_id, data.owner_id):
        problems.append(_("Choose an owner who works for the township."))
    today = clock.today(township_id)
    if data.deadline is None:
        problems.append(_("Set a deadline."))
    elif data.deadline < today:
        problems.append(_("The deadline cannot be in the past."))
    elif data.deadline.year > today.year + 5:
        problems.append(_("The deadline is more than five years ahead."))
    if data.subject_user_id and not is_staff(township_id, data.subject_user_id):
        problems.append(_("The cadre concerned does not work for the township."))
    if data.subject_unit_id and data.subject_unit_id not in {u.id for u in stations(township_id)}:
        problems.append(_("The unit concerned must be a station or office of the township."))
    return problems


def _add_rectification(township_id: int, data: RectificationInput, by: User | None):
    item = EvaluationRectification(
        township_id=township_id,
        source=data.source,
        rating_id=data.rating_id,
        round_id=data.round_id,
        subject_user_id=data.subject_user_id,
        subject_unit_id=data.subject_unit_id,
        problem=data.problem.strip(),
        plan=data.plan.strip(),
        owner_id=data.owner_id,
        deadline=data.deadline,
        created_by_id=by.id if by else None,
    )
    db.session.add(item)
    db.session.flush()
    _note(township_id, "rectification", item.id, "rectification_planned", by, item.plan)
    owner = db.session.get(User, data.owner_id)
    with _in_default_locale():
        title = _("Rectification to carry out by %(due)s", due=data.deadline.isoformat())
    announce(
        [owner],
        INBOX_RECTIFY,
        item.id,
        title,
        body=item.problem,
        township_id=township_id,
        link=link("evaluation_rectifications.handle_view", id=item.id),
    )
    return item


def create_rectification(
    township: OrgUnit, data: RectificationInput, by: User
) -> EvaluationRectification:
    problems = check_rectification_input(township.id, data)
    if problems:
        raise EvaluationError(problems)
    item = _add_rectification(township.id, data, by)
    db.session.commit()
    return item


def mark_done(item: EvaluationRectification, by: User, note: str) -> EvaluationRectification:
    """The owner (or an officer) reports the rectification done; leaders are asked to check."""
    if item.status != RectificationStatus.open:
        raise EvaluationError(_("Only a rectification being carried out can be reported done."))
    if by.id != item.owner_id and not can(by, RECORD, item.township_id):
        raise EvaluationError(_("Only the owner reports the rectification done."))
    note = (note or "").strip()
    if not note:
        raise EvaluationError(_("Say what was done."))
    if len(note) > TEXT_MAX:
        raise EvaluationError(_("The note is longer than %(n)d characters.", n=TEXT_MAX))
    item.status = RectificationStatus.done
    item.done_at = utcnow()
    item.done_note = note
    _note(item.township_id, "rectification", item.id, "rectification_done", by, note)
    with _in_default_locale():
        title = _("Rectification to check: %(problem)s", problem=item.problem[:60])
    announce(
        [u for u in users_with(DECIDE, item.township_id) if u.id != item.owner_id],
        f"{INBOX_CHECK}",
        item.id,
        title,
        body=note,
        township_id=item.township_id,
        link=link("evaluation_rectifications.handle_view", id=item.id),
    )
    db.session.commit()
    return item


def check_rectification(
    item: EvaluationRectification, by: User, accepted: bool, note: str
) -> EvaluationRectification:
    """A leader checks: accepted closes it (and hands it to the archive), otherwise it goes
    back to the owner with the reason."""
    if item.status != RectificationStatus.done:
        raise EvaluationError(_("Only a rectification reported done can be checked."))
    if not can(by, DECIDE, item.township_id):
        raise EvaluationError(_("Only a leader checks a rectification."))
    if by.id == item.owner_id:
        raise EvaluationError(_("The owner cannot check their own rectification."))
    note = (note or "").strip()
    if not accepted and not note:
        raise EvaluationError(_("Say why the rectification is sent back."))
    if len(note) > TEXT_MAX:
        raise EvaluationError(_("The note is longer than %(n)d characters.", n=TEXT_MAX))
    item.checked_by_id = by.id
    item.checked_at = utcnow()
    item.check_note = note
    if accepted:
        item.status = RectificationStatus.verified
        _note(item.township_id, "rectification", item.id, "rectification_verified", by, note)
        _archive_rectification(item)
    else:
        item.status = RectificationStatus.open
        _note(item.township_id, "rectification", item.id, "rectification_sent_back", by, note)
    db.session.commit()
    return item


def _archive_rectification(item: EvaluationRectification) -> None:
    from markupsafe import escape

    from core.contract import ArchivalRecord
    from core.records import in_product_language, produce

    township = db.session.get(OrgUnit, item.township_id)
    rows = [
        ("问题 Problem", item.problem),
        ("整改方案 Plan", item.plan),
        ("责任人 Owner", item.owner.name),
        ("期限 Deadline", item.deadline.isoformat()),
        ("整改情况 Done", item.done_note),
        ("验收意见 Check", item.check_note),
    ]
    content = "".join(f"<tr><th>{escape(a)}</th><td>{escape(b)}</td></tr>" for a, b in rows)
    produce(
        township,
        ArchivalRecord(
            source=KEY,
            reference=f"rectification:{item.id}",
            kind="evaluation:rectification",
            title=f"整改：{item.problem[:80]}",
            produced_at=item.checked_at or utcnow(),
            summary=item.plan[:200],
            responsible=item.owner.name,
            retention_hint="10y",
            content=f"<table class='record'>{content}</table>",
            trail=tuple(
                {
                    "at": e.at.isoformat(),
                    "who": e.actor.name if e.actor else "",
                    "what": in_product_language(lambda e=e: action_label(e.action)),
                    "note": e.note,
                }
                for e in trail("rectification", item.id)
            ),
        ),
    )


# ---------------------------------------------------------------------------
# Evaluation rounds
# ---------------------------------------------------------------------------


def check_round(name: str, year: int | None, starts_on, ends_on, today: date) -> list[str]:
    problems = []
    if not (name or "").strip():
        problems.append(_("Name the round."))
    elif len(name.strip()) > 120:
        problems.append(_("The name is longer than 120 characters."))
    if year is None or not earliest_date().year <= year <= today.year + 1:
        problems.append(
            _(
                "The year must lie between %(a)d and %(b)d.",
                a=earliest_date().year,
                b=today.year + 1,
            )
        )
    if starts_on is None or ends_on is None:
        problems.append(_("Give the first and the last day of marking."))
    elif ends_on < starts_on:
        problems.append(_("The last day of marking must not be before the first."))
    elif starts_on < earliest_date():
        problems.append(_("The first day is before %(year)d.", year=earliest_date().year))
    return problems


def copy_criteria(round_: EvaluationRound) -> None:
    """The township's form: the criteria of its latest other round, or the defaults."""
    previous = db.session.scalar(
        select(EvaluationRound.id)
        .where(EvaluationRound.township_id == round_.township_id, EvaluationRound.id != round_.id)
        .order_by(EvaluationRound.id.desc())
        .limit(1)
    )
    rows = (
        [
            (c.name, c.max_score)
            for c in db.session.scalars(
                select(EvaluationCriterion)
                .where(EvaluationCriterion.round_id == previous)
                .order_by(EvaluationCriterion.position, EvaluationCriterion.id)
            )
        ]
        if previous
        else []
    ) or DEFAULT_CRITERIA
    for n, (name, max_score) in enumerate(rows, 1):
        db.session.add(
            EvaluationCriterion(
                township_id=round_.township_id,
                round_id=round_.id,
                name=name,
                max_score=max_score,
                position=n,
            )
        )


def open_round(
    township: OrgUnit, name: str, year: int, starts_on: date, ends_on: date
) -> EvaluationRound:
    problems = check_round(name, year, starts_on, ends_on, clock.today(township))
    if problems:
        raise EvaluationError(problems)
    round_ = EvaluationRound(
        township_id=township.id,
        name=name.strip(),
        year=year,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(round_)
    db.session.flush()
    copy_criteria(round_)
    db.session.commit()
    return round_


def criteria(round_id: int) -> list[EvaluationCriterion]:
    return list(
        db.session.scalars(
            select(EvaluationCriterion)
            .where(EvaluationCriterion.round_id == round_id)
            .order_by(EvaluationCriterion.position, EvaluationCriterion.id)
        )
    )


def has_marks(round_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(EvaluationMark.id).where(EvaluationMark.round_id == round_id).limit(1)
        )
    )


@dataclass(frozen=True)
class Subject:
    """A cadre (``user:<id>``) or a unit (``unit:<id>``) marked in a round."""

    key: str
    name: str
    user_id: int | None = None
    unit_id: int | None = None


def subjects(township_id: int) -> list[Subject]:
    """The cadres, then the stations, of the township (two queries)."""
    people = [Subject(f"user:{u.id}", u.name, user_id=u.id) for u in township_staff(township_id)]
    units = [Subject(f"unit:{s.id}", s.name, unit_id=s.id) for s in stations(township_id)]
    return people + units


def subject_of(township_id: int, key: str) -> Subject | None:
    kind, _sep, raw = (key or "").partition(":")
    if not raw.isdecimal():
        return None
    if kind == "user" and is_staff(township_id, int(raw)):
        user = db.session.get(User, int(raw))
        return Subject(key, user.name, user_id=user.id)
    if kind == "unit":
        unit = db.session.get(OrgUnit, int(raw))
        if unit is not None and unit.township_id == township_id and unit.kind == UnitKind.station:
            return Subject(key, unit.name, unit_id=unit.id)
    return None


def rater_group(rater: User, township_id: int) -> RaterGroup:
    return RaterGroup.leader if can(rater, AS_LEADER, township_id) else RaterGroup.peer


def save_marks(
    round_: EvaluationRound, rater: User, subject: Subject, scores: dict[int, str]
) -> int:
    """One rater's marks for one subject, every criterion at once (replacing the rater's
    earlier marks for it); all or nothing. Commits; returns the total."""
    problems = []
    if round_.status != RoundStatus.open:
        problems.append(_("The round is closed; marks can no longer change."))
    if not can(rater, MARK, round_.township_id):
        problems.append(_("You may not mark in this township's rounds."))
    if subject.user_id == rater.id:
        problems.append(_("Nobody marks themselves."))
    values: dict[int, int] = {}
    for criterion in criteria(round_.id):
        raw = str(scores.get(criterion.id, "")).strip()
        if not raw:
            problems.append(_("Give marks for “%(name)s”.", name=criterion.name))
            continue
        try:
            value = int(raw)
        except ValueError:
            problems.append(
                _("“%(name)s”: %(raw)s is not a whole number.", name=criterion.name, raw=raw[:20])
            )
            continue
        if not 0 <= value <= criterion.max_score:
            problems.append(
                _(
                    "“%(name)s”: marks go from 0 to %(max)d.",
                    name=criterion.name,
                    max=criterion.max_score,
                )
            )
            continue
        values[criterion.id] = value
    if problems:
        raise EvaluationError(problems)
    group = rater_group(rater, round_.township_id)
    db.session.execute(
        EvaluationMark.__table__.delete().where(
            EvaluationMark.round_id == round_.id,
            EvaluationMark.rater_id == rater.id,
            EvaluationMark.subject_key == subject.key,
        )
    )
    for criterion_id, value in values.items():
        db.session.add(
            EvaluationMark(
                township_id=round_.township_id,
                round_id=round_.id,
                criterion_id=criterion_id,
                rater_id=rater.id,
                rater_group=group,
                subject_key=subject.key,
                subject_user_id=subject.user_id,
                subject_unit_id=subject.unit_id,
                score=value,
            )
        )
    db.session.commit()
    return sum(values.values())


def marked_by(round_id: int, rater_id: int) -> dict[str, int]:
    """The subjects a rater marked in a round, with the total given (one query)."""
    return {
        key: int(total)
        for key, total in db.session.execute(
            select(EvaluationMark.subject_key, func.sum(EvaluationMark.score))
            .where(EvaluationMark.round_id == round_id, EvaluationMark.rater_id == rater_id)
            .group_by(EvaluationMark.subject_key)
        )
    }


def own_marks(round_id: int, rater_id: int, subject_key: str) -> dict[int, int]:
    return {
        cid: score
        for cid, score in db.session.execute(
            select(EvaluationMark.criterion_id, EvaluationMark.score).where(
                EvaluationMark.round_id == round_id,
                EvaluationMark.rater_id == rater_id,
                EvaluationMark.subject_key == subject_key,
            )
        )
    }


@dataclass
class SubjectResult:
    key: str
    leaders: int = 0
    peers: int = 0
    leader_average: float | None = None
    peer_average: float | None = None
    combined: float | None = None


def round_results(
    round_: EvaluationRound, keys: list[str] | None = None
) -> dict[str, SubjectResult]:
    """Per subject: how many leaders and peers marked, the mean of their totals, and the
    combined figure (leaders' mean × weight + peers' mean × the rest; one group alone
    counts fully). One grouped query."""
    weight = float(get_policy(round_.township_id, P.LEADER_WEIGHT)) / 100
    query = (
        select(
            EvaluationMark.subject_key,
            EvaluationMark.rater_group,
            EvaluationMark.rater_id,
            func.sum(EvaluationMark.score),
        )
        .where(EvaluationMark.round_id == round_.id)
        .group_by(EvaluationMark.subject_key, EvaluationMark.rater_group, EvaluationMark.rater_id)
    )
    if keys is not None:
        query = query.where(EvaluationMark.subject_key.in_(keys))
    totals: dict[str, dict[RaterGroup, list[int]]] = defaultdict(lambda: defaultdict(list))
    for key, group, _rater, total in db.session.execute(query):
        totals[key][RaterGroup(group)].append(int(total))
    results = {}
    for key, groups in totals.items():
        leaders = groups.get(RaterGroup.leader, [])
        peers = groups.get(RaterGroup.peer, [])
        result = SubjectResult(key, leaders=len(leaders), peers=len(peers))
        if leaders:
            result.leader_average = round(sum(leaders) / len(leaders), 1)
        if peers:
            result.peer_average = round(sum(peers) / len(peers), 1)
        if leaders and peers:
            result.combined = round(
                weight * result.leader_average + (1 - weight) * result.peer_average, 1
            )
        else:
            result.combined = result.leader_average if leaders else result.peer_average
        results[key] = result
    return results


def max_total(round_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(EvaluationCriterion.max_score), 0)).where(
                EvaluationCriterion.round_id == round_id
            )
        )
        or 0
    )


def grades(round_id: int) -> dict[int, EvaluationGrade]:
    return {
        g.user_id: g
        for g in db.session.scalars(
            select(EvaluationGrade).where(EvaluationGrade.round_id == round_id)
        )
    }


def set_grade(
    round_: EvaluationRound, user_id: int, grade: str | Grade, by: User, note: str = ""
) -> EvaluationGrade:
    """A leader grades a cadre in a round. "Excellent" is refused for a cadre the rule barred
    that year (a warning in force or a suspension confirmed). Commits."""
    problems = []
    if not can(by, DECIDE, round_.township_id):
        problems.append(_("Only a leader grades cadres."))
    try:
        grade = Grade(grade)
    except ValueError:
        problems.append(_("Choose a grade."))
    if not is_staff(round_.township_id, user_id):
        problems.append(_("The cadre does not work for the township."))
    elif grade == Grade.excellent and barred(round_.township_id, user_id, round_.year):
        name = db.session.get(User, user_id).name
        problems.append(
            _(
                "%(name)s was warned for low citizen satisfaction in %(year)d and may not be "
                "rated excellent, promoted or listed as reserve that year.",
                name=name,
                year=round_.year,
            )
        )
    if len((note or "").strip()) > TEXT_MAX:
        problems.append(_("The note is longer than %(n)d characters.", n=TEXT_MAX))
    if problems:
        raise EvaluationError(problems)
    row = db.session.scalar(
        select(EvaluationGrade).where(
            EvaluationGrade.round_id == round_.id, EvaluationGrade.user_id == user_id
        )
    )
    if row is None:
        row = EvaluationGrade(township_id=round_.township_id, round_id=round_.id, user_id=user_id)
        db.session.add(row)
    row.grade = grade
    row.note = (note or "").strip()
    row.decided_by_id = by.id
    row.decided_at = utcnow()
    db.session.flush()
    with _in_default_locale():
        label = grade.label
    _note(round_.township_id, "grade", row.id, "graded", by, f"{label} {row.note}".strip())
    db.session.commit()
    return row


def close_round(round_: EvaluationRound, by: User) -> EvaluationRound:
    """Close marking and hand the results to the archive. Commits."""
    from markupsafe import escape

    from core.contract import ArchivalRecord
    from core.records import produce

    if round_.status != RoundStatus.open:
        raise EvaluationError(_("The round is closed already."))
    if not can(by, MANAGE, round_.township_id):
        raise EvaluationError(_("You may not close this round."))
    round_.status = RoundStatus.closed
    round_.closed_at = utcnow()
    _note(round_.township_id, "round", round_.id, "round_closed", by)
    results = round_results(round_)
    names = {s.key: s.name for s in subjects(round_.township_id)}
    rows = "".join(
        f"<tr><td>{escape(names.get(key, key))}</td><td>{r.leader_average or ''}</td>"
        f"<td>{r.peer_average or ''}</td><td>{r.combined or ''}</td></tr>"
        for key, r in sorted(results.items(), key=lambda kv: names.get(kv[0], kv[0]))
    )
    produce(
        db.session.get(OrgUnit, round_.township_id),
        ArchivalRecord(
            source=KEY,
            reference=f"round:{round_.id}",
            kind="evaluation:round",
            title=f"考评结果：{round_.name}",
            produced_at=round_.closed_at,
            summary=f"{round_.year}",
            responsible=db.session.get(OrgUnit, round_.township_id).name,
            retention_hint="30y",
            content=(
                "<table class='record'><tr><th>对象</th><th>领导评分</th><th>同事评分</th>"
                f"<th>综合</th></tr>{rows}</table>"
            ),
        ),
    )
    db.session.commit()
    return round_


# ---------------------------------------------------------------------------
# Satisfaction and consequences
# ---------------------------------------------------------------------------


@dataclass
class Satisfaction:
    user_id: int
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0

    @property
    def total(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def share(self) -> float | None:
        """Satisfied and basically satisfied, in % of all ratings (None without ratings)."""
        if not self.total:
            return None
        return round(100 * (self.satisfied + self.basically_satisfied) / self.total, 1)

    @property
    def exact_share(self) -> float | None:
        if not self.total:
            return None
        return 100 * (self.satisfied + self.basically_satisfied) / self.total


def year_satisfaction(
    township_id: int, year: int, user_ids: list[int] | None = None
) -> dict[int, Satisfaction]:
    """Each staff member's ratings in the township's calendar year, by level (one query)."""

    def count(level: RatingLevel):
        return func.sum(case((EvaluationRating.level == level, 1), else_=0))

    query = (
        select(
            EvaluationRating.staff_id,
            count(RatingLevel.satisfied),
            count(RatingLevel.basically_satisfied),
            count(RatingLevel.dissatisfied),
        )
        .where(
            EvaluationRating.township_id == township_id,
            EvaluationRating.staff_id.is_not(None),
            EvaluationRating.rated_on >= date(year, 1, 1),
            EvaluationRating.rated_on <= date(year, 12, 31),
        )
        .group_by(EvaluationRating.staff_id)
    )
    if user_ids is not None:
        query = query.where(EvaluationRating.staff_id.in_(user_ids))
    return {
        uid: Satisfaction(uid, int(s or 0), int(b or 0), int(d or 0))
        for uid, s, b, d in db.session.execute(query)
    }


def township_satisfaction(years: dict[int, int]) -> dict[int, Satisfaction]:
    """Per township (``{township id: a year}``): its staff's ratings in that calendar year,
    by level, all staff together (one query whatever the number of townships)."""
    out = {tid: Satisfaction(0) for tid in years}
    if not out:
        return out

    def count(level: RatingLevel):
        return func.sum(case((EvaluationRating.level == level, 1), else_=0))

    by_year: dict[int, list[int]] = {}
    for tid, year in years.items():
        by_year.setdefault(year, []).append(tid)
    for tid, s, b, d in db.session.execute(
        select(
            EvaluationRating.township_id,
            count(RatingLevel.satisfied),
            count(RatingLevel.basically_satisfied),
            count(RatingLevel.dissatisfied),
        )
        .where(
            EvaluationRating.staff_id.is_not(None),
            or_(
                *(
                    and_(
                        EvaluationRating.township_id.in_(ids),
                        EvaluationRating.rated_on >= date(year, 1, 1),
                        EvaluationRating.rated_on <= date(year, 12, 31),
                    )
                    for year, ids in by_year.items()
                )
            ),
        )
        .group_by(EvaluationRating.township_id)
    ):
        out[tid] = Satisfaction(0, int(s or 0), int(b or 0), int(d or 0))
    return out


@dataclass
class Thresholds:
    warning: float
    non_acceptance: float
    minimum: int


def thresholds(township_id: int) -> Thresholds:
    values = policies_for(township_id)
    return Thresholds(
        float(values[P.WARNING]), float(values[P.NON_ACCEPTANCE]), int(values[P.MINIMUM_RATINGS])
    )


def verdict(sat: Satisfaction | None, limits: Thresholds) -> str:
    """``warning``, ``suspension``, ``fine`` or ``too_few`` (ratings below the minimum)."""
    if sat is None or sat.total < limits.minimum:
        return "too_few"
    share = sat.exact_share
    if share < limits.non_acceptance:
        return "suspension"
    if share < limits.warning:
        return "warning"
    return "fine"


def apply_rule(township: OrgUnit, year: int, *, commit: bool = True) -> dict[str, int]:
    """Apply the consequences of ``year``'s citizen satisfaction (idempotent).

    Below the warning threshold: a warning in force (barred from excellent, promotion and
    the reserve list that year). Below the non-acceptance threshold: the warning, and a
    suspension *proposed* to the township's leaders, who decide. Each new consequence is
    a trail entry by the platform. Returns how many warnings and proposals were new.
    """
    limits = thresholds(township.id)
    existing = {
        (c.user_id, c.kind): c
        for c in db.session.scalars(
            select(EvaluationConsequence).where(
                EvaluationConsequence.township_id == township.id,
                EvaluationConsequence.year == year,
            )
        )
    }
    new = {"warnings": 0, "proposals": 0}
    for uid, sat in sorted(year_satisfaction(township.id, year).items()):
        outcome = verdict(sat, limits)
        if outcome not in ("warning", "suspension"):
            continue
        if (uid, ConsequenceKind.warning) not in existing:
            warning = EvaluationConsequence(
                township_id=township.id,
                user_id=uid,
                year=year,
                kind=ConsequenceKind.warning,
                status=ConsequenceStatus.in_force,
                share=sat.share,
                ratings=sat.total,
                threshold=limits.warning,
            )
            db.session.add(warning)
            db.session.flush()
            _note(township.id, "consequence", warning.id, "warned", None, f"{sat.share}%")
            new["warnings"] += 1
        if outcome == "suspension" and (uid, ConsequenceKind.suspension) not in existing:
            proposal = EvaluationConsequence(
                township_id=township.id,
                user_id=uid,
                year=year,
                kind=ConsequenceKind.suspension,
                status=ConsequenceStatus.proposed,
                share=sat.share,
                ratings=sat.total,
                threshold=limits.non_acceptance,
            )
            db.session.add(proposal)
            db.session.flush()
            _note(
                township.id,
                "consequence",
                proposal.id,
                "suspension_proposed",
                None,
                f"{sat.share}%",
            )
            new["proposals"] += 1
            user = db.session.get(User, uid)
            with _in_default_locale():
                title = _(
                    "Suspension proposed for %(name)s (%(year)d satisfaction %(share)s%%)",
                    name=user.name,
                    year=year,
                    share=sat.share,
                )
            announce(
                [u for u in users_with(DECIDE, township.id) if u.id != uid],
                INBOX_SUSPENSION,
                proposal.id,
                title,
                township_id=township.id,
                link=link("evaluation_consequences.decide", id=proposal.id),
            )
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return new


def decide_suspension(
    proposal: EvaluationConsequence, leader: User, confirm: bool, note: str
) -> EvaluationConsequence:
    """A leader decides on a proposed suspension; the decision and its reason go into the
    trail. Commits."""
    problems = []
    if proposal.kind != ConsequenceKind.suspension or proposal.status != ConsequenceStatus.proposed:
        problems.append(_("Only a proposed suspension waits for a decision."))
    if not can(leader, DECIDE, proposal.township_id):
        problems.append(_("Only a leader of the township decides."))
    if leader.id == proposal.user_id:
        problems.append(_("Nobody decides about themselves."))
    note = (note or "").strip()
    if not note:
        problems.append(_("Give the reason for the decision."))
    elif len(note) > TEXT_MAX:
        problems.append(_("The reason is longer than %(n)d characters.", n=TEXT_MAX))
    if problems:
        raise EvaluationError(problems)
    proposal.status = ConsequenceStatus.confirmed if confirm else ConsequenceStatus.rejected
    proposal.decided_by_id = leader.id
    proposal.decided_at = utcnow()
    proposal.note = note
    _note(
        proposal.township_id,
        "consequence",
        proposal.id,
        "suspension_confirmed" if confirm else "suspension_rejected",
        leader,
        note,
    )
    db.session.commit()
    return proposal


def consequences(township_id: int, year: int, user_ids: list[int] | None = None):
    query = select(EvaluationConsequence).where(
        EvaluationConsequence.township_id == township_id, EvaluationConsequence.year == year
    )
    if user_ids is not None:
        query = query.where(EvaluationConsequence.user_id.in_(user_ids))
    out: dict[int, list[EvaluationConsequence]] = defaultdict(list)
    for row in db.session.scalars(query.order_by(EvaluationConsequence.id)):
        out[row.user_id].append(row)
    return out


def barred(township_id: int, user_id: int, year: int) -> bool:
    """Whether the rule bars the cadre from excellent, promotion and the reserve list in
    ``year``: a warning in force, or a confirmed suspension."""
    return bool(
        db.session.scalar(
            select(EvaluationConsequence.id).where(
                EvaluationConsequence.township_id == township_id,
                EvaluationConsequence.user_id == user_id,
                EvaluationConsequence.year == year,
                EvaluationConsequence.status.in_(
                    (ConsequenceStatus.in_force, ConsequenceStatus.confirmed)
                ),
            )
        )
    )


def record_year_end(today: date | None = None) -> int:
    """The year-end job's work: one durable task per township that enabled the
    institution, applying the rule to the year just ended (keyed, so once)."""
    from core.institutions import townships_enabling
    from core.tasks import enqueue

    recorded = 0
    for township_id in sorted(townships_enabling(KEY)):
        day = today or clock.today(township_id)
        year = day.year - 1
        enqueue(
            "evaluation.apply_rule",
            f"evaluation-rule:{township_id}:{year}",
            township_id=township_id,
            year=year,
        )
        recorded += 1
    db.session.commit()
    return recorded


# ---------------------------------------------------------------------------
# The annual sheet
# ---------------------------------------------------------------------------


@dataclass
class RoundLine:
    round: EvaluationRound
    result: SubjectResult | None
    max_total: int
    grade: EvaluationGrade | None


@dataclass
class AnnualSheet:
    township: OrgUnit
    user: User
    year: int
    satisfaction: Satisfaction
    limits: Thresholds
    verdict: str
    barred: bool
    consequences: list[EvaluationConsequence]
    rounds: list[RoundLine]
    rectifications: list[EvaluationRectification]
    #: figures other institutions offer through ``township_person_year_figures``
    figures: list = field(default_factory=list)


def annual_sheet(township: OrgUnit, user: User, year: int) -> AnnualSheet:
    """Everything the year says about a cadre: satisfaction and its consequences, round
    marks and grades, rectifications, and the figures the township's other enabled
    institutions offer for the person and year (through the core hook)."""
    from core.people import year_figures

    sat = year_satisfaction(township.id, year, [user.id]).get(user.id) or Satisfaction(user.id)
    limits = thresholds(township.id)
    rounds = list(
        db.session.scalars(
            select(EvaluationRound)
            .where(EvaluationRound.township_id == township.id, EvaluationRound.year == year)
            .order_by(EvaluationRound.starts_on, EvaluationRound.id)
        )
    )
    key = f"user:{user.id}"
    lines = [
        RoundLine(r, round_results(r, [key]).get(key), max_total(r.id), grades(r.id).get(user.id))
        for r in rounds
    ]
    rectifications = list(
        db.session.scalars(
            select(EvaluationRectification)
            .where(
                EvaluationRectification.township_id == township.id,
                EvaluationRectification.subject_user_id == user.id,
                EvaluationRectification.deadline >= date(year, 1, 1),
                EvaluationRectification.created_at.is_not(None),
            )
            .where(
                (EvaluationRectification.deadline <= date(year, 12, 31))
                | (EvaluationRectification.status != RectificationStatus.verified)
            )
            .order_by(EvaluationRectification.deadline)
        )
    )
    others = [
        f
        for f in year_figures(township, year, [user.id]).get(user.id, [])
        if not f.key.startswith(f"{KEY}.")
    ]
    return AnnualSheet(
        township=township,
        user=user,
        year=year,
        satisfaction=sat,
        limits=limits,
        verdict=verdict(sat, limits),
        barred=barred(township.id, user.id, year),
        consequences=consequences(township.id, year, [user.id]).get(user.id, []),
        rounds=lines,
        rectifications=rectifications,
        figures=sorted(others, key=lambda f: f.key),
    )


def person_year_figures(township: OrgUnit, year: int, user_ids: list[int] | None):
    """What the institution offers other institutions per person and year: citizen
    satisfaction (target: the warning threshold) and the number of ratings."""
    from core.contract import PersonYearFigure

    limits = thresholds(township.id)
    sats = year_satisfaction(township.id, year, user_ids)
    ids = user_ids if user_ids is not None else sorted(sats)
    out = []
    for uid in ids:
        sat = sats.get(uid) or Satisfaction(uid)
        share = sat.share
        out.append(
            PersonYearFigure(
                "evaluation.satisfaction",
                "群众满意率",
                "Citizen satisfaction",
                user_id=uid,
                year=year,
                value=f"{share:g}%" if share is not None else None,
                target=f"{limits.warning:g}%",
                met=None if share is None else sat.exact_share >= limits.warning,
                note=f"{sat.total}",
            )
        )
        out.append(
            PersonYearFigure(
                "evaluation.ratings",
                "群众评价数",
                "Citizen ratings",
                user_id=uid,
                year=year,
                value=sat.total,
            )
        )
    return out
