"""Staff cards: numbers by the township's scheme, photos checked, consent before publishing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from core.testing.fixtures import page_text, page_texts
from plugins.badges import services
from plugins.badges.demo import sample_png
from plugins.badges.models import BadgeCard, BadgePhoto


def test_staff_numbers_follow_each_townships_scheme(
    db, badges_township, other_township, clerk, leader, create_user, make_card
):
    from core.institutions import set_enabled

    set_enabled(other_township, "badges", True)
    west = create_user("wstaff", "clerk", other_township, name="西镇干部")
    first = make_card(badges_township, clerk)
    second = make_card(badges_township, leader)
    third = make_card(other_township, west)
    assert [first.staff_number, second.staff_number] == ["EA-001", "EA-002"]
    assert third.staff_number == "WE-001"  # each township counts on its own


def test_a_number_given_by_hand_is_skipped_by_the_scheme_and_never_given_twice(
    db, badges_township, clerk, leader, township_admin, make_card
):
    make_card(badges_township, clerk, number="ea-002")
    assert make_card(badges_township, leader).staff_number == "EA-001"
    assert make_card(badges_township, township_admin).staff_number == "EA-003"
    with pytest.raises(services.BadgeError) as refused:
        services.save_card(
            badges_township,
            services.CardInput(user_id=clerk.id, post="x", staff_number="EA-001"),
            None,
        )
    assert any("already has a card" in p for p in refused.value.problems)
    assert any("EA-001 is already given" in p for p in refused.value.problems)


def test_refused_cards_say_why_and_write_nothing(db, badges_township, other_clerk):
    with pytest.raises(services.BadgeError) as refused:
        services.save_card(
            badges_township,
            services.CardInput(user_id=other_clerk.id, post="", office_phone="12345"),
        )
    problems = refused.value.problems
    assert "The post is required." in problems
    assert any("does not work for this township" in p for p in problems)
    assert any("is not a valid phone number" in p for p in problems)
    db.session.rollback()
    assert db.session.scalar(select(func.count(BadgeCard.id))) == 0


def test_photos_are_checked_by_signature_and_size(db, badges_township, clerk, make_card):
    card = make_card(badges_township, clerk)
    with pytest.raises(services.BadgeError, match="JPEG or PNG"):
        services.set_photo(card, b"GIF89a" + b"\x00" * 100, None)
    with pytest.raises(services.BadgeError, match="JPEG or PNG"):
        services.set_photo(card, b"<svg onload=alert(1)>", None)  # an SVG named .png
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * services.MAX_PHOTO_BYTES
    with pytest.raises(services.BadgeError, match="at most 2048 KB"):
        services.set_photo(card, too_big, None)
    db.session.rollback()
    assert db.session.scalar(select(func.count(BadgePhoto.id))) == 0
    photo = services.set_photo(card, sample_png(), None)
    db.session.commit()
    assert photo.content_type == "image/png" and card.photo_id == photo.id


def _login(client, user):
    from core.testing.fixtures import PASSWORD

    client.post("/login", data={"username": user.username, "password": PASSWORD})


def test_the_officer_issues_a_card_with_photo_and_consent_in_one_form(
    client, db, badges_township, badge_officer, clerk, station
):
    _login(client, badge_officer)
    response = client.post(
        "/admin/badges_cards/new/",
        data={
            "township": badges_township.id,
            "user_id": clerk.id,
            "post": "民政助理员",
            "department_id": station.id,
            "office_phone": "0471 6601234",
            "consent": "1",
            "active": "1",
            "photo": (io.BytesIO(sample_png()), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    card = db.session.scalar(select(BadgeCard))
    assert (card.staff_number, card.post, card.office_phone) == (
        "EA-001",
        "民政助理员",
        "0471 660 1234",
    )
    assert card.photo_consent and card.consent_recorded_by_id == badge_officer.id
    assert card.public_photo


def test_a_bad_upload_in_the_form_leaves_the_card_unchanged(
    client, db, badges_township, badge_officer, clerk, make_card
):
    card = make_card(badges_township, clerk, post="办事员")
    _login(client, badge_officer)
    response = client.post(
        f"/admin/badges_cards/edit/?id={card.id}",
        data={
            "user_id": clerk.id,
            "post": "民政助理员",
            "active": "1",
            "photo": (io.BytesIO(b"%PDF-1.7 not a photo"), "photo.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The photo must be a JPEG or PNG image." in page_text(
        response.get_data(as_text=True), "#problems"
    )
    db.session.expire_all()
    assert db.session.get(BadgeCard, card.id).post == "办事员"  # nothing partly written


def test_public_pages_show_a_photo_only_with_consent(
    client, db, badges_township, clerk, leader, make_card
):
    shown = make_card(badges_township, clerk, photo=True, consent=True)
    hidden = make_card(badges_township, leader, photo=True, consent=False)
    html = client.get("/t/east/badges/").get_data(as_text=True)
    assert page_texts(html, ".staff-name") == ["王办事", "李镇长"] or set(
        page_texts(html, ".staff-name")
    ) == {"王办事", "李镇长"}
    assert f"/t/east/badges/photo/{shown.id}" in html
    assert f"/t/east/badges/photo/{hidden.id}" not in html
    photo = client.get(f"/t/east/badges/photo/{shown.id}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/t/east/badges/photo/{hidden.id}").status_code == 404


def test_the_staff_page_shows_the_card_and_links_other_institutions_offer(
    client, db, badges_township, clerk, make_card
):
    from core.institutions import set_enabled

    card = make_card(badges_township, clerk, post="民政助理员")
    html = client.get(f"/t/east/badges/s/{card.staff_number}").get_data(as_text=True)
    assert page_text(html, "#staff .staff-name") == "王办事"
    assert page_text(html, "#staff .staff-number") == "EA-001"
    assert page_text(html, "#staff-links") == ""
    set_enabled(badges_township, "example", True)
    html = client.get(f"/t/east/badges/s/{card.staff_number.lower()}").get_data(as_text=True)
    assert page_text(html, "#staff-links") == "评价示例"
    assert f"/t/east/example/?rate={clerk.id}" in html
    assert client.get("/t/east/badges/s/EA-999").status_code == 404


def _queries(client, query_counter, url):
    from core.db import db

    client.get(url)  # caches warm (the township by its code, permissions)
    db.session.expire_all()
    with query_counter() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_who_serves_you_costs_the_same_queries_for_5_or_50_staff(
    client, db, badges_township, create_user, make_card, query_counter
):
    users = [
        create_user(f"s{n:02d}", "clerk", badges_township, name=f"干部{n:02d}") for n in range(50)
    ]
    for user in users[:5]:
        make_card(badges_township, user, photo=True, consent=True)
    few = _queries(client, query_counter, "/t/east/badges/")
    for user in users[5:]:
        make_card(badges_township, user, photo=True, consent=True)
    many = _queries(client, query_counter, "/t/east/badges/")
    assert few == many
    assert (
        len(page_texts(client.get("/t/east/badges/").get_data(as_text=True), ".staff-name")) == 20
    )
