"""What extended hours does when the core calls it: the inbox (coverage gaps for the
township administrators, this year's conduct rule for each staff member), the dashboard,
the township's public page, and a case's after-hours services under its receipt."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Date, String, and_, cast, exists, literal, null, or_, select

from core import clock, duty
from core.access import township_ids_with
from core.contract import DashboardFigure, InboxSource, PublicSection, ReceiptSection
from core.models import Case, Membership, OrgUnit, User
from core.models.duty import DutyPost
from plugins.extended_hours import services
from plugins.extended_hours.models import ExtendedHoursGap, ExtendedHoursPledge


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    sources = []
    admin = township_ids_with(user, services.COVERAGE) & set(township_ids)
    if admin:
        groups = clock.today_groups(admin)
        upcoming = or_(
            *(
                and_(ExtendedHoursGap.township_id.in_(ids), ExtendedHoursGap.day >= day)
                for day, ids in groups.items()
            )
        )
        sources.append(
            InboxSource(
                services.INBOX_GAP,
                "窗口无人值班",
                "No one at the service windows",
                select(
                    ExtendedHoursGap.id.label("object_id"),
                    cast(ExtendedHoursGap.day, String(10)).label("title"),
                    ExtendedHoursGap.township_id.label("township_id"),
                    ExtendedHoursGap.found_at.label("since"),
                    ExtendedHoursGap.day.label("due_on"),
                ).where(ExtendedHoursGap.covered_at.is_(None), upcoming),
                services.COVERAGE_ENDPOINT,
                id_arg="gap",
            )
        )
    # the conduct rule: each township the user works for, until this year's acknowledgement
    groups = clock.today_groups(set(township_ids))
    if groups:
        works_for = (
            select(OrgUnit.township_id)
            .join(Membership, Membership.org_unit_id == OrgUnit.id)
            .where(Membership.user_id == user.id)
        )
        township = OrgUnit.__table__.alias("extended_hours_township")
        waiting = or_(
            *(
                and_(
                    township.c.id.in_(ids),
                    ~exists().where(
                        ExtendedHoursPledge.township_id == township.c.id,
                        ExtendedHoursPledge.user_id == user.id,
                        ExtendedHoursPledge.year == day.year,
                    ),
                )
                for day, ids in groups.items()
            )
        )
        sources.append(
            InboxSource(
                services.INBOX_PLEDGE,
                "延时服务纪律年度确认",
                "Conduct rule of extended service: this year's acknowledgement",
                select(
                    literal(user.id).label("object_id"),
                    township.c.name.label("title"),
                    township.c.id.label("township_id"),
                    cast(null(), ExtendedHoursPledge.acknowledged_at.type).label("since"),
                    cast(null(), Date).label("due_on"),
                ).where(township.c.id.in_(works_for), waiting),
                services.PLEDGE_ENDPOINT,
                id_arg="user",
            )
        )
    return sources


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Each township's days without window staff in the coming weeks, after-hours
    services this month and acknowledgements of this year's conduct rule, by township
    id, in the same queries for one township as for a county."""
    today = {t.id: clock.today(t) for t in townships}
    spans = {tid: services.coverage_span(tid) for tid in today}
    empty_days = duty.gaps_each(spans, DutyPost.window)
    served = services.services_this_month(townships)
    acknowledged = services.acknowledged_counts({tid: day.year for tid, day in today.items()})
    figures: dict[int, list[DashboardFigure]] = {}
    for tid, day in today.items():
        start, end = spans[tid]
        empty = empty_days[tid]
        done, total = acknowledged[tid]
        figures[tid] = [
            DashboardFigure(
                label=_(
                    "Days without window staff from %(start)s to %(end)s",
                    start=start.isoformat(),
                    end=end.isoformat(),
                ),
                value=len(empty),
                link=url_for("extended_hours_coverage.index", township=tid),
                level="danger" if empty else "success",
            ),
            DashboardFigure(
                label=_("After-hours services this month"),
                value=served[tid],
                link=url_for("extended_hours_services.index_view"),
            ),
            DashboardFigure(
                label=_(
                    "Staff who acknowledged the conduct rule for %(year)s: %(done)s of %(total)s",
                    year=day.year,
                    done=done,
                    total=total,
                ),
                value=done,
                link=url_for("extended_hours_pledges.index", township=tid),
                level="warning" if done < total else "success",
            ),
        ]
    return figures


def public_sections(township: OrgUnit) -> list[PublicSection]:
    html = Markup('<p class="mb-1">{}</p><a href="{}" id="extended-hours-link">{}</a>').format(
        _(
            "Five working days, seven days of service: the service windows are open at "
            "weekends and on holidays too."
        ),
        url_for("extended_hours.index", township=township.code),
        _("Weekend and after-hours duty"),
    )
    return [PublicSection(_("Extended hours"), html, order=40)]


def receipt_sections(receipt) -> list[ReceiptSection]:
    """Under a case's receipt: when it was served outside office hours (no names)."""
    obj = receipt.obj
    if not isinstance(obj, Case):
        return []
    entries = services.services_of_case(obj.id)
    if not entries:
        return []
    items = Markup("").join(
        Markup('<li class="extended-hours-service">{} {}–{}</li>').format(
            e.served_on.isoformat(),
            clock.local(e.starts_at, e.township_id).strftime("%H:%M"),
            clock.local(e.ends_at, e.township_id).strftime("%H:%M"),
        )
        for e in entries
    )
    html = Markup(
        '<p class="mb-1">{}</p><ul id="extended-hours-services" class="mb-0">{}</ul>'
    ).format(_("Your matter was served outside office hours:"), items)
    return [ReceiptSection(_("Extended hours"), html, order=50)]
