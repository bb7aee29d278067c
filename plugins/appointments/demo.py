"""Demo data of leader appointments (idempotent): a card visited and closed, and a card
waiting for the demo leader, who is away (the core's demo records the absence)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, User
from plugins.appointments import services
from plugins.appointments.models import AppointmentCard, CardStatus, VisitOutcome
from plugins.appointments.policy import KEY


def _user(township: OrgUnit, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_unit_id == township.id, Membership.role == role)
        .order_by(User.id)
    )


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, KEY):
        return
    if db.session.scalar(
        select(AppointmentCard.id).where(AppointmentCard.township_id == township.id)
    ):
        return
    clerk, leader = _user(township, "clerk"), _user(township, "leader")
    if clerk is None or leader is None:
        return
    today = clock.today(township)
    # an earlier card: taken while the leader was present, visited, closed
    visited = services.take_card(
        township,
        services.CardInput(
            citizen_name="刘桂兰",
            phone="13904711234",
            address="东风村三组18号",
            matter="老房屋顶漏雨，申请危房改造补助，想当面向领导反映",
            leader_id=leader.id,
            channel="visit",
            taken_on=today - timedelta(days=12),
        ),
        taken_by=clerk,
    )
    if visited.status == CardStatus.waiting_return:  # the demo leader is away now
        services.queue_card(
            visited, at=clock.now_utc() - timedelta(days=10), actor=leader, tell=False
        )
    if visited.status == CardStatus.queued:
        services.record_visit(
            visited,
            by=leader,
            visited_on=min(today, visited.queued_on + timedelta(days=1)),
            companions="民政办 王干事",
            findings="屋顶两处漏雨，家中老人独居，符合危房改造申报条件",
            outcome=VisitOutcome.resolved,
            result="已协助申报危房改造补助，民政办一周内上门核查",
        )
    # a card for the leader who is away now (it waits for the return)
    services.take_card(
        township,
        services.CardInput(
            citizen_name="张建军",
            phone="13847112345",
            address="东风村五组6号",
            matter="承包地边界与邻户有争议，村里调解未果，请领导上门了解情况",
            leader_id=leader.id,
            channel="phone",
            taken_on=today,
        ),
        taken_by=clerk,
    )
