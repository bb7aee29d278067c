"""The demo county: two townships with villages and stations, one user per role,
people, and cases in several states. Idempotent: running it twice adds nothing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from core import cases as case_services
from core import clock
from core.auth import hash_password
from core.calendar import WorkingCalendar
from core.db import db
from core.institutions import set_enabled
from core.models import Case, Membership, OrgUnit, Person, PersonCategory, UnitKind, User
from core.plugins import CORE_KEY, state

COUNTY = ("示范县", "demo-county")
TOWNSHIPS = [
    ("东风镇", "dongfeng", ["前进村", "红星村", "光明村"], ["党政办", "民政办", "农业服务中心"]),
    ("红旗镇", "hongqi", ["新华村", "团结村"], ["党政办", "综治办", "社会事务办"]),
]
LOGINS_FILE = "demo_logins.txt"


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    unit: str


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(OrgUnit.id)))


def _unit(name: str, code: str, kind: UnitKind, parent: OrgUnit | None) -> OrgUnit:
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        unit = OrgUnit(
            name=name,
            code=code,
            kind=kind,
            parent_id=parent.id if parent else None,
            timezone=current_app.config["DEFAULT_TIMEZONE"],
        )
        db.session.add(unit)
        db.session.flush()
        unit.township_id = (
            unit.id if kind == UnitKind.township else (parent.township_id if parent else None)
        )
    return unit


def _user(username: str, name: str, role: str, unit: OrgUnit, logins: list[DemoLogin]) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        password = secrets.token_urlsafe(9)
        user = User(
            username=username,
            name=name,
            password_hash=hash_password(password),
            email=f"{username}@demo.invalid",
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(Membership(user_id=user.id, org_unit_id=unit.id, role=role))
        logins.append(DemoLogin(username, password, role, unit.name))
    return user


def load_demo() -> list[DemoLogin]:
    """Create the demo county (what is there already is kept). Returns new logins."""
    logins: list[DemoLogin] = []
    roles = state().roles
    county = _unit(*COUNTY, UnitKind.county, None)
    _user("county", "县信息中心管理员", "county_admin", county, logins)
    townships = []
    for index, (name, code, villages, stations) in enumerate(TOWNSHIPS):
        township = _unit(name, code, UnitKind.township, county)
        townships.append(township)
        for n, village in enumerate(villages, 1):
            _unit(village, f"{code}-v{n}", UnitKind.village, township)
        for n, station in enumerate(stations, 1):
            _unit(station, f"{code}-s{n}", UnitKind.station, township)
        for role in roles.values():
            if role.county_level:
                continue
            # the first township gets every role (plugins' too); the second the core ones
            if index and role.code not in {"township_admin", "leader", "clerk", "duty_leader"}:
                continue
            _user(
                f"{code}-{role.code.replace('_', '-')}",
                f"{name}{role.label}",
                role.code,
                township,
                logins,
            )
        _people(township)
    db.session.commit()

    # the first township adopts every institution, the second none: see the difference
    for key in [p.key for p in state().institutions()]:
        from core.institutions import is_enabled

        if not is_enabled(townships[0].id, key):
            set_enabled(townships[0], key, True)
    # every plugin but the core seeds, through pluggy's caller (TRACE_PLUGINS sees it)
    seed = state().pm.subset_hook_caller(
        "township_demo_data", remove_plugins=[state().plugins[CORE_KEY].obj]
    )
    for township in townships:
        _cases(township)
        _duty(township)
        seed(township=township, session=db.session)
        db.session.commit()
    if logins:
        _save_logins(logins)
    return logins


def _people(township: OrgUnit) -> None:
    if db.session.scalar(select(Person.id).where(Person.township_id == township.id)):
        return
    samples = [
        ("张建国", PersonCategory.citizen, "13800001111"),
        ("刘秀英", PersonCategory.party_member, "13900002222"),
        ("陈志强", PersonCategory.observer, "13700003333"),
        ("王桂兰", PersonCategory.retired_cadre, "13600004444"),
    ]
    for n, (name, category, phone) in enumerate(samples):
        db.session.add(
            Person(
                township_id=township.id,
                name=name,
                category=category,
                phone=phone,
                id_number=f"15010219{60 + n}0101{1000 + n}",
            )
        )


def _cases(township: OrgUnit) -> None:
    if db.session.scalar(select(Case.id).where(Case.township_id == township.id)):
        return
    clerk = db.session.scalar(
        select(User)
        .join(Membership)
        .where(Membership.org_unit_id == township.id, Membership.role == "clerk")
    )
    leader = db.session.scalar(
        select(User)
        .join(Membership)
        .where(Membership.org_unit_id == township.id, Membership.role == "leader")
    )
    station = db.session.scalar(
        select(OrgUnit).where(OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.station)
    )
    today = clock.today()
    calendar = WorkingCalendar.for_township(township.id)

    def working_days_ago(n: int) -> date:
        day = today
        while n:
            day -= timedelta(days=1)
            n -= calendar.is_workday(day)
        return day

    people = db.session.scalars(select(Person).where(Person.township_id == township.id)).all()
    plan = [
        ("service", "办理低保资格证明", 0, False),
        ("service", "开具户籍关系证明", 2, False),  # due soon
        ("approval", "宅基地审批申请", 8, False),  # overdue
        ("inquiry", "咨询养老保险补缴政策", 3, False),
        ("commitment", "修复村道路灯", 1, True),  # resolved
    ]
    for kind, title, ago, resolve in plan:
        accepted = working_days_ago(ago)
        person = people[len(title) % len(people)] if people else None
        case = case_services.register_case(
            township=township,
            kind=kind,
            title=title,
            applicant=person,
            applicant_name=person.name if person else "群众",
            first_responder=clerk,
            received_on=accepted,
            accept=True,
        )
        case_services.assign_case(case, clerk, leader, station)
        if resolve:
            case_services.resolve_case(case, leader, "已修复并回访群众")


def _duty(township: OrgUnit) -> None:
    """A weekly duty pattern (leader reception on Mondays, weekend window and phone duty)
    and one leader away, so the dashboard and the public page show them."""
    from core import duty, presence
    from core.models import Absence, DutyPattern, DutyPost

    if db.session.scalar(select(DutyPattern.id).where(DutyPattern.township_id == township.id)):
        return
    role_users = {
        m.role: m.user
        for m in db.session.scalars(select(Membership).where(Membership.org_unit_id == township.id))
    }
    leader, clerk = role_users.get("leader"), role_users.get("clerk")
    on_call = role_users.get("duty_leader") or leader
    admin = role_users.get("township_admin") or clerk
    if leader is None or clerk is None or on_call is None:
        return
    if on_call.phone is None:
        on_call.phone = "0471-5551234"  # the township office's duty phone
    if clerk.phone is None:
        clerk.phone = "0471-5551235"
    since = date(clock.today(township).year, 1, 1)
    working, rest = False, True  # the rest_day flag of a pattern entry
    plan = [
        (DutyPost.reception_leader, leader, [(0, working)]),
        (DutyPost.duty_leader, leader, [(0, working), (2, working), (4, working)]),
        (DutyPost.duty_leader, on_call, [(1, working), (3, working)]),
        (DutyPost.duty_leader, on_call, [(d, rest) for d in range(7)]),
        (DutyPost.window, clerk, [(d, working) for d in range(7)]),
        (DutyPost.window, admin, [(d, rest) for d in range(6)]),  # holidays too
        (DutyPost.window, clerk, [(6, rest)]),
        (DutyPost.hotline, clerk, [(d, working) for d in range(7)]),
        (DutyPost.hotline, on_call, [(d, rest) for d in range(7)]),
    ]
    for post, user, days in plan:
        duty.add_to_pattern(township, post, user, days, valid_from=since)
    if township.code == TOWNSHIPS[0][1] and not db.session.scalar(
        select(Absence.id).where(Absence.township_id == township.id)
    ):
        now = clock.now_utc()
        presence.record_absence(
            township,
            leader,
            now - timedelta(hours=1),
            now + timedelta(days=2),
            "到县里参加培训",
            by=clerk,
        )


def _save_logins(logins: list[DemoLogin]) -> None:
    path = Path(current_app.instance_path) / LOGINS_FILE
    with path.open("a", encoding="utf-8") as fh:
        for login in logins:
            fh.write(f"{login.username}\t{login.password}\t{login.role}\t{login.unit}\n")
    path.chmod(0o600)


def saved_logins() -> list[DemoLogin]:
    path = Path(current_app.instance_path) / LOGINS_FILE
    if not path.exists():
        return []
    latest = {}
    for line in path.read_text("utf-8").splitlines():
        if line.count("\t") == 3:
            login = DemoLogin(*line.split("\t"))
            latest[login.username] = login  # a later line is a newer password
    existing = set(db.session.scalars(select(User.username).where(User.username.in_(latest))))
    return [login for name, login in latest.items() if name in existing]
