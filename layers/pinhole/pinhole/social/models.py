"""The contracts of the social context: likes, API.md's Comment, saved posts and their collections."""

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from pinhole.shared.text import MULTI_LINE_TEXT, nfc_if_text, not_blank
from pinhole.users.models import UserSummary

COMMENT_MAX = 2200
COLLECTION_NAME_MAX = 50
DEFAULT_COLLECTION = "saved"

CommentText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=COMMENT_MAX, pattern=MULTI_LINE_TEXT)
]
"""1 to 2200 characters once trimmed: a comment of blanks is no comment."""

# `#` separates the parts of the keys a collection name goes into (pinhole.social.dal), so a name
# holding one could read as the prefix of another's. The validator listed last runs first: the name is
# composed (NFC) before it is trimmed and measured.
CollectionName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=COLLECTION_NAME_MAX, pattern=not_blank(r"#\x00-\x1f\x7f")
    ),
    BeforeValidator(nfc_if_text),
]
"""1 to 50 characters once trimmed, without `#` or control characters; in NFC (an accent typed as a combining
mark is the precomposed letter: "Café" is one collection however it was typed), and case-sensitive, as typed
("Trips" and "trips" are two collections, as on Instagram)."""


class LikeState(BaseModel):
    liked: bool
    like_count: int


class CreateCommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: CommentText


class Comment(BaseModel):
    comment_id: str
    post_id: str
    author: UserSummary
    text: str
    created_at: str = Field(description="ISO 8601 UTC, e.g. 2026-11-22T10:00:00.123Z")


class SaveRequest(BaseModel):
    """The optional body of POST and DELETE /posts/{post_id}/save."""

    model_config = ConfigDict(extra="forbid")

    collection: CollectionName = DEFAULT_COLLECTION


class Collection(BaseModel):
    name: str
    post_count: int


class Collections(BaseModel):
    items: list[Collection]


class CommentRecord(BaseModel):
    """A comment as the interactions table keeps it (the author by id: profiles can change)."""

    comment_id: str
    post_id: str
    author_id: str
    text: str
    created_at: str
    removed: bool = False  # by a moderator: listed nowhere, not counted, restorable
