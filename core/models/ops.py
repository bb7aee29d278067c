"""Operational rows: notifications, durable tasks, schedules and the scheduler lease."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import db, utcnow
from core.labels import LabelledEnum


class Notification(db.Model):
    """An in-app notification (the bell in the admin)."""

    __tablename__ = "core_notification"
    __table_args__ = (Index("ix_core_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    township_id: Mapped[int | None] = mapped_column(ForeignKey("core_org_unit.id"))
    #: makes sending idempotent: one notification per key and user
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class TaskStatus(LabelledEnum):
    pending = "pending"
    done = "done"
    failed = "failed"

    @classmethod
    def labels(cls):
        return {cls.pending: _l("Pending"), cls.done: _l("Done"), cls.failed: _l("Failed")}


class TaskRecord(db.Model):
    """Work that is due, written before its message is sent (the database is the truth)."""

    __tablename__ = "core_task"
    __table_args__ = (Index("ix_core_task_status_sent", "status", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    queue_name: Mapped[str] = mapped_column(String(64))
    #: one task per key: enqueueing the same key twice is a no-op
    key: Mapped[str] = mapped_column(String(200), unique=True)
    args: Mapped[dict]
    status: Mapped[TaskStatus] = mapped_column(
        Enum(TaskStatus, native_enum=False, length=16), default=TaskStatus.pending
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]


class JobSchedule(db.Model):
    """An admin's override of a scheduled job's trigger (the declared default otherwise)."""

    __tablename__ = "core_job_schedule"

    job_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    #: crontab (minute hour day month day-of-week, cron's numbering) or "every N seconds"
    trigger: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobRun(db.Model):
    """One firing of a scheduled job: when it was due, when it fired, what came of it."""

    __tablename__ = "core_job_run"
    __table_args__ = (
        Index("ix_core_job_run_job_fired", "job_id", "fired_at"),
        # one firing per due time, enforced by the database even if two schedulers fire
        UniqueConstraint("job_id", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(120))
    scheduled_for: Mapped[datetime | None]
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    holder: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)


class SchedulerLease(db.Model):
    """Which scheduler process may fire jobs, until when."""

    __tablename__ = "core_scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[datetime | None]
    acquired_at: Mapped[datetime | None]


class ProcessHeartbeat(db.Model):
    """A running ``township`` process (web, worker, scheduler, serve) and the settings it
    runs with, refreshed every few seconds (``core.heartbeat``; ``township doctor``)."""

    __tablename__ = "core_process_heartbeat"

    #: ``host:pid:role``
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(120))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: the shared settings' values as this process sees them (secrets as fingerprints)
    settings: Mapped[dict]


class ProducedRecord(db.Model):
    """A record an institution handed over for the archive (``township_record_produced``),
    kept by the core frozen as it was, so that an archives institution enabled later
    still files what was produced before it (and nothing is filed twice)."""

    __tablename__ = "core_record"
    __table_args__ = (
        UniqueConstraint("source", "reference"),
        Index("ix_core_record_township_produced", "township_id", "produced_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"))
    source: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    produced_at: Mapped[datetime]
    #: every other field of the ArchivalRecord, as JSON (content and trail frozen)
    data: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
