"""The core's models. Plugins import the ones they need from here."""

from core.models.cases import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    LimitUnit,
    TimeLimitPolicy,
)
from core.models.duty import Absence, DutyChange, DutyPattern, DutyPost, DutySource
from core.models.identity import ApiToken, AuditEvent, Membership, Person, PersonCategory, User
from core.models.ops import (
    JobRun,
    JobSchedule,
    Notification,
    ProcessHeartbeat,
    ProducedRecord,
    SchedulerLease,
    TaskRecord,
    TaskStatus,
)
from core.models.orgs import (
    CalendarDay,
    InstitutionSetting,
    OrgUnit,
    PolicyValue,
    RoleGrant,
    UnitKind,
)

__all__ = [
    "OPEN_STATUSES",
    "Absence",
    "ApiToken",
    "AuditEvent",
    "CalendarDay",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "DutyChange",
    "DutyPattern",
    "DutyPost",
    "DutySource",
    "ExtensionRequest",
    "InstitutionSetting",
    "JobRun",
    "JobSchedule",
    "LimitUnit",
    "Membership",
    "Notification",
    "OrgUnit",
    "Person",
    "PersonCategory",
    "PolicyValue",
    "ProcessHeartbeat",
    "ProducedRecord",
    "RoleGrant",
    "SchedulerLease",
    "TaskRecord",
    "TaskStatus",
    "TimeLimitPolicy",
    "UnitKind",
    "User",
]
