"""Fixtures for the badge institution's tests: an enabled township, its officer, cards."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def badges_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "badges", True)
    return township


@pytest.fixture
def badge_officer(create_user, badges_township):
    return create_user("badger", "badges_officer", badges_township, name="证件专干")


@pytest.fixture
def make_card(db) -> Callable:
    """A card for ``user`` (photo and consent optional), committed."""
    from plugins.badges import services
    from plugins.badges.demo import sample_png

    def _make(
        township,
        user,
        *,
        post="办事员",
        department=None,
        phone="0471-6601234",
        photo=False,
        consent=False,
        number="",
    ):
        card = services.save_card(
            township,
            services.CardInput(
                user_id=user.id,
                post=post,
                department_id=department.id if department else None,
                office_phone=phone,
                staff_number=number,
            ),
        )
        if photo:
            services.set_photo(card, sample_png(), None)
        card.photo_consent = consent
        db.session.commit()
        return card

    return _make
