"""The supervision institution's staff pages: the group and its areas, township isolation,
enabling, and the zh_CN crawl over the demo county."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import clock, inbox
from core.institutions import set_enabled
from core.testing.crawl import crawl_admin
from plugins.supervision import services
from plugins.supervision.models import SupervisionCoverage, SupervisionMember

from .conftest import login


def test_the_group_gets_members_with_areas_and_terms_are_checked(
    client, db, supervision_township, township_admin, supervisor, group
):
    login(client, township_admin)
    bad = client.post(
        "/admin/supervision_terms/new/",
        data={"name": "下一届", "starts_on": "2031-01-01", "ends_on": "2030-01-01"},
    )
    assert "must not end before it starts" in bad.get_data(as_text=True)
    response = client.post(
        "/admin/supervision_members/new/",
        data={
            "term_id": group["term"].id,
            "user_id": township_admin.id,
            "role": "deputy",
            "area_ids": [group["area"].id],
        },
    )
    assert response.status_code == 302
    member = db.session.scalar(
        select(SupervisionMember).where(SupervisionMember.user_id == township_admin.id)
    )
    assert (
        db.session.scalar(
            select(SupervisionCoverage.area_id).where(SupervisionCoverage.member_id == member.id)
        )
        == group["area"].id
    )
    neither = client.post(
        "/admin/supervision_members/new/",
        data={"term_id": group["term"].id, "role": "member"},
    )
    assert "either a staff member or someone" in neither.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SupervisionMember.id))) == 2


def test_another_townships_findings_are_invisible(
    client, db, supervision_township, other_township, create_user, supervisor, group, clerk
):
    finding = services.record_finding(
        supervision_township,
        services.FindingInput(
            "attitude", clock.today(supervision_township), "态度差", area_id=group["area"].id
        ),
        supervisor,
    )
    set_enabled(other_township, "supervision", True)
    west_leader = create_user("wl", "leader", other_township, name="西镇领导")
    login(client, west_leader)
    assert "态度差" not in client.get("/admin/supervision_findings/").get_data(as_text=True)
    assert client.get(f"/admin/supervision_findings/handle/?id={finding.id}").status_code == 404
    assert (
        client.post(
            f"/admin/supervision_findings/handle/?id={finding.id}",
            data={"step": "dismiss", "reason": "x"},
        ).status_code
        == 404
    )
    assert inbox.page(west_leader)[1] == 0
    # a west area cannot be used for an east finding
    from plugins.supervision.models import SupervisionArea

    west_area = SupervisionArea(township_id=other_township.id, name="西镇窗口")
    db.session.add(west_area)
    db.session.commit()
    with pytest.raises(services.SupervisionError, match="another township"):
        services.record_finding(
            supervision_township,
            services.FindingInput(
                "attitude", clock.today(supervision_township), "x", area_id=west_area.id
            ),
            supervisor,
        )


def test_disabled_supervision_answers_404_and_asks_nothing(client, db, township, leader, clerk):
    set_enabled(township, "supervision", True)
    set_enabled(township, "supervision", False)
    assert client.get(f"/t/east/supervision/report?staff={clerk.id}").status_code == 404
    login(client, leader)
    assert client.get("/admin/supervision_findings/").status_code == 404
    assert all(i.source.key.split(".")[0] != "supervision" for i in inbox.page(leader)[0])
    from core.people import staff_links, year_figures

    assert not [link for link in staff_links(township, clerk) if "supervision" in link.url]
    assert "supervision.findings" not in {
        f.key for f in year_figures(township, 2026, [clerk.id]).get(clerk.id, [])
    }


@pytest.fixture
def demo_admin(demo_user):
    return demo_user("dongfeng-township-admin")


def test_every_supervision_admin_page_reads_in_chinese(client, db, demo_admin):
    from plugins.supervision.models import SupervisionFinding

    assert db.session.scalar(select(func.count(SupervisionFinding.id))) == 2  # the demo's
    login(client, demo_admin)
    findings, pages = crawl_admin(client, only="/admin/supervision_")
    assert pages >= 12
    assert findings == [], "\n".join(findings)
