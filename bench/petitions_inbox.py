"""Benchmark: the inbox (待办) of a leader with 10,000 open items across institutions.

Loads one township where a leader has, waiting for them:

* 4,000 petition follow-ups they own (they received the petitions on their reception day
  and handed them to departments: ``petitions.follow_up``),
* 1,000 major petitions waiting for the leadership team's collective decision
  (``petitions.collective_decision``),
* 2,500 extension requests to decide (the core's ``core.extension_decision``) and
* 2,500 overdue cases they handle (the core's ``core.overdue_case``),

then requests the inbox page (``/admin/admin_inbox/``) as that leader through the app
(the test client: routing, the session, templates, no network) at page 1, the middle and
the last page, and the navbar badge, printing the SQL queries of each request and the
median milliseconds of five, beside a hello-world route of the same app (the floor).

    .venv/bin/python bench/petitions_inbox.py [--url postgresql://.../bench_petitions]
        [--items 10000]

SQLite (a temporary file) by default; ``--url`` takes an existing PostgreSQL database
named ``bench_*`` or ``test_*``, whose schema is emptied first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-1"


def empty_postgres(url: str) -> None:
    """Empty the schema of a PostgreSQL database kept for benchmarks or tests."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    if not name.startswith(("bench_", "test_")):
        raise SystemExit(f"refusing to empty {name!r}: use a database named bench_* or test_*")
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def make_app(url: str):
    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
    import plugins.petitions
    from core import create_app
    from core.migrate import upgrade

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "TESTING": False,
            "WTF_CSRF_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "REMEMBER_COOKIE_SECURE": False,
            "EMBEDDED_SCHEDULER": False,
            "RATELIMIT_ENABLED": False,
            "DEFAULT_LOCALE": "zh_CN",
            "LOG_LEVEL": "WARNING",
            "PLUGINS": [],  # the petitions institution alone beside the core
            "EXTRA_PLUGINS": [plugins.petitions],
        }
    )
    app.add_url_rule("/bench-hello", "bench_hello", lambda: "hello")
    upgrade(app)
    return app


def load(app, items: int) -> dict[str, int]:
    """The township, the leader, an officer, a department and the open items; returns the
    count per inbox source."""
    from sqlalchemy import insert, select

    from core import clock
    from core.auth import hash_password
    from core.db import db
    from core.institutions import set_enabled
    from core.models import (
        Case,
        CaseStatus,
        ExtensionRequest,
        LimitUnit,
        Membership,
        OrgUnit,
        UnitKind,
        User,
    )
    from plugins.petitions.models import (
        Acceptance,
        Channel,
        FollowUp,
        Petition,
        PetitionCategory,
        RegisteredVia,
    )

    shares = {
        "petitions.follow_up": items * 40 // 100,
        "petitions.collective_decision": items * 10 // 100,
        "core.extension_decision": items * 25 // 100,
    }
    shares["core.overdue_case"] = items - sum(shares.values())
    with app.app_context():
        township = OrgUnit(kind=UnitKind.township, name="基准镇", code="bench")
        db.session.add(township)
        db.session.flush()
        township.township_id = township.id
        station = OrgUnit(
            kind=UnitKind.station,
            name="综治办",
            code="bench-s1",
            parent_id=township.id,
            township_id=township.id,
        )
        db.session.add(station)
        secret = hash_password(PASSWORD)
        leader = User(username="leader", name="李镇长", password_hash=secret)
        officer = User(username="officer", name="周信访", password_hash=secret)
        db.session.add_all([leader, officer])
        db.session.flush()
        db.session.add_all(
            [
                Membership(user_id=leader.id, org_unit_id=township.id, role="leader"),
                Membership(user_id=officer.id, org_unit_id=township.id, role="petitions_officer"),
            ]
        )
        db.session.commit()
        set_enabled(township, "petitions", True)
        today = clock.today(township)
        now = datetime.now(UTC)
        first_case = (db.session.scalar(select(Case.id).order_by(Case.id.desc())) or 0) + 1
        cases, petitions, follow_ups, requests = [], [], [], []
        n = 0
        for source, count in shares.items():
            for _ in range(count):
                case_id = first_case + n
                received = today - timedelta(days=30 + n % 20)
                accepted = received + timedelta(days=1)
                overdue = source == "core.overdue_case"
                due = (
                    today - timedelta(days=1 + n % 9) if overdue else today + timedelta(days=n % 40)
                )
                kind = "service" if source.startswith("core.") else "petitions.petition"
                cases.append(
                    {
                        "id": case_id,
                        "township_id": township.id,
                        "kind": kind,
                        "receipt_no": f"BENCH-{case_id:08d}",
                        "title": f"基准事项第{n}号",
                        "description": "",
                        "applicant_name": "群众",
                        "first_responder_id": officer.id if kind != "service" else leader.id,
                        "handler_id": leader.id if overdue else officer.id,
                        "status": CaseStatus.in_progress,
                        "received_on": received,
                        "accepted_on": accepted,
                        "limit_amount": 60,
                        "limit_unit": LimitUnit.calendar_days,
                        "limit_max_amount": 90,
                        "due_on": due,
                        "paused_working_days": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                if source.startswith("petitions."):
                    petitions.append(
                        {
                            "id": case_id,
                            "township_id": township.id,
                            "case_id": case_id,
                            "registered_via": RegisteredVia.reception_day,
                            "registered_by_id": leader.id,
                            "channel": Channel.visit,
                            "category": PetitionCategory.land,
                            "is_group": False,
                            "head_count": 1,
                            "received_on": received,
                            "decide_by": received + timedelta(days=15),
                            "acceptance": Acceptance.accepted,
                            "decided_on": accepted,
                            "escalated_on": today
                            if source == "petitions.collective_decision"
                            else None,
                            "escalation_reason": "重大事项"
                            if source == "petitions.collective_decision"
                            else None,
                            "created_at": now,
                        }
                    )
                if source == "petitions.follow_up":
                    follow_ups.append(
                        {
                            "township_id": township.id,
                            "petition_id": case_id,
                            "department_id": station.id,
                            "owner_id": leader.id,
                            "handed_on": accepted,
                            "due_on": today + timedelta(days=n % 30 - 10),
                            "instructions": "",
                            "created_at": now,
                        }
                    )
                if source == "core.extension_decision":
                    requests.append(
                        {
                            "case_id": case_id,
                            "requested_by_id": officer.id,
                            "requested_at": now,
                            "amount": 90,
                            "reason": "需要实地调查",
                        }
                    )
                n += 1
        for table, rows in (
            (Case, cases),
            (Petition, petitions),
            (FollowUp, follow_ups),
            (ExtensionRequest, requests),
        ):
            for start in range(0, len(rows), 2000):
                db.session.execute(insert(table), rows[start : start + 2000])
        db.session.commit()
    return shares


def timed(client, engine, path: str, runs: int = 5) -> tuple[float, int]:
    """Median milliseconds of ``runs`` GETs of ``path``, and the SQL queries of one."""
    from core.testing.fixtures import count_queries

    timings = []
    queries = 0
    for _ in range(runs):
        started = time.perf_counter()
        with count_queries(engine) as statements:
            response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        queries = len(statements)
    return statistics.median(timings), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="PostgreSQL URL (database bench_*)")
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    url = args.url
    if url:
        empty_postgres(url)
    else:
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="bench-petitions-"), "b.db")
    app = make_app(url)
    started = time.perf_counter()
    shares = load(app, args.items)
    print(f"database: {url.split('@')[-1]}")
    print(
        f"loaded {args.items:,} open items in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in shares.items())
    )
    from core import inbox

    client = app.test_client()
    response = client.post("/login", data={"username": "leader", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    with app.app_context():
        from core.db import db

        engine = db.engine
        pages = -(-args.items // inbox.PAGE_SIZE)
    for path in ("/bench-hello", "/admin/admin_inbox/"):  # warm caches and templates
        client.get(path)
    hello_ms, _ = timed(client, engine, "/bench-hello", runs=21)
    rows = [("hello-world route", "/bench-hello")]
    rows += [
        (f"inbox page {number:,} of {pages:,}", f"/admin/admin_inbox/?page={number}")
        for number in (1, max(1, pages // 2), pages)
    ]
    print(f"{'request':<28}{'queries':>8}{'median ms':>12}{'× hello':>10}")
    queries_per_page = set()
    for label, path in rows:
        ms, queries = timed(client, engine, path, runs=21 if path == "/bench-hello" else 5)
        if "inbox" in path:
            queries_per_page.add(queries)
        print(f"{label:<28}{queries:>8}{ms:>12.1f}{ms / hello_ms:>10.0f}")
    with app.test_request_context():
        from sqlalchemy import select

        from core.db import db
        from core.models import User
        from core.testing.fixtures import count_queries

        leader = db.session.scalar(select(User).where(User.username == "leader"))
        inbox.count(leader)
        with count_queries(db.engine) as statements:
            badge = inbox.count(leader)
        print(f"navbar badge: {badge:,} items in {len(statements)} query")
        items, _ = inbox.page(leader, 1)
        print("first page's sources: " + ", ".join(sorted({i.source.key for i in items})))
    print(
        "queries per page: "
        + ("the same on every page" if len(queries_per_page) == 1 else "DIFFER")
        + f" ({', '.join(map(str, sorted(queries_per_page)))})"
    )


if __name__ == "__main__":
    main()
