"""Finding, loading and checking plugins (institutions).

Plugins come from the ``township.plugins`` entry-point group (built-in ones are
declared in setup.cfg like any third-party plugin) and, for tests, from the
``EXTRA_PLUGINS`` setting. After loading, ``check_pending()`` turns a misspelt
hook into an error, and every plugin's namespace is checked: a plugin whose
tables, endpoints, blueprint, queue or job ids leave ``<key>`` is refused.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import current_app

from core import hookspecs
from core.contract import CaseKind, JobSpec, Permission, PluginInfo, PolicySpec, Role

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "township.plugins"
CORE_KEY = "core"


class PluginError(RuntimeError):
    """A plugin cannot be loaded; the message names the plugin and the rule it broke."""


@dataclass
class LoadedPlugin:
    info: PluginInfo
    obj: Any
    hooks: list[str]
    models: list[type] = field(default_factory=list)


@dataclass
class Township:
    """What the loaded plugins declared; kept in ``app.extensions["township"]``."""

    pm: pluggy.PluginManager
    plugins: dict[str, LoadedPlugin]
    roles: dict[str, Role]
    case_kinds: dict[str, CaseKind]
    policies: dict[str, PolicySpec]
    jobs: dict[str, JobSpec]
    permissions: dict[str, Permission] = field(default_factory=dict)
    actors: dict[str, Any] = field(default_factory=dict)
    #: which plugin declared each actor (actor name -> plugin key)
    actor_owners: dict[str, str] = field(default_factory=dict)

    @property
    def hook(self):
        return self.pm.hook

    def call_for(self, key: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call one plugin's implementation of a collecting hook, through pluggy's hook caller
        (so tracing, ``tryfirst``/``trylast`` and wrappers see the call)."""
        return call_for(self.pm, self.plugins[key].obj, hook_name, **kwargs)

    def known_permissions(self) -> set[str]:
        """Every permission a role grants or a plugin declares."""
        known = set(self.permissions)
        for role in self.roles.values():
            known |= role.permissions
        return known

    def default_permissions(self, role_code: str) -> frozenset[str]:
        """A role's permissions before any township's changes: its own and the declared
        permissions naming it among their default roles."""
        role = self.roles.get(role_code)
        own = role.permissions if role is not None else frozenset()
        return own | frozenset(
            p.code for p in self.permissions.values() if role_code in p.default_roles
        )

    def institutions(self) -> list[PluginInfo]:
        """Plugins a township can enable (every plugin but the core)."""
        return [p.info for key, p in sorted(self.plugins.items()) if key != CORE_KEY]

    def plugin_of(self, obj: Any) -> str:
        for key, plugin in self.plugins.items():
            if plugin.obj is obj:
                return key
        raise KeyError(obj)


def call_for(pm: pluggy.PluginManager, obj: Any, hook_name: str, **kwargs: Any) -> list[Any]:
    """The answers of one plugin object to a hook, called through pluggy's hook caller."""
    others = [p for p in pm.get_plugins() if p is not obj]
    caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
    result = caller(**kwargs)
    if result is None:
        return []
    return result if isinstance(result, list) else [result]


def state(app=None) -> Township:
    """The plugin state of ``app`` (default: the current app)."""
    return (app or current_app).extensions["township"]


def _discover(selected: set[str] | None) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    seen: dict[str, str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in seen and seen[ep.name] != ep.value:
            # pluggy would skip the second silently; say so instead
            raise PluginError(f"two plugins are called {ep.name!r}: {seen[ep.name]} and {ep.value}")
        seen[ep.name] = ep.value
        if selected is not None and ep.name not in selected:
            continue
        found.append((ep.name, ep.load()))
    return found


def _namespaced(key: str, name: str, sep: str) -> bool:
    return name == key or name.startswith(key + sep)


def _check_namespace(plugin: LoadedPlugin) -> None:
    key = plugin.info.key
    if key == CORE_KEY:
        return
    for model in plugin.models:
        table = getattr(model, "__tablename__", None)
        if not table or not table.startswith(key + "_"):
            raise PluginError(
                f"plugin {key!r}: table {table!r} of {model.__name__} must start with '{key}_'"
            )


def load_plugins(app) -> Township:
    """Create the plugin manager, register the core and every plugin, check them."""
    pm = pluggy.PluginManager("township")
    pm.add_hookspecs(hookspecs)
    from core import coreplugin

    pm.register(coreplugin, name=CORE_KEY)

    selected = app.config.get("PLUGINS")
    if isinstance(selected, str):
        selected = {s.strip() for s in selected.split(",") if s.strip()}
    candidates = _discover(set(selected) if selected is not None else None)
    for obj in app.config.get("EXTRA_PLUGINS") or ():
        if isinstance(obj, str):  # an import path, e.g. TOWNSHIP_EXTRA_PLUGINS='["x.y"]'
            obj = importlib.import_module(obj)
        candidates.append((getattr(obj, "__name__", repr(obj)), obj))

    for name, obj in candidates:
        if pm.is_registered(obj):
            continue
        pm.register(obj, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"a plugin implements a hook the core does not offer: {exc}") from exc

    if app.config.get("TRACE_PLUGINS"):
        _trace(pm)

    plugins: dict[str, LoadedPlugin] = {}
    for obj in pm.get_plugins():
        answers = call_for(pm, obj, "township_plugin_info")
        if not answers:
            raise PluginError(f"{pm.get_name(obj)}: a plugin must implement township_plugin_info")
        info: PluginInfo = answers[0]
        if info.key in plugins:
            raise PluginError(f"two plugins have the key {info.key!r}")
        hooks = sorted(caller.name for caller in pm.get_hookcallers(obj) or ())
        models = [m for group in call_for(pm, obj, "township_models") for m in group or ()]
        loaded = LoadedPlugin(info=info, obj=obj, hooks=hooks, models=models)
        _check_namespace(loaded)
        plugins[info.key] = loaded
    for loaded in plugins.values():
        missing = [d for d in loaded.info.dependencies if d not in plugins]
        if missing:
            raise PluginError(f"plugin {loaded.info.key!r} needs {', '.join(missing)}")

    state_ = Township(
        pm=pm,
        plugins=plugins,
        roles=_collect(pm, plugins, "township_roles", lambda r: r.code, "_"),
        case_kinds=_collect(pm, plugins, "township_case_kinds", lambda k: k.code, "."),
        policies=_collect(pm, plugins, "township_policies", lambda p: p.key, "."),
        jobs=_collect(pm, plugins, "township_jobs", lambda j: j.id, "."),
        permissions=_collect(pm, plugins, "township_permissions", lambda p: p.code, "."),
    )
    _check_default_roles(state_)
    app.extensions["township"] = state_
    log.info("plugins loaded: %s", ", ".join(sorted(plugins)))
    return state_


def _collect(pm, plugins, hook_name, key_of, sep) -> dict[str, Any]:
    """Call a collecting hook plugin by plugin, checking each item's namespace."""
    collected: dict[str, Any] = {}
    for key, loaded in plugins.items():
        if hook_name not in loaded.hooks:
            continue
        for item in (i for group in call_for(pm, loaded.obj, hook_name) for i in group or ()):
            name = key_of(item)
            if key != CORE_KEY and not _namespaced(key, name, sep):
                raise PluginError(
                    f"plugin {key!r}: {hook_name} returned {name!r}, "
                    f"which must start with '{key}{sep}'"
                )
            if name in collected:
                raise PluginError(f"plugin {key!r}: {name!r} is declared twice")
            collected[name] = item
    return collected


def _check_default_roles(township: Township) -> None:
    """A permission's default roles must be roles some plugin declared."""
    for permission in township.permissions.values():
        unknown = sorted(r for r in permission.default_roles if r not in township.roles)
        if unknown:
            raise PluginError(
                f"permission {permission.code!r} names unknown roles: {', '.join(unknown)}"
            )


def collect_actors(township: Township) -> list[Any]:
    """Every plugin's actors, each remembered with the plugin that declared it.

    An actor outside its plugin's namespace, or a name declared twice, refuses to start.
    """
    actors: list[Any] = []
    for key, loaded in township.plugins.items():
        if "township_actors" not in loaded.hooks:
            continue
        for lazy in (a for group in township.call_for(key, "township_actors") for a in group or ()):
            name = lazy.actor_name
            if name in township.actor_owners:
                raise PluginError(
                    f"actor {name!r} is declared by {township.actor_owners[name]!r} "
                    f"and again by {key!r}"
                )
            if key != CORE_KEY and not _namespaced(key, name, "."):
                raise PluginError(f"plugin {key!r}: actor {name!r} must start with '{key}.'")
            check_endpoint(key, lazy.queue_name, "queue")
            township.actor_owners[name] = key
            actors.append(lazy)
    return actors


def check_endpoint(plugin_key: str, endpoint: str, what: str) -> None:
    """Refuse an admin endpoint, blueprint, queue or actor outside the plugin's namespace."""
    if plugin_key == CORE_KEY:
        return
    if not _namespaced(plugin_key, endpoint, "_") and not _namespaced(plugin_key, endpoint, "."):
        raise PluginError(
            f"plugin {plugin_key!r}: {what} {endpoint!r} must be named '{plugin_key}' "
            f"or start with '{plugin_key}_'"
        )


def _trace(pm: pluggy.PluginManager) -> None:
    """TRACE_PLUGINS: log every hook call with the plugins that answered it and how long
    it took (pluggy's monitoring sees every call through a hook caller, subsets too)."""
    import threading
    import time

    trace_log = logging.getLogger("township.plugins.trace")
    started = threading.local()

    def before(hook_name, hook_impls, kwargs):
        started.__dict__.setdefault("stack", []).append(time.perf_counter())

    def after(outcome, hook_name, hook_impls, kwargs):
        stack = started.__dict__.get("stack") or [time.perf_counter()]
        elapsed_ms = (time.perf_counter() - stack.pop()) * 1000
        plugins = ", ".join(i.plugin_name for i in hook_impls) or "(none)"
        if outcome.exception is not None:
            trace_log.warning(
                "hook %s -> %s raised %r after %.1f ms",
                hook_name,
                plugins,
                outcome.exception,
                elapsed_ms,
            )
        else:
            trace_log.info("hook %s -> %s (%.1f ms)", hook_name, plugins, elapsed_ms)

    pm.add_hookcall_monitoring(before, after)
