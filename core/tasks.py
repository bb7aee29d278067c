"""Tasks on dramatiq, with the database as the source of truth.

* Actors are declared with :func:`actor` (lazily: no broker exists at import
  time) and bound to the configured broker when the app is created. Several
  apps in one process (tests) each keep their own binding: an actor sends
  through the broker of the current app.
* ``BROKER_URL`` unset = embedded: a StubBroker and a worker inside the serving
  process; ``redis://`` = RedisBroker; ``amqp://`` = RabbitmqBroker
  (:func:`make_broker`). ``township worker`` (:mod:`core.worker`) runs workers
  on a real broker.
* Work that matters is recorded first with :func:`enqueue`, which writes a
  :class:`~core.models.TaskRecord` row keyed by what it is about, and sends the
  message after the commit (a SQLAlchemy ``after_commit`` hook; a rollback
  drops it). The actor runs the work and marks the row done in **one
  transaction** with a conditional UPDATE (``... WHERE status = 'pending'``), so a
  second delivery, a second worker or a retry after ``kill -9`` does it once.
  PostgreSQL runs that UPDATE first, as the claim (``RETURNING`` the task's args),
  then the work, then commits both: a second delivery waits for the row's lock,
  finds the task done and returns without running the work (if the first one
  failed and rolled back, the row is pending again and the second one runs it).
  SQLite, whose one write lock covers the whole database, runs the work first and
  the UPDATE after it: the loser's UPDATE matches no row and its copy of the work
  is rolled back. Durable work must therefore write only to the database session
  it is given (no commit or rollback of its own: a task whose work ends the
  transaction fails); side effects outside the database (e-mail) may repeat in the
  rare case of a crash between sending and committing.
* :func:`resend_due` (the ``core.resend_sweep`` job every ``SWEEP_SECONDS``, and
  a start-up step of ``township serve`` and of the active scheduler) re-sends
  rows that are pending and were sent more than ``SWEEP_GRACE_SECONDS`` ago (a task
  sent again several times waits longer, up to eight graces: :func:`resend_wait`): a
  lost message, a killed worker or a broker restart loses nothing.

Recovery after a worker is killed (``kill -9``): RabbitMQ returns the unacked
message as soon as the worker's connection drops. Redis keeps it in the dead
worker's in-flight set until another worker's maintenance pass sees that the dead
one sent no heartbeat for ``BROKER_HEARTBEAT_TIMEOUT_SECONDS`` (10 s by default)
and puts its messages back on their queues; maintenance runs on one broker command
in four here (dramatiq's default, one in a thousand, could take minutes on an idle
queue), so a killed worker's task runs again about 10–15 s later. The trade-off: a
live worker heartbeats on every broker command, about once a second per queue it
listens to while it has a free thread; a worker whose every thread stays busy
with tasks longer than the timeout (and that listens to no idle queue) looks dead,
and its messages are delivered a second time elsewhere. That is safe (the second
copy waits for the running one and skips it; on SQLite it runs and is rolled back)
but holds a thread: raise the timeout above your longest task when workers are
dedicated to one queue of long tasks. The database sweep stays the safety net after
``SWEEP_GRACE_SECONDS`` (keep that longer than your slowest task, or a running task
is sent again, with the same outcome as a second delivery).

A durable task that keeps failing is retried by dramatiq (``max_retries``, with
backoff) and again by every sweep, until it has failed ``max_attempts`` times
(default 20): then its row turns ``failed`` with the last error, for an operator
to look at.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from flask import current_app, has_app_context
from sqlalchemy import and_, bindparam, func, select, update

from core.db import db, utcnow
from core.models import TaskRecord, TaskStatus

log = logging.getLogger(__name__)

_declared: dict[str, LazyActor] = {}

#: how many times a durable task may fail before its row is marked ``failed``
DEFAULT_MAX_ATTEMPTS = 20
#: Redis: a worker without a heartbeat for this long is dead; its messages are re-queued
DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000
#: Redis: maintenance (re-queueing dead workers' messages) on this many commands per million
REDIS_MAINTENANCE_CHANCE = 250_000


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
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ):
        self.fn = fn
        self.actor_name = actor_name
        self.queue_name = queue_name
        self.durable = durable
        self.options = options
        self.max_attempts = max_attempts
        self._actor: dramatiq.Actor | None = None
        self._by_broker: weakref.WeakKeyDictionary[dramatiq.Broker, dramatiq.Actor] = (
            weakref.WeakKeyDictionary()
        )

    def bind(self, broker: dramatiq.Broker) -> dramatiq.Actor:
        """Declare this actor on ``broker`` (once per app; binding again returns the same)."""
        if broker in self._by_broker:
            self._actor = self._by_broker[broker]
            return self._actor
        target = self.fn
        if self.durable:

            def target(task_id: int, _lazy=self):
                return _run_durable(_lazy.fn, _lazy.actor_name, task_id, _lazy.max_attempts)

            target.__name__ = self.fn.__name__

        bound = dramatiq.Actor(
            target,
            actor_name=self.actor_name,
            queue_name=self.queue_name,
            priority=0,
            broker=broker,
            options=dict(self.options),
        )
        self._by_broker[broker] = bound
        self._actor = bound
        return bound

    @property
    def actor(self) -> dramatiq.Actor:
        """The dramatiq actor on the current app's broker (the last bound one otherwise)."""
        if has_app_context():
            broker = current_app.extensions.get("township_broker")
            if broker is not None and broker in self._by_broker:
                return self._by_broker[broker]
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
    actor_name: str,
    queue_name: str,
    *,
    durable: bool = True,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    **options: Any,
) -> Callable[[Callable[..., Any]], LazyActor]:
    """Declare an actor. Durable actors receive the task's ``args`` as keyword arguments.

    ``options`` are dramatiq's (``max_retries``, ``min_backoff``, ``time_limit`` ...);
    ``max_attempts`` is how many failures turn a durable task's row ``failed``.

    Example::

        @actor("releases.publish", queue_name="releases")
        def publish(release_id: int) -> None: ...
    """
    options.setdefault("max_retries", 5)
    options.setdefault("min_backoff", 1000)
    options.setdefault("max_backoff", 60_000)
    options.setdefault("time_limit", 10 * 60 * 1000)

    def decorate(fn: Callable[..., Any]) -> LazyActor:
        lazy = LazyActor(fn, actor_name, queue_name, durable, options, max_attempts)
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
            try:
                db.session.remove()
            finally:
                ctx.pop()
                self._local.ctx = None

    after_skip_message = after_process_message


REDIS_SCHEMES = ("redis", "rediss", "unix")
AMQP_SCHEMES = ("amqp", "amqps")


class BrokerURLError(ValueError):
    """``BROKER_URL`` names no broker the platform knows; the message says what is accepted."""


def make_broker(url: str | None, **options: Any) -> dramatiq.Broker:
    """The broker the URL names: unset = embedded StubBroker, ``redis://`` = Redis,
    ``amqp://`` = RabbitMQ. ``options`` go to the broker's constructor (tests).

    The Redis broker considers a worker dead after 10 s without a heartbeat
    (dramatiq's default is 60 s; ``BROKER_HEARTBEAT_TIMEOUT_SECONDS``), runs its
    maintenance (which re-queues a dead worker's messages) on one command in four,
    and keeps dead-lettered messages a day; the database sweep stays the safety
    net (see the module docstring).
    """
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
        return broker
    scheme = urlsplit(url).scheme.lower()
    if scheme in REDIS_SCHEMES:
        from dramatiq.brokers.redis import RedisBroker

        options.setdefault("heartbeat_timeout", DEFAULT_HEARTBEAT_TIMEOUT_MS)
        options.setdefault("maintenance_chance", REDIS_MAINTENANCE_CHANCE)
        options.setdefault("dead_message_ttl", 86_400_000)
        return RedisBroker(url=url, **options)
    if scheme in AMQP_SCHEMES:
        return _rabbitmq_broker_class()(url=url, **options)
    # never echo the URL: it may hold a password
    raise BrokerURLError(
        f"BROKER_URL must start with redis://, rediss:// or amqp:// (amqps://), "
        f"not {scheme + '://' if scheme else 'a URL without a scheme'}; "
        "leave it unset for the embedded broker of `township serve`"
    )


@functools.cache
def _rabbitmq_broker_class() -> type[dramatiq.Broker]:
    """dramatiq's RabbitMQ broker whose consumers acknowledge on the delivering channel only.

    RabbitMQ numbers deliveries per channel, from 1 again on every new channel. When the
    connection drops, dramatiq's consumer thread opens a new channel while the worker
    threads still hold messages of the old one; acknowledged on the new channel by
    number, such a message acknowledged *another* message, one not yet run (RabbitMQ
    then forgot it; only the database sweep brought it back), and the acknowledgement of
    that other message later failed ("not in known tags"). Here a message delivered by a
    closed channel is not acknowledged: RabbitMQ gave it back to the queue when the
    channel closed, and the copy delivered again finds its task row done.
    """
    from dramatiq.brokers.rabbitmq import RabbitmqBroker, _RabbitmqConsumer

    class ChannelBoundConsumer(_RabbitmqConsumer):
        def __next__(self):
            message = super().__next__()
            if message is not None:
                message._township_channel = self.channel
            return message

        def ack(self, message) -> None:
            if self._delivered_here(message):
                super().ack(message)

        def nack(self, message) -> None:
            if self._delivered_here(message):
                super().nack(message)

        def _delivered_here(self, message) -> bool:
            if getattr(message, "_township_channel", None) is self.channel:
                return True
            log.info(
                "message %s came on a channel that has closed: not acknowledged "
                "(RabbitMQ delivers it again)",
                message.message_id,
            )
            return False

    class ChannelBoundRabbitmqBroker(RabbitmqBroker):
        @property
        def consumer_class(self):
            return ChannelBoundConsumer

    return ChannelBoundRabbitmqBroker


def init_broker(app, actors: list[LazyActor]) -> dramatiq.Broker:
    """Create the app's broker, bind the core's and the plugins' actors to it."""
    options = {}
    url = app.config.get("BROKER_URL")
    timeout = app.config.get("BROKER_HEARTBEAT_TIMEOUT_SECONDS")
    if url and urlsplit(url).scheme.lower() in REDIS_SCHEMES and timeout:
        options["heartbeat_timeout"] = int(float(timeout) * 1000)
    broker = make_broker(url, **options)
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
    """The current app's broker."""
    return current_app.extensions["township_broker"]


def is_embedded(app=None) -> bool:
    """Whether the app runs the embedded broker (no ``BROKER_URL``)."""
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


def _insert_once(values: dict[str, Any]) -> int | None:
    """INSERT the task row unless its key exists (ON CONFLICT DO NOTHING); its id or None.

    Two transactions enqueueing the same key at once get one row: PostgreSQL makes
    the second INSERT wait for the first and then do nothing.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        record = TaskRecord(**values)
        db.session.add(record)
        db.session.flush()
        return record.id
    statement = (
        insert(TaskRecord)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[TaskRecord.key])
        .returning(TaskRecord.id)
    )
    return db.session.scalar(statement)


def enqueue(actor_name: str, key: str, *, send: bool = True, **args: Any) -> TaskRecord:
    """Record that ``actor_name(**args)`` is due, once per ``key``, and send it after commit.

    Adds the row in the current transaction; the caller commits (the message
    is sent then; a rollback forgets both). Enqueueing a key that already
    exists returns the existing row and sends nothing new. ``send=False``
    only records the row: the sweep sends it.
    """
    lazy = current_app.extensions["township"].actors.get(actor_name)
    if lazy is None:
        raise KeyError(f"no actor called {actor_name!r}")
    if not lazy.durable:
        raise ValueError(f"{actor_name} is not durable: send it with .send()")
    existing = db.session.scalar(select(TaskRecord).where(TaskRecord.key == key))
    if existing is not None:
        return existing
    task_id = _insert_once(
        {
            "actor_name": actor_name,
            "queue_name": lazy.queue_name,
            "key": key,
            "args": args,
            "status": TaskStatus.pending,
            "attempts": 0,
            "created_at": utcnow(),
        }
    )
    if task_id is None:  # another transaction recorded the same key just now
        return db.session.scalars(select(TaskRecord).where(TaskRecord.key == key)).one()
    if send:
        pending = db.session().info.setdefault("township_send_after_commit", [])
        pending.append((lazy.actor, task_id))
    return db.session.get(TaskRecord, task_id)


#: durable tasks recorded in bulk are nudged this many at a time (one message each)
BULK_NUDGE_SIZE = 500


def enqueue_many(actor_name: str, items: list[tuple[str, dict[str, Any]]]) -> int:
    """Record many durable tasks of one actor at once: ``[(key, args), ...]``.

    One INSERT ... ON CONFLICT DO NOTHING per call (a key that exists already is
    skipped, so each key is still done once), in the caller's transaction. After
    the commit, one ``core.run_tasks`` message per :data:`BULK_NUDGE_SIZE` new rows
    runs them in turn, each in its own transaction with the same conditional
    UPDATE as a single task; a lost nudge is covered by :func:`resend_due`, which
    sends every row still pending on its own. Returns how many rows were new.
    """
    lazy = current_app.extensions["township"].actors.get(actor_name)
    if lazy is None:
        raise KeyError(f"no actor called {actor_name!r}")
    if not lazy.durable:
        raise ValueError(f"{actor_name} is not durable: send it with .send()")
    if not items:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        ids = _insert_many_postgresql(actor_name, lazy.queue_name, items)
    else:
        ids = _insert_many(actor_name, lazy.queue_name, items)
    nudge = current_app.extensions["township"].actors.get("core.run_tasks")
    if ids and nudge is not None:
        pending = db.session().info.setdefault("township_send_after_commit", [])
        for start in range(0, len(ids), BULK_NUDGE_SIZE):
            pending.append((nudge.actor, sorted(ids[start : start + BULK_NUDGE_SIZE])))
    return len(ids)


def _insert_many_postgresql(
    actor_name: str, queue_name: str, items: list[tuple[str, dict[str, Any]]]
) -> list[int]:
    """One INSERT ... SELECT FROM json_to_recordset(:rows): a single JSON parameter
    however many rows (a statement with a parameter per value costs more to build and
    send than to run)."""
    import json

    from sqlalchemy import text

    statement = text(
        "INSERT INTO core_task (actor_name, queue_name, key, args, status, attempts, created_at) "
        "SELECT :actor_name, :queue_name, t.k, t.a, :status, 0, :created_at "
        "FROM json_to_recordset(CAST(:rows AS json)) AS t(k text, a json) "
        "ON CONFLICT (key) DO NOTHING RETURNING id"
    )
    created = utcnow().astimezone(UTC).replace(tzinfo=None)  # the UTC column stores naive UTC
    rows = json.dumps([{"k": key, "a": args} for key, args in items], ensure_ascii=False)
    return list(
        db.session.scalars(
            statement,
            {
                "actor_name": actor_name,
                "queue_name": queue_name,
                "status": TaskStatus.pending.value,
                "created_at": created,
                "rows": rows,
            },
        )
    )


def _insert_many(
    actor_name: str, queue_name: str, items: list[tuple[str, dict[str, Any]]]
) -> list[int]:
    """The portable INSERT ... ON CONFLICT DO NOTHING, executed for many rows (SQLite)."""
    from sqlalchemy.dialects.sqlite import insert

    now = utcnow()
    rows = [
        {
            "actor_name": actor_name,
            "queue_name": queue_name,
            "key": key,
            "args": args,
            "status": TaskStatus.pending,
            "attempts": 0,
            "created_at": now,
        }
        for key, args in items
    ]
    statement = (
        insert(TaskRecord.__table__)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(TaskRecord.__table__.c.id)
    )
    return list(db.session.connection().execute(statement, rows).scalars())


@actor("core.run_tasks", queue_name="core", durable=False, max_retries=0)
def run_tasks(task_ids: list[int]) -> None:
    """Run durable tasks recorded in bulk (:func:`enqueue_many`), one transaction each.

    A task that fails is recorded as failed once more and left to dramatiq's
    retries of a single message sent by the resend sweep; the others go on.
    """
    actors = current_app.extensions["township"].actors
    names = dict(
        db.session.execute(
            select(TaskRecord.id, TaskRecord.actor_name).where(TaskRecord.id.in_(task_ids))
        ).all()
    )
    db.session.rollback()
    for task_id in task_ids:
        lazy = actors.get(names.get(task_id, ""))
        if lazy is None or not lazy.durable:
            continue
        try:
            _run_durable(lazy.fn, lazy.actor_name, task_id, lazy.max_attempts)
        except Exception:  # recorded on the row by _run_durable; the sweep sends it again
            log.exception("task %s (%s) failed in a bulk run", task_id, lazy.actor_name)


def _flush_sends(session) -> None:
    """After a commit, send the messages of the tasks it recorded.

    No SQL here (the session is between transactions): if a send fails the row
    stays pending and the sweep sends it.
    """
    for bound, task_id in session.info.pop("township_send_after_commit", []):
        try:
            bound.send(task_id)
        except Exception:
            log.exception(
                "could not send task %s (%s); the sweep will retry", task_id, bound.actor_name
            )


def _discard_sends(session) -> None:
    session.info.pop("township_send_after_commit", None)


def _run_durable(
    fn: Callable[..., Any],
    actor_name: str,
    task_id: int,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> None:
    """Run a durable task's work and mark it done, in one transaction, once.

    A task that is no longer pending is skipped. On failure the work is rolled
    back, ``attempts`` and ``last_error`` are recorded, and the exception goes
    to dramatiq (which retries); after ``max_attempts`` failures the row turns
    ``failed`` and no further delivery runs it.

    PostgreSQL claims the row first: the conditional UPDATE to done (``RETURNING`` the
    task's args) comes before the work and holds the row's lock until the commit, so a
    second delivery of the same task waits on it, then (READ COMMITTED re-checks the
    WHERE on the row as committed) matches no row and returns without running the work;
    if the first one failed and rolled back, the row is pending again and the second one
    runs it. SQLite reads the row, runs the work, then marks the row with the same
    conditional UPDATE: its single write lock covers the whole database, and a claim
    taken first would hold it for the whole task (an SMTP send would keep every web request's
    writes waiting); a second delivery that ran the work too matches no row there and
    rolls its copy back.
    """
    statements = _task_statements()
    session = db.session()
    connection = session.connection()
    claim_first = connection.dialect.name == "postgresql"
    if claim_first:
        row = connection.execute(
            statements["claim"], {"task_id": task_id, "done_at": utcnow()}
        ).first()
    else:
        row = connection.execute(statements["read"], {"task_id": task_id}).first()
        if row is not None and row.status != TaskStatus.pending:
            row = None
    if row is None:
        found = connection.execute(statements["read"], {"task_id": task_id}).first()
        session.rollback()
        _log_skipped(actor_name, task_id, None if found is None else found.status)
        return
    transaction = session.get_transaction()
    try:
        fn(**row.args)
        _check_same_transaction(session, transaction, actor_name)
        if not claim_first:
            done = session.connection().execute(
                statements["mark"], {"task_id": task_id, "done_at": utcnow()}
            )
            if done.rowcount != 1:
                # someone else finished it first: undo our copy of the work
                session.rollback()
                log.info("%s: task %s was done by another worker", actor_name, task_id)
                return
        session.commit()
    except BaseException as exc:  # TimeLimitExceeded is a BaseException
        session.rollback()
        _record_failure(actor_name, task_id, exc, max_attempts)
        raise


@functools.cache
def _task_statements() -> dict[str, Any]:
    """The Core statements of the task path, built once (the compiled form is cached)."""
    table = TaskRecord.__table__
    this_pending = (
        table.c.id == bindparam("task_id"),
        table.c.status == TaskStatus.pending,
    )
    done = {
        "status": TaskStatus.done,
        "done_at": bindparam("done_at", type_=table.c.done_at.type),
        "attempts": table.c.attempts + 1,
    }
    return {
        # PostgreSQL. set_config(..., true) is SET LOCAL synchronous_commit TO OFF, in the
        # same round trip and only when the row is claimed: the commit does not wait for
        # the disk flush. Safe here: the work and the "done" mark commit together, so a
        # crash that loses the last commits (a fraction of a second of them) loses both,
        # the row is pending again and the resend sweep runs the task again.
        "claim": update(table)
        .where(*this_pending)
        .values(**done)
        .returning(table.c.args, func.set_config("synchronous_commit", "off", True)),
        "mark": update(table).where(*this_pending).values(**done),
        "read": select(table.c.status, table.c.args).where(table.c.id == bindparam("task_id")),
    }


def _check_same_transaction(session, transaction, actor_name: str) -> None:
    """The work left the task's transaction open: it committed or rolled back nothing.

    Work that ended it took the claim (PostgreSQL) or half of its own writes (SQLite)
    with it; committing what is left would not be "once". It fails instead, and is
    retried (and recorded, and finally ``failed``) like any failure.
    """
    if session.get_transaction() is not transaction:
        raise RuntimeError(
            f"durable task {actor_name} committed or rolled back its database "
            "transaction itself; durable work must leave that to the task"
        )


def _log_skipped(actor_name: str, task_id: int, status: TaskStatus | None) -> None:
    if status is None:
        log.warning("%s: task %s is gone", actor_name, task_id)
    else:
        log.info("%s: task %s is already %s", actor_name, task_id, status)


def _record_failure(actor_name: str, task_id: int, exc: BaseException, max_attempts: int) -> None:
    try:
        db.session.execute(
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.status == TaskStatus.pending)
            .values(attempts=TaskRecord.attempts + 1, last_error=repr(exc)[:2000])
            .execution_options(synchronize_session=False)
        )
        attempts = db.session.scalar(select(TaskRecord.attempts).where(TaskRecord.id == task_id))
        if attempts is not None and attempts >= max_attempts:
            db.session.execute(
                update(TaskRecord)
                .where(TaskRecord.id == task_id, TaskRecord.status == TaskStatus.pending)
                .values(status=TaskStatus.failed)
                .execution_options(synchronize_session=False)
            )
            log.error("%s: task %s failed %d times; giving up", actor_name, task_id, attempts)
        db.session.commit()
    except Exception:  # the database itself may be what failed
        db.session.rollback()
        log.exception("%s: could not record the failure of task %s", actor_name, task_id)


#: a task sent again and again waits at most this many graces between two sends
RESEND_BACKOFF_LIMIT = 8
#: rows looked at per sweep (of which at most RESEND_BATCH are sent)
RESEND_WINDOW = 5000
RESEND_BATCH = 1000


def resend_wait(created_at, sent_at, grace: float) -> float:
    """Seconds a pending task waits after its last send before the sweep sends it again.

    A task never sent (its send failed) or sent once waits the grace. After that the wait
    is as long as the task had already waited when it was last sent, up to
    ``RESEND_BACKOFF_LIMIT`` graces: grace, grace, 2, 4, 8 graces. A task still queued
    behind a long backlog is not copied into the queue again on every sweep (the copies
    are skipped as done, but a flood of them delays the real work behind them), while a
    message that was really lost is sent again within a few graces.
    """
    if sent_at is None:
        return grace
    waited = (sent_at - created_at).total_seconds()
    return min(max(grace, waited), RESEND_BACKOFF_LIMIT * grace)


_sweeping = threading.Lock()


def resend_due(app, grace_seconds: int | None = None, sent_before: datetime | None = None) -> int:
    """Send again every pending task whose last send (or creation) is old enough.

    ``grace_seconds`` defaults to ``SWEEP_GRACE_SECONDS``; a task sent again several
    times waits longer (:func:`resend_wait`). ``sent_before`` (``township serve`` passes
    the moment it started) also leaves alone the tasks this process sent itself: their
    messages are still in its queue. Returns how many were sent.

    One sweep at a time in a process: while one is sending, a sweep message that comes
    meanwhile returns at once (the scheduler sends one every ``SWEEP_SECONDS``; when a
    sweep took longer than that, sweeps queued behind each other took every worker thread
    and no task got done). The rows to send are stamped ``sent_at`` together and committed
    first (a task running right now is left out: :func:`_stamp_sent`), then the messages
    are sent without a query each; the tasks whose message the broker refused get their
    previous ``sent_at`` back.
    """
    if not _sweeping.acquire(blocking=False):
        log.info("sweep: another sweep is still sending; this one has nothing to do")
        return 0
    try:
        return _resend_due(app, grace_seconds, sent_before)
    finally:
        _sweeping.release()


def _resend_due(app, grace_seconds: int | None, sent_before: datetime | None) -> int:
    grace = app.config["SWEEP_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    actors = app.extensions["township"].actors
    with app.app_context():
        now = utcnow()
        last_sent = func.coalesce(TaskRecord.sent_at, TaskRecord.created_at)
        cutoff = now - timedelta(seconds=grace)
        if sent_before is not None:
            cutoff = min(cutoff, sent_before)
        rows = db.session.execute(
            select(TaskRecord.id, TaskRecord.actor_name, TaskRecord.created_at, TaskRecord.sent_at)
            .where(
                TaskRecord.status == TaskStatus.pending,
                last_sent <= cutoff,
            )
            .order_by(last_sent, TaskRecord.id)
            .limit(RESEND_WINDOW)
        ).all()
        db.session.remove()
        due = [
            row
            for row in rows
            if (now - (row.sent_at or row.created_at)).total_seconds()
            >= resend_wait(row.created_at, row.sent_at, grace)
        ][:RESEND_BATCH]
        for row in due:
            if row.actor_name not in actors:
                log.error("task %s names an unknown actor %s", row.id, row.actor_name)
        due = [row for row in due if row.actor_name in actors]
        try:
            stamped = _stamp_sent([row.id for row in due], now)
            db.session.commit()
        finally:
            db.session.remove()
        due = [row for row in due if row.id in stamped]
        sent = 0
        for position, row in enumerate(due):
            try:
                actors[row.actor_name].send(row.id)
            except Exception as exc:  # the broker is down: one line, not one per task
                log.error(
                    "sweep: the broker refused a message (%s: %s); %d pending task(s) "
                    "wait for the next sweep",
                    type(exc).__name__,
                    exc,
                    len(due) - position,
                )
                _unstamp(due[position:], now)
                break
            sent += 1
    if sent:
        log.info("sweep: sent %d pending task(s) again", sent)
    return sent


def _stamp_sent(task_ids: list[int], now: datetime) -> set[int]:
    """Stamp ``sent_at`` on the tasks the sweep is about to send, and commit, before any
    message goes out; returns the ids stamped.

    Left out: a task no longer pending (done meanwhile), and on PostgreSQL a task whose
    row another transaction holds (``SKIP LOCKED``): a task running right now, whose claim
    holds its row until it commits (:func:`_run_durable`). It needs no second message:
    it is done when it commits, or pending again for a later sweep. Waiting for it would
    hold the sweep, and every row it had stamped already, as long as the task runs.
    Stamped and committed first, the rows are free when their messages arrive.
    """
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    stamped: set[int] = set()
    for chunk in range(0, len(task_ids), 500):
        ids = task_ids[chunk : chunk + 500]
        pending = and_(TaskRecord.id.in_(ids), TaskRecord.status == TaskStatus.pending)
        if postgresql:
            pending = TaskRecord.id.in_(
                select(TaskRecord.id).where(pending).with_for_update(skip_locked=True)
            )
        stamped.update(
            db.session.scalars(
                update(TaskRecord)
                .where(pending)
                .values(sent_at=now)
                .returning(TaskRecord.id)
                .execution_options(synchronize_session=False)
            )
        )
    return stamped


def _unstamp(rows, now: datetime) -> None:
    """Give back their previous ``sent_at`` to stamped tasks whose message the broker
    refused: the next sweep sends them after the usual grace, not after a longer wait."""
    by_previous: dict[datetime | None, list[int]] = {}
    for row in rows:
        by_previous.setdefault(row.sent_at, []).append(row.id)
    try:
        for previous, ids in by_previous.items():  # mostly one: never sent (None)
            for chunk in range(0, len(ids), 500):
                db.session.execute(
                    update(TaskRecord)
                    .where(TaskRecord.id.in_(ids[chunk : chunk + 500]), TaskRecord.sent_at == now)
                    .values(sent_at=previous)
                    .execution_options(synchronize_session=False)
                )
        db.session.commit()
    except Exception:  # the database too: they wait for a later sweep, a little longer
        db.session.rollback()
        log.exception("sweep: could not give back the send times of unsent tasks")
    finally:
        db.session.remove()


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
