"""Schemathesis against the JSON API, as CI runs it (on SQLite, then on PostgreSQL).

A live server (the app on Werkzeug, in a thread) holds the demo county and a staff token
that may do everything (county administrator, information officer, training officer);
``st run`` fuzzes the whole OpenAPI document with every check but one (see
``schemathesis.toml``), the four phases (examples, coverage, fuzzing, stateful with the
document's links), bounded by ``TOWNSHIP_FUZZ_SECONDS`` (default 90) and
``TOWNSHIP_FUZZ_EXAMPLES`` per operation (default 25). It fails on any server error,
response that breaks the schema, undocumented status or content type, a 405 without
``Allow``, accepted invalid input or ignored authentication.

The figures of the run (requests, their statuses, schemathesis' summary) are printed:
``pytest -s tests/core/test_fuzz.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from core.testing.fixtures import built_app

ROOT = Path(__file__).resolve().parents[2]


class CountingMiddleware:
    """Counts the requests the server answered, by status."""

    def __init__(self, app):
        self.app = app
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        def counting_start_response(status, headers, exc_info=None):
            with self.lock:
                self.statuses[int(status.split(" ", 1)[0])] += 1
            return start_response(status, headers, exc_info)

        return self.app(environ, counting_start_response)


def _fuzz_user(db) -> str:
    """A staff user holding every role the API needs, with a token."""
    from core.api import create_token
    from core.models import Membership, OrgUnit, User

    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    user = User(username="fuzz", name="模糊测试", password_hash="!")
    db.session.add(user)
    db.session.flush()
    for role, code in (
        ("county_admin", "demo-county"),
        ("releases_officer", "dongfeng"),
        ("training_officer", "dongfeng"),
    ):
        db.session.add(Membership(user_id=user.id, org_unit_id=units[code].id, role=role))
    db.session.commit()
    return create_token(user, "schemathesis")[1]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_schema_violation_or_undocumented_status(
    app, db, tmp_path
):
    from werkzeug.serving import make_server

    from core.demo import load_demo

    seconds = int(os.environ.get("TOWNSHIP_FUZZ_SECONDS", "90"))
    examples = int(os.environ.get("TOWNSHIP_FUZZ_EXAMPLES", "25"))
    with built_app(app, SERVER_NAME=None) as served:
        with served.app_context():
            load_demo()
            token = _fuzz_user(db)
            db.session.remove()
        counter = CountingMiddleware(served.wsgi_app)
        served.wsgi_app = counter
        server = make_server("127.0.0.1", 0, served, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            command = [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "--config-file",
                str(ROOT / "schemathesis.toml"),
                "--no-color",
                "run",
                f"http://127.0.0.1:{server.server_port}/api/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                str(examples),
                "--max-time",
                str(seconds),
                # one worker: Python 3.11's ast.parse is not thread-safe (Hypothesis uses it)
                "--workers",
                "1",
                "--request-timeout",
                "30",
            ]
            if os.environ.get("TOWNSHIP_FUZZ_SEED"):
                command += ["--seed", os.environ["TOWNSHIP_FUZZ_SEED"]]
            run = subprocess.run(
                command,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=seconds + 300,
                env={**os.environ, "NO_COLOR": "1"},
            )
        finally:
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
    output = run.stdout + run.stderr
    requests = sum(counter.statuses.values())
    summary = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-3000:]
    print(f"\nschemathesis: {requests} requests, statuses {dict(sorted(counter.statuses.items()))}")
    print(summary)
    server_errors = {status: n for status, n in counter.statuses.items() if status >= 500}
    assert not server_errors, f"server errors {server_errors}\n{output[-20000:]}"
    assert run.returncode == 0, output[-20000:]
    assert requests > 500, f"the fuzzing hardly ran ({requests} requests)\n{output[-5000:]}"
