"""Demo data for a township that enabled service supervision (idempotent): this year's
group with a staff supervisor and a retired cadre, an area per department, a finding being
remedied and a citizen's report waiting for the leading group."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import clock
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, Person, PersonCategory, User
from plugins.supervision import services
from plugins.supervision.models import (
    MemberRole,
    SupervisionArea,
    SupervisionCoverage,
    SupervisionMember,
    SupervisionTerm,
)


def _role(township: OrgUnit, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership)
        .where(Membership.org_unit_id == township.id, Membership.role == role)
        .order_by(User.id)
    )


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, services.KEY):
        return
    if db.session.scalar(
        select(SupervisionTerm.id).where(SupervisionTerm.township_id == township.id)
    ):
        return
    today = clock.today(township)
    term = SupervisionTerm(
        township_id=township.id,
        name=f"{today.year}年度服务监督小组",
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year, 12, 31),
    )
    db.session.add(term)
    db.session.flush()
    areas = []
    for station in services.stations(township.id):
        area = SupervisionArea(township_id=township.id, name=station.name, department_id=station.id)
        db.session.add(area)
        areas.append(area)
    db.session.flush()
    members = []
    supervisor = _role(township, "supervision_member")
    if supervisor is not None:
        members.append(
            SupervisionMember(
                township_id=township.id,
                term_id=term.id,
                user_id=supervisor.id,
                role=MemberRole.head,
            )
        )
    retired = db.session.scalar(
        select(Person).where(
            Person.township_id == township.id, Person.category == PersonCategory.retired_cadre
        )
    )
    if retired is not None:
        members.append(
            SupervisionMember(township_id=township.id, term_id=term.id, person_id=retired.id)
        )
    for member in members:
        db.session.add(member)
    db.session.flush()
    for n, member in enumerate(members):
        for area in areas[n::2] or areas:
            db.session.add(
                SupervisionCoverage(township_id=township.id, member_id=member.id, area_id=area.id)
            )
    db.session.flush()
    clerk, leader = _role(township, "clerk"), _role(township, "leader")
    if not (areas and clerk and leader and supervisor):
        return
    finding = services.record_finding(
        township,
        services.FindingInput(
            kind="attitude",
            observed_on=today - timedelta(days=3),
            evidence="窗口工作人员接待群众时语气生硬，未一次性告知所需材料。",
            area_id=areas[0].id,
            staff_user_id=clerk.id,
            found_by_member_id=members[0].id,
        ),
        supervisor,
    )
    services.assign_remedy(
        finding,
        leader,
        "开展文明用语培训，推行一次性告知制度",
        clerk.id,
        today + timedelta(days=14),
    )
    services.submit_citizen_report(
        township,
        services.FindingInput(
            kind="procedure",
            observed_on=today - timedelta(days=1),
            evidence="办理证明时被要求重复提交材料。",
            window="综合服务窗口",
        ),
    )
