"""Import of the roster or of self-study hours from an XLSX sheet: preview, then all or nothing.

The first row of the sheet names the columns, in English or Chinese:

* hours: ``name``/姓名 or ``id_number``/身份证号, ``date``/日期, ``hours``/课时,
  ``material``/学习内容, optional ``material_kind``/材料类别 (set readings 规定篇目 or
  self-chosen 自选), optional ``notes``/笔记字数;
* roster: ``name``/姓名 or ``id_number``/身份证号 (a person of the township
  register), ``category``/类别 (镇干部, 村干部, 农村党员), optional ``village``/村,
  optional ``education``/文化程度, ``joined``/加入日期.

:func:`create_import` parses and checks every row and keeps the result in a
:class:`~plugins.training.models.TrainingImport` row (server side, not in the
cookie); :func:`confirm_import` writes every row in one transaction, or nothing
when any row is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core.db import db, utcnow
from core.models import OrgUnit, Person, UnitKind
from core.validation import check_date, check_resident_id
from plugins.training.models import (
    Education,
    LearnerCategory,
    MaterialKind,
    TrainingImport,
    TrainingLearner,
)
from plugins.training.services import (
    StudyEntry,
    TrainingError,
    check_study_entries,
    log_study,
    parse_hours,
    township_today,
)

KINDS = ("hours", "roster")

COLUMNS = {
    "name": ("name", "姓名"),
    "id_number": ("id_number", "id number", "身份证号", "身份证号码"),
    "date": ("date", "日期", "学习日期"),
    "hours": ("hours", "class hours", "课时", "学时"),
    "material": ("material", "学习内容", "学习材料", "材料"),
    "material_kind": ("material_kind", "材料类别", "类型"),
    "notes": ("notes", "note characters", "笔记字数", "笔记"),
    "category": ("category", "类别", "人员类别"),
    "village": ("village", "村", "所在村"),
    "education": ("education", "文化程度", "学历"),
    "joined": ("joined", "joined on", "加入日期", "入册日期"),
}

#: the sheet's columns as the preview names them
COLUMN_LABELS = {
    "name": _l("Name"),
    "id_number": _l("Resident ID number"),
    "date": _l("Date"),
    "hours": _l("Class hours"),
    "material": _l("Material"),
    "material_kind": _l("Kind"),
    "notes": _l("Note characters"),
    "category": _l("Category"),
    "village": _l("Village"),
    "education": _l("Education"),
    "joined": _l("Joined on"),
}


def column_label(key: str) -> str:
    """A column of the sheet in words (the preview of bad rows)."""
    return str(COLUMN_LABELS.get(key, key))


CATEGORY_WORDS = {
    "township_cadre": LearnerCategory.township_cadre,
    "镇干部": LearnerCategory.township_cadre,
    "village_cadre": LearnerCategory.village_cadre,
    "村干部": LearnerCategory.village_cadre,
    "party_member": LearnerCategory.party_member,
    "党员": LearnerCategory.party_member,
    "农村党员": LearnerCategory.party_member,
}
EDUCATION_WORDS = {
    **{e.value: e for e in Education},
    "小学": Education.primary,
    "小学及以下": Education.primary,
    "初中": Education.junior_middle,
    "高中": Education.senior_middle,
    "中专": Education.senior_middle,
    "大专": Education.college,
    "本科": Education.college,
    "大专及以上": Education.college,
}
MATERIAL_WORDS = {
    **{m.value: m for m in MaterialKind},
    "规定篇目": MaterialKind.set_reading,
    "自选": MaterialKind.self_chosen,
    "自选篇目": MaterialKind.self_chosen,
}


def read_sheet(stream: IO[bytes]) -> list[dict[str, Any]]:
    """The rows of the first worksheet as dicts keyed by column name; ValueError if unreadable."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise ValueError(_("This is not an XLSX workbook.")) from exc
    try:
        rows = list(book.active.iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        raise ValueError(_("The sheet is empty."))
    aliases = {alias: key for key, names in COLUMNS.items() for alias in names}
    header = [aliases.get(str(cell or "").strip().lower()) for cell in rows[0]]
    if not any(header):
        raise ValueError(_("The first row must name the columns (e.g. name, date, hours)."))
    result = []
    for raw in rows[1:]:
        if raw is None or all(cell is None or str(cell).strip() == "" for cell in raw):
            continue
        result.append({key: raw[i] for i, key in enumerate(header) if key and i < len(raw)})
    return result


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("%(value)s is not a date (YYYY-MM-DD).", value=text or "—")) from None
    return check_date(day)  # not before EARLIEST_YEAR (a typing mistake)


def _plain(values: dict[str, Any]) -> dict[str, str]:
    """The row as text, for the preview."""
    return {
        k: (v.date().isoformat() if isinstance(v, datetime) else _text(v))
        for k, v in values.items()
    }


class _People:
    """The township register's people (and roster) by ID number and by name, in one query."""

    def __init__(self, township_id: int):
        self.by_id_number: dict[str, tuple[int, int | None]] = {}
        self.by_name: dict[str, list[tuple[int, int | None]]] = {}
        for person_id, name, id_number, learner_id in db.session.execute(
            select(Person.id, Person.name, Person.id_number, TrainingLearner.id)
            .outerjoin(
                TrainingLearner,
                (TrainingLearner.person_id == Person.id)
                & (TrainingLearner.township_id == township_id),
            )
            .where(Person.township_id == township_id)
        ):
            if id_number:
                self.by_id_number[id_number.strip().upper()] = (person_id, learner_id)
            self.by_name.setdefault(name.strip(), []).append((person_id, learner_id))

    def find(self, values: dict[str, Any]) -> tuple[int, int | None]:
        """(person id, learner id or None); ValueError naming why nobody matches."""
        id_number = _text(values.get("id_number")).upper()
        name = _text(values.get("name"))
        if id_number:
            if id_number not in self.by_id_number:
                check_resident_id(id_number)  # a typing mistake: GB 11643 says so
                raise ValueError(_("Unknown person: no ID number %(n)s here.", n=id_number))
            return self.by_id_number[id_number]
        matches = self.by_name.get(name, [])
        if not name or not matches:
            raise ValueError(_("Unknown person: %(name)s.", name=name or "—"))
        if len(matches) > 1:
            raise ValueError(_("%(name)s is ambiguous: give the ID number.", name=name))
        return matches[0]


def parse_hours_rows(
    township_id: int,
    rows: Iterable[dict[str, Any]],
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(valid rows ready to write, problems) of an hours sheet; problems say row and why."""
    today = today or township_today(township_id)
    people = _People(township_id)
    entries: list[StudyEntry] = []
    entry_rows: list[tuple[int, dict[str, Any]]] = []
    problems: dict[int, list[str]] = {}
    shown: dict[int, dict[str, str]] = {}
    for number, values in enumerate(rows, start=2):
        shown[number] = _plain(values)
        errors: list[str] = []
        learner_id = None
        try:
            _person, learner_id = people.find(values)
            if learner_id is None:
                errors.append(_("Unknown person: not on the training roster."))
        except ValueError as exc:
            errors.append(str(exc))
        try:
            studied_on = _date(values.get("date"))
        except ValueError as exc:
            errors.append(str(exc))
            studied_on = None
        try:
            half_hours = parse_hours(values.get("hours"))
        except ValueError as exc:
            errors.append(_("Hours out of range: %(error)s", error=exc))
            half_hours = None
        kind_word = _text(values.get("material_kind")) or MaterialKind.set_reading.value
        kind = MATERIAL_WORDS.get(kind_word)
        if kind is None:
            errors.append(_("Unknown kind of material: %(kind)s.", kind=kind_word))
        try:
            notes = int(float(_text(values.get("notes")) or 0))
        except ValueError:
            errors.append(_("Note characters must be a whole number."))
            notes = 0
        if errors:
            problems[number] = errors
        else:
            entries.append(
                StudyEntry(
                    learner_id,
                    studied_on,
                    half_hours,
                    _text(values.get("material")),
                    kind.value,
                    notes,
                )
            )
            entry_rows.append((number, values))
        if progress:
            progress(1)
    for index, errors in check_study_entries(township_id, entries, today).items():
        number = entry_rows[index][0]
        problems.setdefault(number, []).extend(errors)
    valid = [
        {
            "row": number,
            "learner_id": e.learner_id,
            "studied_on": e.studied_on.isoformat(),
            "half_hours": e.half_hours,
            "material": e.material,
            "material_kind": e.material_kind,
            "note_chars": e.note_chars,
        }
        for (number, _values), e in zip(entry_rows, entries, strict=True)
        if number not in problems
    ]
    return valid, [{"row": n, "errors": problems[n], "values": shown[n]} for n in sorted(problems)]


def parse_roster_rows(
    township_id: int,
    rows: Iterable[dict[str, Any]],
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(valid rows ready to write, problems) of a roster sheet."""
    today = today or township_today(township_id)
    people = _People(township_id)
    villages = {
        name: vid
        for vid, name in db.session.execute(
            select(OrgUnit.id, OrgUnit.name).where(
                OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.village
            )
        )
    }
    valid: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    seen: set[int] = set()
    for number, values in enumerate(rows, start=2):
        errors: list[str] = []
        person_id = None
        try:
            person_id, learner_id = people.find(values)
            if learner_id is not None or person_id in seen:
                errors.append(_("Duplicate: already on the roster."))
            seen.add(person_id)
        except ValueError as exc:
            errors.append(str(exc))
        category = CATEGORY_WORDS.get(_text(values.get("category")))
        if category is None:
            errors.append(
                _(
                    "Unknown category %(c)s (镇干部, 村干部, 农村党员).",
                    c=_text(values.get("category")),
                )
            )
        village_name = _text(values.get("village"))
        village_id = villages.get(village_name) if village_name else None
        if village_name and village_id is None:
            errors.append(_("Unknown village: %(v)s.", v=village_name))
        education = EDUCATION_WORDS.get(_text(values.get("education")) or "junior_middle")
        if education is None:
            errors.append(_("Unknown education level: %(e)s.", e=_text(values.get("education"))))
        try:
            joined = _date(values.get("joined"))
            if joined > today:
                errors.append(_("%(day)s is in the future.", day=joined))
        except ValueError as exc:
            errors.append(str(exc))
            joined = None
        if errors:
            problems.append({"row": number, "errors": errors, "values": _plain(values)})
        else:
            valid.append(
                {
                    "row": number,
                    "person_id": person_id,
                    "category": category.value,
                    "village_id": village_id,
                    "education": education.value,
                    "joined_on": joined.isoformat(),
                }
            )
        if progress:
            progress(1)
    return valid, problems


def parse_rows(township_id: int, kind: str, rows, progress=None, today: date | None = None):
    """Parse and check the rows of a sheet of ``kind`` (hours or roster)."""
    if kind not in KINDS:
        raise ValueError(_("Unknown kind of import: %(kind)s.", kind=kind))
    parser = parse_hours_rows if kind == "hours" else parse_roster_rows
    return parser(township_id, rows, today=today, progress=progress)


def create_import(
    township_id: int,
    kind: str,
    stream: IO[bytes],
    *,
    filename: str = "",
    user_id: int | None = None,
    today: date | None = None,
) -> TrainingImport:
    """Parse an uploaded sheet and keep the outcome for the preview; commits."""
    rows = read_sheet(stream)
    valid, problems = parse_rows(township_id, kind, rows, today=today)
    record = TrainingImport(
        township_id=township_id,
        kind=kind,
        filename=filename[:200],
        rows=valid,
        problems=problems,
        created_by_id=user_id,
    )
    db.session.add(record)
    db.session.commit()
    return record


def write_rows(
    township_id: int,
    kind: str,
    rows: list[dict[str, Any]],
    *,
    user_id: int | None = None,
    today: date | None = None,
) -> int:
    """Write parsed rows (in the caller's transaction); checks hours again. Returns the count."""
    if kind == "hours":
        entries = [
            StudyEntry(
                r["learner_id"],
                date.fromisoformat(r["studied_on"]),
                r["half_hours"],
                r["material"],
                r["material_kind"],
                r["note_chars"],
            )
            for r in rows
        ]
        return log_study(township_id, entries, logged_by_id=user_id, today=today, commit=False)
    db.session.add_all(
        TrainingLearner(
            township_id=township_id,
            person_id=r["person_id"],
            category=LearnerCategory(r["category"]),
            village_id=r["village_id"],
            education=Education(r["education"]),
            joined_on=date.fromisoformat(r["joined_on"]),
        )
        for r in rows
    )
    db.session.flush()
    return len(rows)


def confirm_import(
    import_id: int, township_id: int, *, user_id: int | None = None, today: date | None = None
) -> int:
    """Write every row of a previewed import in one transaction; returns how many.

    Refuses (:class:`TrainingError`, nothing written) an import with bad rows, one
    already confirmed, or one whose rows turned bad since the preview (checked
    again). Raises LookupError for an import of another township.
    """
    record = db.session.get(TrainingImport, import_id)
    if record is None or record.township_id != township_id:
        raise LookupError(import_id)
    if record.status != "preview":
        raise TrainingError(_("This import was already written."))
    if record.problems:
        raise TrainingError(
            _("%(n)s rows are bad: fix the sheet and upload it again.", n=len(record.problems))
        )
    claimed = db.session.execute(
        update(TrainingImport)
        .where(TrainingImport.id == import_id, TrainingImport.status == "preview")
        .values(status="done", confirmed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise TrainingError(_("This import was already written."))
    try:
        count = write_rows(township_id, record.kind, record.rows, user_id=user_id, today=today)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return count
