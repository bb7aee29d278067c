"""Borrowing: request, approval, lending, an overdue reminder once per due date, return
checked; a loss; on-screen reading of digital copies, logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core import clock
from core.models import Notification, TaskRecord
from plugins.archives import services
from plugins.archives.models import (
    ItemEvent,
    Loan,
    LoanStatus,
    Loss,
    ReturnCondition,
    ViewLog,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _borrow(item, clerk, days=7):
    return services.request_loan(
        clerk,
        township_id=item.township_id,
        item=item,
        purpose="核对宅基地面积",
        wanted_until=clock.today(item.township_id) + timedelta(days=days),
    )


def test_borrow_approve_lend_overdue_reminder_once_and_return(
    app, db, enabled, archivist, clerk, leader, filed_item, stub_worker
):
    item = filed_item()
    loan = _borrow(item, clerk)
    # the head of archives is told, and finds it in the inbox
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == leader.id)
        )
        == 1
    )
    with pytest.raises(services.ArchivesError, match="Only an approved request"):
        services.lend(loan, archivist)
    with pytest.raises(services.ArchivesError, match="head of archives"):
        services.decide_loan(loan, clerk, True)
    services.decide_loan(loan, leader, True)
    services.lend(loan, archivist)
    assert loan.status == LoanStatus.lent and loan.due_on == loan.wanted_until

    # a second request for the same item waits, but cannot be lent while it is out
    other = _borrow(item, leader)
    services.decide_loan(other, create_approver(db, enabled), True)
    with pytest.raises(services.ArchivesError, match="lent out already"):
        services.lend(other, archivist)

    def reminders():
        return db.session.scalar(
            select(func.count(Notification.id)).where(Notification.key.like("archives-overdue:%"))
        )

    later = datetime.combine(loan.due_on + timedelta(days=2), datetime.min.time(), UTC)
    with time_machine.travel(later, tick=False):
        assert services.overdue_sweep() == 1
        stub_worker.join()
        db.session.expire_all()
        assert reminders() == 2  # the borrower and the archivist
        # the job runs again (and again): nothing new
        assert services.overdue_sweep() == 0
        stub_worker.join()
        assert reminders() == 2
        assert (
            db.session.scalar(
                select(func.count(TaskRecord.id)).where(
                    TaskRecord.actor_name == "archives.loan_reminder"
                )
            )
            == 1
        )

    loan = db.session.get(Loan, loan.id)
    with pytest.raises(services.ArchivesError, match="what is damaged"):
        services.take_back(loan, archivist, ReturnCondition.missing_pages)
    services.take_back(loan, archivist, ReturnCondition.missing_pages, "缺第 3 页")
    assert loan.status == LoanStatus.returned and loan.return_note == "缺第 3 页"
    with pytest.raises(services.ArchivesError, match="nothing to return"):
        services.take_back(loan, archivist, ReturnCondition.complete)
    actions = db.session.scalars(
        select(ItemEvent.action).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id)
    ).all()
    assert actions == ["filed", "lent", "returned"]


def create_approver(db, township):
    from core.models import Membership, User
    from core.testing.fixtures import _password_hash

    user = User(username="head", name="档案室主任", password_hash=_password_hash())
    db.session.add(user)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, org_unit_id=township.id, role="leader"))
    db.session.commit()
    return user


def test_a_return_without_a_loan_is_refused_through_the_admin(
    client, staff, db, enabled, archivist, clerk, leader, filed_item
):
    loan = _borrow(filed_item(), clerk)
    staff.login(archivist)
    response = client.post(
        f"/admin/archives_loans/return/?id={loan.id}", data={"condition": "complete"}
    )
    assert response.status_code == 400
    assert "there is nothing to return" in response.get_data(as_text=True)
    assert db.session.get(Loan, loan.id).status == LoanStatus.requested


def test_a_loss_is_registered_with_the_custodians_account(
    db, enabled, archivist, clerk, leader, filed_item
):
    loan = _borrow(filed_item(), clerk)
    services.decide_loan(loan, leader, True)
    with pytest.raises(services.ArchivesError, match="Only something lent"):
        services.report_loss(loan, archivist, "丢了")
    services.lend(loan, archivist)
    with pytest.raises(services.ArchivesError, match="account"):
        services.report_loss(loan, archivist, "  ")
    loss = services.report_loss(loan, archivist, "借阅人称在下乡途中遗失，已报告领导")
    assert loan.status == LoanStatus.lost
    services.follow_up_loss(loss, "已找回复印件并补齐", True, archivist)
    loss = db.session.scalar(select(Loss))
    assert loss.settled and "已找回复印件并补齐" in loss.follow_up
    assert "遗失" in loss.custodian_account


def test_validation_of_a_request(db, enabled, clerk, filed_item, paper):
    item = filed_item()
    today = clock.today(enabled)
    with pytest.raises(services.ArchivesError, match="past"):
        services.request_loan(
            clerk,
            township_id=enabled.id,
            item=item,
            purpose="x",
            wanted_until=today - timedelta(days=1),
        )
    with pytest.raises(services.ArchivesError, match="need it for"):
        services.request_loan(
            clerk, township_id=enabled.id, item=item, purpose=" ", wanted_until=today
        )
    with pytest.raises(services.ArchivesError, match="Only a filed item"):
        services.request_loan(
            clerk, township_id=enabled.id, item=paper(), purpose="x", wanted_until=today
        )
    assert db.session.scalar(select(func.count(Loan.id))) == 0


def test_digital_copies_are_checked_read_on_screen_and_logged(
    client, staff, db, enabled, archivist, clerk, leader, filed_item
):
    item = filed_item()
    with pytest.raises(services.ArchivesError, match="not what it claims"):
        services.attach(item, "scan.pdf", "application/pdf", PNG, archivist)
    with pytest.raises(services.ArchivesError, match="disagree"):
        services.attach(item, "scan.png", "application/pdf", PDF, archivist)
    with pytest.raises(services.ArchivesError, match="Only PDF"):
        services.attach(item, "scan.exe", "application/x-msdownload", b"MZ", archivist)
    attachment = services.attach(item, "scan.pdf", "application/pdf", PDF, archivist)
    import hashlib

    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()

    staff.login(clerk)
    assert client.get(f"/admin/archives_catalogue/read/?id={attachment.id}").status_code == 403
    loan = _borrow(item, clerk)
    services.decide_loan(loan, leader, True)  # on-screen reading, no download
    page = client.get(f"/admin/archives_catalogue/read/?id={attachment.id}")
    assert page.status_code == 200 and 'id="download"' not in page.get_data(as_text=True)
    raw = client.get(f"/admin/archives_catalogue/raw/?id={attachment.id}")
    assert raw.data == PDF and raw.headers["Content-Disposition"] == "inline"
    assert client.get(f"/admin/archives_catalogue/download/?id={attachment.id}").status_code == 403
    assert db.session.scalar(select(func.count(ViewLog.id))) == 1

    # a second loan whose approver allows downloads
    second = _borrow(item, clerk, days=3)
    services.decide_loan(second, leader, True, may_download=True)
    download = client.get(f"/admin/archives_catalogue/download/?id={attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    logs = db.session.scalars(select(ViewLog).order_by(ViewLog.id)).all()
    assert [(log.user_id, log.downloaded) for log in logs] == [(clerk.id, False), (clerk.id, True)]


def test_an_upload_that_lies_about_its_type_is_refused_in_the_admin(
    client, staff, db, enabled, archivist, filed_item
):
    import io

    from plugins.archives.models import Attachment

    item = filed_item()
    staff.login(archivist)
    response = client.post(
        f"/admin/archives_catalogue/item/?id={item.id}",
        data={"what": "attach", "file": (io.BytesIO(PNG), "scan.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "not what it claims to be" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
