"""The operator's scaled-out start: gunicorn with several workers on the same code,
the database and a real broker chosen by two URLs."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.testing.fixtures import redis_url, require_service
from tests.core.test_serve import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def gunicorn(*options: str, env: dict[str, str], output: list[str]):
    """gunicorn serving ``core:create_app()`` with ``options``, up and answering: yields
    the master process and the site's URL; its log is appended to ``output`` once it
    stopped (SIGTERM)."""
    port = free_port()
    process = subprocess.Popen(
        [GUNICORN, *options, "-b", f"127.0.0.1:{port}", "core:create_app()"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process)
        yield process, url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            log, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            log, _ = process.communicate()
        output.append(log)


def answers(url: str, times: int = 6) -> None:
    """The page answers 200 ``times`` in a row (requests that both workers serve)."""
    for _ in range(times):
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200


def settings(database_url: str, tmp_path, **more: str) -> dict[str, str]:
    return {
        "TOWNSHIP_DATABASE_URL": database_url,
        "TOWNSHIP_SECRET_KEY": "one key for every web process",
        "TOWNSHIP_EMBEDDED_SCHEDULER": "false",
        "TOWNSHIP_INSTANCE_PATH": str(tmp_path),
        **more,
    }


def test_gunicorn_serves_the_app_with_postgres_or_sqlite_and_redis(app, database_url, tmp_path):
    broker = require_service(redis_url(), "Redis")
    output: list[str] = []
    env = settings(database_url, tmp_path, TOWNSHIP_BROKER_URL=broker)
    with gunicorn("-w", "2", env=env, output=output) as (_process, url):
        answers(f"{url}/readyz")
        answers(f"{url}/", times=1)
    assert "Booting worker" in output[0]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def _workers(master: int, count: int, without: int | None = None) -> list[int]:
    """The master's ``count`` workers (``without`` that one), once it has forked them
    (it forks one after the other, a fraction of a second apart)."""
    deadline = time.monotonic() + 60
    while True:
        found = _children(master)
        if len(found) == count and without not in found:
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def _shared_mb(pid: int) -> float:
    """Memory of ``pid`` that is shared with other processes (MB)."""
    shared = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, *value = line.split()
        if key in ("Shared_Clean:", "Shared_Dirty:"):
            shared += int(value[0])
    return shared / 1024


def test_the_gunicorn_settings_build_the_app_once_and_replace_a_killed_worker(
    app, database_url, tmp_path
):
    """``-c python:core.gunicorn_conf``: the workers are forked from the app the master
    built, so they share its pages; a worker killed with SIGKILL is replaced and the
    site keeps answering."""
    output: list[str] = []
    options = ("-c", "python:core.gunicorn_conf", "-w", "2")
    with gunicorn(*options, env=settings(database_url, tmp_path), output=output) as (
        process,
        url,
    ):
        answers(f"{url}/readyz")  # each worker reaches the database over its own connections
        workers = _workers(process.pid, 2)
        # without preloading, a worker shares only the interpreter's libraries (~20 MB)
        assert all(_shared_mb(pid) > 40 for pid in workers), [_shared_mb(p) for p in workers]

        os.kill(workers[0], signal.SIGKILL)
        assert workers[0] not in _workers(process.pid, 2, without=workers[0])
        answers(f"{url}/")
    assert output[0].count("Booting worker") == 3, output[0]
