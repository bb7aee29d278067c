"""A plugin's menu category speaks the interface language."""

import re

from core.institutions import set_enabled


def menu_categories(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", m).strip()
        for m in re.findall(r"dropdown-toggle[^>]*>(.*?)</a>", html, re.S)
    ]


def test_plugin_menu_follows_the_language(db, staff, township, clerk):
    set_enabled(township, "example", True)
    staff.login(clerk)  # switches to English
    assert "Example" in menu_categories(staff.client.get("/admin/").text)
    staff.client.post("/lang/zh_CN")
    categories = menu_categories(staff.client.get("/admin/").text)
    assert "示例" in categories and "Example" not in categories
