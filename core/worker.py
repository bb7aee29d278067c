"""``township worker``: dramatiq worker processes on the configured broker.

Each process runs a :class:`dramatiq.Worker` on the app's broker (Redis or
RabbitMQ, from ``BROKER_URL``); every message is processed inside an app
context (:class:`core.tasks.AppContextMiddleware`). ``--processes N`` forks N
worker processes from the built app and supervises them: one that dies
unexpectedly is started again; SIGTERM or SIGINT stops every process
gracefully (the messages being worked on finish, within ``--shutdown-timeout``;
prefetched ones go back to the broker).

A worker killed with ``kill -9`` loses nothing: the database row of each
durable task says it is still pending, and the re-send sweep (the
``core.resend_sweep`` job, every ``SWEEP_SECONDS``, for rows older than
``SWEEP_GRACE_SECONDS``) sends it again; RabbitMQ also returns the unacked
message at once. The task's work and its "done" mark commit together, so it
is done exactly once (see :mod:`core.tasks`).

Scaling out: run ``township worker --processes 2 --threads 8`` on as many
machines as needed, all with the same ``TOWNSHIP_DATABASE_URL`` and
``TOWNSHIP_BROKER_URL``; ``--queues core,releases`` dedicates a worker to some
institutions' queues (a queue is named after its plugin).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time

import click
import dramatiq
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

log = logging.getLogger(__name__)

#: a crashed worker process is started again at most this often (seconds)
RESTART_DELAY = 1.0


def known_queues(app: Flask) -> set[str]:
    """The queues of the loaded actors."""
    return {lazy.queue_name for lazy in app.extensions["township"].actors.values()}


def run_worker_process(
    app: Flask,
    threads: int,
    queues: set[str] | None,
    shutdown_timeout: float,
    stop: threading.Event | None = None,
) -> None:
    """Run one dramatiq worker in this process until SIGTERM/SIGINT (or ``stop`` is set)."""
    broker = app.extensions["township_broker"]
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stop.set())
    broker.emit_after("process_boot")  # starts the time-limit watchdog of this process
    # dramatiq's default lets an idle Redis consumer sleep a second between looks: a
    # release due at 09:00:00 waited for it (the embedded worker already used 100 ms)
    worker = dramatiq.Worker(
        broker,
        queues=queues,
        worker_threads=threads,
        worker_timeout=int(app.config["WORKER_IDLE_POLL_MS"]),
    )
    worker.start()
    from core.heartbeat import Heartbeat

    heartbeat = Heartbeat(app, "worker").start()
    log.info(
        "worker %d: %d thread(s) on %s",
        os.getpid(),
        threads,
        ", ".join(sorted(queues or known_queues(app))),
    )
    try:
        while not stop.wait(1):
            pass
    finally:
        log.info("worker %d: stopping (finishing the messages in hand)", os.getpid())
        worker.stop(timeout=int(shutdown_timeout * 1000))
        broker.close()
        heartbeat.stop()
        log.info("worker %d: stopped", os.getpid())


def _fork_worker(app: Flask, threads: int, queues, shutdown_timeout: float) -> int:
    pid = os.fork()
    if pid:
        return pid
    # the child: fresh signal handlers and database connections of its own
    code = 0
    try:
        from core.db import db

        with app.app_context():
            db.engine.dispose(close=False)
        run_worker_process(app, threads, queues, shutdown_timeout)
    except BaseException:
        log.exception("worker process %d failed", os.getpid())
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def supervise(app: Flask, processes: int, threads: int, queues, shutdown_timeout: float) -> int:
    """Fork ``processes`` workers, restart any that dies, stop them all on SIGTERM/SIGINT."""
    stopping = threading.Event()
    children: dict[int, float] = {}

    def _stop(signum, frame):
        stopping.set()
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    for _n in range(processes):
        children[_fork_worker(app, threads, queues, shutdown_timeout)] = time.monotonic()
    status = 0
    while children:
        try:
            pid, raw = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries for us
            continue
        started = children.pop(pid, None)
        if started is None:
            continue
        code = os.waitstatus_to_exitcode(raw)
        if stopping.is_set():
            status = status or (code if code > 0 else 0)
            continue
        log.error("worker process %d exited with %s; starting another", pid, code)
        if time.monotonic() - started < RESTART_DELAY:
            time.sleep(RESTART_DELAY)
        if not stopping.is_set():
            children[_fork_worker(app, threads, queues, shutdown_timeout)] = time.monotonic()
    return status


@click.command("worker")
@click.option(
    "--processes",
    "-p",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (forked from this one).",
)
@click.option(
    "--threads",
    "-t",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Worker threads per process.",
)
@click.option(
    "--queues",
    "-Q",
    default="",
    help="Comma-separated queues to work on (default: every loaded plugin's queue).",
)
@click.option(
    "--shutdown-timeout",
    type=click.FloatRange(min=0),
    default=30,
    show_default=True,
    help="Seconds to let running messages finish on SIGTERM.",
)
@with_appcontext
def worker_command(processes: int, threads: int, queues: str, shutdown_timeout: float) -> None:
    """Run task workers on the configured broker (Redis or RabbitMQ)."""
    app = current_app._get_current_object()
    if not app.config.get("BROKER_URL"):
        raise click.ClickException(
            _(
                "BROKER_URL is not set: the embedded broker runs inside `township serve`. "
                "Set TOWNSHIP_BROKER_URL to redis://... or amqp://... to run workers "
                "as their own processes."
            )
        )
    selected = {q.strip() for q in queues.split(",") if q.strip()} or None
    if selected:
        unknown = selected - known_queues(app)
        if unknown:
            raise click.BadParameter(
                _(
                    "unknown queue(s): %(unknown)s; the queues are: %(known)s",
                    unknown=", ".join(sorted(unknown)),
                    known=", ".join(sorted(known_queues(app))),
                ),
                param_hint="--queues",
            )
    click.echo(
        _(
            "Worker: %(processes)d process(es) x %(threads)d thread(s); Ctrl+C to stop.",
            processes=processes,
            threads=threads,
        )
    )
    sys.stdout.flush()
    if processes == 1:
        run_worker_process(app, threads, selected, shutdown_timeout)
        code = 0
    else:
        code = supervise(app, processes, threads, selected, shutdown_timeout)
    click.echo(_("Worker stopped."))
    if code:
        raise SystemExit(code)
