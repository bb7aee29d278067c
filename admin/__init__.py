"""The flask-admin site: signed-in staff only, every view scoped to the user's townships."""

from __future__ import annotations

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme


def init_admin(app) -> Admin:
    admin = Admin(
        app,
        name="乡镇服务平台",
        theme=Bootstrap4Theme(swatch="default"),
        url="/admin",
        endpoint="admin",
    )
    app.extensions["township_admin"] = admin
    return admin
