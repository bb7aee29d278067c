"""The duty rota (值班表) and staff presence (外出登记) of a township.

* :class:`DutyPattern` — the weekly pattern: who is on duty in which post on a
  weekday, kept separately for working days and rest days (so an adjusted working
  day 调休 on a Sunday follows the Sunday *working-day* entries, a holiday on a
  Wednesday the Wednesday *rest-day* entries), each entry valid from/until a date;
* :class:`DutyChange` — a swap's two sides or a one-off change on one date and post
  (someone else, someone more, or nobody), applied on top of the pattern in the
  order they were recorded;
* :class:`Absence` — a staff member away (外出) from/to, with the return recorded
  when it happens.

The rules live in :mod:`core.duty` and :mod:`core.presence`.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.labels import LabelledEnum
from core.models.identity import User
from core.models.orgs import OrgUnit


class DutyPost(LabelledEnum):
    """A post of the duty rota."""

    #: the leader who receives citizens on the leader reception day (领导接待日)
    reception_leader = "reception_leader"
    #: the leader in charge of the day's duty (带班领导)
    duty_leader = "duty_leader"
    #: staff at the service windows (窗口值班), weekends too ("five days, seven days of service")
    window = "window"
    #: the duty telephone (值班电话)
    hotline = "hotline"

    @classmethod
    def labels(cls):
        return {
            cls.reception_leader: _l("Reception leader"),
            cls.duty_leader: _l("Leader on duty"),
            cls.window: _l("Window staff"),
            cls.hotline: _l("Duty phone"),
        }


class DutySource(LabelledEnum):
    """Why someone is on duty on a day."""

    pattern = "pattern"
    swap = "swap"
    one_off = "one_off"

    @classmethod
    def labels(cls):
        return {
            cls.pattern: _l("Weekly pattern"),
            cls.swap: _l("Swap"),
            cls.one_off: _l("One-off change"),
        }


class DutyPattern(db.Model):
    """One person in one post on one weekday of the weekly pattern.

    ``weekday`` is 0 (Monday) to 6 (Sunday). ``rest_day`` says whether the entry is
    for that weekday when it is a rest day (a weekend, a public holiday, a township
    holiday) or when it is a working day (an ordinary weekday, an adjusted working
    day 调休). ``valid_from``/``valid_until`` (inclusive, either open) keep past
    rotas true when the pattern changes.
    """

    __tablename__ = "core_duty_pattern"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        Index("ix_core_duty_pattern_township_post", "township_id", "post"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    post: Mapped[DutyPost] = mapped_column(Enum(DutyPost, native_enum=False, length=32))
    weekday: Mapped[int]
    rest_day: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"), index=True)
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class DutyChange(db.Model):
    """A change of the rota on one date and post, on top of the weekly pattern.

    ``user_id`` comes on duty, ``replaces_id`` goes off duty (either may be empty:
    someone more, or nobody instead). A swap is two rows of kind ``swap`` with the
    same ``batch``; a one-off change that leaves a post empty is one row per person
    taken off, also sharing a ``batch``. Cancelling cancels the whole batch.
    """

    __tablename__ = "core_duty_change"
    __table_args__ = (
        Index("ix_core_duty_change_township_day", "township_id", "day"),
        CheckConstraint("user_id IS NOT NULL OR replaces_id IS NOT NULL", name="someone_changes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    day: Mapped[date]
    post: Mapped[DutyPost] = mapped_column(Enum(DutyPost, native_enum=False, length=32))
    kind: Mapped[DutySource] = mapped_column(Enum(DutySource, native_enum=False, length=16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    #: rows written by one action (a swap's two sides) share it
    batch: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id], lazy="joined")
    replaces: Mapped[User | None] = relationship(foreign_keys=[replaces_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="joined")


class Absence(db.Model):
    """A staff member away from the office (外出): from, to (planned), why, and when
    they were back (recorded when it happens; until then they count as away)."""

    __tablename__ = "core_absence"
    __table_args__ = (
        Index("ix_core_absence_township_starts", "township_id", "starts_at"),
        Index("ix_core_absence_user_starts", "user_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    starts_at: Mapped[datetime]
    #: when the person expects to be back
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    returned_at: Mapped[datetime | None]
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="joined")
    township: Mapped[OrgUnit] = relationship(lazy="joined")

    @property
    def back(self) -> bool:
        return self.returned_at is not None
