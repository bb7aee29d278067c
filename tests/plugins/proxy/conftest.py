"""Fixtures of proxy handling's tests: an enabled township, a case, a record."""

from __future__ import annotations

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def proxy_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "proxy", True)
    return township


@pytest.fixture
def make_case(db, proxy_township, clerk):
    from core.cases import register_case

    def _make(title="代办宅基地审批", township=None, responder=None):
        return register_case(
            township=township or proxy_township,
            kind="approval",
            title=title,
            applicant_name="张建国",
            first_responder=responder or clerk,
            accept=True,
        )

    return _make


@pytest.fixture
def record(db, make_case, clerk, leader):
    from plugins.proxy import services

    return services.take_over(
        make_case(),
        staff=clerk,
        leader=leader,
        reason="county",
        materials=[("宅基地申请书", 1, True), ("户口簿复印件", 2, False)],
    )
