"""Helpers shared by the benchmark scripts: the database, the app, timing and memory.

Not part of the product: ``make bench`` and the scripts in ``bench/`` import it.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: the benchmark's own PostgreSQL database (created if missing)
DEFAULT_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_perf"
)
#: Redis for the cache and the task path (a database number nobody's tests use)
DEFAULT_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")


def server_url(url: str) -> str:
    """The maintenance database of the server ``url`` points at."""
    base = url.rsplit("/", 1)[0].replace("postgresql+psycopg", "postgresql")
    return base + "/postgres"


def ensure_database(url: str, *, empty: bool = False) -> bool:
    """Create the PostgreSQL database if missing (and empty its schema with ``empty``).
    Returns whether it was created."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    if not name.startswith("bench_"):
        raise SystemExit(f"refusing to touch {name!r}: benchmark databases are named bench_*")
    created = False
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            created = True
    if empty and not created:
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
            c.execute("DROP SCHEMA public CASCADE")
            c.execute("CREATE SCHEMA public")
    return created


def bench_config(url: str, **extra) -> dict:
    """The app settings every benchmark uses (a production-like app, not a test app)."""
    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret",
        "TESTING": False,
        "EMBEDDED_SCHEDULER": False,
        "RATELIMIT_ENABLED": False,
        "DEFAULT_LOCALE": "zh_CN",
        "LOG_LEVEL": "WARNING",
    }
    config.update(extra)
    return config


def make_app(url: str, **extra):
    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-instance-"))
    from core import create_app

    return create_app(bench_config(url, **extra))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | None = None) -> float:
    """Current resident memory of a process in MB."""
    path = f"/proc/{pid or 'self'}/status"
    for line in Path(path).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    """One line about the machine: CPU model, cores, memory, PostgreSQL and Redis versions."""
    import platform

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024 // 1024
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem} GB, Python {platform.python_version()}"
