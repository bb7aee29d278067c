"""The rules of public hearings and inquiries (群众听证质询制度) as functions over
``db.session``.

* The party committee calls a hearing or an inquiry (:func:`create_hearing`): topic,
  background, who decided and when, date and place; the hearing comes after the decision.
* It is announced on the public site (:func:`announce_hearing`), where citizens concerned
  register (:func:`register`, a receipt number the public lookup finds); participants are
  invited by category from the people register or the staff (:func:`invite`).
* The hearing is opened on its day (:func:`open_hearing`); attendance is recorded
  (:func:`record_attendance`) and every question (质询) with who asked and the answer on the
  spot, or the reason it cannot be answered at once, a responsible person and a deadline
  (:func:`record_question`): that question becomes a core case of kind
  ``hearings.question`` with the responsible person as handler and the deadline as its due
  date, so the core's inbox, deadline reminders and trail follow it. The responsible person
  answers it later (:func:`answer_question`), which resolves and closes the case.
* The hearing is concluded (:func:`conclude`): the result is published on the public site,
  fed back to every participant (a notification, once, to those with an account; a printed
  letter for the others) and the minutes go to the archive (``core.records.produce``).

Refusals raise :class:`HearingError` with every reason; nothing is written then.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, func, select

from core import clock
from core.access import can, users_with
from core.calendar import WorkingCalendar
from core.contract import ArchivalRecord, PublicReceipt, ReceiptStep
from core.db import db, utcnow
from core.duty import is_township_staff, township_staff
from core.inbox import announce
from core.links import link
from core.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    LimitUnit,
    OrgUnit,
    Person,
    User,
)
from core.notifications import notify
from core.validation import InvalidInput, check_date, check_phone
from plugins.hearings.models import (
    FeedbackWay,
    Hearing,
    HearingEvent,
    HearingKind,
    HearingParticipant,
    HearingQuestion,
    HearingStatus,
    ParticipantCategory,
    ParticipantSource,
    QuestionStatus,
)

KEY = "hearings"
READ = "hearings.read"
MANAGE = "hearings.manage"
CASE_KIND = "hearings.question"

INBOX_CONCLUDE = "hearings.to_conclude"
INBOX_QUESTION = "hearings.question"

TOPIC_MAX = 200
NAME_MAX = 120
PLACE_MAX = 200
TEXT_MAX = 5000
LONG_TEXT_MAX = 20000
CONCERN_MAX = 1000
SEATS_MAX = 10000
#: how far ahead a hearing date or a deadline may lie (a later one is a typing mistake)
AHEAD_DAYS = 366

S = HearingStatus


class HearingError(ValueError):
    """A refused change; ``problems`` lists every reason (nothing was written)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else [str(p) for p in problems]
        super().__init__("; ".join(self.problems))


def action_label(code: str) -> str:
    """A trail entry's action in words."""
    return {
        "created": _("Called by the party committee"),
        "updated": _("Details changed"),
        "announced": _("Announced on the public site"),
        "invited": _("Participant invited"),
        "registered": _("Citizen registered"),
        "opened": _("Hearing opened"),
        "attendance": _("Attendance recorded"),
        "question": _("Question recorded"),
        "answered": _("Question answered"),
        "concluded": _("Concluded; result published and fed back"),
        "cancelled": _("Cancelled"),
    }.get(code, code)


def _note(hearing: Hearing, action: str, actor: User | None, note: str = "") -> None:
    db.session.add(
        HearingEvent(
            township_id=hearing.township_id,
            hearing_id=hearing.id,
            actor_id=actor.id if actor else None,
            action=action,
            note=note or "",
        )
    )


def trail(hearing_id: int) -> list[HearingEvent]:
    return list(
        db.session.scalars(
            select(HearingEvent)
            .where(HearingEvent.hearing_id == hearing_id)
            .order_by(HearingEvent.id)
        )
    )


def _default_locale():
    return force_locale(current_app.config["DEFAULT_LOCALE"])


def _text(value: str | None, limit: int, label: str, problems: list[str], required=True) -> str:
    text = (value or "").strip()
    if required and not text:
        problems.append(_("%(what)s is required.", what=label))
    elif len(text) > limit:
        problems.append(
            _(
                "%(what)s: %(n)s characters is too long; at most %(limit)s.",
                what=label,
                n=len(text),
                limit=limit,
            )
        )
    return text


def _date(value: date | None, label: str, problems: list[str], township, past=False):
    if value is None:
        problems.append(_("%(what)s is required.", what=label))
        return None
    try:
        return check_date(value, township=township, past=past, label=label)
    except InvalidInput as exc:
        problems.append(str(exc))
        return None


# ---------------------------------------------------------------------------
# Calling a hearing
# ---------------------------------------------------------------------------


@dataclass
class HearingInput:
    kind: str | None = HearingKind.hearing.value
    topic: str = ""
    background: str = ""
    decided_by: str = ""
    decided_on: date | None = None
    held_on: date | None = None
    start_time: time | None = None
    place: str = ""
    public_seats: int | None = None


def _check_hearing(township: OrgUnit, data: HearingInput) -> dict:
    problems: list[str] = []
    try:
        kind = HearingKind(data.kind)
    except ValueError:
        kind = None
        problems.append(_("Choose a hearing or an inquiry."))
    values = {
        "kind": kind,
        "topic": _text(data.topic, TOPIC_MAX, _("The topic"), problems),
        "background": _text(data.background, LONG_TEXT_MAX, _("The background"), problems),
        "decided_by": _text(data.decided_by, NAME_MAX, _("Who decided"), problems),
        "decided_on": _date(data.decided_on, _("Decided on"), problems, township, past=True),
        "held_on": _date(data.held_on, _("Date of the hearing"), problems, township),
        "start_time": data.start_time,
        "place": _text(data.place, PLACE_MAX, _("The place"), problems),
        "public_seats": data.public_seats,
    }
    today = clock.today(township)
    held_on, decided_on = values["held_on"], values["decided_on"]
    if held_on is not None and held_on > today + timedelta(days=AHEAD_DAYS):
        problems.append(
            _(
                "Date of the hearing: %(day)s is more than a year ahead; check the year.",
                day=held_on.isoformat(),
            )
        )
    if held_on is not None and decided_on is not None and held_on < decided_on:
        problems.append(
            _(
                "The hearing (%(held)s) cannot come before the decision to call it (%(decided)s).",
                held=held_on.isoformat(),
                decided=decided_on.isoformat(),
            )
        )
    seats = data.public_seats
    if seats is not None and not 0 <= seats <= SEATS_MAX:
        problems.append(_("Seats for the public: between 0 and %(n)s.", n=SEATS_MAX))
    if problems:
        raise HearingError(problems)
    return values


def create_hearing(township: OrgUnit, data: HearingInput, by: User) -> Hearing:
    """The party committee calls a hearing or an inquiry (in preparation until announced)."""
    values = _check_hearing(township, data)
    hearing = Hearing(township_id=township.id, created_by_id=by.id, **values)
    db.session.add(hearing)
    db.session.flush()
    _note(hearing, "created", by)
    db.session.commit()
    return hearing


def update_hearing(hearing: Hearing, data: HearingInput, by: User) -> Hearing:
    """Change the details while the hearing is being prepared or announced."""
    if hearing.status not in (S.draft, S.announced):
        raise HearingError(
            _("A hearing that is %(status)s cannot be changed.", status=_st(hearing))
        )
    values = _check_hearing(hearing.township, data)
    if hearing.status == S.announced and values["held_on"] < clock.today(hearing.township_id):
        raise HearingError(_("An announced hearing cannot be moved into the past."))
    seats = values["public_seats"]
    if seats is not None and seats < _registered_count(hearing):
        raise HearingError(
            _(
                "%(n)s citizens have registered already; keep at least as many seats.",
                n=_registered_count(hearing),
            )
        )
    for name, value in values.items():
        setattr(hearing, name, value)
    _note(hearing, "updated", by)
    db.session.commit()
    return hearing


def _st(hearing: Hearing) -> str:
    return hearing.status.label


def announce_hearing(hearing: Hearing, by: User) -> Hearing:
    """Publish the announcement on the public site; registration opens."""
    if hearing.status != S.draft:
        raise HearingError(
            _("A hearing that is %(status)s cannot be announced.", status=_st(hearing))
        )
    today = clock.today(hearing.township_id)
    if hearing.held_on < today:
        raise HearingError(
            _(
                "The hearing was on %(day)s: it can no longer be announced.",
                day=hearing.held_on.isoformat(),
            )
        )
    hearing.status = S.announced
    hearing.announced_at = utcnow()
    _note(hearing, "announced", by)
    db.session.commit()
    return hearing


def cancel_hearing(hearing: Hearing, by: User, reason: str) -> Hearing:
    """Call the hearing off (before it is held); those with accounts are told."""
    if hearing.status not in (S.draft, S.announced):
        raise HearingError(
            _("A hearing that is %(status)s cannot be cancelled.", status=_st(hearing))
        )
    problems: list[str] = []
    reason = _text(reason, TEXT_MAX, _("The reason"), problems)
    if problems:
        raise HearingError(problems)
    hearing.status = S.cancelled
    hearing.cancel_reason = reason
    _note(hearing, "cancelled", by, reason)
    users = [p.user for p in participants(hearing.id) if p.user is not None]
    with _default_locale():
        title = _("Hearing cancelled: %(topic)s", topic=hearing.topic)
    notify(
        users,
        title,
        reason,
        link=public_link(hearing),
        key=f"hearings-cancelled:{hearing.id}",
        township_id=hearing.township_id,
    )
    db.session.commit()
    return hearing


# ---------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------


def participants(hearing_id: int) -> list[HearingParticipant]:
    """Everyone taking part, by category (in the rule book's order), then name."""
    order = {c: n for n, c in enumerate(ParticipantCategory)}
    rows = db.session.scalars(
        select(HearingParticipant)
        .where(HearingParticipant.hearing_id == hearing_id)
        .order_by(HearingParticipant.id)
    ).all()
    return sorted(rows, key=lambda p: (order[p.category], p.name, p.id))


def by_category(rows: list[HearingParticipant]) -> list[tuple[ParticipantCategory, list]]:
    """``[(category, participants)]`` in the rule book's order, empty categories left out."""
    return [
        (category, [p for p in rows if p.category == category])
        for category in ParticipantCategory
        if any(p.category == category for p in rows)
    ]


def _registered_count(hearing: Hearing) -> int:
    return (
        db.session.scalar(
            select(func.count(HearingParticipant.id)).where(
                HearingParticipant.hearing_id == hearing.id,
                HearingParticipant.source == ParticipantSource.registered,
            )
        )
        or 0
    )


def invite(
    hearing: Hearing,
    by: User,
    category: str | None,
    *,
    person_id: int | None = None,
    user_id: int | None = None,
) -> HearingParticipant:
    """Invite someone of the people register or of the staff, in a category."""
    problems: list[str] = []
    if hearing.status in (S.concluded, S.cancelled):
        raise HearingError(
            _("Nobody can be invited to a hearing that is %(status)s.", status=_st(hearing))
        )
    try:
        category = ParticipantCategory(category)
    except ValueError:
        problems.append(_("Choose the participant's category."))
    if bool(person_id) == bool(user_id):
        problems.append(_("Choose either someone of the people register or a staff member."))
    person = user = None
    tid = hearing.township_id
    if person_id:
        person = db.session.get(Person, person_id)
        if person is None or person.township_id != tid:
            problems.append(_("The person is registered in another township."))
    if user_id:
        user = db.session.get(User, user_id)
        if user is None or not is_township_staff(user, tid):
            problems.append(_("The staff member does not work for this township."))
    if not problems:
        column = HearingParticipant.person_id if person else HearingParticipant.user_id
        if db.session.scalar(
            select(HearingParticipant.id).where(
                HearingParticipant.hearing_id == hearing.id, column == (person or user).id
            )
        ):
            problems.append(_("%(name)s is invited already.", name=(person or user).name))
    if problems:
        raise HearingError(problems)
    participant = HearingParticipant(
        township_id=tid,
        hearing_id=hearing.id,
        category=category,
        source=ParticipantSource.invited,
        person_id=person.id if person else None,
        user_id=user.id if user else None,
        name=(person or user).name,
        phone=(person.phone or "") if person else (user.phone or ""),
    )
    db.session.add(participant)
    _note(hearing, "invited", by, participant.name)
    db.session.commit()
    return participant


def make_receipt_number(township: OrgUnit) -> str:
    """``<TOWNSHIP>-TZ<yymmdd>-<6 characters>`` (TZ: 听证), hard to guess."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    token = "".join(secrets.choice(alphabet) for _ in range(6))
    return f"{township.code.upper()[:8]}-TZ{clock.today(township):%y%m%d}-{token}"


def registration_open(hearing: Hearing) -> bool:
    return hearing.status == S.announced and clock.today(hearing.township_id) <= hearing.held_on


def seats_left(hearing: Hearing) -> int | None:
    if hearing.public_seats is None:
        return None
    return max(0, hearing.public_seats - _registered_count(hearing))


def register(hearing: Hearing, name: str, phone: str, concern: str = "") -> HearingParticipant:
    """A citizen concerned registers on the public site: a receipt number, nothing else
    about them is ever public."""
    if not registration_open(hearing):
        raise HearingError(_("Registration for this hearing is closed."))
    problems: list[str] = []
    name = _text(name, NAME_MAX, _("Your name"), problems)
    concern = _text(concern, CONCERN_MAX, _("What you want to raise"), problems, required=False)
    normalised = ""
    if not (phone or "").strip():
        problems.append(_("%(what)s is required.", what=_("Your phone")))
    else:
        try:
            normalised = check_phone(phone) or ""
        except InvalidInput as exc:
            problems.append(str(exc))
    if normalised and db.session.scalar(
        select(HearingParticipant.id).where(
            HearingParticipant.hearing_id == hearing.id, HearingParticipant.phone == normalised
        )
    ):
        problems.append(_("This phone number is registered for this hearing already."))
    left = seats_left(hearing)
    if left is not None and left <= 0:
        problems.append(_("All seats for the public are taken."))
    if problems:
        raise HearingError(problems)
    participant = HearingParticipant(
        township_id=hearing.township_id,
        hearing_id=hearing.id,
        category=ParticipantCategory.concerned,
        source=ParticipantSource.registered,
        name=name,
        phone=normalised,
        concern=concern,
        receipt_no=make_receipt_number(hearing.township),
    )
    db.session.add(participant)
    _note(hearing, "registered", None)
    db.session.commit()
    return participant


# ---------------------------------------------------------------------------
# The hearing itself
# ---------------------------------------------------------------------------


def managers(township_id: int) -> list[User]:
    return users_with(MANAGE, township_id)


def open_hearing(hearing: Hearing, by: User) -> Hearing:
    """Open the hearing on its day: attendance and questions are recorded from now on."""
    if hearing.status not in (S.draft, S.announced):
        raise HearingError(_("A hearing that is %(status)s cannot be opened.", status=_st(hearing)))
    today = clock.today(hearing.township_id)
    if hearing.held_on > today:
        raise HearingError(
            _(
                "The hearing is on %(day)s; it cannot be opened before.",
                day=hearing.held_on.isoformat(),
            )
        )
    hearing.status = S.held
    hearing.opened_at = utcnow()
    _note(hearing, "opened", by)
    with _default_locale():
        title = _("Hearing to conclude: %(topic)s", topic=hearing.topic)
    announce(
        [u for u in managers(hearing.township_id) if u.id != by.id],
        INBOX_CONCLUDE,
        hearing.id,
        title[:190],
        township_id=hearing.township_id,
        link=link("hearings_hearings.details_view", id=hearing.id),
    )
    db.session.commit()
    return hearing


def record_attendance(hearing: Hearing, by: User, present_ids: set[int]) -> int:
    """Who came: every participant is marked present or absent. Returns how many came."""
    if hearing.status != S.held:
        raise HearingError(_("Attendance is recorded while the hearing is in session."))
    rows = participants(hearing.id)
    unknown = set(present_ids) - {p.id for p in rows}
    if unknown:
        raise HearingError(_("Someone marked present is not a participant of this hearing."))
    for p in rows:
        p.attended = p.id in present_ids
    _note(hearing, "attendance", by, f"{len(present_ids)}/{len(rows)}")
    db.session.commit()
    return len(present_ids)


@dataclass
class QuestionInput:
    question: str = ""
    participant_id: int | None = None
    asker_name: str = ""
    #: answered on the spot
    answer: str = ""
    answered_by: str = ""
    #: or: why not at once, who answers, by when
    reason: str = ""
    responsible_id: int | None = None
    deadline: date | None = None


@contextmanager
def _with_question_case(build) -> Iterator[None]:
    """Add the question in the same flush as its new core case, once the case is accepted
    (so the question, the case and its trail are written together or not at all):
    ``build(case, session)`` runs at the first flush that holds an accepted case of the
    kind ``hearings.question``."""
    session = db.session()
    done: list[Case] = []

    def before_flush(sess, flush_context, instances):
        if done:
            return
        for obj in [*sess.new, *sess.dirty]:
            if isinstance(obj, Case) and obj.kind == CASE_KIND and obj.accepted_on is not None:
                done.append(obj)
                build(obj, sess)
                return

    event.listen(session, "before_flush", before_flush)
    try:
        yield
    finally:
        event.remove(session, "before_flush", before_flush)


def _deadline_as_limit(case: Case, deadline: date, sess) -> None:
    """The case's limit is the deadline set at the hearing: the calendar days from the
    acceptance to the deadline (a deadline on a rest day moves to the next working day, as
    the core counts every limit); it cannot be extended, and its trail says so."""
    days = (deadline - case.accepted_on).days
    calendar = WorkingCalendar.for_township(case.township_id)
    case.limit_amount = days
    case.limit_unit = LimitUnit.calendar_days
    case.limit_max_amount = None
    case.due_on = calendar.due_date(case.accepted_on, days, LimitUnit.calendar_days).due
    for obj in sess.new:
        if isinstance(obj, CaseEvent) and obj.case is case and obj.action == "accepted":
            obj.after = {
                **(obj.after or {}),
                "limit_amount": days,
                "limit_unit": LimitUnit.calendar_days.value,
                "limit_max_amount": None,
                "due_on": case.due_on.isoformat(),
            }


def record_question(hearing: Hearing, by: User, data: QuestionInput) -> HearingQuestion:
    """A question put at the hearing, answered on the spot or given to a responsible person
    with a deadline (then a core case: inbox, reminders, trail)."""
    if hearing.status != S.held:
        raise HearingError(_("Questions are recorded while the hearing is in session."))
    tid = hearing.township_id
    problems: list[str] = []
    question_text = _text(data.question, TEXT_MAX, _("The question"), problems)
    participant = None
    if data.participant_id:
        participant = db.session.get(HearingParticipant, data.participant_id)
        if participant is None or participant.hearing_id != hearing.id:
            problems.append(_("Who asked is not a participant of this hearing."))
            participant = None
        asker_name = participant.name if participant else ""
    else:
        asker_name = _text(data.asker_name, NAME_MAX, _("Who asked"), problems)
    answer = _text(data.answer, TEXT_MAX, _("The answer"), problems, required=False)
    answered_by = _text(data.answered_by, NAME_MAX, _("Who answered"), problems, required=False)
    reason = _text(data.reason, TEXT_MAX, _("The reason"), problems, required=False)
    deferred = bool(reason or data.responsible_id or data.deadline)
    responsible = None
    deadline = data.deadline
    today = clock.today(tid)
    if answer and deferred:
        problems.append(
            _(
                "Either record the answer given on the spot, or the reason, the person "
                "responsible and the deadline: not both."
            )
        )
    elif not answer and not deferred:
        problems.append(
            _(
                "Record the answer given on the spot, or why it cannot be answered at once, "
                "the person responsible and the deadline."
            )
        )
    elif deferred:
        if not reason:
            problems.append(_("Say why the question cannot be answered at once."))
        if data.responsible_id:
            responsible = db.session.get(User, data.responsible_id)
            if responsible is None or not is_township_staff(responsible, tid):
                problems.append(_("The person responsible does not work for this township."))
                responsible = None
        else:
            problems.append(_("Choose the person responsible for the answer."))
        if deadline is None:
            problems.append(_("%(what)s is required.", what=_("The deadline")))
        elif deadline <= today:
            problems.append(
                _(
                    "The deadline must come after today (%(today)s).",
                    today=today.isoformat(),
                )
            )
        elif deadline > today + timedelta(days=AHEAD_DAYS):
            problems.append(
                _(
                    "The deadline %(day)s is more than a year ahead; check the year.",
                    day=deadline.isoformat(),
                )
            )
    if problems:
        raise HearingError(problems)
    number = (
        db.session.scalar(
            select(func.max(HearingQuestion.number)).where(HearingQuestion.hearing_id == hearing.id)
        )
        or 0
    ) + 1
    question = HearingQuestion(
        township_id=tid,
        hearing_id=hearing.id,
        number=number,
        participant_id=participant.id if participant else None,
        asker_name=asker_name,
        asker_category=participant.category if participant else None,
        question=question_text,
        recorded_by_id=by.id,
    )
    if not deferred:
        question.status = QuestionStatus.answered
        question.answer = answer
        question.answered_by = answered_by
        question.answered_at = utcnow()
        db.session.add(question)
        _note(hearing, "question", by, f"{number}")
        db.session.commit()
        return question

    question.status = QuestionStatus.pending
    question.reason = reason
    question.responsible_id = responsible.id
    question.deadline = deadline
    from core.cases import CaseError, register_case

    def build(case: Case, sess) -> None:
        _deadline_as_limit(case, deadline, sess)
        question.case = case
        sess.add(question)
        sess.add(
            HearingEvent(
                township_id=tid,
                hearing_id=hearing.id,
                actor_id=by.id,
                action="question",
                note=f"{number}",
            )
        )

    with _default_locale():
        title = _("Hearing question: %(question)s", question=question_text)
        description = _(
            "Asked at “%(topic)s” on %(day)s by %(who)s. Not answered at once because: %(reason)s",
            topic=hearing.topic,
            day=hearing.held_on.isoformat(),
            who=asker_name,
            reason=reason,
        )
    title = title if len(title) <= 200 else title[:199] + "…"
    try:
        with _with_question_case(build):
            register_case(
                township=hearing.township,
                kind=CASE_KIND,
                title=title,
                applicant_name=asker_name,
                first_responder=by,
                handler=responsible,
                description=description,
                accept=True,
            )
    except CaseError as exc:
        db.session.rollback()
        raise HearingError(str(exc)) from None
    if question.id is None:  # the case was written without the question: never expected
        raise RuntimeError("the question was not written with its case")
    with _default_locale():
        note = _(
            "Answer by %(day)s: %(question)s", day=deadline.isoformat(), question=question_text
        )
    announce(
        [responsible],
        INBOX_QUESTION,
        question.id,
        note if len(note) <= 190 else note[:189] + "…",
        township_id=tid,
        link=link("hearings_questions.answer_view", id=question.id),
    )
    db.session.commit()
    return question


def may_answer(user: User, question: HearingQuestion) -> bool:
    return question.responsible_id == user.id or can(user, MANAGE, question.township_id)


def answer_question(question: HearingQuestion, by: User, answer: str) -> HearingQuestion:
    """The responsible person (or whoever runs the hearings) answers a question after the
    hearing: the question shows the answer publicly, its case is resolved and closed (and so
    handed to the archive by the core)."""
    if question.status != QuestionStatus.pending:
        raise HearingError(_("This question has been answered already."))
    if not may_answer(by, question):
        raise HearingError(_("Only the person responsible answers this question."))
    problems: list[str] = []
    answer = _text(answer, TEXT_MAX, _("The answer"), problems)
    if problems:
        raise HearingError(problems)
    question.answer = answer
    question.answered_by = by.name
    question.answered_at = utcnow()
    question.status = QuestionStatus.answered_later
    _note(question.hearing, "answered", by, f"{question.number}")
    case = question.case
    from core.cases import CaseError, close_case, resolve_case

    try:
        if case is not None and case.status in (*OPEN_STATUSES, CaseStatus.reopened):
            resolve_case(case, by, answer)  # commits the answer with the case's result
        else:
            db.session.commit()
        if case is not None and case.status in (CaseStatus.resolved, CaseStatus.delivered):
            close_case(case, by)
    except CaseError as exc:
        db.session.rollback()
        raise HearingError(str(exc)) from None
    return question


def case_closed(case: Case) -> None:
    """A question's case closed on the case page: its result becomes the question's answer."""
    if case.kind != CASE_KIND:
        return
    question = db.session.scalar(select(HearingQuestion).where(HearingQuestion.case_id == case.id))
    if question is None or question.status != QuestionStatus.pending:
        return
    question.answer = case.result or ""
    handler = case.handler or case.first_responder
    question.answered_by = handler.name if handler else ""
    question.answered_at = utcnow()
    question.status = QuestionStatus.answered_later
    _note(question.hearing, "answered", handler, f"{question.number}")
    db.session.commit()


def questions(hearing_id: int) -> list[HearingQuestion]:
    return list(
        db.session.scalars(
            select(HearingQuestion)
            .where(HearingQuestion.hearing_id == hearing_id)
            .order_by(HearingQuestion.number)
        )
    )


# ---------------------------------------------------------------------------
# Conclusion: result published, fed back, minutes archived
# ---------------------------------------------------------------------------


def public_link(hearing: Hearing) -> str | None:
    return link("hearings.hearing", township=hearing.township.code, hearing_id=hearing.id)


def conclude(hearing: Hearing, by: User, result: str) -> Hearing:
    """Conclude the hearing: publish the result, feed it back to every participant (one
    notification each to those with an account, a printed letter for the others) and hand
    the minutes to the archive, in one transaction."""
    if hearing.status != S.held:
        raise HearingError(
            _(
                "Only a hearing in session can be concluded (this one is %(status)s).",
                status=_st(hearing),
            )
        )
    problems: list[str] = []
    result = _text(result, LONG_TEXT_MAX, _("The hearing's outcome"), problems)
    if problems:
        raise HearingError(problems)
    now = utcnow()
    hearing.status = S.concluded
    hearing.result = result
    hearing.concluded_on = clock.today(hearing.township_id)
    hearing.concluded_at = now
    hearing.concluded_by_id = by.id
    rows = participants(hearing.id)
    with _default_locale():
        title = _("Result of the hearing: %(topic)s", topic=hearing.topic)
    title = title if len(title) <= 190 else title[:189] + "…"
    with_account = [p for p in rows if p.user is not None]
    notify(
        [p.user for p in with_account],
        title,
        result,
        link=public_link(hearing),
        key=f"hearings-result:{hearing.id}",
        township_id=hearing.township_id,
    )
    for p in rows:
        p.feedback = FeedbackWay.notified if p.user is not None else FeedbackWay.letter
        p.feedback_at = now
    _note(hearing, "concluded", by)
    db.session.flush()
    from core.records import produce

    produce(hearing.township, archival_record(hearing))
    db.session.commit()
    return hearing


def minutes_context(hearing: Hearing) -> dict:
    """What the minutes (and the archived record) show."""
    rows = participants(hearing.id)
    return {
        "hearing": hearing,
        "groups": by_category(rows),
        "questions": questions(hearing.id),
        "present": sum(1 for p in rows if p.attended),
        "total": len(rows),
    }


def archival_record(hearing: Hearing) -> ArchivalRecord:
    """The minutes as a record for the archive, its content frozen in the township's default
    language (topic, participants by category, questions and answers, result)."""
    with _default_locale():
        content = render_template("hearings/_minutes_body.html", **minutes_context(hearing))
        title = f"{hearing.kind.label}：{hearing.topic}"
        summary = _(
            "%(kind)s held on %(day)s at %(place)s",
            kind=hearing.kind.label,
            day=hearing.held_on.isoformat(),
            place=hearing.place,
        )
        events = [
            {
                "at": e.at.isoformat(),
                "who": e.actor.name if e.actor else "",
                "what": action_label(e.action),
                "note": e.note or "",
            }
            for e in trail(hearing.id)
        ]
    return ArchivalRecord(
        source=KEY,
        reference=f"hearing:{hearing.id}",
        kind="hearings.minutes",
        title=title,
        produced_at=hearing.concluded_at or utcnow(),
        summary=summary,
        url=link("hearings_hearings.details_view", id=hearing.id),
        responsible=hearing.decided_by,
        class_hint=KEY,
        retention_hint="30y",
        content=content,
        trail=tuple(events),
    )


def letters(hearing: Hearing) -> list[HearingParticipant]:
    """Participants who get the result as a printed letter (no account)."""
    return [p for p in participants(hearing.id) if p.feedback == FeedbackWay.letter]


# ---------------------------------------------------------------------------
# The public side and the receipt
# ---------------------------------------------------------------------------

PUBLIC_STATUSES = (S.announced, S.held, S.concluded, S.cancelled)


def public_hearings(township_id: int):
    """A select of the township's public hearings, upcoming and in session first."""
    from sqlalchemy import case as sql_case

    return (
        select(Hearing)
        .where(
            Hearing.township_id == township_id,
            Hearing.status.in_(PUBLIC_STATUSES),
            (Hearing.status != S.cancelled) | Hearing.announced_at.is_not(None),
        )
        .order_by(
            sql_case((Hearing.status.in_((S.announced, S.held)), 0), else_=1),
            Hearing.held_on.desc(),
            Hearing.id.desc(),
        )
    )


def is_public(hearing: Hearing) -> bool:
    return hearing.status in PUBLIC_STATUSES and (
        hearing.status != S.cancelled or hearing.announced_at is not None
    )


def open_questions(township_id: int, limit: int = 50) -> list[HearingQuestion]:
    """Questions of the township's public hearings still waiting for their answer."""
    return list(
        db.session.scalars(
            select(HearingQuestion)
            .join(Hearing, Hearing.id == HearingQuestion.hearing_id)
            .where(
                HearingQuestion.township_id == township_id,
                HearingQuestion.status == QuestionStatus.pending,
                Hearing.status.in_(PUBLIC_STATUSES),
            )
            .order_by(HearingQuestion.deadline, HearingQuestion.id)
            .limit(limit)
        )
    )


def find_receipt(receipt_no: str) -> PublicReceipt | None:
    """A registration under its receipt number: the hearing's status and, once concluded,
    the published result; nothing about the citizen."""
    if "-TZ" not in receipt_no:
        return None
    participant = db.session.scalar(
        select(HearingParticipant).where(HearingParticipant.receipt_no == receipt_no)
    )
    if participant is None:
        return None
    hearing = participant.hearing
    township = hearing.township
    steps = [
        ReceiptStep(clock.local(participant.created_at, township), _("Registered for the hearing"))
    ]
    if hearing.opened_at:
        steps.append(ReceiptStep(clock.local(hearing.opened_at, township), _("Hearing held")))
    if hearing.concluded_at:
        steps.append(
            ReceiptStep(clock.local(hearing.concluded_at, township), _("Result published"))
        )
    answer = None
    if hearing.status == S.concluded:
        answer = hearing.result
    elif hearing.status == S.cancelled:
        answer = _("The hearing was cancelled: %(reason)s", reason=hearing.cancel_reason)
    return PublicReceipt(
        receipt_no=participant.receipt_no,
        township=township,
        source=KEY,
        kind_label=_(
            "Registration for %(kind)s “%(topic)s”", kind=hearing.kind.label, topic=hearing.topic
        ),
        status_label=hearing.status.label,
        received_on=clock.local(participant.created_at, township).date(),
        due_on=hearing.held_on if hearing.status in (S.announced, S.held) else None,
        due_explained=_("The date of the hearing")
        if hearing.status in (S.announced, S.held)
        else "",
        steps=steps,
        answer=answer,
        finished=hearing.status in (S.concluded, S.cancelled),
        obj=participant,
    )


def staff(township_id: int) -> list[User]:
    return township_staff(township_id)


def people_register(township_id: int) -> list[Person]:
    return list(
        db.session.scalars(
            select(Person).where(Person.township_id == township_id).order_by(Person.name).limit(500)
        )
    )


def earliest_year() -> int:
    return int(current_app.config.get("EARLIEST_YEAR", 2000))


def as_datetime(day: date, at: time | None) -> datetime:
    return datetime.combine(day, at or time(0, 0))
