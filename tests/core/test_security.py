"""Security defaults a county's IT office expects: headers, HTTPS, proxies and rate
limits, the secret key file, and two rules of extensions (nobody approves their own;
a commitment never runs beyond 30 calendar days)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from core import clock
from core.calendar import WorkingCalendar
from core.cases import (
    CaseError,
    accept_case,
    decide_extension,
    register_case,
    request_extension,
)
from core.config import SECRET_FILE, _secret_key
from core.models import ExtensionRequest, LimitUnit, TimeLimitPolicy
from core.testing.fixtures import built_app

# ---------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/lookup", "/api/openapi.json", "/api/v1/me"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # HTTPS is not on


def test_without_https_cookies_may_travel_over_http(client, staff, clerk):
    response = staff.login(clerk)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_with_https_hsts_and_secure_cookies(app, db, clerk):
    with built_app(app, HTTPS=True) as other:
        client = other.test_client()
        response = client.post(
            "/login",
            data={"username": "clerk", "password": "correct horse battery"},
            base_url="https://township.test",
        )
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert other.config["REMEMBER_COOKIE_SECURE"] is True
        # the proxy in front tells plain HTTP from HTTPS; the app does not redirect itself
        assert client.get("/healthz").status_code == 200


# ---------------------------------------------------------------------------
# Rate limits behind a proxy; 429 says when to come back
# ---------------------------------------------------------------------------

LOOKUP = "/lookup?receipt=EAST-250101-AAAAAAAA"
PROXY = {"REMOTE_ADDR": "10.0.0.1"}


def _lookups(client, citizen: str, times: int) -> list:
    headers = {"X-Forwarded-For": citizen}
    return [client.get(LOOKUP, headers=headers, environ_base=PROXY) for _ in range(times)]


def test_behind_a_trusted_proxy_each_citizen_has_a_bucket(app, db):
    overrides = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    with built_app(app, TRUSTED_PROXIES=1, **overrides) as other:
        client = other.test_client()
        first = _lookups(client, "203.0.113.7", 31)
        assert [r.status_code for r in first[:30]] == [404] * 30
        limited = first[30]
        assert limited.status_code == 429
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        assert _lookups(client, "198.51.100.9", 1)[0].status_code == 404  # someone else


def test_without_trusted_proxies_the_header_is_not_believed(app, db):
    overrides = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    with built_app(app, **overrides) as other:
        client = other.test_client()
        assert _lookups(client, "203.0.113.7", 31)[30].status_code == 429
        # a forged X-Forwarded-For does not buy a new bucket
        assert _lookups(client, "198.51.100.9", 1)[0].status_code == 429


def test_a_throttled_sign_in_says_when_to_try_again(app, db, clerk):
    overrides = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    with built_app(app, LOGIN_RATE_LIMIT="3 per minute", **overrides) as other:
        client = other.test_client()
        wrong = {"username": "clerk", "password": "wrong"}
        answers = [client.post("/login", data=wrong) for _ in range(4)]
        assert [r.status_code for r in answers] == [401, 401, 401, 429]
        assert 0 < int(answers[3].headers["Retry-After"]) <= 60


# ---------------------------------------------------------------------------
# The secret key file
# ---------------------------------------------------------------------------


def test_the_secret_key_file_is_private_from_its_creation(tmp_path):
    key = _secret_key(tmp_path)
    path = tmp_path / SECRET_FILE
    assert len(key) > 40 and path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _secret_key(tmp_path) == key  # read, never replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]  # no draft left


def test_threads_starting_together_agree_on_one_key(tmp_path):
    barrier = threading.Barrier(8)
    keys: list[str] = []

    def start():
        barrier.wait()
        keys.append(_secret_key(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (tmp_path / SECRET_FILE).read_text() == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]


@pytest.mark.slow
def test_two_processes_starting_together_agree_on_one_key(tmp_path):
    go = tmp_path / "go"
    folder = tmp_path / "instance"
    folder.mkdir()
    script = (
        "import sys, time, pathlib\n"
        "from core.config import _secret_key\n"
        "go = pathlib.Path(sys.argv[1])\n"
        "while not go.exists(): time.sleep(0.001)\n"
        "print(_secret_key(pathlib.Path(sys.argv[2])))\n"
    )
    root = Path(__file__).resolve().parents[2]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(go), str(folder)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        for _ in range(2)
    ]
    time.sleep(1.0)  # both are importing, then waiting
    go.touch()
    keys = [p.communicate(timeout=60)[0].strip() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert keys[0] and keys[0] == keys[1] == (folder / SECRET_FILE).read_text()
    assert stat.S_IMODE((folder / SECRET_FILE).stat().st_mode) == 0o600


# ---------------------------------------------------------------------------
# Extensions
# ---------------------------------------------------------------------------


def test_nobody_decides_their_own_extension_request(db, township, leader, create_user, client):
    case = register_case(
        township=township,
        kind="inquiry",
        title="咨询",
        applicant_name="张三",
        first_responder=leader,
    )
    accept_case(case, leader)
    req = request_extension(case, leader, 30, "需调研")
    with pytest.raises(CaseError, match="your own"):
        decide_extension(req, leader, True)
    db.session.rollback()
    assert db.session.get(ExtensionRequest, req.id).approved is None
    other_leader = create_user("leader2", "leader", township)
    decide_extension(req, other_leader, True)
    assert case.limit_amount == 30


@pytest.fixture
def commitment_in_working_days(db, township):
    """A township that counts commitments in working days (10, extendable to 30)."""
    db.session.add(
        TimeLimitPolicy(
            township_id=township.id,
            kind="commitment",
            amount=10,
            unit=LimitUnit.working_days,
            max_amount=30,
        )
    )
    db.session.commit()
    return township


def _commitment(township, clerk, accepted_on: date):
    case = register_case(
        township=township,
        kind="commitment",
        title="承诺件",
        applicant_name="王五",
        first_responder=clerk,
        received_on=accepted_on,
    )
    return accept_case(case, clerk, accepted_on)


def test_a_commitment_never_runs_beyond_30_calendar_days(
    db, commitment_in_working_days, clerk, leader
):
    accepted_on = clock.today(commitment_in_working_days) - timedelta(days=3)
    case = _commitment(commitment_in_working_days, clerk, accepted_on)
    assert case.limit_unit == LimitUnit.working_days
    # 30 working days are about six weeks: beyond the 30 calendar days of a commitment
    with pytest.raises(CaseError, match="30 calendar days"):
        request_extension(case, clerk, 30, "需补充材料")
    db.session.rollback()
    assert db.session.query(ExtensionRequest).count() == 0
    # 12 working days stay inside 30 calendar days, even across a week of holidays
    req = request_extension(case, clerk, 12, "需补充材料")
    decide_extension(req, leader, True)
    assert case.limit_amount == 12
    calendar = WorkingCalendar.for_township(case.township_id)
    assert case.due_on <= calendar.due_date(accepted_on, 30, LimitUnit.calendar_days).due


def test_a_leader_cannot_approve_past_the_ceiling_either(
    db, commitment_in_working_days, clerk, leader
):
    """A request written before the township changed its unit is checked again on approval."""
    yesterday = clock.today(commitment_in_working_days) - timedelta(days=1)
    case = _commitment(commitment_in_working_days, clerk, yesterday)
    req = ExtensionRequest(case=case, requested_by_id=clerk.id, amount=28, reason="旧申请")
    db.session.add(req)
    db.session.commit()
    with pytest.raises(CaseError, match="30 calendar days"):
        decide_extension(req, leader, True)
    db.session.rollback()
    assert db.session.get(ExtensionRequest, req.id).approved is None
    assert case.limit_amount == 10


def test_an_inquiry_in_calendar_days_still_extends_to_30(db, township, clerk, leader):
    case = register_case(
        township=township,
        kind="inquiry",
        title="咨询",
        applicant_name="张三",
        first_responder=clerk,
    )
    accept_case(case, clerk)
    decide_extension(request_extension(case, clerk, 30, "调研"), leader, True)
    assert case.limit_amount == 30


# ---------------------------------------------------------------------------
# The admin still works in a browser under the headers
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_admin_works_in_chromium_under_the_security_headers(browser_page, clerk, township):
    from core.testing.fixtures import PASSWORD

    page = browser_page
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.goto("/login")
    page.locator("input[name=username]").fill(clerk.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)

    response = page.goto("/admin/admin_cases/")
    assert response.status == 200
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    # flask-admin's own scripts run (Bootstrap's dropdown, its filter script): a filter
    # chosen from the menu adds a row to the filter form
    menu = page.locator(".field-filters").first
    menu.locator("xpath=preceding-sibling::a[@data-toggle='dropdown']").click()
    menu.locator("a.filter").first.click()
    assert page.locator("table.filters tr").count() >= 1
    page.goto("/admin/admin_cases/new/")
    assert page.locator("select[name=kind]").count() == 1
    assert problems == []
