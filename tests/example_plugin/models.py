"""Example plugin models: notes, stamps an actor puts on them, and ticks of its job."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import db, utcnow


class ExampleNote(db.Model):
    __tablename__ = "example_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("core_org_unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __str__(self) -> str:
        return self.title


class ExampleStamp(db.Model):
    """The visible effect of the ``example.stamp`` actor: exactly one per note."""

    __tablename__ = "example_stamp"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("example_note.id"), index=True)
    worker_pid: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
