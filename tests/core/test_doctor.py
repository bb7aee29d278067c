"""Heartbeats of running processes, and `township doctor` warning when shared settings differ."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from core.cli import main
from core.db import utcnow
from core.heartbeat import beat, disagreements, fingerprint, process_id, running_processes
from core.models import ProcessHeartbeat
from core.testing.fixtures import require_service
from tests.scheduler.helpers import Processes, process_env, redis_test_url, wait_for


def doctor(app):
    return CliRunner().invoke(main, ["doctor"], obj=ScriptInfo(create_app=lambda: app))


def test_doctor_lists_processes_and_warns_when_a_shared_setting_differs(app, db):
    started = utcnow()
    beat(app, "worker", started)
    mine = db.session.get(ProcessHeartbeat, process_id("worker"))
    assert mine.pid > 0 and mine.role == "worker" and mine.started_at == started
    assert mine.settings["SECRET_KEY"] == fingerprint(app.config["SECRET_KEY"])
    assert "test-secret" not in str(mine.settings)
    # the scheduler on another machine was given another grace time
    db.session.add(
        ProcessHeartbeat(
            id="sched-host:4242:scheduler",
            role="scheduler",
            host="sched-host",
            pid=4242,
            started_at=started,
            seen_at=utcnow(),
            settings={**mine.settings, "SWEEP_GRACE_SECONDS": 300},
        )
    )
    # a process gone for long is not listed
    db.session.add(
        ProcessHeartbeat(
            id="old:1:web",
            role="web",
            host="old",
            pid=1,
            started_at=started - timedelta(days=2),
            seen_at=utcnow() - timedelta(hours=3),
            settings={"SWEEP_GRACE_SECONDS": 1},
        )
    )
    db.session.commit()
    assert [p.key for p in disagreements(running_processes())] == ["SWEEP_GRACE_SECONDS"]

    result = doctor(app)
    assert result.exit_code == 1, result.output
    assert "2 running process(es)" in result.output
    assert "scheduler sched-host  pid 4242" in result.output and "old:1:web" not in result.output
    assert "WARNING: SWEEP_GRACE_SECONDS differs between processes" in result.output
    assert "300: sched-host:4242:scheduler" in result.output
    assert "test-secret" not in result.output

    row = db.session.get(ProcessHeartbeat, "sched-host:4242:scheduler")
    row.settings = dict(mine.settings)
    db.session.commit()
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert "All running processes agree." in result.output


@pytest.mark.slow
def test_real_worker_and_scheduler_processes_write_heartbeats_the_doctor_compares(
    app, db, database_url, tmp_path
):
    url = require_service(redis_test_url(), "Redis")
    procs = Processes(tmp_path, process_env(database_url, BROKER_URL=url))
    try:
        worker = procs.start("worker", "--queues", "example", TOWNSHIP_SWEEP_GRACE_SECONDS="60")
        scheduler = procs.start("scheduler", TOWNSHIP_SWEEP_GRACE_SECONDS="300")

        def roles():
            db.session.rollback()
            return {
                row.pid: row
                for row in db.session.scalars(select(ProcessHeartbeat))
                if row.pid in (worker.pid, scheduler.pid)
            }

        rows = wait_for(lambda: len(roles()) == 2 and roles(), 120)
        assert {rows[worker.pid].role, rows[scheduler.pid].role} == {"worker", "scheduler"}
        result = doctor(app)
        assert result.exit_code == 1, result.output
        assert "WARNING: SWEEP_GRACE_SECONDS differs between processes" in result.output
        assert f":{worker.pid}:worker" in result.output
        assert f":{scheduler.pid}:scheduler" in result.output
    finally:
        procs.stop_all()
