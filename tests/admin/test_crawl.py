"""Every admin page in zh_CN, as the county administrator with the demo county: no raw
codes, no True/False, no English from flask-admin or WTForms, no server error."""

import pytest

from core.testing.crawl import crawl_admin


@pytest.fixture
def demo_county(app, db):
    from sqlalchemy import select

    from core.demo import load_demo
    from core.models import User

    load_demo()
    return db.session.scalar(select(User).where(User.username == "county"))


def test_every_admin_page_reads_in_chinese(app, client, demo_county):
    from core.auth import hash_password
    from core.testing.fixtures import PASSWORD

    demo_county.password_hash = hash_password(PASSWORD)
    from core.db import db

    db.session.commit()
    client.post("/login", data={"username": "county", "password": PASSWORD})
    findings, pages = crawl_admin(client)
    print(f"crawled {pages} pages")
    assert pages > 30
    assert findings == [], "\n".join(findings)
