"""Demo data of proxy handling: one county matter taken over and sent on (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.cases import register_case
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, User
from plugins.proxy import services
from plugins.proxy.models import ProxyRecord


def _user(township: OrgUnit, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_unit_id == township.id, Membership.role == role)
    )


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, "proxy"):
        return
    if db.session.scalar(select(ProxyRecord.id).where(ProxyRecord.township_id == township.id)):
        return
    clerk, leader = _user(township, "clerk"), _user(township, "leader")
    if clerk is None or leader is None:
        return
    today = clock.today(township)
    case = register_case(
        township=township,
        kind="approval",
        title="代办农村宅基地审批（报县）",
        applicant_name="张建国",
        first_responder=clerk,
        received_on=today - timedelta(days=3),
        accept=True,
    )
    record = services.take_over(
        case,
        staff=clerk,
        leader=leader,
        reason="county",
        materials=[
            ("宅基地申请书", 1, True),
            ("户口簿复印件", 2, False),
            ("村民会议意见", 1, True),
        ],
        taken_on=today - timedelta(days=3),
    )
    services.send_on(
        record,
        office="县自然资源局",
        by=clerk,
        sent_on=today - timedelta(days=2),
        expected_on=today + timedelta(days=5),
    )
    services.add_note(
        record, text="材料齐全，已报县自然资源局审核", by=clerk, on=today - timedelta(days=2)
    )
