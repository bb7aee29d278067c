"""The active scheduler killed with ``kill -9`` again and again, at random moments.

Two ``township scheduler`` processes run on a database and a Redis of their own; the
job ``example.tick`` fires every second. Each repetition waits a random 0.2–6 s, kills
the active scheduler with ``kill -9``, measures how long the standby takes to fire,
and starts a new standby. At the end every due time from the first to the last must
have exactly one run row (fired, or skipped with its reason), no due time may have
fired twice, and the messages sent can never outnumber the fired runs.

    python -m tests.faults.scheduler_kill --reps 100
"""

from __future__ import annotations

import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.faults.common import (
    Database,
    Processes,
    arguments,
    make_app,
    own_broker,
    report,
    summary,
    wait_for,
)

TICK = timedelta(seconds=1)


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    logdir = Path(tempfile.mkdtemp(prefix="township-faults-scheduler-"))
    with Database("scheduler") as database, own_broker("redis", "scheduler") as redis_server:
        app = make_app(database.url, redis_server.url)
        from core.db import db
        from core.models import JobRun, JobSchedule, SchedulerLease
        from scheduler import runner

        with app.app_context():
            db.session.add(JobSchedule(job_id="example.tick", trigger="every 1 seconds"))
            db.session.commit()

        def holder() -> str | None:
            with app.app_context():
                row = db.session.get(SchedulerLease, "scheduler")
                value = row.holder if row else None
                db.session.remove()
                return value

        def ok_by(pid: int) -> bool:
            with app.app_context():
                found = db.session.scalar(
                    select(JobRun.id).where(
                        JobRun.job_id == "example.tick",
                        JobRun.outcome == runner.OK,
                        JobRun.holder.like(f"%:{pid}:%"),
                    )
                )
                db.session.remove()
                return found is not None

        procs = Processes(database.url, redis_server.url, logdir)
        takeovers: list[float] = []
        failures: list[str] = []
        try:
            active = procs.start("scheduler")
            wait_for(lambda: (holder() or "").find(f":{active.pid}:") > 0, 120, what="first lease")
            standby = procs.start("scheduler")
            wait_for(lambda: "standby until" in procs.output(standby), 120, what="standby")
            wait_for(lambda: ok_by(active.pid), 60, what="first tick")
            for rep in range(args.reps):
                time.sleep(random.uniform(0.2, 6.0))
                killed_at = time.monotonic()
                procs.kill9(active)
                try:
                    wait_for(lambda s=standby: ok_by(s.pid), 180, 0.05, what="takeover")
                except TimeoutError:
                    failures.append(f"repetition {rep + 1}: the standby never fired")
                    break
                takeovers.append(time.monotonic() - killed_at)
                active, standby = standby, procs.start("scheduler")
                wait_for(lambda s=standby: "standby until" in procs.output(s), 120, what="standby")
                if (rep + 1) % 10 == 0:
                    print(f"   ... {rep + 1} kills, takeover {summary(takeovers)}", flush=True)
            active.send_signal(signal.SIGTERM)
            active.wait(60)
            standby.send_signal(signal.SIGTERM)
            standby.wait(60)
        finally:
            procs.stop_all()

        with app.app_context():
            rows = db.session.execute(
                select(JobRun.scheduled_for, JobRun.outcome, JobRun.message)
                .where(JobRun.job_id == "example.tick")
                .order_by(JobRun.scheduled_for)
            ).all()
        import redis

        sent = redis.Redis.from_url(redis_server.url).hlen("dramatiq:example.msgs")

    per_due = Counter(r.scheduled_for for r in rows)
    first, last = rows[0].scheduled_for, rows[-1].scheduled_for
    grid = int((last - first) / TICK) + 1
    missing = grid - len(per_due)
    fired = sum(r.outcome == "ok" for r in rows)
    reasons = Counter(runner.skip_reason(r.message) for r in rows if r.outcome == "skipped")
    errors = sum(r.outcome == "error" for r in rows)
    twice = sum(n > 1 for n in per_due.values())
    if twice:
        failures.append(f"{twice} due time(s) have two rows")
    if missing:
        failures.append(f"{missing} due time(s) vanished (no run row, not recorded as skipped)")
    if sent > fired:
        failures.append(f"{sent} messages sent for {fired} fired due times: something fired twice")
    if errors:
        failures.append(f"{errors} run(s) failed to enqueue")
    goal = "met" if takeovers and max(takeovers) <= 30 else "NOT met"
    lines = [
        f"kills: {len(takeovers)} of {args.reps} (kill -9 of the active scheduler, random moments)",
        f"due times: {grid} (every second over {last - first}); with a row: {len(per_due)}; "
        f"vanished: {missing}",
        f"fired once: {fired}; fired twice: {twice}; messages sent: {sent} "
        f"(a kill between the run row and the send loses a nudge: {fired - sent})",
        "skipped with a reason: "
        + (", ".join(f"{k}: {n}" for k, n in sorted(reasons.items())) or "none"),
        f"takeover (kill to the standby's first firing): {summary(takeovers)}; goal <= 30 s {goal}",
        f"logs: {logdir}",
    ]
    return report("scheduler killed with kill -9", lines, failures)


if __name__ == "__main__":
    sys.exit(main())
