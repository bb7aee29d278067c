"""What the fault scripts share: their own database, their own broker, real processes.

Every script creates a PostgreSQL database ``faults_<name>`` of its own (on the server of
``TOWNSHIP_FAULTS_POSTGRES_URL``, default the local one), starts a broker of its own on
a free port (``redis-server --port <free>``, or a RabbitMQ node named after the script
with its own port and data folder under a temporary directory: never the machine's
shared broker), and starts ``township worker`` / ``township scheduler`` processes with
the example plugin (``tests.scheduler.township_proc``). Each prints its counts and exits
1 when an invariant broke.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get(
    "TOWNSHIP_FAULTS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def arguments(description: str, reps: int = 100) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--reps", type=int, default=int(os.environ.get("FAULT_REPS", reps)))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--broker",
        choices=("redis", "rabbitmq", "both"),
        default=os.environ.get("FAULT_BROKER", "both"),
    )
    args = parser.parse_args()
    random.seed(args.seed)
    return args


def brokers(choice: str) -> list[str]:
    return ["redis", "rabbitmq"] if choice == "both" else [choice]


def free_port() -> int:
    """A free port below the kernel's ephemeral range (32768 and up on Linux), so that no
    client connection takes it over while a broker of ours is stopped."""
    for _ in range(1000):
        port = random.randint(20_000, 32_000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        try:  # RabbitMQ listens on "::" too (where the machine has IPv6)
            with socket.socket(socket.AF_INET6) as sock:
                sock.bind(("::", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                continue
        return port
    raise RuntimeError("no free port between 20000 and 32000")


def wait_for(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s: {what or predicate}")
        time.sleep(interval)


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"min {min(values):.1f} s, median {statistics.median(values):.1f} s, "
        f"max {max(values):.1f} s (n={len(values)})"
    )


# ---------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------


class Database:
    """A database ``faults_<name>`` of its own, migrated; dropped at the end."""

    def __init__(self, name: str):
        self.name = f"faults_{name}"
        base = make_url(PG_URL)
        self.url = base.set(database=self.name).render_as_string(hide_password=False)
        self._admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def __enter__(self) -> Database:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self

    def cut(self, keep_pid: int | None = None) -> int:
        """Terminate every backend of this database (the app's connections); how many."""
        with self._admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid() "
                        "AND pid IS DISTINCT FROM :keep"
                    ),
                    {"name": self.name, "keep": keep_pid},
                ).all()
            )

    def __exit__(self, *exc) -> None:
        if os.environ.get("FAULT_KEEP_DATABASE"):
            return
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def make_app(database_url: str, broker_url: str | None, **config: Any):
    """The driver's own app on the fault database (example plugin loaded), migrated."""
    from core.app import create_app
    from core.migrate import upgrade
    from tests import example_plugin

    settings = {
        "DATABASE_URL": database_url,
        "BROKER_URL": broker_url,
        "SECRET_KEY": "faults",
        "EXTRA_PLUGINS": [example_plugin],
        "EMBEDDED_SCHEDULER": False,
        "DEFAULT_LOCALE": "en",
        "LOG_LEVEL": "WARNING",
    }
    settings.update(config)
    app = create_app(settings)
    upgrade(app)
    # the driver's failed sends (broker down) are expected here; the sweep re-sends them
    import logging

    logging.getLogger("core.tasks").setLevel(logging.CRITICAL)
    logging.getLogger("dramatiq").setLevel(logging.CRITICAL)
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    return app


# ---------------------------------------------------------------------------
# Brokers of our own
# ---------------------------------------------------------------------------


class RedisServer:
    """``redis-server`` on a free port, no persistence (a restart loses what it held)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _connects(self.port), 30, what=f"redis-server on {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class RabbitNode:
    """A RabbitMQ node of our own: its node name, port, data and log folders, no plugins."""

    def __init__(self, workdir: Path, name: str):
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"{name}_{os.getpid()}@localhost"
        self.workdir = workdir
        plugins = workdir / "enabled_plugins"
        plugins.write_text("[].\n")
        for folder in ("mnesia", "log"):
            (workdir / folder).mkdir(exist_ok=True)
        if os.geteuid() == 0:  # rabbitmq-server drops to the rabbitmq user when run as root
            with contextlib.suppress(LookupError, OSError):
                for path in (workdir, *workdir.rglob("*")):
                    shutil.chown(path, "rabbitmq", "rabbitmq")
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(workdir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_PID_FILE": str(workdir / "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq"),  # none: the defaults
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(workdir / "advanced.config"),
        }
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self, attempts: int = 3) -> None:
        """Start the node; a start racing the previous node's shutdown is tried again."""
        for attempt in range(1, attempts + 1):
            # the Erlang distribution port is picked afresh each time: a free port chosen
            # earlier may have become some client's ephemeral port while the node was down
            self.env["RABBITMQ_DIST_PORT"] = str(free_port())
            self.proc = subprocess.Popen(
                ["rabbitmq-server"],
                env=self.env,
                stdout=(self.workdir / "server.out").open("a"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_for(lambda: self._ready(), 120, 0.5, what=f"RabbitMQ node {self.node}")
                return
            except RuntimeError:
                if attempt == attempts:
                    raise
                print(f"   (RabbitMQ node {self.node} did not start; trying again)", flush=True)
                time.sleep(5)

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"RabbitMQ node {self.node} exited: see {self.workdir}/server.out")
        done = subprocess.run(
            ["rabbitmqctl", "-n", self.node, "await_startup", "--timeout", "5"],
            env=self.env,
            capture_output=True,
        )
        return done.returncode == 0 and _connects(self.port)

    def stop(self) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.node, "stop"], env=self.env, capture_output=True, timeout=120
        )
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(60)
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)

    def __enter__(self) -> RabbitNode:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def own_broker(kind: str, name: str):
    """A broker of our own of ``kind`` ("redis" or "rabbitmq"), yielded running."""
    workdir = Path(tempfile.mkdtemp(prefix=f"township-faults-{name}-"))
    server = RedisServer(workdir) if kind == "redis" else RabbitNode(workdir, name)
    try:
        with server:
            yield server
    except BaseException:
        print(f"   (the broker's files are kept in {workdir})", flush=True)
        raise
    shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------
# township processes
# ---------------------------------------------------------------------------


class Processes:
    """``township worker`` / ``scheduler`` subprocesses (with the example plugin)."""

    def __init__(self, database_url: str, broker_url: str, logdir: Path, **settings: Any):
        self.logdir = logdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSHIP_")}
        self.env.update(
            PYTHONPATH=str(ROOT),
            TOWNSHIP_DATABASE_URL=database_url,
            TOWNSHIP_BROKER_URL=broker_url,
            TOWNSHIP_SECRET_KEY="faults",
            TOWNSHIP_DEFAULT_LOCALE="en",
            TOWNSHIP_EMBEDDED_SCHEDULER="false",
        )
        for key, value in settings.items():
            self.env[f"TOWNSHIP_{key}"] = str(value)
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        log = self.logdir / f"{args[0]}-{len(self.started)}.log"
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
        return proc.log_path.read_text(errors="replace")  # type: ignore[attr-defined]

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)


def children_of(pid: int) -> list[int]:
    """The child processes of ``pid`` (the forked workers of a supervisor)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def report(title: str, lines: list[str], failures: list[str]) -> int:
    print(f"== {title}")
    for line in lines:
        print(f"   {line}")
    if failures:
        for failure in failures:
            print(f"   FAILED: {failure}")
        print(f"   RESULT: {len(failures)} invariant(s) broken")
        return 1
    print("   RESULT: ok")
    return 0
