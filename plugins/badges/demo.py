"""Demo cards for a township that enabled the badge institution (idempotent)."""

from __future__ import annotations

import struct
import zlib

from sqlalchemy import select

from core.db import db
from core.institutions import is_enabled
from core.models import OrgUnit
from plugins.badges import services
from plugins.badges.models import BadgeCard

POSTS = ["办事员", "民政助理员", "农业技术员", "党政办主任", "综治专干", "信息员"]


def sample_png(
    width: int = 60, height: int = 80, colour: tuple[int, int, int] = (70, 110, 160)
) -> bytes:
    """A plain-coloured PNG (a stand-in for a staff photo in the demo and the tests)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(colour) * width
    raw = row * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, services.KEY):
        return
    if db.session.scalar(select(BadgeCard.id).where(BadgeCard.township_id == township.id)):
        return
    services.ensure_numbering(township)
    stations = services.departments(township.id)
    for n, user in enumerate(services.township_staff(township.id)):
        card = services.save_card(
            township,
            services.CardInput(
                user_id=user.id,
                post=POSTS[n % len(POSTS)],
                department_id=stations[n % len(stations)].id if stations else None,
                office_phone=f"0471-66{n:05d}",
            ),
        )
        if n % 3 != 2:
            services.set_photo(card, sample_png(colour=(60 + 20 * (n % 5), 110, 160)), None)
            if n % 3 == 0:
                card.photo_consent = True
    db.session.flush()
