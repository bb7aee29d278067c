"""Staff views of the release institution, in its own admin menu.

Permissions: ``releases.write`` (role ``releases_officer``) to collect, build,
disclose, answer and tick off channels; ``releases.approve`` (leaders by default)
to approve or send back with a reason; ``institutions.manage`` (township
administrators) to edit the plan.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms import SelectField, SelectMultipleField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from admin.audit import record_audit, register_audit_words
from admin.views import TownshipBaseView, TownshipModelView, township_choices
from core import clock
from core.access import township_ids_with
from core.db import db
from core.labels import code_label
from core.models import Case
from core.validation import EndAfter
from plugins.releases import services
from plugins.releases.models import (
    ArchiveEntry,
    BatchStatus,
    ChecklistEntry,
    CollectedItem,
    Disclosure,
    DisclosureCategory,
    DisclosureStage,
    Product,
    ProductStatus,
    ReleaseBatch,
    ReleaseChannel,
    SourceChannel,
    TopicRequest,
    TopicStatus,
)

register_audit_words(
    {
        "Product": _l("Information product"),
        "TopicRequest": _l("Topic request"),
        "ReleasePlan": _l("Release plan"),
        "CollectedItem": _l("Collected item"),
        "Disclosure": _l("Disclosure"),
        "DisclosureCategory": _l("Disclosure category"),
    }
)

WRITE = services.WRITE
APPROVE = services.APPROVE
PLAN = services.PLAN


class ReadOnlyMixin:
    """A list and details view only (the archive, the batches)."""

    allow_create = False
    allow_edit = False
    allow_delete = False


def _writable(permission: str = WRITE) -> list[int]:
    """Townships where the signed-in user may write here (and the plugin is enabled)."""
    from admin.views import enabling_townships

    return sorted(township_ids_with(current_user, permission) & enabling_townships(services.KEY))


def _lateness(view, context, model, name) -> str:
    seconds = model.lateness_seconds
    if seconds is None:
        return ""
    if seconds < 60:
        return _("on time")
    hours, minutes = divmod(seconds // 60, 60)
    return _("%(h)d h %(m)d min late", h=hours, m=minutes)


def _channels(view, context, model, name) -> str:
    return "、".join(code_label("releases.channel", c) for c in model.channels or [])


def _enum_select(label, enum_cls, default) -> SelectField:
    """A select over a labelled enum with SelectChoice options (WTForms 3.3 deprecates tuples)."""
    return SelectField(
        label,
        coerce=enum_cls,
        choices=lambda: [SelectChoice(member.value, member.label) for member in enum_cls],
        default=default,
    )


def _source(view, context, model, name) -> str:
    return model.source.label


def _product_status(view, context, model, name) -> str:
    return model.status.label


class ItemView(TownshipModelView):
    """Collected items (信息采集): source channel, category, how long they stay useful."""

    column_formatters = {"source": _source}

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.source = _enum_select(
            _l("Source channel"), SourceChannel, SourceChannel.internet
        )
        return form_class

    permission_write = WRITE
    column_list = ("title", "source", "category", "useful_until", "collected_on")
    column_filters = ("source", "category", "useful_until")
    column_searchable_list = ("title", "category")
    column_default_sort = ("collected_on", True)
    form_columns = (
        "title",
        "source",
        "source_detail",
        "category",
        "useful_until",
        "collected_on",
        "body",
    )
    form_args = {
        "collected_on": {"default": lambda: clock.today()},
        "useful_until": {"validators": [EndAfter("collected_on")]},
    }
    column_labels = {
        "title": _l("Title"),
        "source": _l("Source channel"),
        "source_detail": _l("Source (name, link)"),
        "category": _l("Category"),
        "useful_until": _l("Useful until"),
        "collected_on": _l("Collected on"),
        "body": _l("Content"),
    }


class ProductView(TownshipModelView):
    """Information products; officers submit, leaders approve, published ones can be withdrawn."""

    permission_write = WRITE
    column_list = ("title", "audience", "status", "approved_by", "approved_at", "published_at")
    column_filters = ("status",)
    column_searchable_list = ("title", "audience")
    column_default_sort = ("id", True)
    form_columns = ("title", "audience", "body")
    column_labels = {
        "title": _l("Title"),
        "audience": _l("Audience"),
        "status": _l("Status"),
        "approved_by": _l("Approved by"),
        "approved_at": _l("Approved at"),
        "published_at": _l("Published at"),
        "body": _l("Content (rich text)"),
        "items": _l("Collected items"),
    }
    column_descriptions = {"body": _l("Scripts and styles are removed before publication.")}

    def get_query(self):
        return super().get_query().options(joinedload(Product.approved_by))

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.item_ids = SelectMultipleField(_l("Collected items"), coerce=int)
        return form_class

    def _offer_items(self, form, obj=None):
        """The writable townships' items that are still useful (latest 300), one query."""
        rows = db.session.execute(
            select(CollectedItem.id, CollectedItem.title, CollectedItem.category)
            .where(CollectedItem.township_id.in_(_writable()))
            .order_by(CollectedItem.collected_on.desc(), CollectedItem.id.desc())
            .limit(300)
        )
        form.item_ids.choices = [SelectChoice(str(r.id), f"{r.title} ({r.category})") for r in rows]
        if obj is not None and request.method == "GET":
            form.item_ids.data = [item.id for item in obj.items]
        return form

    def create_form(self, obj=None):
        return self._offer_items(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._offer_items(super().edit_form(obj), obj)

    def on_model_change(self, form, model, is_created):
        if not is_created and model.status not in (ProductStatus.draft, ProductStatus.submitted):
            raise ValidationError(
                _("Only a draft or submitted product can be edited; send it back first.")
            )
        if is_created:
            model.status = ProductStatus.draft
        model.body = services.sanitize_html(model.body)
        chosen = list(form.item_ids.data or [])
        model.items = (
            list(db.session.scalars(select(CollectedItem).where(CollectedItem.id.in_(chosen))))
            if chosen
            else []
        )
        super().on_model_change(form, model, is_created)
        if any(item.township_id != model.township_id for item in model.items):
            raise ValidationError(_("Items must belong to the product's township."))

    def on_model_delete(self, model):
        if model.status != ProductStatus.draft:
            raise ValidationError(_("Only a draft can be deleted; withdraw a published product."))
        super().on_model_delete(model)

    def _selected(self, ids) -> list[Product]:
        allowed = self.township_ids(self.permission_read)
        wanted = [int(i) for i in ids if str(i).isascii() and str(i).isdigit()]
        rows = db.session.scalars(
            select(Product).where(Product.id.in_(wanted)).order_by(Product.id)
        )
        return [p for p in rows if p.township_id in allowed]

    @staticmethod
    def _trail(product: Product, action_code: str, after: dict) -> None:
        record_audit(
            action_code,
            "Product",
            product.id,
            township_id=product.township_id,
            after={"status": product.status.value, **after},
        )

    def _run(self, ids, service, done_message: str, *, needs: tuple[str, ...], code: str) -> None:
        """Run ``service`` on each selected product the user may act on *in that product's
        township* (``needs``: any of these permissions); the others are refused by name."""
        done, refused = 0, []
        writable = {perm: set(_writable(perm)) for perm in needs}
        for product in self._selected(ids):
            if not any(product.township_id in writable[perm] for perm in needs):
                refused.append(
                    _("%(title)s: you may not do this in its township.", title=product.title)
                )
                continue
            try:
                service(product)
            except services.ReleaseError as exc:
                db.session.rollback()
                refused.append(f"{product.title}: {exc}")
            else:
                self._trail(product, code, {})
                db.session.commit()
                done += 1
        if done:
            flash(done_message % {"count": done}, "success")
        for message in refused:
            flash(message, "danger")

    @action("submit", _l("Submit for approval"))
    def action_submit(self, ids):
        me = current_user._get_current_object()
        self._run(
            ids,
            lambda p: services.submit_product(p, by=me),
            _("%(count)d product(s) submitted."),
            needs=(WRITE,),
            code="submit",
        )

    @action("approve", _l("Approve (leaders)"), _l("Approve the selected products?"))
    def action_approve(self, ids):
        self._run(
            ids,
            lambda p: services.approve_product(p, current_user),
            _("%(count)d product(s) approved; they go out with the next release."),
            needs=(APPROVE,),
            code="approve",
        )

    @action("send_back", _l("Send back to draft"))
    def action_send_back(self, ids):
        """Asks for the reason first (one page for all the selected products)."""
        chosen = [str(p.id) for p in self._selected(ids)]
        return redirect(url_for(".send_back_view", id=chosen))

    @expose("/send-back/", methods=("GET", "POST"))
    def send_back_view(self):
        """Send the chosen products back to draft with one reason, checked per row."""
        products = self._selected(request.values.getlist("id"))
        if not products:
            abort(404)
        reason = (request.form.get("reason") or "").strip()
        error = None
        if request.method == "POST":
            if not reason:
                error = _("Say why the product goes back, so the officer can correct it.")
            else:
                me = current_user._get_current_object()
                self._run(
                    [p.id for p in products],
                    lambda p: services.return_product(p, reason, by=me),
                    _("%(count)d product(s) sent back."),
                    needs=(WRITE, APPROVE),
                    code="send_back",
                )
                return redirect(url_for(".index_view"), 303)
        return self.render(
            "releases/admin/send_back.html", products=products, reason=reason, error=error
        ), (400 if error else 200)

    @expose("/details/")
    def details_view(self):
        """The product as the public will see it, with the decision for a leader."""
        from markupsafe import Markup as _Markup

        from admin.audit import object_trail

        product = self.get_one(request.args.get("id", ""))
        return self._details(product, _Markup, object_trail)

    def _details(self, product, markup, object_trail, *, error=None, reason=None, status=200):
        tid = product.township_id
        return self.render(
            "releases/admin/product.html",
            product=product,
            body=markup(services.sanitize_html(product.body)),
            may_approve=tid in _writable(APPROVE),
            may_write=tid in _writable(),
            may_edit=tid in _writable()
            and product.status in (ProductStatus.draft, ProductStatus.submitted),
            trail=object_trail("Product", product.id),
            return_url=url_for(".index_view"),
            error=error,
            reason=reason,
        ), status

    @expose("/decide/", methods=("POST",))
    def decide_view(self):
        """Approve, send back with a reason, or submit: from the product's own page."""
        from markupsafe import Markup as _Markup

        from admin.audit import object_trail

        product = self.get_one(request.values.get("id", ""))
        decision = request.form.get("decision")
        reason = (request.form.get("reason") or "").strip()
        me = current_user._get_current_object()
        permission = {"approve": APPROVE, "send_back": APPROVE, "submit": WRITE}.get(decision)
        if permission is None:
            abort(400)
        if product.township_id not in _writable(permission):
            abort(403)
        try:
            if decision == "approve":
                services.approve_product(product, me)
                message = _("“%(title)s” is approved; it goes out with the next release.")
            elif decision == "send_back":
                services.return_product(product, reason, by=me)
                message = _("“%(title)s” is sent back to the officers.")
            else:
                services.submit_product(product, by=me)
                message = _("“%(title)s” is submitted for approval.")
        except services.ReleaseError as exc:
            db.session.rollback()
            return self._details(
                product, _Markup, object_trail, error=str(exc), reason=reason, status=400
            )
        self._trail(product, decision, {"reason": reason} if reason else {})
        db.session.commit()
        flash(message % {"title": product.title}, "success")
        return redirect(url_for(".details_view", id=product.id), 303)

    @expose("/withdraw/", methods=("GET", "POST"))
    def withdraw_view(self):
        """Withdraw a published product with a reason (it stays in the archive)."""
        product = self.get_one(str(request.values.get("id", type=int) or 0))
        if product.township_id not in _writable():
            abort(403)
        error = None
        if request.method == "POST":
            try:
                services.withdraw_product(product, request.form.get("reason", ""), current_user)
            except services.ReleaseError as exc:
                error = str(exc)
            else:
                record_audit(
                    "withdraw",
                    "Product",
                    product.id,
                    township_id=product.township_id,
                    after={"status": "withdrawn", "reason": product.withdrawn_reason},
                )
                db.session.commit()
                flash(_("“%(title)s” was withdrawn.", title=product.title), "success")
                return redirect(url_for(".index_view"), 303)
        return self.render("releases/admin/withdraw.html", product=product, error=error), (
            400 if error else 200
        )

    def _list_link(self, context, model, name):
        details = url_for(".details_view", id=model.id)
        title = Markup('<a href="{}">{}</a>').format(details, model.title)
        if model.status == ProductStatus.published:
            url = url_for(".withdraw_view", id=model.id)
            return Markup('{} <a class="small" href="{}">{}</a>').format(title, url, _("Withdraw"))
        return title

    column_formatters = {"title": _list_link, "status": _product_status}


class CategoryView(TownshipModelView):
    """Categories of the disclosure board: the rule book's and the township's own."""

    permission_write = WRITE
    column_list = ("name", "builtin", "position")
    form_columns = ("name", "position")
    column_default_sort = ("position", False)
    column_labels = {
        "name": _l("Category name"),
        "builtin": _l("Rule book code"),
        "position": _l("Order"),
    }

    def get_query(self):
        for township_id in _writable():
            services.ensure_categories(township_id)
        if db.session.new:  # a commit only when a category was missing (lists stay lean)
            db.session.commit()
        return super().get_query()

    def on_model_delete(self, model):
        if model.builtin:
            raise ValidationError(_("The rule book's categories cannot be deleted."))
        used = db.session.scalar(
            select(Disclosure.id).where(Disclosure.category_id == model.id).limit(1)
        )
        if used:
            raise ValidationError(_("This category is in use."))
        super().on_model_delete(model)


REQUIRED_TEXT = (
    "title",
    "policy",
    "conditions",
    "procedure",
    "time_limit",
    "result",
    "fee",
    "person_in_charge",
    "liability",
)


class DisclosureView(TownshipModelView):
    """The disclosure board (公开栏): every field the rule book requires, enforced."""

    permission_write = WRITE
    column_list = ("title", "category", "stage", "person_in_charge", "updated_at")
    column_filters = ("stage",)
    column_searchable_list = ("title",)
    column_default_sort = ("updated_at", True)
    form_columns = ("title", "stage", *REQUIRED_TEXT[1:])
    column_labels = {
        "category": _l("Category"),
        "category_id": _l("Category"),
        "title": _l("Matter"),
        "stage": _l("Stage"),
        "policy": _l("Policy"),
        "conditions": _l("Conditions"),
        "procedure": _l("Procedure"),
        "time_limit": _l("Time limit"),
        "result": _l("Result"),
        "fee": _l("Fee"),
        "person_in_charge": _l("Person in charge"),
        "liability": _l("Liability for breaking the promise"),
        "updated_at": _l("Updated"),
    }
    form_args = {
        **{name: {"validators": [DataRequired()]} for name in REQUIRED_TEXT},
    }

    def scaffold_form(self):
        form_class = super().scaffold_form()
        form_class.stage = _enum_select(_l("Stage"), DisclosureStage, DisclosureStage.before)
        form_class.case_receipt = StringField(
            _l("Case receipt number (optional: disclose a case through its course)"),
            validators=[Optional(), Length(max=32)],
        )
        form_class.category_id = SelectField(
            _l("Category"),
            coerce=int,
            validators=[DataRequired()],
        )
        return form_class

    def _offer_categories(self, form):
        writable = _writable()
        for township_id in writable:
            services.ensure_categories(township_id)
        db.session.commit()
        names = dict(township_choices(set(writable)))
        rows = db.session.scalars(
            select(DisclosureCategory)
            .where(DisclosureCategory.township_id.in_(writable))
            .order_by(DisclosureCategory.township_id, DisclosureCategory.position)
        )
        form.category_id.choices = [
            SelectChoice(
                str(c.id), c.name if len(writable) == 1 else f"{names[c.township_id]} · {c.name}"
            )
            for c in rows
        ]
        return form

    def create_form(self, obj=None):
        return self._offer_categories(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._offer_categories(super().edit_form(obj))
        if obj is not None and obj.case is not None and not form.case_receipt.data:
            form.case_receipt.data = obj.case.receipt_no
        return form

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        category = db.session.get(DisclosureCategory, model.category_id or 0)
        if category is None or category.township_id != model.township_id:
            raise ValidationError(_("The category belongs to another township."))
        receipt = (form.case_receipt.data or "").strip().upper()
        if receipt:
            case = db.session.scalar(
                select(Case).where(
                    Case.receipt_no == receipt, Case.township_id == model.township_id
                )
            )
            if case is None:
                raise ValidationError(_("No case of this township has that receipt number."))
            model.case_id = case.id
        else:
            model.case_id = None


class BatchView(ReadOnlyMixin, TownshipModelView):
    """Release batches: when each was due, when it went out, how late, what it held."""

    column_list = (
        "scheduled_for",
        "status",
        "published_at",
        "lateness_seconds",
        "fire_times",
        "product_count",
        "empty",
        "channels",
    )
    column_default_sort = ("scheduled_for", True)
    # channels is a JSON list: PostgreSQL has no ordering for json (sorting it was a 500)
    column_sortable_list = (
        "scheduled_for",
        "status",
        "published_at",
        "lateness_seconds",
        "fire_times",
        "product_count",
        "empty",
    )
    column_filters = ("status", "empty")
    column_labels = {
        "scheduled_for": _l("Scheduled for (UTC)"),
        "status": _l("Status"),
        "published_at": _l("Published at (UTC)"),
        "lateness_seconds": _l("Lateness"),
        "fire_times": _l("Release times covered"),
        "first_scheduled_for": _l("First release time covered"),
        "product_count": _l("Products"),
        "empty": _l("Empty release"),
        "channels": _l("Channels"),
    }

    def _checklist_link(self, context, model, name):
        url = url_for("releases_checklist.index", batch=model.id)
        channels = escape(_channels(self, context, model, name))
        label = escape(_("Checklist"))
        return Markup(f'{channels} <a href="{url}">{label}</a>')

    column_formatters = {"lateness_seconds": _lateness, "channels": _checklist_link}


class ArchiveView(ReadOnlyMixin, TownshipModelView):
    """The release archive (immutable): what went out, empty releases, withdrawals."""

    column_list = ("recorded_at", "kind", "title", "audience", "approved_by", "reason")
    column_default_sort = ("recorded_at", True)
    column_filters = ("kind",)
    column_searchable_list = ("title",)
    column_labels = {
        "recorded_at": _l("Recorded at (UTC)"),
        "kind": _l("Entry"),
        "title": _l("Title"),
        "audience": _l("Audience"),
        "approved_by": _l("Approved by"),
        "reason": _l("Reason"),
    }
    column_formatters = {"channels": _channels}


class TopicView(ReadOnlyMixin, TownshipModelView):
    """Citizens' topic requests (点题公开): answer by disclosing or declining."""

    column_list = ("receipt_no", "topic", "submitted_on", "due_on", "status", "answered_at")
    column_default_sort = ("due_on", False)
    column_filters = ("status", "due_on")
    column_searchable_list = ("receipt_no", "topic")
    column_labels = {
        "receipt_no": _l("Receipt number"),
        "topic": _l("Topic"),
        "submitted_on": _l("Submitted"),
        "due_on": _l("Due"),
        "status": _l("Status"),
        "answered_at": _l("Answered at"),
        "details": _l("Details"),
        "contact": _l("Contact"),
        "answer": _l("Answer"),
    }

    def _answer_link(self, context, model, name):
        if model.status == TopicStatus.open:
            url = url_for(".answer_view", id=model.id)
            return Markup(f'<a class="answer-link" href="{url}">{escape(model.receipt_no)}</a>')
        return model.receipt_no

    column_formatters = {"receipt_no": _answer_link}

    @expose("/answer/", methods=("GET", "POST"))
    def answer_view(self):
        """Disclose (link a board entry) or decline with a reason."""
        req = self.get_one(str(request.values.get("id", type=int) or 0))
        if req.township_id not in _writable():
            abort(403)
        disclosures = db.session.scalars(
            select(Disclosure)
            .where(Disclosure.township_id == req.township_id)
            .order_by(Disclosure.updated_at.desc())
            .limit(200)
        ).all()
        error = None
        if request.method == "POST":
            mode = request.form.get("mode")
            chosen = None
            if mode == "disclose":
                chosen_id = request.form.get("disclosure_id", type=int)
                chosen = next((d for d in disclosures if d.id == chosen_id), None)
                if chosen is None:
                    error = _("Choose the disclosure that answers the request.")
            try:
                if error is None:
                    services.answer_topic_request(
                        req,
                        current_user,
                        disclosure=chosen,
                        decline_reason=request.form.get("reason", "") if mode != "disclose" else "",
                        answer=request.form.get("answer", ""),
                    )
            except services.ReleaseError as exc:
                error = str(exc)
            if error is None:
                record_audit(
                    "update",
                    "TopicRequest",
                    req.id,
                    township_id=req.township_id,
                    after={"status": req.status.value},
                )
                db.session.commit()
                flash(_("The request %(receipt)s is answered.", receipt=req.receipt_no), "success")
                return redirect(url_for(".index_view"), 303)
        return self.render(
            "releases/admin/topic_answer.html", req=req, disclosures=disclosures, error=error
        ), (400 if error else 200)


def preset_of(cron: str) -> tuple[str, dict]:
    """Which form a crontab fits: ``monthly`` (day N at HH:MM), ``weekly`` (a weekday at
    HH:MM) or ``cron`` (anything else), with the preset's values."""
    import re

    fields = (cron or "").split()
    values = {"day": 1, "weekday": 1, "time": "09:00"}
    if len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit() and fields[3] == "*":
        values["time"] = f"{int(fields[1]):02d}:{int(fields[0]):02d}"
        if re.fullmatch(r"\d{1,2}", fields[2]) and fields[4] == "*" and 1 <= int(fields[2]) <= 28:
            values["day"] = int(fields[2])
            return "monthly", values
        if fields[2] == "*" and re.fullmatch(r"[0-7]", fields[4]):
            values["weekday"] = int(fields[4]) % 7
            return "weekly", values
    return "cron", values


def cron_of_preset(form) -> str:
    """The crontab the plan form describes (presets become a crontab; ``cron`` is as typed).
    ReleaseError when a preset's day or time is unreadable."""
    mode = form.get("mode") or "cron"
    if mode == "cron":
        return (form.get("cron") or "").strip()
    raw = form.get("monthly_time" if mode == "monthly" else "weekly_time") or ""
    try:
        hour, minute = (int(part) for part in raw.split(":")[:2])
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError
    except ValueError:
        raise services.ReleaseError(_("Give the time as HH:MM.")) from None
    if mode == "monthly":
        day = form.get("day", type=int)
        if day is None or not 1 <= day <= 28:
            raise services.ReleaseError(_("Choose a day from 1 to 28 (every month has it)."))
        return f"{minute} {hour} {day} * *"
    weekday = form.get("weekday", type=int)
    if weekday is None or not 0 <= weekday <= 6:
        raise services.ReleaseError(_("Choose a day of the week."))
    return f"{minute} {hour} * * {weekday}"


class PlanView(TownshipBaseView):
    """The release plan: presets (monthly on day N, weekly on a weekday, at HH:MM) or a
    crontab, in a time zone chosen from a list, the channels; and an urgent release now."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        from scheduler.triggers import weekday_name

        township = self.chosen_township()
        can_edit = township.id in self.township_ids(PLAN)
        plan = services.ensure_plan(township.id)
        db.session.commit()
        cron, timezone, channels, active = (
            plan.cron,
            plan.timezone,
            list(plan.channels),
            plan.active,
        )
        mode, preset = preset_of(cron)
        preview, error, status = [], None, 200
        if request.method == "POST":
            if not can_edit:
                abort(403)
            mode = request.form.get("mode") or "cron"
            timezone = (request.form.get("timezone") or "").strip() or township.timezone
            channels = request.form.getlist("channels")
            active = request.form.get("active") == "1"
            try:
                cron = cron_of_preset(request.form)
                if mode != "cron":
                    preset = preset_of(cron)[1]
                preview = services.check_schedule(cron, timezone)
                if "save" in request.form:
                    before = {
                        "cron": plan.cron,
                        "timezone": plan.timezone,
                        "channels": plan.channels,
                    }
                    services.save_plan(
                        township.id,
                        cron=cron,
                        timezone=timezone,
                        channels=channels,
                        active=active,
                        by=current_user,
                    )
                    record_audit(
                        "update",
                        "ReleasePlan",
                        plan.id,
                        township_id=township.id,
                        before=before,
                        after={"cron": cron, "timezone": timezone, "channels": channels},
                    )
                    db.session.commit()
                    flash(_("The release plan is saved."), "success")
                    return redirect(url_for(".index", township=township.id), 303)
            except services.ReleaseError as exc:
                error, status = str(exc), 400
                db.session.rollback()
        else:
            preview = services.next_release_times(township.id)
        from zoneinfo import ZoneInfo

        return self.render(
            "releases/admin/plan.html",
            township=township,
            townships=township_choices(self.township_ids()),
            plan=plan,
            cron=cron,
            mode=mode,
            preset=preset,
            weekdays=[(n, weekday_name(n)) for n in (1, 2, 3, 4, 5, 6, 0)],
            timezone=timezone,
            channels=channels,
            active=active,
            preview=preview,
            error=error,
            can_edit=can_edit,
            all_channels=[(c.value, c.label) for c in ReleaseChannel],
            approved_waiting=services.approved_waiting(township.id),
            zone_of=lambda name: (
                ZoneInfo(name) if name in dict(clock.zone_choices()) else clock.zone(None)
            ),
        ), status

    @expose("/release-now", methods=("POST",))
    def release_now(self):
        """An urgent release: a batch now, published by the same once-only task."""
        township = self.chosen_township(PLAN)
        try:
            batch_id = services.release_now(township.id, by=current_user._get_current_object())
        except services.ReleaseError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for(".index", township=township.id), 303)
        record_audit(
            "create",
            "ReleaseBatch",
            batch_id,
            township_id=township.id,
            after={"urgent": True},
        )
        db.session.commit()
        flash(_("The urgent release is on its way; it appears under Release batches."), "success")
        return redirect(url_for("releases_batches.index_view"), 303)


class ChecklistView(TownshipBaseView):
    """The off-line channels of one release: done, when, by whom, with an optional photo.

    Reached from a batch's row, so it has no menu entry of its own.
    """

    def is_visible(self) -> bool:
        return False

    def _batch(self) -> ReleaseBatch:
        batch = db.session.get(ReleaseBatch, request.values.get("batch", type=int) or 0)
        if batch is None or batch.township_id not in self.township_ids():
            abort(404)
        return batch

    @expose("/", methods=("GET", "POST"))
    def index(self):
        batch = self._batch()
        can_edit = batch.township_id in self.township_ids(WRITE)
        error, status = None, 200
        if request.method == "POST":
            if not can_edit:
                abort(403)
            upload = request.files.get("photo")
            data = upload.read(services.PHOTO_MAX_BYTES + 1) if upload and upload.filename else None
            try:
                raw_date = request.form.get("done_on") or ""
                try:
                    done_on = date.fromisoformat(raw_date)
                except ValueError as exc:
                    raise services.ReleaseError(_("Give the date as YYYY-MM-DD.")) from exc
                services.record_channel_done(
                    batch,
                    request.form.get("channel", ""),
                    done_on,
                    by=current_user,
                    note=request.form.get("note", ""),
                    photo=data,
                    photo_type=upload.mimetype if data else None,
                )
            except services.ReleaseError as exc:
                db.session.rollback()
                error, status = str(exc), 400
            else:
                flash(_("Recorded."), "success")
                return redirect(url_for(".index", batch=batch.id), 303)
        return self.render(
            "releases/admin/checklist.html",
            batch=batch,
            rows=services.checklist(batch) if batch.status == BatchStatus.published else [],
            error=error,
            can_edit=can_edit,
            today=clock.today(batch.township_id),
        ), status

    @expose("/photo/<int:entry_id>")
    def photo(self, entry_id: int):
        entry = db.session.get(ChecklistEntry, entry_id)
        if entry is None or entry.township_id not in self.township_ids() or not entry.photo:
            abort(404)
        return Response(
            entry.photo,
            mimetype=entry.photo_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private"},
        )


def admin_views() -> list:
    """The views, in menu order, with their explicit ``releases_`` endpoints."""
    return [
        ItemView(CollectedItem, name=_l("Collected items"), endpoint="releases_items"),
        ProductView(Product, name=_l("Information products"), endpoint="releases_products"),
        PlanView(name=_l("Release plan"), endpoint="releases_plan"),
        BatchView(ReleaseBatch, name=_l("Release batches"), endpoint="releases_batches"),
        ChecklistView(name=_l("Channel checklist"), endpoint="releases_checklist"),
        ArchiveView(ArchiveEntry, name=_l("Release archive"), endpoint="releases_archive"),
        DisclosureView(Disclosure, name=_l("Disclosure board"), endpoint="releases_disclosures"),
        CategoryView(
            DisclosureCategory, name=_l("Disclosure categories"), endpoint="releases_categories"
        ),
        TopicView(TopicRequest, name=_l("Topic requests"), endpoint="releases_topics"),
    ]
