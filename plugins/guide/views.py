"""Public pages of the service guide at ``/t/<township>/guide/``: the catalogue searchable
by name, place and department (a page of fixed size, two queries), a matter, its printable
one-page notice (一次性告知单), and the village service rooms."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template, request
from sqlalchemy import func, or_, select

from core.db import db
from core.models import OrgUnit, UnitKind
from plugins.guide import services
from plugins.guide.models import GuideMatter, GuideServiceHall, GuideServiceRoom, Place, yuan

bp = Blueprint("guide", __name__, template_folder="templates")

PAGE_SIZE = 20


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _departments(township_id: int) -> list[tuple[int, str]]:
    return [
        (u.id, u.name)
        for u in db.session.scalars(
            select(OrgUnit)
            .where(OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.station)
            .order_by(OrgUnit.name)
        )
    ]


@bp.get("/")
def index():
    """The published matters, searchable by name and filtered by place and department."""
    township = g.township
    q = (request.args.get("q") or "").strip()[:100]
    place = request.args.get("place") or ""
    department = request.args.get("department", type=int)
    where = [GuideMatter.township_id == township.id, GuideMatter.published.is_(True)]
    if q:
        like = f"%{q}%"
        where.append(or_(GuideMatter.name.like(like), GuideMatter.materials.like(like)))
    if place:
        if place not in {p.value for p in Place}:
            abort(400)
        where.append(GuideMatter.place == Place(place))
    if department:
        where.append(GuideMatter.department_id == department)
    total = db.session.scalar(select(func.count(GuideMatter.id)).where(*where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(_page(), pages)
    matters = db.session.scalars(
        select(GuideMatter)
        .where(*where)
        .order_by(GuideMatter.name, GuideMatter.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "guide/index.html",
        township=township,
        matters=matters,
        total=total,
        page=page,
        pages=pages,
        q=q,
        place=place,
        department=department,
        places=Place,
        departments=_departments(township.id),
        hall=db.session.scalar(
            select(GuideServiceHall).where(GuideServiceHall.township_id == township.id)
        ),
        limits=services.limit_texts(township.id),
        yuan=yuan,
    )


def _matter_or_404(matter_id: int) -> GuideMatter:
    matter = db.session.get(GuideMatter, matter_id)
    if matter is None or matter.township_id != g.township.id or not matter.published:
        abort(404)
    return matter


@bp.get("/m/<int:matter_id>")
def matter(matter_id: int):
    item = _matter_or_404(matter_id)
    return render_template(
        "guide/matter.html",
        township=g.township,
        matter=item,
        limit_text=services.limit_text(item.township_id, item.case_kind),
        kind_label=services.kind_label(item.case_kind),
        yuan=yuan,
        rooms=_rooms(g.township.id) if item.can_be_done_in_village else [],
    )


@bp.get("/m/<int:matter_id>/notice")
def notice(matter_id: int):
    """The one-page notice (一次性告知单) of a matter, printable on A4."""
    item = _matter_or_404(matter_id)
    return render_template(
        "guide/notice.html",
        township=g.township,
        matter=item,
        limit_text=services.limit_text(item.township_id, item.case_kind),
        yuan=yuan,
        hall=db.session.scalar(
            select(GuideServiceHall).where(GuideServiceHall.township_id == g.township.id)
        ),
    )


def _rooms(township_id: int) -> list[GuideServiceRoom]:
    return db.session.scalars(
        select(GuideServiceRoom)
        .join(OrgUnit, OrgUnit.id == GuideServiceRoom.village_id)
        .where(GuideServiceRoom.township_id == township_id)
        .order_by(OrgUnit.name)
    ).all()


@bp.get("/rooms")
def rooms():
    return render_template("guide/rooms.html", township=g.township, rooms=_rooms(g.township.id))
