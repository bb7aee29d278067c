"""``township worker`` processes on Redis and RabbitMQ: killed mid-task, the work is done once."""

from __future__ import annotations

import os
import signal

import dramatiq
import pytest
from sqlalchemy import select

from core.models import TaskRecord
from core.plugins import state
from core.tasks import enqueue, resend_due
from core.testing.fixtures import amqp_url, require_service
from tests.example_plugin.models import ExampleNote, ExampleStamp
from tests.scheduler.helpers import Processes, process_env, redis_test_url, wait_for

REDIS_URL = redis_test_url()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_app(request, app, db, database_url):
    """A second app on the test database whose broker is Redis or RabbitMQ (queue purged)."""
    from core.app import create_app
    from tests import example_plugin

    if request.param == "redis":
        url = require_service(REDIS_URL, "Redis")
    else:
        url = require_service(amqp_url(), "RabbitMQ")
    other = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "BROKER_URL": url,
            "EXTRA_PLUGINS": [example_plugin],
            "EMBEDDED_SCHEDULER": False,
        }
    )
    broker = other.extensions["township_broker"]
    broker.flush("example")
    try:
        yield other
    finally:
        broker.flush("example")
        broker.close()
        with other.app_context():
            db.engine.dispose()
        session_broker = app.extensions["township_broker"]
        for lazy in state(app).actors.values():
            lazy.bind(session_broker)  # the session app's actors answer outside app contexts
        dramatiq.set_broker(session_broker)


@pytest.fixture
def processes(db, database_url, tmp_path):
    procs = Processes(tmp_path, process_env(database_url))
    try:
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture
def note(db, township):
    note = ExampleNote(township_id=township.id, title="note")
    db.session.add(note)
    db.session.commit()
    return note


def stamps_of(db, note_id: int) -> list[ExampleStamp]:
    db.session.rollback()
    return list(db.session.scalars(select(ExampleStamp).where(ExampleStamp.note_id == note_id)))


def record(db, key: str) -> TaskRecord:
    db.session.rollback()
    return db.session.scalars(select(TaskRecord).where(TaskRecord.key == key)).one()


@pytest.mark.slow
@pytest.mark.services
def test_a_worker_killed_in_the_middle_of_a_task_does_it_once_after_restart(
    db, broker_app, note, processes, tmp_path
):
    url = broker_app.config["BROKER_URL"]
    marker = tmp_path / "started.txt"
    worker_args = ("worker", "--queues", "example", "--threads", "1")
    first = processes.start(*worker_args, TOWNSHIP_BROKER_URL=url, EXAMPLE_STAMP_MARKER=str(marker))
    key = f"stamp:{note.id}"
    with broker_app.app_context():
        from core.db import db as _db

        enqueue("example.stamp", key, note_id=note.id, sleep=3)
        _db.session.commit()
    wait_for(lambda: marker.exists() and f"{first.pid} started" in marker.read_text(), 120)

    processes.kill9(first)
    assert stamps_of(db, note.id) == [], "the killed worker's work was never committed"
    assert record(db, key).status == "pending"

    second = processes.start(*worker_args, TOWNSHIP_BROKER_URL=url)
    assert resend_due(broker_app, grace_seconds=0) == 1  # the sweep sends it again
    wait_for(lambda: record(db, key).status == "done", 120, 0.2)

    (stamp,) = stamps_of(db, note.id)
    assert stamp.worker_pid == second.pid
    assert record(db, key).attempts == 1
    # a second delivery of the same task (the broker's redelivery, another sweep) is
    # received, recognised as done, and changes nothing
    task_id = record(db, key).id
    with broker_app.app_context():
        state(broker_app).actors["example.stamp"].send(task_id)
    wait_for(lambda: f"task {task_id} is already done" in processes.output(second), 120, 0.2)
    assert len(stamps_of(db, note.id)) == 1

    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0, processes.output(second)
    assert "Worker stopped." in processes.output(second)


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize("broker_app", ["redis"], indirect=True)
def test_redis_gives_a_killed_workers_message_to_another_worker_without_the_sweep(
    db, broker_app, note, processes, tmp_path
):
    """Redis's own recovery: the dead worker's in-flight message goes back to the queue
    once its heartbeat is older than BROKER_HEARTBEAT_TIMEOUT_SECONDS; no sweep runs here."""
    url = broker_app.config["BROKER_URL"]
    marker = tmp_path / "started.txt"
    worker_args = ("worker", "--queues", "example", "--threads", "1")
    env = {"TOWNSHIP_BROKER_URL": url, "TOWNSHIP_BROKER_HEARTBEAT_TIMEOUT_SECONDS": "3"}
    first = processes.start(*worker_args, **env, EXAMPLE_STAMP_MARKER=str(marker))
    key = f"stamp:{note.id}"
    with broker_app.app_context():
        from core.db import db as _db

        enqueue("example.stamp", key, note_id=note.id, sleep=2)
        _db.session.commit()
    wait_for(lambda: marker.exists() and f"{first.pid} started" in marker.read_text(), 120)
    processes.kill9(first)
    assert record(db, key).status == "pending"

    second = processes.start(*worker_args, **env)
    wait_for(lambda: record(db, key).status == "done", 120, 0.2)
    (stamp,) = stamps_of(db, note.id)
    assert stamp.worker_pid == second.pid
    assert record(db, key).sent_at is None, "sent once, by the enqueue; never by a sweep"


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.parametrize("broker_app", ["redis"], indirect=True)
def test_several_worker_processes_share_the_queue_and_stop_on_sigterm(
    db, broker_app, township, processes
):
    notes = [ExampleNote(township_id=township.id, title=f"n{i}") for i in range(6)]
    db.session.add_all(notes)
    db.session.commit()
    ids = [n.id for n in notes]
    supervisor = processes.start(
        "worker",
        "--processes",
        "2",
        "--threads",
        "1",
        TOWNSHIP_BROKER_URL=broker_app.config["BROKER_URL"],
    )
    with broker_app.app_context():
        from core.db import db as _db

        for note_id in ids:
            enqueue("example.stamp", f"stamp:{note_id}", note_id=note_id, sleep=0.3)
        _db.session.commit()
    wait_for(lambda: all(len(stamps_of(db, i)) == 1 for i in ids), 120, 0.2)
    pids = {stamps_of(db, i)[0].worker_pid for i in ids}
    assert len(pids) == 2 and supervisor.pid not in pids, "two forked processes did the work"

    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(20) == 0, processes.output(supervisor)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.slow
def test_the_worker_refuses_the_embedded_broker_and_unknown_queues(processes):
    embedded = processes.start("worker", TOWNSHIP_BROKER_URL="")
    assert embedded.wait(30) == 1
    assert "the embedded broker runs inside `township serve`" in processes.output(embedded)

    unknown = processes.start("worker", "--queues", "nowhere", TOWNSHIP_BROKER_URL=REDIS_URL)
    assert unknown.wait(30) == 2
    assert "unknown queue(s): nowhere" in processes.output(unknown)
