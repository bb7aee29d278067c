"""Fixtures of the service commitment tests: an enabled township and closed cases."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args, zone=SHANGHAI):
    return time_machine.travel(datetime(*args, tzinfo=zone), tick=False)


@pytest.fixture
def commitment_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "commitment", True)
    return township


@pytest.fixture
def closed_case(db, commitment_township, clerk):
    """A case handled by ``handler``, accepted, resolved and closed at the given instants."""
    from core.cases import close_case, register_case, resolve_case

    def _make(handler, accepted, resolved, closed, kind="service", township=None):
        with at(*accepted):
            case = register_case(
                township=township or commitment_township,
                kind=kind,
                title="办理事项",
                applicant_name="群众",
                first_responder=clerk,
                handler=handler,
                accept=True,
            )
        with at(*resolved):
            resolve_case(case, handler, "办结")
        with at(*closed):
            close_case(case, handler)
        return case

    return _make


@pytest.fixture
def forget_zones():
    """Township ids come back in the next test: forget the zones cached for them."""
    from core import clock

    yield
    clock.forget()
