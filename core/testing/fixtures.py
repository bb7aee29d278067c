"""Fixtures for the core's and the plugins' tests (registered as the pytest plugin ``township``).

Backends: SQLite by default; ``TOWNSHIP_TEST_DATABASE_URL=postgresql://...`` runs the
same tests on PostgreSQL. ``TOWNSHIP_TEST_REDIS_URL`` and ``TOWNSHIP_TEST_AMQP_URL``
name the brokers for broker tests. Under ``CI=true`` an unreachable service fails
the test instead of skipping it.

Pairs in the Indico style: ``create_user(...)`` makes any user; ``clerk``,
``leader`` ... are ready-made ones in the demo-like township ``township``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, event, text

PASSWORD = "correct horse battery"
_HASH_CACHE: dict[str, str] = {}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            return True
    except OSError:
        return False


def require_service(url: str | None, what: str) -> str:
    """Skip (or, under CI, fail) when the service at ``url`` cannot be reached."""
    if not url:
        if in_ci():
            pytest.fail(f"{what}: no URL configured under CI")
        pytest.skip(f"{what}: no URL configured")
    if not service_reachable(url):
        if in_ci():
            pytest.fail(f"{what} at {url} is unreachable under CI")
        pytest.skip(f"{what} at {url} is unreachable")
    return url


def postgres_url() -> str | None:
    return os.environ.get("TOWNSHIP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def redis_url() -> str:
    return os.environ.get("TOWNSHIP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def amqp_url() -> str:
    return os.environ.get("TOWNSHIP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TOWNSHIP_TEST_DATABASE_URL")
    if url:
        require_service(url, "test database")
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker and url.startswith("postgres"):
            url = worker_database(url, worker)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def worker_database(url: str, worker: str) -> str:
    """With pytest-xdist (``-n 2``) each worker gets its own PostgreSQL database next to
    the configured one (``test`` -> ``test_gw0``), created when missing."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from core.config import normalise_database_url

    base = make_url(normalise_database_url(url))
    name = f"{base.database}_{worker}"
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    """Drop every table of the PostgreSQL test database (a clean start)."""
    from sqlalchemy import create_engine

    from core.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def page_text(html: str, selector: str) -> str:
    """The visible text of the first element matching a CSS ``selector`` ("" if none),
    whitespace collapsed: ``page_text(html, "#receipt-responsible")``."""
    from bs4 import BeautifulSoup

    found = BeautifulSoup(html, "html.parser").select_one(selector)
    return " ".join(found.get_text(" ").split()) if found is not None else ""


def page_texts(html: str, selector: str) -> list[str]:
    """The visible text of every element matching ``selector``."""
    from bs4 import BeautifulSoup

    return [
        " ".join(found.get_text(" ").split())
        for found in BeautifulSoup(html, "html.parser").select(selector)
    ]


# ---------------------------------------------------------------------------
# App and database
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app_config() -> dict:
    """Override in a conftest to add settings (e.g. ``EXTRA_PLUGINS``) for a test package."""
    return {}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = test_database_url(tmp_path_factory)
    if url.startswith("postgres"):
        reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def app(app_config, database_url, tmp_path_factory):
    """One app for the session, its database migrated from empty with ``upgrade heads``."""
    from core import create_app
    from core.migrate import upgrade

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "township.test",
        "EMBEDDED_SCHEDULER": False,
        # messages are asserted in English; tests/core/test_i18n.py checks the zh_CN default
        "DEFAULT_LOCALE": "en",
    }
    config.update(app_config)
    os.environ.setdefault("TOWNSHIP_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
    app = create_app(config)
    upgrade(app)
    return app


@pytest.fixture
def db(app) -> Iterator:
    """The database, emptied after the test (every table, in dependency order)."""
    from core.db import db as _db

    with app.app_context():
        yield _db
        _db.session.rollback()
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(delete(table))
        from core import cache

        cache.clear()  # the next test's rows may reuse these ids (SQLite)
        broker = app.extensions["township_broker"]
        if hasattr(broker, "flush_all"):  # the embedded StubBroker
            _empty_stub_queues(broker)


@pytest.fixture
def client(app, db):
    return app.test_client()


@contextmanager
def count_queries(engine) -> Iterator[list[str]]:
    """Collect the SQL statements run inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
def query_counter(db):
    return lambda: count_queries(db.engine)


@pytest.fixture
def dashboard_queries(app, db) -> Callable:
    """``dashboard_queries(townships, key=None)``: the SQL statements of the dashboard
    figures of these townships, asked once before (the caches warm, as in use). With
    ``key``, of that plugin's ``county_dashboard_figures`` alone (its answer must name
    every township); without, of every institution they enabled. A county's figures
    cost the same queries for one township as for two."""

    def _queries(townships: list, key: str | None = None) -> list[str]:
        from admin.dashboard import county_plugin_figures
        from core.plugins import state

        def ask():
            if key is None:
                return county_plugin_figures(townships)
            (answer,) = state().call_for(
                key, "county_dashboard_figures", townships=townships, session=db.session
            )
            return answer

        with app.test_request_context():
            ask()
            with count_queries(db.engine) as statements:
                answer = ask()
        assert set(answer) == {t.id for t in townships}
        return statements

    return _queries


# ---------------------------------------------------------------------------
# Org units and users
# ---------------------------------------------------------------------------


@pytest.fixture
def create_unit(db) -> Callable:
    from core.models import OrgUnit, UnitKind

    def _create(name: str, code: str, kind: str = "township", parent=None):
        unit = OrgUnit(
            name=name, code=code, kind=UnitKind(kind), parent_id=parent.id if parent else None
        )
        db.session.add(unit)
        db.session.flush()
        if unit.kind == UnitKind.township:
            unit.township_id = unit.id
        elif parent is not None:
            unit.township_id = parent.township_id
        db.session.commit()
        return unit

    return _create


@pytest.fixture
def county(create_unit):
    return create_unit("测试县", "county", "county")


@pytest.fixture
def township(create_unit, county):
    return create_unit("东镇", "east", "township", county)


@pytest.fixture
def other_township(create_unit, county):
    return create_unit("西镇", "west", "township", county)


@pytest.fixture
def village(create_unit, township):
    return create_unit("东村", "east-v1", "village", township)


@pytest.fixture
def station(create_unit, township):
    return create_unit("民政办", "east-civil", "station", township)


def _password_hash() -> str:
    if PASSWORD not in _HASH_CACHE:
        from core.auth import hash_password

        _HASH_CACHE[PASSWORD] = hash_password(PASSWORD)
    return _HASH_CACHE[PASSWORD]


@pytest.fixture
def demo_user(db) -> Callable:
    """The demo county loaded (:mod:`core.demo`); ``demo_user("county")`` returns one of
    its users, who now signs in with :data:`PASSWORD`."""
    from sqlalchemy import select

    from core.demo import load_demo
    from core.models import User

    load_demo()

    def _user(username: str):
        user = db.session.scalar(select(User).where(User.username == username))
        user.password_hash = _password_hash()
        db.session.commit()
        return user

    return _user


@pytest.fixture
def create_user(db) -> Callable:
    from core.models import Membership, User

    def _create(
        username: str,
        role: str | None = None,
        unit=None,
        *,
        name: str | None = None,
        email: str | None = None,
        roles: list[tuple[str, object]] | None = None,
    ):
        user = User(
            username=username, name=name or username, email=email, password_hash=_password_hash()
        )
        db.session.add(user)
        db.session.flush()
        pairs = list(roles or [])
        if role is not None:
            pairs.append((role, unit))
        for role_code, org in pairs:
            db.session.add(Membership(user_id=user.id, org_unit_id=org.id, role=role_code))
        db.session.commit()
        return user

    return _create


@pytest.fixture
def clerk(create_user, township):
    return create_user("clerk", "clerk", township, name="王办事", email="clerk@example.test")


@pytest.fixture
def leader(create_user, township):
    return create_user("leader", "leader", township, name="李镇长", email="leader@example.test")


@pytest.fixture
def township_admin(create_user, township):
    return create_user("tadmin", "township_admin", township, name="赵管理")


@pytest.fixture
def county_admin(create_user, county):
    return create_user("cadmin", "county_admin", county, name="县管理员")


@pytest.fixture
def other_clerk(create_user, other_township):
    return create_user("wclerk", "clerk", other_township, name="西镇办事员")


class StaffActions:
    """Behaviour helper for multi-step flows: ``staff.login(user)``, ``staff.logout()``."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = PASSWORD):
        response = self.client.post(
            "/login", data={"username": user.username, "password": password}
        )
        assert response.status_code in (302, 401), response.status_code
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def staff(client) -> StaffActions:
    return StaffActions(client)


# ---------------------------------------------------------------------------
# Tasks
# ---------------------------------------------------------------------------


@pytest.fixture
def stub_worker(app, db):
    """An embedded dramatiq worker on the app's StubBroker; ``join()`` waits for the queues."""
    from core.tasks import start_embedded_worker

    broker = app.extensions["township_broker"]
    worker = start_embedded_worker(app, threads=2)

    class Joiner:
        def join(self, timeout_ms: int = 120_000):
            for queue in list(broker.queues):
                broker.join(queue, timeout=timeout_ms, fail_fast=True)
            worker.join()

    try:
        yield Joiner()
    finally:
        worker.stop()
        _empty_stub_queues(broker)


def _empty_stub_queues(broker) -> None:
    """Leave the app's StubBroker (shared by the session's tests) with nothing owed.

    ``flush_all`` drops the queued messages, but a message the stopped worker had already
    taken off a queue and never ran is still counted as unfinished by that queue, and every
    later ``join()`` on it would wait for ever.
    """
    broker.flush_all()
    for queue in broker.queues.values():
        with queue.mutex:
            queue.queue.clear()
            queue.unfinished_tasks = 0
            queue.all_tasks_done.notify_all()


# ---------------------------------------------------------------------------
# Browser tests: a live server and Debian's Chromium driven by Playwright
# ---------------------------------------------------------------------------

CHROMIUM = os.environ.get("TOWNSHIP_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def live_server(app, db):
    """The app served by waitress on a free local port, in a thread; yields its base URL."""
    import threading

    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture
def browser_page(live_server):
    """A Playwright page in headless Debian Chromium (no browser download needed)."""
    if not os.path.exists(CHROMIUM):
        if in_ci():
            pytest.fail(f"{CHROMIUM} is missing under CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(base_url=live_server, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


# ---------------------------------------------------------------------------
# A second app for one test
# ---------------------------------------------------------------------------


@contextmanager
def built_app(app, **overrides) -> Iterator:
    """A second app like the session's (same database unless overridden), for one test.

    Puts back what building an app changes globally (dramatiq's default broker, the
    actors' last binding and the shared rate limiter), so the session's app is
    unaffected afterwards.
    """
    import dramatiq

    from core import create_app
    from core.db import db
    from core.extensions import limiter
    from core.tasks import declared_actors

    saved_limiter = dict(vars(limiter))
    saved_broker = dramatiq.get_broker()
    saved_bindings = {lazy: lazy._actor for lazy in declared_actors().values()}
    config = {
        key: app.config[key]
        for key in ("TESTING", "SECRET_KEY", "DATABASE_URL", "SERVER_NAME", "EXTRA_PLUGINS")
    }
    config.update(
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        EMBEDDED_SCHEDULER=False,
    )
    config.update(overrides)
    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
        other.extensions["township_broker"].close()
        dramatiq.set_broker(saved_broker)
        for lazy, bound in saved_bindings.items():
            lazy._actor = bound
        vars(limiter).clear()
        vars(limiter).update(saved_limiter)
