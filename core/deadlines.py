"""The deadline sweep: cases that turn due soon or overdue get one reminder per due date."""

from __future__ import annotations

import contextlib
import logging
from datetime import date, timedelta

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from werkzeug.routing import BuildError

from core.calendar import WorkingCalendar
from core.db import db
from core.institutions import enabled_hook
from core.models import OPEN_STATUSES, Case, Membership, User
from core.notifications import notify
from core.policies import get_policy
from core.tasks import actor

log = logging.getLogger(__name__)


#: cases handled per transaction by the sweep (memory stays flat whatever the total)
SWEEP_BATCH = 2000


def due_soon_limit(calendar: WorkingCalendar, today: date, working_days: int) -> date:
    """The last due date that counts as "due soon" on ``today``.

    A case is due soon when at most ``working_days`` working days lie in
    ``(today, due_on]``, i.e. when ``due_on`` comes before the working day after the
    ``working_days``-th one.
    """
    following = calendar.add_working_days(today, working_days + 1).due
    return following - timedelta(days=1)


def sweep_deadlines(today: date | None = None) -> int:
    """Record a reminder task for every open case that turned due soon or overdue and has
    not been reminded for its current due date. Returns how many were recorded.

    Each township is swept with its own today (its time zone), its own calendar and
    threshold, computed once. Per batch of :data:`SWEEP_BATCH` owed cases, one
    UPDATE marks them reminded for their due date and returns them, and one INSERT
    records their tasks (``core.tasks.enqueue_many``: one key per case and due date,
    so a reminder is recorded once however often the sweep runs), then the batch
    commits. SQL selects only the cases whose reminder is owed, so neither time nor
    memory grows with the open cases that are on time or already reminded.
    ``today`` (tests) overrides every township's today.
    """
    from core import clock
    from core.tasks import enqueue_many

    count = 0
    open_with_due = and_(Case.status.in_(OPEN_STATUSES), Case.due_on.is_not(None))
    township_ids = db.session.scalars(
        select(Case.township_id).where(open_with_due).distinct()
    ).all()
    for tid in township_ids:
        day = today or clock.today(tid)
        calendar = WorkingCalendar.for_township(tid)
        limit = due_soon_limit(calendar, day, int(get_policy(tid, "core.due_soon_working_days")))
        in_township = and_(open_with_due, Case.township_id == tid)
        owed = (
            ("overdue", Case.overdue_reminded_for, Case.due_on < day),
            (
                "due_soon",
                Case.due_soon_reminded_for,
                and_(Case.due_on >= day, Case.due_on <= limit),
            ),
        )
        for kind, reminded, window in owed:
            prefix = "case-overdue" if kind == "overdue" else "case-due-soon"
            last_id = 0
            while True:
                batch = (
                    select(Case.id)
                    .where(
                        in_township,
                        window,
                        or_(reminded.is_(None), reminded != Case.due_on),
                        Case.id > last_id,
                    )
                    .order_by(Case.id)
                    .limit(SWEEP_BATCH)
                )
                rows = db.session.execute(
                    update(Case)
                    .where(Case.id.in_(batch.scalar_subquery()))
                    .values({reminded.key: Case.due_on})
                    .returning(Case.id, Case.due_on)
                    .execution_options(synchronize_session=False)
                ).all()
                if not rows:
                    break
                enqueue_many(
                    "core.case_reminder",
                    [
                        (
                            f"{prefix}:{case_id}:{due_on}",
                            {"case_id": case_id, "kind": kind, "due_on": due_on.isoformat()},
                        )
                        for case_id, due_on in rows
                    ],
                )
                count += len(rows)
                last_id = max(case_id for case_id, _ in rows)
                db.session.commit()
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
        enabled_hook("township_case_overdue", case.township_id)(case=case)


@actor("core.deadline_sweep", queue_name="core", durable=False, max_retries=0)
def deadline_sweep_job() -> None:
    """Scheduled nudge: run the deadline sweep (idempotent)."""
    sweep_deadlines()


@actor("core.resend_sweep", queue_name="core", durable=False, max_retries=0)
def resend_sweep_job(grace_seconds: int | None = None) -> None:
    """Scheduled nudge: send again pending tasks whose message may have been lost.

    ``grace_seconds`` comes with the message from the active scheduler (its
    ``SWEEP_GRACE_SECONDS``), so the setting is the scheduler's, not each worker's.
    """
    from core.tasks import resend_due

    resend_due(current_app._get_current_object(), grace_seconds=grace_seconds)
