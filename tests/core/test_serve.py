"""`township serve` as `make run` starts it: migrate, demo county, logins, web, stop."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOWNSHIP = str(Path(sys.executable).with_name("township"))

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            # not listening yet, or listening (gunicorn's master) while workers still boot
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_serve_migrates_loads_the_demo_prints_logins_and_serves(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "TOWNSHIP_INSTANCE_PATH": str(tmp_path),
        "TOWNSHIP_PORT": str(port),
        "TOWNSHIP_SCHEDULER_LEASE_SECONDS": "5",
    }
    env.pop("TOWNSHIP_DATABASE_URL", None)
    env.pop("TOWNSHIP_BROKER_URL", None)
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [TOWNSHIP, "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/healthz", process)
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
            assert response.status == 200
        output = (tmp_path / "serve.log").read_text()
        assert (tmp_path / "township.db").exists()
        match = re.search(r"^\s+(dongfeng-clerk)\s+(\S+)\s+clerk", output, re.M)
        assert match, output
        username, password = match.groups()

        # sign in as the printed clerk through the real, CSRF-protected form
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "username": username, "password": password}
        ).encode()
        admin = opener.open(f"{base}/login", data=form)
        assert admin.geturl().startswith(f"{base}/admin")
        assert "东风镇" in admin.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
            log.close()
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()[-3000:]


def test_second_start_keeps_the_data_and_prints_the_same_logins(tmp_path):
    env = {**os.environ, "TOWNSHIP_INSTANCE_PATH": str(tmp_path)}
    first = subprocess.run(
        [TOWNSHIP, "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [TOWNSHIP, "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert "0 new login(s)" in second.stdout
    line = next(line for line in first.stdout.splitlines() if "county_admin" in line)
    assert line in second.stdout
