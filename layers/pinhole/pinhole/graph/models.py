"""The contracts of the social graph: who follows whom, and who asked to."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, StrictBool


class FollowStatus(StrEnum):
    FOLLOWING = "following"
    REQUESTED = "requested"


class FollowResult(BaseModel):
    status: FollowStatus


class FollowRequestDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: StrictBool


class Relationship(BaseModel):
    """How the viewer stands towards another user (the `*_by_me` fields of API.md's User)."""

    following: bool = False
    requested: bool = False
