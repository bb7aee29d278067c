"""The plugin's blueprint. The archive has no public pages (nothing in it is public by
default); the blueprint carries the templates of the staff pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("archives", __name__, template_folder="templates")
