"""The operator's scaled-out start: gunicorn with several workers on the same code,
the database and a real broker chosen by two URLs."""

import os
import signal
import subprocess
import sys
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
