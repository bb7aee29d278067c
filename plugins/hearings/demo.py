"""Demo data for a township that enabled hearings (idempotent): a hearing held ten days ago
and concluded (participants of every category, a question answered on the spot and one
given to a clerk with a deadline), and an inquiry announced for the coming weeks with a
citizen registered."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from core import clock
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, Person, PersonCategory, User
from plugins.hearings import services
from plugins.hearings.models import Hearing, HearingKind, ParticipantCategory


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
    if db.session.scalar(select(Hearing.id).where(Hearing.township_id == township.id)):
        return
    secretary = _role(township, "hearings_secretary") or _role(township, "township_admin")
    leader = _role(township, "leader")
    clerk = _role(township, "clerk")
    if secretary is None or leader is None or clerk is None:
        return
    today = clock.today(township)
    held = services.create_hearing(
        township,
        services.HearingInput(
            kind=HearingKind.hearing.value,
            topic="红星村垃圾中转站选址听证会",
            background="镇里拟在红星村东侧新建垃圾中转站，部分村民担心臭味和运输噪声。"
            "镇党委决定召开听证会，听取利害关系群众、老干部、人大代表和政协委员的意见。",
            decided_by="镇党委",
            decided_on=today - timedelta(days=30),
            held_on=today - timedelta(days=10),
            start_time=time(9, 30),
            place="镇政府三楼会议室",
            public_seats=20,
        ),
        secretary,
    )
    services.open_hearing(held, secretary)
    people = db.session.scalars(select(Person).where(Person.township_id == township.id)).all()
    by_category = {
        PersonCategory.retired_cadre: ParticipantCategory.retired_cadre,
        PersonCategory.citizen: ParticipantCategory.concerned,
        PersonCategory.party_member: ParticipantCategory.concerned,
    }
    for person in people:
        if person.category in by_category:
            services.invite(held, secretary, by_category[person.category], person_id=person.id)
    deputy = services.invite(held, secretary, ParticipantCategory.npc_deputy, user_id=leader.id)
    present = {p.id for p in services.participants(held.id)}
    services.record_attendance(held, secretary, present)
    services.record_question(
        held,
        secretary,
        services.QuestionInput(
            question="中转站离最近的住户有多远？",
            participant_id=deputy.id,
            answer="选址距最近住户约350米，符合不少于300米的规定。",
            answered_by="李镇长",
        ),
    )
    asker = next((p for p in services.participants(held.id) if p.person_id), None)
    services.record_question(
        held,
        secretary,
        services.QuestionInput(
            question="垃圾运输车辆能否避开早晚上学时段？",
            participant_id=asker.id if asker else None,
            asker_name="" if asker else "村民代表",
            reason="需与县环卫公司协商运输时刻表。",
            responsible_id=clerk.id,
            deadline=today + timedelta(days=10),
        ),
    )
    services.conclude(
        held,
        secretary,
        "经听证，镇党委决定中转站按原选址建设，加装除臭设备，运输车辆避开学生上下学时段；"
        "建成后请群众代表参与监督。",
    )

    upcoming = services.create_hearing(
        township,
        services.HearingInput(
            kind=HearingKind.inquiry.value,
            topic="农村低保评审公开质询会",
            background="部分群众反映低保评审不够公开。镇党委决定召开质询会，由民政办负责人"
            "接受群众代表、人大代表和政协委员的质询。",
            decided_by="镇党委",
            decided_on=today,
            held_on=today + timedelta(days=14),
            start_time=time(14, 30),
            place="镇便民服务中心二楼",
            public_seats=30,
        ),
        secretary,
    )
    services.announce_hearing(upcoming, secretary)
    services.register(upcoming, "赵大山", "13800009876", "想了解低保评分标准")
