"""One service for telling staff something: an in-app notification and, if
configured, an e-mail (sent by a durable task; logged when SMTP is not set)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select

from core.db import db
from core.models import Notification, User
from core.tasks import actor, enqueue

log = logging.getLogger(__name__)


def notify(
    users: Iterable[User],
    title: str,
    body: str = "",
    *,
    link: str | None = None,
    key: str | None = None,
    township_id: int | None = None,
    email: bool = True,
) -> list[Notification]:
    """Notify each user once per ``key`` (in the caller's transaction; the caller commits)."""
    created = []
    for user in {u.id: u for u in users if u is not None}.values():
        user_key = f"{key}:{user.id}" if key else None
        if user_key and db.session.scalar(
            select(Notification.id).where(Notification.key == user_key)
        ):
            continue
        note = Notification(
            user_id=user.id,
            township_id=township_id,
            key=user_key,
            title=str(title),
            body=str(body),
            link=link,
        )
        db.session.add(note)
        created.append(note)
        if email and user.email:
            enqueue(
                "core.send_email",
                f"email:{user_key or id(note)}",
                to=user.email,
                subject=str(title),
                body=f"{body}\n\n{link or ''}".strip(),
            )
    db.session.flush()
    return created


def unread_count(user: User) -> int:
    from sqlalchemy import func

    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def unread_badge(user: User) -> int:
    """The navbar's unread count (:func:`unread_count`), cached per user until a
    notification of theirs is written (at most a minute after a bulk change)."""
    from core import cache

    return cache.memo(
        f"unread:{user.id}",
        lambda: unread_count(user),
        areas=[(None, cache.NOTES), (user.id, cache.NOTES)],
        timeout=60,
    )


@actor("core.send_email", queue_name="core")
def send_email(to: str, subject: str, body: str) -> None:
    """Send one e-mail through SMTP, or log it when ``SMTP_HOST`` is not set."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        log.info("e-mail (SMTP not configured) to=%s subject=%s", to, subject)
        return
    msg = EmailMessage()
    msg["From"] = config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(msg)
