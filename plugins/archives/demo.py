"""Demo rows for ``township demo`` (idempotent): a filed and closed year in a box, a loan,
an item waiting in the filing inbox, an old item due for appraisal."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core import clock
from core.access import users_with
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, User
from plugins.archives import services
from plugins.archives.models import ArchiveClass, Box, Item, Retention

LAST_YEAR = [
    ("镇党委会议纪要（第1期）", "党政办", "东党纪〔{y}〕1号", "WS", Retention.permanent, 6),
    ("关于宅基地审批工作的通知", "党政办", "东政发〔{y}〕12号", "WS", Retention.y30, 3),
    ("宅基地审批申请汇总表", "农业服务中心", "", "YW.core", Retention.y10, 12),
    ("低保资格年审名册", "民政办", "", "YW.core", Retention.y30, 24),
    ("镇机关财务报表（年度）", "党政办", "", "KJ", Retention.permanent, 8),
]


def _user(township: OrgUnit, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership)
        .where(Membership.org_unit_id == township.id, Membership.role == role)
    )


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, services.KEY):
        return
    services.ensure_settings(township.id)
    services.ensure_scheme(township.id)
    db.session.commit()
    if db.session.scalar(
        select(Item.id).where(Item.township_id == township.id, Item.source == services.PAPER)
    ):
        return
    archivist = _user(township, services.ARCHIVIST_ROLE) or next(
        iter(users_with(services.WRITE, township.id)), None
    )
    if archivist is None:
        return
    today = clock.today(township)
    year = today.year - 1
    classes = {
        c.code: c.id
        for c in db.session.scalars(
            select(ArchiveClass).where(ArchiveClass.township_id == township.id)
        )
    }
    box = Box(township_id=township.id, box_no=f"{year}-01", room="档案室", shelf="A-01", year=year)
    db.session.add(box)
    db.session.flush()
    ids = []
    for n, (title, responsible, number, code, retention, pages) in enumerate(LAST_YEAR):
        item = services.register_paper(
            township.id,
            title=title,
            responsible=responsible,
            doc_number=number.format(y=year),
            doc_date=date(year, 3 + n, 10),
            pages=pages,
            class_id=classes[code],
            retention=retention,
            description=f"{title}（纸质原件，{pages} 页）",
            by=archivist,
        )
        ids.append(item.id)
    filed = services.file_items(township.id, ids, archivist)
    for item in filed:
        services.place_item(item, box, None, archivist)
    services.close_year(township.id, year, archivist)

    # an old 10-year item whose retention has ended: it comes up for appraisal
    old = services.register_paper(
        township.id,
        title="村道维修临时用工登记表",
        responsible="农业服务中心",
        doc_date=date(max(2000, today.year - 13), 5, 20),
        pages=4,
        class_id=classes["YW.core"],
        retention=Retention.y10,
        by=archivist,
    )
    services.file_items(township.id, [old.id], archivist)

    # a loan: a clerk borrowed the homestead summary, a leader approved, it is out
    clerk, leader = _user(township, "clerk"), _user(township, "leader")
    if clerk is not None and leader is not None:
        loan = services.request_loan(
            clerk,
            township_id=township.id,
            item=filed[2],
            purpose="核对宅基地审批档案",
            wanted_until=today + timedelta(days=14),
        )
        services.decide_loan(loan, leader, True, note="同意，限室内阅览")
        services.lend(loan, archivist)

    # an item waiting in the filing inbox
    services.register_paper(
        township.id,
        title="关于宅基地审批公示情况的报告",
        responsible="党政办",
        doc_number=f"东政报〔{today.year}〕3号",
        doc_date=today - timedelta(days=3) if today.month > 1 or today.day > 3 else today,
        pages=2,
        description="宅基地审批结果已在镇、村公开栏公示七天，无异议。",
        by=archivist,
    )
