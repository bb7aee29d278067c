"""Plugins ship their own catalogs; one word must read the same on every page.

Flask-Babel merges every catalog into one table, so a msgid translated differently in
two catalogs would read one way or the other depending on load order. The core's
catalog wins (it is merged last); a plugin that means something else uses another
msgid (e.g. "Fee amount" rather than "Amount").
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def catalogs() -> dict[str, dict[str, str]]:
    found = {}
    for po in sorted(ROOT.glob("**/translations/zh_Hans_CN/LC_MESSAGES/messages.po")):
        if ".venv" in po.parts:
            continue
        owner = po.relative_to(ROOT).parts[1] if po.parts[-6] == "plugins" else "core"
        with po.open("rb") as fh:
            found[owner] = {
                m.id: m.string
                for m in read_po(fh)
                if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
            }
    return found


def test_no_two_catalogs_translate_one_message_differently():
    seen: dict[str, dict[str, str]] = {}
    for owner, table in catalogs().items():
        for msgid, text in table.items():
            seen.setdefault(msgid, {})[owner] = text
    clashes = {m: t for m, t in seen.items() if len(set(t.values())) > 1}
    assert not clashes, "\n".join(f"{m!r}: {t}" for m, t in sorted(clashes.items()))


def test_the_core_word_wins_on_every_page(app):
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("zh_CN"):
        assert gettext("Closed") == catalogs()["core"]["Closed"]
