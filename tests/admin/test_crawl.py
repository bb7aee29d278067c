"""Every admin page in zh_CN, as the county administrator with the demo county: no raw
codes, no True/False, no English from flask-admin or WTForms, no server error."""

import pytest

from core.testing.crawl import crawl_admin


@pytest.fixture
def demo_county(demo_user):
    return demo_user("county")


def test_every_admin_page_reads_in_chinese(app, client, demo_county):
    from core.testing.fixtures import PASSWORD

    client.post("/login", data={"username": "county", "password": PASSWORD})
    findings, pages = crawl_admin(client)
    print(f"crawled {pages} pages")
    assert pages > 30
    assert findings == [], "\n".join(findings)
