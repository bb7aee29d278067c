"""The example plugin's API resources: its notes, under ``/api/v1/example/<township>/notes``.

The shape every institution copies: an :class:`~core.api.ApiBlueprint` named
``<key>_api``, routes starting with ``<code:township>`` (the core resolves the township,
404 if the user cannot see it or it has not enabled the plugin), marshmallow schemas
from :mod:`core.api.fields` (they validate, shape the output and write the document),
and the core's paginator.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.api import ApiBlueprint, require
from core.api import fields as f
from core.api.schemas import PageArgs, page, page_of
from core.db import db
from core.models import OrgUnit
from tests.example_plugin.models import ExampleNote

bp = ApiBlueprint("example_api", __name__, description="The example plugin's notes.")


class NoteSchema(f.OutputSchema):
    id = f.Integer(required=True)
    title = f.String(required=True)
    created_at = f.DateTime(required=True)


class NewNoteSchema(f.Schema):
    title = f.Text(required=True, max_length=120)


@bp.route("/<code:township>/notes", methods=["GET"])
@bp.doc(operationId="listExampleNotes", summary="The township's notes, newest first")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(NoteSchema))
@bp.errors(404)
def list_notes(args: dict[str, Any], township: OrgUnit):
    query = (
        select(ExampleNote)
        .where(ExampleNote.township_id == township.id)
        .order_by(ExampleNote.id.desc())
    )
    return page(query, args)


@bp.route("/<code:township>/notes", methods=["POST"])
@bp.doc(operationId="createExampleNote", summary="Write a note")
@bp.arguments(NewNoteSchema)
@bp.response(201, NoteSchema)
@bp.errors(403, 404)
def create_note(data: dict[str, Any], township: OrgUnit):
    require("cases.write", township.id)
    note = ExampleNote(township_id=township.id, title=data["title"])
    db.session.add(note)
    db.session.commit()
    return note, 201
