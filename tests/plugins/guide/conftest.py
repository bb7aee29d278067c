"""Fixtures of the service guide's tests: an enabled township, matters, a second station."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def guide_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "guide", True)
    return township


@pytest.fixture
def station2(create_unit, township):
    return create_unit("农业服务中心", "east-agri", "station", township)


@pytest.fixture
def make_matter(db, guide_township, station) -> Callable:
    from plugins.guide.models import GuideMatter, Place

    def _make(
        name="开具户籍关系证明",
        *,
        township=None,
        kind="service",
        fee_fen=0,
        place=Place.township,
        department=None,
        **kw,
    ):
        matter = GuideMatter(
            township_id=(township or guide_township).id,
            name=name,
            case_kind=kind,
            fee_standard_fen=fee_fen,
            place=place,
            department_id=(department or station).id if township is None else None,
            materials=kw.pop("materials", "居民身份证\n户口簿"),
            steps=kw.pop("steps", "提交材料\n当场办结"),
            **kw,
        )
        db.session.add(matter)
        db.session.commit()
        return matter

    return _make


@pytest.fixture
def forget_zones():
    """Township ids come back in the next test: forget the zones cached for them."""
    from core import clock

    yield
    clock.forget()
