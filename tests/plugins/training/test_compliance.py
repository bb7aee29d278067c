"""Monthly compliance against a month worked out by hand (March 2026, 31 days)."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.training.services import (
    Mark,
    StudyEntry,
    TrainingError,
    log_study,
    monthly_compliance,
    record_attendance,
)

TODAY = date(2026, 4, 10)


def hours(township, learner, day, amount, material="党章", notes=0):
    log_study(
        township.id,
        [StudyEntry(learner.id, day, int(amount * 2), material, note_chars=notes)],
        today=TODAY,
    )


@pytest.fixture
def march(training_township, create_unit, make_learner, make_session):
    """Two villages (the second without any session) and four learners."""
    t = training_township
    north = create_unit("北村", "east-north", "village", t)
    south = create_unit("南村", "east-south", "village", t)
    cadre = make_learner(t, "镇干部甲", category="township_cadre")
    # joined on 17 March: on the roster 15 of 31 days -> owes 20*15/31 = 9.68 -> 10 class hours
    newcomer = make_learner(t, "新村干部", village=north, joined_on=date(2026, 3, 17))
    member = make_learner(t, "党员乙", category="party_member", village=south)
    primary = make_learner(t, "党员丙", category="party_member", village=south, education="primary")
    s1 = make_session(t, date(2026, 3, 5), half_days=2)  # township: 1 day
    s2 = make_session(t, date(2026, 3, 20), half_days=1)  # township: half a day
    make_session(t, date(2026, 3, 21), organiser=north, half_days=4)  # north: 2 days
    make_session(t, date(2026, 4, 2), organiser=north, half_days=4)  # April: not counted
    record_attendance(t.id, s1.id, [Mark(cadre.id, "present"), Mark(member.id, "absent")])
    record_attendance(
        t.id,
        s2.id,
        [
            Mark(cadre.id, "excused", "县里开会"),
            Mark(member.id, "present"),
            Mark(newcomer.id, "present"),
        ],
    )
    hours(t, cadre, date(2026, 3, 2), 12, notes=3000)
    hours(t, cadre, date(2026, 3, 3), 8.5, notes=2500)
    hours(t, cadre, date(2026, 4, 1), 5)  # April: not counted
    hours(t, newcomer, date(2026, 3, 18), 9.5, notes=6000)
    hours(t, member, date(2026, 3, 10), 12)
    hours(t, member, date(2026, 3, 11), 8)
    hours(t, member, date(2026, 2, 28), 12)  # February: not counted
    return {
        "north": north,
        "south": south,
        "cadre": cadre,
        "newcomer": newcomer,
        "member": member,
        "primary": primary,
    }


def test_learner_figures_match_the_hand_computed_month(march, training_township):
    report = monthly_compliance(training_township.id, 2026, 3)
    rows = {row.name: row for row in report.learners}
    assert set(rows) == {"镇干部甲", "新村干部", "党员乙", "党员丙"}

    cadre = rows["镇干部甲"]
    assert (cadre.hours, cadre.required_hours, cadre.note_chars) == (20.5, 20, 5500)
    # present once, excused once: the excused absence does not count against 100 %
    assert (cadre.present, cadre.absent, cadre.excused, cadre.participation) == (1, 0, 1, 100.0)
    # no technique yet: behind by 6
    assert [(s.measure, s.missing) for s in cadre.shortfalls] == [("techniques", 6)]

    newcomer = rows["新村干部"]
    assert newcomer.required_hours == 10
    assert newcomer.required_note_chars == 2420  # 5000 * 15 / 31 rounded up
    assert newcomer.shortfall("hours").missing == 0.5
    assert newcomer.shortfall("notes") is None
    assert newcomer.required_participation is None  # village cadres: no participation figure

    member = rows["党员乙"]
    assert (member.hours, member.participation) == (20, 50.0)
    assert member.shortfall("participation").missing == 35
    assert member.shortfall("hours") is None
    assert member.not_set == ["training.party_member_note_chars"]

    primary = rows["党员丙"]
    assert primary.hours == 0 and primary.shortfall("hours").missing == 20
    assert primary.participation is None  # marked for no session: not behind on it
    assert primary.not_set == []  # below junior middle school: no notes threshold


def test_village_and_township_figures(march, training_township):
    report = monthly_compliance(training_township.id, 2026, 3)
    villages = {v.name: v for v in report.villages}
    assert villages["北村"].study_days == 2 and villages["北村"].shortfalls == []
    south = villages["南村"]  # no session at all
    assert (south.study_days, south.learners, south.behind) == (0, 2, 2)
    assert [(s.measure, s.missing) for s in south.shortfalls] == [("study_days", 2)]
    assert south.compliant_pct == 0
    t = report.township
    assert t.study_days == 1.5
    assert [(s.measure, s.missing) for s in t.shortfalls] == [("study_days", 0.5)]
    assert (t.learners, t.behind, t.hours_behind) == (4, 4, 2)
    assert report.participation == {"township_cadre": 100.0, "party_member": 50.0}


def test_a_threshold_change_changes_the_report_not_the_hours(march, training_township, db):
    from core.policies import set_policy

    set_policy(training_township.id, "training.party_member_note_chars", 1000)
    set_policy(training_township.id, "training.self_study_hours", 8)
    db.session.commit()
    rows = {r.name: r for r in monthly_compliance(training_township.id, 2026, 3).learners}
    assert rows["党员乙"].not_set == []
    assert rows["党员乙"].shortfall("notes").missing == 1000
    assert rows["新村干部"].required_hours == 4  # 8 * 15/31 = 3.87 -> 4
    assert rows["新村干部"].shortfall("hours") is None
    assert rows["镇干部甲"].hours == 20.5


def test_compliance_runs_a_fixed_number_of_queries(
    march, training_township, query_counter, make_learner, db
):
    monthly_compliance(training_township.id, 2026, 3)  # fills the township's zone cache
    db.session.commit()  # expired rows, as after the learners' commit below
    with query_counter() as few:
        monthly_compliance(training_township.id, 2026, 3)
    for _ in range(10):
        make_learner(training_township, village=march["north"])
    with query_counter() as more:
        monthly_compliance(training_township.id, 2026, 3)
    assert len(more) == len(few) <= 6


def test_bad_hours_are_refused_and_nothing_is_written(
    march, training_township, other_township, make_learner, db
):
    from sqlalchemy import func, select

    from plugins.training.models import TrainingStudyLog

    stranger = make_learner(other_township, "外镇人")
    before = db.session.scalar(select(func.count(TrainingStudyLog.id)))
    cadre, newcomer = march["cadre"], march["newcomer"]
    cases = [
        (StudyEntry(cadre.id, date(2026, 3, 9), 0, "x"), "more than 0"),
        (StudyEntry(cadre.id, date(2026, 3, 2), 2, "另一篇"), "more than 12"),  # 12 already
        (StudyEntry(cadre.id, date(2026, 4, 11), 2, "x"), "future"),
        (StudyEntry(newcomer.id, date(2026, 3, 16), 2, "x"), "before the learner joined"),
        (StudyEntry(stranger.id, date(2026, 3, 9), 2, "x"), "Unknown person"),
        (StudyEntry(cadre.id, date(2026, 3, 3), 1, "党章"), "Duplicate"),
    ]
    for entry, message in cases:
        good = StudyEntry(cadre.id, date(2026, 3, 30), 2, "good")
        with pytest.raises(TrainingError) as info:
            log_study(training_township.id, [good, entry], today=TODAY)
        assert message in str(info.value)
    assert db.session.scalar(select(func.count(TrainingStudyLog.id))) == before


def test_attendance_for_another_townships_learner_is_refused(
    march, training_township, other_township, make_learner, make_session, db
):
    from sqlalchemy import func, select

    from plugins.training.models import TrainingAttendance

    stranger = make_learner(other_township, "外镇人")
    session = make_session(training_township, date(2026, 3, 25))
    before = db.session.scalar(select(func.count(TrainingAttendance.id)))
    with pytest.raises(TrainingError) as info:
        record_attendance(
            training_township.id,
            session.id,
            [Mark(march["cadre"].id, "present"), Mark(stranger.id, "present")],
        )
    assert "not on the roster of this township" in str(info.value)
    with pytest.raises(TrainingError, match="give the reason"):
        record_attendance(training_township.id, session.id, [Mark(march["cadre"].id, "excused")])
    assert db.session.scalar(select(func.count(TrainingAttendance.id))) == before
    other_session = make_session(other_township, date(2026, 3, 25))
    with pytest.raises(LookupError):
        record_attendance(training_township.id, other_session.id, [])


def test_attendance_save_runs_the_same_queries_for_10_or_100_learners(
    training_township, make_learner, make_session, query_counter, db
):
    learners = [make_learner(training_township, commit=False) for _ in range(100)]
    db.session.commit()
    session = make_session(training_township, date(2026, 3, 3))
    counts = []
    tid, sid, ids = training_township.id, session.id, [le.id for le in learners]
    for group in (ids[:10], ids):
        db.session.expire_all()
        with query_counter() as queries:
            saved = record_attendance(tid, sid, [Mark(lid, "present") for lid in group])
        assert saved == len(group)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 4
