"""Records land in the filing inbox frozen; filing gives the next reference code; the
archive never follows later edits of the source."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.contract import ArchivalRecord
from plugins.archives import services
from plugins.archives.models import (
    AppendOnlyError,
    ArchiveClass,
    FrozenContent,
    Item,
    ItemEvent,
    ItemStatus,
    Retention,
)


def _close_a_case(db, township, clerk, title="宅基地审批申请（张三）"):
    from core import cases

    case = cases.register_case(
        township=township,
        kind="approval",
        title=title,
        applicant_name="张三",
        first_responder=clerk,
        accept=True,
    )
    cases.assign_case(case, clerk, clerk, None)
    cases.resolve_case(case, clerk, "同意建房，面积 120 平方米")
    cases.deliver_case(case, clerk, "当面送达")
    cases.close_case(case, clerk)
    return case


def test_a_closed_case_lands_in_the_inbox_frozen_and_later_edits_leave_it(
    db, enabled, archivist, clerk
):
    case = _close_a_case(db, enabled, clerk)
    item = db.session.scalar(select(Item).where(Item.source == "core"))
    assert item.status == ItemStatus.waiting
    assert item.title == case.title and item.doc_number == case.receipt_no
    assert item.responsible == clerk.name
    assert item.archive_class.code == "YW.core" and item.retention == Retention.y10
    assert "同意建房" in item.content.html
    assert [e["action"] for e in item.content.trail][-1] == "closed"  # "what": in words

    filed = services.file_items(enabled.id, [item.id], archivist)[0]
    assert filed.reference_code == f"EAST-{filed.year}-D10-YW.core-0001"

    # the source changes afterwards: the archive keeps what was handed over
    case.result = "改为：不同意"
    case.title = "改过的标题"
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Item, item.id)
    assert "同意建房，面积 120 平方米" in again.content.html
    assert "不同意" not in again.content.html and again.title != "改过的标题"


def test_a_published_release_batch_lands_in_the_inbox_with_its_content(db, enabled, archivist):
    from core.institutions import set_enabled
    from plugins.releases.models import Product, ProductStatus, ReleaseBatch
    from plugins.releases.services import publish_batch

    set_enabled(enabled, "releases", True)
    product = Product(
        township_id=enabled.id,
        title="宅基地审批政策解读",
        audience="村民",
        body="<p>一户一宅，面积不超过标准。</p>",
        status=ProductStatus.approved,
        approved_at=services.utcnow(),
    )
    batch = ReleaseBatch(township_id=enabled.id, scheduled_for=services.utcnow(), channels=["web"])
    db.session.add_all([product, batch])
    db.session.commit()
    assert publish_batch(batch.id)
    db.session.commit()
    item = db.session.scalar(select(Item).where(Item.source == "releases"))
    assert item.status == ItemStatus.waiting
    assert "一户一宅" in item.content.html and "宅基地审批政策解读" in item.content.text
    assert item.archive_class.code == "YW.releases" and item.retention == Retention.y30

    # the product is edited afterwards; the archived copy stays as published
    product.body = "<p>改写后的内容</p>"
    db.session.commit()
    db.session.expire_all()
    assert "一户一宅" in db.session.get(Item, item.id).content.html
    filed = services.file_items(enabled.id, [item.id], archivist)[0]
    assert filed.reference_code.endswith("-D30-YW.releases-0001")


def test_filing_gives_the_next_number_of_the_group_and_a_batch_is_numbered_in_order(
    db, enabled, archivist, waiting_item
):
    first = services.file_items(enabled.id, [waiting_item("一").id], archivist)[0]
    batch = [waiting_item(t).id for t in ("二", "三", "四")]
    other = waiting_item("五", retention_hint="10y")
    filed = services.file_items(enabled.id, [*batch, other.id], archivist)
    numbers = sorted(i.item_no for i in filed if i.retention == Retention.y30)
    assert first.item_no == 1 and numbers == [2, 3, 4]
    ten = next(i for i in filed if i.retention == Retention.y10)
    assert ten.item_no == 1 and "-D10-" in ten.reference_code
    assert (
        db.session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.action == "filed")) == 5
    )


def test_a_bad_batch_files_nothing_and_says_why(db, enabled, archivist, waiting_item):
    good = waiting_item("好的")
    bad = waiting_item("没有分类", source="nowhere")
    bad.class_id = None
    bad.retention = None
    db.session.commit()
    with pytest.raises(services.ArchivesError, match="needs a class and a retention"):
        services.file_items(enabled.id, [good.id, bad.id], archivist)
    db.session.expire_all()
    assert db.session.get(Item, good.id).status == ItemStatus.waiting
    assert db.session.get(Item, good.id).reference_code is None
    # numbers were not used up: the next filing starts at 1
    assert services.file_items(enabled.id, [good.id], archivist)[0].item_no == 1
    with pytest.raises(services.ArchivesError, match="already filed"):
        services.file_items(enabled.id, [good.id], archivist)


def test_a_duplicate_reference_code_is_refused_by_the_database(
    db, enabled, archivist, waiting_item
):
    item = services.file_items(enabled.id, [waiting_item("一").id], archivist)[0]
    # someone wound the counter back: the unique constraint refuses the second code
    from plugins.archives.models import Counter

    db.session.execute(Counter.__table__.update().values(last_no=0))
    db.session.commit()
    second = waiting_item("二")
    with pytest.raises(services.ArchivesError, match="given twice"):
        services.file_items(enabled.id, [second.id], archivist)
    db.session.expire_all()
    assert db.session.get(Item, second.id).status == ItemStatus.waiting
    assert db.session.get(Item, item.id).reference_code.endswith("-0001")


def test_frozen_content_and_the_trail_never_change(db, filed_item):
    item = filed_item()
    content = db.session.get(FrozenContent, item.id)
    content.html = "<p>篡改</p>"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    event = db.session.scalar(select(ItemEvent))
    db.session.delete(event)
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(Item, item.id))
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()


def test_changing_a_filed_items_metadata_leaves_a_trail_and_keeps_its_code(
    db, filed_item, archivist
):
    item = filed_item()
    code = item.reference_code
    services.update_item(item, {"title": "宅基地审批申请（更正）", "pages": 3}, archivist)
    event = db.session.scalar(select(ItemEvent).where(ItemEvent.action == "changed"))
    assert event.before == {"title": "宅基地审批申请", "pages": None}
    assert event.after == {"title": "宅基地审批申请（更正）", "pages": 3}
    with pytest.raises(services.ArchivesError, match="keeps its class"):
        services.update_item(item, {"retention": Retention.y10}, archivist)
    with pytest.raises(services.ArchivesError, match="longer than 300"):
        services.update_item(item, {"title": "长" * 301}, archivist)
    db.session.expire_all()
    assert db.session.get(Item, item.id).reference_code == code


def test_a_record_handed_over_twice_waits_once(db, enabled, produce):
    produce("同一份", reference="same:1")
    from core.records import produce as core_produce

    core_produce(
        enabled,
        ArchivalRecord(
            source="releases",
            reference="same:1",
            kind="x",
            title="同一份",
            produced_at=services.utcnow(),
        ),
    )
    db.session.commit()
    assert db.session.scalar(select(func.count(Item.id))) == 1


def test_yearly_filing_closes_a_year_only_when_nothing_of_it_waits(db, enabled, archivist, paper):
    waiting = paper("去年的纪要", class_id=_class(db, "WS"), retention=Retention.permanent)
    with pytest.raises(services.ArchivesError, match="still wait"):
        services.close_year(enabled.id, 2020, archivist)
    services.file_items(enabled.id, [waiting.id], archivist)
    closing = services.close_year(enabled.id, 2020, archivist)
    assert closing.items == 1
    late = paper("迟到的文件", class_id=_class(db, "WS"), retention=Retention.permanent)
    with pytest.raises(services.ArchivesError, match="closed"):
        services.file_items(enabled.id, [late.id], archivist)
    services.update_item(late, {"year": 2021}, archivist)
    assert services.file_items(enabled.id, [late.id], archivist)[0].year == 2021


def _class(db, code):
    return db.session.scalar(select(ArchiveClass.id).where(ArchiveClass.code == code))


def test_paper_registration_validates_dates_and_lengths(db, enabled, archivist):
    from datetime import date, timedelta

    from core import clock

    with pytest.raises(services.ArchivesError, match="future"):
        services.register_paper(
            enabled.id,
            title="明天",
            responsible="",
            doc_date=clock.today(enabled) + timedelta(days=1),
            by=archivist,
        )
    with pytest.raises(services.ArchivesError, match="before"):
        services.register_paper(
            enabled.id, title="太早", responsible="", doc_date=date(1990, 1, 1), by=archivist
        )
    with pytest.raises(services.ArchivesError, match="title"):
        services.register_paper(
            enabled.id, title="  ", responsible="", doc_date=date(2020, 1, 1), by=archivist
        )
    assert db.session.scalar(select(func.count(Item.id))) == 0
