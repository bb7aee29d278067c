"""Benchmark: the archive catalogue with 200,000 filed items, and filing 1,000 at once.

Loads one township with the archives institution enabled and 200,000 filed items
(titles and frozen contents built from township matters, so 「宅基地」 sits inside
longer text), signs in an archivist and measures, in-process through the app's test
client (the whole request: routing, access checks, SQL, template):

* a hello-world route of the same app (the floor);
* a catalogue search for a two-character term (审批: shorter than a trigram, so
  SQLite scans, PostgreSQL's GIN index cannot narrow it either);
* a catalogue search for a four-character term (林木采伐: FTS5 trigram / pg_trgm GIN);
* a filtered list page (year, class, retention: plain B-tree indexes);
* the SQL queries of each page;
* filing 1,000 waiting items in one batch (reference codes, trail, one transaction).

    .venv/bin/python bench/archives_catalogue.py                      # SQLite file
    .venv/bin/python bench/archives_catalogue.py --url postgresql://postgres@127.0.0.1:5432/bench_archives
    .venv/bin/python bench/archives_catalogue.py --items 20000        # a quicker run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MATTERS = [
    "宅基地审批申请", "林木采伐许可申请", "低保资格审核材料", "婚姻登记证明",
    "救灾款物发放名册", "耕地地力保护补贴发放", "村道维修工程验收", "镇党委会议纪要",
    "计划生育服务证明", "信访事项办理",
]  # fmt: skip
NAMES = ["张建国", "刘秀英", "陈志强", "王桂兰", "李明", "赵丽", "孙伟", "周芳"]
PASSWORD = "bench password 1"


def ensure_database(url: str) -> None:
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

    import plugins.archives
    from core import create_app
    from core.migrate import upgrade

    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
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
            "PLUGINS": [],  # the archive alone (entry-point plugins are not needed here)
            "EXTRA_PLUGINS": [plugins.archives],
        }
    )
    app.add_url_rule("/bench-hello", "bench_hello", lambda: "hello")
    upgrade(app)
    return app


def load(app, count: int) -> tuple[int, int, int]:
    """The township, an archivist and ``count`` filed items; (township id, user id, WS id)."""
    from sqlalchemy import insert, select

    from core.auth import hash_password
    from core.db import db
    from core.institutions import set_enabled
    from core.models import Membership, OrgUnit, UnitKind, User
    from plugins.archives.models import ArchiveClass, FrozenContent, Item, ItemStatus, Retention

    with app.app_context():
        township = OrgUnit(kind=UnitKind.township, name="基准镇", code="bench")
        db.session.add(township)
        db.session.flush()
        township.township_id = township.id
        user = User(username="archivist", name="档案员", password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Membership(user_id=user.id, org_unit_id=township.id, role="archives_archivist")
        )
        db.session.commit()
        set_enabled(township, "archives", True)
        classes = db.session.scalars(
            select(ArchiveClass).where(ArchiveClass.township_id == township.id)
        ).all()
        retentions = list(Retention)
        started = time.perf_counter()
        chunk = 5000
        numbers: dict[tuple, int] = {}
        for start in range(0, count, chunk):
            items, contents = [], []
            for n in range(start, min(count, start + chunk)):
                title = f"{MATTERS[n % len(MATTERS)]}（{NAMES[n % len(NAMES)]}）第{n}号"
                year = 2005 + n % 20
                archive_class = classes[n % len(classes)]
                retention = retentions[n % 3]
                key = (year, archive_class.id, retention)
                numbers[key] = numbers.get(key, 0) + 1
                code = f"BENCH-{year}-{retention.code}-{archive_class.code}-{numbers[key]:04d}"
                items.append(
                    {
                        "id": n + 1,
                        "township_id": township.id,
                        "status": ItemStatus.filed,
                        "source": "core",
                        "reference": f"bench:{n}",
                        "kind": "case",
                        "title": title,
                        "responsible": NAMES[(n // 3) % len(NAMES)],
                        "doc_number": "",
                        "doc_date": date(year, 1 + n % 12, 1 + n % 28),
                        "year": year,
                        "note": "",
                        "class_id": archive_class.id,
                        "retention": retention,
                        "item_no": numbers[key],
                        "reference_code": code,
                        "created_at": datetime.now(UTC),
                    }
                )
                text = f"{title} 经办人{NAMES[n % len(NAMES)]}，已办结并送达。"
                contents.append(
                    {
                        "item_id": n + 1,
                        "html": f"<p>{text}</p>",
                        "text": text,
                        "summary": "",
                        "trail": [],
                        "sha256": "0" * 64,
                        "frozen_at": datetime.now(UTC),
                    }
                )
            db.session.execute(insert(Item), items)
            db.session.execute(insert(FrozenContent), contents)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("SELECT setval('archives_item_id_seq', :n)"), {"n": count})
            db.session.commit()
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(db.text("ANALYZE"))
        else:
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        print(f"loaded {count:,} filed items in {time.perf_counter() - started:.1f} s")
        ws = next(c.id for c in classes if c.code == "WS")
        return township.id, user.id, ws


def measure(client, url: str, repeat: int) -> tuple[float, float, int]:
    """(median ms, slowest ms, SQL queries) of ``repeat`` requests after one warm-up."""
    from core.db import db
    from core.testing.fixtures import count_queries

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    with count_queries(db.engine) as statements:
        client.get(url)
    queries = len(statements)
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(times), max(times), queries


def file_batch(app, township_id: int, user_id: int, ws_id: int, count: int = 1000) -> float:
    """Register ``count`` waiting items, then file them in one batch; seconds for the batch."""
    from core.db import db
    from core.models import User
    from plugins.archives import services
    from plugins.archives.models import Retention

    with app.app_context():
        user = db.session.get(User, user_id)
        ids = [
            services.register_paper(
                township_id,
                title=f"待归档文件 {n}",
                responsible="党政办",
                doc_date=date(2025, 6, 1),
                class_id=ws_id,
                retention=Retention.y30,
                by=user,
            ).id
            for n in range(count)
        ]
        started = time.perf_counter()
        filed = services.file_items(township_id, ids, user)
        elapsed = time.perf_counter() - started
        assert len(filed) == count and filed[-1].item_no - filed[0].item_no == count - 1
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="PostgreSQL URL (default: an SQLite file)")
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if args.url:
        ensure_database(args.url)
        url = args.url
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-archives-')}/bench.db"
    app = build_app(url)
    township_id, user_id, ws_id = load(app, args.items)
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    with app.app_context():
        client = app.test_client()
        response = client.post("/login", data={"username": "archivist", "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        pages = [
            ("hello-world route", "/bench-hello"),
            ("search, 2 characters (审批)", "/admin/archives_catalogue/?q=审批"),
            ("search, 4 characters (林木采伐)", "/admin/archives_catalogue/?q=林木采伐"),
            (
                "filtered list (year, class, retention)",
                f"/admin/archives_catalogue/?year=2015&class_id={ws_id}&retention=30y",
            ),
            ("catalogue, page 200", "/admin/archives_catalogue/?page=200"),
        ]
        print(f"\n{backend}, {args.items:,} items, median of {args.repeat} requests")
        print(f"{'page':44} {'median ms':>10} {'max ms':>9} {'queries':>8}")
        for label, path in pages:
            median, slowest, queries = measure(client, path, args.repeat)
            print(f"{label:44} {median:10.1f} {slowest:9.1f} {queries:8d}")
    seconds = file_batch(app, township_id, user_id, ws_id)
    print(f"\nfiling 1,000 items from the inbox in one batch: {seconds:.2f} s")


if __name__ == "__main__":
    main()
