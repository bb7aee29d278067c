"""A plugin's menu category speaks the interface language."""

from core.institutions import set_enabled


def test_plugin_menu_follows_the_language(db, staff, township, clerk):
    set_enabled(township, "example", True)
    staff.login(clerk)  # switches to English
    english = staff.client.get("/admin/").text
    assert ">Example<" in english.replace("\n", "").replace(" ", "") or "Example" in english
    assert "示例" not in english
    staff.client.post("/lang/zh_CN")
    assert "示例" in staff.client.get("/admin/").text
