"""Locust users for ``make load``: township clerks in the staff site and citizens on the public one.

Run by ``bench/load/run.py``, which seeds the database, starts gunicorn and passes the
logins and case ids in ``TOWNSHIP_LOAD_DATA`` (a JSON file). Any answer other than the
expected one (a 4xx/5xx, a form sent back, a refused transition) counts as a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading

from locust import HttpUser, between, task

with open(os.environ["TOWNSHIP_LOAD_DATA"]) as _fh:
    DATA = json.load(_fh)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_logins = itertools.cycle(DATA["clerks"])
_lock = threading.Lock()
AGENT = {"User-Agent": "township-load/1"}  # one User-Agent per session (strong session protection)


def csrf_of(html: str) -> str | None:
    found = CSRF.search(html)
    return found.group(1) if found else None


class Clerk(HttpUser):
    """A clerk's mix: list cases, open one, register a matter, accept and assign it."""

    fixed_count = int(os.environ.get("LOAD_STAFF", 100))
    wait_time = between(1, 3)

    def on_start(self):
        with _lock:
            self.username = next(_logins)
        self.client.headers.update(AGENT)
        page = self.client.get("/login", name="login form")
        token = csrf_of(page.text)
        with self.client.post(
            "/login",
            data={"username": self.username, "password": DATA["password"], "csrf_token": token},
            name="login",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")
        form = self.client.get("/admin/admin_cases/new/", name="register form")
        self.csrf = csrf_of(form.text)
        self.township_id = DATA["township_id"]
        self.mine: list[int] = []

    @task(5)
    def list_cases(self):
        page = random.randint(0, 4)
        self.client.get(f"/admin/admin_cases/?page={page}", name="case list")

    @task(4)
    def open_case(self):
        case_id = random.choice(DATA["cases"])
        with self.client.get(
            f"/admin/admin_cases/details/?id={case_id}", name="case details", catch_response=True
        ) as response:
            if response.status_code == 200 and f"/transition/{case_id}/" not in response.text:
                response.failure("not the case's page")

    @task(1)
    def register(self):
        with self.client.post(
            "/admin/admin_cases/new/",
            data={
                "csrf_token": self.csrf,
                "township_id": self.township_id,
                "kind": "service",
                "title": f"压力测试事项 {random.randint(1, 10**9)}",
                "applicant_name": "张三",
                "applicant_village": "0",
                "description": "办理",
            },
            name="register case",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302:
                response.failure(f"registration answered {response.status_code}")
                return
            found = re.search(r"id=(\d+)", response.headers.get("Location", ""))
            if found:
                self.mine.append(int(found.group(1)))

    @task(1)
    def transition(self):
        if not self.mine:
            return
        case_id = self.mine.pop(0)
        for action, data in (
            ("accept", {}),
            ("assign", {"handler_id": str(DATA["user_ids"][self.username])}),
        ):
            with self.client.post(
                f"/admin/admin_cases/transition/{case_id}/{action}/",
                data={"csrf_token": self.csrf, **data},
                name=f"transition {action}",
                catch_response=True,
            ) as response:
                if response.status_code != 200 or "alert-success" not in response.text:
                    response.failure(f"{action} refused or failed ({response.status_code})")
                    return


class Citizen(HttpUser):
    """A citizen on the public pages: the townships, a township, its releases, a receipt."""

    fixed_count = int(os.environ.get("LOAD_CITIZENS", 100))
    wait_time = between(1, 3)

    def on_start(self):
        # each citizen from an address of their own, as behind the county's proxy
        # (TRUSTED_PROXIES=1): the per-address look-up throttle counts each one
        address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        self.client.headers.update({**AGENT, "X-Forwarded-For": address})

    @task(2)
    def home(self):
        self.client.get("/", name="public: townships")

    @task(3)
    def township(self):
        self.client.get(f"/t/{DATA['township_code']}/", name="public: township")

    @task(3)
    def releases(self):
        self.client.get(f"/t/{DATA['township_code']}/releases/", name="public: releases")

    @task(2)
    def lookup(self):
        receipt = random.choice(DATA["receipts"])
        self.client.get(f"/lookup?receipt={receipt}", name="public: receipt lookup")
