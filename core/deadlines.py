"""The deadline sweep: cases that turn due soon or overdue get one reminder per due date."""

from __future__ import annotations

import contextlib
import logging
from datetime import date

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.routing import BuildError

from core.calendar import WorkingCalendar
from core.cases import timeliness
from core.db import db
from core.models import OPEN_STATUSES, Case, Membership, User
from core.notifications import notify
from core.plugins import state
from core.policies import get_policy
from core.tasks import actor, enqueue

log = logging.getLogger(__name__)


def sweep_deadlines(today: date | None = None) -> int:
    """Record a reminder task for every open case that is due soon or overdue and has
    not been reminded for its current due date. Returns how many were recorded."""
    today = today or date.today()
    count = 0
    calendars: dict[int, WorkingCalendar] = {}
    due_soon: dict[int, int] = {}
    cases = db.session.scalars(
        select(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.due_on.is_not(None))
        .order_by(Case.id)
    ).all()
    for case in cases:
        tid = case.township_id
        if tid not in calendars:
            calendars[tid] = WorkingCalendar.for_township(tid)
            due_soon[tid] = int(get_policy(tid, "core.due_soon_working_days"))
        state_ = timeliness(case, today, due_soon[tid], calendars[tid])
        if state_ == "overdue" and case.overdue_reminded_for != case.due_on:
            case.overdue_reminded_for = case.due_on
            enqueue(
                "core.case_reminder",
                f"case-overdue:{case.id}:{case.due_on}",
                case_id=case.id,
                kind="overdue",
                due_on=case.due_on.isoformat(),
            )
            count += 1
        elif state_ == "due_soon" and case.due_soon_reminded_for != case.due_on:
            case.due_soon_reminded_for = case.due_on
            enqueue(
                "core.case_reminder",
                f"case-due-soon:{case.id}:{case.due_on}",
                case_id=case.id,
                kind="due_soon",
                due_on=case.due_on.isoformat(),
            )
            count += 1
    db.session.commit()
    return count


def _leaders(township_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership)
            .where(Membership.org_unit_id == township_id, Membership.role == "leader")
        ).unique()
    )


@actor("core.case_reminder", queue_name="core")
def case_reminder(case_id: int, kind: str, due_on: str) -> None:
    """Notify the handler and the first responder (and, when overdue, the leaders)."""
    case = db.session.get(Case, case_id)
    if case is None or case.status not in OPEN_STATUSES or case.due_on.isoformat() != due_on:
        return  # resolved or extended since: nothing to remind
    recipients = [case.handler, case.first_responder]
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        if kind == "overdue":
            recipients += _leaders(case.township_id)
            title = _("Overdue: %(receipt)s %(title)s", receipt=case.receipt_no, title=case.title)
        else:
            title = _("Due soon: %(receipt)s %(title)s", receipt=case.receipt_no, title=case.title)
        body = _("Due on %(due)s.", due=due_on)
    link = None
    # BuildError: the admin site is not mounted (e.g. a worker-only app)
    with current_app.test_request_context(), contextlib.suppress(BuildError):
        link = url_for("admin_cases.details_view", id=case.id)
    notify(
        recipients,
        title,
        body,
        link=link,
        key=f"case-{kind}:{case.id}:{due_on}",
        township_id=case.township_id,
    )
    if kind == "overdue":
        db.session.flush()
        state().hook.township_case_overdue(case=case)


@actor("core.deadline_sweep", queue_name="core", durable=False, max_retries=0)
def deadline_sweep_job() -> None:
    """Scheduled nudge: run the deadline sweep (idempotent)."""
    sweep_deadlines()


@actor("core.resend_sweep", queue_name="core", durable=False, max_retries=0)
def resend_sweep_job() -> None:
    """Scheduled nudge: send again pending tasks whose message may have been lost."""
    from core.tasks import resend_due

    resend_due(current_app._get_current_object())
