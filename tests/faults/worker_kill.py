"""A worker killed with ``kill -9`` during ``releases.publish`` and during a training
reminder run, again and again, on Redis and on RabbitMQ (a broker of the script's own).

One ``township worker`` runs; each repetition writes work (a release batch of 1000
approved products, or a month's reminders for 150 learners), waits a random moment,
kills the worker with ``kill -9``, starts another (as systemd would) and waits until
the work is done, by the broker's own
recovery (RabbitMQ: at once; Redis: after BROKER_HEARTBEAT_TIMEOUT_SECONDS) or, after
90 s, by the database sweep. Every product must be published exactly once, every
reminder sent exactly once.

    python -m tests.faults.worker_kill --reps 100 --broker both
"""

from __future__ import annotations

import random
import signal
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
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
    summary,
    wait_for,
)

PRODUCTS = 1000
LEARNERS = 150
SWEEP_AFTER = 90


def seed_learners(db, township_id: int) -> None:
    from core.models import Person, PersonCategory, User
    from plugins.training.models import Education, LearnerCategory, TrainingLearner

    for n in range(LEARNERS):
        user = User(username=f"fault-learner-{n}", name=f"学员{n}", password_hash="x")
        person = Person(township_id=township_id, name=f"学员{n}", category=PersonCategory.citizen)
        db.session.add_all([user, person])
        db.session.flush()
        db.session.add(
            TrainingLearner(
                township_id=township_id,
                person_id=person.id,
                category=LearnerCategory.township_cadre,
                education=Education.primary,
                joined_on=date(2000, 1, 1),
                user_id=user.id,
            )
        )
    db.session.commit()


WORKER = ("worker", "--threads", "2", "--queues", "releases,training")


def run(kind: str, reps: int) -> int:
    logdir = Path(tempfile.mkdtemp(prefix=f"township-faults-worker-{kind}-"))
    failures: list[str] = []
    lines: list[str] = []
    with Database(f"worker_{kind}") as database, own_broker(kind, f"worker{kind}") as broker:
        app = make_app(database.url, broker.url)
        from core.db import db
        from core.demo import load_demo
        from core.models import Notification, OrgUnit, TaskRecord, TaskStatus
        from core.tasks import enqueue, resend_due
        from plugins.releases.models import (
            ArchiveEntry,
            ArchiveKind,
            BatchStatus,
            Product,
            ProductStatus,
            ReleaseBatch,
        )
        from plugins.training.services import record_reminders

        with app.app_context():
            load_demo()
            township = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "dongfeng"))
            township_id = township.id
            seed_learners(db, township_id)
            db.session.remove()

        procs = Processes(database.url, broker.url, logdir)
        worker = procs.start(*WORKER)

        def booted(proc) -> bool:
            return "thread(s) on" in procs.output(proc)

        def kill_and_replace(proc):
            procs.kill9(proc)
            fresh = procs.start(*WORKER)
            wait_for(lambda: booted(fresh), 120, what="a new worker")
            return fresh

        wait_for(lambda: booted(worker), 120, what="the worker")

        def pending(keys_like: str) -> int:
            with app.app_context():
                n = db.session.scalar(
                    select(func.count(TaskRecord.id)).where(
                        TaskRecord.key.like(keys_like), TaskRecord.status != TaskStatus.done
                    )
                )
                db.session.remove()
                return n

        def finish(keys_like: str, stats: dict) -> None:
            started = time.monotonic()
            try:
                wait_for(lambda: pending(keys_like) == 0, SWEEP_AFTER, 0.1)
                stats["recovery"].append(time.monotonic() - started)
                return
            except TimeoutError:
                stats["swept"] += 1
            resend_due(app, grace_seconds=0)
            try:
                wait_for(lambda: pending(keys_like) == 0, 180, 0.2)
                stats["recovery"].append(time.monotonic() - started)
            except TimeoutError:
                failures.append(f"{kind}: tasks {keys_like} never finished")

        publish = {"recovery": [], "swept": 0, "mid": 0, "kills": 0}
        remind = {"recovery": [], "swept": 0, "mid": 0, "kills": 0}

        def write_batch(rep: int) -> tuple[int, str]:
            with app.app_context():
                now = datetime.now(UTC)
                db.session.add_all(
                    Product(
                        township_id=township_id,
                        title=f"产品 {rep}-{n}",
                        audience="村民",
                        body="<p>内容</p>",
                        status=ProductStatus.approved,
                        approved_at=now,
                    )
                    for n in range(PRODUCTS)
                )
                batch = ReleaseBatch(
                    township_id=township_id,
                    scheduled_for=now + timedelta(microseconds=rep),
                    channels=["web"],
                )
                db.session.add(batch)
                db.session.flush()
                key = f"releases-publish:{batch.id}"
                enqueue("releases.publish", key, batch_id=batch.id)
                db.session.commit()
                batch_id = batch.id
                db.session.remove()
            return batch_id, key

        def write_reminders(rep: int) -> str:
            day = date(2010 + rep // 12, rep % 12 + 1, 25)
            with app.app_context():
                record_reminders(today=day)
                db.session.remove()
            return f"training-remind%:{day:%Y-%m}%"

        def timed(keys_like: str) -> float:
            started = time.monotonic()
            wait_for(lambda: pending(keys_like) == 0, 300, 0.05)
            return time.monotonic() - started

        # warm-up without a kill: how long the work takes here (kills land within it)
        publish_takes = timed(write_batch(-1)[1])
        remind_takes = timed(write_reminders(reps))
        lines.append(
            f"{kind}: undisturbed: a 1000-product release takes {publish_takes:.1f} s, "
            f"a reminder run for {LEARNERS} learners {remind_takes:.1f} s"
        )
        try:
            for rep in range(reps):
                # -- releases.publish ------------------------------------------------
                batch_id, key = write_batch(rep)
                time.sleep(random.uniform(0.0, 1.2 * publish_takes))
                publish["mid"] += pending(key) > 0
                worker = kill_and_replace(worker)
                publish["kills"] += 1
                finish(key, publish)
                with app.app_context():
                    batch = db.session.get(ReleaseBatch, batch_id)
                    if batch.status != BatchStatus.published or batch.product_count != PRODUCTS:
                        failures.append(
                            f"{kind} rep {rep + 1}: batch {batch_id} {batch.status}, "
                            f"{batch.product_count} products"
                        )
                    db.session.remove()

                # -- a training reminder run -------------------------------------------
                month = write_reminders(rep)
                time.sleep(random.uniform(0.0, 1.2 * remind_takes))
                remind["mid"] += pending(month) > 0
                worker = kill_and_replace(worker)
                remind["kills"] += 1
                finish(month, remind)
                if (rep + 1) % 10 == 0:
                    print(
                        f"   ... {kind}: {rep + 1} repetitions; publish recovery "
                        f"{summary(publish['recovery'])}; reminders {summary(remind['recovery'])}",
                        flush=True,
                    )
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        finally:
            procs.stop_all()

        with app.app_context():
            products = db.session.scalar(select(func.count(Product.id)))
            published = db.session.scalar(
                select(func.count(Product.id)).where(Product.status == ProductStatus.published)
            )
            entries = dict(
                db.session.execute(
                    select(ArchiveEntry.product_id, func.count(ArchiveEntry.id))
                    .where(ArchiveEntry.kind == ArchiveKind.published)
                    .group_by(ArchiveEntry.product_id)
                ).all()
            )
            twice = sum(n > 1 for n in entries.values())
            reminders = db.session.scalar(
                select(func.count(Notification.id)).where(
                    Notification.key.like(f"training-remind:{township_id}:%")
                )
            )
            remind_tasks = db.session.scalar(
                select(func.count(TaskRecord.id)).where(
                    TaskRecord.actor_name == "training.remind",
                    TaskRecord.status == TaskStatus.done,
                )
            )
            retried = db.session.scalar(
                select(func.count(TaskRecord.id)).where(TaskRecord.attempts > 1)
            )
            not_done = db.session.scalar(
                select(func.count(TaskRecord.id)).where(
                    TaskRecord.status != TaskStatus.done,
                    TaskRecord.queue_name.in_(("releases", "training")),
                )
            )
        if published != products or len(entries) != products:
            failures.append(f"{kind}: {published}/{products} published, {len(entries)} archived")
        if twice:
            failures.append(f"{kind}: {twice} product(s) published twice")
        if reminders != remind_tasks or remind_tasks < LEARNERS * (reps + 1):
            failures.append(
                f"{kind}: {reminders} reminders for {remind_tasks} done reminder tasks "
                f"(expected at least {LEARNERS * (reps + 1)})"
            )
        if not_done:
            failures.append(f"{kind}: {not_done} task(s) not done")
        lines += [
            f"{kind}: releases.publish: {publish['kills']} kills ({publish['mid']} with the task "
            f"still pending), {products} products in {reps + 1} batches, published once: "
            f"{len(entries)}, twice: {twice}",
            f"{kind}:   back to done after the kill: {summary(publish['recovery'])}; "
            f"needed the database sweep: {publish['swept']}",
            f"{kind}: training reminders: {remind['kills']} kills ({remind['mid']} mid-run), "
            f"reminder tasks done: {remind_tasks}, reminders sent: {reminders} (one each)",
            f"{kind}:   back to done after the kill: {summary(remind['recovery'])}; "
            f"needed the database sweep: {remind['swept']}",
            f"{kind}: tasks retried after a failure: {retried}; logs: {logdir}",
        ]
    return report(f"worker killed with kill -9 ({kind})", lines, failures)


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    return max(run(kind, args.reps) for kind in brokers(args.broker))


if __name__ == "__main__":
    sys.exit(main())
