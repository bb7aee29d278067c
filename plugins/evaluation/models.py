"""社会监督考评制度: citizens' ratings, leaders' follow-ups, evaluation rounds, rectification,
consequences, and the append-only trail of every decision."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, OrgUnit, User


def _enum(cls, length: int = 24):
    return Enum(cls, native_enum=False, length=length)


class RatingLevel(LabelledEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"

    @classmethod
    def labels(cls):
        return {
            cls.satisfied: _l("Satisfied"),
            cls.basically_satisfied: _l("Basically satisfied"),
            cls.dissatisfied: _l("Dissatisfied"),
        }


class RatingChannel(LabelledEnum):
    receipt = "receipt"  # the citizen, under the receipt on the public lookup
    phone = "phone"  # staff called the citizen back (电话回访)

    @classmethod
    def labels(cls):
        return {
            cls.receipt: _l("Citizen, under the receipt"),
            cls.phone: _l("Phone follow-up by staff"),
        }


class EvaluationRating(db.Model):
    """A citizen's rating of a closed case: one per case (the database refuses a second)."""

    __tablename__ = "evaluation_rating"
    __table_args__ = (
        UniqueConstraint("case_id"),
        Index("ix_evaluation_rating_township_staff_day", "township_id", "staff_id", "rated_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"))
    receipt_no: Mapped[str] = mapped_column(String(40), index=True)
    #: the staff member who served (the case's handler, else its first responder)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"))
    level: Mapped[RatingLevel] = mapped_column(_enum(RatingLevel), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[RatingChannel] = mapped_column(_enum(RatingChannel, 16), index=True)
    #: the staff member who recorded a phone follow-up
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    #: the township's date of the rating (its calendar year counts for consequences)
    rated_on: Mapped[date] = mapped_column(index=True)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    staff: Mapped[User | None] = relationship(foreign_keys=[staff_id], lazy="joined")
    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    def __str__(self) -> str:
        return f"{self.receipt_no} {self.level.label}"


class FollowUpStatus(LabelledEnum):
    open = "open"
    answered = "answered"
    reopened = "reopened"

    @classmethod
    def labels(cls):
        return {
            cls.open: _l("Waiting for the leader"),
            cls.answered: _l("Answered"),
            cls.reopened: _l("Case reopened"),
        }


class EvaluationFollowUp(db.Model):
    """A dissatisfied rating waits for the handler's leader: reopen the case or answer."""

    __tablename__ = "evaluation_follow_up"
    __table_args__ = (UniqueConstraint("rating_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rating.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("core_case.id"), index=True)
    #: the leader in charge of the handler's department; None = any leader of the township
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    status: Mapped[FollowUpStatus] = mapped_column(
        _enum(FollowUpStatus, 16), default=FollowUpStatus.open, index=True
    )
    due_on: Mapped[date | None]
    answer: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rating: Mapped[EvaluationRating] = relationship(lazy="joined")
    case: Mapped[Case] = relationship(lazy="joined")
    leader: Mapped[User | None] = relationship(foreign_keys=[leader_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        return f"{self.case.receipt_no} {self.case.title}"


# ---------------------------------------------------------------------------
# Evaluation rounds
# ---------------------------------------------------------------------------


class RoundStatus(LabelledEnum):
    open = "open"
    closed = "closed"

    @classmethod
    def labels(cls):
        return {cls.open: _l("Open for marking"), cls.closed: _l("Marking closed")}


class EvaluationRound(db.Model):
    """A round in which leaders and peers rate cadres and units (default: once a year)."""

    __tablename__ = "evaluation_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    year: Mapped[int] = mapped_column(index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[RoundStatus] = mapped_column(_enum(RoundStatus, 16), default=RoundStatus.open)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    township: Mapped[OrgUnit] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name


class EvaluationCriterion(db.Model):
    """One line of the township's form: what is marked, and the most marks it gives."""

    __tablename__ = "evaluation_criterion"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    max_score: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[EvaluationRound] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.name


class RaterGroup(LabelledEnum):
    leader = "leader"
    peer = "peer"

    @classmethod
    def labels(cls):
        return {cls.leader: _l("Leaders"), cls.peer: _l("Peers")}


class EvaluationMark(db.Model):
    """One rater's marks on one criterion for one cadre or unit (every rater's kept)."""

    __tablename__ = "evaluation_mark"
    __table_args__ = (
        UniqueConstraint("criterion_id", "rater_id", "subject_key"),
        Index("ix_evaluation_mark_round_subject", "round_id", "subject_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("evaluation_criterion.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    rater_group: Mapped[RaterGroup] = mapped_column(_enum(RaterGroup, 16))
    #: ``user:<id>`` (a cadre) or ``unit:<id>`` (a station)
    subject_key: Mapped[str] = mapped_column(String(32))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    subject_unit_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"))
    score: Mapped[int]
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Grade(LabelledEnum):
    excellent = "excellent"
    competent = "competent"
    basically_competent = "basically_competent"
    incompetent = "incompetent"

    @classmethod
    def labels(cls):
        return {
            cls.excellent: _l("Excellent"),
            cls.competent: _l("Competent"),
            cls.basically_competent: _l("Basically competent"),
            cls.incompetent: _l("Incompetent"),
        }


class EvaluationGrade(db.Model):
    """A leader's grade of a cadre in a round (优秀 only if not barred that year)."""

    __tablename__ = "evaluation_grade"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_round.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    grade: Mapped[Grade] = mapped_column(_enum(Grade))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---------------------------------------------------------------------------
# Rectification
# ---------------------------------------------------------------------------


class RectificationSource(LabelledEnum):
    citizen_rating = "citizen_rating"
    round = "round"
    other = "other"

    @classmethod
    def labels(cls):
        return {
            cls.citizen_rating: _l("A citizen's rating"),
            cls.round: _l("An evaluation round"),
            cls.other: _l("Other"),
        }


class RectificationStatus(LabelledEnum):
    open = "open"
    done = "done"
    verified = "verified"

    @classmethod
    def labels(cls):
        return {
            cls.open: _l("Being rectified"),
            cls.done: _l("Done, waiting for the check"),
            cls.verified: _l("Checked and closed"),
        }


class EvaluationRectification(db.Model):
    """A rectification plan (整改): the problem, the plan, an owner, a deadline, a check."""

    __tablename__ = "evaluation_rectification"
    __table_args__ = (
        Index(
            "ix_evaluation_rectification_township_status_deadline",
            "township_id",
            "status",
            "deadline",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    source: Mapped[RectificationSource] = mapped_column(_enum(RectificationSource))
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_rating.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_round.id"))
    #: the cadre the problem concerns (None: a unit or the township as a whole)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    subject_unit_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"))
    problem: Mapped[str] = mapped_column(Text)
    plan: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    deadline: Mapped[date] = mapped_column(index=True)
    status: Mapped[RectificationStatus] = mapped_column(
        _enum(RectificationStatus, 16), default=RectificationStatus.open, index=True
    )
    done_at: Mapped[datetime | None]
    done_note: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    checked_at: Mapped[datetime | None]
    check_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    subject_user: Mapped[User | None] = relationship(foreign_keys=[subject_user_id], lazy="joined")
    subject_unit: Mapped[OrgUnit | None] = relationship(foreign_keys=[subject_unit_id])
    checked_by: Mapped[User | None] = relationship(foreign_keys=[checked_by_id])

    def __str__(self) -> str:
        return self.problem[:60]


# ---------------------------------------------------------------------------
# Consequences
# ---------------------------------------------------------------------------


class ConsequenceKind(LabelledEnum):
    warning = "warning"
    suspension = "suspension"

    @classmethod
    def labels(cls):
        return {
            cls.warning: _l("Warning: not excellent, promoted or listed as reserve this year"),
            cls.suspension: _l("Suspension (citizens do not accept the cadre)"),
        }


class ConsequenceStatus(LabelledEnum):
    in_force = "in_force"
    proposed = "proposed"
    confirmed = "confirmed"
    rejected = "rejected"

    @classmethod
    def labels(cls):
        return {
            cls.in_force: _l("In effect"),
            cls.proposed: _l("Proposed, waiting for a leader"),
            cls.confirmed: _l("Decided: confirmed"),
            cls.rejected: _l("Decided: not applied"),
        }


class EvaluationConsequence(db.Model):
    """What a year's citizen satisfaction means for a cadre (the platform proposes)."""

    __tablename__ = "evaluation_consequence"
    __table_args__ = (UniqueConstraint("township_id", "user_id", "year", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    year: Mapped[int] = mapped_column(index=True)
    kind: Mapped[ConsequenceKind] = mapped_column(_enum(ConsequenceKind, 16))
    status: Mapped[ConsequenceStatus] = mapped_column(_enum(ConsequenceStatus, 16), index=True)
    #: satisfied + basically satisfied, in % of the year's ratings, when the rule applied
    share: Mapped[float]
    ratings: Mapped[int]
    threshold: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        return f"{self.user.name} {self.year} {self.kind.label}"


class EvaluationEvent(db.Model):
    """The append-only trail: who decided what about a follow-up, rectification,
    consequence, grade or round (``actor_id`` None = the platform applying a rule)."""

    __tablename__ = "evaluation_event"
    __table_args__ = (Index("ix_evaluation_event_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(lazy="joined")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(EvaluationEvent, "before_update")
@event.listens_for(EvaluationEvent, "before_delete")
def _trail_is_append_only(mapper, connection, target):
    raise AppendOnlyError("the evaluation trail is append-only")


MODELS = [
    EvaluationRating,
    EvaluationFollowUp,
    EvaluationRound,
    EvaluationCriterion,
    EvaluationMark,
    EvaluationGrade,
    EvaluationRectification,
    EvaluationConsequence,
    EvaluationEvent,
]
