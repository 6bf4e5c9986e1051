"""The contracts of stories: API.md's Story, the create request and response, and the stories feed."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from pinhole.posts.models import Media, MediaDeclaration, Upload
from pinhole.users.models import UserSummary

STORY_LIFETIME = timedelta(hours=24)
"""A story disappears this long after it is published."""
PUBLISHED_WITHIN = timedelta(hours=1)
"""A story is published within this long of its creation, or never: the sweep fails a story whose upload
has not arrived 30 minutes after creation (pinhole.upload.signer.UPLOAD_GRACE). So every live story has an
id made less than STORY_LIFETIME + PUBLISHED_WITHIN ago, and reads look no further back."""


class Story(BaseModel):
    story_id: str
    author: UserSummary
    media: Media
    created_at: str
    expires_at: str = Field(description="When it disappears: 24 hours after it was published (until then, provisional)")


class CreateStoryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    media: MediaDeclaration


class CreateStoryResponse(BaseModel):
    story: Story
    upload: Upload


class AuthorStories(BaseModel):
    author: UserSummary
    stories: list[Story] = Field(description="Oldest first, the order they play in")


class StoriesFeed(BaseModel):
    items: list[AuthorStories] = Field(description="Authors with the newest story first")
