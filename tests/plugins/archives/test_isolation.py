"""Tenant isolation, enabling and disabling: a disabled institution is 404 everywhere and
hears no record; enabling it later files what was produced meanwhile."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.institutions import set_enabled
from plugins.archives import services
from plugins.archives.models import Item, ItemStatus

PAGES = [
    "/admin/archives_inbox/",
    "/admin/archives_paper/",
    "/admin/archives_catalogue/",
    "/admin/archives_loans/",
    "/admin/archives_losses/",
    "/admin/archives_boxes/",
    "/admin/archives_volumes/",
    "/admin/archives_classes/",
    "/admin/archives_years/",
    "/admin/archives_appraisal/",
    "/admin/archives_destructions/",
    "/admin/archives_views/",
    "/admin/archives_settings/",
]


def test_another_townships_staff_see_nothing_of_this_archive(
    client, staff, db, enabled, other_township, create_user, filed_item, archivist
):
    item = filed_item()
    set_enabled(other_township, "archives", True)
    other = create_user("warch", "archives_archivist", other_township, name="西镇档案员")
    staff.login(other)
    assert client.get(f"/admin/archives_catalogue/item/?id={item.id}").status_code == 404
    page = client.get("/admin/archives_catalogue/?q=宅基地").get_data(as_text=True)
    assert "宅基地" not in page.split('id="catalogue"')[1]
    assert client.get(f"/admin/archives_inbox/edit/?id={item.id}").status_code == 404
    with pytest.raises(services.ArchivesError, match="not in this township"):
        services.file_items(other_township.id, [item.id], other)
    response = client.post(
        "/admin/archives_catalogue/borrow/",
        data={"item": item.id, "purpose": "看看", "wanted_until": "2099-01-01"},
    )
    assert response.status_code == 404


def test_a_disabled_institution_is_404_and_hears_nothing_until_enabled_again(
    client, staff, db, enabled, archivist, produce, township_admin
):
    produce("启用时产生")
    set_enabled(enabled, "archives", False)
    staff.login(township_admin)
    for url in PAGES:
        assert client.get(url).status_code == 404, url
    assert client.get("/t/east/archives/").status_code == 404
    produce("停用时产生的宅基地审批")
    assert db.session.scalar(select(func.count(Item.id))) == 1  # the hook was not delivered

    set_enabled(enabled, "archives", True)  # the backlog kept by the core comes in
    titles = sorted(db.session.scalars(select(Item.title)))
    assert titles == ["停用时产生的宅基地审批", "启用时产生"]
    assert all(i.status == ItemStatus.waiting for i in db.session.scalars(select(Item)))
    set_enabled(enabled, "archives", True)  # again: nothing twice
    assert db.session.scalar(select(func.count(Item.id))) == 2
    for url in PAGES:
        assert client.get(url).status_code == 200, url


def test_enabling_for_the_first_time_files_every_kept_record(db, township, produce_elsewhere):
    produce_elsewhere("早先的宅基地审批")
    set_enabled(township, "archives", True)
    item = db.session.scalar(select(Item))
    assert item.title == "早先的宅基地审批" and item.content.text.startswith("早先")


@pytest.fixture
def produce_elsewhere(db, township):
    from datetime import UTC, datetime

    from core.contract import ArchivalRecord
    from core.records import produce

    def _produce(title):
        produce(
            township,
            ArchivalRecord(
                source="releases",
                reference="early:1",
                kind="release",
                title=title,
                produced_at=datetime.now(UTC),
                content=f"<p>{title}</p>",
            ),
        )
        db.session.commit()

    return _produce


def test_a_clerk_reads_the_catalogue_but_cannot_file(
    client, staff, db, enabled, clerk, waiting_item
):
    item = waiting_item()
    staff.login(clerk)
    assert client.get("/admin/archives_catalogue/").status_code == 200
    assert client.get("/admin/archives_inbox/").status_code == 404
    response = client.post(
        "/admin/archives_inbox/action/", data={"action": "file", "rowid": [item.id]}
    )
    assert response.status_code == 404
    assert db.session.get(Item, item.id).status == ItemStatus.waiting
