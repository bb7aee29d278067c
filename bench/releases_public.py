"""Benchmark: the public release list and Atom feed with 10,000 published products.

Loads one township with the release institution enabled and 10,000 published
products (one batch), serves the app with waitress in a thread, and measures
requests per second of the release list (page 1 and a deep page), the feed and a
hello-world route of the same server, from clients on 127.0.0.1 (one client, then
four concurrent ones, each a bounded loop on a keep-alive connection). Also counts
the SQL queries of each page (the same for every page).

    .venv/bin/python bench/releases_public.py                      # SQLite file (embedded mode)
    .venv/bin/python bench/releases_public.py --url postgresql://postgres@127.0.0.1:5432/bench_releases
"""

from __future__ import annotations

import argparse
import http.client
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PRODUCTS = 10_000


def ensure_database(url: str) -> None:
    """Create the PostgreSQL benchmark database if missing, and empty its schema."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def build_app(url: str):
    import os

    from core import create_app
    from core.migrate import upgrade

    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "TESTING": False,
            "SESSION_COOKIE_SECURE": False,
            "EMBEDDED_SCHEDULER": False,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": None,
        }
    )
    app.add_url_rule("/bench-hello", "bench_hello", lambda: "hello")
    upgrade(app)
    return app


def load(app) -> str:
    """One township, the institution enabled, 10,000 published products; its code."""
    from sqlalchemy import insert

    from core.db import db
    from core.institutions import set_enabled
    from core.models import OrgUnit, UnitKind
    from plugins.releases.models import BatchStatus, Product, ProductStatus, ReleaseBatch

    with app.app_context():
        township = OrgUnit(kind=UnitKind.township, name="基准镇", code="bench")
        db.session.add(township)
        db.session.flush()
        township.township_id = township.id
        db.session.commit()
        set_enabled(township, "releases", True)
        start = datetime(2020, 1, 1, tzinfo=UTC)
        batch = ReleaseBatch(
            township_id=township.id,
            scheduled_for=start,
            status=BatchStatus.published,
            published_at=start,
            channels=["web"],
            product_count=PRODUCTS,
        )
        db.session.add(batch)
        db.session.flush()
        body = "<p>" + "葡萄防霜冻技术要点：覆膜、熏烟、灌水。" * 20 + "</p>"
        rows = [
            {
                "township_id": township.id,
                "title": f"第{n}期 致富信息 & <价格>",
                "audience": "葡萄种植户",
                "body": body,
                "status": ProductStatus.published,
                "batch_id": batch.id,
                "published_at": start + timedelta(hours=n),
                "approved_at": start,
                "withdrawn_reason": "",
                "created_at": start,
                "updated_at": start,
            }
            for n in range(PRODUCTS)
        ]
        for chunk in range(0, PRODUCTS, 2000):
            db.session.execute(insert(Product), rows[chunk : chunk + 2000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # the steady state autovacuum keeps
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE releases_product")
        return township.code


def count_queries(app, paths: list[str]) -> dict[str, int]:
    from core.db import db
    from core.testing.fixtures import count_queries as counter

    client = app.test_client()
    counts = {}
    with app.app_context():
        engine = db.engine
    for path in paths:
        client.get(path)  # warm caches
        with counter(engine) as statements:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[path] = len(statements)
    return counts


def serve(app):
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return server


def hammer(port: int, path: str, requests: int, clients: int) -> float:
    """Requests per second of ``clients`` keep-alive clients doing ``requests`` in all."""
    per_client = requests // clients
    errors: list[str] = []

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(per_client):
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"errors: {errors[:3]}")
    return per_client * clients / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (default: a SQLite file in a temp dir)")
    parser.add_argument("--requests", type=int, default=400, help="requests per route and run")
    args = parser.parse_args()
    if args.url:
        ensure_database(args.url)
        url = args.url
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-releases-')}/bench.db"
    app = build_app(url)
    started = time.perf_counter()
    code = load(app)
    print(
        f"database: {url.split('://')[0]}; loaded {PRODUCTS} published products "
        f"in {time.perf_counter() - started:.1f} s"
    )

    base = f"/t/{code}/releases"
    routes = {
        "hello world": "/bench-hello",
        "release list p1": f"{base}/",
        "release list p400": f"{base}/?page=400",
        "feed (50 entries)": f"{base}/feed.atom",
        "search": f"{base}/search?q=%E8%91%A1%E8%90%84",
    }
    counts = count_queries(app, [p for name, p in routes.items() if name != "hello world"])
    server = serve(app)
    port = server.effective_port
    try:
        for path in routes.values():
            hammer(port, path, 40, 1)  # warm up
        header = ("route", "queries", "1 client r/s", "4 clients r/s", "vs hello")
        print(f"{header[0]:<20} {header[1]:>7} {header[2]:>13} {header[3]:>14} {header[4]:>9}")
        hello_rps = None
        for name, path in routes.items():
            one = hammer(port, path, args.requests, 1)
            four = hammer(port, path, args.requests, 4)
            if hello_rps is None:
                hello_rps = four
            queries = counts.get(path, 0)
            print(f"{name:<20} {queries:>7} {one:>13.0f} {four:>14.0f} {four / hello_rps:>8.0%}")
    finally:
        server.close()


if __name__ == "__main__":
    main()
