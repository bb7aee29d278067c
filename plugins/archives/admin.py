"""Staff views of the archives institution, in its own admin menu (档案管理).

Permissions: ``archives.write`` (the archivist; township and county administrators)
to file, register, attach, keep boxes and volumes, lend, take back and appraise;
``archives.read`` (staff) to search and ask to borrow; ``archives.approve_loan``
(head of archives: leaders) to approve borrowing; ``archives.approve_destruction``
(leaders) to approve a destruction.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin.audit import record_audit
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can
from core.db import db
from core.models import OrgUnit
from plugins.archives import services
from plugins.archives.models import (
    ArchiveClass,
    Attachment,
    Box,
    Destruction,
    DestructionStatus,
    Item,
    ItemEvent,
    ItemStatus,
    Loan,
    LoanStatus,
    Loss,
    Retention,
    ReturnCondition,
    Settings,
    ViewLog,
    Volume,
)

READ, WRITE = services.READ, services.WRITE
APPROVE_LOAN, APPROVE_DESTRUCTION = services.APPROVE_LOAN, services.APPROVE_DESTRUCTION
PER_PAGE = 50


def _institution(view, context, model, name) -> str:
    return services.institution_label(model.source)


def _retention_choices(blank: bool = True) -> list[SelectChoice]:
    choices = [SelectChoice("", "–")] if blank else []
    return choices + [SelectChoice(r.value, r.label) for r in Retention]


class _RetentionField(SelectField):
    """The retention periods in words; the model gets a :class:`Retention` (or None)."""

    def populate_obj(self, obj, name):
        setattr(obj, name, _retention_or_none(self.data))

    def process_data(self, value):
        self.data = value.value if isinstance(value, Retention) else (value or "")


def _retention_field(label=_l("Retention period"), blank: bool = True) -> SelectField:
    return _RetentionField(
        label,
        choices=_retention_choices(blank),
        validators=[Optional()] if blank else [DataRequired()],
    )


def _class_choices(township_ids, blank: bool = True) -> list[SelectChoice]:
    rows = db.session.scalars(
        select(ArchiveClass)
        .where(ArchiveClass.township_id.in_(set(township_ids)))
        .order_by(ArchiveClass.township_id, ArchiveClass.code)
    ).all()
    names = dict(township_choices({r.township_id for r in rows}))
    several = len(names) > 1
    choices = [SelectChoice("", "–")] if blank else []
    return choices + [
        SelectChoice(str(r.id), f"{names[r.township_id]} · {r}" if several else str(r))
        for r in rows
    ]


def _framed(html: str) -> str:
    """Frozen HTML as a document for a sandboxed frame: the producer's markup is shown
    as handed over, isolated from the admin page (no script, no shared styles)."""
    return (
        '<!doctype html><meta charset="utf-8"><style>body{font-family:sans-serif;'
        "font-size:14px}table{border-collapse:collapse}th,td{border:1px solid #ccc;"
        "padding:2px 6px;text-align:left}</style>" + services.sanitize(html)
    )


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _retention_or_none(value) -> Retention | None:
    try:
        return Retention(value) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The filing inbox (待归档)
# ---------------------------------------------------------------------------


class InboxView(TownshipModelView):
    """Items waiting to be filed: check and complete the metadata, then file in batches."""

    permission_read = WRITE
    permission_write = WRITE
    allow_create = False
    allow_delete = False
    can_view_details = False
    column_list = (
        "title",
        "source",
        "doc_date",
        "year",
        "archive_class",
        "retention",
        "responsible",
        "created_at",
    )
    column_default_sort = ("created_at", False)
    column_filters = ("year", "retention", "source")
    column_searchable_list = ("title", "responsible")
    column_formatters = {"source": _institution}
    column_labels = {
        "title": _l("Archival title"),
        "source": _l("Institution"),
        "doc_date": _l("Date"),
        "year": _l("Year"),
        "archive_class": _l("Class"),
        "class_id": _l("Class"),
        "retention": _l("Retention period"),
        "responsible": _l("Responsible party"),
        "doc_number": _l("Document number"),
        "pages": _l("Number of pages"),
        "note": _l("Remarks"),
        "created_at": _l("Arrived"),
    }
    form_columns = (
        "title",
        "responsible",
        "doc_number",
        "doc_date",
        "year",
        "pages",
        "class_id",
        "retention",
        "note",
    )
    edit_template = "archives/admin/inbox_edit.html"

    def get_query(self):
        return super().get_query().filter(Item.status == ItemStatus.waiting)

    def get_count_query(self):
        return super().get_count_query().filter(Item.status == ItemStatus.waiting)

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.class_id = SelectField(_l("Class"), validators=[Optional()])
        form_class.retention = SelectField(_l("Retention period"), validators=[Optional()])
        form_class.title = StringField(
            _l("Archival title"), validators=[DataRequired(), Length(max=300)]
        )
        form_class.responsible = StringField(_l("Responsible party"), validators=[Length(max=120)])
        form_class.doc_number = StringField(_l("Document number"), validators=[Length(max=64)])
        form_class.doc_date = DateField(_l("Date"), validators=[DataRequired()])
        form_class.year = IntegerField(
            _l("Year"), validators=[DataRequired(), NumberRange(1900, 2200)]
        )
        form_class.pages = IntegerField(
            _l("Number of pages"), validators=[Optional(), NumberRange(1, 100000)]
        )
        form_class.note = TextAreaField(_l("Remarks"), validators=[Optional()])
        if hasattr(form_class, "township_id"):
            delattr(form_class, "township_id")
        return form_class

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        township = [obj.township_id] if obj is not None else self.township_ids(WRITE)
        form.class_id.choices = _class_choices(township)
        form.retention.choices = _retention_choices()
        if obj is not None and request.method == "GET":
            form.class_id.data = str(obj.class_id or "")
            form.retention.data = obj.retention.value if obj.retention else ""
        return form

    def update_model(self, form, model):
        values = {
            name: getattr(form, name).data
            for name in ("title", "responsible", "doc_number", "doc_date", "year", "pages", "note")
        }
        values["responsible"] = (values["responsible"] or "").strip()
        values["doc_number"] = (values["doc_number"] or "").strip()
        values["note"] = values["note"] or ""
        values["class_id"] = _int_or_none(form.class_id.data)
        values["retention"] = _retention_or_none(form.retention.data)
        try:
            services.update_item(model, values, current_user)
        except services.ArchivesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        return True

    def render(self, template, **kwargs):
        if template == self.edit_template and kwargs.get("model") is not None:
            content = kwargs["model"].content
            kwargs["content"] = content
            kwargs["content_html"] = _framed(content.html) if content else ""
        return super().render(template, **kwargs)

    @action("file", _l("File the selected items"), _l("File the selected items now?"))
    def action_file(self, ids):
        items = db.session.scalars(select(Item).where(Item.id.in_([int(i) for i in ids]))).all()
        allowed = self.township_ids(WRITE)
        by_township: dict[int, list[int]] = {}
        for item in items:
            if item.township_id in allowed:
                by_township.setdefault(item.township_id, []).append(item.id)
        for township_id, item_ids in by_township.items():
            try:
                filed = services.file_items(township_id, item_ids, current_user)
            except services.ArchivesError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                continue
            flash(
                _(
                    "%(n)d item(s) filed: %(first)s … %(last)s",
                    n=len(filed),
                    first=filed[0].reference_code,
                    last=filed[-1].reference_code,
                ),
                "success",
            )


class PaperView(TownshipBaseView):
    """Register a paper document by hand; it waits in the filing inbox like any record."""

    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        services.ensure_scheme(township.id)
        db.session.commit()
        values = request.form if request.method == "POST" else {}
        error = None
        if request.method == "POST":
            try:
                raw_date = values.get("doc_date", "")
                try:
                    doc_date = date.fromisoformat(raw_date)
                except ValueError as exc:
                    raise services.ArchivesError(_("Give the date as YYYY-MM-DD.")) from exc
                pages = values.get("pages") or None
                try:
                    pages = int(pages) if pages else None
                except ValueError as exc:
                    raise services.ArchivesError(_("Pages must be a whole number.")) from exc
                class_id = _int_or_none(values.get("class_id"))
                item = services.register_paper(
                    township.id,
                    title=values.get("title", ""),
                    responsible=values.get("responsible", ""),
                    doc_number=values.get("doc_number", ""),
                    doc_date=doc_date,
                    pages=pages,
                    class_id=class_id,
                    retention=_retention_or_none(values.get("retention")),
                    note=values.get("note", ""),
                    description=values.get("description", ""),
                    by=current_user,
                )
            except services.ArchivesError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                flash(_("Registered; it waits in the filing inbox."), "success")
                return redirect(url_for("archives_inbox.edit_view", id=item.id), 303)
        return self.render(
            "archives/admin/paper.html",
            township=township,
            townships=township_choices(self.township_ids(WRITE)),
            classes=_class_choices([township.id]),
            retentions=_retention_choices(),
            values=values,
            error=error,
            today=clock.today(township),
        ), (400 if error else 200)


# ---------------------------------------------------------------------------
# The catalogue, an item's record, digital copies
# ---------------------------------------------------------------------------


def _filter_from(args) -> services.CatalogueFilter:
    status = args.get("status") or ""
    return services.CatalogueFilter(
        q=(args.get("q") or "")[:100],
        code=(args.get("code") or "")[:80],
        year=_int_or_none(args.get("year")),
        class_id=_int_or_none(args.get("class_id")),
        retention=_retention_or_none(args.get("retention")),
        institution=(args.get("institution") or "")[:64],
        responsible=(args.get("responsible") or "")[:120],
        status=ItemStatus(status) if status in {s.value for s in ItemStatus} else None,
    )


class CatalogueView(TownshipBaseView):
    """The catalogue (档案目录): search, print, export; each item's record page."""

    permission_read = READ

    def _townships(self) -> set[int]:
        return self.township_ids(READ) | self.township_ids(WRITE)

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and bool(self._townships())

    @expose("/")
    def index(self):
        townships = self._townships()
        f = _filter_from(request.args)
        page = max(1, request.args.get("page", 1, type=int))
        items, total = services.catalogue(townships, f, page, PER_PAGE)
        pages = max(1, -(-total // PER_PAGE))
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        institutions = sorted(
            {
                k
                for k in db.session.scalars(
                    select(Item.source).where(Item.township_id.in_(townships)).distinct()
                )
            }
        )
        return self.render(
            "archives/admin/catalogue.html",
            items=items,
            total=total,
            page=min(page, pages),
            pages=pages,
            args=args,
            f=f,
            classes=_class_choices(townships),
            retentions=_retention_choices(),
            statuses=[SelectChoice("", "–")]
            + [SelectChoice(s.value, s.label) for s in ItemStatus if s != ItemStatus.waiting],
            institutions=[(k, services.institution_label(k)) for k in institutions],
            institution_label=services.institution_label,
        )

    def _export_items(self) -> tuple[list[Item], OrgUnit | None]:
        townships = self._townships()
        f = _filter_from(request.args)
        items, _total = services.catalogue(townships, f, 1, 5000)
        township = db.session.get(OrgUnit, min(townships)) if len(townships) == 1 else None
        return items, township

    def _heading(self, township) -> str:
        name = township.name if township else ""
        year = request.args.get("year")
        return " ".join(p for p in (name, year, _("Catalogue of filed documents")) if p)

    @expose("/export.xlsx")
    def export(self):
        items, township = self._export_items()
        data = services.export_xlsx(township, items, self._heading(township))
        return Response(
            data,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": "attachment; filename=catalogue.xlsx"},
        )

    @expose("/print/")
    def print_view(self):
        items, township = self._export_items()
        return self.render(
            "archives/admin/print_catalogue.html",
            items=items,
            rows=services.catalogue_rows(items),
            header=services.catalogue_header(),
            heading=self._heading(township),
        )

    def _item(self) -> Item:
        item = db.session.get(Item, request.values.get("id", type=int) or 0)
        if item is None or item.township_id not in self._townships():
            abort(404)
        return item

    @expose("/item/", methods=("GET", "POST"))
    def item_view(self):
        """One item: metadata (editable by the archivist, with a trail), frozen content,
        digital copies, location, loans; staff ask to borrow here."""
        item = self._item()
        writer = can(current_user, WRITE, item.township_id)
        error = None
        if request.method == "POST":
            if not writer:
                abort(403)
            try:
                self._post_item(item)
            except services.ArchivesError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                return redirect(url_for(".item_view", id=item.id), 303)
        events = db.session.scalars(
            select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id)
        ).all()
        attachments = db.session.scalars(
            select(Attachment).where(Attachment.item_id == item.id).order_by(Attachment.id)
        ).all()
        loans = db.session.scalars(
            select(Loan)
            .where(or_(Loan.item_id == item.id, Loan.box_id == (item.box_id or 0)))
            .order_by(Loan.id.desc())
        ).all()
        boxes = db.session.scalars(
            select(Box).where(Box.township_id == item.township_id).order_by(Box.box_no)
        ).all()
        volumes = db.session.scalars(
            select(Volume)
            .where(Volume.township_id == item.township_id)
            .order_by(Volume.volume_code)
        ).all()
        settings = services.ensure_settings(item.township_id)
        db.session.commit()
        return self.render(
            "archives/admin/item.html",
            item=item,
            content=item.content,
            content_html=_framed(item.content.html) if item.content else "",
            events=events,
            attachments=attachments,
            loans=loans,
            boxes=boxes,
            volumes=volumes,
            settings=settings,
            writer=writer,
            error=error,
            institution=services.institution_label(item.source),
            today=clock.today(item.township_id),
        ), (400 if error else 200)

    def _post_item(self, item: Item) -> None:
        what = request.form.get("what")
        if what == "metadata":
            raw_date = request.form.get("doc_date", "")
            try:
                doc_date = date.fromisoformat(raw_date)
            except ValueError as exc:
                raise services.ArchivesError(_("Give the date as YYYY-MM-DD.")) from exc
            pages = request.form.get("pages") or None
            try:
                pages = int(pages) if pages else None
            except ValueError as exc:
                raise services.ArchivesError(_("Pages must be a whole number.")) from exc
            services.update_item(
                item,
                {
                    "title": request.form.get("title", ""),
                    "responsible": request.form.get("responsible", "").strip(),
                    "doc_number": request.form.get("doc_number", "").strip(),
                    "doc_date": doc_date,
                    "pages": pages,
                    "note": request.form.get("note", ""),
                },
                current_user,
            )
            flash(_("Saved; the change is in the item's trail."), "success")
        elif what == "place":
            box = db.session.get(Box, request.form.get("box_id", type=int) or 0)
            volume = db.session.get(Volume, request.form.get("volume_id", type=int) or 0)
            services.place_item(item, box, volume, current_user)
            flash(_("Saved."), "success")
        elif what == "attach":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise services.ArchivesError(_("Choose a file."))
            data = upload.read(services.ATTACHMENT_MAX_BYTES + 1)
            services.attach(item, upload.filename, upload.mimetype, data, current_user)
            flash(_("The digital copy is kept."), "success")
        else:
            abort(400)

    @expose("/borrow/", methods=("POST",))
    def borrow(self):
        """Ask to borrow an item (``item``) or a box (``box``)."""
        item = db.session.get(Item, request.form.get("item", type=int) or 0)
        box = db.session.get(Box, request.form.get("box", type=int) or 0)
        target = item or box
        if target is None or target.township_id not in self._townships():
            abort(404)
        back = url_for(".item_view", id=item.id) if item else url_for("archives_boxes.index_view")
        try:
            raw = request.form.get("wanted_until", "")
            try:
                wanted = date.fromisoformat(raw)
            except ValueError as exc:
                raise services.ArchivesError(_("Give the date as YYYY-MM-DD.")) from exc
            loan = services.request_loan(
                current_user,
                township_id=target.township_id,
                item=item if item else None,
                box=None if item else box,
                purpose=request.form.get("purpose", ""),
                wanted_until=wanted,
            )
        except services.ArchivesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(back, 303)
        flash(_("Your request waits for the head of archives."), "success")
        return redirect(url_for("archives_loans.details_view", id=loan.id), 303)

    def _attachment(self) -> tuple[Attachment, Item]:
        row = db.session.get(Attachment, request.values.get("id", type=int) or 0)
        if row is None or row.township_id not in self._townships():
            abort(404)
        return row, db.session.get(Item, row.item_id)

    @expose("/read/")
    def read_view(self):
        """Read a digital copy on screen (logged); the download link only if allowed."""
        row, item = self._attachment()
        allowed, download, loan = services.may_read(current_user, row, item)
        if not allowed:
            abort(403)
        services.log_view(current_user, row, loan, downloaded=False)
        return self.render("archives/admin/read.html", row=row, item=item, download=download)

    @expose("/raw/")
    def raw(self):
        """The bytes for the reader (inline, never as a download)."""
        row, item = self._attachment()
        allowed, _download, _loan = services.may_read(current_user, row, item)
        if not allowed:
            abort(403)
        try:
            data = services.read_attachment(row)
        except (OSError, services.ArchivesError):
            abort(410)
        return Response(
            data,
            mimetype=row.media_type,
            headers={
                "Content-Disposition": "inline",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    @expose("/download/")
    def download(self):
        row, item = self._attachment()
        allowed, download, loan = services.may_read(current_user, row, item)
        if not (allowed and download):
            abort(403)
        try:
            data = services.read_attachment(row)
        except (OSError, services.ArchivesError):
            abort(410)
        services.log_view(current_user, row, loan, downloaded=True)
        return Response(
            data,
            mimetype=row.media_type,
            headers={
                "Content-Disposition": f"attachment; filename=item-{item.id}-{row.id}"
                f"{'.' + row.filename.rsplit('.', 1)[-1] if '.' in row.filename else ''}",
                "X-Content-Type-Options": "nosniff",
            },
        )


# ---------------------------------------------------------------------------
# Borrowing
# ---------------------------------------------------------------------------


def _loan_what(view, context, model, name):
    target = model.item or model.box
    if model.item is not None:
        url = url_for("archives_catalogue.item_view", id=model.item_id)
        return Markup('<a href="{}">{}</a>').format(url, str(target))
    return Markup("{} {}").format(_("Box"), str(target))


def _loan_steps(view, context, model, name):
    links = []
    tid = model.township_id
    if model.status == LoanStatus.requested and can(current_user, APPROVE_LOAN, tid):
        links.append((url_for("archives_loans.decide_view", id=model.id), _("Decide")))
    if model.status == LoanStatus.approved and can(current_user, WRITE, tid):
        links.append((url_for("archives_loans.lend_view", id=model.id), _("Hand out")))
    if model.status == LoanStatus.lent and can(current_user, WRITE, tid):
        links.append((url_for("archives_loans.return_view", id=model.id), _("Take back")))
        links.append((url_for("archives_loans.loss_view", id=model.id), _("Report lost")))
    return Markup(" ").join(
        Markup('<a class="btn btn-sm btn-outline-primary loan-step" href="{}">{}</a>').format(u, t)
        for u, t in links
    )


class LoanView(TownshipModelView):
    """Borrowing requests and loans: decide, hand out, take back, report a loss."""

    permission_read = READ
    allow_create = False
    allow_edit = False
    allow_delete = False
    column_list = ("id", "what", "borrower", "purpose", "wanted_until", "status", "due_on", "steps")
    column_details_list = (
        "id",
        "what",
        "borrower",
        "purpose",
        "wanted_until",
        "status",
        "may_download",
        "decided_by",
        "decided_at",
        "decision_note",
        "lent_at",
        "due_on",
        "returned_at",
        "return_condition",
        "return_note",
        "steps",
    )
    column_default_sort = ("id", True)
    column_filters = ("status", "due_on")
    column_formatters = {"what": _loan_what, "steps": _loan_steps}
    column_formatters_detail = {"what": _loan_what, "steps": _loan_steps}
    list_also_load = ("item", "box")  # what "what" shows, with the rows (not one per row)
    column_labels = {
        "id": _l("No."),
        "what": _l("Item or box"),
        "borrower": _l("Borrower"),
        "purpose": _l("Purpose"),
        "wanted_until": _l("Wanted until"),
        "status": _l("Status"),
        "due_on": _l("Due back"),
        "steps": _l("Next step"),
        "may_download": _l("Download allowed"),
        "decided_by": _l("Decided by"),
        "decided_at": _l("Decided at"),
        "decision_note": _l("Decision note"),
        "lent_at": _l("Lent at"),
        "returned_at": _l("Returned at"),
        "return_condition": _l("Condition on return"),
        "return_note": _l("Return note"),
    }

    def _own_only(self, query):
        """Staff who neither lend nor approve see their own loans only."""
        keepers = self.township_ids(WRITE) | self.township_ids(APPROVE_LOAN)
        return query.filter(
            or_(Loan.township_id.in_(keepers or {0}), Loan.borrower_id == current_user.id)
        )

    def get_query(self):
        return self._own_only(super().get_query())

    def get_count_query(self):
        return self._own_only(super().get_count_query())

    def get_one(self, id):
        loan = super().get_one(id)
        keepers = self.township_ids(WRITE) | self.township_ids(APPROVE_LOAN)
        if loan.township_id not in keepers and loan.borrower_id != current_user.id:
            abort(404)
        return loan

    def _form(self, loan, title, fields, submit, handler):
        error = None
        if request.method == "POST":
            try:
                handler(loan)
            except services.ArchivesError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                record_audit(
                    "update",
                    "Loan",
                    loan.id,
                    township_id=loan.township_id,
                    after={"status": loan.status.value},
                )
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for(".details_view", id=loan.id), 303)
        return self.render(
            "archives/admin/form.html",
            title=title,
            subject=str(loan),
            fields=fields,
            submit=submit,
            error=error,
            back=url_for(".details_view", id=loan.id),
        ), (400 if error else 200)

    @expose("/decide/", methods=("GET", "POST"))
    def decide_view(self):
        loan = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, APPROVE_LOAN, loan.township_id):
            abort(403)
        fields = [
            {
                "name": "decision",
                "label": _("Decision"),
                "type": "select",
                "choices": [("approve", _("Approve")), ("refuse", _("Refuse"))],
            },
            {
                "name": "may_download",
                "label": _("Allow downloading the digital copies"),
                "type": "checkbox",
            },
            {"name": "note", "label": _("Decision note"), "type": "text"},
        ]
        return self._form(
            loan,
            _("Decide a borrowing request"),
            fields,
            _("Save"),
            lambda ln: services.decide_loan(
                ln,
                current_user,
                request.form.get("decision") == "approve",
                may_download=request.form.get("may_download") == "1",
                note=request.form.get("note", ""),
            ),
        )

    @expose("/lend/", methods=("GET", "POST"))
    def lend_view(self):
        loan = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, WRITE, loan.township_id):
            abort(403)
        return self._form(
            loan, _("Hand out"), [], _("Hand out now"), lambda ln: services.lend(ln, current_user)
        )

    @expose("/return/", methods=("GET", "POST"))
    def return_view(self):
        loan = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, WRITE, loan.township_id):
            abort(403)
        fields = [
            {
                "name": "condition",
                "label": _("Condition"),
                "type": "select",
                "choices": [(c.value, c.label) for c in ReturnCondition],
            },
            {"name": "note", "label": _("What is damaged or missing"), "type": "text"},
        ]

        def handler(ln):
            raw = request.form.get("condition", "")
            if raw not in {c.value for c in ReturnCondition}:
                raise services.ArchivesError(_("Choose the condition."))
            services.take_back(ln, current_user, ReturnCondition(raw), request.form.get("note", ""))

        return self._form(loan, _("Take back"), fields, _("Take back"), handler)

    @expose("/loss/", methods=("GET", "POST"))
    def loss_view(self):
        loan = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, WRITE, loan.township_id):
            abort(403)
        fields = [{"name": "account", "label": _("The custodian's account"), "type": "textarea"}]
        return self._form(
            loan,
            _("Register a loss"),
            fields,
            _("Register the loss"),
            lambda ln: services.report_loss(ln, current_user, request.form.get("account", "")),
        )


class LossView(TownshipModelView):
    """The loss register (遗失登记): the custodian's account and the follow-up."""

    permission_read = WRITE
    permission_write = WRITE
    allow_create = False
    allow_delete = False
    column_list = (
        "reported_at",
        "item",
        "reported_by",
        "custodian_account",
        "follow_up",
        "settled",
    )
    column_default_sort = ("reported_at", True)
    column_labels = {
        "reported_at": _l("Reported at"),
        "item": _l("Item"),
        "reported_by": _l("Reported by"),
        "custodian_account": _l("The custodian's account"),
        "follow_up": _l("Follow-up"),
        "settled": _l("Settled"),
        "add_follow_up": _l("Add to the follow-up"),
    }
    form_columns = ("settled",)

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.add_follow_up = TextAreaField(
            _l("Add to the follow-up"), validators=[DataRequired()]
        )
        form_class.settled = BooleanField(_l("Settled"))
        if hasattr(form_class, "township_id"):
            delattr(form_class, "township_id")
        return form_class

    def update_model(self, form, model):
        try:
            services.follow_up_loss(model, form.add_follow_up.data, form.settled.data, current_user)
        except services.ArchivesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        return True


# ---------------------------------------------------------------------------
# Scheme, boxes, volumes, settings
# ---------------------------------------------------------------------------


class ClassView(TownshipModelView):
    """The classification scheme (分类方案): a tree of classes with codes."""

    permission_read = WRITE
    permission_write = WRITE
    column_list = ("code", "name", "parent", "institution", "default_retention", "position")
    column_default_sort = ("code", False)
    column_formatters = {
        "institution": lambda v, c, m, n: (
            services.institution_label(m.institution) if m.institution else "–"
        ),
    }
    column_labels = {
        "code": _l("Class code"),
        "name": _l("Class name"),
        "parent": _l("Parent class"),
        "parent_id": _l("Parent class"),
        "institution": _l("Institution"),
        "default_retention": _l("Default retention"),
        "position": _l("Order"),
    }
    form_columns = ("code", "name", "parent_id", "default_retention", "position")

    def get_query(self):
        # one query finds the townships whose scheme lacks a class (new township, or an
        # institution installed since); only those are seeded
        wanted = {row[0] for row in services.default_scheme()}
        have: dict[int, set[str]] = {tid: set() for tid in self.township_ids(WRITE)}
        if have:
            for tid, code in db.session.execute(
                select(ArchiveClass.township_id, ArchiveClass.code).where(
                    ArchiveClass.township_id.in_(have)
                )
            ):
                have[tid].add(code)
        missing = [tid for tid, codes in have.items() if not wanted <= codes]
        for township_id in missing:
            services.ensure_scheme(township_id)
        if missing:
            db.session.commit()
        return super().get_query()

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.parent_id = SelectField(_l("Parent class"), validators=[Optional()])
        form_class.default_retention = _retention_field(_l("Default retention"), blank=False)
        return form_class

    def _offer_parents(self, form):
        form.parent_id.choices = _class_choices(self.township_ids(WRITE))
        return form

    def create_form(self, obj=None):
        return self._offer_parents(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._offer_parents(super().edit_form(obj))
        if obj is not None and request.method == "GET":
            form.parent_id.data = str(obj.parent_id or "")
        return form

    def on_model_change(self, form, model, is_created):
        model.parent_id = _int_or_none(form.parent_id.data)
        super().on_model_change(form, model, is_created)
        db.session.flush()
        try:
            services.check_class(model)
        except services.ArchivesError as exc:
            raise ValidationError(str(exc)) from exc
        if (
            not is_created
            and db.session.scalar(
                select(Item.id)
                .where(Item.class_id == model.id, Item.reference_code.is_not(None))
                .limit(1)
            )
            and model.code
            != db.session.scalar(
                select(ArchiveClass.code)
                .where(ArchiveClass.id == model.id)
                .execution_options(populate_existing=False)
            )
        ):
            raise ValidationError(_("Items were filed under this code; it cannot change."))

    def on_model_delete(self, model):
        if services.class_in_use(model.id):
            raise ValidationError(_("This class is in use and cannot be deleted."))
        super().on_model_delete(model)


def _box_links(view, context, model, name):
    return Markup('<a class="box-labels" href="{}">{}</a>').format(
        url_for("archives_boxes.labels_view", id=model.id), _("Labels")
    )


class BoxView(TownshipModelView):
    """Boxes (档案盒) and where they stand; moving a box moves its items."""

    permission_read = READ
    permission_write = WRITE
    allow_delete = False
    column_list = (
        "box_no",
        "room",
        "shelf",
        "year",
        "archive_class",
        "retention",
        "note",
        "labels",
    )
    column_default_sort = ("box_no", False)
    column_searchable_list = ("box_no", "room", "shelf")
    column_filters = ("room", "year", "retention")
    column_formatters = {"labels": _box_links}
    column_labels = {
        "box_no": _l("Box number"),
        "room": _l("Room"),
        "shelf": _l("Shelf"),
        "year": _l("Year"),
        "archive_class": _l("Class"),
        "class_id": _l("Class"),
        "retention": _l("Retention period"),
        "note": _l("Remarks"),
        "labels": _l("Labels"),
    }
    form_columns = ("box_no", "room", "shelf", "year", "class_id", "retention", "note")

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.class_id = SelectField(_l("Class"), validators=[Optional()])
        form_class.retention = _retention_field(blank=True)
        return form_class

    def _offer(self, form, obj=None):
        form.class_id.choices = _class_choices(self.township_ids(WRITE))
        if obj is not None and request.method == "GET":
            form.class_id.data = str(obj.class_id or "")
        return form

    def create_form(self, obj=None):
        return self._offer(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created):
        model.class_id = _int_or_none(form.class_id.data)
        super().on_model_change(form, model, is_created)
        if model.class_id is not None:
            try:
                services._class_of(model.township_id, model.class_id)
            except services.ArchivesError as exc:
                raise ValidationError(str(exc)) from exc
        if not is_created:
            from sqlalchemy import inspect as sa_inspect

            state = sa_inspect(model)
            room, shelf = state.attrs.room.history, state.attrs.shelf.history
            if room.has_changes() or shelf.has_changes():
                before = {
                    "room": room.deleted[0] if room.deleted else model.room,
                    "shelf": shelf.deleted[0] if shelf.deleted else model.shelf,
                }
                ids = db.session.scalars(select(Item.id).where(Item.box_id == model.id)).all()
                for item_id in ids:
                    db.session.add(
                        ItemEvent(
                            item_id=item_id,
                            township_id=model.township_id,
                            actor_id=current_user.id,
                            action="moved",
                            before=before,
                            after={"room": model.room, "shelf": model.shelf},
                            note=model.box_no,
                        )
                    )

    @expose("/labels/")
    def labels_view(self):
        """Printable box label and spine label (A4 sheet)."""
        box = self.get_one(str(request.values.get("id", type=int) or 0))
        items = db.session.scalars(
            select(Item).where(Item.box_id == box.id).order_by(Item.reference_code)
        ).all()
        settings = services.ensure_settings(box.township_id)
        township = db.session.get(OrgUnit, box.township_id)
        db.session.commit()
        codes = [i.reference_code for i in items if i.reference_code]
        return self.render(
            "archives/admin/labels.html",
            box=box,
            items=items,
            codes=codes,
            settings=settings,
            township=township,
        )


class VolumeView(TownshipModelView):
    """Files or volumes (卷), for townships that bind by volume."""

    permission_read = READ
    permission_write = WRITE
    allow_delete = False
    column_list = ("volume_code", "title", "year", "archive_class", "retention", "box")
    column_default_sort = ("volume_code", False)
    column_searchable_list = ("volume_code", "title")
    column_labels = {
        "volume_code": _l("Volume code"),
        "title": _l("Archival title"),
        "year": _l("Year"),
        "archive_class": _l("Class"),
        "class_id": _l("Class"),
        "retention": _l("Retention period"),
        "box": _l("Box"),
        "box_id": _l("Box"),
    }
    form_columns = ("title", "year", "class_id", "retention", "box_id")

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.class_id = SelectField(_l("Class"), validators=[DataRequired()])
        form_class.box_id = SelectField(_l("Box"), validators=[Optional()])
        form_class.retention = _retention_field(blank=False)
        return form_class

    def _offer(self, form, obj=None):
        ids = self.township_ids(WRITE)
        form.class_id.choices = _class_choices(ids, blank=False)
        boxes = db.session.scalars(select(Box).where(Box.township_id.in_(ids)).order_by(Box.box_no))
        form.box_id.choices = [SelectChoice("", "–")] + [
            SelectChoice(str(b.id), str(b)) for b in boxes
        ]
        if obj is not None and request.method == "GET":
            form.class_id.data = str(obj.class_id)
            form.box_id.data = str(obj.box_id or "")
        return form

    def create_form(self, obj=None):
        return self._offer(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created):
        model.class_id = _int_or_none(form.class_id.data)
        model.box_id = _int_or_none(form.box_id.data)
        super().on_model_change(form, model, is_created)
        try:
            archive_class = services._class_of(model.township_id, model.class_id or 0)
        except services.ArchivesError as exc:
            raise ValidationError(str(exc)) from exc
        box = model.box_id and db.session.get(Box, model.box_id)
        if box and box.township_id != model.township_id:
            raise ValidationError(_("The box belongs to another township."))
        if is_created:
            fonds = services.ensure_settings(model.township_id).fonds_code
            prefix = f"{fonds}-{model.year}-{model.retention.code}-{archive_class.code}-J"
            count = db.session.scalar(
                select(func.count(Volume.id)).where(
                    Volume.township_id == model.township_id, Volume.volume_code.like(prefix + "%")
                )
            )
            model.volume_code = f"{prefix}{(count or 0) + 1:03d}"


class SettingsView(TownshipModelView):
    """The archive's fonds code (全宗号) and whether the township binds by volume."""

    permission_read = WRITE
    permission_write = WRITE
    allow_create = False
    allow_delete = False
    can_view_details = False
    column_list = ("fonds_code", "bind_by_volume")
    column_labels = {"fonds_code": _l("Fonds code"), "bind_by_volume": _l("Binds by volume")}
    column_descriptions = {
        "fonds_code": _l("The first part of every reference code; fixed once items are filed."),
        "bind_by_volume": _l("Items are bound into volumes (卷) besides being filed one by one."),
    }
    form_columns = ("fonds_code", "bind_by_volume")
    form_args = {"fonds_code": {"validators": [DataRequired(), Length(max=16)]}}

    def get_query(self):
        wanted = self.township_ids(WRITE)
        have = (
            set(
                db.session.scalars(
                    select(Settings.township_id).where(Settings.township_id.in_(wanted))
                )
            )
            if wanted
            else set()
        )
        for township_id in wanted - have:
            services.ensure_settings(township_id)
        if wanted - have:
            db.session.commit()
        return super().get_query()

    def scaffold_form(self):
        form_class = super().scaffold_form()
        if hasattr(form_class, "township_id"):
            delattr(form_class, "township_id")
        return form_class

    def on_model_change(self, form, model, is_created):
        import re

        from sqlalchemy import inspect as sa_inspect

        super().on_model_change(form, model, is_created)
        if not re.fullmatch(r"[A-Za-z0-9]{1,16}", model.fonds_code or ""):
            raise ValidationError(_("A fonds code is 1 to 16 letters or digits."))
        if sa_inspect(model).attrs.fonds_code.history.has_changes() and db.session.scalar(
            select(Item.id)
            .where(Item.township_id == model.township_id, Item.reference_code.is_not(None))
            .limit(1)
        ):
            raise ValidationError(_("Items were filed under this fonds code; it cannot change."))


# ---------------------------------------------------------------------------
# Yearly filing, appraisal, destruction
# ---------------------------------------------------------------------------


class YearView(TownshipBaseView):
    """Yearly filing (年度立卷): what each year holds; close a finished year."""

    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        error = None
        if request.method == "POST":
            year = request.form.get("year", type=int)
            try:
                if year is None:
                    raise services.ArchivesError(_("Choose a year."))
                services.close_year(township.id, year, current_user)
            except services.ArchivesError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                flash(_("The year %(year)d is closed.", year=year), "success")
                return redirect(url_for(".index", township=township.id), 303)
        return self.render(
            "archives/admin/years.html",
            township=township,
            townships=township_choices(self.township_ids(WRITE)),
            years=services.year_overview(township.id),
            this_year=clock.today(township).year,
            error=error,
        ), (400 if error else 200)


class AppraisalView(TownshipBaseView):
    """Items past their retention period, for review: keep longer or propose destruction."""

    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        townships = self.township_ids(WRITE)
        error = None
        if request.method == "POST":
            item = db.session.get(Item, request.form.get("item", type=int) or 0)
            if item is None or item.township_id not in townships:
                abort(404)
            try:
                if request.form.get("decision") == "keep":
                    years = request.form.get("years", type=int)
                    if years is None:
                        raise services.ArchivesError(_("Say for how many years."))
                    services.keep_longer(item, years, request.form.get("reason", ""), current_user)
                else:
                    services.propose_destruction(item, request.form.get("reason", ""), current_user)
            except services.ArchivesError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for(".index"), 303)
        page = max(1, request.args.get("page", 1, type=int))
        query = services.due_for_appraisal(townships)
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(1, -(-total // PER_PAGE))
        page = min(page, pages)
        items = db.session.scalars(
            query.order_by(Item.retention_ends_on, Item.id)
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        ).all()
        return self.render(
            "archives/admin/appraisal.html",
            items=items,
            total=total,
            page=page,
            pages=pages,
            error=error,
        ), (400 if error else 200)


def _destruction_steps(view, context, model, name):
    tid = model.township_id
    links = []
    if model.status == DestructionStatus.proposed and can(current_user, APPROVE_DESTRUCTION, tid):
        links.append((url_for("archives_destructions.decide_view", id=model.id), _("Decide")))
    if model.status == DestructionStatus.approved and can(current_user, WRITE, tid):
        links.append(
            (
                url_for("archives_destructions.carry_out_view", id=model.id),
                _("Record the destruction"),
            )
        )
    return Markup(" ").join(
        Markup('<a class="btn btn-sm btn-outline-danger destruction-step" href="{}">{}</a>').format(
            u, t
        )
        for u, t in links
    )


class DestructionView(TownshipModelView):
    """Destructions: proposed, approved by a leader, carried out before witnesses (the
    destruction register)."""

    permission_read = WRITE
    allow_create = False
    allow_edit = False
    allow_delete = False
    column_list = ("item", "reason", "status", "decided_by", "witnesses", "destroyed_on", "steps")
    column_details_list = (
        "item",
        "reason",
        "status",
        "proposed_at",
        "decided_by",
        "decided_at",
        "witnesses",
        "destroyed_on",
        "steps",
    )
    column_default_sort = ("proposed_at", True)
    column_filters = ("status",)
    column_formatters = {"steps": _destruction_steps}
    column_formatters_detail = {"steps": _destruction_steps}
    column_labels = {
        "item": _l("Item"),
        "reason": _l("Appraisal reason"),
        "status": _l("Status"),
        "proposed_at": _l("Proposed at"),
        "decided_by": _l("Approved by"),
        "decided_at": _l("Decided at"),
        "witnesses": _l("Witnesses"),
        "destroyed_on": _l("Destroyed on"),
        "steps": _l("Next step"),
    }

    def township_ids(self, permission=None):
        """Archivists and the leaders who approve see the register."""
        ids = super().township_ids(permission)
        if permission == WRITE:
            ids |= super().township_ids(APPROVE_DESTRUCTION)
        return ids

    def _form(self, row, title, fields, submit, handler):
        error = None
        if request.method == "POST":
            try:
                handler(row)
            except services.ArchivesError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                record_audit(
                    "update",
                    "Destruction",
                    row.id,
                    township_id=row.township_id,
                    after={"status": row.status.value},
                )
                db.session.commit()
                flash(_("Saved."), "success")
                return redirect(url_for(".details_view", id=row.id), 303)
        return self.render(
            "archives/admin/form.html",
            title=title,
            subject=str(row.item),
            fields=fields,
            submit=submit,
            error=error,
            back=url_for(".details_view", id=row.id),
        ), (400 if error else 200)

    @expose("/decide/", methods=("GET", "POST"))
    def decide_view(self):
        row = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, APPROVE_DESTRUCTION, row.township_id):
            abort(403)
        fields = [
            {
                "name": "decision",
                "label": _("Decision"),
                "type": "select",
                "choices": [
                    ("approve", _("Approve the destruction")),
                    ("refuse", _("Refuse: keep the item")),
                ],
            }
        ]
        return self._form(
            row,
            _("Decide a destruction"),
            fields,
            _("Save"),
            lambda r: services.decide_destruction(
                r, current_user, request.form.get("decision") == "approve"
            ),
        )

    @expose("/carry_out/", methods=("GET", "POST"))
    def carry_out_view(self):
        row = self.get_one(str(request.values.get("id", type=int) or 0))
        if not can(current_user, WRITE, row.township_id):
            abort(403)
        fields = [
            {"name": "witnesses", "label": _("Witnesses (at least two names)"), "type": "text"},
            {
                "name": "on",
                "label": _("Destroyed on"),
                "type": "date",
                "value": clock.today(row.township_id).isoformat(),
            },
        ]

        def handler(r):
            try:
                on = date.fromisoformat(request.form.get("on", ""))
            except ValueError as exc:
                raise services.ArchivesError(_("Give the date as YYYY-MM-DD.")) from exc
            services.carry_out_destruction(r, current_user, request.form.get("witnesses", ""), on)

        return self._form(row, _("Record the destruction"), fields, _("Save"), handler)


class ViewLogView(TownshipModelView):
    """Who read which digital copy on screen, and who downloaded one."""

    permission_read = WRITE
    allow_create = False
    allow_edit = False
    allow_delete = False
    can_view_details = False
    column_list = ("at", "user", "attachment_id", "loan_id", "downloaded")
    column_default_sort = ("at", True)
    column_labels = {
        "at": _l("When"),
        "user": _l("Reader"),
        "attachment_id": _l("Digital copy no."),
        "loan_id": _l("Loan no."),
        "downloaded": _l("Downloaded"),
    }


def admin_views() -> list:
    """The views, in menu order, with their explicit ``archives_`` endpoints."""
    return [
        InboxView(Item, name=_l("Filing inbox"), endpoint="archives_inbox"),
        PaperView(name=_l("Register a paper document"), endpoint="archives_paper"),
        CatalogueView(name=_l("Catalogue"), endpoint="archives_catalogue"),
        LoanView(Loan, name=_l("Borrowing"), endpoint="archives_loans"),
        LossView(Loss, name=_l("Loss register"), endpoint="archives_losses"),
        BoxView(Box, name=_l("Boxes and locations"), endpoint="archives_boxes"),
        VolumeView(Volume, name=_l("Volumes"), endpoint="archives_volumes"),
        ClassView(ArchiveClass, name=_l("Classification scheme"), endpoint="archives_classes"),
        YearView(name=_l("Yearly filing"), endpoint="archives_years"),
        AppraisalView(name=_l("Appraisal"), endpoint="archives_appraisal"),
        DestructionView(
            Destruction, name=_l("Destruction register"), endpoint="archives_destructions"
        ),
        ViewLogView(ViewLog, name=_l("Reading log"), endpoint="archives_views"),
        SettingsView(Settings, name=_l("Archive settings"), endpoint="archives_settings"),
    ]
