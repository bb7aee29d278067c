"""Actors of the training institution: the month-end nudge and the durable reminders."""

from __future__ import annotations

import contextlib

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from core.db import db
from core.models import User
from core.notifications import notify
from core.tasks import actor
from plugins.training.models import TrainingLearner
from plugins.training.services import record_reminders, training_officers


def _link(endpoint: str, **values) -> str | None:
    # BuildError: the admin site is not mounted (e.g. a worker-only app)
    with current_app.test_request_context(), contextlib.suppress(BuildError):
        return url_for(endpoint, **values)
    return None


@actor("training.month_end", queue_name="training", durable=False, max_retries=0)
def month_end() -> None:
    """Scheduled nudge (default the 25th): record this month's reminders (idempotent)."""
    record_reminders()


@actor("training.remind", queue_name="training")
def remind(township_id: int, learner_id: int, month: str, hours: float, missing: float) -> None:
    """Tell a learner (if they have an account) how many class hours the month still needs."""
    learner = db.session.get(TrainingLearner, learner_id)
    if learner is None or learner.user_id is None:
        return
    user = db.session.get(User, learner.user_id)
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        title = _(
            "Self-study %(month)s: %(missing)s class hours missing",
            month=month,
            missing=f"{missing:g}",
        )
        body = _("You have logged %(hours)s class hours this month.", hours=f"{hours:g}")
    notify(
        [user],
        title,
        body,
        link=_link("training_my_record.index"),
        key=f"training-remind:{township_id}:{month}:{learner_id}",
        township_id=township_id,
    )


@actor("training.remind_officers", queue_name="training")
def remind_officers(township_id: int, month: str, names: list[str]) -> None:
    """Tell the township's training officers who is behind on self-study hours."""
    with force_locale(current_app.config["DEFAULT_LOCALE"]):
        title = _("Self-study %(month)s: %(n)s learners behind", month=month, n=len(names))
        body = ", ".join(names[:50]) + (" …" if len(names) > 50 else "")
    notify(
        training_officers(township_id),
        title,
        body,
        link=_link("training_compliance.index", township=township_id),
        key=f"training-remind-officers:{township_id}:{month}",
        township_id=township_id,
    )


ACTORS = [month_end, remind, remind_officers]
