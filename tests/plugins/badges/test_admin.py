"""The badge institution's admin: township isolation, enabling, and the zh_CN crawl."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.testing.crawl import crawl_admin
from core.testing.fixtures import PASSWORD


def _login(client, user):
    client.post("/login", data={"username": user.username, "password": PASSWORD})


def test_another_townships_cards_are_invisible(
    client, db, badges_township, other_township, create_user, clerk, make_card
):
    from core.institutions import set_enabled

    set_enabled(other_township, "badges", True)
    card = make_card(badges_township, clerk)
    west_officer = create_user("wbadge", "badges_officer", other_township, name="西镇证件")
    _login(client, west_officer)
    listing = client.get("/admin/badges_cards/").get_data(as_text=True)
    assert card.staff_number not in listing
    assert client.get(f"/admin/badges_cards/details/?id={card.id}").status_code == 404
    assert client.get(f"/admin/badges_cards/edit/?id={card.id}").status_code == 404
    assert client.get(f"/admin/badges_print/sheet?township={badges_township.id}").status_code == 404
    # the other township's public page does not list east's staff either
    assert "王办事" not in client.get("/t/west/badges/").get_data(as_text=True)


def test_a_disabled_institution_answers_404_and_offers_nothing(
    client, db, township, clerk, leader, make_card
):
    from core.institutions import set_enabled

    set_enabled(township, "badges", True)
    card = make_card(township, clerk)
    set_enabled(township, "badges", False)
    assert client.get("/t/east/badges/").status_code == 404
    assert client.get(f"/t/east/badges/s/{card.staff_number}").status_code == 404
    assert "badges-public-link" not in client.get("/t/east/").get_data(as_text=True)
    _login(client, leader)
    assert client.get("/admin/badges_cards/").status_code == 404
    set_enabled(township, "badges", True)
    assert client.get("/admin/badges_cards/").status_code == 200
    assert "badges-public-link" in client.get("/t/east/").get_data(as_text=True)


def test_clerks_read_cards_but_only_the_officer_issues_them(
    client, db, badges_township, clerk, badge_officer
):
    _login(client, clerk)
    assert client.get("/admin/badges_cards/").status_code == 200
    assert client.get("/admin/badges_cards/new/").status_code == 403
    assert client.get("/admin/badges_print/").status_code == 404


def test_the_numbering_scheme_is_validated(client, db, badges_township, badge_officer):
    from plugins.badges.models import BadgeNumbering

    _login(client, badge_officer)
    assert client.get("/admin/badges_numbering/").status_code == 200
    scheme = db.session.scalar(select(BadgeNumbering))
    response = client.post(
        f"/admin/badges_numbering/edit/?id={scheme.id}",
        data={"prefix": "东风", "width": "3", "next_number": "1"},
    )
    assert "capital letters" in response.get_data(as_text=True)
    client.post(
        f"/admin/badges_numbering/edit/?id={scheme.id}",
        data={"prefix": "df-", "width": "4", "next_number": "7"},
    )
    db.session.expire_all()
    assert db.session.get(BadgeNumbering, scheme.id).format(7) == "DF-0007"


@pytest.fixture
def demo_admin(demo_user):
    return demo_user("dongfeng-township-admin")


def test_every_badges_admin_page_reads_in_chinese(client, db, demo_admin):
    from plugins.badges.models import BadgeCard

    assert db.session.scalar(select(BadgeCard.id)) is not None  # the demo issued cards
    _login(client, demo_admin)
    findings, pages = crawl_admin(client, only="/admin/badges_")
    assert pages >= 5
    assert findings == [], "\n".join(findings)
