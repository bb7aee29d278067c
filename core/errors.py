"""The product's own error pages, in the user's language, for staff and for the public.

Werkzeug's default pages are English and bare. :func:`page` renders an HTTP error
(400, 403, 404, 405, 410, 429, 500 ...) in the staff frame for ``/admin`` pages and
in the public frame elsewhere; a description the code gave (``abort(404, _("You are
not on a training roster."))``) is shown, Werkzeug's English default is not. Headers
the error carries (``Allow``, ``Retry-After``) are kept.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

#: what a person reads for each status: a title and what to do next
MESSAGES = {
    400: (_l("The request could not be understood"), _l("Check what you entered and try again.")),
    401: (_l("Please sign in"), _l("Sign in to see this page.")),
    403: (_l("Not allowed"), _l("You may not do this here. Ask your administrator if you should.")),
    404: (_l("Page not found"), _l("Nothing is here. Check the address.")),
    405: (_l("Not allowed this way"), _l("This address does not answer that method.")),
    410: (_l("Gone"), _l("This page was removed and will not come back.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many requests"), _l("Too many requests. Wait a moment and try again.")),
    500: (
        _l("Something went wrong"),
        _l("The error was logged. Nothing you saved before was lost. Please try again."),
    ),
    503: (
        _l("Briefly unavailable"),
        _l("The service is briefly unavailable. Please try again shortly."),
    ),
}


#: errors whose description comes from a library in English: the page says it in words
_LIBRARY_DESCRIPTIONS = {
    "CSRFError": _l("The form expired or was sent twice. Reload the page and try again.")
}


def _own_description(exc: HTTPException) -> str | None:
    """The description the code passed to ``abort`` (never Werkzeug's English default)."""
    if type(exc).__name__ in _LIBRARY_DESCRIPTIONS:
        return str(_LIBRARY_DESCRIPTIONS[type(exc).__name__])
    if exc.code == 429:
        return None  # Flask-Limiter says "10 per 1 minute"
    description = exc.description
    if not description or description == type(exc).description:
        return None
    return str(description)


def is_staff_page() -> bool:
    return request.path.startswith("/admin")


def page(exc: HTTPException):
    """The error page for ``exc`` (redirects and other non-errors pass through)."""
    code = exc.code or 500
    if code < 400:
        return exc
    title, hint = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    template = "core/error_staff.html" if is_staff_page() else "core/error.html"
    body = render_template(
        template, code=code, title=title, hint=hint, detail=_own_description(exc)
    )
    response = exc.get_response()
    response.set_data(body)
    response.mimetype = "text/html"
    return response


def server_error_page():
    """The page of an unexpected error (500), in the frame of the page that failed."""
    title, hint = MESSAGES[500]
    template = "core/error_staff.html" if is_staff_page() else "core/error.html"
    return render_template(template, code=500, title=title, hint=hint, detail=None), 500
