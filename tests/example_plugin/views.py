from flask import Blueprint, g, render_template_string

bp = Blueprint("example", __name__, template_folder="templates")


@bp.get("/")
def index():
    return render_template_string("<h1>example: {{ t.name }}</h1>", t=g.township)
