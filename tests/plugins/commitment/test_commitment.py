"""Service commitments: the yearly quota (9 behind, 10 not; 31 December in the township's
zone; pro-rating), figures per person through the core, leaders taking matters, three-level
mediation, isolation, enable/disable and the crawl."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.models import CaseStatus, Notification, ProducedRecord
from core.testing.fixtures import page_text, page_texts
from plugins.commitment import services
from plugins.commitment.models import DisputeStatus, TakeMode
from plugins.commitment.services import CommitmentError, expected_so_far
from tests.plugins.commitment.conftest import at


def handled(report, user):
    return next(p for p in report.people if p.user_id == user.id)


def test_a_leader_with_9_matters_is_behind_and_with_10_is_not(
    db, commitment_township, leader, closed_case
):
    for n in range(9):
        closed_case(leader, (2025, 3, 2 + n, 9), (2025, 3, 3 + n, 9), (2025, 3, 4 + n, 9))
    report = services.quota_report(commitment_township.id, 2025, today=date(2026, 2, 1))
    me = handled(report, leader)
    assert (me.role, me.quota, me.expected, me.handled, me.behind) == ("leader", 10, 10, 9, True)
    closed_case(leader, (2025, 6, 2, 9), (2025, 6, 3, 9), (2025, 6, 20, 9))
    report = services.quota_report(commitment_township.id, 2025, today=date(2026, 2, 1))
    me = handled(report, leader)
    assert (me.handled, me.behind, me.met) == (10, False, True)
    assert me.by_kind == {"service": 10}


def test_a_cadre_needs_5_and_late_matters_are_counted_apart(
    db, commitment_township, clerk, closed_case
):
    # accepted Monday 2 March 2026, 3 working days: due 5 March
    closed_case(clerk, (2026, 3, 2, 9), (2026, 3, 5, 23, 50), (2026, 3, 6, 9))  # on time
    closed_case(clerk, (2026, 3, 2, 9), (2026, 3, 9, 9), (2026, 3, 9, 10))  # late
    report = services.quota_report(commitment_township.id, 2026, today=date(2026, 12, 31))
    me = handled(report, clerk)
    assert (me.role, me.quota, me.handled, me.on_time, me.late, me.behind) == (
        "cadre",
        5,
        2,
        1,
        1,
        True,
    )


def test_a_case_closed_on_31_december_counts_for_that_year_in_the_township_zone(
    db, commitment_township, leader, closed_case
):
    # 23:00 on 31 December in Beijing is 15:00 UTC: 2026
    closed_case(leader, (2026, 12, 28, 9), (2026, 12, 30, 9), (2026, 12, 31, 23, 0))
    # 00:30 on 1 January in Beijing is still 31 December in UTC: 2027 for the township
    closed_case(leader, (2026, 12, 28, 9), (2026, 12, 30, 9), (2027, 1, 1, 0, 30))
    r2026 = services.quota_report(commitment_township.id, 2026, today=date(2027, 1, 5))
    r2027 = services.quota_report(commitment_township.id, 2027, today=date(2027, 1, 5))
    assert handled(r2026, leader).handled == 1
    assert handled(r2027, leader).handled == 1


def test_the_pro_rated_rule():
    assert expected_so_far(10, 2026, date(2026, 1, 1)) == 0  # 10 × 1/365
    assert expected_so_far(10, 2026, date(2026, 2, 6)) == 1  # 10 × 37/365 = 1.01
    assert expected_so_far(10, 2026, date(2026, 7, 1)) == 4  # 10 × 182/365 = 4.99
    assert expected_so_far(10, 2026, date(2026, 12, 31)) == 10
    assert expected_so_far(5, 2025, date(2026, 3, 1)) == 5
    assert expected_so_far(5, 2027, date(2026, 3, 1)) == 0


def test_the_quota_is_offered_as_figures_per_person_and_year(
    db, commitment_township, leader, clerk, closed_case
):
    from core.institutions import set_enabled
    from core.people import year_figures

    closed_case(leader, (2025, 5, 6, 9), (2025, 5, 7, 9), (2025, 5, 8, 9))
    figures = year_figures(commitment_township, 2025, [leader.id, clerk.id])
    mine = {f.key: f for f in figures[leader.id]}
    assert (
        mine["commitment.matters_handled"].value,
        mine["commitment.matters_handled"].target,
    ) == (1, 10)
    assert mine["commitment.matters_handled"].met is False
    assert mine["commitment.matters_on_time"].value == 1
    assert {f.key: f.value for f in figures[clerk.id]}["commitment.matters_handled"] == 0
    set_enabled(commitment_township, "commitment", False)
    assert year_figures(commitment_township, 2025, [leader.id]) == {}


def test_a_leader_answers_on_the_spot_or_assigns_by_urgency(db, commitment_township, leader, clerk):
    from core import inbox

    with at(2026, 4, 7, 10):
        spot = services.take_matter(
            commitment_township,
            leader=leader,
            title="咨询补贴政策",
            applicant_name="王桂兰",
            mode="on_spot",
            answer="当场答复",
        )
        assigned = services.take_matter(
            commitment_township,
            leader=leader,
            title="村道积水",
            applicant_name="陈志强",
            mode="assigned",
            handler=clerk,
            urgency="urgent",
        )
        normal = services.take_matter(
            commitment_township,
            leader=leader,
            title="路灯维修",
            applicant_name="刘秀英",
            mode="assigned",
            handler=clerk,
            urgency="normal",
        )
    assert spot.case.status == CaseStatus.closed and spot.mode == TakeMode.on_spot
    assert spot.case.kind == "commitment"
    assert assigned.case.handler_id == clerk.id
    assert assigned.deadline == date(2026, 4, 10)  # urgent: 3 days
    assert normal.deadline == normal.case.due_on == date(2026, 4, 17)  # the 10 calendar days
    with at(2026, 4, 8, 10):
        items, _total = inbox.page(clerk)
    assert [(i.object_id, i.due_on) for i in items if i.source.key == "commitment.assigned"] == [
        (assigned.case_id, date(2026, 4, 10)),
        (normal.case_id, date(2026, 4, 17)),
    ]
    with at(2027, 1, 2, 10):
        report = services.quota_report(commitment_township.id, 2026)
    assert (handled(report, leader).handled, handled(report, leader).on_spot) == (1, 1)
    with pytest.raises(CommitmentError, match="handler of this township"):
        services.take_matter(
            commitment_township,
            leader=leader,
            title="x",
            applicant_name="y",
            mode="assigned",
            urgency="urgent",
        )
    with pytest.raises(CommitmentError, match="Only a leader"):
        services.take_matter(
            commitment_township,
            leader=clerk,
            title="x",
            applicant_name="y",
            mode="on_spot",
            answer="a",
        )
    with pytest.raises(CommitmentError, match="answer is required"):
        services.take_matter(
            commitment_township, leader=leader, title="x", applicant_name="y", mode="on_spot"
        )


def test_mediation_moves_up_only_after_the_lower_level_failed(
    db, commitment_township, leader, village
):
    with at(2026, 5, 4, 9):
        dispute = services.open_dispute(
            commitment_township,
            by=leader,
            title="宅基地边界纠纷",
            parties="张某与李某",
            village=village,
        )

    def mediate(level, outcome, day, agreement=""):
        with at(2026, 5, day, 15):
            return services.record_mediation(
                dispute,
                by=leader,
                level=level,
                held_on=None,
                mediators="调委会",
                outcome=outcome,
                agreement=agreement,
            )

    with pytest.raises(CommitmentError, match="starts in the village"):
        mediate("township", "failed", 5)
    with pytest.raises(CommitmentError, match="starts in the village"):
        mediate("county", "failed", 5)
    mediate("village", "failed", 5)
    with pytest.raises(CommitmentError, match="the next level is Township mediation"):
        mediate("county", "failed", 6)
    with pytest.raises(CommitmentError, match=r"(?i)agreement is required"):
        mediate("township", "agreed", 6)
    assert len(dispute.mediations) == 1
    mediate("township", "agreed", 6, agreement="以现有围墙为界")
    assert dispute.status == DisputeStatus.settled
    with pytest.raises(CommitmentError, match="no longer under mediation"):
        mediate("county", "failed", 7)
    trail = [e["what"] for e in services.trail(dispute)]
    assert [str(t) for t in trail] == [
        "Dispute recorded",
        "Village mediation: No agreement",
        "Moved up to Township mediation after Village mediation failed",
        "Township mediation: Agreement reached",
        "Settled by agreement",
    ]
    produced = db.session.scalar(
        select(ProducedRecord).where(ProducedRecord.source == "commitment")
    )
    assert produced.reference == f"dispute:{dispute.id}"


def test_a_dispute_failing_at_every_level_ends_unresolved(db, commitment_township, leader):
    dispute = services.open_dispute(commitment_township, by=leader, title="纠纷", parties="甲乙")
    for level in ("village", "township", "county"):
        services.record_mediation(
            dispute, by=leader, level=level, held_on=None, mediators="调解员", outcome="failed"
        )
    assert dispute.status == DisputeStatus.unresolved


def test_the_mediation_form_refuses_a_skipped_level(client, staff, db, commitment_township, leader):
    dispute = services.open_dispute(commitment_township, by=leader, title="纠纷", parties="甲乙")
    staff.login(leader)
    response = client.post(
        f"/admin/commitment_disputes/{dispute.id}/mediation",
        data={"level": "township", "mediators": "镇司法所", "outcome": "failed"},
    )
    assert response.status_code == 400
    assert "starts in the village" in page_text(response.get_data(as_text=True), "#mediation-error")
    response = client.post(
        f"/admin/commitment_disputes/{dispute.id}/mediation",
        data={
            "level": "village",
            "mediators": "村调委会",
            "outcome": "failed",
            "held_on": "2999-01-01",
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(services.CommitmentMediation)) == 0


def test_the_quota_screen_and_export(
    client, staff, db, commitment_township, leader, clerk, closed_case
):
    from io import BytesIO

    from openpyxl import load_workbook

    closed_case(clerk, (2025, 3, 2, 9), (2025, 3, 3, 9), (2025, 3, 4, 9))
    staff.login(leader)
    html = client.get("/admin/commitment_quota/?year=2025").get_data(as_text=True)
    rows = {r.split(" ")[0]: r for r in page_texts(html, "#quota .quota-row")}
    assert "Behind by 10" in rows["李镇长"] and "Behind by 4" in rows["王办事"]
    response = client.get("/admin/commitment_quota/export?year=2025")
    sheet = load_workbook(BytesIO(response.data)).active
    values = {sheet.cell(r, 1).value: sheet.cell(r, 5).value for r in range(2, sheet.max_row + 1)}
    assert values == {"李镇长": 0, "王办事": 1}
    assert client.get("/admin/commitment_quota/?year=1900").status_code == 400


def test_the_quota_report_reads_a_fixed_number_of_queries(
    db, commitment_township, create_user, closed_case, query_counter
):
    first = create_user("c0", "clerk", commitment_township)
    closed_case(first, (2025, 3, 2, 9), (2025, 3, 3, 9), (2025, 3, 4, 9))
    services.quota_report(commitment_township.id, 2025)
    with query_counter() as few:
        services.quota_report(commitment_township.id, 2025)
    for n in range(1, 20):
        user = create_user(f"c{n}", "clerk", commitment_township)
        closed_case(user, (2025, 4, 1, 9), (2025, 4, 2, 9), (2025, 4, 3, 9))
    with query_counter() as many:
        services.quota_report(commitment_township.id, 2025)
    assert len(few) == len(many)


def test_another_township_and_a_disabled_one_see_nothing(
    client, staff, db, commitment_township, leader, other_township, other_clerk, township
):
    from core.institutions import set_enabled

    dispute = services.open_dispute(commitment_township, by=leader, title="纠纷", parties="甲乙")
    set_enabled(other_township, "commitment", True)
    staff.login(other_clerk)
    assert client.get(f"/admin/commitment_disputes/details/?id={dispute.id}").status_code == 404
    html = client.get("/admin/commitment_quota/").get_data(as_text=True)
    assert "李镇长" not in html
    staff.logout()
    set_enabled(township, "commitment", False)
    staff.login(leader)
    for url in (
        "/admin/commitment_quota/",
        "/admin/commitment_take/",
        "/admin/commitment_disputes/",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == other_clerk.id)
        )
        == 0
    )


def test_every_commitment_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin
    from core.testing.fixtures import PASSWORD

    load_demo()
    user = db.session.scalar(select(User).where(User.username == "county"))
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    client.post("/login", data={"username": "county", "password": PASSWORD})
    findings = []
    for start in (
        "/admin/commitment_quota/",
        "/admin/commitment_taken/",
        "/admin/commitment_disputes/",
        "/admin/commitment_disputes/new/",
    ):
        found, _pages = crawl_admin(client, start=(start,), only="/admin/commitment_")
        findings += found
    assert findings == [], "\n".join(findings)
    leader = db.session.scalar(select(User).where(User.username == "dongfeng-leader"))
    leader.password_hash = hash_password(PASSWORD)
    db.session.commit()
    client.post("/logout")
    client.post("/login", data={"username": "dongfeng-leader", "password": PASSWORD})
    found, _pages = crawl_admin(
        client, start=("/admin/commitment_take/",), only="/admin/commitment_"
    )
    assert found == [], "\n".join(found)


def test_a_zone_with_daylight_saving_is_counted_case_by_case(
    forget_zones, db, commitment_township, leader, closed_case
):
    from zoneinfo import ZoneInfo

    from core import clock

    commitment_township.timezone = "Europe/Berlin"
    db.session.commit()
    clock.forget()
    start, end = services.year_bounds(commitment_township.id, 2026)
    assert clock.constant_offset(ZoneInfo("Europe/Berlin"), start, end) is None
    # accepted Monday 23 March 2026 (3 working days: due 26 March), resolved that day
    closed_case(leader, (2026, 3, 23, 9), (2026, 3, 26, 23, 30), (2026, 12, 31, 23, 30))
    report = services.quota_report(commitment_township.id, 2026, today=date(2027, 1, 2))
    me = handled(report, leader)
    # closed 23:30 on 31 December Shanghai time is 16:30 in Berlin: still 2026 there
    assert (me.handled, me.on_time) == (1, 1)
    clock.forget()
