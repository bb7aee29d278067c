"""Demo data of the service guide: a county model catalogue, the township's matters,
its service hall and village service rooms (idempotent)."""

from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, UnitKind, User
from plugins.guide.models import (
    GuideMatter,
    GuideModelMatter,
    GuideServiceHall,
    GuideServiceRoom,
    Place,
)

MODELS = [
    # name, department, place, kind, fee (fen), basis, authority, materials, steps
    (
        "开具户籍关系证明",
        "党政办",
        Place.township,
        "service",
        0,
        "",
        "《中华人民共和国户口登记条例》",
        "居民身份证\n户口簿",
        "提交材料\n窗口核对\n当场出具证明",
    ),
    (
        "城乡居民最低生活保障申请",
        "民政办",
        Place.village,
        "approval",
        0,
        "",
        "《社会救助暂行办法》",
        "申请书\n居民身份证\n户口簿\n家庭收入证明",
        "村便民服务室受理\n入户调查\n民主评议与公示\n镇审核后报县审批",
    ),
    (
        "农村宅基地申请",
        "农业服务中心",
        Place.county,
        "approval",
        1000,
        "自治区物价局核定的工本费标准",
        "《中华人民共和国土地管理法》第六十二条",
        "申请书\n居民身份证\n户口簿\n村民会议意见",
        "镇受理并初审\n镇代办报县审批\n送达到户",
    ),
    (
        "高龄津贴申领",
        "民政办",
        Place.household,
        "service",
        0,
        "",
        "自治区高龄津贴发放办法",
        "居民身份证\n银行卡",
        "村级代办员入户采集\n镇审核\n按月发放",
    ),
]


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, "guide"):
        return
    county = db.session.get(OrgUnit, township.parent_id) if township.parent_id else None
    if county is not None and county.kind == UnitKind.county:
        for name, dept, place, kind, fee, basis, authority, materials, steps in MODELS:
            exists = db.session.scalar(
                select(GuideModelMatter.id).where(
                    GuideModelMatter.county_id == county.id, GuideModelMatter.name == name
                )
            )
            if not exists:
                db.session.add(
                    GuideModelMatter(
                        county_id=county.id,
                        name=name,
                        department_name=dept,
                        place=place,
                        authority=authority,
                        case_kind=kind,
                        fee_standard_fen=fee,
                        fee_basis=basis,
                        materials=materials,
                        steps=steps,
                    )
                )
    if db.session.scalar(select(GuideMatter.id).where(GuideMatter.township_id == township.id)):
        return
    stations = {
        u.name: u.id
        for u in db.session.scalars(
            select(OrgUnit).where(
                OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.station
            )
        )
    }
    clerk = db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_unit_id == township.id, Membership.role == "clerk")
    )
    for name, dept, place, kind, fee, basis, authority, materials, steps in MODELS:
        db.session.add(
            GuideMatter(
                township_id=township.id,
                name=name,
                department_id=stations.get(dept),
                place=place,
                authority=authority,
                case_kind=kind,
                fee_standard_fen=fee,
                fee_basis=basis,
                materials=materials,
                steps=steps,
                responsible_id=clerk.id if clerk else None,
            )
        )
    db.session.add(
        GuideServiceHall(
            township_id=township.id,
            address=f"{township.name}人民政府一楼便民服务大厅",
            hours="周一至周五 8:30–12:00，14:30–17:30",
            phone="0471-6612345",
        )
    )
    villages = db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.village)
        .order_by(OrgUnit.id)
    ).all()
    for n, village in enumerate(villages, 1):
        db.session.add(
            GuideServiceRoom(
                township_id=township.id,
                village_id=village.id,
                address=f"{village.name}村委会",
                hours="周一至周五 9:00–17:00",
                agent_name=["赵代办", "钱代办", "孙代办", "李代办"][n % 4],
                agent_phone=f"1380000{n:04d}",
            )
        )
    db.session.flush()
