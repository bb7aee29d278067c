"""The interface speaks Simplified Chinese by default and English on request.

The pages are fetched with a client of their own, outside the ``db`` fixture's app
context, so every request gets a fresh application context as in production (Flask-Babel
keeps the chosen locale on ``g`` for the life of the app context).

The catalogue test extracts the messages afresh from the shipped packages and checks that
each has a Chinese translation, in the ``.po`` a translator edits and in the compiled
``.mo`` the application loads.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
# Babel normalises the configured locale "zh_CN" to zh_Hans_CN and looks the catalogue
# up under that name (then "zh"); a directory called zh_CN would never be loaded.
CATALOG_DIR = ROOT / "core" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
PACKAGES = ("core", "admin", "scheduler", "plugins")
METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
HOW_TO_FIX = (
    "run `make babel-update`, translate the new entries in "
    "core/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then `make babel-compile`"
)


@pytest.fixture
def browser(app, monkeypatch):
    """A fresh visitor: no session cookie, no language chosen yet, and the product's
    default language (the shared test app asserts English messages elsewhere)."""
    from core.config import SETTINGS

    monkeypatch.setitem(app.config, "DEFAULT_LOCALE", SETTINGS["DEFAULT_LOCALE"].default)
    return app.test_client()


def text_of(html: str, tag: str) -> list[str]:
    """The visible text of every ``tag`` element on the page, whitespace collapsed."""
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", chunk).split()) for chunk in found]


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def switch_to_english(browser) -> None:
    response = browser.post("/lang/en")
    assert response.status_code == 302


def test_login_page_is_in_chinese_by_default(browser):
    html = browser.get("/login").get_data(as_text=True)

    assert html_lang(html) == "zh-CN"
    assert text_of(html, "title") == ["工作人员登录"]
    assert text_of(html, "h1") == ["工作人员登录"]
    assert text_of(html, "label") == ["用户名", "密码"]
    assert "登录" in text_of(html, "button")
    assert "Sign in" not in html
    # the switch offers the other language, named in that language
    assert "English" in text_of(html, "button")


def test_login_page_is_in_english_after_switching(browser):
    switch_to_english(browser)
    html = browser.get("/login").get_data(as_text=True)

    assert html_lang(html) == "en"
    assert text_of(html, "h1") == ["Staff sign-in"]
    assert text_of(html, "label") == ["User name", "Password"]
    assert "Sign in" in text_of(html, "button")
    assert "简体中文" in text_of(html, "button")
    assert "工作人员登录" not in html


def test_sign_in_error_follows_the_language(browser):
    form = {"username": "nobody", "password": "not the password"}
    html = browser.post("/login", data=form).get_data(as_text=True)
    assert "用户名或密码错误。" in html

    switch_to_english(browser)
    html = browser.post("/login", data=form).get_data(as_text=True)
    assert "Wrong user name or password." in html
    assert "用户名或密码错误" not in html


def test_form_checks_speak_the_language_of_each_visitor(app, browser):
    """WTForms' own messages follow each request's language, also when the process has
    already answered someone in the other one (it keeps one catalog per language)."""
    empty = {"username": "", "password": ""}
    html = browser.post("/login", data=empty).get_data(as_text=True)
    assert "该字段是必填字段。" in html

    switch_to_english(browser)
    html = browser.post("/login", data=empty).get_data(as_text=True)
    assert "This field is required." in html
    assert "该字段是必填字段" not in html

    html = app.test_client().post("/login", data=empty).get_data(as_text=True)
    assert "该字段是必填字段。" in html
    assert "This field is required." not in html


def test_public_index_is_in_chinese_by_default_and_english_on_request(browser):
    html = browser.get("/").get_data(as_text=True)
    assert html_lang(html) == "zh-CN"
    assert text_of(html, "h1") == ["各镇"]
    assert "回执查询" in text_of(html, "h2")
    assert "Look up a receipt" not in html

    switch_to_english(browser)
    html = browser.get("/").get_data(as_text=True)
    assert html_lang(html) == "en"
    assert text_of(html, "h1") == ["Townships"]
    assert "Look up a receipt" in text_of(html, "h2")
    assert "回执查询" not in html


def extracted_msgids() -> dict[str, tuple[str, int]]:
    """Every msgid the shipped packages use, with the first place (file, line) it is used."""
    found: dict[str, tuple[str, int]] = {}
    for package in PACKAGES:
        directory = ROOT / package
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(directory), method_map=METHOD_MAP, keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, (f"{package}/{filename}", lineno))
    return found


def test_zh_catalog_translates_every_message():
    used = extracted_msgids()
    assert len(used) > 100, "extraction found almost nothing: check METHOD_MAP and KEYWORDS"

    with open(CATALOG_DIR / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale="zh_Hans_CN")
    # a plugin with its own catalog (plugins/<key>/translations) is translated there; the
    # application merges it with the core's, so a message may be in either
    own = {}
    for po in ROOT.glob("plugins/*/translations/zh_Hans_CN/LC_MESSAGES/messages.po"):
        with open(po, "rb") as fh:
            own[po.parents[3].name] = read_po(fh, locale="zh_Hans_CN")

    def translated(message) -> bool:
        if message is None or message.fuzzy:
            return False
        strings = list(message.string) if isinstance(message.string, tuple) else [message.string]
        return all(s.strip() for s in strings)

    missing = []
    for msgid, (filename, lineno) in sorted(used.items(), key=lambda item: item[1]):
        parts = filename.split("/")
        plugin = parts[1] if parts[0] == "plugins" and len(parts) > 2 else None
        if translated(catalog.get(msgid)):
            continue
        if plugin in own and translated(own[plugin].get(msgid)):
            continue
        missing.append(f"  {filename}:{lineno}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} message(s) have no zh_CN translation; {HOW_TO_FIX}:\n" + "\n".join(missing)
    )

    problems = [
        f"  {message.id!r}: {error}" for message, errors in catalog.check() for error in errors
    ]
    assert not problems, "translations that would fail at run time:\n" + "\n".join(problems)

    with open(CATALOG_DIR / "messages.mo", "rb") as fh:
        compiled = read_mo(fh)
    for mo in ROOT.glob("plugins/*/translations/zh_Hans_CN/LC_MESSAGES/messages.mo"):
        with open(mo, "rb") as fh:
            for message in read_mo(fh):
                if message.id and not compiled.get(message.id):
                    compiled[message.id] = message
    stale = [f"  {msgid!r}" for msgid in sorted(used) if not compiled.get(msgid)]
    assert not stale, (
        f"{len(stale)} message(s) are translated but not compiled; run `make babel-compile`:\n"
        + "\n".join(stale)
    )


def test_no_message_is_hidden_in_an_f_string():
    """Babel's extractor does not look inside f-strings (Python 3.11), so such a message
    never reaches the catalogue and shows in English to every user."""
    hidden = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.JoinedStr):
                    continue
                for inner in ast.walk(node):
                    if (
                        isinstance(inner, ast.Call)
                        and isinstance(inner.func, ast.Name)
                        and inner.func.id in KEYWORDS
                    ):
                        where = path.relative_to(ROOT)
                        hidden.append(f"  {where}:{inner.lineno}: {ast.unparse(inner)}")
    assert not hidden, (
        "translated calls inside f-strings are not extracted; compute the message "
        "into a variable first, then use it in the f-string:\n" + "\n".join(hidden)
    )


def test_labels_of_two_enums_sharing_a_value_stay_their_own_in_each_language(app):
    """Labels are kept per process and language: a member of one enum never lends its
    words to another enum's member of the same value (StrEnum members equal their value)."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    from core.labels import LabelledEnum

    class Visit(LabelledEnum):
        again = "again"

        @classmethod
        def labels(cls):
            return {cls.again: _l("Another visit needed")}

    class Reply(LabelledEnum):
        again = "again"

        @classmethod
        def labels(cls):
            return {cls.again: _l("Approved, to be handed out")}

    with app.test_request_context("/"):
        with force_locale("en"):
            assert Visit.again.label == "Another visit needed"
            assert Reply.again.label == "Approved, to be handed out"
        with force_locale("zh_CN"):
            assert Visit.again.label != "Another visit needed"
            assert Visit.again.label != Reply.again.label
        with force_locale("en"):  # asked again: from the memo, still its own words
            assert Visit.again.label == "Another visit needed"
