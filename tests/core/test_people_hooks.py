"""Hooks institutions use to offer figures per person, public links and public panels."""

from core.institutions import set_enabled
from core.people import staff_links, year_figures
from core.testing.fixtures import page_text


def test_township_person_year_figures(db, township, clerk, leader):
    assert year_figures(township, 2026, [clerk.id]) == {}  # not enabled: not asked
    set_enabled(township, "example", True)
    figures = year_figures(township, 2026, [clerk.id])
    assert list(figures) == [clerk.id]
    assert [(f.key, f.value, f.met) for f in figures[clerk.id]] == [("example.notes", 1, True)]


def test_township_staff_public_links(db, township, clerk):
    assert staff_links(township, clerk) == []
    set_enabled(township, "example", True)
    assert [link.url for link in staff_links(township, clerk)] == [
        f"/t/east/example/?rate={clerk.id}"
    ]


def test_township_public_sections(client, db, township):
    assert page_text(client.get("/t/east/").get_data(as_text=True), "#example-public") == ""
    set_enabled(township, "example", True)
    html = client.get("/t/east/").get_data(as_text=True)
    assert page_text(html, "#example-public") == "东镇"
