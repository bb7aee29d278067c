"""What the plugin does when the core calls it: enabling, dashboard figures."""

from __future__ import annotations

from flask import has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.routing import BuildError

from core import clock
from core.contract import DashboardFigure
from core.db import db
from core.institutions import is_enabled
from core.models import OrgUnit
from plugins.releases import services


def on_enabled(township: OrgUnit) -> None:
    """A township adopted the institution: the default monthly plan and the rule book's
    disclosure categories (idempotent); commits."""
    services.ensure_plan(township.id)
    services.ensure_categories(township.id)
    db.session.commit()


def _link(endpoint: str) -> str | None:
    if not has_request_context():
        return None
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list[DashboardFigure]]:
    """Each township's releases this month against the policy, and its open topic
    requests, by township id (two queries for all).

    Nothing for a township that has not enabled the institution (the dashboard asks
    only enabling townships' plugins, but a direct hook call asks everyone).
    """
    figures: dict[int, list[DashboardFigure]] = {t.id: [] for t in townships}
    adopting = [t for t in townships if is_enabled(t.id, services.KEY)]
    compliance = services.monthly_compliance(adopting)
    topics = services.open_topic_summary([t.id for t in adopting])
    for township in adopting:
        figures[township.id] = _figures(township, compliance[township.id], *topics[township.id])
    return figures


def _figures(
    township: OrgUnit, compliance: services.Compliance, open_count: int, first_due
) -> list[DashboardFigure]:
    return [
        DashboardFigure(
            label=_("Releases this month (required %(n)d)", n=compliance.required),
            value=compliance.releases,
            link=_link("releases_batches.index_view"),
            level="success" if compliance.met else "warning",
        ),
        DashboardFigure(
            label=_("Open topic requests"),
            value=(
                _("%(n)d, first due %(due)s", n=open_count, due=first_due)
                if first_due
                else open_count
            ),
            link=_link("releases_topics.index_view"),
            level=(
                "danger"
                if first_due and first_due < clock.today(township)
                else ("info" if open_count == 0 else "warning")
            ),
        ),
    ]


def inbox_sources(user, township_ids: set[int]) -> list:
    """What waits in a user's inbox: products to approve (``releases.approve``) and open
    topic requests to answer (``releases.write``), each a query of labelled columns."""
    from sqlalchemy import literal, select

    from core.access import township_ids_with
    from core.contract import InboxSource
    from plugins.releases.models import Product, ProductStatus, TopicRequest, TopicStatus

    sources = []
    approving = township_ids_with(user, services.APPROVE) & township_ids
    if approving:
        sources.append(
            InboxSource(
                services.INBOX_APPROVAL,
                "待审批信息产品",
                "Information product to approve",
                select(
                    Product.id.label("object_id"),
                    Product.title.label("title"),
                    Product.township_id.label("township_id"),
                    Product.updated_at.label("since"),
                    literal(None).label("due_on"),
                ).where(
                    Product.township_id.in_(approving),
                    Product.status == ProductStatus.submitted,
                ),
                "releases_products.details_view",
            )
        )
    writing = township_ids_with(user, services.WRITE) & township_ids
    if writing:
        sources.append(
            InboxSource(
                "releases.topic_answer",
                "待答复点题公开申请",
                "Topic request to answer",
                select(
                    TopicRequest.id.label("object_id"),
                    TopicRequest.topic.label("title"),
                    TopicRequest.township_id.label("township_id"),
                    TopicRequest.created_at.label("since"),
                    TopicRequest.due_on.label("due_on"),
                ).where(
                    TopicRequest.township_id.in_(writing),
                    TopicRequest.status == TopicStatus.open,
                ),
                "releases_topics.answer_view",
            )
        )
    return sources


def find_receipt(receipt_no: str):
    """A topic request's receipt (点题公开): what was asked, when it is due, the answer."""
    from flask_babel import gettext as _

    from core.contract import PublicReceipt, ReceiptStep
    from plugins.releases.models import TopicRequest, TopicStatus

    request = db.session.scalar(select(TopicRequest).where(TopicRequest.receipt_no == receipt_no))
    if request is None:
        return None
    township = db.session.get(OrgUnit, request.township_id)
    steps = [ReceiptStep(request.submitted_on, _("Topic request received"))]
    if request.answered_at is not None:
        steps.append(ReceiptStep(clock.local(request.answered_at, township), request.status.label))
    answer = None
    if request.status == TopicStatus.disclosed and request.disclosure is not None:
        answer = _("Disclosed: %(title)s", title=request.disclosure.title)
        if request.answer:
            answer += " — " + request.answer
    elif request.status == TopicStatus.declined:
        answer = _("Declined: %(reason)s", reason=request.answer)
    return PublicReceipt(
        receipt_no=request.receipt_no,
        township=township,
        source=services.KEY,
        kind_label=_("Topic request (点题公开): %(topic)s", topic=request.topic),
        status_label=request.status.label,
        received_on=request.submitted_on,
        due_on=request.due_on,
        due_explained=_(
            "%(n)s working days after the request",
            n=services.topic_answer_days(request.township_id),
        ),
        department=_("Information release and disclosure"),
        steps=steps,
        answer=answer,
        finished=request.status != TopicStatus.open,
        obj=request,
    )
