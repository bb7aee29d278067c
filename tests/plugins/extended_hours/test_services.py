"""The after-hours service log (延时服务登记): checked against the township's office hours,
nothing written when refused; urgent matters linked to their case; the conduct rule once
a year; the public page of weekend and after-hours duty; the report per month."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from core import duty
from core.models import DutyPost
from plugins.extended_hours import services
from plugins.extended_hours.models import ExtendedHoursPledge, ExtendedHoursService
from tests.plugins.extended_hours.conftest import REST, WORKING, at, login

TUESDAY = date(2025, 11, 18)
SATURDAY = date(2025, 11, 22)


def _input(staff, **changes):
    values = {
        "citizen_name": "赵桂芳",
        "citizen_phone": "13904715678",
        "matter": "办理户口登记证明",
        "served_on": TUESDAY,
        "starts": "18:00",
        "ends": "18:40",
        "staff_id": staff.id,
        "result": "当场办结",
    }
    values.update(changes)
    return services.ServiceInput(**values)


def _count(db) -> int:
    return db.session.scalar(select(func.count(ExtendedHoursService.id)))


def test_a_service_must_lie_outside_office_hours(db, hours_township, clerk, other_clerk):
    with time_machine.travel(at(date(2025, 11, 24), 9), tick=False):
        with pytest.raises(services.ExtendedHoursError) as refused:
            services.record_service(
                hours_township, _input(clerk, starts="09:00", ends="10:00"), by=clerk
            )
        assert "lies within the office hours (08:30–17:30" in refused.value.problems[0]
        with pytest.raises(services.ExtendedHoursError) as refused:
            services.record_service(
                hours_township,
                _input(
                    other_clerk, citizen_phone="123", ends="17:00", served_on=date(2025, 11, 30)
                ),
                by=clerk,
            )
        problems = " ".join(refused.value.problems)
        assert "123 is not a valid phone number" in problems
        assert "Choose the staff member who served" in problems  # another township's clerk
        assert "2025-11-30 is in the future" in problems
        with pytest.raises(services.ExtendedHoursError, match="must end after it starts"):
            services.record_service(hours_township, _input(clerk, ends="17:00"), by=clerk)
        with pytest.raises(services.ExtendedHoursError, match="HH:MM"):
            services.record_service(hours_township, _input(clerk, ends="7 pm"), by=clerk)
        with pytest.raises(services.ExtendedHoursError, match="urgent matter is linked"):
            services.record_service(hours_township, _input(clerk, urgent=True), by=clerk)
        assert _count(db) == 0
        # after closing on a working day, before opening, any time on a Saturday
        services.record_service(hours_township, _input(clerk), by=clerk)
        services.record_service(
            hours_township, _input(clerk, starts="07:40", ends="08:40"), by=clerk
        )
        services.record_service(
            hours_township,
            _input(clerk, served_on=SATURDAY, starts="10:00", ends="11:00"),
            by=clerk,
        )
        assert _count(db) == 3
        from core.policies import set_policy
        from plugins.extended_hours.policy import CLOSES

        set_policy(hours_township.id, CLOSES, "19:00")
        db.session.commit()
        with pytest.raises(services.ExtendedHoursError, match="08:30–19:00"):
            services.record_service(hours_township, _input(clerk), by=clerk)


def test_an_urgent_matter_is_linked_to_its_case_and_the_citizen_sees_when(
    client, db, hours_township, clerk
):
    from core.cases import register_case

    with time_machine.travel(at(date(2025, 11, 24), 9), tick=False):
        case = register_case(
            township=hours_township,
            kind="service",
            title="开具低保证明",
            applicant_name="孙志刚",
            first_responder=clerk,
            received_on=TUESDAY,
            accept=True,
        )
        with pytest.raises(services.ExtendedHoursError, match="No case of this township"):
            services.record_service(
                hours_township, _input(clerk, urgent=True, receipt_no="NOPE-1"), by=clerk
            )
        entry = services.record_service(
            hours_township, _input(clerk, urgent=True, receipt_no=case.receipt_no.lower()), by=clerk
        )
        assert entry.case_id == case.id and entry.urgent
        page = client.get(f"/lookup?receipt={case.receipt_no}").get_data(as_text=True)
        assert "2025-11-18 18:00–18:40" in page
        assert "赵桂芳" not in page and "13904715678" not in page


def test_each_staff_member_acknowledges_the_rule_once_a_year(
    client, db, hours_township, clerk, leader, other_clerk
):
    from core import inbox

    with time_machine.travel(at(date(2025, 3, 1), 9), tick=False):
        pending = [i for i in inbox.page(clerk)[0] if i.source.key == services.INBOX_PLEDGE]
        assert [(i.object_id, i.township_id) for i in pending] == [(clerk.id, hours_township.id)]
        services.acknowledge_rule(hours_township, clerk)
        with pytest.raises(services.ExtendedHoursError, match="already"):
            services.acknowledge_rule(hours_township, clerk)
        with pytest.raises(services.ExtendedHoursError, match="Only the township's staff"):
            services.acknowledge_rule(hours_township, other_clerk)
        assert [i for i in inbox.page(clerk)[0] if i.source.key == services.INBOX_PLEDGE] == []
        rows = services.register(hours_township.id, 2025)
        assert {r.user.name: r.pledge is not None for r in rows} == {
            "王办事": True,
            "李镇长": False,
        }
        login(client, leader)
        page = client.get("/admin/extended_hours_pledges/").get_data(as_text=True)
        assert "1 of 2 staff acknowledged the rule." in page
        assert client.post("/admin/extended_hours_pledges/acknowledge").status_code == 303
    with time_machine.travel(at(date(2026, 1, 2), 9), tick=False):
        # a new year: asked again
        pending = [i for i in inbox.page(clerk)[0] if i.source.key == services.INBOX_PLEDGE]
        assert len(pending) == 1
    assert db.session.scalar(select(func.count(ExtendedHoursPledge.id))) == 2


def test_the_public_page_shows_weekend_and_after_hours_duty_and_nothing_personal(
    client, db, hours_township, clerk, leader
):
    clerk.phone = "0471-5551235"
    leader.phone = "0471-5551234"
    clerk.email = "private@example.test"
    db.session.commit()
    with time_machine.travel(at(date(2025, 11, 20), 10), tick=False):
        duty.add_to_pattern(hours_township, DutyPost.window, clerk, [(5, REST), (6, REST)])
        duty.add_to_pattern(
            hours_township, DutyPost.hotline, leader, [(d, WORKING) for d in range(5)]
        )
        from core.testing.fixtures import page_texts

        html = client.get("/t/east/extended_hours/").get_data(as_text=True)
        days = page_texts(html, ".eh-day")
        assert len(days) == services.PUBLIC_DAYS
        saturday = next(d for d in days if d.startswith("2025-11-22"))
        assert "王办事 0471-5551235" in saturday
        thursday = next(d for d in days if d.startswith("2025-11-20"))
        assert "李镇长 0471-5551234" in thursday and "王办事" not in thursday
        assert "private@example.test" not in html
        township_page = client.get("/t/east/").get_data(as_text=True)
        assert "/t/east/extended_hours/" in township_page


def test_the_report_counts_services_per_month_and_staff_and_gaps_per_month(
    client, db, hours_township, clerk, leader, township_admin
):
    with time_machine.travel(at(date(2025, 11, 24), 9), tick=False):
        duty.add_to_pattern(
            hours_township,
            DutyPost.window,
            clerk,
            [(d, WORKING) for d in range(7)],
            valid_from=date(2025, 11, 1),
        )
        services.record_service(hours_township, _input(clerk), by=clerk)
        services.record_service(hours_township, _input(leader, served_on=SATURDAY), by=clerk)
        services.record_service(
            hours_township, _input(clerk, served_on=date(2025, 10, 14)), by=clerk
        )
        rows = services.services_per_month(hours_township.id, 2025)
        assert [(r.month, r.name, r.services) for r in rows] == [
            (10, "王办事", 1),
            (11, "李镇长", 1),
            (11, "王办事", 1),
        ]
        gaps = services.gaps_per_month(hours_township.id, 2025)
        # until the pattern starts (1 November) every day is empty; afterwards the rest
        # days (Saturdays and Sundays: the clerk is on working-day entries only)
        assert len(gaps[10]) == 31
        assert gaps[11] == [date(2025, 11, d) for d in (1, 2, 8, 9, 15, 16, 22, 23, 29, 30)]
        login(client, township_admin)
        response = client.get(
            f"/admin/extended_hours_report/xlsx?township={hours_township.id}&year=2025"
        )
        assert response.status_code == 200
        from io import BytesIO

        from openpyxl import load_workbook

        book = load_workbook(BytesIO(response.data))
        sheet = book.worksheets[0]
        assert [c.value for c in sheet[2]] == ["2025-10", "王办事", 1, 0]
        gap_sheet = book.worksheets[1]
        assert [c.value for c in gap_sheet[12]][:2] == ["2025-11", 10]
