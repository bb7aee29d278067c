"""The app factory: an ordered list of steps, nothing done at import time."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

from flask import Flask, abort, g, request
from flask.globals import _cv_app
from flask_babel import get_locale
from flask_babel import refresh as babel_refresh
from werkzeug.routing import Rule

from core import clock
from core.config import load_config
from core.db import db
from core.extensions import babel, csrf, limiter
from core.logs import configure_logging

log = logging.getLogger(__name__)


class _Rule(Rule):
    """werkzeug's URL rule, whose two URL builders are compiled when first used.

    werkzeug writes and compiles Python code for both builders of every rule as the rule
    is added: the staff site has 750 rules (flask-admin gives every view seven), a
    process builds addresses of a few dozen, and compiling the rest was a fifth of
    ``create_app()``. Matching a request does not use the builders.
    """

    def _compile_builder(self, append_unknown: bool = True):
        compiled: list = []

        def build(rule, *args: Any, **kwargs: Any):
            if not compiled:
                compiled.append(Rule._compile_builder(rule, append_unknown))
            return compiled[0](rule, *args, **kwargs)

        return build


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides every other source (tests use it)."""
    import os

    app = Flask(
        "core",
        instance_relative_config=True,
        instance_path=os.environ.get("TOWNSHIP_INSTANCE_PATH") or None,
    )
    app.url_rule_class = _Rule
    load_config(app, config)
    configure_logging(app)
    _init_security(app)

    db.init_app(app)
    from core import cache

    cache.init_app(app)
    _init_i18n(app)
    csrf.init_app(app)
    limiter.init_app(app)
    from core.auth import init_login

    init_login(app)

    from core.plugins import load_plugins

    township = load_plugins(app)
    _add_plugin_catalogs(app, township)

    from core.plugins import collect_actors
    from core.tasks import init_broker, install_session_hooks

    install_session_hooks()
    init_broker(app, collect_actors(township))

    _register_blueprints(app, township)
    from admin import init_admin

    init_admin(app)
    _register_template_helpers(app)
    _register_error_handlers(app)
    from core.heartbeat import init_app as init_heartbeat

    init_heartbeat(app)

    @app.teardown_request
    def _forget_request_caches(exc):
        """Permission and institution caches live for one request only."""
        for key in [k for k in vars(g) if k.startswith("_township_")]:
            delattr(g, key)
        # Flask-Babel keeps the locale on the app context, which a test client shares
        # between requests; a new request must choose its language again
        babel_refresh()

    if app.config["BENCH"]:
        # the ceiling `make bench` compares public pages with: the same app, no work
        app.add_url_rule("/bench/hello", "bench_hello", lambda: "Hello, World!")

    from core.cli import register_commands

    register_commands(app)
    township.hook.township_app_created(app=app)
    return app


def _init_security(app: Flask) -> None:
    """Security headers (flask-talisman) and the client's address behind proxies.

    Every response says ``X-Frame-Options: SAMEORIGIN`` (and CSP ``frame-ancestors
    'self'``), ``X-Content-Type-Options: nosniff`` and a ``Referrer-Policy``; with
    ``HTTPS=true`` also HSTS, and cookies are sent over HTTPS only. The CSP does not
    restrict scripts (flask-admin's pages carry inline ones). ``TRUSTED_PROXIES=N``
    believes the last N ``X-Forwarded-For``/``-Proto`` hops, so rate limits count
    each citizen behind nginx, not the proxy.
    """
    from flask_talisman import Talisman
    from werkzeug.middleware.proxy_fix import ProxyFix

    https = bool(app.config.get("HTTPS"))
    if https:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    Talisman(
        app,
        force_https=False,  # the proxy in front redirects; HSTS keeps browsers on HTTPS
        strict_transport_security=https,
        session_cookie_secure=https,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE") or "Lax",
        frame_options="SAMEORIGIN",
        content_security_policy={
            "frame-ancestors": "'self'",
            "base-uri": "'self'",
            "object-src": "'none'",
        },
        referrer_policy="strict-origin-when-cross-origin",
    )
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _babel_context():
    """flask_babel's per-request namespace (locale, translations), found in one step.

    flask_babel finds it through ``g`` three times per ``gettext`` (domain, locale,
    translations: nine context-local look-ups, 10 µs here), and a staff list asks for
    about two hundred words. The namespace is the same one, kept on the same ``g``.
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    found = app_ctx.g.__dict__.get("_flask_babel")
    if found is None:
        found = app_ctx.g._flask_babel = SimpleNamespace()
    return found


_wtforms_catalogs: dict[str, Any] = {}


def _wtforms_translations():
    """WTForms' own messages ("This field is required.") in the request's language.

    flask_wtf reads WTForms' catalog from disk on every request that shows a form (each
    staff list has two: delete and actions); a process keeps one per language instead.
    """
    from babel import support
    from flask import has_request_context
    from wtforms.i18n import messages_path

    if not has_request_context():
        return None
    locale = str(get_locale())
    found = _wtforms_catalogs.get(locale)
    if found is None:
        found = _wtforms_catalogs[locale] = support.Translations.load(
            messages_path(), [locale], domain="wtforms"
        )
    return found


def _init_i18n(app: Flask) -> None:
    import flask_babel
    import flask_wtf.i18n

    from core.auth import select_locale

    flask_babel._get_current_context = _babel_context
    flask_wtf.i18n._get_translations = _wtforms_translations
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )


def plugin_catalogs(township) -> list[str]:
    """The folders of the plugins' own catalogs (``plugins/<key>/translations``)."""
    import inspect
    from pathlib import Path

    folders = []
    for loaded in township.plugins.values():
        try:
            folder = Path(inspect.getfile(loaded.obj)).parent / "translations"
        except TypeError:  # a plugin object without a file (tests build some in memory)
            continue
        if folder.is_dir():
            folders.append(str(folder))
    return folders


def _add_plugin_catalogs(app: Flask, township) -> None:
    """Each plugin's own catalog joins the core's, so a plugin from outside this
    repository ships its own Chinese.

    Flask-Babel merges the catalogs in order and a later one wins; the core's comes
    last, so a plugin can never change how a core word reads elsewhere (the core's
    "Closed" stays 已归档 on every page). A plugin that needs another word uses
    another msgid; tests/core/test_i18n.py refuses two catalogs translating one msgid
    differently."""
    directories = app.extensions["babel"].translation_directories
    core_dirs = list(directories)
    plugin_dirs = [d for d in plugin_catalogs(township) if d not in core_dirs]
    directories[:] = plugin_dirs + core_dirs


def _register_blueprints(app: Flask, township) -> None:
    from core import api, auth, health, public
    from core.plugins import PluginError, check_endpoint

    app.register_blueprint(auth.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(health.bp)
    api.init_api(app, township)  # /api/v1 and every plugin's township_api_resources

    plugin_blueprints: dict[str, str] = {}
    for key in township.plugins:
        for bp in (
            b for group in township.call_for(key, "township_blueprints") for b in group or ()
        ):
            check_endpoint(key, bp.name, "blueprint")
            if bp.name != key:
                raise PluginError(f"plugin {key!r}: its blueprint must be named {key!r}")
            app.register_blueprint(bp, url_prefix=f"/t/<township>/{key}")
            plugin_blueprints[bp.name] = key
    app.extensions["township_blueprints"] = plugin_blueprints

    @app.url_value_preprocessor
    def _township_from_url(endpoint, values):
        """``/t/<township>/<key>/...``: find the township; 404 if the plugin is off there."""
        if not endpoint or "." not in endpoint:
            return
        key = plugin_blueprints.get(endpoint.split(".", 1)[0])
        if key is None or values is None or "township" not in values:
            return
        from core.institutions import is_enabled
        from core.public import township_by_code

        unit = township_by_code(values.pop("township"))
        if unit is None or not is_enabled(unit.id, key):
            abort(404)
        g.township = unit

    @app.url_defaults
    def _township_into_url(endpoint, values):
        if (
            endpoint
            and endpoint.split(".", 1)[0] in plugin_blueprints
            and "township" not in values
            and getattr(g, "township", None) is not None
        ):
            values["township"] = g.township.code


def current_locale() -> str:
    """``zh_CN`` or ``en`` (Babel spells the Chinese locale ``zh_Hans_CN``)."""
    locale = get_locale()  # None outside a request
    if locale is None:
        from flask import current_app

        return current_app.config["DEFAULT_LOCALE"] if current_app else "zh_CN"
    return "en" if locale.language == "en" else "zh_CN"


def _register_template_helpers(app: Flask) -> None:
    from flask_login import current_user

    from core.auth import LANGUAGES
    from core.cases import STATUS_LABELS

    def label(obj: Any) -> str:
        """The zh_CN or English label of a plugin, role, case kind or policy."""
        english = current_locale() == "en"
        for zh, en in (("name", "name_en"), ("label", "label_en")):
            if hasattr(obj, en):
                return getattr(obj, en) if english and getattr(obj, en) else getattr(obj, zh)
        return str(obj)

    @app.context_processor
    def _globals():
        return {
            "label": label,
            "LANGUAGES": LANGUAGES,
            "current_locale": current_locale(),
            "STATUS_LABELS": STATUS_LABELS,
            "current_user": current_user,
        }

    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["today_of"] = clock.today
    app.jinja_env.filters["township_time"] = clock.format_datetime


def _database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is the database being unreachable or its connection cut."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _register_error_handlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from core.api import http_error, json_error

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return http_error(exc)  # JSON, with Allow / Retry-After / WWW-Authenticate
        from core.errors import page

        return page(exc)  # the product's own page, in the user's language

    @app.teardown_appcontext
    def _forget_a_cut_connection(exc):
        # runs before Flask-SQLAlchemy's own teardown (registered earlier): a connection
        # cut after the response was made must not turn that response into a 500
        try:
            db.session.remove()
        except Exception:
            log.warning("the database connection was lost at the end of a request")
            try:
                db.session.remove()
            except Exception:
                db.session.registry.clear()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        if _database_unavailable(exc):
            # a cut connection or a database restart: the pool reconnects on the next
            # request (pool_pre_ping); tell the client to try again rather than fail
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
            try:
                db.session.rollback()
            except Exception:  # the connection is gone; the pool replaces it
                db.session.remove()
            if request.path.startswith("/api/"):
                response = json_error(503, "the database is unavailable; try again shortly")
            else:
                from flask_babel import gettext as _

                response = app.make_response(
                    (_("The service is briefly unavailable. Please try again shortly."), 503)
                )
            response.headers["Retry-After"] = "5"
            return response
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if request.path.startswith("/api/"):
            return json_error(500, "internal error; it was logged")
        if app.testing:
            raise exc
        from core.errors import server_error_page

        return server_error_page()
