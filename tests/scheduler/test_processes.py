"""Two ``township scheduler`` processes on one database: one fires, the standby takes over.

Runs on the test database of the session (PostgreSQL with
``TOWNSHIP_TEST_DATABASE_URL``), with Redis database 14 as the broker the jobs enqueue on.
"""

from __future__ import annotations

import itertools
import signal
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from core.models import JobRun
from core.testing.fixtures import require_service
from scheduler import runner
from scheduler.lease import current_holder
from scheduler.service import JOB_TABLE
from tests.scheduler.helpers import Processes, process_env, redis_test_url, wait_for

REDIS_URL = redis_test_url()
LEASE = 3
INTERVAL = timedelta(seconds=3)  # example.tick: every 3 seconds


@pytest.fixture
def redis_broker():
    from core.tasks import make_broker

    url = require_service(REDIS_URL, "Redis")
    broker = make_broker(url)
    broker.flush("example")
    yield url
    broker.flush("example")
    broker.close()


@pytest.fixture
def processes(app, db, database_url, redis_broker, tmp_path):
    def clear_job_store():
        with db.engine.begin() as conn:
            if inspect(conn).has_table(JOB_TABLE):
                conn.execute(text(f"DELETE FROM {JOB_TABLE}"))

    clear_job_store()
    env = process_env(database_url, BROKER_URL=redis_broker, SCHEDULER_LEASE_SECONDS=LEASE)
    procs = Processes(tmp_path, env)
    try:
        yield procs
    finally:
        procs.stop_all()
        clear_job_store()


def tick_runs(db) -> list[JobRun]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(JobRun).where(JobRun.job_id == "example.tick").order_by(JobRun.scheduled_for)
        )
    )


def holder_of(proc) -> str | None:
    holder = current_holder()[0]
    return holder if holder and f":{proc.pid}:" in holder else None


@pytest.mark.slow
def test_two_schedulers_fire_each_due_time_once_and_the_standby_takes_over(db, processes):
    """Order and counts only (generous timeouts, no clock readings): the machine may be busy."""
    active = processes.start("scheduler")
    active_holder = wait_for(lambda: holder_of(active), 60)
    standby = processes.start("scheduler")
    wait_for(lambda: "standby until it holds the lease" in processes.output(standby), 60)
    wait_for(lambda: len(tick_runs(db)) >= 3, 60)
    assert holder_of(active), "the first scheduler keeps the lease while it lives"

    processes.kill9(active)
    taken = wait_for(
        lambda: [r for r in tick_runs(db) if r.holder != active_holder and r.outcome == "ok"], 90
    )
    standby_holder = taken[0].holder
    assert f":{standby.pid}:" in standby_holder
    wait_for(lambda: sum(r.holder == standby_holder for r in tick_runs(db)) >= 3, 60)

    # SIGTERM: the standby (now active) stops firing and releases the lease at once
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(30) == 0
    assert current_holder() == (None, None)
    assert "Scheduler stopped; lease released." in processes.output(standby)
    stopped = len(tick_runs(db))

    rows = tick_runs(db)
    per_due_time = Counter(r.scheduled_for for r in rows)
    assert max(per_due_time.values()) == 1, f"a due time fired twice: {per_due_time}"
    assert {r.holder for r in rows} == {active_holder, standby_holder}
    # the standby continued the same schedule (from the shared job store), every 3 s, and
    # no due time vanished: each one of the grid has a row, fired or skipped with a reason
    times = sorted(per_due_time)
    assert all(b - a == INTERVAL for a, b in itertools.pairwise(times)), times
    for run in rows:
        assert run.outcome == "ok" or runner.skip_reason(run.message), run.message
    # every run before the takeover is the first scheduler's, every one after the standby's
    holders = [r.holder for r in rows]
    first_standby = holders.index(standby_holder)
    assert set(holders[:first_standby]) <= {active_holder}
    assert set(holders[first_standby:]) == {standby_holder}

    # a scheduler started later fires again; nothing was fired while every scheduler was down
    again = processes.start("scheduler")
    later = wait_for(lambda: [r for r in tick_runs(db)[stopped:] if r.outcome == "ok"], 90)
    assert f":{again.pid}:" in later[0].holder
    assert {r.holder for r in tick_runs(db)[stopped:]} == {later[0].holder}


@pytest.mark.slow
def test_the_scheduler_command_refuses_the_embedded_broker(processes):
    proc = processes.start("scheduler", TOWNSHIP_BROKER_URL="")
    assert proc.wait(30) == 1
    assert "the embedded broker runs inside `township serve`" in processes.output(proc)
