"""The contracts of the privacy context: deleting an account (GDPR Art. 17) and downloading one's data (Art. 20)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class UserRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str
    username: str


class DeleteAccountRequest(BaseModel):
    """DELETE /me: the password again, so a borrowed unlocked phone cannot delete an account."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=256)


class DeletionScheduled(BaseModel):
    purge_after: str  # ISO 8601 UTC: logging in (or POST /me/reactivate) before then restores everything


class ScheduledDeletion(BaseModel):
    """One deletion of an account, as its marker holds it: whose, and when it becomes final. A later deletion
    of the same account (after a reactivation) is another one: its `purge_after` differs."""

    model_config = ConfigDict(frozen=True)

    user: UserRef
    purge_after: datetime


class PurgeProgress(BaseModel):
    """Where a purge is: the step under way and where in it (a crash resumes here)."""

    user: UserRef
    step: str
    cursor: str | None = None


class PurgeRequest(BaseModel):
    """The purge queue's message."""

    user_id: str


class ExportStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class ExportJob(BaseModel):
    status: ExportStatus
    requested_at: datetime | None = None
    object_key: str | None = None
    finished_at: datetime | None = None


class ExportRequest(BaseModel):
    """The export queue's message: which request of which user (a newer request supersedes it)."""

    user_id: str
    requested_at: datetime


class ExportStarted(BaseModel):
    status: ExportStatus


class ExportView(BaseModel):
    """GET /me/export."""

    status: ExportStatus
    requested_at: str
    url: str | None = None
    expires_at: str | None = None
