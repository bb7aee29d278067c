"""The commitment blueprint: no public page of its own (a commitment is a case, which
citizens follow under its receipt); it carries the plugin's templates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("commitment", __name__, template_folder="templates")
