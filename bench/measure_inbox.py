"""The inbox of a county administrator with about 10,000 open items across institutions
(issue 11): SQL queries per page (the same for page 1 and a deep page) and milliseconds
per page in-process. The page's requests per second beside the hello-world route of
the same server are in ``bench/run.py``'s table ("inbox, page 1").

    .venv/bin/python bench/measure_inbox.py [--url ...]
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
    args = parser.parse_args()

    from sqlalchemy import select

    from core import inbox
    from core.db import db
    from core.models import User
    from core.testing.fixtures import count_queries

    app = make_app(args.url, CACHE_URL=args.redis)
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == "bench-county"))
        items, total = inbox.page(user, 1)  # warm: permissions and settings into the cache
        by_source: dict[str, int] = {}
        print(f"inbox of {user.username}: {total} open items")
        for number in (1, max(1, total // inbox.PAGE_SIZE // 2), max(1, total // inbox.PAGE_SIZE)):
            timings = []
            for _ in range(5):
                db.session.expire_all()
                started = time.perf_counter()
                with count_queries(db.engine) as statements:
                    items, total = inbox.page(user, number)
                timings.append((time.perf_counter() - started) * 1000)
            for item in items:
                by_source[item.source.key] = by_source.get(item.source.key, 0) + 1
            print(
                f"  page {number:>4}: {len(items)} items, {len(statements)} queries, "
                f"median {statistics.median(timings):.1f} ms (best {min(timings):.1f} ms)"
            )
        with count_queries(db.engine) as statements:
            badge = inbox.count(user)
        print(f"  navbar badge: {badge} in {len(statements)} query")
        print(f"  sources on the pages read: {', '.join(sorted(by_source))}")


if __name__ == "__main__":
    main()
