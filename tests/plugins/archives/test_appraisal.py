"""Appraisal: items past their retention come up; a destruction needs a leader's approval
and witnesses, leaves a register entry, and the item stays in the catalogue."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import clock
from plugins.archives import services
from plugins.archives.models import (
    ArchiveClass,
    Destruction,
    DestructionStatus,
    Item,
    ItemStatus,
    Retention,
)


def _filed_paper(db, enabled, archivist, paper, year, retention):
    ws = db.session.scalar(select(ArchiveClass.id).where(ArchiveClass.code == "WS"))
    item = paper(f"{year} 年会议纪要", doc_date=date(year, 3, 1), class_id=ws, retention=retention)
    return services.file_items(enabled.id, [item.id], archivist)[0]


def test_appraisal_and_destruction_with_approval(db, enabled, archivist, leader, paper):
    old = _filed_paper(db, enabled, archivist, paper, 2010, Retention.y10)
    young = _filed_paper(
        db, enabled, archivist, paper, clock.today(enabled).year - 1, Retention.y10
    )
    forever = _filed_paper(db, enabled, archivist, paper, 2005, Retention.permanent)
    due = db.session.scalars(services.due_for_appraisal([enabled.id])).all()
    assert [i.id for i in due] == [old.id]
    assert old.retention_ends_on == date(2020, 12, 31)

    with pytest.raises(services.ArchivesError, match="has not ended"):
        services.propose_destruction(young, "到期", archivist)
    with pytest.raises(services.ArchivesError, match="has not ended"):
        services.propose_destruction(forever, "到期", archivist)

    row = services.propose_destruction(old, "已过保管期限，无继续保存价值", archivist)
    assert db.session.scalars(services.due_for_appraisal([enabled.id])).all() == []
    with pytest.raises(services.ArchivesError, match="leader's approval"):
        services.carry_out_destruction(row, archivist, "张三、李四", clock.today(enabled))
    with pytest.raises(services.ArchivesError, match="Only a leader"):
        services.decide_destruction(row, archivist, True)
    services.decide_destruction(row, leader, True)
    with pytest.raises(services.ArchivesError, match="two witnesses"):
        services.carry_out_destruction(row, archivist, "张三", clock.today(enabled))
    services.carry_out_destruction(row, archivist, "张三，李四", clock.today(enabled))

    db.session.expire_all()
    register = db.session.scalar(select(Destruction))
    assert register.status == DestructionStatus.destroyed
    assert register.witnesses == "张三、李四" and register.decided_by_id == leader.id
    item = db.session.get(Item, old.id)
    assert item.status == ItemStatus.destroyed and item.reference_code == old.reference_code
    found, _total = services.catalogue([enabled.id], services.CatalogueFilter(q="2010"))
    assert [i.status for i in found] == [ItemStatus.destroyed]


def test_keeping_an_item_longer_moves_its_retention_end(db, enabled, archivist, paper):
    old = _filed_paper(db, enabled, archivist, paper, 2010, Retention.y10)
    services.keep_longer(old, 10, "仍有查考价值", archivist)
    assert old.retention_ends_on.year == clock.today(enabled).year + 10
    assert db.session.scalars(services.due_for_appraisal([enabled.id])).all() == []


def test_a_leader_approves_a_destruction_in_the_admin(
    client, staff, db, enabled, archivist, leader, paper
):
    old = _filed_paper(db, enabled, archivist, paper, 2010, Retention.y10)
    staff.login(archivist)
    response = client.post(
        "/admin/archives_appraisal/",
        data={"item": old.id, "decision": "destroy", "reason": "已过保管期限"},
    )
    assert response.status_code == 303
    row = db.session.scalar(select(Destruction))
    # the archivist cannot approve it
    assert (
        client.post(
            f"/admin/archives_destructions/decide/?id={row.id}", data={"decision": "approve"}
        ).status_code
        == 403
    )
    staff.logout()
    staff.login(leader)
    inbox = client.get("/admin/admin_inbox/").get_data(as_text=True)
    assert "已过保管期限" in inbox
    assert (
        client.post(
            f"/admin/archives_destructions/decide/?id={row.id}", data={"decision": "approve"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert db.session.get(Destruction, row.id).status == DestructionStatus.approved
