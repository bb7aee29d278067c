"""Milliseconds per staff page in-process (Flask's test client, no server, no load
generator), signed in as the county administrator over the bench county: a quieter
figure than wrk's for comparing two versions of the code on the same machine. Each page
prints its median and best wall-clock milliseconds and the median CPU milliseconds of the
app's own process (the database's time not included): on a busy machine the CPU figure
moves least.

    .venv/bin/python bench/measure_pages.py [--source DIR] [PATH ...]

``--source DIR`` times another checkout of the platform (e.g. ``git worktree add
/tmp/before <commit>``) against the same database; run both back to back.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL  # noqa: E402

#: the dashboard is bench/measure_dashboard.py (seconds, not milliseconds)
PAGES = [
    "/admin/admin_cases/?page_size=50&sort=8",
    "/admin/admin_people/?page_size=50",
    "/admin/admin_audit/?page_size=50",
    "/admin/petitions_petitions/?page_size=50",
    "/admin/guide_matters/?page_size=50",
    "/admin/archives_inbox/?page_size=50",
    "/admin/training_logs/?page_size=50",
    "/admin/releases_items/?page_size=50",
]

CHILD = r"""
import os, re, statistics, sys, tempfile, time, json
sys.path.insert(0, {source!r})
os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
from core import create_app
app = create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "bench-secret", "TESTING": False,
                  "EMBEDDED_SCHEDULER": False, "RATELIMIT_ENABLED": False,
                  "DEFAULT_LOCALE": "zh_CN", "LOG_LEVEL": "WARNING", "CACHE_URL": {redis!r}}})
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
    r'value="([^"]+)"[^>]*name="csrf_token"', page)
answer = client.post("/login", data={{"username": "bench-county", "password": "bench-password",
                                      "csrf_token": token.group(1)}})
assert answer.status_code == 302, answer.status_code
for path in {paths!r}:
    for _ in range({warm}):
        assert client.get(path).status_code == 200, path
    rounds, cpu = [], []
    for _ in range(5):
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range({repeat}):
            client.get(path)
        rounds.append((time.perf_counter() - started) / {repeat} * 1000)
        cpu.append((time.process_time() - cpu_started) / {repeat} * 1000)
    print(json.dumps({{"path": path, "best": min(rounds), "median": statistics.median(rounds),
                      "cpu": statistics.median(cpu)}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL)
    parser.add_argument("--source", default=str(ROOT), help="the checkout to time")
    parser.add_argument("--repeat", type=int, default=10, help="requests per round")
    parser.add_argument("paths", nargs="*", default=PAGES)
    args = parser.parse_args()
    code = CHILD.format(
        source=str(Path(args.source).resolve()),
        url=args.url,
        redis=args.redis,
        paths=args.paths,
        warm=3,
        repeat=args.repeat,
    )
    revision = subprocess.run(
        ["git", "-C", args.source, "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(f"{args.source} ({revision[:72]})")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=args.source, check=False
    )
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            print(
                f"  {row['median']:8.1f} ms (best {row['best']:7.1f}, Python CPU {row['cpu']:5.1f})"
                f"  {row['path']}"
            )


if __name__ == "__main__":
    main()
