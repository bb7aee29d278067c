"""Caches that a change invalidates, across processes (Flask-Caching).

The store is Redis when ``CACHE_URL`` is set (or the broker is Redis), so every web
process and worker shares it; otherwise an in-process store (the embedded mode runs
one process), whose entries also expire after ``CACHE_LOCAL_SECONDS`` so that
several processes without Redis see a change within that time.

Nothing is ever deleted to invalidate: a cached value is stored under the
**versions** of the *areas* it was built from, and a change bumps the area's
version (an ``INCR`` in Redis), so every process builds the value again on its
next read. Areas are global (``"access"``, ``"policies"`` ...) or per township
(``(township_id, "releases")``, the public pages of that township's releases).

Versions are bumped

* automatically after a commit that wrote rows of a **watched** model
  (:func:`watch`; the core watches memberships, role grants, org units, the
  calendar, policies, time limits and the institution switches), whether through
  the ORM or a bulk/Core statement;
* by :func:`touch` (``core.cache.touch(township_id, "releases")``) where a plugin
  knows that something its public pages show has changed.

Public pages use :func:`public_page`: the rendered page is held until its areas
change (at most ``PUBLIC_CACHE_SECONDS``), served with an ``ETag`` (304 when the
browser has it) and a short ``Cache-Control``; anonymous visitors only, and such a
request never loads a user nor writes a session.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, request
from flask_caching import Cache

log = logging.getLogger(__name__)

cache = Cache()

#: area names of the settings the core caches
ACCESS = "access"  # memberships, role grants, org units: every user's permission map
UNITS = "units"  # org units by code (public URLs)
INSTITUTIONS = "institutions"  # which township enabled which plugin
POLICIES = "policies"  # policy values and time limits
CALENDAR = "calendar"  # a township's own working days
CASES = "cases"  # per township: public pages showing a case's status
ANY_CASE = "any-case"  # a case or another receipt of any township changed (the lookup)
NOTES = "notes"  # per user (the user's id in the township's place): their notifications

#: table name -> [(area, township attribute or None for a global area)]
_watched: dict[str, list[tuple[str, str | None]]] = {}
#: set while the ORM flushes (its statements are seen per row, with their township)
_flushing: contextvars.ContextVar[bool] = contextvars.ContextVar("township_flushing", default=False)

_PENDING = "township_cache_pending"


# ---------------------------------------------------------------------------
# Setting up
# ---------------------------------------------------------------------------


def store_url(app) -> str | None:
    """The Redis URL of the shared store: ``CACHE_URL``, else a Redis broker's URL."""
    url = app.config.get("CACHE_URL") or app.config.get("BROKER_URL")
    if url and urlsplit(url).scheme.lower() in ("redis", "rediss", "unix"):
        return url
    if app.config.get("CACHE_URL"):
        log.warning("CACHE_URL must be a redis:// URL; using the in-process cache")
    return None


def init_app(app) -> None:
    """Bind the cache to ``app`` and watch the core's settings tables."""
    url = store_url(app)
    if url:
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": url,
            # one database, one key space (several deployments may share a Redis)
            "CACHE_KEY_PREFIX": "township:"
            + hashlib.sha1(str(app.config.get("SQLALCHEMY_DATABASE_URI")).encode()).hexdigest()[:8]
            + ":",
            "CACHE_DEFAULT_TIMEOUT": int(app.config["CACHE_SECONDS"]),
        }
    else:
        config = {
            "CACHE_TYPE": "SimpleCache",
            "CACHE_THRESHOLD": 20_000,
            "CACHE_DEFAULT_TIMEOUT": int(app.config["CACHE_LOCAL_SECONDS"]),
        }
    cache.init_app(app, config=config)
    app.extensions["township_cache_shared"] = bool(url)
    _install_events()
    _watch_core()


def shared() -> bool:
    """Whether the store is shared between processes (Redis)."""
    return bool(current_app.extensions.get("township_cache_shared"))


def _backend():
    return cache.cache


def _watch_core() -> None:
    from core.models import (
        CalendarDay,
        Case,
        InstitutionSetting,
        Membership,
        OrgUnit,
        PolicyValue,
        RoleGrant,
        TimeLimitPolicy,
        User,
    )

    watch(Membership, ACCESS)
    watch(RoleGrant, ACCESS)
    watch(User, ACCESS)
    watch(OrgUnit, ACCESS, UNITS)
    watch(InstitutionSetting, INSTITUTIONS)
    watch(PolicyValue, POLICIES)
    watch(TimeLimitPolicy, POLICIES)
    watch(CalendarDay, CALENDAR)
    # public pages that show a case's status (a disclosure linked to a case)
    watch(Case, CASES, township_attr="township_id")
    watch(Case, ANY_CASE)  # the receipt lookup (its township is known only after it)
    from core.models import Notification

    watch(Notification, NOTES, township_attr="user_id")  # the navbar's unread count


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


def _version_key(township_id: int | None, area: str) -> str:
    return f"v:{'*' if township_id is None else township_id}:{area}"


def versions(pairs: Iterable[tuple[int | None, str]]) -> tuple[int, ...]:
    """The current versions of ``(township_id or None, area)`` pairs, in one round trip
    (remembered for the rest of the request)."""
    pairs = list(pairs)
    first = has_app_context() and "_township_cache_versions" not in g
    seen: dict[str, int] = g.setdefault("_township_cache_versions", {}) if has_app_context() else {}
    missing = [_version_key(t, a) for t, a in pairs if _version_key(t, a) not in seen]
    if first:  # the settings every request reads, in the same round trip
        missing += [k for k in _GLOBAL_KEYS if k not in missing]
    if missing:
        backend = _backend()
        values = backend.get_many(*missing)
        for key, value in zip(missing, values, strict=True):
            if value is None:
                # unknown (new, or evicted): start at a random number, never at an old one
                backend.add(key, random.randrange(1, 2**31), timeout=0)
                value = backend.get(key)
            seen[key] = int(value or 0)
    return tuple(seen[_version_key(t, a)] for t, a in pairs)


#: global areas whose versions a request reads at its first cache access (one MGET)
_GLOBAL_KEYS = tuple(f"v:*:{area}" for area in (ACCESS, UNITS, INSTITUTIONS, POLICIES, CALENDAR))

#: functions ``user_id -> [(township_id or None, area)]``: the areas a signed-in user's
#: pages read (the navbar's badges); their versions come in the first round trip
_user_area_makers: list[Callable[[int], Iterable[tuple[int | None, str]]]] = [
    lambda user_id: [(None, NOTES), (user_id, NOTES)]
]


def user_areas(maker: Callable[[int], Iterable[tuple[int | None, str]]]) -> None:
    """Register the areas every page of a signed-in user reads (read with the others)."""
    if maker not in _user_area_makers:
        _user_area_makers.append(maker)


def cached_user(model, user_id: int):
    """The signed-in user's row without a query: its columns cached until a user,
    membership or grant changes (``ACCESS``), the password hash left out (loaded if a
    page reads it). ``None`` if there is no such user. The versions of the areas the
    user's pages read (:func:`user_areas`) come in the same round trip."""
    if not has_app_context() or "cache" not in current_app.extensions:
        from core.db import db

        return db.session.get(model, user_id)
    pairs: list[tuple[int | None, str]] = [(None, ACCESS)]
    for maker in _user_area_makers:
        pairs.extend(maker(user_id))
    versions(pairs)

    def load() -> dict[str, Any]:
        from sqlalchemy import inspect as sa_inspect
        from sqlalchemy import select

        from core.db import db

        columns = [
            prop.columns[0].label(prop.key)
            for prop in sa_inspect(model).column_attrs
            if prop.key != "password_hash" and len(prop.columns) == 1
        ]
        row = db.session.execute(select(*columns).where(model.id == user_id)).mappings().first()
        return dict(row) if row is not None else {}

    values = memo(f"user:{user_id}", load, areas=[(None, ACCESS)])
    return attached(model, values) if values else None


#: values read from Redis are kept in the process too, under the same versioned key (a
#: changed version is a new key), so a request reads Redis once for the versions only
_LOCAL_ITEMS = 2048
_local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_local_lock = threading.Lock()


def _local_get(key: str) -> Any:
    with _local_lock:
        entry = _local.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del _local[key]
            return None
        _local.move_to_end(key)
        return entry[1]


def _local_put(key: str, value: Any, timeout: int) -> None:
    with _local_lock:
        _local[key] = (time.monotonic() + timeout, value)
        _local.move_to_end(key)
        while len(_local) > _LOCAL_ITEMS:
            _local.popitem(last=False)


def _get(key: str, timeout: int | None = None) -> Any:
    """A cached value: from this process if it holds it, else from the store."""
    return _get_many([key], timeout).get(key)


def _get_many(keys: list[str], timeout: int | None = None) -> dict[str, Any]:
    """The cached values of ``keys`` that exist (``{key: value}``): from this process where
    it holds them, the others from the store in one round trip."""
    found: dict[str, Any] = {}
    if shared():
        prefix = _backend().key_prefix
        for key in keys:
            value = _local_get(prefix + key)
            if value is not None:
                found[key] = value
    wanted = [key for key in keys if key not in found]
    if wanted:
        values = _backend().get_many(*wanted)
        stored = {k: v for k, v in zip(wanted, values, strict=True) if v is not None}
        _keep_here(stored, timeout)
        found.update(stored)
    return found


def _set(key: str, value: Any, timeout: int | None = None) -> None:
    _set_many({key: value}, timeout)


def _set_many(values: dict[str, Any], timeout: int | None = None) -> None:
    if values:
        _backend().set_many(values, timeout=timeout)
        _keep_here(values, timeout)


def _keep_here(values: dict[str, Any], timeout: int | None) -> None:
    """Keep values read from (or written to) the shared store in this process too."""
    if shared():
        prefix = _backend().key_prefix
        for key, value in values.items():
            _local_put(prefix + key, value, _local_timeout(timeout))


def _local_timeout(timeout: int | None) -> int:
    return int(timeout or current_app.config["CACHE_SECONDS"])


def bump(pairs: Iterable[tuple[int | None, str]]) -> None:
    """Make every value built from these areas stale, in every process, now."""
    backend = _backend()
    for township_id, area in set(pairs):
        key = _version_key(township_id, area)
        if backend.inc(key) is None:  # pragma: no cover - inc creates missing keys
            backend.set(key, random.randrange(1, 2**31), timeout=0)
    _forget_request_memo()


def touch(township_id: int | None, area: str) -> None:
    """Something ``area`` of a township shows has changed (``None``: of every township).

    Takes effect at once and, called inside a transaction, again when it commits
    (so no process keeps a page built from the data before the commit).
    """
    from core.db import db

    bump([(township_id, area)])
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_PENDING, set()).add((township_id, area))


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def memo(
    name: str,
    loader: Callable[[], Any],
    *,
    areas: Iterable[tuple[int | None, str]],
    timeout: int | None = None,
) -> Any:
    """The value cached as ``name`` for the current versions of ``areas``, built with
    ``loader()`` when missing or stale. Remembered for the rest of the request too."""
    if not has_app_context() or "cache" not in current_app.extensions:
        return loader()
    areas = list(areas)
    key = f"{name}@" + ".".join(str(v) for v in versions(areas))
    local: dict[str, Any] = g.setdefault("_township_cache_memo", {}) if has_app_context() else {}
    if key in local:
        return local[key]
    value = _get(key, timeout)
    if value is None:
        value = loader()
        _set(key, value, timeout)
    local[key] = value
    return value


def memo_each(
    name: str,
    ids: Iterable[int],
    load_many: Callable[[list[int]], dict[int, Any]],
    *,
    areas: Iterable[tuple[int | None, str]],
    timeout: int | None = None,
) -> dict[int, Any]:
    """:func:`memo` for several townships at once: ``{id: value}``, each cached as
    ``f"{name}:{id}"`` (the same entry ``memo(f"{name}:{id}", ...)`` reads), those
    missing or stale built together by one ``load_many(missing ids)``, which returns a
    value for every id it is given. A county's page then reads ten townships' settings
    in one query on a cold cache, not one query per township."""
    ids = list(dict.fromkeys(ids))
    if not has_app_context() or "cache" not in current_app.extensions:
        return load_many(ids)
    suffix = "@" + ".".join(str(v) for v in versions(list(areas)))
    keys = {tid: f"{name}:{tid}{suffix}" for tid in ids}
    local: dict[str, Any] = g.setdefault("_township_cache_memo", {})
    found = {tid: local[key] for tid, key in keys.items() if key in local}
    stored = _get_many([keys[tid] for tid in ids if tid not in found], timeout)
    found.update({tid: stored[keys[tid]] for tid in ids if keys[tid] in stored})
    wanted = [tid for tid in ids if tid not in found]
    if wanted:
        built = load_many(wanted)
        _set_many({keys[tid]: built[tid] for tid in wanted}, timeout)
        found.update({tid: built[tid] for tid in wanted})
    for tid in ids:
        local[keys[tid]] = found[tid]
    return {tid: found[tid] for tid in ids}


def clear() -> None:
    """Forget everything (tests, and an operator after editing the database by hand)."""
    if has_app_context() and "cache" in current_app.extensions:
        cache.clear()
    with _local_lock:
        _local.clear()
    _forget_request_memo()


# ---------------------------------------------------------------------------
# Watching tables
# ---------------------------------------------------------------------------


def watch(model, *areas: str, township_attr: str | None = None) -> None:
    """Bump ``areas`` after a commit that wrote rows of ``model``.

    With ``township_attr`` (e.g. ``"township_id"``) the areas are bumped per
    township of the rows written (a bulk statement bumps them for every township);
    without, globally. Idempotent.
    """
    table = model.__table__.name
    entries = _watched.setdefault(table, [])
    for area in areas:
        if (area, township_attr) not in entries:
            entries.append((area, township_attr))


_events_installed = False


def _install_events() -> None:
    global _events_installed
    if _events_installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import Pool

    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    event.listen(Engine, "after_execute", _after_execute)
    event.listen(Pool, "checkin", _on_checkin)
    _events_installed = True


def _touched_by(obj) -> list[tuple[int | None, str]]:
    entries = _watched.get(getattr(getattr(obj, "__table__", None), "name", ""), ())
    out = []
    for area, attr in entries:
        out.append((getattr(obj, attr, None) if attr else None, area))
    return out


def _before_flush(session, flush_context, instances) -> None:
    _flushing.set(True)


def _after_flush(session, flush_context) -> None:
    if not _watched:
        return
    pending = session.info.setdefault(_PENDING, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        pending.update(_touched_by(obj))


def _after_flush_postexec(session, flush_context) -> None:
    _flushing.set(False)


def _after_soft_rollback(session, previous_transaction) -> None:
    _flushing.set(False)  # a flush that failed never reaches after_flush_postexec


def _after_commit(session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending and has_app_context() and "cache" in current_app.extensions:
        try:
            bump(pending)
        except Exception:  # the store is down: the entries' time-out still bounds staleness
            log.exception("could not invalidate cached settings %s", sorted(map(str, pending)))


def _forget_request_memo() -> None:
    if has_app_context():
        g.pop("_township_cache_versions", None)
        g.pop("_township_cache_memo", None)


def _after_rollback(session) -> None:
    session.info.pop(_PENDING, None)


def _after_execute(conn, clauseelement, multiparams, params, execution_options, result) -> None:
    """A bulk or Core INSERT/UPDATE/DELETE on a watched table (not the ORM's per-row flush):
    bump its areas globally when the connection goes back to the pool (after its commit)."""
    if _flushing.get() or not _watched:
        return
    if not getattr(clauseelement, "is_dml", False):
        return
    table = getattr(getattr(clauseelement, "table", None), "name", None)
    entries = _watched.get(table or "")
    if not entries or not has_app_context() or "cache" not in current_app.extensions:
        return
    record = conn.connection._connection_record
    if record is None:
        return
    pending = record.info.setdefault(_PENDING, [])
    pending.append((current_app._get_current_object(), [(None, area) for area, _ in entries]))


def _on_checkin(dbapi_connection, connection_record) -> None:
    pending = connection_record.info.pop(_PENDING, None) if connection_record else None
    for app, pairs in pending or ():
        try:
            if has_app_context() and current_app._get_current_object() is app:
                bump(pairs)
            else:
                with app.app_context():
                    bump(pairs)
        except Exception:
            log.exception("could not invalidate cached settings after a bulk change")


# ---------------------------------------------------------------------------
# Public pages
# ---------------------------------------------------------------------------


def anonymous_request() -> bool:
    """No one is signed in (checked on the session cookie alone: no user is loaded)."""
    from flask import session

    if "_user_id" in session:
        return False
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return remember not in request.cookies


def public_page(
    *areas: str | Callable[..., Iterable[tuple[int | None, str]]],
    max_age: int = 60,
    server_cache: bool | Callable[[], bool] = True,
    timeout: int | None = None,
) -> Callable:
    """Cache a public page for anonymous visitors until one of its ``areas`` changes.

    ``areas`` are names of areas of the request's township (``g.township``, set for
    plugin pages) or callables taking the view's arguments and returning
    ``(township_id, area)`` pairs. The response carries an ``ETag`` (a conditional
    request gets 304) and ``Cache-Control: public, max-age=<max_age>``.
    ``server_cache=False`` (or a callable saying so for the request) keeps only the
    validators: the page is rendered each time and the browser revalidates it.
    ``timeout`` bounds how long a page is held when not every change it shows is
    watched (default ``PUBLIC_CACHE_SECONDS``).
    Signed-in staff get the page rendered for them (``Cache-Control: private,
    no-cache``).

    Example (a plugin's public list, invalidated by ``touch(township_id, "petitions")``
    or by ``watch(Petition, "petitions", township_attr="township_id")``)::

        @bp.get("/")
        @public_page("petitions")
        def index(): ...
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            from flask import make_response

            if request.method not in ("GET", "HEAD") or not anonymous_request():
                response = make_response(view(*args, **kwargs))
                response.headers.setdefault("Cache-Control", "private, no-cache")
                return response
            g.township_public_page = True  # the page's frame offers links, not forms
            if not (server_cache() if callable(server_cache) else server_cache):
                response = make_response(view(*args, **kwargs))
                if response.status_code == 200 and not response.direct_passthrough:
                    response.set_etag(_etag(response.get_data()))
                    response.headers["Cache-Control"] = "public, no-cache"
                    return response.make_conditional(request)
                return response
            from core.app import current_locale

            pairs = _page_areas(areas, kwargs)
            page = hashlib.sha1(f"{request.full_path}|{current_locale()}".encode()).hexdigest()
            key = f"page:{page}@" + ".".join(str(v) for v in versions(pairs))
            held = int(current_app.config["PUBLIC_CACHE_SECONDS"])
            if timeout is not None:
                held = min(held, timeout)
            if not shared():
                held = min(held, int(current_app.config["CACHE_LOCAL_SECONDS"]))
            stored = _get(key, held)
            if stored is None:
                response = make_response(view(*args, **kwargs))
                if response.status_code != 200 or response.direct_passthrough:
                    return response
                body = response.get_data()
                stored = (body, response.mimetype, _etag(body))
                _set(key, stored, held)
            body, mimetype, etag = stored
            response = current_app.response_class(body, mimetype=mimetype)
            response.set_etag(etag)
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
            return response.make_conditional(request)

        wrapper.township_public_page = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _etag(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()[:20]


def _page_areas(areas, kwargs) -> list[tuple[int | None, str]]:
    township = getattr(g, "township", None)
    tid = getattr(township, "id", None)
    pairs: list[tuple[int | None, str]] = [(None, UNITS), (None, INSTITUTIONS)]
    for area in areas:
        if callable(area):
            pairs.extend(area(**kwargs))
        else:
            pairs.append((None, area))
            if tid is not None:
                pairs.append((tid, area))
    return pairs


def attached(model, values: dict[str, Any]):
    """A persistent instance of ``model`` made from cached column ``values`` without a
    query (the session's own instance if it holds that row already)."""
    from sqlalchemy.orm import make_transient_to_detached

    from core.db import db

    session = db.session()
    key = session.identity_key(model, values["id"])
    existing = session.identity_map.get(key)
    if existing is not None:
        # expired by a commit: its columns come back from the cached values, not a query
        from sqlalchemy import inspect as sa_inspect
        from sqlalchemy.orm.attributes import set_committed_value

        unloaded = sa_inspect(existing).unloaded
        for name, value in values.items():
            if name in unloaded:
                set_committed_value(existing, name, value)
        return existing
    obj = model(**values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def row_values(obj) -> dict[str, Any]:
    """The column values of a loaded row (what :func:`attached` takes back)."""
    from sqlalchemy import inspect as sa_inspect

    return {prop.key: getattr(obj, prop.key) for prop in sa_inspect(obj).mapper.column_attrs}
