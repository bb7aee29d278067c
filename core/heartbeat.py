"""Heartbeats: every running process says who it is and which shared settings it runs with.

Web processes, ``township worker``, ``township scheduler`` and ``township serve`` each
keep one row in ``core_process_heartbeat`` (``host:pid:role``), written when they start
and every :data:`HEARTBEAT_SECONDS`: the pid, host, role, start time and the values of
:data:`SHARED_SETTINGS` as that process sees them. ``township doctor`` reads the rows
of the processes seen lately and warns when they disagree, e.g. a grace time set on
the scheduler machine alone.

Secrets are never written: the secret key appears as a short SHA-256 fingerprint and
URLs without their password.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.db import db, utcnow

log = logging.getLogger(__name__)

#: how often a process refreshes its row
HEARTBEAT_SECONDS = 10
#: a row not refreshed for this long belongs to a process that is gone
STALE_SECONDS = 3 * HEARTBEAT_SECONDS
#: rows of processes gone for longer than this are deleted
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class SharedSetting:
    """A setting that several processes must agree on, and who reads it."""

    key: str
    who: str
    secret: bool = False
    url: bool = False


#: Settings several processes must agree on. The README's "Settings every process must
#: share" lists the same keys; ``township doctor`` compares them.
SHARED_SETTINGS: tuple[SharedSetting, ...] = (
    SharedSetting("DATABASE_URL", "every process", url=True),
    SharedSetting("BROKER_URL", "every process", url=True),
    SharedSetting("SECRET_KEY", "every web process (sessions signed by one are read by all)", True),
    SharedSetting("SWEEP_SECONDS", "the active scheduler (interval of core.resend_sweep)"),
    SharedSetting(
        "SWEEP_GRACE_SECONDS",
        "the active scheduler (sent with each core.resend_sweep) and start-up sweeps",
    ),
    SharedSetting("BROKER_HEARTBEAT_TIMEOUT_SECONDS", "every worker (Redis)"),
    SharedSetting("SCHEDULER_LEASE_SECONDS", "every scheduler (active and standby)"),
    SharedSetting("SCHEDULER_POLL_SECONDS", "every scheduler"),
    SharedSetting("DEFAULT_TIMEZONE", "every process (new townships, scheduler default)"),
    SharedSetting("DEFAULT_LOCALE", "web and workers (notifications are written by workers)"),
    SharedSetting("PLUGINS", "every process (an actor must exist where its job is fired)"),
    SharedSetting("EXTRA_PLUGINS", "every process"),
    SharedSetting("RATELIMIT_STORAGE_URI", "every web process", url=True),
    SharedSetting("PUBLIC_BASE_URL", "web and workers (links in messages)"),
    SharedSetting("EARLIEST_YEAR", "web and workers"),
    SharedSetting("MAIL_FROM", "workers (e-mail)"),
    SharedSetting("SMTP_HOST", "workers (e-mail)"),
)


def fingerprint(value: Any) -> str | None:
    """A short SHA-256 fingerprint of a secret (None stays None)."""
    if value in (None, ""):
        return None
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12]


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return getattr(value, "__name__", None) or str(value)


def shared_values(app: Flask) -> dict[str, Any]:
    """The shared settings as this process sees them (secrets fingerprinted)."""
    from core.health import redacted

    values: dict[str, Any] = {}
    for setting in SHARED_SETTINGS:
        value = app.config.get(setting.key)
        if setting.key == "DATABASE_URL" and not value:
            value = app.config.get("SQLALCHEMY_DATABASE_URI")
        if setting.secret:
            value = fingerprint(value)
        elif setting.url and isinstance(value, str):
            value = redacted(value)
        values[setting.key] = _plain(value)
    values["CODE_VERSION"] = _code_version()
    return values


def _code_version() -> str:
    import core

    return str(getattr(core, "__version__", "?"))


def process_id(role: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role}"[:200]


def beat(app: Flask, role: str, started_at: datetime) -> None:
    """Write (or refresh) this process's row; commits on its own session."""
    from core.models import ProcessHeartbeat

    key = process_id(role)
    now = utcnow()
    values = shared_values(app)
    with app.app_context():
        try:
            changed = db.session.execute(
                update(ProcessHeartbeat)
                .where(ProcessHeartbeat.id == key)
                .values(seen_at=now, settings=values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not changed:
                db.session.add(
                    ProcessHeartbeat(
                        id=key,
                        role=role,
                        host=socket.gethostname()[:120],
                        pid=os.getpid(),
                        started_at=started_at,
                        seen_at=now,
                        settings=values,
                    )
                )
            db.session.execute(
                delete(ProcessHeartbeat).where(ProcessHeartbeat.seen_at < now - FORGET_AFTER)
            )
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        finally:
            db.session.remove()


def forget(app: Flask, role: str) -> None:
    """Delete this process's row (a clean stop)."""
    from core.models import ProcessHeartbeat

    with app.app_context():
        try:
            db.session.execute(
                delete(ProcessHeartbeat).where(ProcessHeartbeat.id == process_id(role))
            )
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.warning("could not delete the heartbeat of %s", process_id(role))
        finally:
            db.session.remove()


class Heartbeat:
    """A daemon thread refreshing this process's row every :data:`HEARTBEAT_SECONDS`."""

    def __init__(self, app: Flask, role: str, interval: float = HEARTBEAT_SECONDS):
        self.app = app
        self.role = role
        self.interval = interval
        self.started_at = utcnow()
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Heartbeat:
        self._thread = threading.Thread(
            target=self._run, name=f"township-heartbeat-{self.role}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                beat(self.app, self.role, self.started_at)
            except Exception as exc:  # the database may be away (or not migrated yet)
                log.warning("heartbeat of %s could not be written: %s", self.role, exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        forget(self.app, self.role)


def init_app(app: Flask) -> None:
    """Web processes write their heartbeat from their first request on (forks included)."""

    @app.before_request
    def _heartbeat():
        ensure_web_heartbeat(app)


_web: dict[int, Heartbeat] = {}
_web_lock = threading.Lock()


def claim_web_heartbeat(heartbeat: Heartbeat) -> Heartbeat:
    """Let ``heartbeat`` stand for this process's web part too (``township serve``)."""
    with _web_lock:
        _web[os.getpid()] = heartbeat
    return heartbeat


def ensure_web_heartbeat(app: Flask) -> None:
    """Start the heartbeat of this web process once (after a fork too); cheap per request."""
    if app.testing or os.getpid() in _web:
        return
    with _web_lock:
        if os.getpid() not in _web:
            _web[os.getpid()] = Heartbeat(app, "web").start()


# ---------------------------------------------------------------------------
# township doctor
# ---------------------------------------------------------------------------


@dataclass
class Disagreement:
    key: str
    who: str
    values: dict[str, list[str]]  # value shown -> the processes holding it


def running_processes(now: datetime | None = None) -> list:
    """The heartbeat rows of processes seen within :data:`STALE_SECONDS`, oldest first."""
    from core.models import ProcessHeartbeat

    now = now or utcnow()
    return list(
        db.session.scalars(
            select(ProcessHeartbeat)
            .where(ProcessHeartbeat.seen_at >= now - timedelta(seconds=STALE_SECONDS))
            .order_by(ProcessHeartbeat.started_at, ProcessHeartbeat.id)
        )
    )


def disagreements(rows: list) -> list[Disagreement]:
    """The shared settings whose values differ between the given processes."""
    found = []
    who = {s.key: s.who for s in SHARED_SETTINGS} | {"CODE_VERSION": "every process"}
    for key in who:
        seen: dict[str, list[str]] = {}
        for row in rows:
            shown = repr((row.settings or {}).get(key))
            seen.setdefault(shown, []).append(row.id)
        if len(seen) > 1:
            found.append(Disagreement(key, who[key], seen))
    return found
