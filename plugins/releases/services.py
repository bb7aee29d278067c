"""The rules of information release (信息收集与发布) and disclosure (政务村务公开).

Plain functions over ``db.session``. Functions that finish a piece of work commit
(and would then fire hooks); the publication (:func:`publish_batch`) does **not**
commit: it runs inside the durable task, which commits it together with the task
row, once.

Who does what:

* an information officer (role ``releases_officer``, permission ``releases.write``)
  collects items, builds products, answers topic requests, ticks off channels;
* a leader approves products: anyone holding ``releases.approve`` in the township
  (declared by the plugin; by default the core's ``leader``, ``township_admin`` and
  ``county_admin`` roles; a township changes the grant under 角色与权限);
* a township administrator (``institutions.manage``) edits the release plan.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import clock
from core.access import can
from core.calendar import WorkingCalendar
from core.contract import ArchivalRecord, JobInstance
from core.db import db, utcnow
from core.institutions import townships_enabling
from core.models import Membership, OrgUnit, User
from core.notifications import notify
from core.policies import get_policy
from core.records import produce
from core.tasks import enqueue
from core.validation import InvalidInput, check_date, check_length, column_length
from plugins.releases.models import (
    CHANNEL_LABELS,
    OFFLINE_CHANNELS,
    ArchiveEntry,
    ArchiveKind,
    BatchStatus,
    ChecklistEntry,
    Disclosure,
    DisclosureCategory,
    Product,
    ProductStatus,
    ReleaseBatch,
    ReleaseChannel,
    ReleasePlan,
    TopicRequest,
    TopicStatus,
)
from plugins.releases.policy import RELEASES_PER_MONTH, TOPIC_ANSWER_DAYS
from scheduler.triggers import TriggerError, next_fire_times, parse_trigger, shortest_gap

log = logging.getLogger(__name__)

KEY = "releases"
WRITE = "releases.write"
APPROVE = "releases.approve"
#: the inbox source of products waiting for a leader
INBOX_APPROVAL = "releases.product_approval"
PLAN = "institutions.manage"
OFFICER_ROLE = "releases_officer"

DEFAULT_CRON = "0 9 1 * *"
DEFAULT_CHANNELS = [ReleaseChannel.web.value, ReleaseChannel.blackboard.value]
#: a plan may not release more often than this
MIN_GAP = timedelta(hours=1)
#: how far back the due sweep looks for a missed fire time
LOOKBACK = timedelta(days=400)

#: the rule book's disclosure categories (code, zh, en), in its order
BUILTIN_CATEGORIES = [
    ("homestead", "宅基地审批", "Homestead approvals"),
    ("timber", "林木采伐", "Timber felling"),
    ("family_planning", "计划生育指标", "Family-planning quotas"),
    ("marriage", "婚姻登记", "Marriage registration"),
    ("relief", "救灾救济款物", "Relief goods and funds"),
    ("subsidies", "国家补贴", "State subsidies"),
    ("law_enforcement", "执法", "Law enforcement"),
    ("finances", "财务", "Finances"),
]

#: photo uploads for the off-line checklist
PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
PHOTO_MAX_BYTES = 2 * 1024 * 1024


class ReleaseError(ValueError):
    """A rule of the institution refused the action; the message says why."""


def _checked(check):
    """Run a ``core.validation`` check; its refusal becomes a :class:`ReleaseError`."""
    try:
        return check()
    except InvalidInput as exc:
        raise ReleaseError(str(exc)) from None


def _fits(text: str, column_or_limit) -> str:
    """``text`` if it fits the column (or the limit); refused, never cut."""
    limit = column_or_limit if isinstance(column_or_limit, int) else column_length(column_or_limit)
    return _checked(lambda: check_length(text, limit))


# ---------------------------------------------------------------------------
# Rich text
# ---------------------------------------------------------------------------

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h3", "h4", "blockquote",
    "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def sanitize_html(text: str | None) -> str:
    """Rich text made safe for public pages (nh3: no script, no event handlers, no styles)."""
    return nh3.clean(
        text or "",
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
    )


# ---------------------------------------------------------------------------
# Release plan
# ---------------------------------------------------------------------------


def check_schedule(cron: str, timezone: str, now: datetime | None = None) -> list[datetime]:
    """Validate a plan's schedule and return its next five release times.

    Refuses (``ReleaseError``) a schedule that does not parse, an interval rule
    (``every ...``: it has no fixed calendar times), a rule that never fires,
    and one that fires more often than hourly.
    """
    cron = (cron or "").strip()
    if cron.lower().startswith("every"):
        raise ReleaseError(
            _('A release plan needs calendar times: use a crontab such as "0 9 1 * *".')
        )
    try:
        trigger = parse_trigger(cron, timezone)
    except TriggerError as exc:
        raise ReleaseError(str(exc)) from exc
    now = now or utcnow()
    times = next_fire_times(trigger, 5, now)
    if not times:
        raise ReleaseError(_("This schedule never fires: no release would ever happen."))
    gap = shortest_gap(trigger, 50, now)
    if gap is not None and gap < MIN_GAP:
        raise ReleaseError(
            _("This schedule fires more often than once an hour; releases are at most hourly.")
        )
    return times


def get_plan(township_id: int) -> ReleasePlan | None:
    return db.session.scalar(select(ReleasePlan).where(ReleasePlan.township_id == township_id))


def ensure_plan(township_id: int) -> ReleasePlan:
    """The township's plan, created with the rule book's default (monthly) if missing.

    Adds it to the session; the caller commits.
    """
    plan = get_plan(township_id)
    if plan is None:
        unit = db.session.get(OrgUnit, township_id)
        plan = ReleasePlan(
            township_id=township_id,
            cron=DEFAULT_CRON,
            timezone=(unit.timezone if unit else None) or "Asia/Shanghai",
            channels=list(DEFAULT_CHANNELS),
            active=True,
            schedule_changed_at=utcnow(),
        )
        db.session.add(plan)
        db.session.flush()
    return plan


def save_plan(
    township_id: int,
    *,
    cron: str,
    timezone: str,
    channels: list[str],
    active: bool = True,
    by: User | None = None,
) -> ReleasePlan:
    """Validate and store a township's release plan, and commit.

    The due sweep reads the plan every minute, so the new times apply at once.
    A changed schedule owes no release for fire times before the change.
    """
    check_schedule(cron, timezone)
    unknown = [c for c in channels if c not in {ch.value for ch in ReleaseChannel}]
    if unknown:
        raise ReleaseError(_("Unknown channel: %(channel)s", channel=", ".join(unknown)))
    if not channels:
        raise ReleaseError(_("Choose at least one channel."))
    plan = ensure_plan(township_id)
    if plan.cron != cron.strip() or plan.timezone != timezone:
        plan.schedule_changed_at = utcnow()
    plan.cron = cron.strip()
    plan.timezone = timezone
    plan.channels = [c.value for c in ReleaseChannel if c.value in channels]
    plan.active = active
    plan.updated_by_id = by.id if by else None
    db.session.commit()
    return plan


def next_release_times(township_id: int, count: int = 5) -> list[datetime]:
    """The plan's next release times (empty without an active, valid plan)."""
    plan = get_plan(township_id)
    if plan is None or not plan.active:
        return []
    try:
        return next_fire_times(parse_trigger(plan.cron, plan.timezone), count, utcnow())
    except TriggerError:
        return []


# ---------------------------------------------------------------------------
# Products and approval
# ---------------------------------------------------------------------------


def submit_product(product: Product, by: User | None = None) -> None:
    """An officer sends a draft product to the leaders (draft → submitted); commits.

    The leaders who may approve it (``releases.approve``) find it in their inbox and
    are told once (a notification in the same transaction).
    """
    if product.status != ProductStatus.draft:
        raise ReleaseError(_("Only a draft can be submitted for approval."))
    product.status = ProductStatus.submitted
    db.session.flush()
    _announce_submitted(product, by)
    db.session.commit()


def _announce_submitted(product: Product, by: User | None) -> None:
    from core.access import users_with
    from core.inbox import announce
    from core.links import link

    leaders = [u for u in users_with(APPROVE, product.township_id) if by is None or u.id != by.id]
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("Information product to approve: %(title)s", title=product.title)
        body = _(
            "%(name)s submitted it for the next release (audience: %(audience)s).",
            name=by.name if by else "–",
            audience=product.audience,
        )
    announce(
        leaders,
        INBOX_APPROVAL,
        product.id,
        title,
        body=body,
        township_id=product.township_id,
        link=link("releases_products.details_view", id=product.id),
    )


def approve_product(product: Product, leader: User) -> None:
    """A leader approves a product: it waits for the next release; commits.

    Leaders are holders of ``releases.approve`` in the product's township.
    """
    if not can(leader, APPROVE, product.township_id):
        raise ReleaseError(_("Only a leader of this township can approve a product."))
    if product.status not in (ProductStatus.submitted, ProductStatus.draft):
        raise ReleaseError(_("This product is not waiting for approval."))
    product.status = ProductStatus.approved
    product.approved_by_id = leader.id
    product.approved_at = utcnow()
    db.session.commit()


def return_product(product: Product, reason: str = "", by: User | None = None) -> None:
    """Send a submitted or approved (not yet released) product back to draft; commits.

    A leader sending it back says why (``reason``, required when ``by`` may approve
    and did not write it: the officers are told); the caller keeps the reason in the
    audit trail.
    """
    if product.status not in (ProductStatus.submitted, ProductStatus.approved):
        raise ReleaseError(_("Only a product that is not yet released can be sent back."))
    reason = (reason or "").strip()
    if by is not None and can(by, APPROVE, product.township_id) and not reason:
        raise ReleaseError(_("Say why the product goes back, so the officer can correct it."))
    if by is not None and reason:
        with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
            title = _("Information product sent back: %(title)s", title=product.title)
            body = _("%(name)s: %(reason)s", name=by.name, reason=reason)
        from core.links import link

        notify(
            [u for u in officers(product.township_id) if u.id != by.id],
            title,
            body,
            link=link("releases_products.details_view", id=product.id),
            key=f"releases-returned:{product.id}:{utcnow().isoformat()}",
            township_id=product.township_id,
        )
    product.status = ProductStatus.draft
    product.approved_by_id = None
    product.approved_at = None
    db.session.commit()


def withdraw_product(product: Product, reason: str, by: User | None = None) -> None:
    """Withdraw a published product (wrong information); commits.

    It leaves the public pages (its page shows a withdrawal note) and the archive
    gains a ``withdrawn`` entry with the reason; the published entry stays.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseError(_("Give the reason for the withdrawal."))
    now = utcnow()
    changed = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.status == ProductStatus.published)
        .values(status=ProductStatus.withdrawn, withdrawn_at=now, withdrawn_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise ReleaseError(_("Only a published product can be withdrawn."))
    db.session.add(
        ArchiveEntry(
            township_id=product.township_id,
            kind=ArchiveKind.withdrawn,
            batch_id=product.batch_id,
            product_id=product.id,
            title=product.title,
            audience=product.audience,
            approved_by=by.name if by else "",
            reason=reason,
            recorded_at=now,
        )
    )
    db.session.commit()
    db.session.refresh(product)


# ---------------------------------------------------------------------------
# Release batches: the due sweep and the publication
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MissedSpan:
    """The fire times of a plan in ``(after, now]``: the first, the latest and how many."""

    first: datetime | None
    latest: datetime | None
    count: int


def missed_fire_times(cron: str, timezone: str, after: datetime, now: datetime) -> MissedSpan:
    """The fire times of the schedule in ``(after, now]`` (looking back at most a year or so)."""
    trigger = _trigger(cron, timezone)
    after = max(after, now - LOOKBACK)
    fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    first = latest = None
    count = 0
    while fire is not None and fire <= now:
        first = first or fire
        latest, count = fire, count + 1
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return MissedSpan(first, latest, count)


#: parsed crontab triggers by (schedule, zone), shared by the threads of a process
_TRIGGERS: dict[tuple[str, str], CronTrigger] = {}
_TRIGGERS_KEPT = 4096


def _trigger(cron: str, timezone: str):
    """The plan's parsed trigger, parsed once per (schedule, zone) in a process.

    The due sweep reads every plan each minute: parsing 10,000 crontabs each time cost
    about a second of CPU on a worker, right when releases are due; most townships share
    a few schedules. A crontab trigger computes its fire times without changing itself,
    so one parsed object serves every thread. Only crontabs are kept (an ``every ...``
    trigger counts from the moment it was made, and a plan may not hold one anyway);
    a schedule that does not parse raises :class:`TriggerError` every time.
    """
    key = (cron, timezone)
    trigger = _TRIGGERS.get(key)
    if trigger is None:
        trigger = parse_trigger(cron, timezone)
        if isinstance(trigger, CronTrigger) and len(_TRIGGERS) < _TRIGGERS_KEPT:
            _TRIGGERS[key] = trigger
    return trigger


def _insert_batch(values: dict[str, Any]) -> int | None:
    """INSERT a batch unless (township, scheduled time) exists; its id or None."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(ReleaseBatch)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["township_id", "scheduled_for"])
        .returning(ReleaseBatch.id)
    )
    return db.session.scalar(statement)


def plan_instances() -> list[JobInstance]:
    """Each active plan of a township that enabled the institution, as a scheduler job.

    The job family ``releases.plan`` (jobs.py): the active scheduler keeps one trigger
    per plan, so a release fires at its time rather than at the next due sweep; a
    changed plan is rescheduled on the scheduler's next poll. One query.
    """
    townships = townships_enabling(KEY)
    if not townships:
        return []
    rows = db.session.execute(
        select(ReleasePlan.township_id, ReleasePlan.cron, ReleasePlan.timezone).where(
            ReleasePlan.township_id.in_(townships), ReleasePlan.active.is_(True)
        )
    ).all()
    return [
        JobInstance(str(township_id), cron, timezone, {"township_id": township_id})
        for township_id, cron, timezone in rows
    ]


def due_sweep(
    now: datetime | None = None, township_ids: list[int] | None = None, *, send: bool = True
) -> list[int]:
    """Create the release batch each township's plan owes, and enqueue its publication.

    For every township that enabled the institution and has an active plan: the
    latest fire time of the plan that is due (``<= now``) and later than both the
    last batch's scheduled time and the last schedule change. Several missed fire
    times (everything was down) coalesce into **one** late batch. A batch is
    unique per (township, scheduled time), so concurrent sweeps create it once.
    ``township_ids`` limits the sweep to those townships (a plan's own trigger).

    Each batch is committed with its publish task as soon as it is created, and its
    message goes out at that commit: a sweep over every plan (a second or more with
    10,000 plans) never holds a due release, nor a plan's own trigger creating the
    same batch (its INSERT waited for the sweep's uncommitted row), until the sweep
    ends. ``send=False`` records the publish tasks without sending them (the plan's
    own trigger runs them at once: :func:`publish_pending`). Returns the ids of the
    batches created.
    """
    now = now or utcnow()
    townships = townships_enabling(KEY)
    if township_ids is not None:
        townships = set(townships) & set(township_ids)
    if not townships:
        return []
    plans = select(
        ReleasePlan.township_id,
        ReleasePlan.cron,
        ReleasePlan.timezone,
        ReleasePlan.schedule_changed_at,
    ).where(ReleasePlan.active.is_(True))
    last_batches = select(ReleaseBatch.township_id, func.max(ReleaseBatch.scheduled_for))
    if township_ids is not None:
        # a plan's own trigger: its township only
        plans = plans.where(ReleasePlan.township_id.in_(townships))
        last_batches = last_batches.where(ReleaseBatch.township_id.in_(townships))
    # the every-minute sweep reads every plan and filters here: an IN list of every
    # enabling township (10,000 parameters) cost more to build than the query to run
    rows = [row for row in db.session.execute(plans) if row.township_id in townships]
    last = dict(db.session.execute(last_batches.group_by(ReleaseBatch.township_id)).all())
    db.session.commit()  # read only: end the transaction before the first INSERT
    created: list[int] = []
    for township_id, cron, timezone, changed_at in rows:
        after = changed_at
        previous = last.get(township_id)
        if previous is not None:
            previous = previous if previous.tzinfo else previous.replace(tzinfo=UTC)
            after = max(after, previous)
        try:
            span = missed_fire_times(cron, timezone, after, now)
        except TriggerError:
            log.error("township %s: release plan %r does not parse", township_id, cron)
            continue
        if span.latest is None:
            continue
        # the channels only of a plan that owes a release (not 10,000 JSON values a minute)
        channels = db.session.scalar(
            select(ReleasePlan.channels).where(ReleasePlan.township_id == township_id)
        )
        batch_id = _insert_batch(
            {
                "township_id": township_id,
                "scheduled_for": span.latest.astimezone(UTC),
                "first_scheduled_for": span.first.astimezone(UTC),
                "fire_times": span.count,
                "status": BatchStatus.pending,
                "channels": list(channels or []),
                "created_at": now,
                "product_count": 0,
                "empty": False,
            }
        )
        if batch_id is None:
            db.session.rollback()
            continue  # another sweep (or the plan's own trigger) created it
        enqueue("releases.publish", publish_key(batch_id), send=send, batch_id=batch_id)
        db.session.commit()  # this release is owed now: its publication goes out at once
        created.append(batch_id)
    return created


def publish_key(batch_id: int) -> str:
    """The key of a batch's durable publish task (one task per batch)."""
    return f"releases-publish:{batch_id}"


def publish_pending(township_id: int) -> int:
    """Publish the township's pending batches now, in this thread; how many were published.

    A plan's own trigger calls it right after creating its batch, so the release does
    not wait for its publish message to travel through the broker to a free worker. Each
    batch goes through its durable publish task (``core.run_tasks``: one transaction
    per task, the same conditional UPDATEs as on any worker), so a batch whose message
    is also being handled elsewhere is still published once. A task that fails here, or
    one not recorded by this call, is sent to the workers: dramatiq retries it and the
    resend sweep stays the safety net. Also picks up a batch left pending by a worker
    killed mid-publication, when the plan's nudge is delivered again.
    """
    from core.models import TaskRecord, TaskStatus
    from core.tasks import run_tasks

    batches = db.session.scalars(
        select(ReleaseBatch.id).where(
            ReleaseBatch.township_id == township_id,
            ReleaseBatch.status == BatchStatus.pending,
        )
    ).all()
    if not batches:
        db.session.rollback()
        return 0
    task_ids = db.session.scalars(
        select(TaskRecord.id)
        .where(
            TaskRecord.key.in_([publish_key(b) for b in batches]),
            TaskRecord.status == TaskStatus.pending,
        )
        .order_by(TaskRecord.id)
    ).all()
    db.session.rollback()
    if not task_ids:
        return 0
    run_tasks(task_ids)
    still = db.session.scalars(
        select(TaskRecord.id).where(
            TaskRecord.id.in_(task_ids), TaskRecord.status == TaskStatus.pending
        )
    ).all()
    db.session.rollback()
    publish = current_app.extensions["township"].actors["releases.publish"]
    for task_id in still:
        try:
            publish.send(task_id)
        except Exception:  # the broker is away: the resend sweep sends it
            log.exception("could not send the publish task %s; the sweep will", task_id)
    return len(task_ids) - len(still)


def approved_waiting(township_id: int) -> int:
    """How many approved products wait for the next release (one query)."""
    return (
        db.session.scalar(
            select(func.count(Product.id)).where(
                Product.township_id == township_id, Product.status == ProductStatus.approved
            )
        )
        or 0
    )


def release_now(township_id: int, by: User | None = None, now: datetime | None = None) -> int:
    """An urgent one-off release: a batch scheduled for now through the same path as the
    due sweep (a row unique per township and time, then the durable ``releases.publish``
    task, which publishes once); commits. Refused when nothing approved is waiting."""
    if not approved_waiting(township_id):
        raise ReleaseError(_("No approved product is waiting: approve one first."))
    plan = ensure_plan(township_id)
    now = now or utcnow()
    batch_id = _insert_batch(
        {
            "township_id": township_id,
            "scheduled_for": now,
            "first_scheduled_for": now,
            "fire_times": 1,
            "status": BatchStatus.pending,
            "channels": list(plan.channels or []),
            "created_at": now,
            "product_count": 0,
            "empty": False,
        }
    )
    if batch_id is None:
        raise ReleaseError(_("A release was started this very moment; look at the batches."))
    enqueue("releases.publish", publish_key(batch_id), batch_id=batch_id)
    db.session.commit()
    return batch_id


def publish_batch(batch_id: int, now: datetime | None = None) -> bool:
    """Publish every approved product of the batch's township, once. Does not commit.

    Guarded twice, both by conditional UPDATEs:

    * the batch: ``UPDATE ... SET status='published' WHERE status='pending'``; the
      loser of a race (second worker, repeated message) matches no row and does
      nothing;
    * each product: ``UPDATE ... SET status='published', batch_id=... WHERE
      status='approved' RETURNING id`` claims the products. Two *different* batches
      of one township publishing at the same time (a batch still being retried
      when the next comes due, or a plan changed while a batch was pending)
      therefore never publish a product twice: on PostgreSQL the second UPDATE
      waits for the first transaction's row locks and then finds those rows no
      longer approved; SQLite lets one writer at a time.

    Everything (products, archive, empty-release notice) is written in the
    caller's transaction, so a crash mid-way leaves the batch pending and the
    re-sent task does the whole release. Lateness is counted from the batch's
    first missed fire time (``first_scheduled_for``) when several were coalesced.
    Returns whether this call published it.
    """
    now = now or utcnow()
    won = db.session.execute(
        update(ReleaseBatch)
        .where(ReleaseBatch.id == batch_id, ReleaseBatch.status == BatchStatus.pending)
        .values(status=BatchStatus.published, published_at=now)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        return False
    batch = db.session.execute(
        select(ReleaseBatch)
        .where(ReleaseBatch.id == batch_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    claimed = (
        db.session.execute(
            update(Product)
            .where(
                Product.township_id == batch.township_id,
                Product.status == ProductStatus.approved,
            )
            .values(status=ProductStatus.published, batch_id=batch.id, published_at=now)
            .returning(Product.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    products = (
        db.session.scalars(
            select(Product)
            .where(Product.id.in_(claimed))
            .options(selectinload(Product.approved_by))
            .order_by(Product.approved_at, Product.id)
            .execution_options(populate_existing=True)
        ).all()
        if claimed
        else []
    )
    archive_release(batch, products, now)
    hand_to_archives(batch, products, now)
    batch.product_count = len(products)
    batch.empty = not products
    batch.lateness_seconds = lateness_seconds(batch, now)
    if not products:
        _notify_empty_release(batch)
    db.session.flush()
    return True


def lateness_seconds(batch: ReleaseBatch, published_at: datetime) -> int:
    """Seconds from the batch's first owed fire time to its publication (never negative).

    A batch that coalesced the missed 18:00 and 19:00 releases and went out at 19:04
    is 64 minutes late, not 4: the 18:00 release is the one citizens waited for.
    """
    first = batch.first_scheduled_for or batch.scheduled_for
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    return max(0, int((published_at - first).total_seconds()))


def archive_release(batch: ReleaseBatch, products: list[Product], now: datetime) -> None:
    """Append the batch's archive entries: one per product, or one ``empty`` entry."""
    if not products:
        db.session.add(
            ArchiveEntry(
                township_id=batch.township_id,
                kind=ArchiveKind.empty,
                batch_id=batch.id,
                channels=list(batch.channels or []),
                reason="no approved product",
                recorded_at=now,
            )
        )
        return
    for product in products:
        db.session.add(
            ArchiveEntry(
                township_id=batch.township_id,
                kind=ArchiveKind.published,
                batch_id=batch.id,
                product_id=product.id,
                title=product.title,
                audience=product.audience,
                body=product.body,
                approved_by=product.approved_by.name if product.approved_by else "",
                channels=list(batch.channels or []),
                recorded_at=now,
            )
        )


def hand_to_archives(batch: ReleaseBatch, products: list[Product], now: datetime) -> None:
    """Offer the release to the archives institution, if the township enabled one
    (the ``township_record_produced`` hook; in the publishing transaction)."""
    township = db.session.get(OrgUnit, batch.township_id)
    # the record is filed once, in the township's language (not the publisher's)
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _(
            "%(township)s: information release of %(month)s",
            township=township.name,
            month=f"{batch.scheduled_for:%Y-%m}",
        )
        empty = _("(empty release)")
    titles = "; ".join(p.title for p in products) or empty
    record = ArchivalRecord(
        source="releases",
        reference=f"release-batch:{batch.id}",
        kind="release",
        title=title,
        produced_at=now,
        summary=titles[:2000],
        responsible=township.name,
        class_hint="releases",
        retention_hint="30y",
        content=archive_content(batch, products),
    )
    produce(township, record)


def archive_content(batch: ReleaseBatch, products: list[Product]) -> str:
    """The release as published: each product's title, audience and (sanitised) body."""
    from markupsafe import Markup, escape

    parts = [
        Markup("<article><h2>{}</h2><p>{}</p>{}</article>").format(
            product.title, product.audience or "", Markup(product.body or "")
        )
        for product in products
    ]
    # frozen for the archive: channels by their Chinese names, never as codes
    channels = "、".join(
        CHANNEL_LABELS[ReleaseChannel(code)][0] if code in ReleaseChannel.__members__ else code
        for code in batch.channels or []
    )
    return str(Markup("<p>{}</p>").format(channels) + Markup("").join(parts) or escape(""))


def officers(township_id: int) -> list[User]:
    """Information officers of the township (and its administrators), in one query."""
    units = select(OrgUnit.id).where(OrgUnit.township_id == township_id)
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.role.in_((OFFICER_ROLE, "township_admin")),
                or_(Membership.org_unit_id == township_id, Membership.org_unit_id.in_(units)),
            )
            .distinct()
        )
    )


def _notify_empty_release(batch: ReleaseBatch) -> None:
    with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
        title = _("Empty release: no approved information product was queued")
        body = _(
            "The release scheduled for %(when)s published nothing. "
            "Approve products before the next release.",
            when=f"{batch.scheduled_for:%Y-%m-%d %H:%M} UTC",
        )
    notify(
        officers(batch.township_id),
        title,
        body,
        key=f"releases-empty:{batch.id}",
        township_id=batch.township_id,
    )


# ---------------------------------------------------------------------------
# Off-line channel checklist
# ---------------------------------------------------------------------------


def check_photo(data: bytes | None, content_type: str | None) -> tuple[bytes | None, str | None]:
    """Accept a JPEG or PNG photo up to 2 MB (declared type and file signature must agree)."""
    if not data:
        return None, None
    if len(data) > PHOTO_MAX_BYTES:
        raise ReleaseError(_("The photo is larger than 2 MB."))
    signature = PHOTO_TYPES.get((content_type or "").lower())
    if signature is None or not data.startswith(signature):
        raise ReleaseError(_("The photo must be a JPEG or PNG image."))
    return data, content_type.lower()


def record_channel_done(
    batch: ReleaseBatch,
    channel: str,
    done_on: date,
    *,
    by: User | None = None,
    note: str = "",
    photo: bytes | None = None,
    photo_type: str | None = None,
) -> ChecklistEntry:
    """Record that an off-line channel of a published batch was done; commits."""
    if batch.status != BatchStatus.published:
        raise ReleaseError(_("This release is not published yet."))
    if channel not in batch.channels or ReleaseChannel(channel) not in OFFLINE_CHANNELS:
        raise ReleaseError(_("This release does not use that off-line channel."))
    if done_on > clock.today(batch.township_id):
        raise ReleaseError(_("The date cannot be in the future."))
    _checked(lambda: check_date(done_on, township=batch.township_id, past=True))
    photo, photo_type = check_photo(photo, photo_type)
    entry = db.session.scalar(
        select(ChecklistEntry).where(
            ChecklistEntry.batch_id == batch.id, ChecklistEntry.channel == channel
        )
    )
    if entry is None:
        entry = ChecklistEntry(township_id=batch.township_id, batch_id=batch.id, channel=channel)
        db.session.add(entry)
    entry.done_on = done_on
    entry.note = _fits(note or "", ChecklistEntry.note)
    entry.done_by_id = by.id if by else None
    if photo is not None:
        entry.photo = photo
        entry.photo_type = photo_type
    entry.recorded_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError as exc:  # two officers ticked the same channel at once
        db.session.rollback()
        raise ReleaseError(_("Someone recorded this channel just now; reload.")) from exc
    return entry


def checklist(batch: ReleaseBatch) -> list[tuple[str, tuple[str, str], ChecklistEntry | None]]:
    """(channel, labels, entry or None) for each off-line channel of the batch."""
    entries = {
        e.channel.value: e
        for e in db.session.scalars(
            select(ChecklistEntry).where(ChecklistEntry.batch_id == batch.id)
        )
    }
    return [
        (c, CHANNEL_LABELS[ReleaseChannel(c)], entries.get(c))
        for c in batch.channels or []
        if ReleaseChannel(c) in OFFLINE_CHANNELS
    ]


# ---------------------------------------------------------------------------
# Disclosure board
# ---------------------------------------------------------------------------


def ensure_categories(township_id: int) -> None:
    """Create the rule book's categories for the township if missing (caller commits)."""
    have = set(
        db.session.scalars(
            select(DisclosureCategory.builtin).where(
                DisclosureCategory.township_id == township_id,
                DisclosureCategory.builtin.is_not(None),
            )
        )
    )
    for position, (code, zh, _en) in enumerate(BUILTIN_CATEGORIES):
        if code not in have:
            db.session.add(
                DisclosureCategory(
                    township_id=township_id, name=zh, builtin=code, position=position
                )
            )
    db.session.flush()


# ---------------------------------------------------------------------------
# Topic requests (点题公开)
# ---------------------------------------------------------------------------

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def make_topic_receipt(township: OrgUnit, today: date) -> str:
    token = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"{township.code.upper()[:8]}-T{today:%y%m%d}-{token}"


def topic_answer_days(township_id: int) -> int:
    """Working days the township gives itself to answer a topic request (policy)."""
    return int(get_policy(township_id, TOPIC_ANSWER_DAYS))


def topic_due_date(township_id: int, submitted_on: date) -> date:
    """The answer is due the policy's number of working days after the submission."""
    days = int(get_policy(township_id, TOPIC_ANSWER_DAYS))
    return WorkingCalendar.for_township(township_id).add_working_days(submitted_on, days).due


def submit_topic_request(
    township: OrgUnit, topic: str, details: str = "", contact: str = "", today: date | None = None
) -> TopicRequest:
    """A citizen asks for a topic to be disclosed: a receipt number and a due date; commits."""
    topic = (topic or "").strip()
    if not topic:
        raise ReleaseError(_("Say which topic should be disclosed."))
    today = today or clock.today(township)
    request = TopicRequest(
        township_id=township.id,
        receipt_no=make_topic_receipt(township, today),
        topic=_fits(topic, TopicRequest.topic),
        details=_fits((details or "").strip(), 4000),
        contact=_fits((contact or "").strip(), TopicRequest.contact),
        submitted_on=today,
        due_on=topic_due_date(township.id, today),
        status=TopicStatus.open,
    )
    db.session.add(request)
    db.session.commit()
    return request


def find_topic_request(township_id: int, receipt: str) -> TopicRequest | None:
    return db.session.scalar(
        select(TopicRequest).where(
            TopicRequest.township_id == township_id,
            TopicRequest.receipt_no == (receipt or "").strip().upper(),
        )
    )


def answer_topic_request(
    request: TopicRequest,
    by: User,
    *,
    disclosure: Disclosure | None = None,
    decline_reason: str = "",
    answer: str = "",
) -> None:
    """Staff answer a topic request by disclosing (a linked board entry) or declining
    with a reason. Guarded by the request being open; commits."""
    decline_reason = (decline_reason or "").strip()
    if disclosure is None and not decline_reason:
        raise ReleaseError(_("Link the disclosure, or give the reason for declining."))
    if disclosure is not None and disclosure.township_id != request.township_id:
        raise ReleaseError(_("That disclosure belongs to another township."))
    values: dict[str, Any] = {
        "answered_at": utcnow(),
        "answered_by_id": by.id,
    }
    if disclosure is not None:
        values |= {
            "status": TopicStatus.disclosed,
            "disclosure_id": disclosure.id,
            "answer": _fits((answer or "").strip(), 4000),
        }
    else:
        values |= {"status": TopicStatus.declined, "answer": _fits(decline_reason, 4000)}
    changed = db.session.execute(
        update(TopicRequest)
        .where(TopicRequest.id == request.id, TopicRequest.status == TopicStatus.open)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise ReleaseError(_("This request has already been answered."))
    db.session.commit()
    db.session.refresh(request)


def remind_overdue_topics(today: date | None = None) -> int:
    """Notify the officers once per due date of every open topic request past due; commits."""
    open_topics = TopicRequest.status == TopicStatus.open
    if today is None:
        ids = set(
            db.session.scalars(select(TopicRequest.township_id).where(open_topics).distinct())
        )
        past_due = clock.before_today(TopicRequest.due_on, TopicRequest.township_id, ids)
    else:
        past_due = TopicRequest.due_on < today
    overdue = db.session.scalars(
        select(TopicRequest).where(
            open_topics,
            past_due,
            or_(
                TopicRequest.reminded_for.is_(None),
                TopicRequest.reminded_for != TopicRequest.due_on,
            ),
        )
    ).all()
    staff: dict[int, list[User]] = {}
    for request in overdue:
        if request.township_id not in staff:
            staff[request.township_id] = officers(request.township_id)
        with force_locale(current_app.config.get("DEFAULT_LOCALE", "zh_CN")):
            title = _("Topic request overdue: %(receipt)s", receipt=request.receipt_no)
            body = _("“%(topic)s” was due on %(due)s.", topic=request.topic, due=request.due_on)
        notify(
            staff[request.township_id],
            title,
            body,
            key=f"releases-topic-overdue:{request.id}:{request.due_on}",
            township_id=request.township_id,
        )
        request.reminded_for = request.due_on
    db.session.commit()
    return len(overdue)


# ---------------------------------------------------------------------------
# Public queries, dashboard, compliance
# ---------------------------------------------------------------------------

PAGE_SIZE = 20


@dataclass
class Page:
    rows: list
    page: int
    pages: int
    total: int


def _paged(query, count_query, page: int, size: int = PAGE_SIZE) -> Page:
    total = db.session.scalar(count_query) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = db.session.scalars(query.limit(size).offset((page - 1) * size)).all()
    return Page(rows, page, pages, total)


def published_products(township_id: int, page: int = 1, q: str = "") -> Page:
    """Published products, newest first, a page at a time (two queries); ``q`` searches."""
    where = [Product.township_id == township_id, Product.status == ProductStatus.published]
    q = (q or "").strip()[:100]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            or_(
                Product.title.ilike(like, escape="\\"),
                Product.audience.ilike(like, escape="\\"),
                Product.body.ilike(like, escape="\\"),
            )
        )
    query = select(Product).where(*where).order_by(Product.published_at.desc(), Product.id.desc())
    return _paged(query, select(func.count(Product.id)).where(*where), page)


def recently_withdrawn(township_id: int, limit: int = 5) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.township_id == township_id, Product.status == ProductStatus.withdrawn)
            .order_by(Product.withdrawn_at.desc())
            .limit(limit)
        )
    )


def feed_products(township_id: int, limit: int = 50) -> list[Product]:
    return list(
        db.session.scalars(
            select(Product)
            .where(Product.township_id == township_id, Product.status == ProductStatus.published)
            .order_by(Product.published_at.desc(), Product.id.desc())
            .limit(limit)
        )
    )


def month_bounds(today: date, timezone: str) -> tuple[datetime, datetime]:
    """The township's current month as UTC instants [start, end)."""
    tz = ZoneInfo(timezone)
    start = datetime(today.year, today.month, 1, tzinfo=tz)
    end = datetime(today.year + (today.month == 12), today.month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass
class Compliance:
    releases: int
    required: int
    empty: int

    @property
    def met(self) -> bool:
        return self.releases >= self.required


def monthly_compliance(townships: list[OrgUnit]) -> dict[int, Compliance]:
    """Releases with content in each township's current month (by its own today and zone)
    against the policy (每月发布一次), by township id, in one query."""
    if not townships:
        return {}
    months: dict[tuple[datetime, datetime], list[int]] = {}
    for township in townships:
        bounds = month_bounds(clock.today(township), township.timezone or "Asia/Shanghai")
        months.setdefault(bounds, []).append(township.id)
    counts: dict[int, dict[bool, int]] = {t.id: {} for t in townships}
    for tid, empty, n in db.session.execute(
        select(ReleaseBatch.township_id, ReleaseBatch.empty, func.count(ReleaseBatch.id))
        .where(
            ReleaseBatch.status == BatchStatus.published,
            or_(
                *(
                    and_(
                        ReleaseBatch.township_id.in_(ids),
                        ReleaseBatch.published_at >= start,
                        ReleaseBatch.published_at < end,
                    )
                    for (start, end), ids in months.items()
                )
            ),
        )
        .group_by(ReleaseBatch.township_id, ReleaseBatch.empty)
    ):
        counts[tid][bool(empty)] = n
    return {
        t.id: Compliance(
            releases=counts[t.id].get(False, 0),
            required=int(get_policy(t.id, RELEASES_PER_MONTH)),
            empty=counts[t.id].get(True, 0),
        )
        for t in townships
    }


def open_topic_summary(township_ids: list[int]) -> dict[int, tuple[int, date | None]]:
    """How many topic requests each township has open and the earliest due date, by
    township id (one query)."""
    summary: dict[int, tuple[int, date | None]] = {tid: (0, None) for tid in township_ids}
    if not summary:
        return summary
    for tid, count, first_due in db.session.execute(
        select(TopicRequest.township_id, func.count(TopicRequest.id), func.min(TopicRequest.due_on))
        .where(TopicRequest.township_id.in_(summary), TopicRequest.status == TopicStatus.open)
        .group_by(TopicRequest.township_id)
    ):
        summary[tid] = (count or 0, first_due)
    return summary
