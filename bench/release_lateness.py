"""Release lateness with 10,000 townships' plans: how late a scheduled release is published.

Creates its own PostgreSQL database (``bench_release_lateness`` on the server of
``TOWNSHIP_BENCH_POSTGRES_URL``, default the local one) and its own ``redis-server``
on a free port; seeds 10,000 townships with the release institution enabled and a
plan each (monthly, spread over the month: none falls in the run); starts
``township scheduler`` and ``township worker --processes 2 --threads 4``; waits until
the scheduler holds one trigger per plan; then gives ``--releases`` plans a daily
time in the next minutes (``--per-minute`` at each minute, one approved product
each) and waits for their batches. Prints, over those releases, the lateness
(scheduled time → published) p50/p99/max, and the scheduler's own part (scheduled
time → nudge sent). Then where the time went: scheduled → the publish task recorded (the
batch created) → the publication started (``published_at``) → committed (the task done),
and at which second of the minute the every-minute due sweep ran.

``--sweep-on-the-minute`` sets the due sweep's trigger to ``* * * * *`` (as an
administrator may): it then runs at the very second the releases are due, the worst
case for a sweep over every plan (by default its phase is the scheduler's start time).

    .venv/bin/python bench/release_lateness.py [--plans 10000 --releases 100 --per-minute 20]
        [--sweep-on-the-minute]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get(
    "TOWNSHIP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = "bench_release_lateness"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s: {what}")
        time.sleep(interval)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--releases", type=int, default=100)
    parser.add_argument("--per-minute", type=int, default=20)
    parser.add_argument(
        "--sweep-on-the-minute",
        action="store_true",
        help="run the every-minute due sweep at second 0, when the releases are due",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="township-bench-lateness-"))
    base = make_url(PG_URL)
    url = base.set(database=DB_NAME).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        redis_port = sock.getsockname()[1]
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    broker_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSHIP_")}
    env.update(
        PYTHONPATH=str(ROOT),
        TOWNSHIP_DATABASE_URL=url,
        TOWNSHIP_BROKER_URL=broker_url,
        TOWNSHIP_SECRET_KEY="bench",
        TOWNSHIP_EMBEDDED_SCHEDULER="false",
        TOWNSHIP_LOG_LEVEL="WARNING",
        TOWNSHIP_INSTANCE_PATH=str(work / "instance"),
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("TOWNSHIP_")})

    from core.app import create_app
    from core.db import db
    from core.migrate import upgrade
    from core.models import InstitutionSetting, JobRun, JobSchedule, OrgUnit, TaskRecord, UnitKind
    from plugins.releases.models import (
        BatchStatus,
        Product,
        ProductStatus,
        ReleaseBatch,
        ReleasePlan,
    )

    app = create_app({"DATABASE_URL": url, "BROKER_URL": broker_url, "SECRET_KEY": "bench"})
    upgrade(app)
    started = time.monotonic()
    with app.app_context():
        county = OrgUnit(name="基准县", code="bench-county", kind=UnitKind.county)
        db.session.add(county)
        db.session.flush()
        now = datetime.now(UTC)
        db.session.execute(
            insert(OrgUnit),
            [
                {
                    "name": f"镇{n}",
                    "code": f"bench-{n}",
                    "kind": UnitKind.township,
                    "parent_id": county.id,
                    "timezone": "Asia/Shanghai",
                    "created_at": now,
                }
                for n in range(args.plans)
            ],
        )
        db.session.execute(
            update(OrgUnit)
            .where(OrgUnit.kind == UnitKind.township)
            .values(township_id=OrgUnit.id)
            .execution_options(synchronize_session=False)
        )
        ids = db.session.scalars(
            select(OrgUnit.id).where(OrgUnit.kind == UnitKind.township).order_by(OrgUnit.id)
        ).all()
        db.session.execute(
            insert(InstitutionSetting),
            [
                {"township_id": i, "plugin_key": "releases", "enabled": True, "changed_at": now}
                for i in ids
            ],
        )
        # monthly plans spread over days 2-28 and the working hours: none fires during the run
        db.session.execute(
            insert(ReleasePlan),
            [
                {
                    "township_id": i,
                    "cron": f"{n % 60} {8 + n % 10} {2 + n % 27} * *",
                    "timezone": "Asia/Shanghai",
                    "channels": ["web"],
                    "active": True,
                    "schedule_changed_at": now,
                    "updated_at": now,
                }
                for n, i in enumerate(ids)
            ],
        )
        if args.sweep_on_the_minute:
            db.session.add(
                JobSchedule(job_id="releases.due_sweep", trigger="* * * * *", timezone="UTC")
            )
        db.session.commit()
    print(f"seeded {args.plans:,} townships with plans in {time.monotonic() - started:.1f} s")

    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [str(bin_dir / "township"), "scheduler"], cwd=ROOT, env=env,
        stdout=(work / "scheduler.log").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(bin_dir / "township"), "worker", "--processes", "2", "--threads", "4",
         "--queues", "releases"], cwd=ROOT, env=env,
        stdout=(work / "worker.log").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        activation = time.monotonic()

        def plan_jobs() -> int:
            with app.app_context():
                try:
                    n = db.session.scalar(
                        text(
                            "SELECT COUNT(*) FROM apscheduler_jobs WHERE id LIKE 'releases.plan:%'"
                        )
                    )
                except ProgrammingError:  # the scheduler has not created its table yet
                    n = 0
                db.session.remove()
                return n if n >= args.plans else 0

        wait_for(plan_jobs, 1800, 1, "one scheduler job per plan")
        print(
            f"the scheduler holds {args.plans:,} plan triggers "
            f"({time.monotonic() - activation:.1f} s after it started)"
        )

        # the releases of the run: daily times at the coming minutes, one product each
        with app.app_context():
            first = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
            chosen = ids[: args.releases]
            due: dict[int, datetime] = {}
            for n, township_id in enumerate(chosen):
                at = first + timedelta(minutes=n // args.per_minute)
                due[township_id] = at
                db.session.execute(
                    update(ReleasePlan)
                    .where(ReleasePlan.township_id == township_id)
                    .values(cron=f"{at.minute} {at.hour} * * *", timezone="UTC", updated_at=now)
                )
                db.session.add(
                    Product(
                        township_id=township_id,
                        title="基准产品",
                        audience="村民",
                        body="<p>内容</p>",
                        status=ProductStatus.approved,
                        approved_at=datetime.now(UTC),
                    )
                )
            db.session.commit()
        last = max(due.values())
        print(
            f"{len(due)} releases due from {first:%H:%M} to {last:%H:%M} UTC "
            f"({args.per_minute} at each minute)"
        )

        def published() -> int:
            with app.app_context():
                n = db.session.scalar(
                    select(func.count(ReleaseBatch.id)).where(
                        ReleaseBatch.township_id.in_(list(due)),
                        ReleaseBatch.status == BatchStatus.published,
                    )
                )
                db.session.remove()
                return n

        wait_seconds = (last - datetime.now(UTC)).total_seconds() + 120
        with contextlib.suppress(TimeoutError):
            wait_for(lambda: published() >= len(due), wait_seconds, 1, "every release published")
        with app.app_context():
            rows = db.session.execute(
                select(
                    ReleaseBatch.township_id,
                    ReleaseBatch.scheduled_for,
                    ReleaseBatch.published_at,
                    TaskRecord.created_at.label("recorded_at"),
                    TaskRecord.done_at,
                )
                .outerjoin(
                    TaskRecord,
                    TaskRecord.key == func.concat("releases-publish:", ReleaseBatch.id),
                )
                .where(ReleaseBatch.township_id.in_(list(due)))
            ).all()
            sweeps = db.session.scalars(
                select(JobRun.fired_at).where(
                    JobRun.job_id == "releases.due_sweep", JobRun.fired_at >= first
                )
            ).all()
            runs = db.session.execute(
                select(JobRun.scheduled_for, JobRun.fired_at).where(
                    JobRun.job_id.in_([f"releases.plan:{i}" for i in due])
                )
            ).all()
    finally:
        for proc in (scheduler, worker):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
        redis.terminate()
        redis.wait(30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        shutil.rmtree(work / "instance", ignore_errors=True)

    on_time = [
        r for r in rows if r.published_at is not None and r.scheduled_for == due[r.township_id]
    ]
    lateness = [(r.published_at - r.scheduled_for).total_seconds() for r in on_time]
    fired = [(r.fired_at - r.scheduled_for).total_seconds() for r in runs]
    print(f"published: {len(on_time)} of {len(due)} releases")
    if lateness:
        print(
            f"lateness (scheduled → published): p50 {statistics.median(lateness):.3f} s, "
            f"p99 {percentile(lateness, 99):.3f} s, max {max(lateness):.3f} s"
        )
    if fired:
        print(
            f"scheduler (scheduled → nudge sent): p50 {statistics.median(fired):.3f} s, "
            f"p99 {percentile(fired, 99):.3f} s, max {max(fired):.3f} s"
        )
    stages = [
        ("scheduled → publish task recorded", "recorded_at"),
        ("scheduled → publication started", "published_at"),
        ("scheduled → publication committed", "done_at"),
    ]
    for label, column in stages:
        values = [
            (getattr(r, column) - r.scheduled_for).total_seconds()
            for r in on_time
            if getattr(r, column) is not None
        ]
        if values:
            print(
                f"  {label}: p50 {statistics.median(values):.3f} s, "
                f"p99 {percentile(values, 99):.3f} s, max {max(values):.3f} s"
            )
    if sweeps:
        seconds = sorted({f"{s.second + s.microsecond / 1e6:.1f}" for s in sweeps})
        print(f"the due sweep ran {len(sweeps)} times, at second(s) {', '.join(seconds)}")
    print(f"logs: {work}")
    return 0 if len(on_time) == len(due) else 1


if __name__ == "__main__":
    sys.exit(main())
