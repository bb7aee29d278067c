"""The inbox (待办): what waits for a user, from every institution, in one list.

Institutions contribute :class:`~core.contract.InboxSource` objects through the
``township_inbox_sources`` hook: a ``Select`` of five labelled columns per kind of
item. The core keeps each source's rows to the townships that enabled its plugin,
unions them, sorts by due date (undated last, then oldest first) and pages the
result, so a page costs two queries (count and rows) whatever the number of
institutions or items.

An institution tells the people concerned when an item arrives with
:func:`announce`: one notification per item and person, never one per page view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String, cast, func, literal, select, union_all

from core import clock
from core.contract import InboxSource
from core.db import db
from core.models import User
from core.plugins import CORE_KEY, state

PAGE_SIZE = 20
#: core.cache area of the navbar badges (bumped when an item is announced)
INBOX_AREA = "inbox"


def _badge_areas(user_id: int) -> list[tuple[int | None, str]]:
    return [(None, INBOX_AREA), (None, f"{INBOX_AREA}:{user_id}")]


def _read_badge_versions_early() -> None:
    from core import cache

    cache.user_areas(_badge_areas)  # their versions come with the user's, in one round trip


_read_badge_versions_early()


@dataclass(frozen=True)
class InboxItem:
    """One row of a user's inbox, as the page shows it."""

    source: InboxSource
    object_id: int
    title: str
    township_id: int
    township_name: str
    since: datetime | None
    due_on: date | None

    @property
    def link(self) -> str | None:
        from core.links import link

        return link(self.source.endpoint, **{self.source.id_arg: self.object_id})

    @property
    def label(self) -> str:
        from core.app import current_locale

        return self.source.label_en if current_locale() == "en" else self.source.label

    def timeliness(self) -> str:
        """``overdue``, ``due_today`` or ``on_time`` by the township's today."""
        if self.due_on is None:
            return "on_time"
        today = clock.today(self.township_id)
        if self.due_on < today:
            return "overdue"
        if self.due_on == today:
            return "due_today"
        return "on_time"


def sources_for(user: User) -> tuple[dict[str, InboxSource], dict[str, set[int]]]:
    """Every inbox source for ``user`` and, per source, the townships it may show rows of."""
    from core.access import visible_township_ids
    from core.institutions import enabled_keys

    township_ids = visible_township_ids(user)
    if not township_ids:
        return {}, {}
    enabled = {tid: enabled_keys(tid) for tid in township_ids}
    sources: dict[str, InboxSource] = {}
    scope: dict[str, set[int]] = {}
    for group in state().hook.township_inbox_sources(user=user, township_ids=township_ids):
        for source in group or ():
            plugin = source.key.split(".", 1)[0]
            ids = {tid for tid in township_ids if plugin == CORE_KEY or plugin in enabled[tid]}
            if ids:
                sources[source.key] = source
                scope[source.key] = ids
    return sources, scope


def _union(sources: dict[str, InboxSource], scope: dict[str, set[int]]):
    # an undated source's NULL is text to PostgreSQL, which will not union text with date
    typed_due = db.session.get_bind().dialect.name == "postgresql"
    parts = []
    for key, source in sources.items():
        inner = source.query.subquery()
        parts.append(
            select(
                cast(literal(key), String(120)).label("source"),
                inner.c.object_id,
                inner.c.title,
                inner.c.township_id,
                inner.c.since,
                cast(inner.c.due_on, Date).label("due_on") if typed_due else inner.c.due_on,
            ).where(inner.c.township_id.in_(scope[key]))
        )
    if not parts:
        return None
    return union_all(*parts).subquery("inbox")


def count(user: User) -> int:
    """How many items wait for ``user`` (the navbar badge): one query."""
    sources, scope = sources_for(user)
    inbox = _union(sources, scope)
    if inbox is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(inbox)) or 0


def badge(user: User) -> int:
    """The navbar's count (:func:`count`), cached per user: an announced item, a change of
    roles or any change the user makes counts at once; an item someone else finished
    leaves the badge for at most a minute (the inbox page itself is always exact)."""
    from core import cache

    return cache.memo(
        f"inbox-badge:{user.id}",
        lambda: count(user),
        areas=[(None, cache.ACCESS), (None, INBOX_AREA), (None, f"{INBOX_AREA}:{user.id}")],
        timeout=60,
    )


def page(user: User, number: int = 1, per_page: int = PAGE_SIZE) -> tuple[list[InboxItem], int]:
    """One page of ``user``'s inbox, by due date, and the total: two queries (plus one for
    the townships' names)."""
    from core.models import OrgUnit

    sources, scope = sources_for(user)
    inbox = _union(sources, scope)
    if inbox is None:
        return [], 0
    total = db.session.scalar(select(func.count()).select_from(inbox)) or 0
    number = max(1, min(number, max(1, -(-total // per_page))))
    rows = db.session.execute(
        select(inbox, OrgUnit.name.label("township_name"))
        .join(OrgUnit, OrgUnit.id == inbox.c.township_id)
        .order_by(
            inbox.c.due_on.is_(None),
            inbox.c.due_on,
            inbox.c.since,
            inbox.c.source,
            inbox.c.object_id,
        )
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    items = [
        InboxItem(
            source=sources[row.source],
            object_id=row.object_id,
            title=row.title,
            township_id=row.township_id,
            township_name=row.township_name,
            since=_aware(row.since),
            due_on=_as_date(row.due_on),
        )
        for row in rows
    ]
    return items, total


def _aware(value: Any) -> datetime | None:
    """Union columns lose the UTC type on SQLite: put the zone back."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])


def announce(
    users: Iterable[User],
    source_key: str,
    object_id: int,
    title: str,
    *,
    township_id: int,
    link: str | None = None,
    body: str = "",
) -> None:
    """Tell ``users`` that an item arrived in their inbox: one notification per item and
    person however often it is announced (in the caller's transaction)."""
    from core import cache
    from core.notifications import notify

    notify(
        users,
        title,
        body,
        link=link,
        key=f"inbox:{source_key}:{object_id}",
        township_id=township_id,
    )
    cache.touch(None, INBOX_AREA)  # the badges count again (after the caller's commit)
