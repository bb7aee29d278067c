"""The county administrator's home page (the dashboard of every township of the county)
over the bench county: milliseconds and SQL queries in-process, split into the core's
figures (open, due soon, overdue, per handler) and the institutions' own figures.

    .venv/bin/python bench/measure_dashboard.py [--url ...] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, make_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from sqlalchemy import func, select

    from admin import dashboard, forget_request_caches
    from core.access import township_ids_with
    from core.db import db
    from core.models import OPEN_STATUSES, Case, User
    from core.testing.fixtures import count_queries

    app = make_app(args.url, CACHE_URL=args.redis)
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "bench-county"))
        ids = township_ids_with(user, "dashboard.read")
        open_cases = db.session.scalar(
            select(func.count(Case.id)).where(
                Case.status.in_(OPEN_STATUSES), Case.township_id.in_(ids)
            )
        )
        real_figures = dashboard.county_plugin_figures

        def timed(without_plugins: bool) -> tuple[float, int]:
            if without_plugins:
                dashboard.county_plugin_figures = lambda townships: {t.id: [] for t in townships}
            try:
                forget_request_caches()
                db.session.expire_all()
                started = time.perf_counter()
                with count_queries(db.engine) as statements:
                    boards = dashboard.build_dashboards(ids)
                elapsed = (time.perf_counter() - started) * 1000
            finally:
                dashboard.county_plugin_figures = real_figures
            assert len(boards) == len(ids)
            return elapsed, len(statements)

        timed(False)  # warm: settings and calendars into the cache
        print(f"dashboard of {user.username}: {len(ids)} townships, {open_cases} open cases")
        for label, without in (("core figures only", True), ("with the institutions'", False)):
            runs = [timed(without) for _ in range(args.runs)]
            print(
                f"  {label:<24} median {statistics.median(r[0] for r in runs):7.1f} ms "
                f"(best {min(r[0] for r in runs):.1f}), {runs[-1][1]} queries"
            )


if __name__ == "__main__":
    main()
