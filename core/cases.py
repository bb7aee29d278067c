"""Case services: register, accept, assign, forward, pause, extend, resolve, deliver, close.

Each service checks the transition, changes the case, appends a
:class:`~core.models.CaseEvent` (who, when, what, before/after), commits, and then
fires the event hook. An illegal transition raises :class:`CaseError` with a
message a clerk can read; nothing is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import clock
from core.calendar import DueDate, WorkingCalendar
from core.contract import CaseKind
from core.db import db, utcnow
from core.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    LimitUnit,
    OrgUnit,
    Person,
    TimeLimitPolicy,
    UnitKind,
    User,
)
from core.plugins import state

S = CaseStatus

#: which status may follow which
TRANSITIONS: dict[CaseStatus, set[CaseStatus]] = {
    S.received: {S.accepted, S.forwarded, S.closed},
    S.accepted: {S.in_progress, S.waiting, S.forwarded, S.resolved},
    S.in_progress: {S.waiting, S.forwarded, S.resolved},
    S.waiting: {S.in_progress},
    S.forwarded: {S.accepted, S.in_progress, S.resolved},
    S.resolved: {S.delivered, S.reopened, S.closed},
    S.delivered: {S.closed, S.reopened},
    S.closed: {S.reopened},
    S.reopened: {S.in_progress, S.waiting, S.forwarded, S.resolved},
}

#: the statuses in words (the enum's own labels)
STATUS_LABELS = CaseStatus.labels()


#: what each trail entry's ``action`` means, for people
EVENT_LABELS = {
    "registered": _l("Registered"),
    "accepted": _l("Accepted"),
    "assigned": _l("Handler and department assigned"),
    "started": _l("Work started"),
    "resumed": _l("Resumed after waiting for the citizen"),
    "paused": _l("Waiting for the citizen"),
    "forwarded": _l("Forwarded"),
    "extension_requested": _l("Extension requested"),
    "extended": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
    "resolved": _l("Resolved"),
    "delivered": _l("Delivered"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
}

#: the case fields a trail entry may show, for people
FIELD_LABELS = {
    "status": _l("Status"),
    "kind": _l("Kind"),
    "title": _l("Title"),
    "accepted_on": _l("Accepted on"),
    "limit_amount": _l("Time limit"),
    "limit_unit": _l("Unit"),
    "limit_max_amount": _l("Longest extension"),
    "due_on": _l("Due date"),
    "handler_id": _l("Handler"),
    "department_id": _l("Department"),
    "paused_since": _l("Paused since"),
    "paused_working_days": _l("Working days paused"),
    "result": _l("Result"),
    "delivery_note": _l("Delivery"),
    "closed_at": _l("Closed at"),
    "amount": _l("New limit"),
}

UNIT_LABELS = LimitUnit.labels()


def _tell(hook_name: str, case: Case, **kwargs: Any) -> None:
    """Fire a case event for the core and the plugins the case's township enabled."""
    from core.institutions import enabled_hook

    enabled_hook(hook_name, case.township_id)(case=case, **kwargs)


class CaseError(ValueError):
    """A case operation that is not allowed; ``str(exc)`` is the message for the user."""


# ---------------------------------------------------------------------------
# Time limits
# ---------------------------------------------------------------------------


def case_kind(code: str) -> CaseKind:
    kind = state().case_kinds.get(code)
    if kind is None:
        raise CaseError(_l("Unknown case kind: %(kind)s", kind=code))
    return kind


def township_time_limits(township_id: int) -> dict[str, tuple[int, LimitUnit, int | None]]:
    """The limits a township set for itself, by kind (cached until a limit changes)."""
    from core import cache

    def load() -> dict[str, tuple[int, LimitUnit, int | None]]:
        rows = db.session.scalars(
            select(TimeLimitPolicy).where(TimeLimitPolicy.township_id == township_id)
        )
        return {row.kind: (row.amount, row.unit, row.max_amount) for row in rows}

    return cache.memo(f"time-limits:{township_id}", load, areas=[(None, cache.POLICIES)])


def time_limit(township_id: int, kind_code: str) -> tuple[int, LimitUnit, int | None]:
    """The township's time limit for a kind: (amount, unit, most it may be extended to)."""
    kind = case_kind(kind_code)
    own = township_time_limits(township_id).get(kind_code)
    if own is None:
        return kind.amount, kind.unit, kind.max_amount
    return own


def compute_due(case: Case, calendar: WorkingCalendar | None = None) -> DueDate | None:
    """How the case's due date follows from its acceptance date and limit (for the case page)."""
    if case.accepted_on is None or case.limit_amount is None:
        return None
    calendar = calendar or WorkingCalendar.for_township(case.township_id)
    return calendar.due_date(case.accepted_on, case.limit_amount, case.limit_unit)


def _due_with_pauses(case: Case, calendar: WorkingCalendar, paused_days: int | None = None) -> date:
    """The due date, pushed back by the working days the clock stood still."""
    paused_days = case.paused_working_days if paused_days is None else paused_days
    due = calendar.due_date(case.accepted_on, case.limit_amount, case.limit_unit).due
    if paused_days:
        due = calendar.add_working_days(due, paused_days).due
    return due


def timeliness(
    case: Case,
    today: date | None = None,
    due_soon_days: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> str:
    """``on_time``, ``due_soon``, ``overdue``, ``paused`` or ``done`` for display and sweeps."""
    today = today or clock.today(case.township_id)
    if case.status not in OPEN_STATUSES:
        return "paused" if case.status == S.waiting else "done"
    return due_state(case.township_id, case.due_on, today, due_soon_days, calendar)


def due_state(
    township_id: int,
    due_on: date | None,
    today: date,
    due_soon_days: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> str:
    """``on_time``, ``due_soon`` or ``overdue`` of an open case due on ``due_on`` (it
    depends on nothing else: a dashboard counts cases by due date with it)."""
    if due_on is None:
        return "on_time"
    if today > due_on:
        return "overdue"
    if due_soon_days is None:
        from core.policies import get_policy

        due_soon_days = int(get_policy(township_id, "core.due_soon_working_days"))
    calendar = calendar or WorkingCalendar.for_township(township_id)
    if calendar.working_days_between(today, due_on) <= due_soon_days:
        return "due_soon"
    return "on_time"


# ---------------------------------------------------------------------------
# Trail
# ---------------------------------------------------------------------------


def _snapshot(case: Case, fields: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in fields:
        value = getattr(case, name)
        out[name] = (
            value.isoformat()
            if isinstance(value, date)
            else (
                str(value)
                if value is not None and not isinstance(value, (int, str, bool))
                else value
            )
        )
    return out


def _record(
    case: Case,
    actor: User | None,
    action: str,
    before: dict | None,
    after: dict | None,
    note: str | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        actor_id=actor.id if actor else None,
        action=action,
        before=before,
        after=after,
        note=note,
    )
    db.session.add(event)
    return event


def _move(
    case: Case,
    to: CaseStatus,
    actor: User | None,
    action: str,
    note: str | None = None,
    **changes: Any,
) -> None:
    if to not in TRANSITIONS[case.status]:
        raise CaseError(
            _l(
                "A case that is %(now)s cannot be %(to)s.",
                now=STATUS_LABELS[case.status],
                to=STATUS_LABELS[to],
            )
        )
    fields = ("status", *changes)
    before = _snapshot(case, fields)
    case.status = to
    for name, value in changes.items():
        setattr(case, name, value)
    _record(case, actor, action, before, _snapshot(case, fields), note)


def _check_staff(township_id: int, *users: User | None) -> None:
    from core.access import visible_township_ids

    for user in users:
        if user is not None and township_id not in visible_township_ids(user):
            raise CaseError(_l("%(name)s does not work for this township.", name=user.name))


def _check_department(township_id: int, department: OrgUnit | None) -> None:
    if department is not None and (
        department.township_id != township_id or department.kind != UnitKind.station
    ):
        raise CaseError(_l("The department must be a station or office of this township."))


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def make_receipt_number(township: OrgUnit, kind: str) -> str:
    """The core's default receipt number: ``<code>-<yymmdd>-<8 random characters>``."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
    token = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{township.code.upper()[:8]}-{clock.today(township):%y%m%d}-{token}"


def register_case(
    *,
    township: OrgUnit,
    kind: str,
    title: str,
    applicant_name: str,
    first_responder: User,
    description: str = "",
    applicant: Person | None = None,
    handler: User | None = None,
    department: OrgUnit | None = None,
    received_on: date | None = None,
    accept: bool = False,
) -> Case:
    """Register a citizen's matter with the signed-in clerk as first responder (首问责任人)."""
    case_kind(kind)
    title = (title or "").strip()
    applicant_name = (applicant_name or (applicant.name if applicant else "")).strip()
    if not title:
        raise CaseError(_l("A case needs a title."))
    if not applicant_name:
        raise CaseError(_l("A case needs the applicant's name."))
    if len(title) > 200:
        raise CaseError(_l("The title is longer than 200 characters."))
    from core.validation import InvalidInput, check_date, fits

    try:
        fits(applicant_name, Case.applicant_name, label=_l("Applicant"))
        check_date(received_on, township=township, past=True, label=_l("Received on"))
    except InvalidInput as exc:
        raise CaseError(str(exc)) from None
    if applicant is not None and applicant.township_id != township.id:
        raise CaseError(_l("The applicant is registered in another township."))
    _check_staff(township.id, first_responder, handler)
    _check_department(township.id, department)
    today = clock.today(township)
    received_on = received_on or today
    if received_on > today:
        raise CaseError(_l("The date received cannot be in the future."))
    receipt = state().hook.township_make_receipt_number(township=township, kind=kind)
    case = Case(
        township_id=township.id,
        kind=kind,
        receipt_no=receipt,
        title=title,
        description=description or "",
        applicant=applicant,
        applicant_name=applicant_name,
        first_responder_id=first_responder.id,
        handler_id=handler.id if handler else None,
        department_id=department.id if department else None,
        status=S.received,
        received_on=received_on,
    )
    db.session.add(case)
    _record(
        case,
        first_responder,
        "registered",
        None,
        {"status": "received", "kind": kind, "title": title},
    )
    if accept:
        _accept(case, first_responder, received_on)
    db.session.commit()
    if accept:
        _tell("township_case_accepted", case)
    return case


def _accept(case: Case, actor: User, on: date) -> None:
    amount, unit, max_amount = time_limit(case.township_id, case.kind)
    calendar = WorkingCalendar.for_township(case.township_id)
    due = calendar.due_date(on, amount, unit).due
    _move(
        case,
        S.accepted,
        actor,
        "accepted",
        accepted_on=on,
        limit_amount=amount,
        limit_unit=unit,
        limit_max_amount=max_amount,
        due_on=due,
    )


def accept_case(case: Case, actor: User, on: date | None = None) -> Case:
    """Accept the case (受理): the clock starts the day after ``on``."""
    today = clock.today(case.township_id)
    on = on or today
    if on > today:
        raise CaseError(_l("The acceptance date cannot be in the future."))
    if on < case.received_on:
        raise CaseError(_l("A case cannot be accepted before it was received."))
    if case.accepted_on is not None:
        # accepted again after forwarding: the limit keeps running from the first acceptance
        _move(case, S.accepted, actor, "accepted")
    else:
        _accept(case, actor, on)
    db.session.commit()
    _tell("township_case_accepted", case)
    return case


def assign_case(case: Case, actor: User, handler: User | None, department: OrgUnit | None) -> Case:
    """Name the handler and the department (status unchanged)."""
    if case.status in (S.closed,):
        raise CaseError(_l("A closed case cannot be assigned; reopen it first."))
    _check_staff(case.township_id, handler)
    _check_department(case.township_id, department)
    fields = ("handler_id", "department_id")
    before = _snapshot(case, fields)
    case.handler_id = handler.id if handler else None
    case.department_id = department.id if department else None
    _record(case, actor, "assigned", before, _snapshot(case, fields))
    if case.status in (S.accepted, S.reopened) and handler is not None:
        _move(case, S.in_progress, actor, "started")
    db.session.commit()
    return case


def start_case(case: Case, actor: User) -> Case:
    """The handler starts work, or resumes after waiting for the citizen."""
    changes: dict[str, Any] = {}
    if case.status == S.waiting and case.paused_since is not None:
        changes = {"paused_since": None}
        if case.accepted_on is not None and case.limit_amount is not None:
            # the clock ran: push the due date back by the working days it stood still
            calendar = WorkingCalendar.for_township(case.township_id)
            total = case.paused_working_days + calendar.working_days_between(
                case.paused_since, clock.today(case.township_id)
            )
            changes["paused_working_days"] = total
            changes["due_on"] = _due_with_pauses(case, calendar, total)
    _move(case, S.in_progress, actor, "resumed" if changes else "started", **changes)
    db.session.commit()
    return case


def wait_for_citizen(case: Case, actor: User, note: str) -> Case:
    """Pause the clock: the citizen must bring something (补正材料)."""
    if not (note or "").strip():
        raise CaseError(_l("Say what the citizen must bring."))
    _move(case, S.waiting, actor, "paused", note=note, paused_since=clock.today(case.township_id))
    db.session.commit()
    return case


def forward_case(case: Case, actor: User, department: OrgUnit | None, note: str) -> Case:
    """Hand the case to another department or to a higher level; the clock keeps running."""
    _check_department(case.township_id, department)
    if not (note or "").strip():
        raise CaseError(_l("Say where and why the case is forwarded."))
    _move(
        case,
        S.forwarded,
        actor,
        "forwarded",
        note=note,
        department_id=department.id if department else case.department_id,
    )
    db.session.commit()
    _tell("township_case_forwarded", case, department=department)
    return case


#: case kinds whose limit, however counted and extended, never runs beyond this many
#: calendar days after acceptance (服务承诺制度: "never beyond 30 days")
CALENDAR_CEILINGS: dict[str, int] = {"commitment": 30}


def _check_ceiling(case: Case, amount: int) -> None:
    """Refuse a limit of ``amount`` (in the case's unit) ending after the kind's ceiling in
    calendar days: 30 working days are six weeks, more than a commitment's 30 days."""
    days = CALENDAR_CEILINGS.get(case.kind)
    if days is None or case.accepted_on is None:
        return
    calendar = WorkingCalendar.for_township(case.township_id)
    ceiling = calendar.due_date(case.accepted_on, days, LimitUnit.calendar_days).due
    if calendar.due_date(case.accepted_on, amount, case.limit_unit).due > ceiling:
        raise CaseError(
            _l(
                "This kind of case cannot run beyond %(days)s calendar days after acceptance "
                "(until %(day)s).",
                days=days,
                day=ceiling.isoformat(),
            )
        )


def request_extension(case: Case, actor: User, amount: int, reason: str) -> ExtensionRequest:
    """Ask a leader to extend the time limit to ``amount`` (same unit as the limit)."""
    if case.status not in OPEN_STATUSES and case.status != S.waiting:
        raise CaseError(_l("Only an open case can be extended."))
    if case.limit_amount is None:
        raise CaseError(_l("Accept the case before asking for an extension."))
    if case.limit_max_amount is None:
        raise CaseError(_l("The time limit of this kind of case cannot be extended."))
    if not isinstance(amount, int) or amount <= case.limit_amount:
        raise CaseError(
            _l("The new limit must be longer than the current one (%(n)s).", n=case.limit_amount)
        )
    if amount > case.limit_max_amount:
        raise CaseError(_l("The limit can be extended to %(n)s at most.", n=case.limit_max_amount))
    _check_ceiling(case, amount)
    if not (reason or "").strip():
        raise CaseError(_l("Give a reason for the extension."))
    pending = db.session.scalar(
        select(ExtensionRequest).where(
            ExtensionRequest.case_id == case.id, ExtensionRequest.approved.is_(None)
        )
    )
    if pending is not None:
        raise CaseError(_l("An extension request is already waiting for a leader."))
    req = ExtensionRequest(case=case, requested_by_id=actor.id, amount=amount, reason=reason)
    db.session.add(req)
    _record(case, actor, "extension_requested", None, {"amount": amount}, note=reason)
    db.session.flush()
    _announce_extension(case, req, actor)
    db.session.commit()
    return req


def _announce_extension(case: Case, req: ExtensionRequest, actor: User) -> None:
    """Tell the township's leaders (whoever may decide) that a request waits for them."""
    from flask import current_app
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from core.access import users_with
    from core.inbox import announce
    from core.links import link

    deciders = [
        u for u in users_with("cases.approve_extension", case.township_id) if u.id != actor.id
    ]
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        title = _(
            "Extension request: %(receipt)s %(title)s", receipt=case.receipt_no, title=case.title
        )
        body = _(
            "%(name)s asks to extend the limit to %(amount)s %(unit)s: %(reason)s",
            name=actor.name,
            amount=req.amount,
            unit=UNIT_LABELS.get(case.limit_unit, ""),
            reason=req.reason,
        )
    announce(
        deciders,
        INBOX_EXTENSIONS,
        req.id,
        title,
        body=body,
        township_id=case.township_id,
        link=link("admin_cases.details_view", id=case.id),
    )


def decide_extension(
    req: ExtensionRequest, leader: User, approve: bool, note: str = ""
) -> ExtensionRequest:
    """A leader approves or refuses an extension; approval recomputes the due date."""
    from core.access import can

    if req.approved is not None:
        raise CaseError(_l("This request was already decided."))
    case = req.case
    if not can(leader, "cases.approve_extension", case.township_id):
        raise CaseError(_l("Only a leader of the township can decide on an extension."))
    if req.requested_by_id == leader.id:
        raise CaseError(_l("You cannot decide on your own extension request."))
    req.approved = approve
    req.decided_by_id = leader.id
    req.decided_at = utcnow()
    if approve:
        _check_ceiling(case, req.amount)
        fields = ("limit_amount", "due_on")
        before = _snapshot(case, fields)
        case.limit_amount = req.amount
        case.due_on = _due_with_pauses(case, WorkingCalendar.for_township(case.township_id))
        case.overdue_reminded_for = None
        _record(case, leader, "extended", before, _snapshot(case, fields), note=note or None)
    else:
        _record(case, leader, "extension_refused", None, None, note=note or None)
    db.session.commit()
    if approve:
        _tell("township_case_extended", case, amount=req.amount)
    return req


def resolve_case(case: Case, actor: User, result: str) -> Case:
    if not (result or "").strip():
        raise CaseError(_l("Write down the result."))
    _move(case, S.resolved, actor, "resolved", result=result)
    db.session.commit()
    return case


def deliver_case(case: Case, actor: User, delivery_note: str) -> Case:
    """Record how the result reached the citizen (送达)."""
    if not (delivery_note or "").strip():
        raise CaseError(_l("Say how the result was delivered."))
    _move(case, S.delivered, actor, "delivered", delivery_note=delivery_note)
    db.session.commit()
    return case


def close_case(case: Case, actor: User, note: str | None = None) -> Case:
    """Close the case and hand it to the archive (kept by the core, filed by an archives
    institution if the township enabled one), in one transaction."""
    from core.records import case_record, produce

    closed_at = utcnow()
    _move(case, S.closed, actor, "closed", note=note, closed_at=closed_at)
    db.session.flush()
    produce(case.township, case_record(case, closed_at))
    db.session.commit()
    _tell("township_case_closed", case)
    return case


def reopen_case(case: Case, actor: User, reason: str) -> Case:
    if not (reason or "").strip():
        raise CaseError(_l("Give a reason for reopening."))
    _move(case, S.reopened, actor, "reopened", note=reason, closed_at=None)
    db.session.commit()
    _tell("township_case_reopened", case)
    return case


# ---------------------------------------------------------------------------
# Transitions as the admin and the API offer them (one table for both)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionField:
    """An input of a transition. ``kind`` says how the admin and the API read it:
    ``date`` (``None`` = today), ``staff`` (a user of the township), ``department`` (a
    station or office of the township), ``text``, ``amount`` (a whole number) or
    ``approve`` (yes or no)."""

    name: str
    kind: str
    required: bool = False
    max_length: int | None = None


@dataclass(frozen=True)
class CaseAction:
    """One transition: the service it calls with the fields read, who may run it, and
    what the admin says afterwards (``done(case, values)``)."""

    name: str
    label: Any
    fields: tuple[ActionField, ...]
    run: Callable[..., Any]
    done: Callable[[Case, dict[str, Any]], str]
    permission: str = "cases.write"

    def __call__(self, case: Case, actor: User, values: dict[str, Any]) -> Any:
        """Run the service; ``values`` holds typed values by field name (absent = not given)."""
        return self.run(case, actor, **values)


def pending_extension(case: Case) -> ExtensionRequest | None:
    """The extension request of the case waiting for a leader, if any."""
    return db.session.scalar(
        select(ExtensionRequest).where(
            ExtensionRequest.case_id == case.id, ExtensionRequest.approved.is_(None)
        )
    )


def _assign(case: Case, actor: User, handler: User, department: OrgUnit | None = None) -> Case:
    return assign_case(case, actor, handler, department or case.department)


def _forward(case: Case, actor: User, note: str, department: OrgUnit | None = None) -> Case:
    return forward_case(case, actor, department, note)


def _decide(case: Case, actor: User, approve: bool, note: str = "") -> ExtensionRequest:
    pending = pending_extension(case)
    if pending is None:
        raise CaseError(_l("There is no extension request to decide."))
    return decide_extension(pending, actor, approve, note or "")


def _said(text: Any) -> Callable[[Case, dict[str, Any]], str]:
    return lambda case, values: str(text)


NOTE = 2000
LONG_TEXT = 20_000

#: every transition by the name the API's ``action`` and the admin's forms use
TRANSITIONS_BY_ACTION: dict[str, CaseAction] = {
    action.name: action
    for action in (
        CaseAction(
            "accept",
            _l("Accept"),
            (ActionField("on", "date"),),
            lambda case, actor, on=None: accept_case(case, actor, on),
            lambda case, values: _l(
                "The case is accepted; its due date is %(due)s.", due=case.due_on
            ),
        ),
        CaseAction(
            "assign",
            _l("Assign"),
            (
                ActionField("handler", "staff", required=True),
                ActionField("department", "department"),
            ),
            _assign,
            _said(_l("The handler is assigned.")),
        ),
        CaseAction(
            "start",
            _l("Start work"),
            (),
            lambda case, actor: start_case(case, actor),
            _said(_l("The case is in progress.")),
        ),
        CaseAction(
            "wait",
            _l("Wait for the citizen"),
            (ActionField("note", "text", required=True, max_length=NOTE),),
            lambda case, actor, note: wait_for_citizen(case, actor, note),
            _said(_l("The clock is paused until the citizen brings what is missing.")),
        ),
        CaseAction(
            "forward",
            _l("Forward"),
            (
                ActionField("department", "department"),
                ActionField("note", "text", required=True, max_length=NOTE),
            ),
            _forward,
            _said(_l("The case is forwarded.")),
        ),
        CaseAction(
            "request_extension",
            _l("Ask for an extension"),
            (
                ActionField("amount", "amount", required=True),
                ActionField("reason", "text", required=True, max_length=NOTE),
            ),
            lambda case, actor, amount, reason: request_extension(case, actor, amount, reason),
            _said(_l("The extension request is waiting for a leader.")),
        ),
        CaseAction(
            "decide_extension",
            _l("Decide on the extension"),
            (
                ActionField("approve", "approve", required=True),
                ActionField("note", "text", max_length=NOTE),
            ),
            _decide,
            lambda case, values: (
                _l("The extension is approved; the new due date is %(due)s.", due=case.due_on)
                if values.get("approve")
                else _l("The extension is refused.")
            ),
            permission="cases.approve_extension",
        ),
        CaseAction(
            "resolve",
            _l("Resolve"),
            (ActionField("result", "text", required=True, max_length=LONG_TEXT),),
            lambda case, actor, result: resolve_case(case, actor, result),
            _said(_l("The case is resolved.")),
        ),
        CaseAction(
            "deliver",
            _l("Record delivery"),
            (ActionField("delivery_note", "text", required=True, max_length=LONG_TEXT),),
            lambda case, actor, delivery_note: deliver_case(case, actor, delivery_note),
            _said(_l("The delivery is recorded.")),
        ),
        CaseAction(
            "close",
            _l("Close"),
            (ActionField("note", "text", max_length=NOTE),),
            lambda case, actor, note=None: close_case(case, actor, note or None),
            _said(_l("The case is closed.")),
        ),
        CaseAction(
            "reopen",
            _l("Reopen"),
            (ActionField("reason", "text", required=True, max_length=NOTE),),
            lambda case, actor, reason: reopen_case(case, actor, reason),
            _said(_l("The case is reopened.")),
        ),
    )
}


def public_view(case: Case) -> dict[str, Any]:
    """What a citizen sees under a receipt number: status and dates, nothing personal."""
    return {
        "receipt_no": case.receipt_no,
        "kind": case.kind,
        "status": case.status.value,
        "received_on": case.received_on.isoformat(),
        "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
        "due_on": case.due_on.isoformat() if case.due_on else None,
        "township": case.township.name,
        "department": case.department.name if case.department else None,
        "updated_at": case.updated_at.isoformat(),
    }


# ---------------------------------------------------------------------------
# What waits for staff (the inbox)
# ---------------------------------------------------------------------------

INBOX_EXTENSIONS = "core.extension_decision"
INBOX_OVERDUE = "core.overdue_case"
INBOX_TO_ACCEPT = "core.case_to_accept"


def inbox_sources(user: User, township_ids: set[int]) -> list:
    """The core's inbox sources: extension requests to decide (leaders; never one's own),
    overdue cases one handles, and cases one registered that nobody accepted yet."""
    from core.access import township_ids_with
    from core.contract import InboxSource

    sources = []
    deciding = township_ids_with(user, "cases.approve_extension") & township_ids
    if deciding:
        sources.append(
            InboxSource(
                INBOX_EXTENSIONS,
                "延期申请待审批",
                "Extension request to decide",
                select(
                    ExtensionRequest.case_id.label("object_id"),
                    Case.title.label("title"),
                    Case.township_id.label("township_id"),
                    ExtensionRequest.requested_at.label("since"),
                    Case.due_on.label("due_on"),
                )
                .join(Case, Case.id == ExtensionRequest.case_id)
                .where(
                    ExtensionRequest.approved.is_(None),
                    ExtensionRequest.requested_by_id != user.id,
                    Case.township_id.in_(deciding),
                ),
                "admin_cases.details_view",
            )
        )
    mine = (Case.handler_id == user.id) | (
        Case.handler_id.is_(None) & (Case.first_responder_id == user.id)
    )
    sources.append(
        InboxSource(
            INBOX_OVERDUE,
            "逾期事项",
            "Overdue case",
            select(
                Case.id.label("object_id"),
                Case.title.label("title"),
                Case.township_id.label("township_id"),
                Case.updated_at.label("since"),
                Case.due_on.label("due_on"),
            ).where(
                mine,
                Case.status.in_(OPEN_STATUSES),
                Case.due_on.is_not(None),
                clock.before_today(Case.due_on, Case.township_id, township_ids),
            ),
            "admin_cases.details_view",
        )
    )
    sources.append(
        InboxSource(
            INBOX_TO_ACCEPT,
            "待受理事项",
            "Case to accept",
            select(
                Case.id.label("object_id"),
                Case.title.label("title"),
                Case.township_id.label("township_id"),
                Case.created_at.label("since"),
                Case.due_on.label("due_on"),
            ).where(Case.first_responder_id == user.id, Case.status == S.received),
            "admin_cases.details_view",
        )
    )
    return sources
