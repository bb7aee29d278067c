"""Fixtures for the evaluation institution's tests: an enabled township, closed cases."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from core.testing.fixtures import PASSWORD


@pytest.fixture
def evaluation_township(db, township):
    from core.institutions import set_enabled

    set_enabled(township, "evaluation", True)
    return township


@pytest.fixture
def closed_case(db, evaluation_township, clerk, station) -> Callable:
    """A case registered, handled by ``handler`` (the clerk by default), resolved and closed
    through the core's transitions."""
    from core import cases as svc

    def _make(handler=None, *, township=None, title="开具户籍证明", first_responder=None):
        township = township or evaluation_township
        responder = first_responder or clerk
        case = svc.register_case(
            township=township,
            kind="service",
            title=title,
            applicant_name="张三",
            first_responder=responder,
            accept=True,
        )
        svc.assign_case(
            case,
            responder,
            handler or responder,
            station if township.id == station.township_id else None,
        )
        svc.resolve_case(case, responder, "已办结")
        svc.close_case(case, responder)
        return case

    return _make


@pytest.fixture
def quick_ratings(db) -> Callable:
    """``n`` ratings of one level for a staff member on closed cases written directly (many
    cases, quickly), dated ``on``."""
    from datetime import date

    from core.models import Case, CaseStatus
    from plugins.evaluation.models import EvaluationRating, RatingChannel, RatingLevel

    counter = itertools.count(1)

    def _make(township, staff, level: str, n: int, on: date):
        for _ in range(n):
            k = next(counter)
            case = Case(
                township_id=township.id,
                kind="service",
                receipt_no=f"Q{k:06d}-{staff.id}",
                title=f"事项{k}",
                applicant_name="群众",
                first_responder_id=staff.id,
                handler_id=staff.id,
                status=CaseStatus.closed,
                received_on=on,
            )
            db.session.add(case)
            db.session.flush()
            db.session.add(
                EvaluationRating(
                    township_id=township.id,
                    case_id=case.id,
                    receipt_no=case.receipt_no,
                    staff_id=staff.id,
                    level=RatingLevel(level),
                    channel=RatingChannel.receipt,
                    rated_on=on,
                )
            )
        db.session.commit()

    return _make


def login(client, user):
    client.post("/login", data={"username": user.username, "password": PASSWORD})
