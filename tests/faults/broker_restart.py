"""The broker stopped and started again and again while tasks are being written.

A broker of the script's own (``redis-server`` on a free port without persistence, so
a restart loses every message it held; or a RabbitMQ node of its own) serves a worker
and a scheduler (whose ``core.resend_sweep`` runs every 5 s for tasks pending 10 s).
A writer records a durable task (a note to stamp) every 50 ms the whole time; each
repetition stops the broker for 2–5 s and starts it again. At the end every task must
be done and every note stamped exactly once: nothing lost, nothing twice.

    python -m tests.faults.broker_restart --reps 100 --broker both
"""

from __future__ import annotations

import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.faults.common import (
    Database,
    Processes,
    arguments,
    brokers,
    make_app,
    own_broker,
    report,
    wait_for,
)


def run(kind: str, reps: int) -> int:
    logdir = Path(tempfile.mkdtemp(prefix=f"township-faults-broker-{kind}-"))
    failures: list[str] = []
    with Database(f"broker_{kind}") as database, own_broker(kind, f"broker{kind}") as broker:
        app = make_app(database.url, broker.url)
        from core.db import db
        from core.models import OrgUnit, TaskRecord, TaskStatus, UnitKind
        from core.tasks import enqueue
        from tests.example_plugin.models import ExampleNote, ExampleStamp

        with app.app_context():
            unit = OrgUnit(name="故障镇", code="faults", kind=UnitKind.township)
            db.session.add(unit)
            db.session.flush()
            unit.township_id = unit.id
            db.session.commit()
            township_id = unit.id
            db.session.remove()

        procs = Processes(database.url, broker.url, logdir, SWEEP_SECONDS=5, SWEEP_GRACE_SECONDS=10)
        worker = procs.start("worker", "--queues", "example,core", "--threads", "4")
        scheduler = procs.start("scheduler")
        wait_for(lambda: "thread(s) on" in procs.output(worker), 120, what="the worker")

        stop = threading.Event()
        written = {"tasks": 0, "failed_writes": 0}

        def writer() -> None:
            with app.app_context():
                while not stop.is_set():
                    try:
                        note = ExampleNote(township_id=township_id, title="note")
                        db.session.add(note)
                        db.session.flush()
                        enqueue("example.stamp", f"stamp:{note.id}", note_id=note.id)
                        db.session.commit()  # the message goes after the commit (or not)
                        written["tasks"] += 1
                    except Exception:
                        db.session.rollback()
                        written["failed_writes"] += 1
                    time.sleep(0.05)
                db.session.remove()

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        down: list[float] = []
        try:
            for rep in range(reps):
                time.sleep(random.uniform(1.0, 3.0))
                broker.stop()
                pause = random.uniform(2.0, 5.0)
                time.sleep(pause)
                broker.start()
                down.append(pause)
                if (rep + 1) % 10 == 0:
                    print(
                        f"   ... {kind}: {rep + 1} restarts, {written['tasks']} tasks", flush=True
                    )
            time.sleep(2)
            stop.set()
            thread.join(60)

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
                wait_for(lambda: left() == 0, 600, 0.5, what="every task done")
            except TimeoutError:
                failures.append(f"{kind}: {left()} task(s) never done")
            alive = [p for p in (worker, scheduler) if p.poll() is None]
            if len(alive) != 2:
                failures.append(
                    f"{kind}: a process died: {[p.args[-1] for p in (worker, scheduler)]}"
                )
            for proc in (worker, scheduler):
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
        finally:
            stop.set()
            procs.stop_all()

        with app.app_context():
            tasks = db.session.scalar(
                select(func.count(TaskRecord.id)).where(TaskRecord.actor_name == "example.stamp")
            )
            done = db.session.scalar(
                select(func.count(TaskRecord.id)).where(
                    TaskRecord.actor_name == "example.stamp", TaskRecord.status == TaskStatus.done
                )
            )
            resent = db.session.scalar(
                select(func.count(TaskRecord.id)).where(
                    TaskRecord.actor_name == "example.stamp", TaskRecord.sent_at.is_not(None)
                )
            )
            notes = db.session.scalar(select(func.count(ExampleNote.id)))
            stamps = dict(
                db.session.execute(
                    select(ExampleStamp.note_id, func.count(ExampleStamp.id)).group_by(
                        ExampleStamp.note_id
                    )
                ).all()
            )
    twice = sum(n > 1 for n in stamps.values())
    lost = notes - len(stamps)
    if twice:
        failures.append(f"{kind}: {twice} note(s) stamped twice")
    if lost:
        failures.append(f"{kind}: {lost} note(s) never stamped")
    if tasks != notes or done != tasks:
        failures.append(f"{kind}: {tasks} tasks for {notes} notes, {done} done")
    lines = [
        f"{kind}: {len(down)} stops and starts of the broker (down {sum(down):.0f} s in all)",
        f"{kind}: tasks written: {tasks} ({written['failed_writes']} writes refused); done: "
        f"{done}; re-sent by the database sweep: {resent}",
        f"{kind}: notes stamped once: {len(stamps) - twice}, twice: {twice}, never: {lost}",
        f"{kind}: logs: {logdir}",
    ]
    return report(f"broker stopped and started ({kind})", lines, failures)


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    return max(run(kind, args.reps) for kind in brokers(args.broker))


if __name__ == "__main__":
    sys.exit(main())
