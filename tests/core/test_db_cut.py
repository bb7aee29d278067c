"""PostgreSQL connections cut (``pg_terminate_backend``) during a request, a task and a
scheduler tick: the request answers 503, the task is retried and done once, the scheduler
keeps its lease logic, and everything recovers without a restart."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from core.config import normalise_database_url
from core.models import JobRun, JobSchedule, TaskRecord, TaskStatus
from core.tasks import enqueue
from scheduler.lease import current_holder
from scheduler.service import JOB_TABLE, start_embedded_scheduler
from tests.example_plugin.models import ExampleNote, ExampleStamp
from tests.scheduler.helpers import wait_for


@pytest.fixture
def cutter(database_url):
    """``cut(pid=None)``: terminate one backend, or every other backend of the test database."""
    if not database_url.startswith("postgres"):
        pytest.skip("cutting connections is a PostgreSQL fault")
    engine = create_engine(normalise_database_url(database_url), isolation_level="AUTOCOMMIT")

    def cut(pid: int | None = None) -> int:
        with engine.connect() as conn:
            if pid is not None:
                return int(
                    conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
                )
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )

    yield cut
    engine.dispose()


def test_a_request_whose_connection_is_cut_answers_503_and_the_next_one_works(
    app, db, township, client, cutter
):
    from core.db import db as _db

    def cut_my_connection():
        pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        assert cutter(pid) == 1

    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.append(cut_my_connection)
    try:
        cut = client.get("/t/east/")
    finally:
        hooks.remove(cut_my_connection)
    assert cut.status_code == 503
    assert cut.headers["Retry-After"] == "5"
    assert "try again" in cut.get_data(as_text=True)
    assert client.get("/t/east/").status_code == 200, "recovered without a restart"


def test_a_connection_cut_after_the_response_was_made_does_not_spoil_it(app, db, township, cutter):
    """The cut lands between the response and the end of the request (its teardown)."""
    from core.db import db as _db

    seen: list[int] = []

    def remember_my_connection():
        seen.append(_db.session.execute(text("SELECT pg_backend_pid()")).scalar())

    def cut_it(exc):
        assert cutter(seen[-1]) == 1

    def get(path: str) -> int:
        # a thread of its own: each request has its own app context, torn down at its end
        codes: list[int] = []
        thread = threading.Thread(
            target=lambda: codes.append(app.test_client().get(path).status_code)
        )
        thread.start()
        thread.join(30)
        return codes[0]

    app.before_request_funcs.setdefault(None, []).append(remember_my_connection)
    app.teardown_request_funcs.setdefault(None, []).append(cut_it)
    try:
        status = get("/t/east/")
    finally:
        app.before_request_funcs[None].remove(remember_my_connection)
        app.teardown_request_funcs[None].remove(cut_it)
    assert status == 200
    assert get("/t/east/") == 200


def test_a_task_whose_connection_is_cut_is_retried_and_done_once(
    app, db, township, stub_worker, cutter, tmp_path, monkeypatch
):
    marker = tmp_path / "started.txt"
    monkeypatch.setenv("EXAMPLE_STAMP_MARKER", str(marker))
    note = ExampleNote(township_id=township.id, title="note")
    db.session.add(note)
    db.session.commit()
    enqueue("example.stamp", f"stamp:{note.id}", note_id=note.id, sleep=1.5)
    db.session.commit()

    def cut_when_started():
        wait_for(marker.exists, 60, 0.05)
        cutter()

    watcher = threading.Thread(target=cut_when_started)
    watcher.start()
    watcher.join(90)
    task = wait_for(
        lambda: (
            (
                db.session.rollback()
                or db.session.scalar(select(TaskRecord).where(TaskRecord.key == f"stamp:{note.id}"))
            )
            if _done(db, note.id)
            else None
        ),
        90,
        0.2,
    )
    assert task.status == TaskStatus.done
    assert task.attempts == 2, "the cut attempt failed and was recorded, the retry did it"
    assert "terminat" in (task.last_error or "") or "closed" in (task.last_error or "")
    assert len(db.session.scalars(select(ExampleStamp)).all()) == 1


def _done(db, note_id: int) -> bool:
    db.session.rollback()
    status = db.session.scalar(
        select(TaskRecord.status).where(TaskRecord.key == f"stamp:{note_id}")
    )
    return status == TaskStatus.done


@pytest.mark.slow
def test_a_scheduler_whose_connections_are_cut_keeps_its_lease_and_fires_each_time_once(
    app, db, cutter
):
    def clear_store():
        with db.engine.begin() as conn:
            if inspect(conn).has_table(JOB_TABLE):
                conn.execute(text(f"DELETE FROM {JOB_TABLE}"))

    clear_store()
    db.session.add(JobSchedule(job_id="example.tick", trigger="every 1 seconds"))
    db.session.commit()
    db.session.remove()
    service = start_embedded_scheduler(app, lease_seconds=3, poll_seconds=0.3)
    try:
        assert service.wait_active(30)

        observer = create_engine(db.engine.url, poolclass=NullPool)  # never cut mid-read

        def runs():
            with observer.connect() as conn:
                return conn.execute(
                    select(JobRun.scheduled_for, JobRun.holder)
                    .where(JobRun.job_id == "example.tick")
                    .order_by(JobRun.scheduled_for)
                ).all()

        wait_for(lambda: len(runs()) >= 3, 60)
        for _ in range(3):
            target = len(runs()) + 3
            cutter()
            wait_for(lambda target=target: len(runs()) >= target, 60)  # fires again
        db.session.remove()
        assert current_holder()[0] == service.holder, "it kept (or took back) its own lease"
        rows = runs()
        assert max(Counter(r.scheduled_for for r in rows).values()) == 1
        assert {r.holder for r in rows} == {service.holder}
    finally:
        service.stop()
        clear_store()
