"""The training institution's API resources, under ``/api/v1/training/<township>/``.

* ``learners``: the roster (read: whoever may read the township's training reports,
  the same rule as the admin's, :class:`plugins.training.admin.TrainingAccess`);
* ``hours``: self-study entries; ``POST`` writes a whole batch or nothing, with the
  validation of the admin's screens (:func:`~plugins.training.services.parse_hours`,
  :func:`~plugins.training.services.check_study_entries`,
  :func:`~plugins.training.services.log_study`); writing needs ``training.write``;
* ``compliance/<YYYY-MM>``: the month's figures from
  :func:`~plugins.training.services.monthly_compliance` (the screen's, the exports'),
  with the learner rows a page at a time.

A township that has not enabled the institution answers 404 (the core checks it).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import gettext as _
from sqlalchemy import and_, select

from core.api import ApiBlueprint, ApiError, api_user, invalid, townships_with
from core.api import fields as f
from core.api.schemas import PageArgs, default_page_size, page, page_from, page_of
from core.db import db
from core.models import OrgUnit, Person, UnitKind
from plugins.training import services
from plugins.training.models import (
    Education,
    LearnerCategory,
    LogStatus,
    MaterialKind,
    TrainingLearner,
    TrainingStudyLog,
)

bp = ApiBlueprint(
    "training_api",
    __name__,
    description="Training records: the roster, self-study hours, monthly compliance.",
)

ID = "int(min=1, max=2147483647)"
WRITE = "training.write"
#: the most entries one request may write (a township's grid is at most a few hundred)
MAX_ENTRIES = 500


def _require_read(township: OrgUnit) -> None:
    """The admin's rule for reading the township's training reports, through the API."""
    from plugins.training.admin import READ, TrainingAccess

    if township.id not in TrainingAccess().township_ids(READ) & townships_with():
        raise ApiError(403, _("You may not read this township's training records."))


def _require_write(township: OrgUnit) -> None:
    if township.id not in townships_with(WRITE):
        raise ApiError(403, _("You may not record training in this township."))


# ---------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------


class VillageSchema(f.OutputSchema):
    id = f.Integer(required=True)
    code = f.String(required=True)
    name = f.String(required=True)


class LearnerSchema(f.OutputSchema):
    id = f.Integer(required=True)
    person_id = f.Integer(required=True)
    name = f.String(required=True)
    category = f.String(required=True, validate=f.OneOf([c.value for c in LearnerCategory]))
    category_label = f.String(required=True)
    village = f.Nested(VillageSchema, required=True, allow_none=True)
    education = f.String(required=True, validate=f.OneOf([e.value for e in Education]))
    education_label = f.String(required=True)
    joined_on = f.Date(required=True)
    active = f.Boolean(required=True)


class LearnerArgs(PageArgs):
    category = f.Text(validate=[f.OneOf([c.value for c in LearnerCategory])])
    village = f.Text(min_length=1, max_length=64, metadata={"description": "A village's code."})
    active = f.QueryBoolean(metadata={"description": "Default: active learners only."})


class HoursSchema(f.OutputSchema):
    id = f.Integer(required=True)
    learner_id = f.Integer(required=True)
    name = f.String(required=True)
    studied_on = f.Date(required=True)
    hours = f.Float(required=True, metadata={"description": "Class hours, in half-hour steps."})
    material = f.String(required=True)
    material_kind = f.String(required=True, validate=f.OneOf([k.value for k in MaterialKind]))
    note_chars = f.Integer(required=True)
    status = f.String(required=True, validate=f.OneOf([s.value for s in LogStatus]))
    status_label = f.String(required=True)


class HoursArgs(PageArgs):
    month = f.Month(metadata={"description": "Only this month (YYYY-MM)."})
    learner_id = f.QueryInteger(validate=f.Range(min=1, max=2**31 - 1))
    status = f.Text(validate=[f.OneOf([s.value for s in LogStatus])])


class EntrySchema(f.Schema):
    learner_id = f.Integer(required=True, validate=f.Range(min=1, max=2**31 - 1))
    studied_on = f.IsoDate(
        required=True,
        metadata={"description": "Not in the future, not before the learner joined."},
    )
    hours = f.Number(
        required=True,
        validate=f.Range(min=0.5, max=services.MAX_HOURS_A_DAY),
        metadata={
            "description": "Class hours in half-hour steps; at most 12 a day per learner.",
            "multipleOf": 0.5,
        },
    )
    material = f.Text(required=True, max_length=200)
    material_kind = f.Text(
        load_default=MaterialKind.set_reading.value,
        validate=[f.OneOf([k.value for k in MaterialKind])],
    )
    note_chars = f.Integer(load_default=0, validate=f.Range(min=0, max=1_000_000))

    @ma.validates("hours")
    def _half_hours(self, value: float, **kwargs: Any) -> None:
        try:
            services.parse_hours(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc


class NewHoursSchema(f.Schema):
    entries = f.List(
        f.Nested(EntrySchema),
        required=True,
        validate=f.Length(min=1, max=MAX_ENTRIES),
        metadata={"description": "Written all together or not at all."},
    )


class SavedSchema(f.OutputSchema):
    saved = f.Integer(required=True, metadata={"description": "How many entries were written."})


class ShortfallSchema(f.OutputSchema):
    measure = f.String(
        required=True,
        validate=f.OneOf(["hours", "participation", "techniques", "notes", "study_days"]),
    )
    required = f.Float(required=True)
    actual = f.Float(required=True)
    missing = f.Float(required=True)


class LearnerComplianceSchema(f.OutputSchema):
    learner_id = f.Integer(required=True)
    name = f.String(required=True)
    category = f.String(required=True)
    village_id = f.Integer(required=True, allow_none=True)
    village_name = f.String(required=True)
    joined_on = f.String(required=True, metadata={"format": "date"})
    user_id = f.Integer(required=True, allow_none=True)
    hours = f.Float(required=True)
    required_hours = f.Float(required=True)
    note_chars = f.Integer(required=True)
    required_note_chars = f.Integer(required=True, allow_none=True)
    present = f.Integer(required=True)
    absent = f.Integer(required=True)
    excused = f.Integer(required=True)
    participation = f.Float(required=True, allow_none=True)
    required_participation = f.Float(required=True, allow_none=True)
    techniques = f.Integer(required=True)
    required_techniques = f.Integer(required=True, allow_none=True)
    shortfalls = f.List(f.Nested(ShortfallSchema), required=True)
    not_set = f.List(f.String(), required=True)
    behind = f.Boolean(required=True)


class UnitComplianceSchema(f.OutputSchema):
    unit_id = f.Integer(required=True)
    name = f.String(required=True)
    learners = f.Integer(required=True)
    behind = f.Integer(required=True)
    hours_behind = f.Integer(required=True)
    average_hours = f.Float(required=True)
    study_days = f.Float(required=True)
    required_days = f.Float(required=True)
    compliant_pct = f.Float(required=True, allow_none=True)
    shortfalls = f.List(f.Nested(ShortfallSchema), required=True)


class ComplianceSchema(f.OutputSchema):
    township_id = f.Integer(required=True)
    month = f.String(required=True, metadata={"examples": ["2025-01"]})
    thresholds = f.Dict(
        keys=f.String(),
        values=f.Float(allow_none=True),
        required=True,
        metadata={"description": "The policies in force; null = not set by the township."},
    )
    participation = f.Dict(keys=f.String(), values=f.Float(allow_none=True), required=True)
    township = f.Nested(UnitComplianceSchema, required=True)
    villages = f.List(f.Nested(UnitComplianceSchema), required=True)
    learners = f.Nested(
        page_of(LearnerComplianceSchema),
        required=True,
        metadata={"description": "The learner rows, a page at a time (page, per_page)."},
    )


# ---------------------------------------------------------------------------
# Representations
# ---------------------------------------------------------------------------


def _learner(row: TrainingLearner) -> dict[str, Any]:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "name": row.person.name,
        "category": row.category.value,
        "category_label": row.category.label,
        "village": row.village,
        "education": row.education.value,
        "education_label": row.education.label,
        "joined_on": row.joined_on,
        "active": row.active,
    }


def _hours(row: TrainingStudyLog) -> dict[str, Any]:
    return {
        "id": row.id,
        "learner_id": row.learner_id,
        "name": row.learner.person.name,
        "studied_on": row.studied_on,
        "hours": row.half_hours / 2,
        "material": row.material,
        "material_kind": row.material_kind.value,
        "note_chars": row.note_chars,
        "status": row.status.value,
        "status_label": row.status.label,
    }


# ---------------------------------------------------------------------------
# Learners
# ---------------------------------------------------------------------------


@bp.route("/<code:township>/learners")
@bp.doc(
    operationId="listLearners",
    summary="The training roster, by name",
    responses={
        200: {
            "links": {
                "GetLearner": {
                    "operationId": "getLearner",
                    "parameters": {
                        "township": "$request.path.township",
                        "learner_id": "$response.body#/items/0/id",
                    },
                }
            }
        }
    },
)
@bp.arguments(LearnerArgs, location="query")
@bp.response(200, page_of(LearnerSchema))
@bp.errors(403, 404)
def list_learners(args: dict[str, Any], township: OrgUnit):
    _require_read(township)
    conditions = [
        TrainingLearner.township_id == township.id,
        TrainingLearner.active.is_(args.get("active", True)),
    ]
    if args.get("category"):
        conditions.append(TrainingLearner.category == LearnerCategory(args["category"]))
    if args.get("village"):
        village = db.session.scalar(
            select(OrgUnit.id).where(
                OrgUnit.code == args["village"],
                OrgUnit.kind == UnitKind.village,
                OrgUnit.township_id == township.id,
            )
        )
        if village is None:
            raise invalid({"village": _("No village of this township has this code.")})
        conditions.append(TrainingLearner.village_id == village)
    query = (
        select(TrainingLearner)
        .join(Person, Person.id == TrainingLearner.person_id)
        .where(and_(*conditions))
        .order_by(Person.name, TrainingLearner.id)
    )
    body = page(query, args)
    body["items"] = [_learner(row) for row in body["items"]]
    return body


@bp.route(f"/<code:township>/learners/<{ID}:learner_id>")
@bp.doc(operationId="getLearner", summary="One learner of the roster")
@bp.response(200, LearnerSchema)
@bp.errors(403, 404)
def get_learner(township: OrgUnit, learner_id: int):
    _require_read(township)
    row = db.session.get(TrainingLearner, learner_id)
    if row is None or row.township_id != township.id:
        raise ApiError(404, _("No learner %(id)s in this township.", id=learner_id))
    return _learner(row)


# ---------------------------------------------------------------------------
# Self-study hours
# ---------------------------------------------------------------------------


@bp.route("/<code:township>/hours", methods=["GET"])
@bp.doc(operationId="listStudyHours", summary="Self-study entries, the latest first")
@bp.arguments(HoursArgs, location="query")
@bp.response(200, page_of(HoursSchema))
@bp.errors(403, 404)
def list_hours(args: dict[str, Any], township: OrgUnit):
    _require_read(township)
    query = select(TrainingStudyLog).where(TrainingStudyLog.township_id == township.id)
    if "month" in args:
        first, last = services.month_bounds(*args["month"])
        query = query.where(
            TrainingStudyLog.studied_on >= first, TrainingStudyLog.studied_on <= last
        )
    if "learner_id" in args:
        query = query.where(TrainingStudyLog.learner_id == args["learner_id"])
    if args.get("status"):
        query = query.where(TrainingStudyLog.status == LogStatus(args["status"]))
    query = query.order_by(TrainingStudyLog.studied_on.desc(), TrainingStudyLog.id.desc())
    body = page(query, args)
    body["items"] = [_hours(row) for row in body["items"]]
    return body


@bp.route("/<code:township>/hours", methods=["POST"])
@bp.doc(operationId="logStudyHours", summary="Record self-study hours (all or none)")
@bp.arguments(NewHoursSchema)
@bp.response(201, SavedSchema, description="Every entry was written (confirmed).")
@bp.errors(403, 404)
def log_hours(data: dict[str, Any], township: OrgUnit):
    """Write the entries as an officer does on the study screen: each checked by the same
    rules (learner on this township's roster, at most 12 hours a day, not in the future,
    not before the learner joined, no duplicate), all written or none."""
    _require_write(township)
    entries = [
        services.StudyEntry(
            learner_id=e["learner_id"],
            studied_on=e["studied_on"],
            half_hours=services.parse_hours(e["hours"]),
            material=e["material"],
            material_kind=e["material_kind"],
            note_chars=e["note_chars"],
        )
        for e in data["entries"]
    ]
    problems = services.check_study_entries(township.id, entries)
    if problems:
        raise ApiError(
            422,
            _("Nothing was saved; see the problems."),
            fields={f"entries.{i}": " ".join(p) for i, p in sorted(problems.items())},
            problems=[p for i in sorted(problems) for p in problems[i]],
        )
    try:
        saved = services.log_study(township.id, entries, logged_by_id=api_user().id)
    except services.TrainingError as exc:  # a concurrent entry made one a duplicate
        db.session.rollback()
        raise ApiError(
            422, _("Nothing was saved; see the problems."), problems=exc.problems
        ) from exc
    return {"saved": saved}, 201


# ---------------------------------------------------------------------------
# Monthly compliance
# ---------------------------------------------------------------------------


@bp.route("/<code:township>/compliance/<month:month>")
@bp.doc(
    operationId="getTrainingCompliance",
    summary="A month's compliance per learner, village and township",
)
@bp.arguments(PageArgs, location="query")
@bp.response(200, ComplianceSchema)
@bp.errors(403, 404)
def compliance(args: dict[str, Any], township: OrgUnit, month: tuple[int, int]):
    """The month (YYYY-MM) as :func:`~plugins.training.services.monthly_compliance` computes
    it for the screen and the exports; the learner rows a page at a time."""
    _require_read(township)
    report = services.monthly_compliance(township.id, *month).to_dict()
    number, per_page = args["page"], args.get("per_page") or default_page_size()
    rows = report["learners"]
    start = (number - 1) * per_page
    report["learners"] = page_from(rows[start : start + per_page], number, per_page, len(rows))
    return report
