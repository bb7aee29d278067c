"""Error pages are the product's own, in the user's language: the staff frame under
/admin, the public frame elsewhere (never Werkzeug's English page)."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import BadRequest, Forbidden, Gone, MethodNotAllowed, TooManyRequests

from core.testing.fixtures import page_text


def _zh(client):
    assert client.post("/lang/zh_CN").status_code == 302


def test_public_404_is_ours_in_chinese(client):
    _zh(client)
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert page_text(html, "#error-title") == "页面不存在"
    assert page_text(html, "#error-hint") == "这里没有内容，请检查网址。"
    assert 'href="/lookup"' in html  # the public frame's menu
    assert "Not Found" not in html and "The requested URL" not in html


def test_public_404_in_english_when_chosen(client):
    client.post("/lang/en")
    html = client.get("/no-such-page").get_data(as_text=True)
    assert page_text(html, "#error-title") == "Page not found"


def test_staff_404_uses_the_staff_frame(client, staff, clerk):
    staff.login(clerk)
    _zh(client)
    response = client.get("/admin/admin_cases/details/?id=999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert page_text(html, "#error-title") == "页面不存在"
    assert page_text(html, "nav .navbar-text") == clerk.name
    assert 'href="/admin/admin_inbox/"' in html


def test_405_keeps_its_allow_header(client):
    _zh(client)
    response = client.put("/login")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert page_text(response.get_data(as_text=True), "#error-title") == "不允许此操作方式"


def test_a_description_given_by_the_code_is_shown(client, staff, create_user, township, db):
    """abort(404, _("You are not on a training roster.")) shows those words."""
    from core.models import InstitutionSetting

    db.session.add(InstitutionSetting(township_id=township.id, plugin_key="training", enabled=True))
    db.session.commit()
    learner = create_user("cadre", "training_learner", township)
    staff.login(learner)
    _zh(client)
    response = client.get("/admin/training_my_record/")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert page_text(html, "#error-detail") == "您不在学习培训名册中。"
    assert "The requested URL" not in html


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (BadRequest(), "无法理解该请求"),
        (Forbidden(), "不允许"),
        (MethodNotAllowed(["GET"]), "不允许此操作方式"),
        (Gone(), "已不存在"),
        (TooManyRequests(description="10 per 1 minute"), "请求过于频繁"),
    ],
)
def test_every_error_reads_in_chinese_in_both_frames(app, error, title):
    from flask_babel import force_locale

    from core.errors import page

    for path, frame in (("/somewhere", "core/base"), ("/admin/somewhere", "staff")):
        with app.test_request_context(path), force_locale("zh_CN"):
            response = page(error)
            html = response.get_data(as_text=True)
            assert response.status_code == error.code
            assert page_text(html, "#error-title") == title
            assert "per 1 minute" not in html
            assert ('href="/lookup"' in html) == (frame == "core/base")


def test_the_csrf_error_is_explained_not_shown_in_english(app):
    from flask_babel import force_locale
    from flask_wtf.csrf import CSRFError

    from core.errors import page

    with app.test_request_context("/admin/admin_cases/new/"), force_locale("zh_CN"):
        html = page(CSRFError("The CSRF token is missing.")).get_data(as_text=True)
    assert page_text(html, "#error-detail") == "表单已过期或被重复提交，请刷新页面后重试。"
    assert "CSRF token" not in html


def test_a_server_error_page_in_chinese(app):
    from flask_babel import force_locale

    from core.errors import server_error_page

    with app.test_request_context("/admin/x"), force_locale("zh_CN"):
        html, status = server_error_page()
    assert status == 500
    assert page_text(html, "#error-title") == "出错了"
