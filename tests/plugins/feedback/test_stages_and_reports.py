"""Stage reports (a village with 2 activity reports in a stage is behind, 3 is not; the
stages follow the township's definition), compliance on the dashboard and as XLSX,
reports to the office with attachments checked by their signature, the office's
acknowledgement, and the monthly digest."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from core import inbox
from plugins.feedback import services
from plugins.feedback.models import (
    FeedbackAttachment,
    FeedbackOfficeReport,
    FeedbackStage,
    FeedbackStageReport,
)
from tests.plugins.feedback.conftest import login
from tests.plugins.feedback.test_duty_reports import at

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _activity(township, village, day, by, title="开展政策宣讲"):
    return services.add_stage_report(
        township,
        services.StageReportInput(
            kind="village_activity",
            village_id=village.id,
            title=title,
            body="村两委干部逐户讲解。",
            reported_on=day,
        ),
        by=by,
    )


def _behind(township_id, stage) -> dict[str, tuple[int, bool]]:
    return {r.name: (r.reports, r.behind) for r in services.village_compliance(township_id, stage)}


def test_a_village_with_two_reports_in_a_stage_is_behind_and_three_is_not(
    db, feedback_township, villages, clerk
):
    first, second, _third = villages
    with time_machine.travel(at(date(2025, 6, 20), 10), tick=False):
        stage = services.stage_on(feedback_township.id, date(2025, 6, 20))
        assert (stage.name, stage.starts_on, stage.ends_on) == (
            "2025, quarter 2",
            date(2025, 4, 1),
            date(2025, 6, 30),
        )
        for day in (date(2025, 4, 2), date(2025, 5, 9), date(2025, 6, 20)):
            _activity(feedback_township, first, day, clerk)
        for day in (date(2025, 4, 3), date(2025, 6, 1)):
            _activity(feedback_township, second, day, clerk)
        _activity(feedback_township, second, date(2025, 3, 31), clerk)  # the first quarter
        assert _behind(feedback_township.id, stage) == {
            "前进村": (3, False),
            "红星村": (2, True),
            "光明村": (0, True),
        }
        # the township raises its figure to 4: nobody is on track any more
        from core.policies import set_policy

        set_policy(feedback_township.id, "feedback.village_reports_per_stage", 4)
        db.session.commit()
        assert _behind(feedback_township.id, stage)["前进村"] == (3, True)


def test_stages_follow_the_townships_definition(db, feedback_township, villages, clerk):
    first = villages[0]
    with time_machine.travel(at(date(2025, 6, 20), 10), tick=False):
        for day in (date(2025, 2, 10), date(2025, 3, 15), date(2025, 5, 5)):
            _activity(feedback_township, first, day, clerk)
        quarter = services.stage_on(feedback_township.id, date(2025, 5, 5))
        assert _behind(feedback_township.id, quarter)["前进村"] == (1, True)
        # the township works in halves: the first half holds all three
        db.session.add(
            FeedbackStage(
                township_id=feedback_township.id,
                name="2025年上半年",
                starts_on=date(2025, 1, 1),
                ends_on=date(2025, 6, 30),
            )
        )
        db.session.commit()
        half = services.stage_on(feedback_township.id, date(2025, 5, 5))
        assert (half.name, half.starts_on, half.ends_on) == (
            "2025年上半年",
            date(2025, 1, 1),
            date(2025, 6, 30),
        )
        assert _behind(feedback_township.id, half)["前进村"] == (3, False)
        # a date outside every stage the township defined is refused, nothing written
        with pytest.raises(services.FeedbackError, match="No stage of the township covers"):
            _activity(feedback_township, first, date(2024, 12, 30), clerk)
        # overlapping stages are refused with the reason
        with pytest.raises(services.FeedbackError, match="overlaps 2025年上半年"):
            services.check_stage(
                feedback_township.id, "二季度", date(2025, 4, 1), date(2025, 6, 30)
            )
        with pytest.raises(services.FeedbackError, match="comes before"):
            services.check_stage(
                feedback_township.id, "下半年", date(2025, 12, 31), date(2025, 7, 1)
            )
        assert services.fill_quarters(feedback_township.id, 2025) == 2  # Q3 and Q4 only
    assert db.session.scalar(select(func.count(FeedbackStageReport.id))) == 3


def test_the_office_edits_stages_in_the_admin_with_messages(
    client, db, feedback_township, township_admin
):
    login(client, township_admin)
    client.post("/lang/zh_CN")
    listing = client.get("/admin/feedback_stages/").get_data(as_text=True)
    assert "尚未设定阶段：以每年的四个季度为阶段。" in listing
    response = client.post(
        "/admin/feedback_stages/new/",
        data={
            "township_id": str(feedback_township.id),
            "name": "上半年",
            "starts_on": "2025-06-30",
            "ends_on": "2025-01-01",
        },
    )
    assert response.status_code == 200
    from core.testing.fixtures import page_texts

    alerts = " ".join(page_texts(response.get_data(as_text=True), ".alert"))
    assert "结束日期" in alerts and "2025-01-01" in alerts and "2025-06-30" in alerts
    assert db.session.scalar(select(func.count(FeedbackStage.id))) == 0
    response = client.post(
        "/admin/feedback_stages/new/",
        data={
            "township_id": str(feedback_township.id),
            "name": "上半年",
            "starts_on": "2025-01-01",
            "ends_on": "2025-06-30",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(FeedbackStage.name)) == "上半年"


def test_compliance_page_dashboard_and_xlsx(
    client, db, feedback_township, villages, clerk, township_admin
):
    from openpyxl import load_workbook

    with time_machine.travel(at(date(2025, 6, 20), 10), tick=False):
        for day in (date(2025, 4, 2), date(2025, 5, 9), date(2025, 6, 20)):
            _activity(feedback_township, villages[0], day, clerk, title="=HYPERLINK(1)")
        _activity(feedback_township, villages[1], date(2025, 4, 2), clerk)
        login(client, township_admin)
        page = client.get(f"/admin/feedback_compliance/?township={feedback_township.id}").get_data(
            as_text=True
        )
        from core.testing.fixtures import page_texts

        rows = page_texts(page, "#village-compliance tr[data-behind=yes] td:first-child")
        assert rows == ["光明村", "红星村"]
        dashboard = client.get("/admin/").get_data(as_text=True)
        assert "Villages behind on activity reports in 2025, quarter 2: 2 of 3" in dashboard
        response = client.get(
            f"/admin/feedback_compliance/xlsx?township={feedback_township.id}&stage=2025-04-01"
        )
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
        assert [c.value for c in sheet[3]] == [
            "Village",
            "Activity reports",
            "Reports required",
            "Behind",
            "Reports still missing",
        ]
        values = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=4)}
        assert values["前进村"] == ["前进村", 3, 3, "No", 0]
        assert values["红星村"] == ["红星村", 1, 3, "Yes", 2]
        assert sheet.freeze_panes == "A4"


def test_a_report_to_the_office_with_attachments_is_acknowledged(
    client, db, feedback_township, leader, clerk, township_admin
):
    login(client, leader)
    form = {
        "reporter_role": "leader",
        "category": "problem",
        "title": "春耕物资缺口",
        "body": "部分村化肥到货延迟。",
    }
    refused = client.post(
        "/admin/feedback_reports/new/",
        data={
            **form,
            "attachments": [(io.BytesIO(b"MZ\x90\x00"), "tool.pdf"), (io.BytesIO(PNG), "a.png")],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert (
        "tool.pdf is not a PDF, JPEG, PNG, Word (.docx) or Excel (.xlsx) file."
        in refused.get_data(as_text=True)
    )
    fake_docx = client.post(
        "/admin/feedback_reports/new/",
        data={**form, "attachments": [(io.BytesIO(b"PK\x03\x04junk"), "memo.docx")]},
        content_type="multipart/form-data",
    )
    assert fake_docx.status_code == 400
    too_big = client.post(
        "/admin/feedback_reports/new/",
        data={
            **form,
            "attachments": [(io.BytesIO(PDF + b"0" * services.MAX_ATTACHMENT_BYTES), "big.pdf")],
        },
        content_type="multipart/form-data",
    )
    assert too_big.status_code == 400 and "larger than 5 MB" in too_big.get_data(as_text=True)
    assert db.session.scalar(select(func.count(FeedbackOfficeReport.id))) == 0
    assert db.session.scalar(select(func.count(FeedbackAttachment.id))) == 0
    response = client.post(
        "/admin/feedback_reports/new/",
        data={
            **form,
            "attachments": [(io.BytesIO(PDF), "清单.pdf"), (io.BytesIO(_docx()), "memo.docx")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    report = db.session.scalar(select(FeedbackOfficeReport))
    assert [(a.filename, a.content_type) for a in report.attachments] == [
        ("清单.pdf", "application/pdf"),
        ("memo.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ]
    # the office (clerk and township admin) has it in the inbox; the leader not
    for user in (clerk, township_admin):
        assert [
            i.object_id
            for i in inbox.page(user)[0]
            if i.source.key == services.INBOX_TO_ACKNOWLEDGE
        ] == [report.id]
    assert [i for i in inbox.page(leader)[0] if i.source.key == services.INBOX_TO_ACKNOWLEDGE] == []
    download = client.get(
        f"/admin/feedback_reports/{report.id}/attachment/{report.attachments[0].id}"
    )
    assert download.data == PDF and download.mimetype == "application/pdf"
    # the leader cannot acknowledge; the clerk can
    assert client.post(f"/admin/feedback_reports/{report.id}/acknowledge").status_code == 400
    client.post("/logout")
    login(client, clerk)
    response = client.post(
        f"/admin/feedback_reports/{report.id}/acknowledge", data={"note": "已阅"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    report = db.session.get(FeedbackOfficeReport, report.id)
    assert (
        report.acknowledged and report.ack_note == "已阅" and report.acknowledged_by_id == clerk.id
    )
    assert [i for i in inbox.page(clerk)[0] if i.source.key == services.INBOX_TO_ACKNOWLEDGE] == []
    from core.models import Notification, ProducedRecord

    assert db.session.scalar(
        select(Notification.id).where(
            Notification.key == f"feedback.acknowledged:{report.id}:{leader.id}"
        )
    )
    assert db.session.scalar(select(ProducedRecord.reference)) == f"office-report:{report.id}"


def test_the_monthly_digest_counts_by_channel_and_tells_the_leadership_once(
    app, client, db, feedback_township, villages, clerk, leader, on_hotline, stub_worker
):
    from core.models import Notification
    from plugins.feedback.tasks import digest_sweep
    from tests.plugins.feedback.conftest import WORKING

    with time_machine.travel(at(date(2025, 11, 14), 20), tick=False):
        on_hotline(clerk, [(4, WORKING)])
        report = services.report_for(feedback_township.id, date(2025, 11, 14))
        services.file_report(report, by=clerk, letters=2, visits=1, calls=5, summary="咨询社保")
        services.submit_report(
            feedback_township,
            services.ReportInput(
                reporter_role="cadre", category="opinion", title="群众建议", body="修路"
            ),
            by=leader,
        )
        _activity(feedback_township, villages[0], date(2025, 11, 3), clerk)
    with time_machine.travel(at(date(2025, 12, 1), 8), tick=False):
        found = services.digest(feedback_township, 2025, 11)
        assert (found.letters, found.visits, found.calls, found.duty_filed) == (2, 1, 5, 1)
        assert dict(found.by_category)["Citizens' opinions and suggestions"] == 1
        assert found.reports_unacknowledged == 1 and found.stage_reports == 1
        assert [v.name for v in found.villages_behind] == ["光明村", "前进村", "红星村"]
        digest_sweep.fn()
        stub_worker.join()
        digest_sweep.fn()
        stub_worker.join()
        keys = db.session.scalars(
            select(Notification.key).where(Notification.key.like("feedback.digest:%"))
        ).all()
        assert keys == [f"feedback.digest:{feedback_township.id}:2025-11:{leader.id}"]
        login(client, leader)
        page = client.get(f"/admin/feedback_digest/?township={feedback_township.id}&month=2025-11")
        from core.testing.fixtures import page_text

        html = page.get_data(as_text=True)
        assert page_text(html, "#digest-letters") == "2" and page_text(html, "#digest-calls") == "5"
        assert client.get("/admin/feedback_digest/?month=2025-13").status_code == 404
