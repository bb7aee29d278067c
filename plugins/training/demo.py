"""Demo data: a roster of twenty learners, a session with attendance, some hours."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.models import OrgUnit, Person, PersonCategory, UnitKind
from plugins.training.models import (
    AttendanceStatus,
    Education,
    LearnerCategory,
    LogStatus,
    MaterialKind,
    TrainingAttendance,
    TrainingLearner,
    TrainingMastery,
    TrainingSession,
    TrainingStudyLog,
    TrainingTechnique,
)
from plugins.training.services import township_today

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英志强桂兰海燕明华春梅玉兰国庆红霞立新丽娟文军晓东"
TECHNIQUES = ["马铃薯脱毒种植", "肉羊养殖", "设施蔬菜", "农机维修", "电商直播", "沙棘育苗"]


def seed(township: OrgUnit, session) -> None:
    """Add the demo roster to a township once (skipped when it has learners), and link the
    demo learner account to a roster entry so that "my study record" shows something."""
    if session.scalar(
        select(TrainingLearner.id).where(TrainingLearner.township_id == township.id).limit(1)
    ):
        link_demo_learner(township, session)
        return
    _seed_roster(township, session)
    link_demo_learner(township, session)


def link_demo_learner(township: OrgUnit, session) -> None:
    """The township's ``training_learner`` users get the first unlinked roster entries
    (idempotent: an account already linked keeps its entry)."""
    from core.models import Membership

    accounts = session.scalars(
        select(Membership.user_id)
        .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
        .where(OrgUnit.township_id == township.id, Membership.role == "training_learner")
        .order_by(Membership.user_id)
    ).all()
    linked = set(
        session.scalars(
            select(TrainingLearner.user_id).where(
                TrainingLearner.township_id == township.id, TrainingLearner.user_id.is_not(None)
            )
        )
    )
    free = session.scalars(
        select(TrainingLearner)
        .where(TrainingLearner.township_id == township.id, TrainingLearner.user_id.is_(None))
        .order_by(TrainingLearner.id)
    ).all()
    for user_id, learner in zip([a for a in accounts if a not in linked], free, strict=False):
        learner.user_id = user_id
    session.flush()


def _seed_roster(township: OrgUnit, session) -> None:
    today = township_today(township.id)
    villages = list(
        session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.village)
            .order_by(OrgUnit.id)
        )
    )
    learners = []
    for n in range(20):
        category = (
            LearnerCategory.township_cadre
            if n < 6
            else LearnerCategory.village_cadre
            if n < 12
            else LearnerCategory.party_member
        )
        village = None if n < 6 or not villages else villages[n % len(villages)]
        person = Person(
            township_id=township.id,
            village_id=village.id if village else None,
            name=SURNAMES[n] + GIVEN[(2 * n) % len(GIVEN)] + GIVEN[(2 * n + 1) % len(GIVEN)],
            category=PersonCategory.cadre
            if category != LearnerCategory.party_member
            else PersonCategory.party_member,
            phone=f"1390000{n:04d}",
        )
        session.add(person)
        session.flush()
        learner = TrainingLearner(
            township_id=township.id,
            person=person,
            category=category,
            village_id=village.id if village else None,
            education=list(Education)[n % 4],
            joined_on=today.replace(day=1) - timedelta(days=400),
        )
        session.add(learner)
        learners.append(learner)
    session.flush()
    first = today.replace(day=1)
    meeting = TrainingSession(
        township_id=township.id,
        organiser_id=township.id,
        held_on=first,
        half_days=2,
        topic="学习党的二十届三中全会精神",
        readings="《决定》全文",
        place="镇政府三楼会议室",
    )
    session.add(meeting)
    session.flush()
    for n, learner in enumerate(learners):
        status = (
            AttendanceStatus.absent
            if n % 7 == 3
            else AttendanceStatus.excused
            if n % 9 == 4
            else AttendanceStatus.present
        )
        session.add(
            TrainingAttendance(
                township_id=township.id,
                session_id=meeting.id,
                learner_id=learner.id,
                status=status,
                reason="外出办事" if status == AttendanceStatus.excused else "",
            )
        )
        for day in range(min(today.day, 5)):
            session.add(
                TrainingStudyLog(
                    township_id=township.id,
                    learner_id=learner.id,
                    studied_on=first + timedelta(days=day),
                    half_hours=2 + (n + day) % 6,
                    material_kind=MaterialKind.set_reading if day % 2 else MaterialKind.self_chosen,
                    material="《习近平谈治国理政》" if day % 2 else "农村实用技术手册",
                    note_chars=300 + 50 * n,
                    status=LogStatus.confirmed,
                )
            )
    techniques = [TrainingTechnique(township_id=township.id, name=name) for name in TECHNIQUES]
    session.add_all(techniques)
    session.flush()
    for n, learner in enumerate(learners[:12]):
        for technique in techniques[: n % 7]:
            session.add(
                TrainingMastery(
                    township_id=township.id,
                    learner_id=learner.id,
                    technique_id=technique.id,
                    mastered_on=first - timedelta(days=30),
                    verified_by="镇农技站",
                )
            )
    session.flush()
