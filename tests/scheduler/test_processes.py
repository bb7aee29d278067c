"""Two ``township scheduler`` processes on one database: one fires, the standby takes over.

Runs on the test database of the session (PostgreSQL with
``TOWNSHIP_TEST_DATABASE_URL``), with Redis database 14 as the broker the jobs enqueue on.
"""

from __future__ import annotations

import itertools
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from core.models import JobRun
from core.testing.fixtures import require_service
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
    active = processes.start("scheduler")
    active_holder = wait_for(lambda: holder_of(active), 20)
    standby = processes.start("scheduler")
    wait_for(lambda: "standby until it holds the lease" in processes.output(standby), 20)
    wait_for(lambda: len(tick_runs(db)) >= 3, 15)
    assert holder_of(active), "the first scheduler keeps the lease while it lives"

    processes.kill9(active)
    killed_at = datetime.now(UTC)
    taken = wait_for(
        lambda: [r for r in tick_runs(db) if r.holder != active_holder and r.outcome == "ok"],
        LEASE + INTERVAL.total_seconds() + 8,
    )
    standby_holder = taken[0].holder
    assert f":{standby.pid}:" in standby_holder
    assert taken[0].fired_at - killed_at < timedelta(seconds=LEASE + 3 + 2)
    wait_for(lambda: sum(r.holder == standby_holder for r in tick_runs(db)) >= 3, 12)

    rows = tick_runs(db)
    per_due_time = Counter(r.scheduled_for for r in rows)
    assert max(per_due_time.values()) == 1, f"a due time fired twice: {per_due_time}"
    assert {r.holder for r in rows} == {active_holder, standby_holder}
    # the standby continued the same schedule (from the shared job store), every 3 s
    times = sorted(per_due_time)
    assert all((b - a) % INTERVAL == timedelta(0) for a, b in itertools.pairwise(times))
    fired_on_time = [r for r in rows if r.fired_at - r.scheduled_for < timedelta(seconds=1)]
    assert len(fired_on_time) >= len(rows) - 2  # at most the takeover's runs are late

    # SIGTERM: the standby (now active) stops firing and releases the lease at once
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(10) == 0
    assert current_holder() == (None, None)
    assert "Scheduler stopped; lease released." in processes.output(standby)
    count = len(tick_runs(db))
    time.sleep(INTERVAL.total_seconds() + 1)
    assert len(tick_runs(db)) == count, "nothing fires once every scheduler is down"


@pytest.mark.slow
def test_the_scheduler_command_refuses_the_embedded_broker(processes):
    proc = processes.start("scheduler", TOWNSHIP_BROKER_URL="")
    assert proc.wait(30) == 1
    assert "the embedded broker runs inside `township serve`" in processes.output(proc)
