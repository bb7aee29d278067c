"""The case page's trail reads as words, not database columns."""

from core import cases as svc


def test_trail_shows_actions_fields_and_names_in_words(db, staff, township, clerk, leader, station):
    case = svc.register_case(
        township=township,
        kind="service",
        title="开具证明",
        applicant_name="张三",
        first_responder=clerk,
        accept=True,
    )
    svc.assign_case(case, clerk, leader, station)
    staff.login(clerk)  # English
    html = staff.client.get(f"/admin/admin_cases/details/?id={case.id}").get_data(as_text=True)
    trail = html[html.index('id="case-events"') :]
    assert "Handler and department assigned" in trail
    assert leader.name in trail and station.name in trail
    assert "handler_id" not in trail and "department_id" not in trail
    assert "In progress" in trail and "in_progress" not in trail
    assert "working days" in trail and "working_days" not in trail


def test_status_filter_offers_statuses_in_words(db, staff, clerk):
    staff.login(clerk)
    page = staff.client.get("/admin/admin_cases/").get_data(as_text=True)
    # no case is listed: the label can only come from the status filter's options
    assert "Waiting for the citizen" in page
