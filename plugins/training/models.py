"""Training records (学习培训制度): roster, sessions, attendance, self-study, techniques.

Every row carries ``township_id`` (the tenant). Durations are stored as whole
half-units (``half_days``, ``half_hours``) so sums are exact on every backend;
the properties ``days`` and ``hours`` give the figures people read.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import OrgUnit, Person, User


class LearnerCategory(LabelledEnum):
    """Who a learner is in the rule book's terms."""

    township_cadre = "township_cadre"  # 镇干部
    village_cadre = "village_cadre"  # 村干部
    party_member = "party_member"  # 农村党员

    @classmethod
    def labels(cls):
        return {
            cls.township_cadre: _l("Township cadre"),
            cls.village_cadre: _l("Village cadre"),
            cls.party_member: _l("Rural party member"),
        }


#: categories the cadre rules (techniques, notes) apply to
CADRES = (LearnerCategory.township_cadre, LearnerCategory.village_cadre)


class Education(LabelledEnum):
    """Education level; party members from junior middle school up have a notes threshold."""

    primary = "primary"  # 小学及以下
    junior_middle = "junior_middle"  # 初中
    senior_middle = "senior_middle"  # 高中/中专
    college = "college"  # 大专及以上

    @classmethod
    def labels(cls):
        return {
            cls.primary: _l("Primary school or less"),
            cls.junior_middle: _l("Junior middle school"),
            cls.senior_middle: _l("Senior middle school"),
            cls.college: _l("College or more"),
        }


#: education levels the party members' notes threshold applies to (初中及以上)
JUNIOR_MIDDLE_OR_ABOVE = (Education.junior_middle, Education.senior_middle, Education.college)


class AttendanceStatus(LabelledEnum):
    present = "present"
    absent = "absent"
    excused = "excused"  # 请假 (with a reason): not counted against participation

    @classmethod
    def labels(cls):
        return {cls.present: _l("Present"), cls.absent: _l("Absent"), cls.excused: _l("Excused")}


class MaterialKind(LabelledEnum):
    set_reading = "set_reading"  # the township leading group's set readings
    self_chosen = "self_chosen"  # an article chosen for one's own work

    @classmethod
    def labels(cls):
        return {cls.set_reading: _l("Set reading"), cls.self_chosen: _l("Self-chosen article")}


class LogStatus(LabelledEnum):
    confirmed = "confirmed"
    pending = "pending"  # logged by the learner, waiting for an officer
    returned = "returned"  # sent back to the learner with a reason

    @classmethod
    def labels(cls):
        return {
            cls.confirmed: _l("Confirmed"),
            cls.pending: _l("Waiting for confirmation"),
            cls.returned: _l("Sent back"),
        }


class TrainingLearner(db.Model):
    """A person of the township register on the training roster (学员)."""

    __tablename__ = "training_learner"
    __table_args__ = (UniqueConstraint("township_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("core_person.id"), index=True)
    category: Mapped[LearnerCategory] = mapped_column(
        Enum(LearnerCategory, native_enum=False, length=32), index=True
    )
    #: the village (村) a village cadre or rural party member belongs to
    village_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    education: Mapped[Education] = mapped_column(
        Enum(Education, native_enum=False, length=32), default=Education.junior_middle
    )
    joined_on: Mapped[date] = mapped_column(index=True, info={"past": True})
    #: the staff account of the learner, for "my study record"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(lazy="joined")
    village: Mapped[OrgUnit | None] = relationship(foreign_keys=[village_id], lazy="joined")
    township: Mapped[OrgUnit] = relationship(foreign_keys=[township_id])
    user: Mapped[User | None] = relationship()

    @property
    def name(self) -> str:
        return self.person.name

    def __str__(self) -> str:
        return self.person.name if self.person else f"#{self.id}"


class TrainingSession(db.Model):
    """A concentrated training session (集中学习), organised by the township or a village."""

    __tablename__ = "training_session"
    __table_args__ = (Index("ix_training_session_township_held", "township_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    #: the township itself or one of its villages
    organiser_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    held_on: Mapped[date] = mapped_column()
    #: duration in half days (1 = half a day, 2 = one day)
    half_days: Mapped[int] = mapped_column(Integer, default=2)
    topic: Mapped[str] = mapped_column(String(200))
    readings: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organiser: Mapped[OrgUnit] = relationship(foreign_keys=[organiser_id], lazy="joined")
    township: Mapped[OrgUnit] = relationship(foreign_keys=[township_id])

    @property
    def days(self) -> float:
        return self.half_days / 2

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"


class TrainingAttendance(db.Model):
    """Whether a learner attended a session (one row per learner and session)."""

    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("session_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_session.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[int] = mapped_column(ForeignKey("training_learner.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(
        Enum(AttendanceStatus, native_enum=False, length=16)
    )
    reason: Mapped[str] = mapped_column(String(200), default="")

    session: Mapped[TrainingSession] = relationship()
    learner: Mapped[TrainingLearner] = relationship()


class TrainingStudyLog(db.Model):
    """Self-study (自学) of one learner on one day: class hours, material, note characters."""

    __tablename__ = "training_study_log"
    __table_args__ = (
        Index("ix_training_study_log_township_day", "township_id", "studied_on"),
        Index("ix_training_study_log_learner_day", "learner_id", "studied_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("training_learner.id"))
    studied_on: Mapped[date] = mapped_column(info={"past": True})
    #: class hours (课时) in half-hour steps: 3 = 1.5 class hours
    half_hours: Mapped[int] = mapped_column(Integer)
    material_kind: Mapped[MaterialKind] = mapped_column(
        Enum(MaterialKind, native_enum=False, length=16), default=MaterialKind.set_reading
    )
    material: Mapped[str] = mapped_column(String(200))
    note_chars: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[LogStatus] = mapped_column(
        Enum(LogStatus, native_enum=False, length=16), default=LogStatus.confirmed, index=True
    )
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    learner: Mapped[TrainingLearner] = relationship(lazy="joined")

    @property
    def hours(self) -> float:
        return self.half_hours / 2


class TrainingTechnique(db.Model):
    """A practical technique (实用技术) of the township's catalogue."""

    __tablename__ = "training_technique"
    __table_args__ = (UniqueConstraint("township_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return self.name


class TrainingMastery(db.Model):
    """A technique a learner has mastered, when, and who verified it."""

    __tablename__ = "training_mastery"
    __table_args__ = (UniqueConstraint("learner_id", "technique_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("training_learner.id"), index=True)
    technique_id: Mapped[int] = mapped_column(ForeignKey("training_technique.id"), index=True)
    mastered_on: Mapped[date] = mapped_column(info={"past": True})
    verified_by: Mapped[str] = mapped_column(String(120))

    learner: Mapped[TrainingLearner] = relationship(lazy="joined")
    technique: Mapped[TrainingTechnique] = relationship(lazy="joined")


class TrainingImport(db.Model):
    """An uploaded sheet between preview and confirm: parsed rows and their problems."""

    __tablename__ = "training_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # roster | hours
    filename: Mapped[str] = mapped_column(String(200), default="")
    #: the valid rows, ready to write (JSON-safe values)
    rows: Mapped[list]
    #: [{"row": n, "errors": [...], "values": {...}}]
    problems: Mapped[list]
    status: Mapped[str] = mapped_column(String(16), default="preview")  # preview | done
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]


ALL_MODELS = [
    TrainingLearner,
    TrainingSession,
    TrainingAttendance,
    TrainingStudyLog,
    TrainingTechnique,
    TrainingMastery,
    TrainingImport,
]
