"""Demo data of service commitments: a matter answered on the spot, one assigned, and a
dispute that failed in the village and went to the township (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import clock
from core.db import db
from core.institutions import is_enabled
from core.models import Membership, OrgUnit, UnitKind, User
from plugins.commitment import services
from plugins.commitment.models import CommitmentDispute, CommitmentTake


def _user(township: OrgUnit, role: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_unit_id == township.id, Membership.role == role)
    )


def seed(township: OrgUnit) -> None:
    if not is_enabled(township.id, "commitment"):
        return
    if db.session.scalar(
        select(CommitmentTake.id).where(CommitmentTake.township_id == township.id)
    ):
        return
    leader, clerk = _user(township, "leader"), _user(township, "clerk")
    if leader is None or clerk is None:
        return
    services.take_matter(
        township,
        leader=leader,
        title="咨询危房改造补助标准",
        applicant_name="王桂兰",
        mode="on_spot",
        answer="当场解释补助标准并发放政策明白纸",
    )
    services.take_matter(
        township,
        leader=leader,
        title="村道积水影响出行",
        applicant_name="陈志强",
        mode="assigned",
        handler=clerk,
        urgency="pressing",
    )
    if db.session.scalar(
        select(CommitmentDispute.id).where(CommitmentDispute.township_id == township.id)
    ):
        return
    village = db.session.scalar(
        select(OrgUnit).where(OrgUnit.township_id == township.id, OrgUnit.kind == UnitKind.village)
    )
    today = clock.today(township)
    dispute = services.open_dispute(
        township,
        by=leader,
        title="两户宅基地边界纠纷",
        parties="张某与李某",
        village=village,
        opened_on=today - timedelta(days=6),
    )
    services.record_mediation(
        dispute,
        by=leader,
        level="village",
        held_on=today - timedelta(days=5),
        mediators="村调委会主任、村支书",
        outcome="failed",
    )
