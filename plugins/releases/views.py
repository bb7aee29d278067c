"""Public pages: releases, Atom feed, search, leaflet, disclosure board, topic requests.

Mounted by the core at ``/t/<township>/releases/``; the township is ``g.township``
and the core answers 404 where the institution is not enabled. Every list is a
page of fixed size read in a fixed number of queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from core.cache import public_page, watch
from core.cases import public_view
from core.db import db, utcnow
from core.extensions import limiter
from core.receipts import watch_receipts
from plugins.releases import services
from plugins.releases.models import (
    CHANNEL_LABELS,
    SOURCE_LABELS,
    BatchStatus,
    Disclosure,
    DisclosureCategory,
    Product,
    ProductStatus,
    ReleaseBatch,
    ReleaseChannel,
    SourceChannel,
    TopicRequest,
    TopicStatus,
)

bp = Blueprint("releases", __name__, template_folder="templates")

# the public pages below are cached (core.cache) until a row they show changes
for _model in (Product, ReleaseBatch, Disclosure, DisclosureCategory):
    watch(_model, "releases", township_attr="township_id")
watch_receipts(TopicRequest)  # a topic request's answer shows under its receipt at once

#: topic requests per address (a citizen needs one or two; a script gets a 429)
TOPIC_RATE_LIMIT = "5 per hour"
BOARD_PAGE_SIZE = 20


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdecimal() and 0 < int(raw) < 100_000 else 1


@bp.app_template_filter("releases_channel")
def channel_label(code: str) -> str:
    """The zh_CN or English label of a release channel."""
    zh, en = CHANNEL_LABELS[ReleaseChannel(code)]
    return en if str(get_locale() or "zh_CN").startswith("en") else zh


@bp.app_template_filter("releases_source")
def source_label(code: str) -> str:
    """The zh_CN or English label of a source channel."""
    zh, en = SOURCE_LABELS[SourceChannel(code)]
    return en if str(get_locale() or "zh_CN").startswith("en") else zh


@bp.app_template_filter("releases_local")
def local_time(value: datetime | None, fmt: str = "%Y-%m-%d") -> str:
    """A UTC instant shown in the township's time zone (the request's, or Shanghai)."""
    if value is None:
        return ""
    township = getattr(g, "township", None)
    zone = ZoneInfo(getattr(township, "timezone", None) or "Asia/Shanghai")
    return value.astimezone(zone).strftime(fmt)


@bp.get("/")
@public_page("releases")
def index():
    """The township's published releases, newest first, and recent withdrawal notes."""
    township = g.township
    page = services.published_products(township.id, _page())
    return render_template(
        "releases/index.html",
        township=township,
        page=page,
        withdrawn=services.recently_withdrawn(township.id),
        q="",
    )


@bp.get("/search")
def search():
    """Search published releases by title, audience and text."""
    q = (request.args.get("q") or "").strip()[:100]
    page = services.published_products(g.township.id, _page(), q) if q else None
    return render_template(
        "releases/index.html", township=g.township, page=page, withdrawn=[], q=q, searching=True
    )


def _product_or_404(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None or product.township_id != g.township.id:
        abort(404)
    if product.status not in (ProductStatus.published, ProductStatus.withdrawn):
        abort(404)
    return product


@bp.get("/p/<int:product_id>")
@public_page("releases")
def product(product_id: int):
    """One published product; a withdrawn one shows only the withdrawal note (410)."""
    item = _product_or_404(product_id)
    if item.status == ProductStatus.withdrawn:
        return render_template("releases/withdrawn.html", township=g.township, product=item), 410
    batch = db.session.get(ReleaseBatch, item.batch_id) if item.batch_id else None
    return render_template("releases/product.html", township=g.township, product=item, batch=batch)


@bp.get("/leaflet/<int:batch_id>")
def leaflet(batch_id: int):
    """A print view of one release: every product still published, on A4."""
    batch = db.session.get(ReleaseBatch, batch_id)
    if batch is None or batch.township_id != g.township.id or batch.status != BatchStatus.published:
        abort(404)
    products = db.session.scalars(
        select(Product)
        .where(Product.batch_id == batch.id, Product.status == ProductStatus.published)
        .order_by(Product.id)
    ).all()
    return render_template(
        "releases/leaflet.html", township=g.township, batch=batch, products=products
    )


def _atom_time(value: datetime | None) -> str:
    return (value or utcnow()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/feed.atom")
@public_page("releases")
def feed():
    """An Atom feed of the latest published products (hand-built, every text escaped)."""
    township = g.township
    products = services.feed_products(township.id)
    self_url = url_for(".feed", _external=True)
    home = url_for(".index", _external=True)
    updated = _atom_time(products[0].published_at if products else None)
    title = _("%(township)s: information releases", township=township.name)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f"<id>{escape(home)}</id>",
        f'<link rel="self" href={quoteattr(self_url)}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(home)}/>',
        f"<updated>{updated}</updated>",
        f"<author><name>{escape(township.name)}</name></author>",
    ]
    for item in products:
        link = url_for(".product", product_id=item.id, _external=True)
        parts += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f"<id>{escape(link)}</id>",
            f'<link rel="alternate" type="text/html" href={quoteattr(link)}/>',
            f"<published>{_atom_time(item.published_at)}</published>",
            f"<updated>{_atom_time(item.published_at)}</updated>",
            f"<summary>{escape(item.audience)}</summary>",
            # the body is sanitised HTML; as Atom "html" content it is escaped once more
            f'<content type="html">{escape(item.body)}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return Response("\n".join(parts), mimetype="application/atom+xml")


# ---------------------------------------------------------------------------
# Disclosure board (公开栏)
# ---------------------------------------------------------------------------


@bp.get("/board")
@public_page("releases")
def board():
    """The disclosure board: categories and the latest matters, a page at a time."""
    township = g.township
    categories = db.session.scalars(
        select(DisclosureCategory)
        .where(DisclosureCategory.township_id == township.id)
        .order_by(DisclosureCategory.position, DisclosureCategory.name)
    ).all()
    category_id = request.args.get("category", type=int)
    where = [Disclosure.township_id == township.id]
    if category_id:
        where.append(Disclosure.category_id == category_id)
    total = db.session.scalar(select(func.count(Disclosure.id)).where(*where)) or 0
    pages = max(1, -(-total // BOARD_PAGE_SIZE))
    page = min(_page(), pages)
    rows = db.session.scalars(
        select(Disclosure)
        .where(*where)
        .order_by(Disclosure.updated_at.desc(), Disclosure.id.desc())
        .limit(BOARD_PAGE_SIZE)
        .offset((page - 1) * BOARD_PAGE_SIZE)
    ).all()
    return render_template(
        "releases/board.html",
        township=township,
        categories=categories,
        category_id=category_id,
        rows=rows,
        page=page,
        pages=pages,
        total=total,
    )


@bp.get("/board/<int:disclosure_id>")
@public_page("releases", "cases")
def disclosure(disclosure_id: int):
    """One disclosed matter with every required field; a linked case shows status only."""
    row = db.session.get(Disclosure, disclosure_id)
    if row is None or row.township_id != g.township.id:
        abort(404)
    case = public_view(row.case) if row.case is not None else None
    if case is not None:
        case["status_label"] = row.case.status.label
    return render_template("releases/disclosure.html", township=g.township, row=row, case=case)


# ---------------------------------------------------------------------------
# Topic requests (点题公开)
# ---------------------------------------------------------------------------


class TopicForm(FlaskForm):
    topic = StringField(
        _l("Topic you want disclosed"), validators=[DataRequired(), Length(max=200)]
    )
    details = TextAreaField(_l("Details (optional)"), validators=[Length(max=4000)])
    contact = StringField(
        _l("How to reach you (optional, never published)"), validators=[Length(max=120)]
    )


def _only_posts() -> bool:
    return request.method != "POST"


@bp.route("/ask", methods=("GET", "POST"))
@limiter.limit(TOPIC_RATE_LIMIT, exempt_when=_only_posts)
def ask():
    """A citizen asks for a topic to be disclosed and gets a receipt number."""
    form = TopicForm()
    if form.validate_on_submit():
        try:
            topic = services.submit_topic_request(
                g.township, form.topic.data, form.details.data, form.contact.data
            )
        except services.ReleaseError as exc:
            form.topic.errors.append(str(exc))
        else:
            return redirect(url_for(".topic", receipt=topic.receipt_no), 303)
    status = 400 if form.errors else 200
    return render_template("releases/ask.html", township=g.township, form=form), status


@bp.get("/ask/<receipt>")
def topic(receipt: str):
    """A topic request under its receipt number: due date, and the answer once given."""
    found = services.find_topic_request(g.township.id, receipt[:40])
    if found is None:
        abort(404)
    return render_template(
        "releases/topic.html", township=g.township, req=found, TopicStatus=TopicStatus
    )


@bp.get("/answer")
def lookup_topic():
    """The receipt number form: go to the request's page."""
    receipt = (request.args.get("receipt") or "").strip().upper()[:40]
    if receipt:
        if services.find_topic_request(g.township.id, receipt) is not None:
            return redirect(url_for(".topic", receipt=receipt), 303)
        return render_template(
            "releases/lookup.html",
            township=g.township,
            receipt=receipt,
            error=_("No topic request has this receipt number."),
        ), 404
    return render_template("releases/lookup.html", township=g.township, receipt="", error=None)


@bp.errorhandler(429)
def _too_many(exc):
    return render_template(
        "releases/ask.html",
        township=g.township,
        form=TopicForm(),
        error=_("Too many requests from your address. Please try again later."),
    ), 429
