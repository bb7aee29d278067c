"""Benchmark: monthly training compliance on PostgreSQL, and the attendance save's queries.

Creates (or re-creates) the database ``bench_training``, migrates it, loads one
township with 10 villages, 10,000 learners and 30 days of self-study logs each
(300,000 rows), sessions and attendance, then times
:func:`plugins.training.services.monthly_compliance` (target ≤ 1 s), the village and
township figures alone (the county dashboard's ``monthly_compliances(..., learners=False)``)
and one page of the compliance screen (:func:`~plugins.training.services.compliance_page`),
and counts the queries of an attendance save for 100 learners (a fixed number).

    .venv/bin/python bench/training_compliance.py [--url postgresql://postgres@127.0.0.1:5432/bench_training]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LEARNERS = 10_000
DAYS = 30
VILLAGES = 10
YEAR, MONTH = 2025, 4  # 30 days


def ensure_database(url: str) -> None:
    """Create the benchmark database if missing, and empty its schema."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def load(db, township_id: int) -> None:
    from sqlalchemy import insert, select

    from core.models import OrgUnit, Person, UnitKind
    from core.policies import set_policy
    from plugins.training.models import (
        TrainingAttendance,
        TrainingLearner,
        TrainingSession,
        TrainingStudyLog,
    )

    villages = []
    for n in range(VILLAGES):
        unit = OrgUnit(
            kind=UnitKind.village,
            name=f"村{n:02d}",
            code=f"bench-v{n}",
            township_id=township_id,
            parent_id=township_id,
        )
        db.session.add(unit)
        villages.append(unit)
    db.session.flush()
    db.session.execute(
        insert(Person),
        [
            {
                "township_id": township_id,
                "village_id": villages[n % VILLAGES].id,
                "name": f"学员{n:05d}",
                "category": "cadre",
                "id_number": f"15{n:016d}",
            }
            for n in range(LEARNERS)
        ],
    )
    person_ids = db.session.scalars(
        select(Person.id).where(Person.township_id == township_id).order_by(Person.id)
    ).all()
    categories = ["township_cadre", "village_cadre", "party_member", "party_member"]
    db.session.execute(
        insert(TrainingLearner),
        [
            {
                "township_id": township_id,
                "person_id": pid,
                "category": categories[n % 4],
                "village_id": None if n % 4 == 0 else villages[n % VILLAGES].id,
                "education": "junior_middle",
                "joined_on": date(2024, 1, 1) if n % 50 else date(YEAR, MONTH, 16),
                "active": True,
            }
            for n, pid in enumerate(person_ids)
        ],
    )
    learner_ids = db.session.scalars(
        select(TrainingLearner.id)
        .where(TrainingLearner.township_id == township_id)
        .order_by(TrainingLearner.id)
    ).all()
    db.session.commit()
    first = date(YEAR, MONTH, 1)
    batch = []
    for n, lid in enumerate(learner_ids):
        for day in range(DAYS):
            batch.append(
                {
                    "township_id": township_id,
                    "learner_id": lid,
                    "studied_on": first + timedelta(days=day),
                    "half_hours": 1 + (n + day) % 3,
                    "material_kind": "set_reading",
                    "material": "党章",
                    "note_chars": 150,
                    "status": "confirmed",
                }
            )
        if len(batch) >= 30_000:
            db.session.execute(insert(TrainingStudyLog), batch)
            batch = []
    if batch:
        db.session.execute(insert(TrainingStudyLog), batch)
    sessions = []
    for organiser in [township_id, *[v.id for v in villages[:-1]]]:
        s = TrainingSession(
            township_id=township_id,
            organiser_id=organiser,
            held_on=date(YEAR, MONTH, 10),
            half_days=2,
            topic="集中学习",
        )
        db.session.add(s)
        sessions.append(s)
    db.session.flush()
    db.session.execute(
        insert(TrainingAttendance),
        [
            {
                "township_id": township_id,
                "session_id": sessions[0].id,
                "learner_id": lid,
                "status": ["present", "present", "absent", "excused"][n % 4],
                "reason": "事假" if n % 4 == 3 else "",
            }
            for n, lid in enumerate(learner_ids)
        ],
    )
    set_policy(township_id, "training.party_member_note_chars", 3000)
    db.session.commit()
    db.session.execute(__import__("sqlalchemy").text("ANALYZE"))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_training"
        ),
    )
    args = parser.parse_args()
    ensure_database(args.url)

    from sqlalchemy import func, select

    from core import create_app
    from core.db import db
    from core.migrate import upgrade
    from core.models import OrgUnit, UnitKind
    from core.testing.fixtures import count_queries
    from plugins.training.models import TrainingLearner, TrainingSession, TrainingStudyLog
    from plugins.training.services import (
        Mark,
        compliance_page,
        monthly_compliance,
        monthly_compliances,
        record_attendance,
    )

    app = create_app(
        {
            "DATABASE_URL": args.url,
            "SECRET_KEY": "bench",
            "TESTING": True,
            "EMBEDDED_SCHEDULER": False,
            "PLUGINS": "training",
        }
    )
    upgrade(app)
    with app.app_context():
        township = OrgUnit(kind=UnitKind.township, name="基准镇", code="bench")
        db.session.add(township)
        db.session.flush()
        township.township_id = township.id
        db.session.commit()
        started = time.perf_counter()
        load(db, township.id)
        rows = db.session.scalar(select(func.count(TrainingStudyLog.id)))
        print(
            f"loaded {LEARNERS} learners, {rows} self-study rows in "
            f"{time.perf_counter() - started:.1f} s"
        )

        timings = []
        for _ in range(5):
            db.session.expire_all()
            t0 = time.perf_counter()
            with count_queries(db.engine) as queries:
                report = monthly_compliance(township.id, YEAR, MONTH)
            timings.append(time.perf_counter() - t0)
        print(
            f"monthly_compliance: {len(report.learners)} learners, "
            f"{len(report.behind)} behind, {len(queries)} queries; "
            f"best {min(timings) * 1000:.0f} ms, median {statistics.median(timings) * 1000:.0f} ms "
            f"(target ≤ 1000 ms)"
        )
        for label, figures in (
            (
                "unit figures only (dashboard)",
                lambda: monthly_compliances({township.id: (YEAR, MONTH)}, learners=False),
            ),
            (
                "compliance page 3, behind only",
                lambda: compliance_page(
                    township.id, YEAR, MONTH, page=3, per_page=50, only_behind=True
                ),
            ),
        ):
            timings = []
            for _ in range(5):
                db.session.expire_all()
                t0 = time.perf_counter()
                with count_queries(db.engine) as queries:
                    figures()
                timings.append(time.perf_counter() - t0)
            print(
                f"{label}: {len(queries)} queries; best {min(timings) * 1000:.0f} ms, "
                f"median {statistics.median(timings) * 1000:.0f} ms"
            )

        session = db.session.scalars(
            select(TrainingSession).where(TrainingSession.organiser_id == township.id)
        ).first()
        ids = db.session.scalars(
            select(TrainingLearner.id)
            .where(
                TrainingLearner.township_id == township.id,
                TrainingLearner.joined_on < date(YEAR, MONTH, 1),
            )
            .order_by(TrainingLearner.id)
            .limit(100)
        ).all()
        new_session = TrainingSession(
            township_id=township.id,
            organiser_id=township.id,
            held_on=date(YEAR, MONTH, 20),
            half_days=1,
            topic="补课",
        )
        db.session.add(new_session)
        db.session.commit()
        for label, target in (("insert", new_session.id), ("update", session.id)):
            marks = [
                Mark(lid, ["present", "absent", "excused"][n % 3], "病假")
                for n, lid in enumerate(ids)
            ]
            db.session.expire_all()
            t0 = time.perf_counter()
            with count_queries(db.engine) as queries:
                record_attendance(township.id, target, marks)
            print(
                f"attendance save, 100 learners ({label}): {len(queries)} queries, "
                f"{(time.perf_counter() - t0) * 1000:.0f} ms"
            )
        marks10 = [Mark(lid, "present") for lid in ids[:10]]
        db.session.expire_all()
        with count_queries(db.engine) as queries:
            record_attendance(township.id, new_session.id, marks10)
        print(f"attendance save, 10 learners: {len(queries)} queries")


if __name__ == "__main__":
    main()
