"""What service commitments do when the core calls them: inbox sources."""

from __future__ import annotations

from sqlalchemy import Date, cast, null, select

from core.access import township_ids_with
from core.contract import InboxSource
from core.models import OPEN_STATUSES, Case, User
from plugins.commitment import services
from plugins.commitment.models import CommitmentDispute, CommitmentTake, DisputeStatus


def inbox_sources(user: User, township_ids: set[int]) -> list[InboxSource]:
    """Matters a leader assigned to this user (due by the deadline) and, for mediators,
    disputes under mediation."""
    sources = [
        InboxSource(
            services.INBOX_ASSIGNED,
            "领导交办的服务承诺事项",
            "Commitment assigned by a leader",
            select(
                CommitmentTake.case_id.label("object_id"),
                Case.title.label("title"),
                CommitmentTake.township_id.label("township_id"),
                CommitmentTake.created_at.label("since"),
                CommitmentTake.deadline.label("due_on"),
            )
            .join(Case, Case.id == CommitmentTake.case_id)
            .where(
                CommitmentTake.handler_id == user.id,
                Case.status.in_(OPEN_STATUSES),
                CommitmentTake.township_id.in_(township_ids),
            ),
            "admin_cases.details_view",
        )
    ]
    mediating = township_ids_with(user, services.MEDIATE) & township_ids
    if mediating:
        sources.append(
            InboxSource(
                services.INBOX_DISPUTE,
                "调处中的纠纷",
                "Dispute under mediation",
                select(
                    CommitmentDispute.id.label("object_id"),
                    CommitmentDispute.title.label("title"),
                    CommitmentDispute.township_id.label("township_id"),
                    CommitmentDispute.created_at.label("since"),
                    cast(null(), Date).label("due_on"),
                ).where(
                    CommitmentDispute.status == DisputeStatus.open,
                    CommitmentDispute.township_id.in_(mediating),
                ),
                "commitment_disputes.details_view",
            )
        )
    return sources
