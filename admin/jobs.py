"""Scheduled jobs: the trigger in force, next and last run, and the admin's override.

An override is a core :class:`~core.models.JobSchedule` row; the running scheduler
picks it up. The edit page previews the next five fire times before saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, func, select

from admin.audit import record_audit
from admin.views import TownshipBaseView
from core.contract import JobSpec
from core.db import db
from core.models import JobRun, JobSchedule
from core.plugins import state
from scheduler.triggers import TriggerError, next_fire_times, parse_trigger

MANAGE = "jobs.manage"


@dataclass
class JobRow:
    spec: JobSpec
    trigger: str
    timezone: str
    enabled: bool
    overridden: bool
    next_run: datetime | None
    last_run: JobRun | None
    error: str | None = None


def next_run(trigger: str, timezone: str) -> tuple[datetime | None, str | None]:
    try:
        times = next_fire_times(parse_trigger(trigger, timezone), 1)
    except TriggerError as exc:
        return None, str(exc)
    return (times[0] if times else None), None


#: skipped runs listed on the page
SKIPPED_SHOWN = 20

#: why a due time was skipped, in words (scheduler.runner's reason codes)
SKIP_REASON_LABELS = {
    "missed": _l("Missed: it passed its grace time before a scheduler could fire it"),
    "coalesced": _l("Coalesced: owed together with a later due time, which fired once for both"),
    "max_instances": _l("The previous run was still going (maximum running instances reached)"),
    "takeover": _l("The scheduler that owed it stopped before firing it"),
    "no_actor": _l("The job is no longer declared by any plugin"),
    "failed": _l("Firing it failed (the database or the broker was away)"),
}


def skipped_runs(limit: int = SKIPPED_SHOWN) -> list[tuple[JobRun, str]]:
    """The latest due times recorded as skipped, with their reason in words (one query)."""
    from scheduler.runner import SKIPPED, skip_reason

    rows = db.session.scalars(
        select(JobRun)
        .where(JobRun.outcome == SKIPPED)
        .order_by(JobRun.scheduled_for.desc(), JobRun.id.desc())
        .limit(limit)
    )
    return [
        (run, str(SKIP_REASON_LABELS.get(skip_reason(run.message) or "", run.message or "")))
        for run in rows
    ]


def job_rows() -> list[JobRow]:
    """Every declared job with its schedule in force and last run, in two queries."""
    overrides = {row.job_id: row for row in db.session.scalars(select(JobSchedule))}
    latest = select(func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    runs = {
        run.job_id: run
        for run in db.session.scalars(select(JobRun).where(JobRun.id.in_(select(latest.c.id))))
    }
    rows = []
    for job_id, spec in sorted(state().jobs.items()):
        override = overrides.get(job_id)
        trigger = override.trigger if override else spec.trigger
        timezone = override.timezone if override else spec.timezone
        upcoming, error = next_run(trigger, timezone)
        rows.append(
            JobRow(
                spec=spec,
                trigger=trigger,
                timezone=timezone,
                enabled=override.enabled if override else True,
                overridden=override is not None,
                next_run=upcoming,
                last_run=runs.get(job_id),
                error=error,
            )
        )
    return rows


def label_of_job(spec: JobSpec) -> str:
    from core.app import current_locale

    return spec.label_en if current_locale() == "en" and spec.label_en else spec.label


class JobsView(TownshipBaseView):
    """County administrators only (``jobs.manage``)."""

    permission_read = MANAGE

    @expose("/")
    def index(self):
        return self.render("admin/township/jobs.html", rows=job_rows(), skipped=skipped_runs())

    def _spec(self) -> JobSpec:
        spec = state().jobs.get(request.values.get("id", ""))
        if spec is None:
            abort(404)
        return spec

    @expose("/edit/", methods=("GET", "POST"))
    def edit(self):
        """GET shows the form; POST ``preview`` lists five fire times; POST ``save`` stores."""
        spec = self._spec()
        override = db.session.get(JobSchedule, spec.id)
        trigger = override.trigger if override else spec.trigger
        timezone = override.timezone if override else spec.timezone
        enabled = override.enabled if override else True
        preview: list[datetime] = []
        error = None
        status = 200
        if request.method == "POST":
            trigger = (request.form.get("trigger") or "").strip()
            timezone = (request.form.get("timezone") or "").strip() or spec.timezone
            enabled = request.form.get("enabled") == "1"
            try:
                parsed = parse_trigger(trigger, timezone)
                preview = next_fire_times(parsed, 5)
            except TriggerError as exc:
                error = str(exc)
                status = 400
            if error is None and "save" in request.form:
                before = (
                    {
                        "trigger": override.trigger,
                        "timezone": override.timezone,
                        "enabled": override.enabled,
                    }
                    if override
                    else {"trigger": spec.trigger, "timezone": spec.timezone, "enabled": True}
                )
                if override is None:
                    override = JobSchedule(job_id=spec.id)
                    db.session.add(override)
                override.trigger = trigger
                override.timezone = timezone
                override.enabled = enabled
                override.updated_by_id = current_user.id
                record_audit(
                    "update",
                    "JobSchedule",
                    spec.id,
                    before=before,
                    after={"trigger": trigger, "timezone": timezone, "enabled": enabled},
                )
                db.session.commit()
                flash(_("The schedule of %(job)s is saved.", job=label_of_job(spec)), "success")
                return redirect(url_for(".index"), 303)
            if error:
                flash(_("The schedule was not saved: %(error)s", error=error), "danger")
        return self.render(
            "admin/township/job_edit.html",
            spec=spec,
            trigger=trigger,
            timezone=timezone,
            enabled=enabled,
            overridden=override is not None,
            preview=preview,
            error=error,
        ), status

    @expose("/reset/", methods=("POST",))
    def reset(self):
        spec = self._spec()
        override = db.session.get(JobSchedule, spec.id)
        if override is not None:
            before: dict[str, Any] = {
                "trigger": override.trigger,
                "timezone": override.timezone,
                "enabled": override.enabled,
            }
            db.session.execute(delete(JobSchedule).where(JobSchedule.job_id == spec.id))
            record_audit(
                "delete",
                "JobSchedule",
                spec.id,
                before=before,
                after={"trigger": spec.trigger, "timezone": spec.timezone, "enabled": True},
            )
            db.session.commit()
        flash(_("%(job)s runs on its default schedule again.", job=label_of_job(spec)), "success")
        return redirect(url_for(".index"), 303)
