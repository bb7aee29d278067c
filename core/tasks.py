"""Tasks on dramatiq, with the database as the source of truth.

* Actors are declared with :func:`actor` (lazily: no broker exists at import
  time) and bound to the configured broker when the app is created.
* ``BROKER_URL`` unset = embedded: a StubBroker and a worker inside the serving
  process; ``redis://`` = RedisBroker; ``amqp://`` = RabbitmqBroker.
* Work that matters is recorded first with :func:`enqueue`, which writes a
  :class:`~core.models.TaskRecord` row keyed by what it is about, and sends the
  message after the commit. The actor runs the work and marks the row done in
  **one transaction** with a conditional UPDATE, so a second delivery, a second
  worker or a retry after ``kill -9`` does it once.
* :func:`resend_due` (a scheduled job and a start-up step) re-sends rows that are
  pending and were sent long enough ago: a lost message loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from flask import current_app, has_app_context
from sqlalchemy import func, select, update

from core.db import db, utcnow
from core.models import TaskRecord, TaskStatus

log = logging.getLogger(__name__)

_declared: dict[str, LazyActor] = {}


class LazyActor:
    """A dramatiq actor declared before the broker exists.

    ``durable=True`` actors receive a task id: call them through :func:`enqueue`.
    Plain actors are sent directly with :meth:`send` (used for nudges only).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        actor_name: str,
        queue_name: str,
        durable: bool,
        options: dict[str, Any],
    ):
        self.fn = fn
        self.actor_name = actor_name
        self.queue_name = queue_name
        self.durable = durable
        self.options = options
        self._actor: dramatiq.Actor | None = None
        self._by_broker: dict[int, dramatiq.Actor] = {}

    def bind(self, broker: dramatiq.Broker) -> dramatiq.Actor:
        target = self.fn
        if self.durable:

            def target(task_id: int, _fn=self.fn, _name=self.actor_name):
                return _run_durable(_fn, _name, task_id)

        actor = dramatiq.Actor(
            target,
            actor_name=self.actor_name,
            queue_name=self.queue_name,
            priority=0,
            broker=broker,
            options=dict(self.options),
        )
        self._by_broker[id(broker)] = actor
        self._actor = actor
        return actor

    @property
    def actor(self) -> dramatiq.Actor:
        """The actor bound to the current app's broker (several apps may live in one
        process, e.g. in tests); outside an app context, the last one bound."""
        if has_app_context():
            broker = current_app.extensions.get("township_broker")
            if broker is not None and id(broker) in self._by_broker:
                return self._by_broker[id(broker)]
        if self._actor is None:
            raise RuntimeError(f"actor {self.actor_name} is not bound: create the app first")
        return self._actor

    def send(self, *args, **kwargs):
        return self.actor.send(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<LazyActor {self.actor_name} on {self.queue_name}>"


def actor(
    actor_name: str, queue_name: str, *, durable: bool = True, **options: Any
) -> Callable[[Callable[..., Any]], LazyActor]:
    """Declare an actor. Durable actors receive the task's ``args`` as keyword arguments.

    Example::

        @actor("releases.publish", queue_name="releases")
        def publish(release_id: int) -> None: ...
    """
    options.setdefault("max_retries", 5)
    options.setdefault("min_backoff", 1000)
    options.setdefault("max_backoff", 60_000)
    options.setdefault("time_limit", 10 * 60 * 1000)

    def decorate(fn: Callable[..., Any]) -> LazyActor:
        lazy = LazyActor(fn, actor_name, queue_name, durable, options)
        _declared[actor_name] = lazy
        return lazy

    return decorate


# ---------------------------------------------------------------------------
# Broker
# ---------------------------------------------------------------------------


class AppContextMiddleware(Middleware):
    """Every message is processed inside an app context of the app that bound it."""

    def __init__(self, app):
        self.app = app
        self._local = threading.local()

    def before_process_message(self, broker, message):
        ctx = self.app.app_context()
        ctx.push()
        self._local.ctx = ctx

    def after_process_message(self, broker, message, *, result=None, exception=None):
        ctx = getattr(self._local, "ctx", None)
        if ctx is not None:
            db.session.remove()
            ctx.pop()
            self._local.ctx = None

    after_skip_message = after_process_message


def make_broker(url: str | None) -> dramatiq.Broker:
    """The broker the URL names (``None`` = embedded StubBroker)."""
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
        return broker
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, heartbeat_timeout=20_000, dead_message_ttl=86_400_000)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ValueError(f"BROKER_URL must start with redis:// or amqp://, not {url!r}")


def init_broker(app, actors: list[LazyActor]) -> dramatiq.Broker:
    """Create the app's broker, bind the core's and the plugins' actors to it."""
    broker = make_broker(app.config.get("BROKER_URL"))
    broker.add_middleware(AppContextMiddleware(app))
    dramatiq.set_broker(broker)
    bound = {}
    for lazy in actors:
        lazy.bind(broker)
        bound[lazy.actor_name] = lazy
    app.extensions["township_broker"] = broker
    app.extensions["township"].actors = bound
    return broker


def broker() -> dramatiq.Broker:
    return current_app.extensions["township_broker"]


def is_embedded(app=None) -> bool:
    return not (app or current_app).config.get("BROKER_URL")


def start_embedded_worker(app, threads: int | None = None) -> dramatiq.Worker:
    """A worker inside this process (the embedded mode, and tests)."""
    worker = dramatiq.Worker(
        app.extensions["township_broker"],
        worker_threads=threads or app.config["EMBEDDED_WORKER_THREADS"],
        worker_timeout=100,
    )
    worker.start()
    return worker


# ---------------------------------------------------------------------------
# Durable work
# ---------------------------------------------------------------------------


def enqueue(actor_name: str, key: str, *, send: bool = True, **args: Any) -> TaskRecord:
    """Record that ``actor_name(**args)`` is due, once per ``key``, and send it after commit.

    Adds the row to the current session; the caller commits. Enqueueing a key
    that already exists returns the existing row and sends nothing new.
    """
    lazy = current_app.extensions["township"].actors.get(actor_name)
    if lazy is None:
        raise KeyError(f"no actor called {actor_name!r}")
    existing = db.session.scalar(select(TaskRecord).where(TaskRecord.key == key))
    if existing is not None:
        return existing
    record = TaskRecord(actor_name=actor_name, queue_name=lazy.queue_name, key=key, args=args)
    db.session.add(record)
    db.session.flush()
    if send:
        pending = db.session().info.setdefault("township_send_after_commit", [])
        pending.append((lazy, record.id))
    return record


def _flush_sends(session) -> None:
    """After a commit, send the messages of the tasks it recorded.

    No SQL here (the session is between transactions): if a send fails the row
    stays pending with no ``sent_at`` and the sweep sends it.
    """
    for lazy, task_id in session.info.pop("township_send_after_commit", []):
        try:
            lazy.send(task_id)
        except Exception:
            log.exception(
                "could not send task %s (%s); the sweep will retry", task_id, lazy.actor_name
            )


def _discard_sends(session) -> None:
    session.info.pop("township_send_after_commit", None)


def send_task(app, task_id: int) -> bool:
    """Send the message for a task row; failures are logged, the sweep retries."""
    state = app.extensions["township"]
    with app.app_context():
        record = db.session.get(TaskRecord, task_id)
        if record is None or record.status != TaskStatus.pending:
            return False
        lazy = state.actors.get(record.actor_name)
        if lazy is None:
            log.error("task %s names an unknown actor %s", task_id, record.actor_name)
            return False
        try:
            lazy.send(task_id)
        except Exception:  # the broker may be down: the sweep sends it again
            log.exception(
                "could not send task %s (%s); the sweep will retry", task_id, record.actor_name
            )
            return False
        db.session.execute(
            update(TaskRecord).where(TaskRecord.id == task_id).values(sent_at=utcnow())
        )
        db.session.commit()
        return True


def _run_durable(fn: Callable[..., Any], actor_name: str, task_id: int) -> None:
    """Run a durable task's work and mark it done, in one transaction, once."""
    record = db.session.get(TaskRecord, task_id)
    if record is None:
        log.warning("%s: task %s is gone", actor_name, task_id)
        return
    if record.status != TaskStatus.pending:
        log.info("%s: task %s is already %s", actor_name, task_id, record.status)
        db.session.rollback()
        return
    args = dict(record.args)
    try:
        fn(**args)
        done = db.session.execute(
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.status == TaskStatus.pending)
            .values(status=TaskStatus.done, done_at=utcnow(), attempts=TaskRecord.attempts + 1)
        )
        if done.rowcount != 1:
            # someone else finished it first: undo our copy of the work
            db.session.rollback()
            log.info("%s: task %s was done by another worker", actor_name, task_id)
            return
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        db.session.execute(
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.status == TaskStatus.pending)
            .values(attempts=TaskRecord.attempts + 1, last_error=repr(exc)[:2000])
        )
        db.session.commit()
        raise


def resend_due(app, grace_seconds: int | None = None) -> int:
    """Send again every pending task not sent, or sent longer than the grace ago."""
    grace = app.config["SWEEP_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    with app.app_context():
        cutoff = utcnow() - timedelta(seconds=grace)
        ids = db.session.scalars(
            select(TaskRecord.id)
            .where(
                TaskRecord.status == TaskStatus.pending,
                func.coalesce(TaskRecord.sent_at, TaskRecord.created_at) < cutoff,
            )
            .order_by(TaskRecord.id)
            .limit(1000)
        ).all()
        db.session.remove()
    sent = sum(send_task(app, task_id) for task_id in ids)
    if sent:
        log.info("sweep: sent %d pending task(s) again", sent)
    return sent


def declared_actors() -> dict[str, LazyActor]:
    return dict(_declared)


def install_session_hooks() -> None:
    """Send queued messages after a commit; drop them on rollback."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if getattr(install_session_hooks, "_done", False):
        return
    event.listen(Session, "after_commit", _flush_sends)
    event.listen(Session, "after_rollback", _discard_sends)
    install_session_hooks._done = True
