"""``create_app()`` in a fresh process with every plugin: seconds and resident memory,
and the resident memory of a gunicorn web worker after it served the bench's pages.

    .venv/bin/python bench/measure_startup.py [--url ...] [--runs 5]

The processes read compiled bytecode as a deployed server does (``__pycache__``, written
by a first run that is not counted), even where ``PYTHONDONTWRITEBYTECODE`` is set: with
it, every start compiled the project's 180 modules again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE_URL

CHILD = """
import json, os, sys, tempfile, time
sys.path.insert(0, {root!r})
os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
started = time.perf_counter()
import core
imported = time.perf_counter()
app = core.create_app({{"DATABASE_URL": {url!r}, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}})
done = time.perf_counter()
rss = 0
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        rss = int(line.split()[1]) / 1024
plugins = sorted(app.extensions["township"].plugins)
print(json.dumps({{"import": imported - started, "create": done - imported,
                  "total": done - started, "rss": rss, "plugins": plugins}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", default=None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = str(Path(__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    results = []
    for run in range(args.runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(root=root, url=args.url)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        if run:  # the first run writes the bytecode
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in results) for k in ("import", "create", "total")}
    rss = statistics.median(r["rss"] for r in results)
    print(
        f"create_app() in a fresh process, {len(results[0]['plugins'])} plugins "
        f"({', '.join(results[0]['plugins'])}), median of {args.runs}:"
    )
    print(
        f"  import core {med['import']:.2f} s + create_app() {med['create']:.2f} s = "
        f"{med['total']:.2f} s; resident memory {rss:.0f} MB (goals: ≤ 0.5 s, ≤ 150 MB)"
    )


if __name__ == "__main__":
    main()
