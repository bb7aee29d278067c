"""The rules of leader appointments (群众预约领导制度) as functions over the session.

A card's course: taken (by the receiving staff, or asked for online) → if the leader
is away, it waits for their return (``waiting_return``) → in the leader's queue
(``queued``, due ``appointments.visit_working_days`` working days after the return, or
after the day taken if the leader was present) → a home visit (上门走访) → the result is
registered and the card closed (``closed``), or another visit is needed
(``follow_up``).

Each card is a core case of kind ``appointments.card``: registered and accepted when the
card is taken (the first responder is the receiving staff, or the leader for an online
request), assigned to the leader when the card enters their queue, and resolved,
delivered (the result was told at the citizen's home) and closed after the visit; the
core hands the closed case to the archives.

Each service checks everything first and raises :class:`AppointmentError` (its
``problems`` are messages for the person) before writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select

from core import clock
from core.access import can, mask_phone, users_with
from core.calendar import WorkingCalendar
from core.cases import CaseError, assign_case, close_case, deliver_case, register_case, resolve_case
from core.db import db, utcnow
from core.inbox import announce
from core.labels import shorten
from core.links import link
from core.models import Absence, Case, CaseStatus, Membership, OrgUnit, User
from core.notifications import notify
from core.policies import get_policy
from core.validation import InvalidInput, check_date, check_phone, fits
from plugins.appointments.models import (
    OPEN_CARD_STATUSES,
    AppointmentCard,
    CardChannel,
    CardStatus,
    HomeVisit,
    VisitOutcome,
)
from plugins.appointments.policy import KIND, VISIT_WORKING_DAYS

READ = "appointments.read"
WRITE = "appointments.write"
READ_PERSONAL = "appointments.read_personal"
SUPERVISE = "appointments.supervise"
INBOX_TO_VISIT = "appointments.to_visit"
#: the role a leader asked for must hold in the township
LEADER_ROLE = "leader"
DETAILS_ENDPOINT = "appointments_cards.details_view"

#: case statuses from which a visit's result can be registered (the core's resolve)
_RESOLVABLE = (
    CaseStatus.accepted,
    CaseStatus.in_progress,
    CaseStatus.forwarded,
    CaseStatus.reopened,
)


class AppointmentError(ValueError):
    """A card or a visit that cannot be recorded; ``problems`` are the messages."""

    def __init__(self, problems: list[str] | str):
        self.problems = [str(p) for p in ([problems] if isinstance(problems, str) else problems)]
        super().__init__(" ".join(self.problems))


# ---------------------------------------------------------------------------
# Leaders
# ---------------------------------------------------------------------------


def leaders(township_id: int) -> list[User]:
    """Active users holding the leader role in the township, by name (one query)."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.org_unit_id == township_id,
                Membership.role == LEADER_ROLE,
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        ).unique()
    )


def is_leader(user_id: int, township_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.user_id == user_id,
                Membership.org_unit_id == township_id,
                Membership.role == LEADER_ROLE,
                User.active.is_(True),
            )
            .limit(1)
        )
    )


# ---------------------------------------------------------------------------
# Taking a card
# ---------------------------------------------------------------------------


@dataclass
class CardInput:
    """What the receiving staff (or the citizen, online) writes on the card."""

    citizen_name: str = ""
    phone: str = ""
    address: str = ""
    matter: str = ""
    leader_id: int | None = None
    channel: str | CardChannel | None = None
    taken_on: date | None = None
    #: raw date text that could not be read (reported as a problem)
    bad_date: str | None = None
    extra: dict = field(default_factory=dict)


def _required(value: str | None, column, label: str, problems: list[str]) -> str:
    text = (value or "").strip()
    if not text:
        problems.append(_("%(field)s is required.", field=label))
        return text
    try:
        fits(text, column, label=label)
    except InvalidInput as exc:
        problems.append(str(exc))
    return text


def check_card(township: OrgUnit, data: CardInput, *, online: bool) -> dict:
    """The card's values, checked and normalised; :class:`AppointmentError` with every
    problem at once otherwise."""
    problems: list[str] = []
    values = {
        "citizen_name": _required(
            data.citizen_name, AppointmentCard.citizen_name, _("The citizen's name"), problems
        ),
        "address": _required(data.address, AppointmentCard.address, _("The address"), problems),
        "matter": _required(data.matter, AppointmentCard.matter, _("The matter"), problems),
    }
    phone = (data.phone or "").strip()
    if not phone:
        problems.append(_("%(field)s is required.", field=_("The phone")))
    else:
        try:
            phone = check_phone(phone)
            fits(phone, AppointmentCard.phone, label=_("The phone"))
        except InvalidInput as exc:
            problems.append(str(exc))
    values["phone"] = phone
    leader = db.session.get(User, data.leader_id) if data.leader_id else None
    if leader is None:
        problems.append(_("Choose the leader the citizen asks for."))
    elif not is_leader(leader.id, township.id):
        problems.append(
            _(
                "%(name)s is not a leader of this township; an appointment card is only for "
                "a member of the leadership team.",
                name=leader.name,
            )
        )
    values["leader"] = leader
    if online:
        values["channel"] = CardChannel.online
    else:
        try:
            channel = CardChannel(data.channel)
        except ValueError:
            problems.append(_("Say how the citizen asked (in person or by phone)."))
            channel = None
        else:
            if channel == CardChannel.online:
                problems.append(_("Say how the citizen asked (in person or by phone)."))
        values["channel"] = channel
    if data.bad_date is not None:
        problems.append(_("Give the date as YYYY-MM-DD."))
    taken_on = data.taken_on or clock.today(township)
    try:
        check_date(taken_on, township=township, past=True, label=_("The date"))
    except InvalidInput as exc:
        problems.append(str(exc))
    values["taken_on"] = taken_on
    if problems:
        raise AppointmentError(problems)
    return values


def _title(citizen: str, leader: User, matter: str) -> str:
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        text = _(
            "%(citizen)s asks for %(leader)s: %(matter)s",
            citizen=citizen,
            leader=leader.name,
            matter=matter,
        )
    return shorten(" ".join(text.split()), 200)[0]


def take_card(township: OrgUnit, data: CardInput, *, taken_by: User | None) -> AppointmentCard:
    """Fill in an appointment card. ``taken_by`` is the receiving staff (``None`` for a
    citizen's request on the public site). A card for a leader who is away waits for
    their return; a card for a leader who is present goes into their queue at once.
    Registers and accepts the card's case (receipt number, trail, public lookup)."""
    from core.presence import is_away

    online = taken_by is None
    if not online and not can(taken_by, WRITE, township.id):
        raise AppointmentError(_("You may not take appointment cards in this township."))
    values = check_card(township, data, online=online)
    leader: User = values["leader"]
    away = is_away(leader)
    try:
        case = register_case(
            township=township,
            kind=KIND,
            title=_title(values["citizen_name"], leader, values["matter"]),
            applicant_name=values["citizen_name"],
            first_responder=taken_by or leader,
            description=values["matter"],
            received_on=values["taken_on"],
            accept=True,
        )
    except CaseError as exc:
        db.session.rollback()
        raise AppointmentError(str(exc)) from exc
    card = AppointmentCard(
        township_id=township.id,
        case_id=case.id,
        citizen_name=values["citizen_name"],
        phone=values["phone"],
        address=values["address"],
        matter=values["matter"],
        leader_id=leader.id,
        taken_by_id=taken_by.id if taken_by else None,
        channel=values["channel"],
        taken_on=values["taken_on"],
        leader_was_away=away,
        status=CardStatus.waiting_return,
    )
    db.session.add(card)
    db.session.flush()
    if away:
        db.session.commit()
    else:
        queue_card(card, at=utcnow(), actor=taken_by or leader, tell=True)
    return card


def queue_card(card: AppointmentCard, *, at: datetime, actor: User, tell: bool) -> None:
    """Put the card into its leader's queue from ``at``: the visit is due
    ``appointments.visit_working_days`` working days later; the case is assigned to the
    leader. ``tell``: announce the card to the leader (one notification per card).
    Commits."""
    tid = card.township_id
    on = clock.local(at, tid).date()
    amount = int(get_policy(tid, VISIT_WORKING_DAYS))
    card.status = CardStatus.queued
    card.queued_at = at
    card.queued_on = on
    card.visit_due_on = WorkingCalendar.for_township(tid).add_working_days(on, amount).due
    if tell:
        with force_locale(current_app.config["DEFAULT_LOCALE"]):
            title = _(
                "Appointment card: %(citizen)s asks for a home visit by %(day)s",
                citizen=card.citizen_name,
                day=card.visit_due_on.isoformat(),
            )
        announce(
            [card.leader],
            INBOX_TO_VISIT,
            card.id,
            shorten(title, 190)[0],
            township_id=tid,
            link=link(DETAILS_ENDPOINT, id=card.id),
        )
    case = card.case
    if case.status in (CaseStatus.accepted, CaseStatus.reopened):
        assign_case(case, actor, card.leader, case.department)  # commits
    else:
        db.session.commit()


# ---------------------------------------------------------------------------
# The leader is back
# ---------------------------------------------------------------------------


def waiting_cards(user_id: int, township_id: int) -> list[AppointmentCard]:
    return list(
        db.session.scalars(
            select(AppointmentCard)
            .where(
                AppointmentCard.leader_id == user_id,
                AppointmentCard.township_id == township_id,
                AppointmentCard.status == CardStatus.waiting_return,
            )
            .order_by(AppointmentCard.id)
        )
    )


def leader_returned(user: User, township: OrgUnit, absence: Absence | None) -> int:
    """The leader is back (``township_user_returned``): every card that waited goes into
    their queue, due from the day of the return, and the leader gets **one** notification
    for all of them (once per away period). Returns how many cards were queued."""
    cards = waiting_cards(user.id, township.id)
    if not cards:
        return 0
    at = (absence.returned_at if absence is not None else None) or utcnow()
    actor = (absence.returned_by if absence is not None else None) or user
    for card in cards:
        queue_card(card, at=at, actor=actor, tell=False)
    due = min(c.visit_due_on for c in cards)
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        title = ngettext(
            "Welcome back: %(num)s appointment card waited for you",
            "Welcome back: %(num)s appointment cards waited for you",
            len(cards),
        )
        body = _(
            "Citizens asked for you while you were away: %(names)s. Visit them at home by "
            "%(day)s; the cards are in your inbox.",
            names="、".join(c.citizen_name for c in cards),
            day=due.isoformat(),
        )
    key = (
        f"appointments.returned:{absence.id if absence is not None else 'card-' + str(cards[0].id)}"
    )
    notify(
        [user],
        shorten(title, 190)[0],
        body,
        link=link("admin_inbox.index"),
        key=key,
        township_id=township.id,
    )
    db.session.commit()
    return len(cards)


def catch_up_returns(township_ids: set[int]) -> int:
    """Safety net (the daily sweep): cards still waiting although their leader is no
    longer away (a return recorded while the institution was off, an away period
    cancelled) go into the queue now. Returns how many."""
    from core.presence import away_user_ids

    if not township_ids:
        return 0
    pairs = db.session.execute(
        select(AppointmentCard.township_id, AppointmentCard.leader_id)
        .where(
            AppointmentCard.township_id.in_(township_ids),
            AppointmentCard.status == CardStatus.waiting_return,
        )
        .distinct()
    ).all()
    count = 0
    for tid, leader_id in pairs:
        if leader_id in away_user_ids(tid, [leader_id]):
            continue
        absence = db.session.scalar(
            select(Absence)
            .where(
                Absence.user_id == leader_id,
                Absence.township_id == tid,
                Absence.returned_at.is_not(None),
            )
            .order_by(Absence.returned_at.desc())
            .limit(1)
        )
        count += leader_returned(
            db.session.get(User, leader_id), db.session.get(OrgUnit, tid), absence
        )
    return count


# ---------------------------------------------------------------------------
# Home visits
# ---------------------------------------------------------------------------


def record_visit(
    card: AppointmentCard,
    *,
    by: User,
    visited_on: date | None,
    findings: str,
    outcome: VisitOutcome | str | None,
    result: str = "",
    companions: str = "",
) -> HomeVisit:
    """Record a home visit (上门走访). Unless another visit is needed, the result is
    registered on the card and the card closed: its case is resolved, delivered (the
    result was told at the citizen's home) and closed, and goes to the archives."""
    tid = card.township_id
    if not can(by, WRITE, tid):
        raise AppointmentError(_("You may not record visits in this township."))
    if card.status == CardStatus.closed:
        raise AppointmentError(_("This card is closed."))
    if card.status == CardStatus.waiting_return:
        raise AppointmentError(
            _(
                "%(name)s is still recorded as away; record the return first.",
                name=card.leader.name,
            )
        )
    problems: list[str] = []
    try:
        outcome = VisitOutcome(outcome)
    except ValueError:
        problems.append(_("Choose what came of the visit."))
        outcome = None
    findings = _required(findings, HomeVisit.findings, _("What the visit found"), problems)
    companions = (companions or "").strip()
    try:
        fits(companions, HomeVisit.companions, label=_("Who went along"))
    except InvalidInput as exc:
        problems.append(str(exc))
    result = (result or "").strip()
    if outcome is not None and outcome != VisitOutcome.follow_up:
        result = _required(result, HomeVisit.result, _("The result"), problems)
    else:
        try:
            fits(result, HomeVisit.result, label=_("The result"))
        except InvalidInput as exc:
            problems.append(str(exc))
    visited_on = visited_on or clock.today(tid)
    try:
        check_date(visited_on, township=tid, past=True, label=_("The visit date"))
    except InvalidInput as exc:
        problems.append(str(exc))
    else:
        earliest = max([card.queued_on or card.taken_on] + [v.visited_on for v in card.visits])
        if visited_on < earliest:
            problems.append(
                _(
                    "The visit date cannot be before %(day)s (the leader's return or the "
                    "last visit).",
                    day=earliest.isoformat(),
                )
            )
    closing = outcome is not None and outcome != VisitOutcome.follow_up
    case = card.case
    if closing and case.status not in _RESOLVABLE:
        problems.append(
            _(
                "The case %(receipt)s is %(status)s; its result cannot be registered now.",
                receipt=case.receipt_no,
                status=CaseStatus(case.status).label,
            )
        )
    if problems:
        raise AppointmentError(problems)
    visit = HomeVisit(
        township_id=tid,
        card_id=card.id,
        visited_on=visited_on,
        leader_id=card.leader_id,
        companions=companions,
        findings=findings,
        outcome=outcome,
        result=result,
        recorded_by_id=by.id,
    )
    db.session.add(visit)
    if not closing:
        card.status = CardStatus.follow_up
        db.session.commit()
        return visit
    card.status = CardStatus.closed
    card.result = result
    card.closed_at = utcnow()
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        delivered = _(
            "Told to the citizen at home during the visit on %(day)s.", day=visited_on.isoformat()
        )
    try:
        resolve_case(case, by, result)  # commits the visit and the card with it
        deliver_case(case, by, delivered)
        close_case(case, by)
    except CaseError as exc:  # pragma: no cover - the case's status was checked above
        db.session.rollback()
        raise AppointmentError(str(exc)) from exc
    return visit


def case_closed(case: Case) -> None:
    """The card's case was closed elsewhere (the core's case page): close the card too."""
    card = db.session.scalar(select(AppointmentCard).where(AppointmentCard.case_id == case.id))
    if card is None or card.status == CardStatus.closed:
        return
    card.status = CardStatus.closed
    card.result = card.result or (case.result or "")[:2000] or None
    card.closed_at = case.closed_at or utcnow()
    db.session.commit()


def case_reopened(case: Case) -> None:
    """The card's case was reopened: the card needs another visit."""
    card = db.session.scalar(select(AppointmentCard).where(AppointmentCard.case_id == case.id))
    if card is None or card.status != CardStatus.closed:
        return
    card.status = CardStatus.follow_up
    card.closed_at = None
    db.session.commit()


# ---------------------------------------------------------------------------
# Overdue cards
# ---------------------------------------------------------------------------


def overdue_cards(township_ids: set[int]) -> list[tuple[int, date]]:
    """(card id, visit due date) of queued cards not visited by their due date, each
    township by its own today."""
    out: list[tuple[int, date]] = []
    for today, ids in clock.today_groups(township_ids).items():
        out += [
            (row.id, row.visit_due_on)
            for row in db.session.execute(
                select(AppointmentCard.id, AppointmentCard.visit_due_on).where(
                    AppointmentCard.township_id.in_(ids),
                    AppointmentCard.status == CardStatus.queued,
                    AppointmentCard.visit_due_on < today,
                )
            )
        ]
    return out


def supervisors(township_id: int, leader_id: int) -> list[User]:
    """Who supervises the leaders' visits: the township's users holding
    ``appointments.supervise`` (the township administrators by default), not the leader."""
    return [u for u in users_with(SUPERVISE, township_id) if u.id != leader_id]


def remind_overdue(card_id: int, due_on: str) -> bool:
    """Tell the leader and the supervisors that a card was not visited by its due date,
    once per card and due date. False when there is nothing to remind of any more."""
    card = db.session.get(AppointmentCard, card_id)
    if (
        card is None
        or card.status != CardStatus.queued
        or card.visit_due_on is None
        or card.visit_due_on.isoformat() != due_on
    ):
        return False
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        title = _(
            "Home visit overdue since %(day)s: %(citizen)s asked for %(leader)s",
            day=due_on,
            citizen=card.citizen_name,
            leader=card.leader.name,
        )
        body = _(
            "Appointment card %(receipt)s, taken on %(taken)s: %(matter)s",
            receipt=card.case.receipt_no,
            taken=card.taken_on.isoformat(),
            matter=shorten(card.matter, 120)[0],
        )
    notify(
        [card.leader, *supervisors(card.township_id, card.leader_id)],
        shorten(title, 190)[0],
        body,
        link=link(DETAILS_ENDPOINT, id=card.id),
        key=f"appointments.overdue:{card.id}:{due_on}",
        township_id=card.township_id,
    )
    return True


# ---------------------------------------------------------------------------
# What people see
# ---------------------------------------------------------------------------


def mask_address(value: str | None) -> str | None:
    """``东村三组12号`` → ``东村三***``: the village stays, the house does not."""
    if not value:
        return value
    keep = min(6, len(value) // 2)
    return value[:keep] + "*" * max(3, len(value) - keep)


def personal(card: AppointmentCard, user: User | None) -> tuple[str, str, bool]:
    """(phone, address, shown whole) for ``user``: whole only with
    ``appointments.read_personal`` in the card's township."""
    if user is not None and can(user, READ_PERSONAL, card.township_id):
        return card.phone, card.address, True
    return mask_phone(card.phone) or "", mask_address(card.address) or "", False


def card_of_case(case_id: int) -> AppointmentCard | None:
    return db.session.scalar(select(AppointmentCard).where(AppointmentCard.case_id == case_id))


@dataclass(frozen=True)
class LeaderQueue:
    leader_id: int
    name: str
    waiting_return: int
    to_visit: int
    overdue: int


def leader_queues(todays: dict[int, date]) -> dict[int, list[LeaderQueue]]:
    """Per township (``{township id: its today}``) and leader with open cards: how many
    wait for the return, how many are due for a visit, how many of those are overdue on
    the township's today; leaders by name (one query whatever the number of townships)."""
    out: dict[int, list[LeaderQueue]] = {tid: [] for tid in todays}
    if not todays:
        return out
    status = AppointmentCard.status
    overdue = clock.on_each_day(
        AppointmentCard.township_id,
        todays,
        lambda today: and_(status == CardStatus.queued, AppointmentCard.visit_due_on < today),
    )
    rows = db.session.execute(
        select(
            AppointmentCard.township_id,
            AppointmentCard.leader_id,
            User.name,
            func.sum(case((status == CardStatus.waiting_return, 1), else_=0)),
            func.sum(case((status.in_([CardStatus.queued, CardStatus.follow_up]), 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .join(User, User.id == AppointmentCard.leader_id)
        .where(AppointmentCard.township_id.in_(list(todays)), status.in_(OPEN_CARD_STATUSES))
        .group_by(AppointmentCard.township_id, AppointmentCard.leader_id, User.name)
        .order_by(AppointmentCard.township_id, User.name, AppointmentCard.leader_id)
    ).all()
    for tid, lid, name, w, v, o in rows:
        out[tid].append(LeaderQueue(lid, name, int(w or 0), int(v or 0), int(o or 0)))
    return out


def visits_in_month(days: dict[int, date]) -> dict[int, int]:
    """Per township (``{township id: a day}``): the home visits made in the calendar month
    of its day (one query whatever the number of townships)."""
    out = dict.fromkeys(days, 0)
    if not days:
        return out

    def in_month(first: date):
        after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return and_(HomeVisit.visited_on >= first, HomeVisit.visited_on < after)

    firsts = {tid: day.replace(day=1) for tid, day in days.items()}
    for tid, count in db.session.execute(
        select(HomeVisit.township_id, func.count(HomeVisit.id))
        .where(
            HomeVisit.township_id.in_(list(days)),
            clock.on_each_day(HomeVisit.township_id, firsts, in_month),
        )
        .group_by(HomeVisit.township_id)
    ):
        out[tid] = count
    return out


def person_year_figures(township: OrgUnit, year: int, user_ids: list[int] | None) -> list:
    """Per leader and year (the annual evaluation reads them): home visits made, and cards
    whose first visit came after the visit deadline; for the township's leaders and anyone
    who made a visit (three queries)."""
    from core.contract import PersonYearFigure

    first, last = date(year, 1, 1), date(year, 12, 31)
    visits = dict(
        db.session.execute(
            select(HomeVisit.leader_id, func.count(HomeVisit.id))
            .where(
                HomeVisit.township_id == township.id,
                HomeVisit.visited_on >= first,
                HomeVisit.visited_on <= last,
            )
            .group_by(HomeVisit.leader_id)
        ).all()
    )
    first_visits = (
        select(HomeVisit.card_id, func.min(HomeVisit.visited_on).label("first_on"))
        .where(HomeVisit.township_id == township.id)
        .group_by(HomeVisit.card_id)
        .subquery()
    )
    late = dict(
        db.session.execute(
            select(AppointmentCard.leader_id, func.count(AppointmentCard.id))
            .join(first_visits, first_visits.c.card_id == AppointmentCard.id)
            .where(
                first_visits.c.first_on >= first,
                first_visits.c.first_on <= last,
                first_visits.c.first_on > AppointmentCard.visit_due_on,
            )
            .group_by(AppointmentCard.leader_id)
        ).all()
    )
    concerned = set(visits) | set(late) | {u.id for u in leaders(township.id)}
    ids = sorted(concerned) if user_ids is None else [u for u in user_ids if u in concerned]
    out = []
    for uid in ids:
        out.append(
            PersonYearFigure(
                "appointments.home_visits",
                "上门走访次数（群众预约）",
                "Home visits for appointment cards",
                uid,
                year,
                int(visits.get(uid, 0)),
            )
        )
        out.append(
            PersonYearFigure(
                "appointments.visits_late",
                "逾期走访的预约卡",
                "Appointment cards visited after the deadline",
                uid,
                year,
                int(late.get(uid, 0)),
                target=0,
                met=not late.get(uid, 0),
            )
        )
    return out
