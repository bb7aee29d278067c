"""Demo data for a township that enabled the evaluation institution (idempotent): a closed
case rated dissatisfied (a follow-up waits for the leader), a few satisfied ratings, this
year's round with the default form and some marks, and a rectification plan."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import cases as case_services
from core import clock
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, UnitKind, User
from plugins.evaluation import services
from plugins.evaluation.models import (
    EvaluationRating,
    EvaluationRound,
    RatingChannel,
    RectificationSource,
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
        select(EvaluationRound.id).where(EvaluationRound.township_id == township.id)
    ):
        return
    clerk, leader = _role(township, "clerk"), _role(township, "leader")
    admin = _role(township, "township_admin")
    if clerk is None or leader is None:
        return
    station = db.session.scalar(
        select(OrgUnit).where(OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.station)
    )
    today = clock.today(township)
    samples = [
        ("办理独生子女证", "satisfied", ""),
        ("办理老年优待证", "basically_satisfied", "排队时间有点长"),
        ("申请临时救助", "dissatisfied", "窗口人员态度不好，跑了三趟"),
    ]
    for title, level, comment in samples:
        case = case_services.register_case(
            township=township,
            kind="service",
            title=title,
            applicant_name="群众",
            first_responder=clerk,
            received_on=today,
            accept=True,
        )
        case_services.assign_case(case, clerk, clerk, station)
        case_services.resolve_case(case, clerk, "已办结")
        case_services.close_case(case, clerk)
        services.rate_case(
            case,
            level,
            comment,
            channel=RatingChannel.phone if level == "satisfied" else RatingChannel.receipt,
            recorded_by=clerk if level == "satisfied" else None,
        )
    round_ = services.open_round(
        township,
        f"{today.year}年度干部考评",
        today.year,
        date(today.year, 1, 1),
        date(today.year, 12, 31),
    )
    form = services.criteria(round_.id)
    for rater, score in ((leader, 22), (admin, 20)):
        if rater is None or rater.id == clerk.id:
            continue
        services.save_marks(
            round_,
            rater,
            services.Subject(f"user:{clerk.id}", clerk.name, user_id=clerk.id),
            {c.id: str(min(score, c.max_score)) for c in form},
        )
    rating = db.session.scalar(
        select(EvaluationRating)
        .where(EvaluationRating.township_id == township.id)
        .order_by(EvaluationRating.id.desc())
    )
    services.create_rectification(
        township,
        services.RectificationInput(
            problem="窗口接待态度生硬，群众多次往返",
            plan="开展文明服务培训，推行一次性告知",
            owner_id=clerk.id,
            deadline=today + timedelta(days=30),
            source=RectificationSource.citizen_rating,
            rating_id=rating.id if rating else None,
            subject_user_id=clerk.id,
        ),
        leader,
    )
