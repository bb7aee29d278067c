"""信息反馈制度: reports that keep the township office informed.

* :class:`DutyReport` (值班报告) — the person on duty (the core's rota) reports the letters,
  visits and hotline calls received, due before handing over the next working day; the
  people owing it are :class:`DutyReportPerson` rows (taken from the rota);
* :class:`Stage` (阶段) — the township's reporting stages (default: the quarters);
  :class:`StageReport` — a service team leader's progress report or a village's
  instructive activity report (典型活动报告), counted per stage;
* :class:`OfficeReport` (情况报告) — leaders, cadres, the mediation group and unit heads
  report to the office, with :class:`Attachment` s; the office acknowledges.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import OrgUnit, User


class DutyReportStatus(LabelledEnum):
    """Where a duty report stands."""

    #: the duty day has begun; the report is due at the hand-over time
    pending = "pending"
    #: filed by the hand-over time
    filed = "filed"
    #: filed after the hand-over time
    late = "late"
    #: not filed by the hand-over time (counts against the people on duty)
    missing = "missing"

    @classmethod
    def labels(cls):
        return {
            cls.pending: _l("To be filed"),
            cls.filed: _l("Filed on time"),
            cls.late: _l("Filed late"),
            cls.missing: _l("Not filed"),
        }


#: statuses of a report still waiting to be filed
OPEN_STATUSES = (DutyReportStatus.pending, DutyReportStatus.missing)
#: statuses that count against the people on duty
MISSED_STATUSES = (DutyReportStatus.missing, DutyReportStatus.late)


class FeedbackDutyReport(db.Model):
    """A duty report (值班报告) of one township and duty day."""

    __tablename__ = "feedback_duty_report"
    __table_args__ = (
        UniqueConstraint("township_id", "duty_date"),
        Index("ix_feedback_duty_report_township_status", "township_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    duty_date: Mapped[date] = mapped_column(index=True)
    #: the hand-over time by which it is due (UTC)
    due_at: Mapped[datetime]
    #: the township's date of ``due_at`` (the inbox sorts by it)
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[DutyReportStatus] = mapped_column(
        Enum(DutyReportStatus, native_enum=False, length=16), default=DutyReportStatus.pending
    )
    #: the names of the people on duty, as the rota said
    on_duty: Mapped[str] = mapped_column(String(200), default="")
    letters: Mapped[int | None]
    visits: Mapped[int | None]
    calls: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(2000), default="")
    follow_up: Mapped[str] = mapped_column(String(2000), default="")
    filed_at: Mapped[datetime | None]
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    #: when it was found missing (kept when it is filed late)
    missed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id], lazy="joined")
    persons: Mapped[list[FeedbackDutyPerson]] = relationship(
        back_populates="report",
        order_by="FeedbackDutyPerson.id",
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    def __str__(self) -> str:
        return self.duty_date.isoformat()


class FeedbackDutyPerson(db.Model):
    """Someone on duty who owes a duty report (from the rota)."""

    __tablename__ = "feedback_duty_person"
    __table_args__ = (UniqueConstraint("report_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_duty_report.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)

    report: Mapped[FeedbackDutyReport] = relationship(back_populates="persons")
    user: Mapped[User] = relationship(lazy="joined")


class FeedbackStage(db.Model):
    """A reporting stage (阶段) a township defines; without any, the quarters apply."""

    __tablename__ = "feedback_stage"
    __table_args__ = (UniqueConstraint("township_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name


class StageReportKind(LabelledEnum):
    """What a stage report is."""

    team_progress = "team_progress"
    village_activity = "village_activity"

    @classmethod
    def labels(cls):
        return {
            cls.team_progress: _l("Service team progress report"),
            cls.village_activity: _l("Village instructive activity report"),
        }


class FeedbackStageReport(db.Model):
    """A service team's progress report or a village's instructive activity report; it
    counts in the stage its date falls in."""

    __tablename__ = "feedback_stage_report"
    __table_args__ = (
        Index("ix_feedback_stage_report_township_kind_day", "township_id", "kind", "reported_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    kind: Mapped[StageReportKind] = mapped_column(
        Enum(StageReportKind, native_enum=False, length=24)
    )
    #: the village reporting (village activity reports)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    #: the service team (progress reports)
    team: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    reported_on: Mapped[date] = mapped_column(info={"past": True})
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    village: Mapped[OrgUnit | None] = relationship(foreign_keys=[village_id], lazy="joined")
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id], lazy="joined")


class ReporterRole(LabelledEnum):
    """Who reports to the office (the rule book's list)."""

    leader = "leader"
    cadre = "cadre"
    mediation_group = "mediation_group"
    unit_head = "unit_head"

    @classmethod
    def labels(cls):
        return {
            cls.leader: _l("Leader"),
            cls.cadre: _l("Cadre"),
            cls.mediation_group: _l("Mediation group"),
            cls.unit_head: _l("Head of a township unit"),
        }


class ReportCategory(LabelledEnum):
    """What a report to the office is about."""

    service = "service"
    problem = "problem"
    opinion = "opinion"
    dispute = "dispute"
    incident = "incident"
    other = "other"

    @classmethod
    def labels(cls):
        return {
            cls.service: _l("Service situation"),
            cls.problem: _l("Problems and difficulties"),
            cls.opinion: _l("Citizens' opinions and suggestions"),
            cls.dispute: _l("Disputes and mediation"),
            cls.incident: _l("Emergencies"),
            cls.other: _l("Other matters"),
        }


class FeedbackOfficeReport(db.Model):
    """A report to the office (情况报告) with the office's acknowledgement."""

    __tablename__ = "feedback_office_report"
    __table_args__ = (
        Index("ix_feedback_office_report_township_reported", "township_id", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    reporter_role: Mapped[ReporterRole] = mapped_column(
        Enum(ReporterRole, native_enum=False, length=24)
    )
    category: Mapped[ReportCategory] = mapped_column(
        Enum(ReportCategory, native_enum=False, length=16)
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(4000))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    ack_note: Mapped[str] = mapped_column(String(1000), default="")

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    acknowledged_by: Mapped[User | None] = relationship(
        foreign_keys=[acknowledged_by_id], lazy="joined"
    )
    attachments: Mapped[list[FeedbackAttachment]] = relationship(
        back_populates="report", order_by="FeedbackAttachment.id", lazy="select"
    )

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def __str__(self) -> str:
        return self.title


class FeedbackAttachment(db.Model):
    """A file attached to a report to the office: its type found from its signature."""

    __tablename__ = "feedback_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("feedback_office_report.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[FeedbackOfficeReport] = relationship(back_populates="attachments")


MODELS = [
    FeedbackDutyReport,
    FeedbackDutyPerson,
    FeedbackStage,
    FeedbackStageReport,
    FeedbackOfficeReport,
    FeedbackAttachment,
]
