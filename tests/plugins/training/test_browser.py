"""The attendance screen in real Chromium: a training officer marks 30 learners without a mouse."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.testing.fixtures import PASSWORD


@pytest.mark.slow
def test_mark_thirty_learners_with_the_keyboard(
    browser_page, officer, training_township, village, make_learner, make_session, db
):
    from plugins.training.models import TrainingAttendance

    learners = [
        make_learner(training_township, f"学员{n:02d}", village=village, commit=False)
        for n in range(30)
    ]
    db.session.commit()
    session = make_session(training_township, date(2025, 3, 3))
    ids = [le.id for le in learners]
    page = browser_page

    page.goto("/login")
    page.locator("input[name=username]").fill(officer.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(f"/admin/training_attendance/?session={session.id}")
    # rows are ordered by name: 学员00 ... 学员29, as created
    page.locator(f'input[name="status-{ids[0]}"]').first.focus()
    expected = {}
    for n, learner_id in enumerate(ids):
        if n % 10 == 3:
            page.keyboard.press("a")
            expected[learner_id] = ("absent", "")
        elif n % 10 == 7:
            page.keyboard.press("e")  # focus moves to the reason
            page.keyboard.type("生病")
            page.keyboard.press("Tab")  # on to the next learner's radio group
            expected[learner_id] = ("excused", "生病")
        else:
            page.keyboard.press("p")
            expected[learner_id] = ("present", "")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/admin/training_attendance/**")
    page.locator("#attendance").wait_for()

    db.session.expire_all()
    saved = {
        row.learner_id: (row.status.value, row.reason)
        for row in db.session.scalars(select(TrainingAttendance))
    }
    assert saved == expected
    assert page.locator("input[type=radio]:checked").count() == 30
