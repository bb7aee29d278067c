"""Configuration in one place: defaults, then the instance file, then ``TOWNSHIP_*``.

Every key the platform reads is declared in :data:`DEFAULTS` with one line of
documentation; ``tests/core/test_config.py`` checks each one appears in the
README. Keys Flask and its extensions read themselves (``SESSION_*``,
``SQLALCHEMY_*``, ``FLASK_ADMIN_*``, ``RATELIMIT_*``, ``BABEL_*``, ``WTF_*``)
are passed through untouched.
"""

from __future__ import annotations

import logging
import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV_PREFIX = "TOWNSHIP"
INSTANCE_FILE = "township.toml"
SECRET_FILE = "secret_key"


@dataclass(frozen=True)
class Setting:
    default: Any
    doc: str


#: Every setting of the platform with its default (the embedded, one-machine mode).
SETTINGS: dict[str, Setting] = {
    "DATABASE_URL": Setting(
        None, "SQLAlchemy URL; unset means an SQLite file `instance/township.db` (WAL)."
    ),
    "BROKER_URL": Setting(
        None,
        "Task broker: unset = embedded (workers inside `township serve`), "
        "`redis://...` = Redis, `amqp://...` = RabbitMQ.",
    ),
    "SECRET_KEY": Setting(
        None, "Session signing key; generated into `instance/secret_key` on first run."
    ),
    "EMBEDDED_WORKER_THREADS": Setting(
        2, "Worker threads `township serve` runs when the broker is embedded."
    ),
    "WORKER_IDLE_POLL_MS": Setting(
        100,
        "How often (milliseconds) an idle `township worker` looks for new messages on "
        "Redis: a task waits at most this long for a free worker; lower polls Redis more.",
    ),
    "EMBEDDED_SCHEDULER": Setting(
        True, "Whether `township serve` also runs the scheduler (with the same lease)."
    ),
    "SCHEDULER_LEASE_SECONDS": Setting(
        15, "How long the active scheduler's lease lasts; a standby takes over after it."
    ),
    "SWEEP_SECONDS": Setting(
        120,
        "Interval of the `core.resend_sweep` job, which sends again pending tasks whose "
        "message may be lost (an admin may override the job's schedule).",
    ),
    "SWEEP_GRACE_SECONDS": Setting(
        60,
        "How old a pending task must be before the sweep sends it again; keep it longer "
        "than the slowest task, or a running task is sent twice (the copy waits for it "
        "and skips it on PostgreSQL, runs and rolls back on SQLite).",
    ),
    "BROKER_HEARTBEAT_TIMEOUT_SECONDS": Setting(
        10,
        "Redis only: a worker silent this long counts as dead and its messages go back to "
        "the queue; keep it above the longest task of a worker whose threads all stay busy.",
    ),
    "SCHEDULER_POLL_SECONDS": Setting(
        5, "How often the active scheduler looks for schedules an admin changed."
    ),
    "DEFAULT_TIMEZONE": Setting("Asia/Shanghai", "Time zone of new townships."),
    "DEFAULT_LOCALE": Setting("zh_CN", "Interface language: `zh_CN` or `en`."),
    "LOGIN_RATE_LIMIT": Setting(
        "10 per minute", "Failed-login throttle per address and user name (Flask-Limiter)."
    ),
    "RATELIMIT_STORAGE_URI": Setting(
        "memory://", "Flask-Limiter storage; use the Redis URL when several web processes run."
    ),
    "SMTP_HOST": Setting(None, "SMTP server for e-mail; unset = e-mails are logged only."),
    "SMTP_PORT": Setting(25, "SMTP port."),
    "SMTP_USER": Setting(None, "SMTP user name, if the server needs one."),
    "SMTP_PASSWORD": Setting(None, "SMTP password."),
    "SMTP_STARTTLS": Setting(False, "Use STARTTLS."),
    "MAIL_FROM": Setting("township@localhost", "Sender address of e-mails."),
    "HOST": Setting("127.0.0.1", "Address `township serve` listens on."),
    "PORT": Setting(5000, "Port `township serve` listens on."),
    "LOG_FORMAT": Setting("text", "`text` or `json` (one JSON object per line)."),
    "LOG_LEVEL": Setting("INFO", "Log level."),
    "TRACE_PLUGINS": Setting(False, "Log every hook call with its plugin and duration."),
    "PLUGINS": Setting(
        None,
        "Comma-separated plugin keys to load; unset = every plugin of the "
        "`township.plugins` entry-point group.",
    ),
    "PAGE_SIZE": Setting(20, "Rows per page in public lists and the API."),
    "PUBLIC_BASE_URL": Setting(
        None,
        "The address citizens reach the public site at, e.g. `https://zwfw.example.gov.cn`; "
        "printed receipts' QR codes point there (unset = the address of the request).",
    ),
    "EARLIEST_YEAR": Setting(
        2000, "Dates before 1 January of this year are refused as typing mistakes."
    ),
    "EXTRA_PLUGINS": Setting(
        (),
        "Plugins registered besides the entry points: modules or import paths "
        "(tests use it, e.g. `TOWNSHIP_EXTRA_PLUGINS='[\"tests.example_plugin\"]'`).",
    ),
    "HTTPS": Setting(
        False,
        "The site is reached over HTTPS: HSTS, and session and remember-me cookies are "
        "sent over HTTPS only.",
    ),
    "TRUSTED_PROXIES": Setting(
        0,
        "How many proxies (nginx ...) stand in front and set `X-Forwarded-For` and "
        "`X-Forwarded-Proto`; rate limits then count each client's own address.",
    ),
    "INSTANCE_PATH": Setting(
        None, "Folder for the SQLite file, secret key and instance file (environment only)."
    ),
    "CACHE_URL": Setting(
        None,
        "Redis for cached settings and public pages, shared by every process (unset = the "
        "broker's Redis if it is one, else an in-process cache).",
    ),
    "CACHE_SECONDS": Setting(
        3600, "Longest life of a cached setting in Redis (a change invalidates it at once)."
    ),
    "CACHE_LOCAL_SECONDS": Setting(
        30,
        "Longest life of an entry of the in-process cache (how long another process "
        "without Redis may show a setting changed elsewhere).",
    ),
    "PUBLIC_CACHE_SECONDS": Setting(
        300,
        "Longest life of a cached public page (publishing invalidates it at once; panels "
        "that change with the time of day are at most this old).",
    ),
    "BENCH": Setting(
        False, "Benchmark mode: adds the hello-world route `/bench/hello` (`make bench`)."
    ),
}

#: Keys that must have a value once the configuration is complete.
REQUIRED_KEYS = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI")

#: Prefixes of keys owned by Flask or an extension, passed through without warning.
PASSTHROUGH_PREFIXES = (
    "SESSION_",
    "SQLALCHEMY_",
    "FLASK_ADMIN_",
    "RATELIMIT_",
    "BABEL_",
    "WTF_",
    "REMEMBER_COOKIE_",
    "PERMANENT_SESSION",
    "PREFERRED_URL_SCHEME",
    "SERVER_NAME",
    "TESTING",
    "DEBUG",
    "PROPAGATE_EXCEPTIONS",
    "MAX_CONTENT_LENGTH",
    "APPLICATION_ROOT",
    "TEMPLATES_AUTO_RELOAD",
    "EXPLAIN_TEMPLATE_LOADING",
    "TRAP_",
    "USE_X_SENDFILE",
    "SEND_FILE_",
    "JSON",
    "MAX_COOKIE_SIZE",
)


class ConfigError(RuntimeError):
    """The configuration is incomplete or wrong; the message says what to set."""


def _secret_key(instance_path: Path) -> str:
    """The key in ``instance/secret_key``, made on first start.

    The file never exists with other permissions or half written: the key is written
    to a new file created with mode 0600 (``O_CREAT | O_EXCL``), which is then linked
    to its name; a second process starting at the same moment finds the name taken
    and uses the key already there, so both sign sessions alike.
    """
    path = instance_path / SECRET_FILE
    for _attempt in range(50):
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            pass  # (a file that appears after this read is another process's whole key)
        else:
            if key:
                return key
            # an older, empty file: only its owner can tell why
            raise ConfigError(f"{path} is empty: delete it or set TOWNSHIP_SECRET_KEY")
        key = secrets.token_urlsafe(48)
        draft = instance_path / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
                fh.flush()
                os.fsync(fh.fileno())
            os.link(draft, path)  # atomic: fails if another process was first
        except FileExistsError:
            continue  # read the winner's key
        finally:
            draft.unlink(missing_ok=True)
        log.info("generated a new secret key in %s", path)
        return key
    raise ConfigError(f"could not read or create {path}")


def _is_known(key: str) -> bool:
    return key in SETTINGS or key.startswith(PASSTHROUGH_PREFIXES)


def load_config(app, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config``: defaults, ``instance/township.toml``, ``TOWNSHIP_*``, overrides."""
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)

    for key, setting in SETTINGS.items():
        app.config[key] = setting.default
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        FLASK_ADMIN_SWATCH="default",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        # a 429 says when to try again (Retry-After), with the X-RateLimit-* figures
        RATELIMIT_HEADERS_ENABLED=True,
    )

    sources: list[tuple[str, dict[str, Any]]] = []
    instance_file = instance_path / INSTANCE_FILE
    if instance_file.exists():
        with instance_file.open("rb") as fh:
            sources.append(
                (str(instance_file), {k.upper(): v for k, v in tomllib.load(fh).items()})
            )
    env = _prefixed_env()
    sources.append((f"{ENV_PREFIX}_* environment", env))
    if overrides:
        sources.append(("create_app(config=...)", dict(overrides)))

    for origin, values in sources:
        for key, value in values.items():
            if not _is_known(key):
                log.warning("unknown setting %s from %s is ignored by the platform", key, origin)
            app.config[key] = value

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        url = app.config.get("DATABASE_URL") or f"sqlite:///{instance_path / 'township.db'}"
        app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # a server that silently drops packets must not hang /readyz or a request
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}},
        )
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["DEFAULT_TIMEZONE"]

    missing = [key for key in REQUIRED_KEYS if not app.config.get(key)]
    if missing:
        raise ConfigError(f"missing required settings: {', '.join(missing)}")


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _prefixed_env() -> dict[str, Any]:
    """``TOWNSHIP_FOO=bar`` becomes ``FOO``; values that parse as JSON are parsed."""
    import json

    values: dict[str, Any] = {}
    prefix = ENV_PREFIX + "_"
    for key in sorted(os.environ):
        if not key.startswith(prefix):
            continue
        raw = os.environ[key]
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        values[key[len(prefix) :]] = value
    return values
