"""Fixtures for the supervision institution's tests: an enabled township, its group."""

from __future__ import annotations

from datetime import date

import pytest

from core.testing.fixtures import PASSWORD


@pytest.fixture
def supervision_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "supervision", True)
    return township


@pytest.fixture
def supervisor(create_user, supervision_township):
    return create_user("sup", "supervision_member", supervision_township, name="监督员老周")


@pytest.fixture
def group(db, supervision_township, supervisor, station):
    """This and last year's term, an area for the civil affairs office, the supervisor
    covering it."""
    from plugins.supervision.models import (
        SupervisionArea,
        SupervisionCoverage,
        SupervisionMember,
        SupervisionTerm,
    )

    term = SupervisionTerm(
        township_id=supervision_township.id,
        name="监督小组",
        starts_on=date(2024, 1, 1),
        ends_on=date(2030, 12, 31),
    )
    area = SupervisionArea(
        township_id=supervision_township.id, name="民政窗口", department_id=station.id
    )
    db.session.add_all([term, area])
    db.session.flush()
    member = SupervisionMember(
        township_id=supervision_township.id, term_id=term.id, user_id=supervisor.id
    )
    db.session.add(member)
    db.session.flush()
    db.session.add(
        SupervisionCoverage(
            township_id=supervision_township.id, member_id=member.id, area_id=area.id
        )
    )
    db.session.commit()
    return {"term": term, "area": area, "member": member}


def sample_png(width: int = 40, height: int = 30) -> bytes:
    """A small grey PNG (a stand-in for an evidence photo)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    raw = (b"\x00" + b"\x80\x80\x80" * width) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def login(client, user):
    client.post("/login", data={"username": user.username, "password": PASSWORD})
