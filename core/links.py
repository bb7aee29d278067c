"""Links to pages, built where there may be no request (tasks, the scheduler, the CLI)."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import current_app, has_request_context, url_for
from werkzeug.routing import BuildError


def link(endpoint: str, **values: Any) -> str | None:
    """The path of ``endpoint`` (e.g. ``admin_cases.details_view``), or None when the page
    is not mounted in this process (a worker-only app without the admin)."""
    with contextlib.suppress(BuildError):
        if has_request_context():
            return url_for(endpoint, **values)
        with current_app.test_request_context():
            return url_for(endpoint, **values)
    return None


def public_url(path: str) -> str:
    """An absolute URL for citizens (QR codes, e-mails): ``PUBLIC_BASE_URL`` + ``path``."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if not base and has_request_context():
        from flask import request

        base = request.host_url.rstrip("/")
    return f"{base}{path}"
