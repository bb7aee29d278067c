"""Demo data of extended hours (idempotent): two after-hours services of the last week
(one urgent, linked to a case), the clerk's acknowledgement of this year's conduct rule,
and the coverage check of the coming weeks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.calendar import WorkingCalendar
from core.db import db
from core.institutions import is_enabled
from core.models import Case, Membership, OrgUnit, User
from plugins.extended_hours import services
from plugins.extended_hours.models import ExtendedHoursService
from plugins.extended_hours.policy import KEY


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
    tid = township.id
    if db.session.scalar(
        select(ExtendedHoursService.id).where(ExtendedHoursService.township_id == tid)
    ):
        return
    clerk = _user(township, "clerk")
    admin = _user(township, "township_admin") or clerk
    if clerk is None:
        return
    today = clock.today(township)
    calendar = WorkingCalendar.for_township(tid)
    rest = next(
        (
            today - timedelta(days=n)
            for n in range(1, 15)
            if not calendar.is_workday(today - timedelta(days=n))
        ),
        today - timedelta(days=1),
    )
    working = next(
        (
            today - timedelta(days=n)
            for n in range(1, 15)
            if calendar.is_workday(today - timedelta(days=n))
        ),
        today - timedelta(days=1),
    )
    case = db.session.scalar(select(Case).where(Case.township_id == tid).order_by(Case.id))
    services.record_service(
        township,
        services.ServiceInput(
            citizen_name="赵桂芳",
            citizen_phone="13904715678",
            matter="周末办理新生儿户口登记所需证明",
            served_on=rest,
            starts="09:30",
            ends="10:10",
            staff_id=admin.id,
            result="当场开具证明，群众满意",
        ),
        by=clerk,
    )
    services.record_service(
        township,
        services.ServiceInput(
            citizen_name="孙志刚",
            matter="外出务工前急需办理低保资格证明",
            served_on=working,
            starts="18:10",
            ends="18:50",
            staff_id=clerk.id,
            result="下班后加班办结，次日一早取件",
            urgent=case is not None,
            receipt_no=case.receipt_no if case is not None else "",
        ),
        by=clerk,
    )
    try:
        services.acknowledge_rule(township, clerk)
    except services.ExtendedHoursError:
        db.session.rollback()
    services.sync_gaps(tid)
    db.session.commit()
