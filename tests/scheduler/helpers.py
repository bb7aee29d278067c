"""Helpers for tests that wait on time or start ``township`` processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        time.sleep(interval)


class Processes:
    """``township`` subprocesses (with the example plugin) that are always killed at the end."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.tmp_path = tmp_path
        self.env = env
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        """Start ``township <args>``; its output goes to ``<tmp>/<name>-<n>.log``."""
        log = self.tmp_path / f"{args[0]}-{len(self.started)}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.scheduler.township_proc", *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log_path = log  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    @staticmethod
    def output(proc: subprocess.Popen) -> str:
        return proc.log_path.read_text()  # type: ignore[attr-defined]

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        """``kill -9`` the process and every process it forked."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def process_env(database_url: str, **settings: Any) -> dict[str, str]:
    """The environment of a ``township`` subprocess: this one's, minus test-only variables,
    plus ``TOWNSHIP_<KEY>`` for each setting (English messages, the test database)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TOWNSHIP_TEST_", "PYTEST_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env["TOWNSHIP_DATABASE_URL"] = database_url
    env["TOWNSHIP_DEFAULT_LOCALE"] = "en"
    env["TOWNSHIP_SECRET_KEY"] = "test-secret"
    env["TOWNSHIP_EMBEDDED_SCHEDULER"] = "false"
    for key, value in settings.items():
        env[f"TOWNSHIP_{key}"] = str(value)
    return env


def redis_test_url() -> str:
    """The Redis database these tests use: ``TOWNSHIP_TEST_SCHEDULER_REDIS_URL``, else the
    server of ``TOWNSHIP_TEST_REDIS_URL`` with database 14, else local database 14."""
    from urllib.parse import urlsplit, urlunsplit

    explicit = os.environ.get("TOWNSHIP_TEST_SCHEDULER_REDIS_URL")
    if explicit:
        return explicit
    shared = os.environ.get("TOWNSHIP_TEST_REDIS_URL")
    if shared:
        return urlunsplit(urlsplit(shared)._replace(path="/14"))
    return "redis://127.0.0.1:6379/14"
