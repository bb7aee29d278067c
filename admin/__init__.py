"""The flask-admin site: signed-in staff only, every view scoped to the user's townships.

:func:`init_admin` builds the site: the dashboard as home page, the core's views
(cases, people, users, switchboard, policies, calendar, audit trail, jobs) and
one menu category per plugin with the views its ``township_admin_views`` returns.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.plugins import CORE_KEY, PluginError, check_endpoint, state

#: carries admin/templates (the frame, dashboard and core pages) into the app's loader
templates = Blueprint("township_admin", __name__, template_folder="templates")


@templates.app_context_processor
def _admin_globals():
    from core.notifications import unread_badge

    def admin_unread_count() -> int:
        return unread_badge(current_user) if current_user.is_authenticated else 0

    def admin_inbox_count() -> int:
        from core import inbox

        return inbox.badge(current_user) if current_user.is_authenticated else 0

    from admin.formatting import in_zone, outcome_label, weekday_short
    from admin.views import cached_menu
    from core import clock
    from scheduler.triggers import describe

    return {
        "admin_unread_count": admin_unread_count,
        "admin_inbox_count": admin_inbox_count,
        "admin_cached_menu": cached_menu,
        # schedules in words and times in the job's zone (jobs page, release plan)
        "describe_schedule": describe,
        "in_zone": in_zone,
        "outcome_label": outcome_label,
        "job_specs": state().jobs,
        "zone_choices": clock.zone_choices,
        "weekday_short": weekday_short,
    }


@templates.after_app_request
def _recount_the_badge_after_a_change(response):
    """A request that may have finished an inbox item makes the user's badge count again."""
    from flask import request

    if request.method not in ("GET", "HEAD", "OPTIONS"):
        from flask import session

        user_id = session.get("_user_id")
        if user_id:
            from core import cache
            from core.inbox import INBOX_AREA

            cache.touch(None, f"{INBOX_AREA}:{user_id}")
    return response


@templates.before_app_request
def _fresh_request_caches() -> None:
    """Start every admin request with empty per-request caches.

    Production requests get a fresh ``g`` anyway; a test client inside an app
    context shares one ``g`` between requests, which would keep stale answers.
    """
    from flask import request

    from admin.views import forget_enabling
    from core.access import clear_cache

    if request.path.startswith("/admin"):
        forget_enabling()
        forget_request_caches()
        clear_cache()


def forget_request_caches() -> None:
    """Empty the admin's per-request caches: every one (core and plugins) is kept in
    ``g`` under a name starting ``_admin_``."""
    from flask import g

    for key in [key for key in vars(g) if key.startswith("_admin_")]:
        g.pop(key, None)


def init_admin(app: Flask) -> Admin:
    """Build the admin site at ``/admin`` on ``app``."""
    from admin.dashboard import DashboardView

    app.register_blueprint(templates)
    admin = Admin(
        app,
        name="乡镇服务平台",
        theme=Bootstrap4Theme(swatch="default", base_template="admin/township_base.html"),
        url="/admin",
        endpoint="admin",
        index_view=DashboardView(name=_l("Dashboard"), url="/admin", endpoint="admin"),
        # flask-admin's own strings: its shipped .mo lacks some of its .po (see the folder)
        translations_path=str(Path(__file__).parent / "translations"),
    )
    app.extensions["township_admin"] = admin
    _add_core_views(admin)
    _add_plugin_views(app, admin)
    return admin


def _add_core_views(admin: Admin) -> None:
    from admin.audit_trail import AuditView
    from admin.calendar import CalendarView
    from admin.cases import CaseView
    from admin.duty import DutyPatternView, DutyRotaView, PresenceView
    from admin.grants import GrantsView
    from admin.inbox import InboxView
    from admin.institutions import SwitchboardView
    from admin.jobs import JobsView
    from admin.notifications import NotificationsView
    from admin.orgs import UnitView
    from admin.people import PersonView
    from admin.policies import PolicyView
    from admin.township import TownshipSettingsView
    from admin.users import UserView

    settings = _l("Township settings")
    administration = _l("Administration")
    admin.add_view(InboxView(name=_l("Inbox"), endpoint="admin_inbox"))
    admin.add_view(CaseView())
    admin.add_view(PersonView())
    duty = _l("Duty and presence")
    admin.add_view(DutyRotaView(name=_l("Duty rota"), endpoint="admin_duty_rota", category=duty))
    admin.add_view(
        DutyPatternView(
            name=_l("Weekly duty pattern"), endpoint="admin_duty_pattern", category=duty
        )
    )
    admin.add_view(
        PresenceView(name=_l("Staff away"), endpoint="admin_duty_presence", category=duty)
    )
    admin.add_view(
        SwitchboardView(name=_l("Institutions"), endpoint="admin_institutions", category=settings)
    )
    admin.add_view(PolicyView(name=_l("Policies"), endpoint="admin_policies", category=settings))
    admin.add_view(
        CalendarView(name=_l("Working-day calendar"), endpoint="admin_calendar", category=settings)
    )
    admin.add_view(
        TownshipSettingsView(name=_l("Time zone"), endpoint="admin_township", category=settings)
    )
    admin.add_view(UnitView(category=settings))
    admin.add_view(UserView(category=administration))
    admin.add_view(
        GrantsView(name=_l("Roles and permissions"), endpoint="admin_grants", category=settings)
    )
    admin.add_view(AuditView(category=administration))
    admin.add_view(
        JobsView(name=_l("Scheduled jobs"), endpoint="admin_jobs", category=administration)
    )
    admin.add_view(NotificationsView(name=_l("Notifications"), endpoint="admin_notifications"))


def _plugin_label(info) -> LazyString:
    """The plugin's zh_CN or English name, resolved when the menu renders."""
    from core.app import current_locale

    return LazyString(lambda: info.name_en if current_locale() == "en" else info.name)


def _add_plugin_views(app: Flask, admin: Admin) -> None:
    """One menu category per plugin, named after it, visible where it is enabled."""
    from admin.views import SecureViewMixin

    township = state(app)
    for key, loaded in township.plugins.items():
        if key == CORE_KEY:
            continue
        for item in (
            i for group in township.call_for(key, "township_admin_views") for i in group or ()
        ):
            view = item.view
            check_endpoint(key, view.endpoint, "admin endpoint")
            if not isinstance(view, SecureViewMixin):
                raise PluginError(
                    f"plugin {key!r}: admin view {view.endpoint!r} must derive from "
                    "admin.views.TownshipModelView or TownshipBaseView"
                )
            view.plugin_key = key
            view.category = _plugin_label(loaded.info)
            admin.add_view(view)
            if item.setup is not None:
                item.setup(app)
