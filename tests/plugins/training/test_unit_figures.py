"""The village and township figures (the county's dashboard, the compliance screen's unit
table) are counted in the database; they must say what the learner rows say: learners on
the boundary of the hours, newcomers owing part of the month, participation rounded as
shown, learners taken off the roster, and a page of the screen's list."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core import clock
from core.institutions import set_enabled
from core.testing.fixtures import page_text, page_texts
from plugins.training.services import (
    Mark,
    StudyEntry,
    compliance_page,
    log_study,
    monthly_compliance,
    monthly_compliances,
    record_attendance,
)
from tests.plugins.training.conftest import text

TODAY = date(2026, 4, 10)
BEHIND = "Training: learners behind this month (of {n})"


def hours(township, learner, day, amount, notes=0, material="党章"):
    log_study(
        township.id,
        [StudyEntry(learner.id, day, int(amount * 2), material, note_chars=notes)],
        today=TODAY,
    )


def member(make_learner, township, name, **kwargs):
    """A rural party member with primary education: owes class hours, no notes."""
    kwargs.setdefault("education", "primary")
    return make_learner(township, name, category="party_member", **kwargs)


def summary(township_id, year, month):
    return monthly_compliances({township_id: (year, month)}, learners=False)[township_id]


def behind_on_the_dashboard(app, township, when) -> tuple:
    from plugins.training.admin import county_dashboard_figures

    with time_machine.travel(when, tick=False), app.test_request_context():
        behind = county_dashboard_figures([township])[township.id][0]
    return behind.value, behind.label


@pytest.fixture
def boundary(training_township, make_learner, make_session, db):
    """March 2026 (31 days), 20 class hours a month; every learner a party member with
    primary education (hours and participation only) and a township study of 2 days."""
    t = training_township
    make_session(t, date(2026, 3, 2), half_days=4)
    learners = {
        "整二十": member(make_learner, t, "整二十"),  # exactly 20: not behind
        "差半小时": member(make_learner, t, "差半小时"),  # 19.5: behind by 0.5
        # joined on 17 March: 15 of 31 days, 20 * 15/31 = 9.68 -> owes 10
        "新来够": member(make_learner, t, "新来够", joined_on=date(2026, 3, 17)),
        "新来差": member(make_learner, t, "新来差", joined_on=date(2026, 3, 17)),
        # joined on the month's last day: owes 20/31 = 0.65 -> 1 class hour
        "月末来": member(make_learner, t, "月末来", joined_on=date(2026, 3, 31)),
        # joins in April: not on March's roster at all
        "四月来": member(make_learner, t, "四月来", joined_on=date(2026, 4, 1)),
    }
    hours(t, learners["整二十"], date(2026, 3, 3), 12)
    hours(t, learners["整二十"], date(2026, 3, 4), 8)
    hours(t, learners["差半小时"], date(2026, 3, 3), 12)
    hours(t, learners["差半小时"], date(2026, 3, 4), 7.5)
    hours(t, learners["新来够"], date(2026, 3, 17), 10)
    hours(t, learners["新来差"], date(2026, 3, 20), 9.5)
    hours(t, learners["月末来"], date(2026, 3, 31), 1)
    return learners


def test_learners_on_the_boundary_of_the_hours(app, training_township, boundary):
    rows = {r.name: r for r in monthly_compliance(training_township.id, 2026, 3).learners}
    assert set(rows) == set(boundary) - {"四月来"}
    assert {name for name, row in rows.items() if row.behind} == {"差半小时", "新来差"}
    assert rows["新来差"].shortfall("hours").missing == 0.5
    assert rows["月末来"].required_hours == 1

    t = summary(training_township.id, 2026, 3).township
    assert (t.learners, t.behind, t.hours_behind) == (5, 2, 2)
    assert t.compliant_pct == 60.0
    assert t.average_hours == round((20 + 19.5 + 10 + 9.5 + 1) / 5, 1)
    # on 10 April in the township, its dashboard speaks of April: nobody logged anything
    # (the March newcomers owe the whole month now, 四月来 from 1 April: all five behind)
    when = datetime(2026, 4, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert behind_on_the_dashboard(app, training_township, when) == (6, BEHIND.format(n=6))
    # on 31 March it speaks of March
    when = datetime(2026, 3, 31, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert behind_on_the_dashboard(app, training_township, when) == (2, BEHIND.format(n=5))


def test_one_more_half_hour_takes_a_learner_off_the_behind_count(training_township, boundary):
    hours(training_township, boundary["差半小时"], date(2026, 3, 5), 0.5)
    t = summary(training_township.id, 2026, 3).township
    assert (t.learners, t.behind) == (5, 1)


def test_a_learner_taken_off_the_roster_is_not_counted(training_township, boundary, db):
    boundary["差半小时"].active = False
    db.session.commit()
    report = monthly_compliance(training_township.id, 2026, 3)
    assert "差半小时" not in {r.name for r in report.learners}
    t = summary(training_township.id, 2026, 3).township
    assert (t.learners, t.behind) == (4, 1)


def test_hours_waiting_for_confirmation_do_not_count(training_township, boundary):
    log_study(
        training_township.id,
        [StudyEntry(boundary["差半小时"].id, date(2026, 3, 6), 1, "党史")],
        confirmed=False,
        today=TODAY,
    )
    t = summary(training_township.id, 2026, 3).township
    assert t.behind == 2


def test_participation_is_judged_on_the_figure_shown(
    training_township, make_learner, make_session, db
):
    """13 present and 3 absent is 81.25 %, shown rounded as 81.2 %: behind a threshold of
    81.25 % by 0.05; 14 of 16 (87.5 %) is not."""
    from core.policies import set_policy

    t = training_township
    set_policy(t.id, "training.party_member_participation", 81.25)
    set_policy(t.id, "training.self_study_hours", 0)
    db.session.commit()
    short = member(make_learner, t, "十三次")
    enough = member(make_learner, t, "十四次")
    for n in range(16):
        session = make_session(t, date(2026, 3, 1 + n), half_days=1)
        record_attendance(
            t.id,
            session.id,
            [
                Mark(short.id, "present" if n < 13 else "absent"),
                Mark(enough.id, "present" if n < 14 else "absent"),
            ],
        )
    rows = {r.name: r for r in monthly_compliance(t.id, 2026, 3).learners}
    assert rows["十三次"].participation == 81.2
    assert rows["十三次"].shortfall("participation").missing == 0.05
    assert not rows["十四次"].behind
    t_figures = summary(t.id, 2026, 3).township
    assert (t_figures.learners, t_figures.behind) == (2, 1)


def test_a_township_whose_month_has_not_turned_yet_is_judged_on_its_own_month(
    app, db, training_township, other_township, make_learner
):
    """At 01:00 on 1 April in Shanghai it is still 31 March in Urumqi: the east counts
    April (nothing logged yet: behind), the west March (its learner has its 20 hours)."""
    from plugins.training.admin import county_dashboard_figures

    other_township.timezone = "Asia/Urumqi"
    db.session.commit()
    clock.forget()
    set_enabled(other_township, "training", True)
    east = member(make_learner, training_township, "东")
    west = member(make_learner, other_township, "西")
    for township, learner in ((training_township, east), (other_township, west)):
        hours(township, learner, date(2026, 3, 30), 12)
        hours(township, learner, date(2026, 3, 31), 8)
    when = datetime(2026, 4, 1, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(when, tick=False), app.test_request_context():
        figures = county_dashboard_figures([training_township, other_township])
    clock.forget()
    assert figures[training_township.id][0].value == 1
    assert figures[other_township.id][0].value == 0
    assert "2026-04" in page_text(str(figures[training_township.id][2].chart), "title")
    assert "2026-03" in page_text(str(figures[other_township.id][2].chart), "title")


@pytest.fixture
def busy_month(training_township, create_unit, make_learner, make_session, db):
    """A month of many learners in three villages: joined at any time, some taken off
    the roster, attendance at a dozen sessions, hours, notes and techniques at random."""
    from core.policies import set_policy
    from plugins.training.models import TrainingMastery, TrainingTechnique

    rng = random.Random(7)
    t = training_township
    set_policy(t.id, "training.party_member_note_chars", 800)
    set_policy(t.id, "training.party_member_participation", 81.3)
    set_policy(t.id, "training.self_study_hours", 8.5)
    set_policy(t.id, "training.cadre_techniques", 3)
    set_policy(t.id, "training.cadre_note_chars", 400)
    db.session.commit()
    villages = [create_unit(f"{n}村", f"east-b{n}", "village", t) for n in "甲乙丙"]
    learners = []
    for n in range(60):
        learner = make_learner(
            t,
            f"学员{n:02d}",
            category=rng.choice(["township_cadre", "village_cadre", "party_member"]),
            village=rng.choice([None, *villages]),
            education=rng.choice(["primary", "junior_middle", "college"]),
            joined_on=rng.choice(
                [date(2025, 1, 1), date(2026, 3, 1) + timedelta(rng.randrange(31))]
            ),
            commit=False,
        )
        learner.active = rng.random() < 0.9
        learners.append(learner)
    db.session.commit()
    techniques = [TrainingTechnique(township_id=t.id, name=f"技术{n}") for n in range(8)]
    db.session.add_all(techniques)
    db.session.flush()
    for learner in learners:
        for technique in rng.sample(techniques, rng.randrange(9)):
            db.session.add(
                TrainingMastery(
                    township_id=t.id,
                    learner_id=learner.id,
                    technique_id=technique.id,
                    mastered_on=date(2026, 3, 1) + timedelta(rng.randrange(-60, 40)),
                    verified_by="农技站",
                )
            )
    db.session.commit()
    for n in range(12):
        session = make_session(
            t, date(2026, 3, 1 + 2 * n), organiser=rng.choice([t, *villages]), half_days=1
        )
        present = [x for x in learners if x.active and x.joined_on <= session.held_on]
        marks = [
            Mark(x.id, rng.choice(["present", "present", "present", "absent", "excused"]), "病")
            for x in rng.sample(present, min(len(present), 30))
        ]
        record_attendance(t.id, session.id, marks)
    entries = [
        StudyEntry(x.id, day, rng.randint(1, 6), f"材料{k}", note_chars=rng.choice([0, 150, 400]))
        for x in learners
        if x.active
        for k in range(rng.randrange(6))
        for day in [max(x.joined_on, date(2026, 3, 1)) + timedelta(rng.randrange(3))]
        if day.month == 3
    ]
    log_study(t.id, entries, today=TODAY)
    return learners


def test_the_unit_figures_say_what_the_learner_rows_say(training_township, busy_month):
    full = monthly_compliance(training_township.id, 2026, 3)
    rows = full.learners
    assert 0 < len(full.behind) < len(rows)  # a mixed month
    only_units = summary(training_township.id, 2026, 3)
    assert only_units.learners == []
    assert (only_units.township, only_units.villages, only_units.participation) == (
        full.township,
        full.villages,
        full.participation,
    )
    t = full.township
    assert t.learners == len(rows)
    assert t.behind == sum(1 for r in rows if r.behind)
    assert t.hours_behind == sum(1 for r in rows if r.shortfall("hours"))
    for village in full.villages:
        members = [r for r in rows if r.village_id == village.unit_id]
        assert (village.learners, village.behind) == (
            len(members),
            sum(1 for r in members if r.behind),
        )


def test_the_screen_pages_its_list_in_the_database(training_township, busy_month):
    full = monthly_compliance(training_township.id, 2026, 3)
    for only_behind, expected in ((False, full.learners), (True, full.behind)):
        seen = []
        for page in range(4):
            report, rows, total = compliance_page(
                training_township.id,
                2026,
                3,
                page=page,
                per_page=20,
                only_behind=only_behind,
            )
            assert total == len(expected)
            assert report.township == full.township
            seen += rows
        assert seen == expected


def test_a_page_of_the_screen_asks_the_same_queries_for_more_learners(
    training_township, busy_month, make_learner, query_counter, db
):
    compliance_page(training_township.id, 2026, 3, page=0, per_page=20)  # warm caches
    db.session.commit()
    with query_counter() as few:
        compliance_page(training_township.id, 2026, 3, page=1, per_page=20, only_behind=True)
    for _ in range(30):
        make_learner(training_township, commit=False)
    db.session.commit()
    with query_counter() as more:
        compliance_page(training_township.id, 2026, 3, page=1, per_page=20, only_behind=True)
    assert len(more) == len(few) <= 5, "\n".join(more)


def test_the_screen_shows_the_page_and_counts_every_learner(
    client, staff, officer, training_township, busy_month
):
    full = monthly_compliance(training_township.id, 2026, 3)
    assert len(full.learners) > 50 and full.behind
    staff.login(officer)
    names = "#learners tbody tr[data-learner] td:first-child"
    second = text(client.get("/admin/training_compliance/?month=2026-03&page=1"))
    assert page_texts(second, names) == [r.name for r in full.learners[50:]]
    cells = page_texts(second, "#units tbody tr:first-child td")
    assert cells[2:4] == [str(full.township.learners), str(full.township.behind)]
    behind = text(client.get("/admin/training_compliance/?month=2026-03&behind=1"))
    assert page_texts(behind, names) == [r.name for r in full.behind[:50]]
