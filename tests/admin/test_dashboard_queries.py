"""The county administrator's home page asks a fixed number of queries, whatever the
number of townships in the county (every institution answers for all of them at once)."""

from __future__ import annotations

import pytest


@pytest.fixture
def county_of(county, create_unit, enable):
    """``county_of(n)``: n townships of the county, each with every institution enabled
    (the example plugin of the tests answers township by township, and is left out)."""
    from core.plugins import state

    keys = [info.key for info in state().institutions() if info.key != "example"]
    made: list = []

    def _grow(n: int) -> None:
        while len(made) < n:
            number = len(made) + 1
            unit = create_unit(f"第{number}镇", f"t{number}", "township", county)
            for key in keys:
                enable(unit, key)
            made.append(unit)

    return _grow


def home_page_queries(client, query_counter, emptied=None) -> list[str]:
    """The queries of the county's home page asked for a second time; ``emptied()`` runs
    in between (to empty the caches the first request filled)."""
    client.get("/admin/")
    if emptied is not None:
        emptied()
    with query_counter() as statements:
        page = client.get("/admin/")
    assert page.status_code == 200
    return statements


def test_the_county_home_page_asks_as_many_queries_for_four_townships_as_for_two(
    client, staff, county_admin, county_of, query_counter
):
    staff.login(county_admin)
    county_of(2)
    two = home_page_queries(client, query_counter)  # the page's caches are warm
    county_of(4)
    four = home_page_queries(client, query_counter)
    assert "第4镇" in client.get("/admin/").get_data(as_text=True)
    assert len(four) == len(two), "\n".join(four)


def test_on_cold_caches_the_county_home_page_reads_every_townships_settings_at_once(
    app, client, staff, county_admin, county_of, query_counter
):
    """Right after a restart (or a calendar or policy change), the page reads the
    townships' calendars, policies and zones together, not one township at a time."""
    from core import cache, clock

    def empty_the_caches() -> None:
        with app.app_context():
            cache.clear()
        clock.forget()

    staff.login(county_admin)
    county_of(2)
    two = home_page_queries(client, query_counter, empty_the_caches)
    county_of(4)
    four = home_page_queries(client, query_counter, empty_the_caches)
    assert len(four) == len(two), "\n".join(four)
