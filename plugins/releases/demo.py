"""Demo rows for ``township demo`` (idempotent: nothing is added twice)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.db import db, utcnow
from core.models import OrgUnit
from plugins.releases import services
from plugins.releases.models import (
    BatchStatus,
    CollectedItem,
    Disclosure,
    DisclosureCategory,
    Product,
    ProductStatus,
    ReleaseBatch,
    SourceChannel,
)


def seed(township: OrgUnit) -> None:
    """A plan, the board's categories, collected items, a released product, a board entry."""
    services.ensure_plan(township.id)
    services.ensure_categories(township.id)
    if db.session.scalar(select(CollectedItem.id).where(CollectedItem.township_id == township.id)):
        return
    today = clock.today(township)
    grapes = CollectedItem(
        township_id=township.id,
        title="葡萄早春防霜冻技术要点",
        body="覆膜、熏烟、灌水三种办法，适合本镇河谷地带。",
        source=SourceChannel.tv,
        source_detail="农业频道《致富经》",
        category="种植技术",
        useful_until=today + timedelta(days=60),
    )
    prices = CollectedItem(
        township_id=township.id,
        title="县城批发市场葡萄收购价",
        body="本周收购价每公斤 6.2 元，较上周上涨 0.3 元。",
        source=SourceChannel.internet,
        source_detail="县农业农村局网站",
        category="市场行情",
        useful_until=today + timedelta(days=7),
    )
    db.session.add_all([grapes, prices])
    db.session.flush()
    product = Product(
        township_id=township.id,
        title="本月葡萄种植户致富信息",
        audience="葡萄种植户",
        body=services.sanitize_html(
            "<p>早春防霜冻：<strong>覆膜、熏烟、灌水</strong>。</p><p>县城收购价每公斤 6.2 元。</p>"
        ),
        status=ProductStatus.approved,
        approved_at=utcnow(),
        items=[grapes, prices],
    )
    db.session.add(product)
    now = utcnow()
    batch = ReleaseBatch(
        township_id=township.id,
        scheduled_for=now,
        status=BatchStatus.pending,
        channels=list(services.DEFAULT_CHANNELS),
    )
    db.session.add(batch)
    db.session.flush()
    services.publish_batch(batch.id, now=now)
    category = db.session.scalar(
        select(DisclosureCategory).where(
            DisclosureCategory.township_id == township.id,
            DisclosureCategory.builtin == "subsidies",
        )
    )
    db.session.add(
        Disclosure(
            township_id=township.id,
            category_id=category.id,
            title="耕地地力保护补贴发放",
            policy="按国家耕地地力保护补贴政策执行。",
            conditions="本镇承包耕地的农户。",
            procedure="村级申报、镇级审核、公示七天、县级拨付。",
            time_limit="每年 6 月底前发放到户",
            result="全镇 1,203 户已发放。",
            fee="不收取任何费用",
            person_in_charge="镇农业服务中心 张主任",
            liability="未按时发放的，追究经办人责任并公开说明。",
        )
    )
    db.session.flush()
