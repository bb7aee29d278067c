"""The operator's scaled-out start: gunicorn with several workers on the same code,
the database and a real broker chosen by two URLs."""

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


def test_gunicorn_serves_the_app_with_postgres_or_sqlite_and_redis(app, database_url, tmp_path):
    broker = require_service(redis_url(), "Redis")
    port = free_port()
    env = {
        **os.environ,
        "TOWNSHIP_DATABASE_URL": database_url,
        "TOWNSHIP_BROKER_URL": broker,
        "TOWNSHIP_SECRET_KEY": "one key for every web process",
        "TOWNSHIP_EMBEDDED_SCHEDULER": "false",
        "TOWNSHIP_INSTANCE_PATH": str(tmp_path),
    }
    process = subprocess.Popen(
        [GUNICORN, "-w", "2", "-b", f"127.0.0.1:{port}", "core:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        for _ in range(6):  # several requests, served by both workers
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Booting worker" in output


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
    port = free_port()
    env = {
        **os.environ,
        "TOWNSHIP_DATABASE_URL": database_url,
        "TOWNSHIP_SECRET_KEY": "one key for every web process",
        "TOWNSHIP_EMBEDDED_SCHEDULER": "false",
        "TOWNSHIP_INSTANCE_PATH": str(tmp_path),
    }
    command = [GUNICORN, "-c", "python:core.gunicorn_conf", "-w", "2"]
    process = subprocess.Popen(
        [*command, "-b", f"127.0.0.1:{port}", "core:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process)
        for _ in range(6):  # each worker reaches the database over its own connections
            with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
                assert r.status == 200
        workers = _children(process.pid)
        assert len(workers) == 2
        # without preloading, a worker shares only the interpreter's libraries (~20 MB)
        assert all(_shared_mb(pid) > 40 for pid in workers), [_shared_mb(p) for p in workers]

        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _children(process.pid)
            if len(now) == 2 and workers[0] not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and workers[0] not in now, now
        for _ in range(6):
            with urllib.request.urlopen(f"{url}/", timeout=5) as r:
                assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert output.count("Booting worker") == 3
