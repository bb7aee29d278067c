"""Actors of proxy handling: the daily sweep for overdue steps and the durable reminder."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from core.db import db
from core.institutions import townships_enabling
from core.labels import shorten
from core.links import link
from core.notifications import notify
from core.tasks import actor, enqueue
from plugins.proxy.models import ProxyRecord, ProxyStatus, ProxyTransfer
from plugins.proxy.services import overdue_steps


@actor("proxy.overdue_sweep", queue_name="proxy", durable=False, max_retries=0)
def overdue_sweep() -> None:
    """Find overdue steps and record one reminder task per step and due date (a step whose
    reminder exists is skipped: each overdue step reminds once)."""
    for kind, object_id, due in overdue_steps(townships_enabling("proxy")):
        enqueue(
            "proxy.remind",
            f"proxy.remind:{kind}:{object_id}:{due}",
            kind=kind,
            object_id=object_id,
        )
    db.session.commit()


@actor("proxy.remind", queue_name="proxy")
def remind(kind: str, object_id: int) -> None:
    """Tell the staff who took the matter over (and, for a late delivery, the supervising
    leader) that a step is overdue. Writes only to the session (durable, idempotent)."""
    if kind == "transfer":
        transfer = db.session.get(ProxyTransfer, object_id)
        if transfer is None or transfer.back_on is not None:
            return
        record = transfer.record
        users = [record.taken_by]
        with force_locale(current_app.config["DEFAULT_LOCALE"]):
            title = _(
                "Overdue at %(office)s since %(day)s: %(title)s",
                office=transfer.office,
                day=transfer.expected_on.isoformat(),
                title=record.case.title,
            )
    else:
        record = db.session.get(ProxyRecord, object_id)
        if record is None or record.status != ProxyStatus.open:
            return
        users = [record.taken_by, record.leader]
        with force_locale(current_app.config["DEFAULT_LOCALE"]):
            title = _(
                "Not delivered by %(day)s: %(title)s",
                day=record.promised_on.isoformat(),
                title=record.case.title,
            )
    notify(
        users,
        shorten(title, 190)[0],
        link=link("proxy_records.details_view", id=record.id),
        key=f"proxy.remind:{kind}:{object_id}",
        township_id=record.township_id,
    )


ACTORS = [overdue_sweep, remind]
