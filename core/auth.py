"""Signing in and out: Flask-Login sessions, argon2 hashes, CSRF, throttled log-ins."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core.db import db, utcnow
from core.extensions import limiter, login_manager
from core.models import User

bp = Blueprint("auth", __name__)
_hasher = PasswordHasher()

LANGUAGES = {"zh_CN": "简体中文", "en": "English"}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def validate_new_password(password: str) -> None:
    if len(password or "") < 8:
        raise ValueError(_("A password needs at least 8 characters."))


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    from core import cache

    # no query: the row's columns come from core.cache until a user, membership or grant
    # changes; the memberships load only if a page asks for them (permissions come from
    # the cached permission map, core.access)
    try:
        user = cache.cached_user(User, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _login_key() -> str:
    """Throttle per address and user name, so one address cannot try many accounts fast."""
    return f"{request.remote_addr}:{(request.form.get('username') or '').strip().lower()}"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is not None and user.active and check_password(user, form.password.data):
            session.clear()
            login_user(user)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong user name or password."), "danger")
        return render_template(
            "core/login.html", form=form
        ), 200 if request.method == "GET" else 401
    return render_template("core/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("public.index"))


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """Choose the interface language: POST (staff, CSRF-protected, saved on the user) or
    a plain link on the public pages (``?next=``), so an anonymous page needs no form
    token and can be cached."""
    if code in LANGUAGES:
        session["lang"] = code
        if request.method == "POST" and current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    target = request.args.get("next") or (request.referrer and _path_of(request.referrer))
    return redirect(_safe_next(target))


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def select_locale() -> str:
    """Session choice, then the user's saved choice, then the configured default."""
    if not has_request_context():
        return current_app.config["DEFAULT_LOCALE"]
    if "lang" in session and session["lang"] in LANGUAGES:
        return session["lang"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    return current_app.config["DEFAULT_LOCALE"]


def init_login(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"
