"""Staff views of the badge institution: cards, the numbering scheme, printing badges.

Permissions: ``badges.read`` to see the cards (leaders, clerks, administrators, the
badge officer); ``badges.write`` to issue and change cards, photos, consent and the
numbering scheme (the badge officer and the township administrator).
"""

from __future__ import annotations

import base64

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import ValidationError

from admin.audit import record_audit, snapshot
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core.db import db
from core.links import public_url
from core.models import OrgUnit
from core.receipts import qr_svg
from plugins.badges import services
from plugins.badges.models import BadgeCard, BadgeNumbering

READ = services.READ
WRITE = services.WRITE


def _photo(view, context, model, name):
    if model.photo_id is None:
        return _("No photo")
    if model.photo_consent:
        return _("Photo, shown publicly")
    return _("Photo, not shown publicly (no consent)")


def _name(view, context, model, name):
    return model.name


class CardView(TownshipModelView):
    """Staff cards (工作证): a list, and one page to issue or change a card with its photo."""

    permission_read = READ
    permission_write = WRITE
    allow_delete = False
    column_list = (
        "staff_number",
        "user",
        "post",
        "department",
        "office_phone",
        "photo_id",
        "active",
    )
    column_details_list = (
        "staff_number",
        "user",
        "post",
        "department",
        "office_phone",
        "photo_id",
        "photo_consent",
        "consent_recorded_at",
        "consent_recorded_by",
        "active",
        "created_at",
        "updated_at",
    )
    column_searchable_list = ("staff_number", "post")
    column_filters = ("active", "photo_consent")
    column_default_sort = ("staff_number", False)
    column_formatters = {"photo_id": _photo, "user": _name}
    column_formatters_detail = {"photo_id": _photo, "user": _name}
    column_labels = {
        "staff_number": _l("Staff number"),
        "user": _l("Staff member"),
        "post": _l("Post"),
        "department": _l("Department worked in"),
        "office_phone": _l("Office phone"),
        "photo_id": _l("Photo"),
        "photo_consent": _l("Consent to show the photo publicly"),
        "consent_recorded_at": _l("Consent recorded at"),
        "consent_recorded_by": _l("Consent recorded by"),
        "active": _l("On duty (shown publicly)"),
        "created_at": _l("Created at"),
        "updated_at": _l("Updated at"),
    }

    def _form_page(self, card: BadgeCard | None):
        writable = self.writable_township_ids()
        if not writable:
            abort(403)
        if card is not None and card.township_id not in writable:
            abort(403)
        townships = township_choices(writable)
        chosen = card.township_id if card else request.values.get("township", type=int)
        if chosen not in writable:
            chosen = townships[0][0]
        township = db.session.get(OrgUnit, chosen)
        problems: list[str] = []
        values = dict(request.form) if request.method == "POST" else {}
        status = 200
        if request.method == "POST":
            problems = self._save(township, card)
            if not problems:
                return redirect(request.args.get("url") or url_for(".index_view"), 303)
            status = 400
        if card is not None and not values:
            values = {
                "user_id": str(card.user_id),
                "post": card.post,
                "department_id": str(card.department_id or ""),
                "office_phone": card.office_phone,
                "staff_number": card.staff_number,
                "active": "1" if card.active else "",
                "consent": "1" if card.photo_consent else "",
            }
        elif not values:
            values = {"active": "1"}
        scheme = services.ensure_numbering(township)
        next_number = scheme.format(scheme.next_number)
        db.session.commit()
        return self.render(
            "badges/admin/card_form.html",
            card=card,
            township=township,
            townships=townships,
            staff=services.township_staff(township.id),
            departments=services.departments(township.id),
            values=values,
            problems=problems,
            next_number=next_number,
            max_kb=services.MAX_PHOTO_BYTES // 1024,
        ), status

    def _save(self, township: OrgUnit, card: BadgeCard | None) -> list[str]:
        """Card, photo and consent in one transaction: all saved, or nothing."""
        form = request.form
        before = snapshot(card) if card is not None else None
        consent_was = card.photo_consent if card is not None else False
        try:
            saved = services.save_card(
                township,
                services.CardInput(
                    user_id=form.get("user_id", type=int),
                    post=form.get("post", ""),
                    department_id=form.get("department_id", type=int),
                    office_phone=form.get("office_phone", ""),
                    staff_number=form.get("staff_number", ""),
                    active=bool(form.get("active")),
                ),
                card,
            )
            upload = request.files.get("photo")
            if upload is not None and upload.filename:
                services.set_photo(saved, upload.read(services.MAX_PHOTO_BYTES + 1), current_user)
            consent = bool(form.get("consent"))
            if consent != consent_was or (card is None and consent):
                services.record_consent(saved, consent, current_user)
        except services.BadgeError as exc:
            db.session.rollback()
            return exc.problems
        db.session.flush()
        record_audit(
            "create" if card is None else "update",
            "BadgeCard",
            saved.id,
            township_id=township.id,
            before=before,
            after=snapshot(saved),
        )
        db.session.commit()
        flash(
            _("Card %(number)s of %(name)s saved.", number=saved.staff_number, name=saved.name),
            "success",
        )
        return []

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            abort(403)
        return self._form_page(None)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        card = self.get_one(str(request.args.get("id", type=int) or 0))
        if not self.can_edit:
            abort(403)
        return self._form_page(card)


class NumberingView(TownshipModelView):
    """Each township's numbering scheme for staff numbers."""

    permission_read = READ
    permission_write = WRITE
    allow_create = False
    allow_delete = False
    column_list = ("township", "prefix", "width", "next_number")
    form_columns = ("prefix", "width", "next_number")
    column_labels = {
        "township": _l("Township"),
        "prefix": _l("Prefix"),
        "width": _l("Digits"),
        "next_number": _l("Next number"),
        "updated_at": _l("Updated at"),
    }
    column_descriptions = {
        "prefix": _l("Capital letters, digits and dashes, e.g. DF-: numbers read DF-001, DF-002 …"),
        "width": _l("How many digits the number has (zeros in front)."),
        "next_number": _l("The number the next new card gets."),
    }

    def get_query(self):
        for township_id in self.writable_township_ids():
            services.ensure_numbering(db.session.get(OrgUnit, township_id))
        db.session.commit()
        return super().get_query()

    def on_model_change(self, form, model, is_created):
        model.prefix = (model.prefix or "").strip().upper()
        problems = services.check_numbering(model.prefix, model.width, model.next_number)
        if problems:
            raise ValidationError("; ".join(problems))
        super().on_model_change(form, model, is_created)


class PrintView(TownshipBaseView):
    """Choose cards and print their badges: card size, ten to an A4 sheet, with a QR code."""

    permission_read = WRITE

    @expose("/")
    def index(self):
        township = self.chosen_township()
        cards = services.cards_for_print(township.id, None)
        return self.render(
            "badges/admin/print.html",
            township=township,
            townships=township_choices(self.township_ids(self.permission_read)),
            cards=cards,
        )

    @expose("/sheet")
    def sheet(self):
        """The printable A4 sheet (its own page, no admin frame)."""
        township = self.chosen_township()
        ids = [int(i) for i in request.args.getlist("card") if i.isascii() and i.isdigit()]
        cards = services.cards_for_print(township.id, ids or None)
        photos = services.photos_by_id([c.photo_id for c in cards if c.photo_id])
        badges = []
        for card in cards:
            url = public_url(
                url_for("badges.staff", township=township.code, number=card.staff_number)
            )
            photo = photos.get(card.photo_id)
            badges.append(
                {
                    "card": card,
                    "qr": qr_svg(url, scale=2),
                    "url": url,
                    "photo": (
                        Markup("data:{};base64,{}").format(
                            photo.content_type, base64.b64encode(photo.data).decode("ascii")
                        )
                        if photo
                        else None
                    ),
                }
            )
        per_sheet = 10
        sheets = [badges[i : i + per_sheet] for i in range(0, len(badges), per_sheet)]
        return self.render("badges/admin/sheet.html", township=township, sheets=sheets)


def admin_views():
    return [
        CardView(BadgeCard, name=_l("Staff cards"), endpoint="badges_cards"),
        PrintView(name=_l("Print badges"), endpoint="badges_print"),
        NumberingView(BadgeNumbering, name=_l("Numbering scheme"), endpoint="badges_numbering"),
    ]
