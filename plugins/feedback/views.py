"""The feedback blueprint: no public page of its own (the reports are for the office and
the leadership); it carries the plugin's templates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("feedback", __name__, template_folder="templates")
