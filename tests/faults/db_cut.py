"""PostgreSQL connections cut (``pg_terminate_backend``) again and again while the web,
a worker and the scheduler work.

gunicorn (2 workers) serves the demo county, a reader requests a township page and
``/readyz`` all the time, a writer records a durable task every 100 ms (a note stamped
with a 0.3 s pause, so cuts land inside tasks), and the scheduler fires ``example.tick``
every second. Each repetition terminates every backend of the database. Afterwards:
requests answered 200 or 503, never another error; every task done once (retried
after the cut); every due time fired once or skipped with a reason; the scheduler
still holds its lease; and no process was restarted.

    python -m tests.faults.db_cut --reps 100
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.faults.common import (
    ROOT,
    Database,
    Processes,
    arguments,
    free_port,
    make_app,
    own_broker,
    report,
    wait_for,
)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return -1


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    logdir = Path(tempfile.mkdtemp(prefix="township-faults-dbcut-"))
    failures: list[str] = []
    with Database("dbcut") as database, own_broker("redis", "dbcut") as broker:
        app = make_app(database.url, broker.url)
        from core.db import db
        from core.demo import load_demo
        from core.models import JobRun, JobSchedule, OrgUnit, SchedulerLease, TaskRecord, TaskStatus
        from core.tasks import enqueue
        from scheduler import runner
        from tests.example_plugin.models import ExampleNote, ExampleStamp

        with app.app_context():
            load_demo()
            db.session.add(JobSchedule(job_id="example.tick", trigger="every 1 seconds"))
            db.session.commit()
            township_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "dongfeng"))
            db.session.remove()

        procs = Processes(
            database.url,
            broker.url,
            logdir,
            SWEEP_SECONDS=5,
            SWEEP_GRACE_SECONDS=10,
            EXTRA_PLUGINS=json.dumps(["tests.example_plugin"]),
        )
        port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "core:create_app()"],
            cwd=ROOT,
            env=procs.env,
            stdout=(logdir / "web.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        procs.started.append(web)
        worker = procs.start("worker", "--queues", "example,core", "--threads", "4")
        scheduler = procs.start("scheduler")
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: status_of(base + "/t/dongfeng/") == 200, 120, 0.5, what="gunicorn")
        wait_for(lambda: "thread(s) on" in procs.output(worker), 120, what="the worker")

        stop = threading.Event()
        statuses: Counter[int] = Counter()
        writes = {"ok": 0, "refused": 0}

        def reader() -> None:
            while not stop.is_set():
                for path in ("/t/dongfeng/", "/readyz", "/t/dongfeng/releases/"):
                    statuses[status_of(base + path)] += 1

        def writer() -> None:
            with app.app_context():
                while not stop.is_set():
                    try:
                        note = ExampleNote(township_id=township_id, title="fault-note")
                        db.session.add(note)
                        db.session.flush()
                        enqueue("example.stamp", f"stamp:{note.id}", note_id=note.id, sleep=0.3)
                        db.session.commit()
                        writes["ok"] += 1
                    except Exception:  # the driver's own connection was cut too
                        db.session.rollback()
                        writes["refused"] += 1
                    time.sleep(0.1)
                db.session.remove()

        threads = [threading.Thread(target=f, daemon=True) for f in (reader, reader, writer)]
        for thread in threads:
            thread.start()
        cut = 0
        try:
            for rep in range(args.reps):
                time.sleep(random.uniform(0.5, 3.0))
                cut += database.cut()
                if (rep + 1) % 10 == 0:
                    print(
                        f"   ... {rep + 1} cuts ({cut} connections); {dict(statuses)}", flush=True
                    )
            time.sleep(3)
            stop.set()
            for thread in threads:
                thread.join(60)
            after = [status_of(base + "/t/dongfeng/") for _ in range(20)]

            def left() -> int:
                with app.app_context():
                    n = db.session.scalar(
                        select(func.count(TaskRecord.id)).where(
                            TaskRecord.status != TaskStatus.done,
                            TaskRecord.actor_name == "example.stamp",
                        )
                    )
                    db.session.remove()
                    return n

            try:
                wait_for(lambda: left() == 0, 300, 0.5, what="every task done")
            except TimeoutError:
                failures.append(f"{left()} task(s) never done")
            restarted = [p.args for p in (web, worker, scheduler) if p.poll() is not None]
            with app.app_context():
                holder = db.session.scalar(
                    select(SchedulerLease.holder).where(SchedulerLease.name == "scheduler")
                )
                db.session.remove()
            recovered = [
                line for line in procs.output(scheduler).splitlines() if "took the lease" in line
            ]
            for proc in (worker, scheduler):
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
            web.send_signal(signal.SIGTERM)
            web.wait(60)
        finally:
            stop.set()
            procs.stop_all()

        with app.app_context():
            tasks = db.session.execute(
                select(TaskRecord.status, TaskRecord.attempts).where(
                    TaskRecord.actor_name == "example.stamp"
                )
            ).all()
            stamps = dict(
                db.session.execute(
                    select(ExampleStamp.note_id, func.count(ExampleStamp.id)).group_by(
                        ExampleStamp.note_id
                    )
                ).all()
            )
            notes = db.session.scalar(
                select(func.count(ExampleNote.id)).where(ExampleNote.title == "fault-note")
            )
            runs = db.session.execute(
                select(JobRun.scheduled_for, JobRun.outcome, JobRun.message, JobRun.holder)
                .where(JobRun.job_id == "example.tick")
                .order_by(JobRun.scheduled_for)
            ).all()

    other = {code: n for code, n in statuses.items() if code not in (200, 503)}
    if other:
        failures.append(f"requests answered {other} (only 200 or 503 are allowed)")
    if any(code != 200 for code in after):
        failures.append(f"after the last cut the page answered {Counter(after)}")
    twice = sum(n > 1 for n in stamps.values())
    if twice or len(stamps) != notes:
        failures.append(f"{notes} notes: {len(stamps)} stamped, {twice} twice")
    per_due = Counter(r.scheduled_for for r in runs)
    grid = int((runs[-1].scheduled_for - runs[0].scheduled_for) / timedelta(seconds=1)) + 1
    if max(per_due.values()) > 1 or grid != len(per_due):
        failures.append(f"scheduler: {grid} due times, {len(per_due)} with a row")
    if restarted:
        failures.append(f"a process exited: {restarted}")
    holders = {r.holder for r in runs}
    if len(holders) != 1 or holder not in holders:
        failures.append(f"the lease changed hands: {holders}, now {holder}")
    reasons = Counter(runner.skip_reason(r.message) for r in runs if r.outcome == "skipped")
    lines = [
        f"cuts: {args.reps} (pg_terminate_backend of every connection; {cut} backends ended)",
        f"requests: {sum(statuses.values())}: "
        + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        + f"; the 20 after the last cut: {Counter(after)}",
        f"tasks: {len(tasks)} written ({writes['refused']} writes refused while cut), done: "
        f"{sum(s == 'done' for s, _ in tasks)}, retried after a cut: "
        f"{sum(a > 1 for _, a in tasks)}; notes stamped once: {len(stamps) - twice}, "
        f"twice: {twice}",
        f"scheduler: {grid} due times, fired: {sum(r.outcome == 'ok' for r in runs)}, "
        + "skipped: "
        + (", ".join(f"{k}: {n}" for k, n in sorted(reasons.items())) or "none")
        + f", errors: {sum(r.outcome == 'error' for r in runs)}; one holder throughout: "
        f"{len(holders) == 1}; re-activations after a cut: {max(0, len(recovered) - 1)}",
        f"processes restarted: {len(restarted)}; logs: {logdir}",
    ]
    return report("PostgreSQL connections cut", lines, failures)


if __name__ == "__main__":
    sys.exit(main())
