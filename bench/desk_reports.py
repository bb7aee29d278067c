"""Benchmark: the service desk's reports over a year of cases, on SQLite and PostgreSQL.

Loads one township with 10 departments, 60 matters of the guide, 500 staff (50 leaders,
450 cadres) and 100,000 cases of 2025 (each registered, accepted, resolved and closed,
so 400,000 trail entries; about one in six resolved after its due date), then times

* ``plugins.guide.services.on_time_report`` for the year and for one month (the on-time
  rate per matter and per department), and
* ``plugins.commitment.services.quota_report`` for the year (500 people against the quota),

printing the median of three runs and the number of SQL queries of each.

    .venv/bin/python bench/desk_reports.py [--backend sqlite|postgresql|both]
        [--url postgresql://postgres@127.0.0.1:5432/bench_desk] [--cases 100000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

YEAR = 2025
STAFF = 500
LEADERS = 50
DEPARTMENTS = 10
MATTERS = 60
KINDS = (("service", 3), ("approval", 5), ("inquiry", 15), ("commitment", 10))


def ensure_postgres(url: str, empty: bool = True) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    if not name.startswith("bench_"):
        raise SystemExit(f"refusing to touch {name!r}: benchmark databases are named bench_*")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    if not empty:
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def make_app(url: str):
    from core import create_app
    from core.migrate import upgrade
    from plugins import commitment, guide, proxy

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "EMBEDDED_SCHEDULER": False,
            "EXTRA_PLUGINS": [guide, proxy, commitment],
            "LOG_LEVEL": "WARNING",
        }
    )
    upgrade(app)
    return app


def load(db, cases: int) -> int:
    """Insert the township, staff, matters and a year of closed cases; returns its id."""
    from sqlalchemy import insert

    from core.auth import hash_password
    from core.institutions import set_enabled
    from core.models import Case, CaseEvent, Membership, OrgUnit, UnitKind, User
    from plugins.guide.models import GuideCaseMatter, GuideMatter, Place

    rng = random.Random(7)
    county = OrgUnit(kind=UnitKind.county, name="基准县", code="bench-county")
    db.session.add(county)
    db.session.flush()
    township = OrgUnit(kind=UnitKind.township, name="基准镇", code="bench", parent_id=county.id)
    db.session.add(township)
    db.session.flush()
    township.township_id = township.id
    stations = []
    for n in range(DEPARTMENTS):
        unit = OrgUnit(
            kind=UnitKind.station,
            name=f"部门{n:02d}",
            code=f"bench-s{n}",
            parent_id=township.id,
            township_id=township.id,
        )
        db.session.add(unit)
        stations.append(unit)
    db.session.flush()
    password = hash_password("bench password")
    users = [
        {"username": f"staff{n:03d}", "name": f"干部{n:03d}", "password_hash": password}
        for n in range(STAFF)
    ]
    db.session.execute(insert(User), users)
    user_ids = [u.id for u in db.session.query(User.id).order_by(User.id)]
    db.session.execute(
        insert(Membership),
        [
            {
                "user_id": uid,
                "org_unit_id": township.id,
                "role": "leader" if n < LEADERS else "clerk",
            }
            for n, uid in enumerate(user_ids)
        ],
    )
    matters = []
    for n in range(MATTERS):
        kind, _limit = KINDS[n % len(KINDS)]
        matter = GuideMatter(
            township_id=township.id,
            name=f"事项{n:03d}",
            department_id=stations[n % DEPARTMENTS].id,
            place=Place.township,
            case_kind=kind,
        )
        db.session.add(matter)
        matters.append(matter)
    db.session.commit()
    for key in ("guide", "proxy", "commitment"):
        set_enabled(township, key, True)

    start = date(YEAR, 1, 1)
    batch_cases, batch_events, batch_links = [], [], []
    first_case_id = 1

    def flush():
        if not batch_cases:
            return
        db.session.execute(insert(Case), batch_cases)
        db.session.execute(insert(CaseEvent), batch_events)
        db.session.execute(insert(GuideCaseMatter), batch_links)
        db.session.commit()
        batch_cases.clear()
        batch_events.clear()
        batch_links.clear()

    for i in range(cases):
        case_id = first_case_id + i
        matter = matters[i % MATTERS]
        limit = dict(KINDS)[matter.case_kind]
        accepted = start + timedelta(days=rng.randrange(0, 350))
        due = accepted + timedelta(days=limit)
        took = rng.randrange(0, limit + 3)  # about one in six late
        resolved_at = datetime(
            accepted.year, accepted.month, accepted.day, 2, tzinfo=UTC
        ) + timedelta(days=took)
        closed_at = resolved_at + timedelta(days=1)
        accepted_at = datetime(accepted.year, accepted.month, accepted.day, 1, tzinfo=UTC)
        batch_cases.append(
            {
                "id": case_id,
                "township_id": township.id,
                "kind": matter.case_kind,
                "receipt_no": f"BENCH-{case_id:08d}",
                "title": matter.name,
                "description": "",
                "applicant_name": "群众",
                "first_responder_id": user_ids[i % STAFF],
                "handler_id": user_ids[rng.randrange(STAFF)],
                "department_id": matter.department_id,
                "status": "closed",
                "received_on": accepted,
                "accepted_on": accepted,
                "limit_amount": limit,
                "limit_unit": "calendar_days",
                "due_on": due,
                "paused_working_days": 0,
                "result": "办结",
                "closed_at": closed_at,
                "created_at": accepted_at,
                "updated_at": closed_at,
            }
        )
        for action, at in (
            ("registered", accepted_at),
            ("accepted", accepted_at),
            ("resolved", resolved_at),
            ("closed", closed_at),
        ):
            batch_events.append({"case_id": case_id, "action": action, "at": at})
        batch_links.append(
            {
                "township_id": township.id,
                "case_id": case_id,
                "matter_id": matter.id,
                "fee_standard_fen": 0,
                "created_at": accepted_at,
            }
        )
        if len(batch_cases) >= 5000:
            flush()
    flush()
    return township.id


def timed(db, fn, runs: int = 3) -> tuple[float, int]:
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    times = []
    for _ in range(runs):
        db.session.expire_all()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
        event.remove(db.engine, "before_cursor_execute", count)
    return statistics.median(times), len(statements)


def run(backend: str, url: str, cases: int) -> None:
    from sqlalchemy import select

    from core.db import db
    from core.models import OrgUnit
    from plugins.commitment.services import quota_report
    from plugins.guide.services import on_time_report

    app = make_app(url)
    with app.test_request_context():
        tid = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "bench"))
        if tid is None:
            began = time.perf_counter()
            tid = load(db, cases)
            print(f"[{backend}] loaded {cases:,} cases in {time.perf_counter() - began:.1f} s")
            if backend == "postgresql":  # fresh statistics, as autovacuum would give them
                from sqlalchemy import text

                db.session.execute(text("ANALYZE"))
                db.session.commit()
        year = on_time_report(tid, YEAR)
        t, q = timed(db, lambda: on_time_report(tid, YEAR))
        print(
            f"[{backend}] on-time rate, year {YEAR}: {t * 1000:.0f} ms, {q} queries "
            f"({year.total.finished:,} finished, {year.total.rate}% on time, "
            f"{len(year.matters)} matters, {len(year.departments)} departments)"
        )
        t, q = timed(db, lambda: on_time_report(tid, YEAR, 6))
        print(f"[{backend}] on-time rate, month {YEAR}-06: {t * 1000:.0f} ms, {q} queries")
        report = quota_report(tid, YEAR, today=date(YEAR + 1, 1, 15))
        t, q = timed(db, lambda: quota_report(tid, YEAR, today=date(YEAR + 1, 1, 15)))
        print(
            f"[{backend}] quota report, {len(report.people)} staff: {t * 1000:.0f} ms, {q} queries "
            f"({len(report.behind)} behind)"
        )
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--url",
        default=os.environ.get("BENCH_DESK_URL", "postgresql://postgres@127.0.0.1:5432/bench_desk"),
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the PostgreSQL data loaded by a previous run"
    )
    parser.add_argument(
        "--sqlite-file", help="keep the SQLite database here and reuse it when it exists"
    )
    args = parser.parse_args()
    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-desk-"))
    if args.backend in ("sqlite", "both"):
        path = args.sqlite_file or f"{tempfile.mkdtemp(prefix='bench-desk-sqlite-')}/bench.db"
        run("sqlite", f"sqlite:///{path}", args.cases)
    if args.backend in ("postgresql", "both"):
        ensure_postgres(args.url, empty=not args.reuse)
        run("postgresql", args.url, args.cases)


if __name__ == "__main__":
    main()
