"""The deadline sweep over the benchmark's 100,000 open cases: time and peak memory.

Three sweeps, each in a fresh process (so its peak memory is its own): the first
after every reminder was forgotten (every overdue and due-soon case is owed one:
the worst case), the same day again (nothing owed), and the next day (only the
cases whose state changed overnight). Reminder messages go to Redis as in
production; they are removed afterwards.

    .venv/bin/python bench/measure_sweep.py [--url ...] [--redis ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, make_app, peak_rss_mb, rss_mb


def sweep_once(url: str, redis: str, days_ahead: int) -> dict:
    from datetime import timedelta

    from sqlalchemy import func, select

    from core import clock
    from core.db import db
    from core.deadlines import sweep_deadlines
    from core.models import OPEN_STATUSES, Case

    app = make_app(url, BROKER_URL=redis)
    with app.app_context():
        open_cases = db.session.scalar(
            select(func.count(Case.id)).where(Case.status.in_(OPEN_STATUSES))
        )
        day = clock.today() + timedelta(days=days_ahead)
        db.session.remove()
        before = rss_mb()
        started = time.perf_counter()
        recorded = sweep_deadlines(today=day)
        elapsed = time.perf_counter() - started
    return {
        "open": open_cases,
        "recorded": recorded,
        "seconds": elapsed,
        "peak_mb": peak_rss_mb(),
        "before_mb": before,
    }


def reset(url: str, redis: str) -> None:
    """Forget every reminder (the worst case for the next sweep)."""
    import psycopg
    import redis as redis_lib

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(
            "UPDATE core_case SET due_soon_reminded_for = NULL, overdue_reminded_for = NULL "
            "WHERE due_soon_reminded_for IS NOT NULL OR overdue_reminded_for IS NOT NULL"
        )
        c.execute("DELETE FROM core_task WHERE actor_name = 'core.case_reminder'")
        c.execute("VACUUM ANALYZE core_case")
        c.execute("VACUUM ANALYZE core_task")
    client = redis_lib.Redis.from_url(redis)
    for key in client.scan_iter("dramatiq:*"):
        client.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(sweep_once(args.url, args.redis, args.child)))
        return

    reset(args.url, args.redis)
    print("deadline sweep (core.deadlines.sweep_deadlines), each run in a fresh process:")
    for label, days in (("first (all owed)", 0), ("same day again", 0), ("next day", 1)):
        command = [sys.executable, __file__, "--url", args.url, "--redis", args.redis]
        out = subprocess.run(
            [*command, "--child", f"{days}"],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  {label:<18} {result['open']:>7} open cases, {result['recorded']:>6} reminders "
            f"recorded in {result['seconds']:6.2f} s; process peak {result['peak_mb']:.0f} MB "
            f"({result['peak_mb'] - result['before_mb']:+.0f} MB during the sweep)"
        )
    reset(args.url, args.redis)


if __name__ == "__main__":
    main()
