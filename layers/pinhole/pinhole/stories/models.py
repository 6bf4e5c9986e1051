"""The contracts of stories: API.md's Story, the create request and response, and the stories feed."""

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from pinhole.posts.models import Media, MediaDeclaration, Upload
from pinhole.users.models import UserSummary

STORY_LIFETIME = timedelta(hours=24)
"""A story disappears this long after it was created (`POST /stories`), so every live story has an id made less
than STORY_LIFETIME ago (its id is made after its `created_at`), and reads by id look no further back."""


def expiry_of(created_at: datetime) -> datetime:
    """When a story created at `created_at` disappears, to the millisecond: fixed at creation, so `POST /stories`
    answers the very `expires_at` every later route shows, and every read judges expiry by it. (The TTL attribute
    holds it rounded up to the whole second, for DynamoDB's deletion only: pinhole.posts.dal.)"""
    return created_at + STORY_LIFETIME


class Story(BaseModel):
    story_id: str
    author: UserSummary
    media: Media
    created_at: str
    expires_at: str = Field(description="When it disappears: 24 hours after created_at, the same on every route")


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
