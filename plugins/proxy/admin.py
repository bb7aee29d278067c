"""Admin views of proxy handling (办事代理): the proxy records with every step on one
page, taking a case over, the printable material receipt (收件凭证) and the monthly
report per staff member.

Permissions: ``proxy.read`` reads; ``proxy.write`` takes matters over and records
steps; ``proxy.sign_off`` (leaders) signs records off.
"""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import can, users_with
from core.db import db
from core.models import Case, OrgUnit
from core.receipts import lookup_url, qr_svg
from plugins.proxy import services
from plugins.proxy.models import (
    AckKind,
    MaterialFate,
    ProxyDelivery,
    ProxyMaterial,
    ProxyReason,
    ProxyRecord,
    ProxyTransfer,
)
from plugins.proxy.services import ProxyError

READ = "proxy.read"
WRITE = "proxy.write"
SIGN_OFF = "proxy.sign_off"


def _day(name: str, required: bool = False) -> date | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        if required:
            raise ProxyError(_("Give the date as YYYY-MM-DD."))
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ProxyError(_("Give the date as YYYY-MM-DD.")) from exc


def _receipt_link(view, context, model, name):
    return Markup('<a href="{}">{}</a>').format(
        url_for(".details_view", id=model.id), model.case.receipt_no
    )


class RecordView(TownshipModelView):
    """Proxy records (代办单); every step is a small form on the record's page."""

    plugin_key = "proxy"
    permission_read = READ
    permission_write = WRITE
    allow_create = allow_edit = allow_delete = False
    column_list = ("case", "title", "taken_by", "reason", "status", "promised_on", "delivered_on")
    column_labels = {
        "case": _l("Receipt number"),
        "title": _l("Matter"),
        "taken_by": _l("Taken over by"),
        "reason": _l("Reason for proxy service"),
        "status": _l("Status"),
        "promised_on": _l("Promised delivery"),
        "delivered_on": _l("Delivered on"),
    }
    column_formatters = {"case": _receipt_link, "title": lambda v, c, m, n: m.case.title}
    column_filters = ("status", "reason", "promised_on")
    column_default_sort = ("promised_on", False)

    def _record(self, record_id) -> ProxyRecord:
        return self.get_one(str(record_id))

    @expose("/details/")
    def details_view(self):
        return self._details(self._record(request.args.get("id", "")))

    def _details(self, record: ProxyRecord, error: str | None = None):
        township_id = record.township_id
        return self.render(
            "proxy/admin/details.html",
            record=record,
            error=error,
            may_write=can(current_user, WRITE, township_id),
            may_sign=can(current_user, SIGN_OFF, township_id),
            fates=MaterialFate,
            ack_kinds=AckKind,
            steps=services.public_steps(record),
            today=clock.today(township_id),
        )

    def _act(self, record_id: int, work):
        record = self._record(record_id)
        try:
            work(record)
        except ProxyError as exc:
            db.session.rollback()
            return self._details(self._record(record_id), str(exc)), 400
        flash(_("Saved."), "success")
        return redirect(url_for(".details_view", id=record.id), 303)

    def _me(self):
        return current_user._get_current_object()

    @expose("/<int:record_id>/material/<int:material_id>", methods=("POST",))
    def material(self, record_id, material_id):
        def work(record):
            item = db.session.get(ProxyMaterial, material_id)
            if item is None or item.record_id != record.id:
                abort(404)
            services.set_material_fate(item, request.form.get("fate", ""), self._me(), _day("on"))

        return self._act(record_id, work)

    @expose("/<int:record_id>/send", methods=("POST",))
    def send(self, record_id):
        return self._act(
            record_id,
            lambda record: services.send_on(
                record,
                office=request.form.get("office", ""),
                by=self._me(),
                sent_on=_day("sent_on"),
                expected_on=_day("expected_on", required=True),
            ),
        )

    @expose("/<int:record_id>/back/<int:transfer_id>", methods=("POST",))
    def back(self, record_id, transfer_id):
        def work(record):
            transfer = db.session.get(ProxyTransfer, transfer_id)
            if transfer is None or transfer.record_id != record.id:
                abort(404)
            services.came_back(
                transfer,
                by=self._me(),
                back_on=_day("back_on"),
                result=request.form.get("result", ""),
            )

        return self._act(record_id, work)

    @expose("/<int:record_id>/note", methods=("POST",))
    def note(self, record_id):
        return self._act(
            record_id,
            lambda record: services.add_note(
                record, text=request.form.get("text", ""), by=self._me(), on=_day("on")
            ),
        )

    @expose("/<int:record_id>/deliver", methods=("POST",))
    def deliver(self, record_id):
        def work(record):
            upload = request.files.get("ack")
            data = upload.read(services.ACK_MAX_BYTES + 1) if upload else None
            services.deliver(
                record,
                by=self._me(),
                what=request.form.get("what", ""),
                ack_kind=request.form.get("ack_kind", ""),
                data=data,
                mime=upload.mimetype if upload else None,
                delivered_on=_day("delivered_on"),
            )

        return self._act(record_id, work)

    @expose("/<int:record_id>/sign-off", methods=("POST",))
    def sign_off(self, record_id):
        return self._act(
            record_id,
            lambda record: services.sign_off(
                record, leader=self._me(), note=request.form.get("note", "")
            ),
        )

    @expose("/<int:record_id>/ack")
    def ack(self, record_id):
        record = self._record(record_id)
        delivery = db.session.scalar(
            select(ProxyDelivery).where(ProxyDelivery.record_id == record.id)
        )
        if delivery is None:
            abort(404)
        return Response(
            delivery.ack_image,
            mimetype=delivery.ack_mime,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"},
        )

    @expose("/<int:record_id>/receipt")
    def receipt(self, record_id):
        """The material receipt (收件凭证), A5: what the citizen handed over."""
        record = self._record(record_id)
        url = lookup_url(record.case.receipt_no)
        return self.render(
            "proxy/admin/material_receipt.html", record=record, qr=qr_svg(url), lookup=url
        )


class TakeOverView(TownshipBaseView):
    """Take a case over as a proxy record: find it by receipt number, list the materials."""

    plugin_key = "proxy"
    permission_read = WRITE

    @expose("/", methods=("GET", "POST"))
    def index(self):
        township = self.chosen_township(WRITE)
        receipt = (request.values.get("receipt") or "").strip().upper()
        case = None
        error = None
        if receipt:
            case = db.session.scalar(
                select(Case).where(Case.receipt_no == receipt, Case.township_id == township.id)
            )
            if case is None:
                error = _("No case of this township has this receipt number.")
        leaders = users_with(SIGN_OFF, township.id)
        if request.method == "POST" and case is not None:
            leader = next(
                (u for u in leaders if u.id == request.form.get("leader_id", type=int)), None
            )
            try:
                if leader is None:
                    raise ProxyError(_("Choose the supervising leader."))
                record = services.take_over(
                    case,
                    staff=current_user._get_current_object(),
                    leader=leader,
                    reason=request.form.get("reason", ""),
                    materials=services.parse_materials(request.form.get("materials", "")),
                    promised_on=_day("promised_on"),
                )
            except ProxyError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                flash(
                    _("Proxy record opened; print the material receipt for the citizen."), "success"
                )
                return redirect(url_for("proxy_records.details_view", id=record.id), 303)
        return (
            self.render(
                "proxy/admin/take.html",
                township=township,
                townships=township_choices(self.township_ids(WRITE)),
                receipt=receipt,
                case=case,
                leaders=leaders,
                reasons=ProxyReason,
                error=error,
                form=request.form,
            ),
            400 if error else 200,
        )


class ReportView(TownshipBaseView):
    """Proxy records per staff member and month: delivered on time or not."""

    plugin_key = "proxy"
    permission_read = READ

    @expose("/")
    def index(self):
        township = self.chosen_township(READ)
        raw = request.args.get("month", "")
        if raw:
            try:
                year, month = (int(p) for p in raw.split("-"))
                date(year, month, 1)
            except ValueError:
                abort(400, _("Give the month as YYYY-MM."))
        else:
            today = clock.today(township)
            year, month = today.year, today.month
        return self.render(
            "proxy/admin/report.html",
            township=township,
            townships=township_choices(self.township_ids(READ)),
            rows=services.staff_month_report(township.id, year, month),
            month_value=f"{year:04d}-{month:02d}",
        )


def admin_views() -> list:
    from core.contract import AdminView

    return [
        AdminView(RecordView(ProxyRecord, name=_l("Proxy records"), endpoint="proxy_records")),
        AdminView(TakeOverView(name=_l("Take a matter over"), endpoint="proxy_take")),
        AdminView(ReportView(name=_l("Monthly report"), endpoint="proxy_report")),
    ]


def county_dashboard_figures(townships: list[OrgUnit]) -> dict[int, list]:
    """Each township's records in hand and how many are past the promised day (one query)."""
    from core.contract import DashboardFigure

    counts = services.open_counts(townships)
    link = url_for("proxy_records.index_view")
    figures: dict[int, list] = {}
    for township in townships:
        open_count, late = counts[township.id]
        figures[township.id] = [
            DashboardFigure(
                label=_("Proxy: records in hand (past the promised day: %(n)s)", n=late),
                value=open_count,
                link=link,
                level="danger" if late else "info",
            )
        ]
    return figures
