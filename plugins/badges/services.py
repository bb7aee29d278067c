"""The badge rules (佩证上岗制度) as functions over ``db.session``.

* every staff member on duty has a card with photo, name, post, staff number and
  office phone (:func:`save_card`); the number follows the township's scheme
  (:func:`next_staff_number`, one conditional UPDATE, never handed out twice);
* a photo is accepted only as JPEG or PNG, found from the file's signature, up to
  :data:`MAX_PHOTO_BYTES` (:func:`check_photo`), and kept in the database;
* public pages show a photo only when the staff member's consent is recorded
  (:func:`record_consent`: who recorded it and when, in the audit trail too).

A refused change raises :class:`BadgeError` with every reason; nothing is written.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import phonenumbers
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from core.db import db, utcnow
from core.models import Membership, OrgUnit, UnitKind, User
from plugins.badges.models import BadgeCard, BadgeNumbering, BadgePhoto

KEY = "badges"
READ = "badges.read"
WRITE = "badges.write"

#: the largest photo accepted (a passport-style photo is far smaller)
MAX_PHOTO_BYTES = 2 * 1024 * 1024
#: file signatures of the accepted photo types
SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
PREFIX_PATTERN = re.compile(r"^[A-Z0-9-]{0,12}$")
NUMBER_PATTERN = re.compile(r"^[A-Z0-9-]{1,24}$")
POST_MAX = 60
PHONE_MAX = 32


class BadgeError(ValueError):
    """A refused change; ``problems`` lists every reason (nothing was written)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


# ---------------------------------------------------------------------------
# Numbering
# ---------------------------------------------------------------------------


def default_prefix(township: OrgUnit) -> str:
    """The first letters of the township's code, e.g. ``DONGFENG`` → ``DO-``."""
    letters = re.sub(r"[^A-Z0-9]", "", (township.code or "").upper())[:2]
    return f"{letters}-" if letters else ""


def ensure_numbering(township: OrgUnit) -> BadgeNumbering:
    """The township's scheme, created with the default prefix the first time (no commit)."""
    row = db.session.scalar(select(BadgeNumbering).where(BadgeNumbering.township_id == township.id))
    if row is None:
        row = BadgeNumbering(
            township_id=township.id, prefix=default_prefix(township), width=3, next_number=1
        )
        db.session.add(row)
        db.session.flush()
    return row


def check_numbering(prefix: str, width: int, next_number: int) -> list[str]:
    problems = []
    if not PREFIX_PATTERN.match(prefix or ""):
        problems.append(
            _("The prefix may have up to 12 capital letters, digits and dashes (e.g. DF-).")
        )
    if not isinstance(width, int) or not 1 <= width <= 8:
        problems.append(_("The number of digits must be between 1 and 8."))
    if not isinstance(next_number, int) or next_number < 1:
        problems.append(_("The next number must be 1 or more."))
    return problems


def next_staff_number(township: OrgUnit) -> str:
    """Take the township's next staff number, skipping numbers already given by hand.

    The counter advances with a conditional UPDATE (``next_number = next_number + 1
    WHERE next_number = <read>``): a second clerk who read the same value retries with
    the next one, so no number is handed out twice.
    """
    scheme = ensure_numbering(township)
    for _attempt in range(1000):
        db.session.refresh(scheme)
        current = scheme.next_number
        taken = db.session.execute(
            update(BadgeNumbering)
            .where(BadgeNumbering.id == scheme.id, BadgeNumbering.next_number == current)
            .values(next_number=current + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            continue
        number = scheme.format(current)
        used = db.session.scalar(
            select(BadgeCard.id).where(
                BadgeCard.township_id == township.id, BadgeCard.staff_number == number
            )
        )
        if used is None:
            return number
    raise BadgeError(_("No free staff number was found; check the numbering scheme."))


# ---------------------------------------------------------------------------
# Cards
# ---------------------------------------------------------------------------


def township_staff(township_id: int) -> list[User]:
    """Active users with a role in the township or one of its villages or stations."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgUnit, OrgUnit.id == Membership.org_unit_id)
            .where(OrgUnit.township_id == township_id, User.active.is_(True))
            .order_by(User.name, User.id)
            .distinct()
        )
    )


def departments(township_id: int) -> list[OrgUnit]:
    return list(
        db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.station)
            .order_by(OrgUnit.name)
        )
    )


def normalise_phone(raw: str | None) -> str:
    """An office phone as the public reads it, or a :class:`ValueError` with the reason.

    Mobile numbers and landlines with their area code are accepted (region CN).
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    if len(raw) > PHONE_MAX:
        raise ValueError(_("The office phone is longer than %(n)d characters.", n=PHONE_MAX))
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError(_("“%(raw)s” is not a phone number.", raw=raw)) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            _(
                "“%(raw)s” is not a valid phone number in China (landlines need the area code).",
                raw=raw,
            )
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@dataclass
class CardInput:
    user_id: int | None
    post: str
    department_id: int | None = None
    office_phone: str = ""
    staff_number: str = ""  # empty: the next number of the scheme
    active: bool = True


def save_card(township: OrgUnit, data: CardInput, card: BadgeCard | None = None) -> BadgeCard:
    """Create or change a card after checking every field (no commit: the caller commits).

    Refuses with every reason at once: a user who does not work for the township or
    already has a card, a department of another township, an empty or too long post,
    a phone that is not one, a staff number taken or not in the allowed characters.
    """
    problems: list[str] = []
    post = (data.post or "").strip()
    if not post:
        problems.append(_("The post is required."))
    elif len(post) > POST_MAX:
        problems.append(_("The post is longer than %(n)d characters.", n=POST_MAX))
    user = db.session.get(User, data.user_id) if data.user_id else None
    if user is None:
        problems.append(_("Choose the staff member."))
    elif user.id not in {u.id for u in township_staff(township.id)}:
        problems.append(_("%(name)s does not work for this township.", name=user.name))
    elif db.session.scalar(
        select(BadgeCard.id).where(
            BadgeCard.township_id == township.id,
            BadgeCard.user_id == user.id,
            BadgeCard.id != (card.id if card else 0),
        )
    ):
        problems.append(_("%(name)s already has a card.", name=user.name))
    department = db.session.get(OrgUnit, data.department_id) if data.department_id else None
    if data.department_id and (
        department is None
        or department.township_id != township.id
        or department.kind != UnitKind.station
    ):
        problems.append(_("That department is not a station or office of this township."))
    try:
        phone = normalise_phone(data.office_phone)
    except ValueError as exc:
        problems.append(str(exc))
        phone = ""
    number = (data.staff_number or "").strip().upper()
    if number:
        if not NUMBER_PATTERN.match(number):
            problems.append(_("A staff number has up to 24 capital letters, digits and dashes."))
        elif db.session.scalar(
            select(BadgeCard.id).where(
                BadgeCard.township_id == township.id,
                BadgeCard.staff_number == number,
                BadgeCard.id != (card.id if card else 0),
            )
        ):
            problems.append(_("The staff number %(n)s is already given.", n=number))
    if problems:
        raise BadgeError(problems)
    if not number:
        number = (card.staff_number if card else "") or next_staff_number(township)
    if card is None:
        card = BadgeCard(township_id=township.id)
        db.session.add(card)
    card.user_id = user.id
    card.post = post
    card.department_id = department.id if department else None
    card.office_phone = phone
    card.staff_number = number
    card.active = bool(data.active)
    db.session.flush()
    return card


def check_photo(data: bytes | None) -> str:
    """The photo's type from its signature, or :class:`BadgeError` with the reason."""
    if not data:
        raise BadgeError(_("Choose a photo to upload."))
    if len(data) > MAX_PHOTO_BYTES:
        raise BadgeError(
            _(
                "The photo is %(size)s KB; at most %(max)s KB are accepted.",
                size=len(data) // 1024,
                max=MAX_PHOTO_BYTES // 1024,
            )
        )
    for content_type, signature in SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    raise BadgeError(_("The photo must be a JPEG or PNG image."))


def set_photo(card: BadgeCard, data: bytes | None, by: User | None) -> BadgePhoto:
    """Check and keep a card's photo, replacing the previous one (no commit)."""
    content_type = check_photo(data)
    old = db.session.get(BadgePhoto, card.photo_id) if card.photo_id else None
    photo = BadgePhoto(
        township_id=card.township_id,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=by.id if by else None,
    )
    db.session.add(photo)
    db.session.flush()
    card.photo_id = photo.id
    db.session.flush()
    if old is not None:
        db.session.delete(old)
    return photo


def record_consent(card: BadgeCard, given: bool, by: User) -> None:
    """Record whether the staff member agreed that the photo is shown publicly (no commit)."""
    card.photo_consent = bool(given)
    card.consent_recorded_at = utcnow()
    card.consent_recorded_by_id = by.id


def public_photo(township_id: int, card_id: int) -> BadgePhoto | None:
    """The photo of an active card whose consent is recorded, else None."""
    row = db.session.execute(
        select(BadgePhoto)
        .join(BadgeCard, BadgeCard.photo_id == BadgePhoto.id)
        .where(
            BadgeCard.id == card_id,
            BadgeCard.township_id == township_id,
            BadgeCard.active.is_(True),
            BadgeCard.photo_consent.is_(True),
        )
    ).scalar_one_or_none()
    return row


def card_photo(card: BadgeCard) -> BadgePhoto | None:
    return db.session.get(BadgePhoto, card.photo_id) if card.photo_id else None


# ---------------------------------------------------------------------------
# Public pages
# ---------------------------------------------------------------------------


def public_cards(township_id: int, page: int, per_page: int) -> tuple[list[BadgeCard], int]:
    """A page of the township's active cards by department and number, and the total
    (two queries; users and departments are joined in)."""
    where = (BadgeCard.township_id == township_id, BadgeCard.active.is_(True))
    total = db.session.scalar(select(func.count(BadgeCard.id)).where(*where)) or 0
    department = db.aliased(OrgUnit)
    rows = db.session.scalars(
        select(BadgeCard)
        .outerjoin(department, department.id == BadgeCard.department_id)
        .where(*where)
        .order_by(department.name.is_(None), department.name, BadgeCard.staff_number)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def card_by_number(township_id: int, number: str) -> BadgeCard | None:
    return db.session.scalar(
        select(BadgeCard).where(
            BadgeCard.township_id == township_id,
            BadgeCard.staff_number == (number or "").upper()[:24],
            BadgeCard.active.is_(True),
        )
    )


def cards_for_print(township_id: int, ids: list[int] | None) -> list[BadgeCard]:
    """The cards to print (the chosen ones, or every active card), by number, one query."""
    query = select(BadgeCard).where(BadgeCard.township_id == township_id)
    chosen = BadgeCard.id.in_(ids) if ids else BadgeCard.active.is_(True)
    query = query.where(chosen)
    return list(db.session.scalars(query.order_by(BadgeCard.staff_number)))


def photos_by_id(ids: list[int]) -> dict[int, BadgePhoto]:
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(BadgePhoto).where(BadgePhoto.id.in_(ids)))}
