"""Actors of the petition institution: the daily sweep and the durable reminder (不拖)."""

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
from plugins.petitions.models import Acceptance, FollowUp, Petition
from plugins.petitions.services import officers, overdue_items


@actor("petitions.overdue_sweep", queue_name="petitions", durable=False, max_retries=0)
def overdue_sweep() -> None:
    """One reminder task per overdue item and due date (an item reminded is skipped)."""
    for kind, object_id, due in overdue_items(townships_enabling("petitions")):
        enqueue(
            "petitions.remind",
            f"petitions.remind:{kind}:{object_id}:{due}",
            kind=kind,
            object_id=object_id,
        )
    db.session.commit()


@actor("petitions.remind", queue_name="petitions")
def remind(kind: str, object_id: int) -> None:
    """Tell whoever follows the item up that it is overdue (a follow-up: its owner; an
    acceptance decision: the officers). Writes only to the session (durable, idempotent)."""
    if kind == "follow_up":
        follow_up = db.session.get(FollowUp, object_id)
        if follow_up is None or follow_up.done_on is not None:
            return
        petition = follow_up.petition
        users = [follow_up.owner]
        with force_locale(current_app.config["DEFAULT_LOCALE"]):
            title = _(
                "%(department)s has not reported back by %(day)s: %(title)s",
                department=follow_up.department.name,
                day=follow_up.due_on.isoformat(),
                title=petition.case.title,
            )
        due = follow_up.due_on
    else:
        petition = db.session.get(Petition, object_id)
        if petition is None or petition.acceptance != Acceptance.pending:
            return
        users = officers(petition.township_id)
        with force_locale(current_app.config["DEFAULT_LOCALE"]):
            title = _(
                "Acceptance not decided by %(day)s: %(title)s",
                day=petition.decide_by.isoformat(),
                title=petition.case.title,
            )
        due = petition.decide_by
    notify(
        users,
        shorten(title, 190)[0],
        link=link("petitions_petitions.details_view", id=petition.id),
        key=f"petitions.remind:{kind}:{object_id}:{due.isoformat()}",
        township_id=petition.township_id,
    )


ACTORS = [overdue_sweep, remind]
