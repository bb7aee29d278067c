"""The release institution's API resources, under ``/api/v1/releases/<township>/``.

* ``products``: the published information products (and withdrawn ones, with the
  reason), newest first, as the public pages show them; any staff token of the
  township reads them.
* ``disclosures``: the disclosure board, to find the entry that answers a request.
* ``topic-requests``: citizens' requests that a topic be disclosed (点题公开), with the
  citizen's contact; reading and answering them needs ``releases.write`` (the
  information officer), as in the admin. An answer links a disclosure or declines with
  a reason, through :func:`plugins.releases.services.answer_topic_request`.

A township that has not enabled the institution answers 404 (the core checks it).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.api import ApiBlueprint, ApiError, api_user, invalid, require
from core.api import fields as f
from core.api.schemas import PageArgs, UnitSchema, page, page_of
from core.db import db
from core.models import OrgUnit
from plugins.releases import services
from plugins.releases.models import (
    Disclosure,
    DisclosureStage,
    Product,
    ProductStatus,
    TopicRequest,
    TopicStatus,
)

bp = ApiBlueprint(
    "releases_api",
    __name__,
    description="Information release: published products, the disclosure board, and "
    "citizens' topic requests with their answers.",
)

ID = "int(min=1, max=2147483647)"
PUBLIC = [ProductStatus.published, ProductStatus.withdrawn]

# ---------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------


class ProductSchema(f.OutputSchema):
    id = f.Integer(required=True)
    township = f.Nested(UnitSchema, required=True)
    title = f.String(required=True)
    audience = f.String(required=True)
    body = f.String(required=True, metadata={"description": "Sanitised HTML."})
    status = f.String(required=True, validate=f.OneOf([s.value for s in PUBLIC]))
    status_label = f.String(required=True)
    published_at = f.DateTime(required=True, allow_none=True)
    withdrawn_at = f.DateTime(required=True, allow_none=True)
    withdrawn_reason = f.String(required=True)
    public_url = f.String(required=True, metadata={"description": "The public page."})


class ProductArgs(PageArgs):
    status = f.Text(
        load_default=ProductStatus.published.value,
        validate=[f.OneOf([s.value for s in PUBLIC])],
        metadata={"description": "`published` (default) or `withdrawn`."},
    )


class DisclosureSchema(f.OutputSchema):
    id = f.Integer(required=True)
    title = f.String(required=True)
    category = f.String(required=True)
    stage = f.String(required=True, validate=f.OneOf([s.value for s in DisclosureStage]))
    stage_label = f.String(required=True)
    case_id = f.Integer(required=True, allow_none=True)
    updated_at = f.DateTime(required=True)


class TopicSchema(f.OutputSchema):
    receipt_no = f.String(required=True)
    topic = f.String(required=True)
    details = f.String(required=True)
    contact = f.String(required=True, metadata={"description": "Never shown publicly."})
    submitted_on = f.Date(required=True)
    due_on = f.Date(required=True)
    overdue = f.Boolean(required=True)
    status = f.String(required=True, validate=f.OneOf([s.value for s in TopicStatus]))
    status_label = f.String(required=True)
    answer = f.String(required=True)
    disclosure_id = f.Integer(required=True, allow_none=True)
    answered_at = f.DateTime(required=True, allow_none=True)


class TopicArgs(PageArgs):
    status = f.Text(
        validate=[f.OneOf([s.value for s in TopicStatus])],
        metadata={"description": "Only requests in this status (default: all)."},
    )


class AnswerSchema(f.Schema):
    """Disclose (``disclosure_id``, with an optional ``answer``) or decline (``decline_reason``)."""

    disclosure_id = f.Integer(
        validate=f.Range(min=1, max=2**31 - 1),
        metadata={"description": "A disclosure of the township that answers the request."},
    )
    answer = f.Text(max_length=4000, metadata={"description": "A note to the citizen."})
    decline_reason = f.Text(
        min_length=1, max_length=4000, metadata={"description": "Why it is not disclosed."}
    )

    @ma.validates_schema
    def _one_way(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("disclosure_id" in data) == ("decline_reason" in data):
            message = _("Link the disclosure, or give the reason for declining.")
            raise ma.ValidationError({"disclosure_id": [message], "decline_reason": [message]})


# ---------------------------------------------------------------------------
# Representations and look-ups
# ---------------------------------------------------------------------------


def _product(product: Product, township: OrgUnit) -> dict[str, Any]:
    return {
        "id": product.id,
        "township": township,
        "title": product.title,
        "audience": product.audience,
        "body": product.body or "",
        "status": product.status.value,
        "status_label": product.status.label,
        "published_at": product.published_at,
        "withdrawn_at": product.withdrawn_at,
        "withdrawn_reason": product.withdrawn_reason or "",
        "public_url": url_for("releases.product", township=township.code, product_id=product.id),
    }


def _disclosure(row: Disclosure) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "category": str(row.category),
        "stage": row.stage.value,
        "stage_label": row.stage.label,
        "case_id": row.case_id,
        "updated_at": row.updated_at,
    }


def _topic(row: TopicRequest, township: OrgUnit) -> dict[str, Any]:
    return {
        "receipt_no": row.receipt_no,
        "topic": row.topic,
        "details": row.details or "",
        "contact": row.contact or "",
        "submitted_on": row.submitted_on,
        "due_on": row.due_on,
        "overdue": row.status == TopicStatus.open and row.due_on < clock.today(township),
        "status": row.status.value,
        "status_label": row.status.label,
        "answer": row.answer or "",
        "disclosure_id": row.disclosure_id,
        "answered_at": row.answered_at,
    }


def _topic_or_404(township: OrgUnit, receipt_no: str) -> TopicRequest:
    require(services.WRITE, township.id)
    row = services.find_topic_request(township.id, receipt_no)
    if row is None:
        raise ApiError(404, _("No topic request %(receipt)s in this township.", receipt=receipt_no))
    return row


TOPIC_LINKS = {
    "GetTopicRequest": {
        "operationId": "getTopicRequest",
        "parameters": {
            "township": "$request.path.township",
            "receipt_no": "$response.body#/items/0/receipt_no",
        },
    },
    "AnswerTopicRequest": {
        "operationId": "answerTopicRequest",
        "parameters": {
            "township": "$request.path.township",
            "receipt_no": "$response.body#/items/0/receipt_no",
        },
    },
}

# ---------------------------------------------------------------------------
# Products and the board
# ---------------------------------------------------------------------------


@bp.route("/<code:township>/products")
@bp.doc(
    operationId="listReleaseProducts",
    summary="Published information products, newest first",
    responses={
        200: {
            "links": {
                "GetReleaseProduct": {
                    "operationId": "getReleaseProduct",
                    "parameters": {
                        "township": "$request.path.township",
                        "product_id": "$response.body#/items/0/id",
                    },
                }
            }
        }
    },
)
@bp.arguments(ProductArgs, location="query")
@bp.response(200, page_of(ProductSchema))
@bp.errors(404)
def list_products(args: dict[str, Any], township: OrgUnit):
    """The township's published (or withdrawn) products, a page at a time."""
    order = (
        Product.published_at.desc()
        if args["status"] == ProductStatus.published.value
        else Product.withdrawn_at.desc()
    )
    query = (
        select(Product)
        .where(Product.township_id == township.id, Product.status == ProductStatus(args["status"]))
        .order_by(order, Product.id.desc())
    )
    body = page(query, args)
    body["items"] = [_product(p, township) for p in body["items"]]
    return body


@bp.route(f"/<code:township>/products/<{ID}:product_id>")
@bp.doc(operationId="getReleaseProduct", summary="One published (or withdrawn) product")
@bp.response(200, ProductSchema)
@bp.errors(404)
def get_product(township: OrgUnit, product_id: int):
    product = db.session.get(Product, product_id)
    if product is None or product.township_id != township.id or product.status not in PUBLIC:
        raise ApiError(404, _("No published product %(id)s in this township.", id=product_id))
    return _product(product, township)


@bp.route("/<code:township>/disclosures")
@bp.doc(operationId="listDisclosures", summary="The disclosure board, latest first")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(DisclosureSchema))
@bp.errors(404)
def list_disclosures(args: dict[str, Any], township: OrgUnit):
    query = (
        select(Disclosure)
        .where(Disclosure.township_id == township.id)
        .order_by(Disclosure.updated_at.desc(), Disclosure.id.desc())
    )
    body = page(query, args)
    body["items"] = [_disclosure(d) for d in body["items"]]
    return body


# ---------------------------------------------------------------------------
# Topic requests (staff)
# ---------------------------------------------------------------------------


@bp.route("/<code:township>/topic-requests")
@bp.doc(
    operationId="listTopicRequests",
    summary="Citizens' topic requests, the earliest due first",
    responses={200: {"links": TOPIC_LINKS}},
)
@bp.arguments(TopicArgs, location="query")
@bp.response(200, page_of(TopicSchema))
@bp.errors(403, 404)
def list_topic_requests(args: dict[str, Any], township: OrgUnit):
    require(services.WRITE, township.id)
    query = select(TopicRequest).where(TopicRequest.township_id == township.id)
    if args.get("status"):
        query = query.where(TopicRequest.status == TopicStatus(args["status"]))
    body = page(query.order_by(TopicRequest.due_on, TopicRequest.id), args)
    body["items"] = [_topic(t, township) for t in body["items"]]
    return body


@bp.route("/<code:township>/topic-requests/<code:receipt_no>")
@bp.doc(operationId="getTopicRequest", summary="One topic request by its receipt number")
@bp.response(200, TopicSchema)
@bp.errors(403, 404)
def get_topic_request(township: OrgUnit, receipt_no: str):
    return _topic(_topic_or_404(township, receipt_no), township)


@bp.route(
    "/<code:township>/topic-requests/<code:receipt_no>/answer",
    methods=["POST"],
)
@bp.doc(operationId="answerTopicRequest", summary="Answer: disclose or decline")
@bp.arguments(AnswerSchema)
@bp.response(200, TopicSchema, description="The request, answered.")
@bp.errors(403, 404, 409)
def answer_topic_request(data: dict[str, Any], township: OrgUnit, receipt_no: str):
    """Link a disclosure of the township, or decline with a reason; 409 if already answered."""
    from admin.audit import record_audit

    row = _topic_or_404(township, receipt_no)
    disclosure = None
    if "disclosure_id" in data:
        disclosure = db.session.get(Disclosure, data["disclosure_id"])
        if disclosure is None or disclosure.township_id != township.id:
            raise invalid({"disclosure_id": _("No disclosure of this township has this id.")})
    if row.status != TopicStatus.open:
        raise ApiError(409, _("This request has already been answered."))
    try:
        services.answer_topic_request(
            row,
            api_user(),
            disclosure=disclosure,
            decline_reason=data.get("decline_reason", ""),
            answer=data.get("answer", ""),
        )
    except services.ReleaseError as exc:
        db.session.rollback()
        raise ApiError(409, str(exc)) from exc
    record_audit(
        "update",
        "TopicRequest",
        row.id,
        township_id=row.township_id,
        after={"status": row.status.value},
    )
    db.session.commit()
    return _topic(row, township)
