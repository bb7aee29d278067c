"""Findings go to the leading group, get a remedy with an owner and a deadline, are verified;
overdue remedies remind once; citizens report from the staff page; supervisors answer for
serious errors in their areas; the yearly report."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core import clock, inbox
from core.models import Notification, TaskRecord
from core.testing.fixtures import page_text
from plugins.supervision import services
from plugins.supervision.models import (
    FindingSource,
    FindingStatus,
    SupervisionFinding,
    SupervisionPhoto,
)

from .conftest import login, sample_png


def _finding(township, supervisor, area, clerk, **changes):
    data = services.FindingInput(
        kind=changes.pop("kind", "attitude"),
        observed_on=changes.pop("observed_on", clock.today(township)),
        evidence=changes.pop("evidence", "接待群众语气生硬"),
        area_id=area.id,
        staff_user_id=clerk.id,
    )
    return services.record_finding(township, data, supervisor, changes.pop("photo", None))


def test_a_finding_goes_to_the_leading_group_is_remedied_and_verified(
    client, db, supervision_township, supervisor, group, clerk, leader
):
    login(client, supervisor)
    response = client.post(
        "/admin/supervision_findings/new/",
        data={
            "kind": "quality",
            "observed_on": clock.today(supervision_township).isoformat(),
            "area_id": group["area"].id,
            "staff_user_id": clerk.id,
            "evidence": "证明材料有错别字，群众被迫重新开具",
            "photo": (io.BytesIO(sample_png()), "evidence.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    finding = db.session.scalar(select(SupervisionFinding))
    assert finding.found_by_member_id == group["member"].id  # the recording supervisor
    assert finding.status == FindingStatus.raised
    assert db.session.scalar(select(func.count(SupervisionPhoto.id))) == 1
    assert ("supervision.raised", finding.id) in [
        (i.source.key, i.object_id) for i in inbox.page(leader)[0]
    ]
    photo_id = db.session.scalar(select(SupervisionPhoto.id))
    photo = client.get(f"/admin/supervision_findings/photo/?id={photo_id}")
    assert photo.mimetype == "image/png" and photo.headers["X-Content-Type-Options"] == "nosniff"

    client.post("/logout")
    login(client, leader)
    deadline = clock.today(supervision_township) + timedelta(days=7)
    bad = client.post(
        f"/admin/supervision_findings/handle/?id={finding.id}",
        data={"step": "assign", "measure": "", "owner_id": "", "deadline": "2001-01-01"},
    )
    assert bad.status_code == 400
    text = page_text(bad.get_data(as_text=True), "#problems")
    assert (
        "Say what must be remedied" in text and "Choose an owner" in text and "in the past" in text
    )
    client.post(
        f"/admin/supervision_findings/handle/?id={finding.id}",
        data={
            "step": "assign",
            "measure": "重新开具并培训",
            "owner_id": clerk.id,
            "deadline": deadline.isoformat(),
        },
    )
    db.session.expire_all()
    assert finding.status == FindingStatus.remedying
    assert [i.source.key for i in inbox.page(clerk)[0]] == ["supervision.remedy"]

    services.report_remedied(finding, clerk, "已重新开具，组织窗口培训")
    with pytest.raises(services.SupervisionError, match="own remedy"):
        services.verify(finding, clerk, True, "")
    assert ("supervision.verify", finding.id) in [
        (i.source.key, i.object_id) for i in inbox.page(supervisor)[0]
    ]
    client.post("/logout")
    login(client, supervisor)
    client.post(
        f"/admin/supervision_findings/handle/?id={finding.id}",
        data={"step": "verify", "note": "已核实"},
    )
    db.session.expire_all()
    assert finding.status == FindingStatus.verified and finding.verified_by_id == supervisor.id
    assert [e.action for e in services.trail(finding.id)] == [
        "recorded",
        "remedy_assigned",
        "remedied",
        "verified",
    ]


def test_bad_findings_are_refused_with_every_reason(db, supervision_township, supervisor, group):
    future = clock.today(supervision_township) + timedelta(days=1)
    with pytest.raises(services.SupervisionError) as refused:
        services.record_finding(
            supervision_township,
            services.FindingInput(kind="rude", observed_on=future, evidence=""),
            supervisor,
            b"GIF89a...",
        )
    problems = refused.value.problems
    assert any("poor attitude" in p for p in problems)
    assert any("cannot be in the future" in p for p in problems)
    assert "Describe what happened." in problems
    assert any("Say where it was seen" in p for p in problems)
    assert any("JPEG or PNG" in p for p in problems)
    db.session.rollback()
    assert db.session.scalar(select(func.count(SupervisionFinding.id))) == 0


def test_an_overdue_remedy_reminds_once(
    app, db, supervision_township, supervisor, group, clerk, leader, stub_worker
):
    finding = _finding(supervision_township, supervisor, group["area"], clerk)
    deadline = clock.today(supervision_township) + timedelta(days=2)
    services.assign_remedy(finding, leader, "整改", clerk.id, deadline)
    assert services.record_overdue_reminders() == 0  # not overdue yet
    later = clock.now(supervision_township) + timedelta(days=5)
    with time_machine.travel(later, tick=False):
        assert services.record_overdue_reminders() == 1
        assert services.record_overdue_reminders() == 0  # the job runs again: nothing new
        stub_worker.join()
        assert services.record_overdue_reminders() == 0
    db.session.expire_all()
    overdue = db.session.scalars(
        select(Notification).where(Notification.key.like("supervision:overdue:%"))
    ).all()
    assert sorted(n.user_id for n in overdue) == sorted({clerk.id, leader.id})
    assert (
        db.session.scalar(
            select(func.count(TaskRecord.id)).where(TaskRecord.actor_name == "supervision.remind")
        )
        == 1
    )
    assert db.session.get(SupervisionFinding, finding.id).reminded_for == deadline
    assert [e.action for e in services.trail(finding.id)][-1] == "reminded"


def test_a_citizen_reports_a_problem_from_the_staff_page(
    client, db, supervision_township, clerk, leader, station
):
    from core.institutions import set_enabled
    from core.people import staff_links

    links = staff_links(supervision_township, clerk)
    assert [link.url for link in links if "supervision" in link.url] == [
        f"/t/east/supervision/report?staff={clerk.id}"
    ]
    page = client.get(f"/t/east/supervision/report?staff={clerk.id}").get_data(as_text=True)
    assert clerk.name in page_text(page, "#report-staff")
    bad = client.post(
        "/t/east/supervision/report",
        data={
            "staff": clerk.id,
            "kind": "attitude",
            "what": "",
            "observed_on": "2999-01-01",
            "contact": "123",
        },
    )
    assert bad.status_code == 400
    assert "Describe what happened." in bad.get_data(as_text=True)
    response = client.post(
        "/t/east/supervision/report",
        data={
            "staff": clerk.id,
            "kind": "attitude",
            "what": "窗口工作人员态度冷淡",
            "observed_on": clock.today(supervision_township).isoformat(),
            "department_id": station.id,
            "contact": "13812345678",
        },
    )
    assert response.status_code == 201
    receipt = page_text(response.get_data(as_text=True), "#receipt-no")
    finding = db.session.scalar(select(SupervisionFinding))
    assert finding.source == FindingSource.citizen and finding.staff_user_id == clerk.id
    assert finding.citizen_contact == "+8613812345678" and finding.receipt_no == receipt
    assert ("supervision.raised", finding.id) in [
        (i.source.key, i.object_id) for i in inbox.page(leader)[0]
    ]
    lookup = client.get(f"/lookup?receipt={receipt}").get_data(as_text=True)
    assert page_text(lookup, "#case-status-label") == "With the township's leading group"
    assert "13812345678" not in lookup and clerk.name not in lookup and "态度冷淡" not in lookup
    set_enabled(supervision_township, "supervision", False)
    assert client.get(f"/lookup?receipt={receipt}").status_code == 404
    assert not [
        link for link in staff_links(supervision_township, clerk) if "supervision" in link.url
    ]


def test_citizen_reports_are_rate_limited(app, db, supervision_township):
    from core.testing.fixtures import built_app

    day = clock.today(supervision_township).isoformat()
    with built_app(app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://") as other:
        client = other.test_client()
        answers = [
            client.post(
                "/t/east/supervision/report",
                data={
                    "kind": "quality",
                    "what": f"问题{i}",
                    "observed_on": day,
                    "window": "一号窗口",
                },
            ).status_code
            for i in range(6)
        ]
    assert answers == [201] * 5 + [429]
    assert db.session.scalar(select(func.count(SupervisionFinding.id))) == 5


def test_a_serious_error_with_no_finding_names_the_covering_supervisor(
    db, supervision_township, supervisor, group, clerk, township_admin
):
    day = clock.today(supervision_township)
    error = services.record_serious_error(
        supervision_township,
        services.ErrorInput(
            day - timedelta(days=1), group["area"].id, "低保资格审核错误，群众权益受损"
        ),
        township_admin,
    )
    assert [a.member_id for a in error.named] == [group["member"].id]
    assert error.findings_before == 0
    # a finding raised in the area within the window clears the supervisors
    _finding(
        supervision_township, supervisor, group["area"], clerk, observed_on=day - timedelta(days=20)
    )
    second = services.record_serious_error(
        supervision_township,
        services.ErrorInput(day, group["area"].id, "又一次审核错误"),
        township_admin,
    )
    assert second.named == [] and second.findings_before == 1
    with pytest.raises(services.SupervisionError, match="may not record serious errors"):
        services.record_serious_error(
            supervision_township, services.ErrorInput(day, group["area"].id, "x"), supervisor
        )


def test_the_yearly_report_lists_findings_per_area_and_supervisor(
    client, db, supervision_township, supervisor, group, clerk, leader, township_admin
):
    year = clock.today(supervision_township).year
    day = date(year, 1, 2)
    with time_machine.travel(date(year, 6, 1), tick=False):
        _finding(supervision_township, supervisor, group["area"], clerk, observed_on=day)
        _finding(
            supervision_township,
            supervisor,
            group["area"],
            clerk,
            observed_on=day,
            kind="procedure",
        )
        dismissed = _finding(
            supervision_township, supervisor, group["area"], clerk, observed_on=day
        )
        services.dismiss(dismissed, leader, "经核实不属实")
        services.record_serious_error(
            supervision_township,
            services.ErrorInput(date(year, 5, 30), group["area"].id, "严重失误"),
            township_admin,
        )
    report = services.yearly_report(supervision_township, year)
    line = next(a for a in report.areas if a.name == "民政窗口")
    assert (line.total, line.by_kind, line.open, line.serious_errors, line.named) == (
        2,
        {"attitude": 1, "procedure": 1},
        2,
        1,
        1,
    )
    sup = report.supervisors[0]
    assert (sup.raised, sup.named) == (2, 1)
    login(client, leader)
    html = client.get(f"/admin/supervision_report/?year={year}").get_data(as_text=True)
    assert page_text(html, '#report-areas tr[data-area="民政窗口"] .total') == "2"
    printable = client.get(
        f"/admin/supervision_report/print?township={supervision_township.id}&year={year}"
    ).get_data(as_text=True)
    assert "@page" in printable and "民政窗口" in printable


def test_findings_are_offered_per_person_and_year(
    db, supervision_township, supervisor, group, clerk
):
    from core.people import year_figures

    _finding(supervision_township, supervisor, group["area"], clerk)
    year = clock.today(supervision_township).year
    figures = year_figures(supervision_township, year, [clerk.id, supervisor.id])
    about = {f.key: f for f in figures[clerk.id]}["supervision.findings"]
    assert (about.value, about.target, about.met) == (1, 0, False)
    raised = {f.key: f for f in figures[supervisor.id]}
    assert raised["supervision.findings"].met is True
    assert raised["supervision.findings_raised"].value == 1


def test_the_findings_list_costs_the_same_queries_for_5_or_50_rows(
    client, db, supervision_township, supervisor, group, clerk, leader, query_counter
):
    def add(n):
        for _ in range(n):
            _finding(supervision_township, supervisor, group["area"], clerk)

    add(5)
    login(client, leader)
    url = "/admin/supervision_findings/?page_size=50"
    client.get(url)
    db.session.expire_all()
    with query_counter() as few:
        assert client.get(url).status_code == 200
    add(45)
    client.get(url)  # caches (the navbar's inbox count) warm again after the change
    db.session.expire_all()
    with query_counter() as many:
        assert client.get(url).status_code == 200
    assert len(few) == len(many)
