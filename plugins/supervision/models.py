"""服务监督制度: the supervision group, its findings and their remedies, serious errors and
the supervisors they name, and the append-only trail of every step."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models import Case, OrgUnit, Person, User


def _enum(cls, length: int = 16):
    return Enum(cls, native_enum=False, length=length)


class SupervisionTerm(db.Model):
    """A term of the township's supervision group (监督小组), e.g. one year."""

    __tablename__ = "supervision_term"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.name


class SupervisionArea(db.Model):
    """Where service is watched: a department (站办所) or one of its windows (窗口)."""

    __tablename__ = "supervision_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    #: a service window within the department; empty = the whole department
    window: Mapped[str] = mapped_column(String(60), default="")
    active: Mapped[bool] = mapped_column(default=True)

    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id], lazy="joined")

    def __str__(self) -> str:
        return self.name


class MemberRole(LabelledEnum):
    head = "head"
    deputy = "deputy"
    member = "member"

    @classmethod
    def labels(cls):
        return {
            cls.head: _l("Group leader"),
            cls.deputy: _l("Deputy leader"),
            cls.member: _l("Member"),
        }


class SupervisionMember(db.Model):
    """A member of the group in a term: a staff member or someone of the people register
    (a deputy, a retired cadre ...), and the areas they cover."""

    __tablename__ = "supervision_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("supervision_term.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("core_person.id"))
    role: Mapped[MemberRole] = mapped_column(_enum(MemberRole), default=MemberRole.member)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    term: Mapped[SupervisionTerm] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")
    person: Mapped[Person | None] = relationship(lazy="joined")

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.name
        return self.person.name if self.person is not None else ""

    def __str__(self) -> str:
        return f"{self.name}（{self.term.name}）" if self.term else self.name


class SupervisionCoverage(db.Model):
    """An area a member covers in their term."""

    __tablename__ = "supervision_coverage"
    __table_args__ = (UniqueConstraint("member_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("supervision_member.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("supervision_area.id"), index=True)


class FindingKind(LabelledEnum):
    attitude = "attitude"
    quality = "quality"
    procedure = "procedure"

    @classmethod
    def labels(cls):
        return {
            cls.attitude: _l("Poor service attitude"),
            cls.quality: _l("Low quality of work"),
            cls.procedure: _l("Irregular procedure"),
        }


class FindingSource(LabelledEnum):
    supervisor = "supervisor"
    citizen = "citizen"

    @classmethod
    def labels(cls):
        return {cls.supervisor: _l("Supervision group"), cls.citizen: _l("Citizen's report")}


class FindingStatus(LabelledEnum):
    raised = "raised"
    remedying = "remedying"
    remedied = "remedied"
    verified = "verified"
    dismissed = "dismissed"

    @classmethod
    def labels(cls):
        return {
            cls.raised: _l("With the leading group"),
            cls.remedying: _l("Being remedied"),
            cls.remedied: _l("Remedied, waiting for verification"),
            cls.verified: _l("Verified and closed"),
            cls.dismissed: _l("Dismissed"),
        }


#: findings still asking something of someone
OPEN_FINDINGS = (FindingStatus.raised, FindingStatus.remedying, FindingStatus.remedied)


class SupervisionFinding(db.Model):
    """A problem found (poor attitude, low quality, irregular procedure), where it was seen,
    the evidence, who found it, and its remedy (owner, deadline, verification)."""

    __tablename__ = "supervision_finding"
    __table_args__ = (
        Index(
            "ix_supervision_finding_township_status_deadline",
            "township_id",
            "status",
            "remedy_deadline",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    #: a citizen's report has a receipt number the public lookup finds
    receipt_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    kind: Mapped[FindingKind] = mapped_column(_enum(FindingKind), index=True)
    source: Mapped[FindingSource] = mapped_column(_enum(FindingSource), index=True)
    status: Mapped[FindingStatus] = mapped_column(
        _enum(FindingStatus), default=FindingStatus.raised
    )
    observed_on: Mapped[date] = mapped_column(index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("core_case.id"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_area.id"), index=True)
    window: Mapped[str] = mapped_column(String(60), default="")
    evidence: Mapped[str] = mapped_column(Text)
    found_by_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("supervision_member.id"), index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    #: how to reach the citizen who reported it (staff only, never public)
    citizen_contact: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    remedy_measure: Mapped[str] = mapped_column(Text, default="")
    remedy_owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    remedy_deadline: Mapped[date | None]
    remedy_assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    remedy_assigned_at: Mapped[datetime | None]
    remedy_done_at: Mapped[datetime | None]
    remedy_done_note: Mapped[str] = mapped_column(Text, default="")
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    verified_at: Mapped[datetime | None]
    verify_note: Mapped[str] = mapped_column(Text, default="")
    dismissed_reason: Mapped[str] = mapped_column(Text, default="")
    #: the deadline an overdue reminder was recorded for (one reminder per deadline)
    reminded_for: Mapped[date | None]

    case: Mapped[Case | None] = relationship(lazy="joined")
    staff_user: Mapped[User | None] = relationship(foreign_keys=[staff_user_id], lazy="joined")
    department: Mapped[OrgUnit | None] = relationship(foreign_keys=[department_id], lazy="joined")
    area: Mapped[SupervisionArea | None] = relationship(lazy="joined")
    found_by: Mapped[SupervisionMember | None] = relationship(lazy="joined")
    remedy_owner: Mapped[User | None] = relationship(foreign_keys=[remedy_owner_id], lazy="joined")
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    def where(self) -> str:
        """Where it was seen, in words (for staff)."""
        parts = []
        if self.area is not None:
            parts.append(self.area.name)
        elif self.department is not None:
            parts.append(self.department.name)
        if self.window:
            parts.append(self.window)
        if self.staff_user is not None:
            parts.append(self.staff_user.name)
        if self.case is not None:
            parts.append(self.case.receipt_no)
        return " · ".join(parts)

    def __str__(self) -> str:
        return f"{self.kind.label} {self.observed_on.isoformat()}"


class SupervisionPhoto(db.Model):
    """A photo as evidence, kept in the database; shown to staff only."""

    __tablename__ = "supervision_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("supervision_finding.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupervisionEvent(db.Model):
    """The append-only trail of a finding: who did what, when (None = a citizen or the
    platform)."""

    __tablename__ = "supervision_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("supervision_finding.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(lazy="joined")


class SupervisionSeriousError(db.Model):
    """A serious error in service (严重失误); if no finding was raised in its area before it,
    the supervisors who covered the area are named (:class:`SupervisionAccountability`)."""

    __tablename__ = "supervision_serious_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    occurred_on: Mapped[date] = mapped_column(index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("supervision_area.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("core_case.id"))
    description: Mapped[str] = mapped_column(Text)
    #: findings raised in the area in the look-back window (0 = supervision failed)
    findings_before: Mapped[int] = mapped_column(default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[SupervisionArea] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")
    named: Mapped[list[SupervisionAccountability]] = relationship(
        back_populates="error", lazy="selectin", order_by="SupervisionAccountability.id"
    )

    def __str__(self) -> str:
        return self.description[:60]


class SupervisionAccountability(db.Model):
    """A supervisor named by a serious error in an area they covered with no finding raised."""

    __tablename__ = "supervision_accountability"
    __table_args__ = (UniqueConstraint("error_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    error_id: Mapped[int] = mapped_column(ForeignKey("supervision_serious_error.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("supervision_member.id"), index=True)

    error: Mapped[SupervisionSeriousError] = relationship(back_populates="named")
    member: Mapped[SupervisionMember] = relationship(lazy="joined")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(SupervisionEvent, "before_update")
@event.listens_for(SupervisionEvent, "before_delete")
def _trail_is_append_only(mapper, connection, target):
    raise AppendOnlyError("the supervision trail is append-only")


MODELS = [
    SupervisionTerm,
    SupervisionArea,
    SupervisionMember,
    SupervisionCoverage,
    SupervisionFinding,
    SupervisionPhoto,
    SupervisionEvent,
    SupervisionSeriousError,
    SupervisionAccountability,
]
