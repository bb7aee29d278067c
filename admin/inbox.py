"""The inbox (待办) page: what waits for the signed-in user, from every institution."""

from __future__ import annotations

from flask import request
from flask_admin import BaseView, expose
from flask_login import current_user

from admin.views import SecureViewMixin
from core import inbox


class InboxView(SecureViewMixin, BaseView):
    """Items sorted by due date, each with its township, since when, and a link to act."""

    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    @expose("/")
    def index(self):
        number = request.args.get("page", 1, type=int) or 1
        items, total = inbox.page(current_user, number)
        pages = max(1, -(-total // inbox.PAGE_SIZE))
        return self.render(
            "admin/township/inbox.html",
            items=items,
            total=total,
            page=min(max(number, 1), pages),
            pages=pages,
        )
