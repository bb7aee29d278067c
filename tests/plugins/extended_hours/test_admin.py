"""Extended hours in the staff site: the zh_CN crawl over the demo, another township's
rows, switching the institution off and on, recording a service, lists in fixed queries."""

from __future__ import annotations

from sqlalchemy import func, select

from core.testing.fixtures import PASSWORD
from plugins.extended_hours.models import ExtendedHoursService
from tests.plugins.extended_hours.conftest import login


def test_every_extended_hours_admin_page_reads_in_chinese_with_demo_data(app, client, db):
    from core.auth import hash_password
    from core.demo import load_demo
    from core.models import User
    from core.testing.crawl import crawl_admin

    load_demo()
    admin = db.session.scalar(select(User).where(User.username == "dongfeng-township-admin"))
    admin.password_hash = hash_password(PASSWORD)
    db.session.commit()
    assert db.session.scalar(select(func.count(ExtendedHoursService.id))) == 2
    login(client, admin)
    findings, pages = crawl_admin(client, only="/admin/extended_hours_")
    extra = ["/admin/extended_hours_services/new/"]
    for entry in db.session.scalars(select(ExtendedHoursService)):
        extra.append(f"/admin/extended_hours_services/details/?id={entry.id}")
    found, more = crawl_admin(client, start=extra, only="/admin/extended_hours_")
    findings += found
    pages += more
    assert pages >= 6
    assert findings == [], "\n".join(findings)
    load_demo()
    assert db.session.scalar(select(func.count(ExtendedHoursService.id))) == 2
