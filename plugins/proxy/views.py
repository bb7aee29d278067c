"""The proxy blueprint: no public page of its own (citizens follow a proxy record under
their case's receipt); it carries the plugin's templates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("proxy", __name__, template_folder="templates")
