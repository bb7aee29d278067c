"""The scheduler lease: one row in ``core_scheduler_lease`` says which process may fire jobs.

Every change is a conditional UPDATE, so two processes racing for the lease
cannot both win, whatever the database:

* :meth:`Lease.acquire` takes the lease when it is free, lapsed, or already ours;
* :meth:`Lease.renew` extends it only while we still hold it and it has not lapsed;
* :meth:`Lease.holds` is the fencing check a job runs before it enqueues;
* :meth:`Lease.release` frees it at once (a standby takes over on its next poll).

Times come from each process's clock: keep the machines' clocks in sync (NTP);
a skew of a few seconds is fine with the default 15 s lease.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow
from core.models import SchedulerLease

LEASE_NAME = "scheduler"


def make_holder() -> str:
    """An id naming this process for the lease row: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """The lease ``name`` as seen by ``holder``; every method runs and commits its own
    transaction on ``db.session`` (call them inside an app context)."""

    def __init__(self, seconds: float, holder: str | None = None, name: str = LEASE_NAME):
        if seconds <= 0:
            raise ValueError("the lease must last a positive number of seconds")
        self.seconds = seconds
        self.holder = holder or make_holder()
        self.name = name

    def _ensure_row(self) -> None:
        if db.session.scalar(select(SchedulerLease.name).where(SchedulerLease.name == self.name)):
            return
        try:
            db.session.execute(insert(SchedulerLease).values(name=self.name))
            db.session.commit()
        except IntegrityError:  # another process created it first
            db.session.rollback()

    def _update(self, *conditions, **values) -> bool:
        result = db.session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == self.name, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return result.rowcount == 1

    def acquire(self) -> bool:
        """Take the lease if nobody holds it, it lapsed, or we hold it. True if ours now."""
        self._ensure_row()
        now = utcnow()
        return self._update(
            or_(
                SchedulerLease.holder.is_(None),
                SchedulerLease.expires_at.is_(None),
                SchedulerLease.expires_at < now,
                SchedulerLease.holder == self.holder,
            ),
            holder=self.holder,
            expires_at=now + timedelta(seconds=self.seconds),
            acquired_at=now,
        )

    def renew(self) -> bool:
        """Extend our unexpired lease. False means we lost it: stop firing at once."""
        now = utcnow()
        return self._update(
            SchedulerLease.holder == self.holder,
            SchedulerLease.expires_at > now,
            expires_at=now + timedelta(seconds=self.seconds),
        )

    def holds(self) -> bool:
        """Whether we hold an unexpired lease right now (the fencing check)."""
        expires = db.session.scalar(
            select(SchedulerLease.expires_at).where(
                SchedulerLease.name == self.name, SchedulerLease.holder == self.holder
            )
        )
        db.session.rollback()
        return expires is not None and expires > utcnow()

    def release(self) -> bool:
        """Give the lease up (if we hold it), so a standby takes over on its next poll."""
        return self._update(SchedulerLease.holder == self.holder, holder=None, expires_at=None)


def current_holder() -> tuple[str | None, datetime | None]:
    """Who holds the lease and until when (``(None, None)`` if nobody), for the admin."""
    row = db.session.execute(
        select(SchedulerLease.holder, SchedulerLease.expires_at).where(
            SchedulerLease.name == LEASE_NAME
        )
    ).first()
    if row is None or row.holder is None or row.expires_at is None or row.expires_at < utcnow():
        return None, None
    return row.holder, row.expires_at
