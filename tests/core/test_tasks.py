"""Durable tasks on the embedded broker: recorded first, sent after commit, done once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from core.models import TaskRecord
from core.plugins import state
from core.tasks import _run_durable, enqueue, make_broker, resend_due
from tests.example_plugin.models import ExampleNote, ExampleStamp


@pytest.fixture
def note(db, township):
    note = ExampleNote(township_id=township.id, title="note")
    db.session.add(note)
    db.session.commit()
    return note


def stamps(db, note) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(ExampleStamp.id)).where(ExampleStamp.note_id == note.id)
    )


def task(db, key: str) -> TaskRecord | None:
    db.session.rollback()
    return db.session.scalar(select(TaskRecord).where(TaskRecord.key == key))


def test_the_same_key_twice_is_one_row_and_one_effect(db, note, stub_worker):
    key = f"stamp:{note.id}"
    first = enqueue("example.stamp", key, note_id=note.id)
    second = enqueue("example.stamp", key, note_id=note.id)
    assert first.id == second.id
    db.session.commit()
    stub_worker.join()

    record = task(db, key)
    assert (record.status, record.attempts, record.queue_name) == ("done", 1, "example")
    assert record.done_at is not None
    assert stamps(db, note) == 1

    enqueue("example.stamp", key, note_id=note.id)  # done already: nothing new
    db.session.commit()
    stub_worker.join()
    assert stamps(db, note) == 1
    assert db.session.scalar(select(func.count(TaskRecord.id))) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(db, note, stub_worker):
    enqueue("example.stamp", "stamp:rolled-back", note_id=note.id)
    db.session.rollback()
    stub_worker.join()
    assert task(db, "stamp:rolled-back") is None
    assert stamps(db, note) == 0


def test_a_lost_message_is_done_after_the_sweep(app, db, note, stub_worker):
    enqueue("example.stamp", "stamp:lost", send=False, note_id=note.id)
    db.session.commit()
    stub_worker.join()
    assert task(db, "stamp:lost").status == "pending"
    assert stamps(db, note) == 0

    assert resend_due(app) == 0, "younger than SWEEP_GRACE_SECONDS: not sent again yet"
    assert resend_due(app, grace_seconds=0) == 1
    stub_worker.join()
    record = task(db, "stamp:lost")
    assert record.status == "done"
    assert record.sent_at is not None
    assert stamps(db, note) == 1
    assert resend_due(app, grace_seconds=0) == 0, "done tasks are never sent again"


def test_a_start_sends_again_what_the_last_run_left_and_not_what_it_sent_itself(
    app, db, note, request, caplog
):
    """``township serve``: the demo's e-mails, queued before the embedded worker started,
    were sent again by the start's sweep and delivered twice (80 log lines of "already
    done" on a first ``make run``); a task the last run left pending is sent again."""
    import logging

    from core.db import utcnow

    caplog.set_level(logging.INFO, logger="core.tasks")
    enqueue("example.stamp", "stamp:left-by-last-run", send=False, note_id=note.id)
    db.session.commit()
    started = utcnow()
    enqueue("example.stamp", "stamp:sent-by-this-run", note_id=note.id)
    db.session.commit()  # in the queue; no worker yet (the demo loads before it starts)

    assert resend_due(app, grace_seconds=0, sent_before=started) == 1
    request.getfixturevalue("stub_worker").join()

    assert task(db, "stamp:left-by-last-run").status == "done"
    assert task(db, "stamp:sent-by-this-run").status == "done"
    assert stamps(db, note) == 2
    assert "already done" not in caplog.text, "a message was delivered twice"


def test_a_failed_send_leaves_the_task_pending_for_the_sweep(app, db, note, stub_worker, caplog):
    bound = state().actors["example.stamp"].actor

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    bound.send = broker_down
    try:
        enqueue("example.stamp", "stamp:unsent", note_id=note.id)
        db.session.commit()  # the commit succeeds; the failure is logged
    finally:
        del bound.send
    assert "the sweep will retry" in caplog.text
    assert task(db, "stamp:unsent").status == "pending"

    assert resend_due(app, grace_seconds=0) == 1
    stub_worker.join()
    assert task(db, "stamp:unsent").status == "done"
    assert stamps(db, note) == 1


def postgresql(db) -> bool:
    return db.engine.dialect.name == "postgresql"


def recorded_stamp(db, note, key: str):
    """A stamp task recorded and not sent: its id, and the stamping work itself."""
    enqueue("example.stamp", key, send=False, note_id=note.id)
    db.session.commit()
    return task(db, key).id, state().actors["example.stamp"].fn


def test_two_workers_racing_on_one_task_do_it_once(app, db, note):
    """SQLite runs the work before it marks the row (its write lock is the whole
    database's): both copies run, the loser's conditional UPDATE matches no row and its
    copy of the work is rolled back."""
    if postgresql(db):
        pytest.skip("PostgreSQL claims the row first: the second copy never runs the work")
    task_id, stamp = recorded_stamp(db, note, "stamp:race")
    both_started = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def work(note_id: int, sleep: float = 0.0) -> None:
        both_started.wait()  # both have read the task as pending
        stamp(note_id=note_id, sleep=0.2)

    def worker() -> None:
        try:
            with app.app_context():
                _run_durable(work, "example.stamp", task_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert stamps(db, note) == 1
    record = task(db, "stamp:race")
    assert (record.status, record.attempts) == ("done", 1)


def wait_until_a_query_waits_for_a_lock(db) -> None:
    """PostgreSQL shows a backend of this database waiting for a row lock (no sleep guessed)."""
    from sqlalchemy import text

    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(3000):
        with db.engine.connect() as conn:
            if conn.scalar(waiting):
                return
        threading.Event().wait(0.01)
    raise AssertionError("no query waited for the running task's row lock")


def deliver_twice(app, db, task_id: int, work) -> tuple[list[str], list[BaseException]]:
    """The same task delivered to two threads, the second while the first is in the work:
    returns which deliveries ran the work, and what they raised."""
    in_work, let_first_finish = threading.Event(), threading.Event()
    runs: list[str] = []
    errors: list[BaseException] = []

    def tracked(**args) -> None:
        runs.append(threading.current_thread().name)
        in_work.set()
        assert let_first_finish.wait(30)
        work(**args)

    def deliver() -> None:
        try:
            with app.app_context():
                _run_durable(tracked, "example.stamp", task_id)
        except BaseException as exc:
            errors.append(exc)

    first = threading.Thread(target=deliver, name="first")
    first.start()
    assert in_work.wait(30)
    second = threading.Thread(target=deliver, name="second")
    second.start()
    wait_until_a_query_waits_for_a_lock(db)  # the second delivery, on the claimed row
    let_first_finish.set()
    for thread in (first, second):
        thread.join(30)
    return runs, errors


def test_a_second_delivery_while_the_first_runs_does_not_run_the_work(app, db, note, caplog):
    """PostgreSQL: the first delivery claims the row before the work (the UPDATE to done
    holds its lock until the commit); the second waits for that commit, finds the task
    done and returns without running the work at all."""
    if not postgresql(db):
        pytest.skip("SQLite runs the work first (see the racing test above)")
    caplog.set_level("INFO", logger="core.tasks")
    task_id, stamp = recorded_stamp(db, note, "stamp:twice-at-once")

    runs, errors = deliver_twice(app, db, task_id, stamp)

    assert errors == []
    assert runs == ["first"], "the second delivery ran the work"
    assert stamps(db, note) == 1
    record = task(db, "stamp:twice-at-once")
    assert (record.status, record.attempts) == ("done", 1)
    assert f"task {task_id} is already done" in caplog.text


def test_when_the_first_delivery_fails_the_one_waiting_does_the_work(app, db, note):
    """PostgreSQL: the failed delivery's rollback gives the row back, pending; the
    delivery that waited for it claims it and does the work, once."""
    if not postgresql(db):
        pytest.skip("SQLite runs the work first (see the racing test above)")
    task_id, stamp = recorded_stamp(db, note, "stamp:first-fails")

    def fails_first(note_id: int) -> None:
        stamp(note_id=note_id)
        if threading.current_thread().name == "first":
            raise RuntimeError("first delivery broke")

    runs, errors = deliver_twice(app, db, task_id, fails_first)

    assert [type(e).__name__ for e in errors] == ["RuntimeError"]
    assert runs == ["first", "second"]
    assert stamps(db, note) == 1, "the failed copy was rolled back"
    assert task(db, "stamp:first-fails").status == "done"


def test_the_sweep_neither_waits_for_nor_resends_a_task_that_is_running(app, db, note):
    """PostgreSQL: a running task holds its row locked until it commits. The sweep, which
    finds it pending with the other due tasks, leaves it out (it needs no second message)
    and sends the others, instead of waiting for it (waiting held every row it had
    stamped, and so the tasks it had just sent, for as long as the task ran)."""
    if not postgresql(db):
        pytest.skip("SQLite marks the row after the work: nothing to wait for")
    enqueue("example.stamp", "stamp:running", send=False, note_id=note.id)
    enqueue("example.stamp", "stamp:waiting", send=False, note_id=note.id)
    db.session.commit()
    running_id = task(db, "stamp:running").id
    stamp = state().actors["example.stamp"].fn
    in_work, finish = threading.Event(), threading.Event()

    def slow(note_id: int) -> None:
        in_work.set()
        assert finish.wait(30)
        stamp(note_id=note_id)

    def run() -> None:
        with app.app_context():
            _run_durable(slow, "example.stamp", running_id)

    running = threading.Thread(target=run)
    running.start()
    try:
        assert in_work.wait(30)
        sent: list[int] = []
        sweeping = threading.Thread(target=lambda: sent.append(resend_due(app, grace_seconds=0)))
        sweeping.start()
        sweeping.join(30)
        assert not sweeping.is_alive(), "the sweep waited for the running task"
        assert sent == [1]  # both were pending when it looked; the running one is left out
        assert task(db, "stamp:waiting").sent_at is not None
        assert task(db, "stamp:running").sent_at is None
    finally:
        finish.set()
        running.join(30)
    assert task(db, "stamp:running").status == "done"


def test_two_transactions_enqueueing_one_key_record_one_task(app, db, note):
    note_id = note.id  # read here: the note belongs to this thread's session
    both_ready = threading.Barrier(2, timeout=10)
    ids: list[int] = []

    def enqueue_and_commit() -> None:
        from core.db import db as _db

        with app.app_context():
            both_ready.wait()
            ids.append(enqueue("example.stamp", "stamp:twice", send=False, note_id=note_id).id)
            _db.session.commit()

    threads = [threading.Thread(target=enqueue_and_commit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 2 and ids[0] == ids[1]
    assert db.session.scalar(select(func.count(TaskRecord.id))) == 1


def test_a_failure_records_attempts_and_the_error_and_gives_up_at_max_attempts(
    app, db, note, stub_worker, monkeypatch
):
    lazy = state().actors["example.stamp"]
    monkeypatch.setattr(lazy, "max_attempts", 2)
    record = enqueue("example.stamp", "stamp:broken", send=False, note_id=note.id, sleep="soon")
    db.session.commit()

    for attempt in (1, 2):
        lazy.actor.send_with_options(args=(record.id,), max_retries=0)
        with pytest.raises(TypeError):
            stub_worker.join()
        failed = task(db, "stamp:broken")
        assert failed.attempts == attempt
        assert "TypeError" in failed.last_error
        assert stamps(db, note) == 0, "the failed work was rolled back"
    assert failed.status == "failed"
    assert failed.done_at is None
    assert resend_due(app, grace_seconds=0) == 0, "a failed task waits for an operator"


def test_work_that_ends_its_own_transaction_fails_instead_of_being_done_in_part(app, db, note):
    """Durable work commits nothing itself: the task's transaction carries the work and
    the "done" mark together. Work that rolled it back (or committed it) took the claim or
    half of its own writes with it; it fails, recorded on the row, instead of being marked
    done with what was left."""
    from core.db import db as _db

    task_id, stamp = recorded_stamp(db, note, "stamp:ends-itself")

    def rolls_back(note_id: int) -> None:
        stamp(note_id=note_id)
        _db.session.rollback()
        stamp(note_id=note_id)

    with app.app_context(), pytest.raises(RuntimeError, match="rolled back"):
        _run_durable(rolls_back, "example.stamp", task_id)
    record = task(db, "stamp:ends-itself")
    assert (record.status, record.attempts) == ("pending", 1)
    assert "committed or rolled back" in record.last_error
    assert stamps(db, note) == 0


def test_enqueue_refuses_unknown_and_plain_actors(db):
    with pytest.raises(KeyError, match=r"no actor called 'example\.nothing'"):
        enqueue("example.nothing", "x")
    with pytest.raises(ValueError, match=r"example\.tick is not durable"):
        enqueue("example.tick", "x")
    db.session.rollback()
    assert db.session.scalar(select(func.count(TaskRecord.id))) == 0


def test_each_app_sends_through_its_own_broker(app, db):
    """A second app in the process (tests, tools) does not steal the first one's actors."""
    lazy = state().actors["example.stamp"]
    other = make_broker(None)
    lazy.bind(other)
    try:
        assert lazy.actor.broker is app.extensions["township_broker"]
        assert lazy.bind(other) is lazy._by_broker[other], "binding twice is harmless"
    finally:
        lazy.bind(app.extensions["township_broker"])
    assert lazy.actor.broker is app.extensions["township_broker"]


def test_a_task_still_queued_is_sent_again_less_and_less_often(app, db, note):
    """No worker runs here: the task stays queued. The sweep sends it again after the
    grace, then after waits that double up to eight graces, instead of adding a copy to
    the queue on every sweep."""
    import time_machine

    grace = app.config["SWEEP_GRACE_SECONDS"]
    queued = app.extensions["township_broker"].queues
    start = time_machine.travel("2026-03-02 08:00:00+00:00", tick=False)
    with start as traveller:
        enqueue("example.stamp", "stamp:queued", note_id=note.id)
        db.session.commit()

        def copies() -> int:
            return queued["example"].qsize()

        assert copies() == 1
        sent_at = []
        for second in range(0, 40 * grace + 1, grace // 2):
            traveller.move_to("2026-03-02 08:00:00+00:00")
            traveller.shift(second)
            if resend_due(app):
                sent_at.append(second // grace)
    assert sent_at == [1, 2, 4, 8, 16, 24, 32, 40]
    assert copies() == 1 + len(sent_at)
    assert task(db, "stamp:queued").status == "pending"


def test_a_message_a_stopped_worker_took_but_never_ran_does_not_hold_later_tests(app, db, note):
    """The session's StubBroker is shared: a message taken off the queue by a worker that
    was stopped before running it stayed counted as unfinished, and every later test's
    ``join()`` on that queue waited until pytest-timeout (one such run cost 20 minutes)."""
    from dramatiq.errors import QueueJoinTimeout

    from core.testing.fixtures import _empty_stub_queues

    broker = app.extensions["township_broker"]
    enqueue("example.stamp", "stamp:taken", note_id=note.id)
    db.session.commit()
    broker.queues["example"].get_nowait()  # a consumer took it; its worker stopped
    with pytest.raises(QueueJoinTimeout):
        broker.join("example", timeout=200)
    _empty_stub_queues(broker)
    broker.join("example", timeout=200)  # nothing owed any more


def test_while_the_broker_is_down_the_sweep_stops_at_the_first_refusal(
    app, db, note, caplog, monkeypatch
):
    """Not one error with its traceback per pending task on every sweep: one line, and the
    tasks wait, pending, for the sweep after the broker is back."""
    broker = app.extensions["township_broker"]
    for n in range(5):
        enqueue("example.stamp", f"stamp:down:{n}", send=False, note_id=note.id)
    db.session.commit()
    tries = []

    def refused(message, **options):
        tries.append(message)
        raise ConnectionError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(broker, "enqueue", refused)
        assert resend_due(app, grace_seconds=0) == 0
    assert len(tries) == 1
    refusals = [r for r in caplog.records if "refused a message" in r.getMessage()]
    assert len(refusals) == 1
    assert "5 pending task(s) wait for the next sweep" in refusals[0].getMessage()
    assert refusals[0].exc_info is None
    # never sent: the next sweep owes them after one grace, not a longer wait
    assert {task(db, f"stamp:down:{n}").sent_at for n in range(5)} == {None}

    assert resend_due(app, grace_seconds=0) == 5  # the broker is back
    assert {task(db, f"stamp:down:{n}").status for n in range(5)} == {"pending"}


def test_a_sweep_that_comes_while_one_is_sending_leaves_the_threads_to_the_work(
    app, db, note, caplog, monkeypatch
):
    """The scheduler sends a sweep every few seconds; when one took longer, the next ones
    each took a worker thread to send the same tasks again, until no thread was left for
    the tasks themselves (seen in the RabbitMQ restart run: nothing done for 6 minutes)."""
    caplog.set_level("INFO", logger="core.tasks")
    broker = app.extensions["township_broker"]
    for n in range(3):
        enqueue("example.stamp", f"stamp:slow:{n}", send=False, note_id=note.id)
    db.session.commit()
    first_send, go_on = threading.Event(), threading.Event()
    original = broker.enqueue

    def slow(message, **options):
        first_send.set()
        go_on.wait(30)
        return original(message, **options)

    monkeypatch.setattr(broker, "enqueue", slow)
    results = []
    sweeping = threading.Thread(target=lambda: results.append(resend_due(app, grace_seconds=0)))
    sweeping.start()
    assert first_send.wait(30)
    assert resend_due(app, grace_seconds=0) == 0  # returns at once, sends nothing
    assert "another sweep is still sending" in caplog.text
    go_on.set()
    sweeping.join(30)
    assert results == [3]
    assert broker.queues["example"].qsize() == 3  # each task once, not once per sweep
