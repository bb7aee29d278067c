"""Demo data of information feedback (idempotent): duty reports of the last days (filed,
filed late, one not filed), village activity reports of this stage (one village on
track, one behind, one without any), a service team's progress report, and two reports
to the office (one acknowledged)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock, duty
from core.db import db, utcnow
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, User
from plugins.feedback import services
from plugins.feedback.models import (
    DutyReportStatus,
    FeedbackDutyReport,
    FeedbackStageReport,
    StageReportKind,
)
from plugins.feedback.policy import KEY


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
        select(FeedbackStageReport.id).where(FeedbackStageReport.township_id == township.id)
    ):
        return
    clerk, leader = _user(township, "clerk"), _user(township, "leader")
    if clerk is None or leader is None:
        return
    tid = township.id
    today = clock.today(township)
    _duty_reports(township)
    stage = services.stage_on(tid, today)
    villages = services.villages(tid)
    plan = [
        ("开展“政策进村入户”宣讲", "村两委干部逐户讲解惠农补贴申领办法，发放明白纸120份。"),
        ("组织志愿者帮助独居老人清扫庭院", "党员志愿者12人参加，走访独居老人8户。"),
        ("召开村民议事会商议道路硬化", "到会村民代表35人，形成一致意见，报镇农业服务中心。"),
    ]
    if stage is not None and villages:
        days = max(1, (today - stage.starts_on).days)
        for index, village in enumerate(villages[:2]):
            for n, (title, body) in enumerate(plan[: 3 - index]):
                services.add_stage_report(
                    township,
                    services.StageReportInput(
                        kind=StageReportKind.village_activity,
                        village_id=village.id,
                        title=title,
                        body=body,
                        reported_on=stage.starts_on + timedelta(days=min(days, 3 * n)),
                    ),
                    by=clerk,
                )
        services.add_stage_report(
            township,
            services.StageReportInput(
                kind=StageReportKind.team_progress,
                team="第一便民服务队",
                title="本阶段便民服务进展",
                body="完成代办事项18件，上门服务6次，群众反映的路灯问题已协调解决。",
                reported_on=today,
            ),
            by=clerk,
        )
    first = services.submit_report(
        township,
        services.ReportInput(
            reporter_role="mediation_group",
            category="dispute",
            title="前进村土地边界纠纷调处情况",
            body="调解组两次到现场，双方已签订调解协议，后续由村委会跟踪落实。",
        ),
        by=leader,
    )
    services.acknowledge(first, by=clerk, note="已阅，纳入本月汇总。")
    services.submit_report(
        township,
        services.ReportInput(
            reporter_role="unit_head",
            category="problem",
            title="农业服务中心春耕物资缺口",
            body="部分村化肥到货延迟，建议协调供销社提前调配。",
        ),
        by=leader,
    )


def _duty_reports(township: OrgUnit) -> None:
    """The last five duty days: the older ones filed (one late), the latest past its time
    not filed, today's waiting."""
    tid = township.id
    current = duty.duty_day(township)
    now = utcnow()
    days = duty.rota(tid, current - timedelta(days=5), 6)
    past_due: list[FeedbackDutyReport] = []
    for day in days:
        report = services._create(tid, day)
        if report is not None and report.due_at <= now:
            past_due.append(report)
    db.session.commit()
    if not past_due:
        return
    *older, latest = past_due
    for n, report in enumerate(older):
        person = report.persons[0].user if report.persons else None
        report.letters, report.visits, report.calls = n % 2, 1 + n % 3, 2 + n
        report.summary = "来电咨询养老保险补缴政策，来访反映村道路灯不亮，均已登记转办。"
        report.filed_by_id = person.id if person else None
        late = n == 0
        report.filed_at = report.due_at + (timedelta(hours=2) if late else -timedelta(hours=12))
        report.status = DutyReportStatus.late if late else DutyReportStatus.filed
        if late:
            report.missed_at = report.due_at
    db.session.commit()
    services.mark_missing(tid, latest.duty_date.isoformat())
    db.session.commit()
