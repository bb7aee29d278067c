"""``make bench``: the platform at county scale, side by side with its peers.

1. Creates (if missing) the PostgreSQL database ``bench_perf``, migrates it and seeds it
   once (:mod:`bench.seed`: 100,000 cases over 10 townships, staff, people, plugin rows).
2. Serves the app with gunicorn (2 sync workers, ``TOWNSHIP_BENCH=true`` adds the
   hello-world route ``/bench/hello``) and Django 5's admin over the same tables
   (from its own virtualenv ``bench/.peer-venv``, created on first use), then drives
   both with ``wrk``: every page interleaved with the hello-world route of the same
   server, several rounds, medians. Prints one table: req/s, p50/p99, bytes, SQL
   queries per page, and the ratio to hello-world (public pages) or to Django's
   changelist of the same rows (staff lists).
3. Times the deadline sweep (100,000 open cases), the county dashboard, the inbox of
   a leader with 10,000 open items, the task path beside a bare dramatiq actor on
   Redis, and ``create_app()`` in a fresh process.

    .venv/bin/python bench/run.py                     # everything (all 127 pages: about an hour)
    .venv/bin/python bench/run.py --only pages --duration 3 --rounds 2
    .venv/bin/python bench/run.py --only sweep,tasks,inbox,dashboard,startup
    .venv/bin/python bench/run.py --only pages --pages admin_cases,archives_ --no-peer

Options: ``--url`` (default ``BENCH_DATABASE_URL`` or ``.../bench_perf``), ``--redis``
(default ``BENCH_REDIS_URL`` or ``redis://127.0.0.1:6379/3``), ``--reseed``,
``--source DIR`` (serve another checkout of the platform, e.g. the commit before a
change, against the same database: a "before" run).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    ROOT,
    ensure_database,
    load_average,
    machine,
    median,
)

BENCH = ROOT / "bench"
PEER_VENV = BENCH / ".peer-venv"
RESULTS = BENCH / "results"
USER_AGENT = "township-bench"
STAFF_PAGE_SIZE = 50
#: every server measured: gunicorn, two sync workers
WORKERS = ("-w", "2", "-k", "sync", "--log-level", "warning")
PEER_REQUIREMENTS = ("django>=5.2,<6", "psycopg[binary]>=3.3", "gunicorn>=23")


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str = "/bench/hello", timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server on port {port} did not answer {path} within {timeout} s")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_township(args, source: Path) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "TOWNSHIP_DATABASE_URL": args.url,
            "TOWNSHIP_SECRET_KEY": "bench-secret",
            "TOWNSHIP_BENCH": "true",
            "TOWNSHIP_EMBEDDED_SCHEDULER": "false",
            "TOWNSHIP_RATELIMIT_ENABLED": "false",
            "TOWNSHIP_LOG_LEVEL": "WARNING",
            "TOWNSHIP_CACHE_URL": args.redis,
            "TOWNSHIP_INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-instance-"),
            "PYTHONPATH": f"{source}{os.pathsep}{BENCH}",
        }
    )
    if source != ROOT:  # another checkout: only the institutions it has
        keys = [p.parent.name for p in (source / "plugins").glob("*/__init__.py")]
        env["TOWNSHIP_PLUGINS"] = ",".join(sorted(keys))
    gunicorn = Path(sys.executable).parent / "gunicorn"
    # the settings the README gives operators (the app built once, workers forked from it)
    settings = []
    if (source / "core/gunicorn_conf.py").exists():
        settings = ["-c", "python:core.gunicorn_conf"]
    process = subprocess.Popen(
        [
            str(gunicorn),
            *settings,
            *WORKERS,
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(source),
            "wsgi:app",
        ],
        env=env,
        cwd=source,
    )
    wait_for(port)
    return Server("township", port, process)


def ensure_peer_venv() -> Path:
    """Django 5 in its own virtualenv under bench/ (never in .venv, never committed)."""
    python = PEER_VENV / "bin" / "python"
    if not (PEER_VENV / "bin" / "gunicorn").exists():
        print("creating bench/.peer-venv with Django 5 (once)")
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS],
            check=True,
        )
    return python


def start_peer(args, spec_path: Path) -> Server:
    python = ensure_peer_venv()
    env = dict(os.environ)
    env.update(
        {
            "BENCH_DATABASE_URL": args.url,
            "BENCH_PEER_SPEC": str(spec_path),
            "DJANGO_SETTINGS_MODULE": "settings",
        }
    )
    peer = BENCH / "peer"
    subprocess.run([str(python), "manage.py", "migrate", "-v", "0"], env=env, cwd=peer, check=True)
    subprocess.run(
        [str(python), "manage.py", "shell", "--no-imports", "-c", PEER_ADMIN_SCRIPT],
        env=env,
        cwd=peer,
        check=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            str(PEER_VENV / "bin" / "gunicorn"),
            *WORKERS,
            "-b",
            f"127.0.0.1:{port}",
            "wsgi:application",
        ],
        env=env,
        cwd=peer,
    )
    wait_for(port)
    return Server("django", port, process)


PEER_ADMIN_SCRIPT = """
from django.contrib.auth.models import User
if not User.objects.filter(username="bench").exists():
    User.objects.create_superuser("bench", "bench@bench.invalid", "bench-password")
"""


# ---------------------------------------------------------------------------
# Signing in (a session cookie wrk sends with the same User-Agent)
# ---------------------------------------------------------------------------


def _request(port, method, path, body=None, cookies=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    all_headers = {"User-Agent": USER_AGENT}
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(body)
    all_headers.update(headers or {})
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and cookies is not None:
            name, _, rest = value.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
    return response, data


def _csrf(html: bytes, name: str) -> str:
    match = re.search(rb'name="' + name.encode() + rb'"[^>]*value="([^"]+)"', html)
    if not match:
        match = re.search(rb'value="([^"]+)"[^>]*name="' + name.encode() + rb'"', html)
    if not match:
        raise SystemExit(f"no {name} on the sign-in page")
    return match.group(1).decode()


def township_login(port: int, username: str, password: str) -> str:
    cookies: dict[str, str] = {}
    _, page = _request(port, "GET", "/login", cookies=cookies)
    token = _csrf(page, "csrf_token")
    response, _ = _request(
        port,
        "POST",
        "/login",
        {"username": username, "password": password, "csrf_token": token},
        cookies,
    )
    if response.status != 302:
        raise SystemExit(f"could not sign in as {username}: {response.status}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def peer_login(port: int) -> str:
    cookies: dict[str, str] = {}
    _, page = _request(port, "GET", "/admin/login/", cookies=cookies)
    token = _csrf(page, "csrfmiddlewaretoken")
    response, _ = _request(
        port,
        "POST",
        "/admin/login/?next=/admin/",
        {"username": "bench", "password": "bench-password", "csrfmiddlewaretoken": token},
        cookies,
    )
    if response.status != 302:
        raise SystemExit(f"could not sign in to the Django peer: {response.status}")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


# ---------------------------------------------------------------------------
# Load: wrk
# ---------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    match = re.match(r"[\d.]+", text)
    if match is None:  # no request finished in time
        return float("nan")
    value = float(match.group(0))
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("s"):
        return value * 1000
    return value


def wrk(port: int, path: str, cookie: str | None, duration: float, connections: int) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "--latency"]
    command += ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    # the latency distribution's own lines ("    50%    1.20ms"), not "+/- Stdev 75.50%"
    p50 = _ms((re.search(r"^\s*50%\s+(\S+)", out, re.M) or re.search("()", "")).group(1))
    p99 = _ms((re.search(r"^\s*99%\s+(\S+)", out, re.M) or re.search("()", "")).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Load(rps, p50, p99, count)


@dataclass
class Row:
    """One page in the table: where it is served, how it is asked for, what it measured."""

    name: str
    group: str  # "staff", "public", "peer", "inbox"
    server: str  # "township" or "django"
    path: str
    cookie: str | None
    queries: int | None = None
    bytes: int = 0
    status: int = 0
    peer: str | None = None  # name of the Django row to compare with (staff lists)
    loads: list[Load] = field(default_factory=list)
    hellos: list[Load] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return median(load.rps for load in self.loads)

    def ratio_to_hello(self) -> float:
        """Median over rounds of (this page / the hello-world just before it)."""
        return median(a.rps / b.rps for a, b in zip(self.loads, self.hellos, strict=True) if b.rps)


# ---------------------------------------------------------------------------
# The pages: discovered staff lists, registered public pages, their peers
# ---------------------------------------------------------------------------


def staff_lists(app) -> list:
    """Every admin list of a model view (core and plugins), with its endpoint."""
    from flask_admin.contrib.sqla import ModelView

    admin = app.extensions["township_admin"]
    return [view for view in admin._views if isinstance(view, ModelView)]


def list_path(view, options: dict) -> str:
    query = {"page_size": STAFF_PAGE_SIZE}
    sort = options.get("sort")
    if sort:
        names = [name for name, _ in view._list_columns]
        query["sort"] = names.index(sort)
        if options.get("desc"):
            query["desc"] = 1
    return f"/admin/{view.endpoint}/?" + urllib.parse.urlencode(query)


def peer_spec(app, views, options) -> dict:
    """Tables, columns and list settings for Django's admin over the same rows."""
    from sqlalchemy import Boolean, Date, DateTime, Enum, Integer, String, Text
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy.types import JSON

    tables: dict[str, dict] = {}

    def model_name(table: str) -> str:
        return "".join(part.title() for part in table.split("_"))

    def column_spec(col) -> dict:
        kind = "text"
        t = col.type
        impl = getattr(t, "impl", t)
        if isinstance(t, Enum) or isinstance(impl, Enum):
            enum_class = getattr(t, "enum_class", None)
            choices = None
            if enum_class is not None:
                from core.labels import label_of

                with app.test_request_context():
                    choices = [[m.value, str(label_of(m))] for m in enum_class]
            return {"type": "str", "length": getattr(t, "length", 32), "choices": choices}
        if isinstance(impl, Boolean):
            kind = "bool"
        elif isinstance(impl, Integer):
            kind = "int"
        elif isinstance(impl, DateTime):
            kind = "datetime"
        elif isinstance(impl, Date):
            kind = "date"
        elif isinstance(impl, String):
            return {"type": "str", "length": impl.length or 255}
        elif isinstance(impl, Text):
            kind = "text"
        elif isinstance(impl, JSON):
            kind = "json"
        return {"type": kind}

    def table_of(model) -> dict:
        mapper = sa_inspect(model)
        table = mapper.local_table.name
        if table not in tables:
            names = {c.key for c in mapper.column_attrs}
            display = next((n for n in ("name", "title", "username") if n in names), "id")
            tables[table] = {"model": model_name(table), "display": display, "columns": []}
        return tables[table]

    def add_column(spec, name, col_spec) -> None:
        column = col_spec.get("db_column", name)
        if all(
            c["name"] != name and c.get("db_column", c["name"]) != column for c in spec["columns"]
        ):
            spec["columns"].append({"name": name, **col_spec})

    for view in views:
        model = view.model
        mapper = sa_inspect(model)
        spec = table_of(model)
        for prop in mapper.column_attrs:  # every column: Django selects them all, as we did
            if len(prop.columns) == 1 and prop.columns[0].table is mapper.local_table:
                col = prop.columns[0]
                add_column(spec, prop.key, {**column_spec(col), "db_column": col.name})
        display, related = [], []
        for name, _ in view._list_columns:
            if name in mapper.relationships:
                rel = mapper.relationships[name]
                local = list(rel.local_columns)
                if rel.uselist or len(local) != 1:
                    display.append(name)
                    continue
                target = table_of(rel.mapper.class_)
                target_mapper = rel.mapper
                for prop in target_mapper.column_attrs:
                    if len(prop.columns) == 1:
                        col = prop.columns[0]
                        add_column(target, prop.key, {**column_spec(col), "db_column": col.name})
                spec["columns"] = [
                    c for c in spec["columns"] if c.get("db_column", c["name"]) != local[0].name
                ]
                add_column(
                    spec,
                    name,
                    {
                        "type": "fk",
                        "target": target_mapper.local_table.name,
                        "db_column": local[0].name,
                    },
                )
                related.append(name)
            display.append(name)
        filters = [
            f
            for f in (view.column_filters or ())
            if isinstance(f, str) and f in mapper.column_attrs
        ][:2]
        search = [
            s
            for s in (view.column_searchable_list or ())
            if isinstance(s, str) and s in mapper.column_attrs
        ]
        default = view.column_default_sort
        ordering = None
        if isinstance(default, tuple) and isinstance(default[0], str):
            ordering = [("-" if default[1] else "") + default[0]]
        elif isinstance(default, str):
            ordering = [default]
        spec["page"] = {
            "endpoint": view.endpoint,
            "list_display": display,
            "select_related": related,
            "filters": filters,
            "search": search,
            "ordering": ordering,
            "per_page": STAFF_PAGE_SIZE,
            "sort": options.get(view.endpoint, {}).get("sort"),
        }
    return {"tables": tables}


def peer_path(spec: dict, endpoint: str) -> str | None:
    for spec_table in spec["tables"].values():
        page = spec_table.get("page")
        if page and page["endpoint"] == endpoint:
            path = f"/admin/peerapp/{spec_table['model'].lower()}/"
            if page.get("sort"):
                path += f"?o={page['list_display'].index(page['sort']) + 1}"
            return path
    return None


def count_queries(app, path: str, username: str | None) -> tuple[int, int, int]:
    """(status, bytes, SQL statements) of one request in-process, after a warm-up."""
    from core.db import db
    from core.testing.fixtures import count_queries as counter

    client = app.test_client()
    if username:
        with app.test_request_context():
            pass
        client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
        page = client.get("/login").data
        token = _csrf(page, "csrf_token")
        response = client.post(
            "/login",
            data={"username": username, "password": "bench-password", "csrf_token": token},
        )
        assert response.status_code == 302, (username, response.status_code)
    client.get(path)
    with app.app_context():
        engine = db.engine
    with counter(engine) as statements:
        response = client.get(path)
    return response.status_code, len(response.data), len(statements)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


def print_table(rows: list[Row], hello: list[Load], peer_hello: list[Load]) -> None:
    head = f"{'page':<44} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'KB':>6} {'SQL':>4}  ratio"
    print(head)
    print("-" * len(head) + "-" * 14)
    by_name = {row.name: row for row in rows}
    hello_rps = median(h.rps for h in hello)
    print(
        f"{'hello world (township, same server)':<44} {hello_rps:>7.0f} "
        f"{median(h.p50_ms for h in hello):>7.1f} {median(h.p99_ms for h in hello):>7.1f}"
    )
    if peer_hello:
        print(
            f"{'hello world (Django, same server)':<44} {median(h.rps for h in peer_hello):>7.0f} "
            f"{median(h.p50_ms for h in peer_hello):>7.1f} "
            f"{median(h.p99_ms for h in peer_hello):>7.1f}"
        )
    for row in rows:
        p50 = median(load.p50_ms for load in row.loads)
        p99 = median(load.p99_ms for load in row.loads)
        errors = sum(load.errors for load in row.loads)
        if row.group == "public":
            ratio = f"{row.ratio_to_hello():.2f}× hello"
        elif row.peer and row.peer in by_name and by_name[row.peer].loads:
            pairs = zip(row.loads, by_name[row.peer].loads, strict=False)
            ratio = f"{median(a.rps / b.rps for a, b in pairs if b.rps):.1f}× Django"
        elif row.server == "django":
            ratio = "(peer)"
        else:
            ratio = f"{row.ratio_to_hello():.2f}× hello"
        queries = "" if row.queries is None else str(row.queries)
        flag = f"  {errors} errors" if errors else ""
        flag += f"  HTTP {row.status}" if row.status and row.status != 200 else ""
        print(
            f"{row.name[:44]:<44} {row.rps:>7.0f} {p50:>7.1f} {p99:>7.1f} "
            f"{row.bytes / 1024:>6.1f} {queries:>4}  {ratio}{flag}"
        )


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def plugin_bench_modules(app) -> list:
    """``<plugin package>.bench`` modules of the loaded plugins (the hook-free convention)."""
    import importlib

    from core.plugins import CORE_KEY, state

    modules = []
    with app.app_context():
        for key, loaded in state(app).plugins.items():
            if key == CORE_KEY:
                continue
            package = getattr(loaded.obj, "__name__", None)
            if not package:
                continue
            try:
                modules.append((key, importlib.import_module(f"{package}.bench")))
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.bench":
                    raise
    return modules


def prepare(args):
    """Database, migrations and the seed; returns (app, seeded)."""
    from bench import pages
    from bench.common import make_app
    from bench.seed import read_seed, seed
    from core.migrate import upgrade

    created = ensure_database(args.url, empty=args.reseed)
    app = make_app(args.url)
    with app.app_context():
        seeded = None if (created or args.reseed) else read_seed()
    if seeded is None:
        if not created and not args.reseed:
            ensure_database(args.url, empty=True)
            app = make_app(args.url)
        upgrade(app)
        seeders = list(pages.SEEDERS)
        for key, module in plugin_bench_modules(app):
            if hasattr(module, "seed"):
                seeders.append((key, module.seed))
        print("seeding the benchmark database (once; --reseed starts over)")
        with app.app_context():
            seeded = seed(app, seeders)
    else:
        upgrade(app)
        enable_everything(app, seeded)  # an institution registered since the seed
    return app, seeded


def enable_everything(app, seeded) -> None:
    """Every institution enabled in every bench township (plugins added after seeding)."""
    from core.db import db
    from core.institutions import is_enabled, set_enabled
    from core.models import OrgUnit
    from core.plugins import state

    with app.app_context():
        for township_id in seeded.township_ids:
            township = db.session.get(OrgUnit, township_id)
            for info in state().institutions():
                if not is_enabled(township_id, info.key):
                    try:
                        set_enabled(township, info.key, True)
                    except ValueError:  # needs another institution first: next pass
                        continue


def run_pages(args, app, seeded) -> None:
    from bench import pages
    from core.plugins import state

    source = Path(args.source).resolve() if args.source else ROOT
    loaded = set(state(app).plugins)
    views = staff_lists(app)
    spec = peer_spec(app, views, pages.STAFF_OPTIONS)
    RESULTS.mkdir(exist_ok=True)
    spec_path = RESULTS / "peer_spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False, indent=1), "utf-8")

    extra_pages = []
    for _key, module in plugin_bench_modules(app):
        extra_pages += list(getattr(module, "PAGES", []))

    township = start_township(args, source)
    peer = None
    try:
        peer = None if args.no_peer else start_peer(args, spec_path)
        cookies: dict[str, str] = {}

        def cookie_for(role: str) -> str:
            username = seeded.users.get(role, role)
            if username not in cookies:
                cookies[username] = township_login(township.port, username, "bench-password")
            return cookies[username]

        rows: list[Row] = []
        for view in views:
            options = pages.STAFF_OPTIONS.get(view.endpoint, {})
            role = options.get("user", "county")
            path = list_path(view, options)
            name = f"staff: {view.endpoint}"
            peer_name = None
            if peer is not None:
                ppath = peer_path(spec, view.endpoint)
                if ppath:
                    peer_name = f"django: {view.endpoint}"
                    rows.append(Row(peer_name, "peer", "django", ppath, None))
            rows.append(Row(name, "staff", "township", path, cookie_for(role), peer=peer_name))
            rows[-1].user = seeded.users.get(role, role)  # type: ignore[attr-defined]
        for page in [*pages.PUBLIC_PAGES, *extra_pages]:
            if page.plugin not in loaded:
                continue
            group = "public" if page.user == "public" else "staff"
            cookie = None if page.user == "public" else cookie_for(page.user)
            row = Row(f"{group}: {page.name}", group, "township", page.url(seeded), cookie)
            row.user = None if page.user == "public" else seeded.users.get(page.user, page.user)  # type: ignore[attr-defined]
            rows.append(row)
        inbox = pages.INBOX_PAGE
        row = Row("inbox: " + inbox.name, "inbox", "township", inbox.url(seeded), None)
        row.cookie = cookie_for(inbox.user)
        row.user = seeded.users.get(inbox.user, inbox.user)  # type: ignore[attr-defined]
        rows.append(row)
        if args.pages:
            wanted = [w for w in args.pages.split(",") if w]
            rows = [r for r in rows if any(w in r.name for w in wanted)]

        # query counts and sizes, in-process (the served app is the same code)
        if not args.source:
            for row in rows:
                if row.server == "township":
                    status, size, queries = count_queries(app, row.path, getattr(row, "user", None))
                    row.status, row.bytes, row.queries = status, size, queries
        peer_cookie = peer_login(peer.port) if peer is not None else None
        for row in rows:
            if row.server == "django":
                row.cookie = peer_cookie
                response, body = _request(
                    peer.port, "GET", row.path, headers={"Cookie": peer_cookie}
                )
                row.status, row.bytes = response.status, len(body)
            elif args.source:
                headers = {"Cookie": row.cookie} if row.cookie else {}
                response, body = _request(township.port, "GET", row.path, headers=headers)
                row.status, row.bytes = response.status, len(body)

        hello: list[Load] = []
        peer_hello: list[Load] = []
        print(
            f"driving {len(rows)} pages with wrk -t1 -c{args.connections} -d{args.duration}s, "
            f"{args.rounds} rounds, each page right after the hello-world of its server "
            f"(load average before: {load_average()})"
        )
        for round_no in range(args.rounds):
            for row in rows:
                server = township if row.server == "township" else peer
                h = wrk(server.port, "/bench/hello", None, args.duration, args.connections)
                (hello if row.server == "township" else peer_hello).append(h)
                row.hellos.append(h)
                row.loads.append(
                    wrk(server.port, row.path, row.cookie, args.duration, args.connections)
                )
            print(f"  round {round_no + 1} done (load average {load_average()})")
        print()
        print_table(rows, hello, peer_hello)
        spread = [
            (max(h.rps for h in row.hellos) - min(h.rps for h in row.hellos)) / row.hellos[0].rps
            for row in rows
            if row.server == "township" and row.hellos
        ]
        print(
            f"\nnoise: hello-world req/s varied by up to {max(spread):.0%} between rounds "
            f"for the same page slot (median {median(spread):.0%})"
        )
        workers = worker_memory(township.process.pid)
        print(
            "web workers' memory after the run (resident / proportional / private): "
            + ", ".join(f"{rss:.0f} / {pss:.0f} / {own:.0f} MB" for rss, pss, own in workers)
            + " (goal ≤ 150 MB each)"
        )
    finally:
        township.stop()
        if peer is not None:
            peer.stop()


def worker_memory(master_pid: int) -> list[tuple[float, float, float]]:
    """Memory (MB) of the gunicorn workers forked by ``master_pid``: resident (pages shared
    with the master counted whole), proportional (shared pages split between the
    processes sharing them: what a worker adds to the machine's total) and private."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
            sizes.append(memory_mb(int(entry.name)))
    return sorted(sizes)


def memory_mb(pid: int) -> tuple[float, float, float]:
    """Resident, proportional and private memory of ``pid`` in MB (``smaps_rollup``)."""
    kb = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, *value = line.split()
        kb[key.rstrip(":")] = int(value[0]) if value and value[0].isdigit() else 0
    private = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return kb.get("Rss", 0) / 1024, kb.get("Pss", 0) / 1024, private / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis", default=DEFAULT_REDIS_URL)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--source", help="serve the platform from this checkout (a 'before' run)")
    parser.add_argument("--only", default="pages,sweep,inbox,dashboard,tasks,startup")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-peer", action="store_true", help="skip Django")
    parser.add_argument(
        "--pages",
        default="",
        help="only the pages whose name contains one of these (comma-separated), e.g. "
        "admin_cases,archives_",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))

    print(f"machine: {machine()}; load average {load_average()}")
    app, seeded = prepare(args)
    if "pages" in only:
        run_pages(args, app, seeded)
    for part in ("sweep", "inbox", "dashboard", "tasks", "startup"):
        if part in only:
            print()
            script = BENCH / f"measure_{part}.py"
            if script.exists():
                subprocess.run(
                    [sys.executable, str(script), "--url", args.url, "--redis", args.redis],
                    check=False,
                )


if __name__ == "__main__":
    main()
