"""Demo data of the petition institution (idempotent): an observer register, a session held
last week with observers, opinions and petitions (one handed over, one group petition,
one from a repeat petitioner, one escalated and decided, one answered), and a session
planned for next week on the public schedule.

The collective decision needs two members of the leadership team: the demo township gets
an executive deputy party secretary (常务副书记, role leader) who convenes the sessions.
Their account has a random password nobody knows (an administrator sets one if needed).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, Person, UnitKind, User
from plugins.petitions import services
from plugins.petitions.models import ObserverCategory, ReceptionSession
from plugins.petitions.services import PetitionerInput, PetitionInput


def _user(township: OrgUnit, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_unit_id == township.id, Membership.role == role)
        .order_by(User.id)
    )


def _deputy_secretary(township: OrgUnit) -> User:
    from core.auth import hash_password

    username = f"{township.code}-deputy-secretary"
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(
            username=username,
            name=f"{township.name}常务副书记",
            password_hash=hash_password(secrets.token_urlsafe(24)),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, org_unit_id=township.id, role="leader"))
        db.session.commit()
    return user


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, "petitions"):
        return
    if db.session.scalar(
        select(ReceptionSession.id).where(ReceptionSession.township_id == township.id)
    ):
        return
    leader = _user(township, "leader")
    officer = _user(township, "petitions_officer") or _user(township, "township_admin")
    clerk = _user(township, "clerk")
    if leader is None or officer is None:
        return
    deputy = _deputy_secretary(township)
    today = clock.today(township)
    villages = services.units(township.id, UnitKind.village)
    stations = services.units(township.id, UnitKind.station)
    village = villages[0] if villages else None

    # the observer register
    people = {
        p.name: p
        for p in db.session.scalars(select(Person).where(Person.township_id == township.id))
    }
    observers = []
    if "陈志强" in people:
        observers.append(
            services.add_observer(
                township,
                ObserverCategory.citizen_representative,
                by=officer,
                person=people["陈志强"],
                title="群众代表",
            )
        )
    if "王桂兰" in people:
        observers.append(
            services.add_observer(
                township,
                ObserverCategory.retired_cadre,
                by=officer,
                person=people["王桂兰"],
                title="原镇人大主席",
            )
        )
    if clerk is not None:
        observers.append(
            services.add_observer(
                township,
                ObserverCategory.station_head,
                by=officer,
                user=clerk,
                title=f"{stations[0].name}负责人" if stations else "站所负责人",
            )
        )
    for name, phone, category, title in (
        ("赵德明", "13904711234", ObserverCategory.county_deputy, "旗人大代表"),
        ("孙海", "13904712345", ObserverCategory.village_secretary, "村党支部书记"),
        ("钱文华", "13904713456", ObserverCategory.cppcc_member, "旗政协委员"),
        ("周玉梅", "13904714567", ObserverCategory.township_deputy, "镇人大代表"),
    ):
        observers.append(
            services.add_observer(
                township,
                category,
                by=officer,
                new_name=name,
                new_phone=phone,
                new_village=village,
                title=title,
            )
        )

    # a session held a week ago
    held = services.plan_session(
        township,
        by=officer,
        held_on=today - timedelta(days=7),
        starts_at="09:00",
        place="镇政府信访接待室",
        leader=leader,
        convener=deputy,
        topic="村道修建与土地补偿",
    )
    services.invite(held, [o.id for o in observers], by=officer)
    db.session.refresh(held)
    services.record_attendance(
        held,
        {
            i.id: ("absent" if n == len(held.invitations) - 1 else "present")
            for n, i in enumerate(held.invitations)
        },
        by=officer,
    )
    services.add_opinion(
        held,
        observer_id=observers[0].id,
        said="群众反映的村道问题拖了两年，希望给出明确的时间表。",
        suggestion="由交通口和村委会共同拿出施工计划并公示。",
        answer="镇里将在两周内拿出计划，在村务公开栏公示。",
        by=officer,
    )
    if len(observers) > 1:
        services.add_opinion(
            held,
            observer_id=observers[1].id,
            said="接访程序规范，登记清楚。",
            suggestion="建议对集体访提前做好分流安排。",
            by=officer,
        )

    def petition(**kwargs) -> services.Petition:
        return services.register_petition(township, PetitionInput(**kwargs), by=officer)

    first = petition(
        session_id=held.id,
        channel="visit",
        category="construction",
        matter="要求尽快硬化通村道路",
        description="雨季道路泥泞，学生上学困难。",
        village_id=village.id if village else None,
        petitioners=[
            PetitionerInput("李玉山", "150102198809234520", "13947110001", "东风村三组12号")
        ],
    )
    services.decide_acceptance(first, accept=True, by=officer, on=today - timedelta(days=6))
    if stations:
        services.hand_over(
            first,
            department=stations[0],
            by=officer,
            instructions="请会同村委会拿出施工方案",
        )
        services.add_progress(first, text="已电话督办，站所正在测算工程量", by=officer)
    group = petition(
        session_id=held.id,
        channel="visit",
        category="land",
        matter="反映征地补偿款未按时足额发放",
        village_id=village.id if village else None,
        is_group=True,
        head_count=12,
        petitioners=[
            PetitionerInput("高志刚", "150102199007152421", "13947110002", "东风村五组"),
            PetitionerInput("马秀英", "", "13947110003", "东风村五组"),
        ],
    )
    services.decide_acceptance(group, accept=True, by=officer, on=today - timedelta(days=6))
    services.escalate(group, reason="涉及群众12人，补偿标准需班子研究", by=officer)
    services.record_decision(
        group,
        meeting_on=today,
        members=[leader, deputy],
        decision="由财政所核对补偿名册，十日内补发到位，并向群众书面答复。",
        by=leader,
    )
    services.close_session(held, by=officer, summary="接访2批14人次，旁听人员提出意见2条。")

    # the same petitioner again, by phone: recognised by the ID number
    repeat = petition(
        channel="phone",
        category="construction",
        matter="再次询问通村道路硬化进度",
        village_id=village.id if village else None,
        petitioners=[PetitionerInput("李玉山", "150102198809234520", "13947110001", "")],
    )
    services.decide_acceptance(repeat, accept=True, by=officer)
    services.answer(
        repeat,
        result="已告知道路硬化计划及开工时间，并将进展在村务公开栏公示。",
        told_how="电话告知本人",
        by=officer,
        close=True,
    )
    # a letter waiting for the acceptance decision
    petition(
        channel="letter",
        category="social_security",
        matter="申请复核低保资格",
        village_id=village.id if village else None,
        petitioners=[
            PetitionerInput("赵春花", "150102199203111811", "13947110004", "东风村一组7号")
        ],
    )
    # next week's open reception, on the public schedule
    services.plan_session(
        township,
        by=officer,
        held_on=today + timedelta(days=7),
        starts_at="09:30",
        place="镇政府信访接待室",
        leader=leader,
        convener=deputy,
        topic="民生事项集中接访",
    )
