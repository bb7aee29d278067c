"""The signed-in user's own notifications (the bell in the navbar)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, update

from admin.views import SecureViewMixin
from core.db import db, utcnow
from core.models import Notification

PAGE_SIZE = 20


class NotificationsView(SecureViewMixin, BaseView):
    """Lists the user's notifications, newest first, and marks them read."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def is_visible(self) -> bool:
        return False  # reached through the bell

    @expose("/")
    def index(self):
        page = max(request.args.get("page", 0, type=int), 0)
        mine = Notification.user_id == current_user.id
        total = db.session.scalar(select(func.count(Notification.id)).where(mine)) or 0
        rows = db.session.scalars(
            select(Notification)
            .where(mine)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        return self.render(
            "admin/township/notifications.html",
            rows=rows,
            page=page,
            pages=pages,
            total=total,
        )

    @expose("/read/", methods=("POST",))
    def mark_read(self):
        """Mark one notification (``id``) or all of them read; then follow its link."""
        target = request.form.get("id", type=int)
        mine = Notification.user_id == current_user.id
        unread = Notification.read_at.is_(None)
        if target is None:
            db.session.execute(update(Notification).where(mine, unread).values(read_at=utcnow()))
            db.session.commit()
            flash(_("All notifications are marked read."), "success")
            return redirect(url_for(".index"))
        note = db.session.get(Notification, target)
        if note is None or note.user_id != current_user.id:
            abort(404)
        if note.read_at is None:
            note.read_at = utcnow()
            db.session.commit()
        if request.form.get("follow") and note.link and note.link.startswith("/"):
            return redirect(note.link)
        return redirect(url_for(".index", page=request.form.get("page", 0, type=int)))
