"""``make load``: 100 clerks and 100 citizens for 5 minutes against gunicorn and PostgreSQL.

Creates its own database (``TOWNSHIP_LOAD_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/township_load``, dropped and created again),
loads the demo county plus 100 clerks and 500 cases, starts gunicorn
(``--workers`` sync processes × ``--threads``) and a task worker on Redis
(``TOWNSHIP_LOAD_REDIS_URL``, default database 4 of the local server), runs locust
headless and prints, per page, requests, failures, p50/p95/p99 and req/s. Exits 1 on
any failure: the goal is none.

    .venv/bin/python bench/load/run.py --time 5m
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DB_URL = os.environ.get(
    "TOWNSHIP_LOAD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/township_load"
)
REDIS_URL = os.environ.get("TOWNSHIP_LOAD_REDIS_URL", "redis://127.0.0.1:6379/4")
PASSWORD = "load-test password 1"
CLERKS = 100
CASES = 500


def recreate_database() -> None:
    url = make_url(DB_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def seed(env: dict[str, str], data_path: Path) -> None:
    from core.app import create_app
    from core.auth import hash_password
    from core.cases import accept_case, register_case
    from core.db import db
    from core.demo import load_demo
    from core.migrate import upgrade
    from core.models import Case, Membership, OrgUnit, User

    app = create_app({"DATABASE_URL": DB_URL, "SECRET_KEY": env["TOWNSHIP_SECRET_KEY"]})
    upgrade(app)
    with app.app_context():
        load_demo()
        township = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "dongfeng"))
        hashed = hash_password(PASSWORD)
        clerks = []
        for n in range(CLERKS):
            user = User(username=f"load-clerk-{n}", name=f"办事员{n}", password_hash=hashed)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, org_unit_id=township.id, role="clerk"))
            clerks.append(user)
        db.session.commit()
        for n in range(CASES):
            case = register_case(
                township=township,
                kind="service",
                title=f"事项 {n}",
                applicant_name="李四",
                first_responder=clerks[n % CLERKS],
            )
            if n % 2:
                accept_case(case, clerks[n % CLERKS])
        db.session.commit()
        # the clerks' own township's cases (another township's answer 404, rightly)
        cases = db.session.execute(
            select(Case.id, Case.receipt_no).where(Case.township_id == township.id)
        ).all()
        data = {
            "password": PASSWORD,
            "clerks": [c.username for c in clerks],
            "user_ids": {c.username: c.id for c in clerks},
            "township_id": township.id,
            "township_code": township.code,
            "cases": [c.id for c in cases],
            "receipts": [c.receipt_no for c in cases if c.receipt_no][:500],
        }
    data_path.write_text(json.dumps(data))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", default="5m")
    parser.add_argument("--staff", type=int, default=100)
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="township-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSHIP_")}
    env.update(
        PYTHONPATH=str(ROOT),
        TOWNSHIP_DATABASE_URL=DB_URL,
        TOWNSHIP_BROKER_URL=REDIS_URL,
        TOWNSHIP_SECRET_KEY="load-test-secret",
        TOWNSHIP_EMBEDDED_SCHEDULER="false",
        TOWNSHIP_LOGIN_RATE_LIMIT="100000 per minute",
        TOWNSHIP_INSTANCE_PATH=str(work / "instance"),
        TOWNSHIP_LOG_LEVEL="WARNING",
        TOWNSHIP_TRUSTED_PROXIES="1",
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("TOWNSHIP_")})
    print(f"seeding {DB_URL} (demo county, {CLERKS} clerks, {CASES} cases) ...", flush=True)
    recreate_database()
    data_path = work / "data.json"
    seed(env, data_path)
    port = 8000 + os.getpid() % 1000
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", str(args.workers), "-k", "gthread",
         "--threads", str(args.threads), "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--keep-alive", "30",
         "--log-level", "warning", "core:create_app()"],
        cwd=ROOT, env=env, stdout=(work / "web.log").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(bin_dir / "township"), "worker", "--threads", "4"],
        cwd=ROOT, env=env, stdout=(work / "worker.log").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(1)
        print(
            f"locust: {args.staff} clerks + {args.citizens} citizens for {args.time} against "
            f"gunicorn {args.workers}x{args.threads} on :{port}",
            flush=True,
        )
        locust = subprocess.run(
            [str(bin_dir / "locust"), "-f", str(ROOT / "bench/load/locustfile.py"), "--headless",
             "--users", str(args.staff + args.citizens), "--spawn-rate", "20",
             "--run-time", args.time, "--host", f"http://127.0.0.1:{port}",
             "--csv", str(work / "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env={**env, "TOWNSHIP_LOAD_DATA": str(data_path),
                           "LOAD_STAFF": str(args.staff), "LOAD_CITIZENS": str(args.citizens)},
            capture_output=True, text=True,
        )  # fmt: skip
    finally:
        for proc in (web, worker):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)
    stats = list(csv.DictReader((work / "load_stats.csv").open()))
    failures = list(csv.DictReader((work / "load_failures.csv").open()))
    print(
        f"{'page':<28}{'requests':>10}{'failures':>10}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}"
    )
    for row in stats:
        print(
            f"{row['Name'][:27]:<28}{row['Request Count']:>10}{row['Failure Count']:>10}"
            f"{row['50%']:>9}{row['95%']:>9}{row['99%']:>9}{float(row['Requests/s']):>8.1f}"
        )
    for row in failures:
        print(f"FAILURE {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
    total = next(r for r in stats if r["Name"] == "Aggregated")
    errors = int(total["Failure Count"])
    print(f"errors: {errors}; p99 over every request: {total['99%']} ms; logs in {work}")
    if locust.returncode not in (0, 1):
        print(locust.stderr[-3000:])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
