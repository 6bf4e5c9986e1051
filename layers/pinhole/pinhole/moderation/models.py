"""The contracts of the moderation context (API.md "Next wave", *Safety*): a report and its receipt, the
reporter's view of their reports, a moderation case (one per reported target), a moderator's action, and
the audit log's entries."""

import hashlib
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pinhole.shared.text import MULTI_LINE, MULTI_LINE_TEXT
from pinhole.users.models import UserSummary

TargetId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_#/-]{1,160}$")]
"""A post, story or user id; a comment as `<post_id>/<comment_id>`, a message as `<conversation_id>/<message_id>`."""
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=MULTI_LINE)]


class TargetType(StrEnum):
    POST = "post"
    COMMENT = "comment"
    STORY = "story"
    USER = "user"
    MESSAGE = "message"


def case_id_of(target_type: TargetType, target_id: str) -> str:
    """The one case of a target, whoever reports it and however often."""
    return hashlib.blake2b(f"{target_type.value}:{target_id}".encode(), digest_size=12).hexdigest()


class Reason(StrEnum):
    SPAM = "spam"
    NUDITY = "nudity"
    HARASSMENT = "harassment"
    VIOLENCE = "violence"
    HATE = "hate"
    SELF_HARM = "self_harm"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    OTHER = "other"


SEVERITY: dict[Reason, int] = {
    Reason.SELF_HARM: 8,  # a life may be at stake: first in the queue
    Reason.VIOLENCE: 7,
    Reason.NUDITY: 6,
    Reason.HATE: 5,
    Reason.HARASSMENT: 4,
    Reason.INTELLECTUAL_PROPERTY: 3,
    Reason.SPAM: 2,
    Reason.OTHER: 1,
}
"""How urgent a report is by its reason; a case is as urgent as its most urgent report (docs/SECURITY.md)."""


class ReportStatus(StrEnum):
    OPEN = "open"
    ACTIONED = "actioned"  # a moderator removed the target or suspended its author
    DISMISSED = "dismissed"  # looked at: nothing to do


class CaseStatus(StrEnum):
    OPEN = "open"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"


class Action(StrEnum):
    REMOVE = "remove"
    RESTORE = "restore"
    DISMISS = "dismiss"
    SUSPEND_USER = "suspend_user"
    UNSUSPEND_USER = "unsuspend_user"


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_type: TargetType
    target_id: TargetId = Field(
        description="The post, story or user id; a comment as `<post_id>/<comment_id>`, a message as "
        "`<conversation_id>/<message_id>`"
    )
    reason: Reason
    note: Note | None = Field(default=None, description="What the moderators should know (at most 1000 characters)")


class ReportReceipt(BaseModel):
    report_id: str


class MyReport(BaseModel):
    report_id: str
    target_type: TargetType
    target_id: str
    reason: Reason
    status: ReportStatus
    created_at: str


class ReportRecord(BaseModel):
    """A report as the moderation table keeps it."""

    report_id: str
    case_id: str
    reporter_id: str
    target_type: TargetType
    target_id: str
    reason: Reason
    note: str | None = None
    status: ReportStatus = ReportStatus.OPEN
    created_at: str


class Label(BaseModel):
    """A label automatic image screening found (Rekognition's name, its parent category, confidence 0-100)."""

    name: str
    parent: str = ""
    confidence: float


class CaseRecord(BaseModel):
    case_id: str
    target_type: TargetType
    target_id: str
    author_id: str = Field(description="Whose content it is (a user target: the user)")
    status: CaseStatus = CaseStatus.OPEN
    severity: int = 0
    report_count: int = 0
    reasons: dict[str, int] = Field(default_factory=dict)
    labels: list[Label] = Field(default_factory=list)
    opened_at: str
    updated_at: str
    last_action: Action | None = None
    version: int = Field(default=0, description="Each write of the case adds one: writes are conditioned on it")


class Case(BaseModel):
    """A moderation case: one per reported (or automatically held) target, with its reports counted by reason."""

    case_id: str
    target_type: TargetType
    target_id: str
    author: UserSummary | None = Field(description="Whose content it is; null if the account is gone")
    author_suspended: bool
    status: CaseStatus
    severity: int = Field(description="The most urgent reason's severity (8 self_harm ... 1 other); the queue's order")
    report_count: int
    reasons: dict[str, int] = Field(description="Open reports by reason")
    labels: list[Label] = Field(description="What automatic image screening found, when it held the post")
    opened_at: str
    updated_at: str
    last_action: Action | None


class CaseReport(BaseModel):
    report_id: str
    reporter: UserSummary | None
    reason: Reason
    note: str | None
    status: ReportStatus
    created_at: str


class CaseDetail(Case):
    target: dict[str, Any] | None = Field(
        description="The target as it is now, even removed or held: a Post or a Story (with `status`: published, "
        "in_review, removed...), a Comment or a Message (with `removed`), a User (with `suspended`); null once deleted"
    )
    reports: list[CaseReport]


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    note: Annotated[Note, StringConstraints(min_length=1, pattern=MULTI_LINE_TEXT)] = Field(
        description="Why: kept in the audit log, and sent to the author with a removal"
    )


class LogTarget(BaseModel):
    type: TargetType
    id: str


class LogEntry(BaseModel):
    """One line of the append-only audit log: who did what to which case, when and why."""

    action: Action
    moderator: UserSummary
    case_id: str
    target: LogTarget
    note: str
    at: str
    confirmed: bool = Field(
        default=True,
        description="false: the action was begun but the end of it was never recorded (the function failed in "
        "between), so it may or may not have taken effect; the case shows its target as it is",
    )


class LogRecord(BaseModel):
    entry_id: str
    action: Action
    moderator_id: str
    moderator_username: str
    case_id: str
    target_type: TargetType
    target_id: str
    note: str
    at: str
    unconfirmed: bool = False
