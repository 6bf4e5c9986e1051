"""The contracts of the search context: API.md's search results, and the records the index keeps."""

from pydantic import BaseModel

from pinhole.posts.models import PostStatus
from pinhole.users.models import UserSummary

QUERY_MAX = 100
"""The longest search text accepted (a display name is at most 64 characters, a username 30)."""


class UserResults(BaseModel):
    """GET /search/users: exact username match first, then by follower count."""

    items: list[UserSummary]


class TagCount(BaseModel):
    tag: str
    post_count: int


class TagResults(BaseModel):
    """GET /search/tags: the exact tag first, then by post count."""

    items: list[TagCount]


class TagEntry(BaseModel):
    """A published post as a tag's index lists it (the author by id, to hydrate and filter the page)."""

    post_id: str
    author_id: str


class IndexedUser(BaseModel):
    """What the users index is made of, as a stream image carries it."""

    user_id: str
    username: str
    display_name: str = ""
    follower_count: int = 0


class IndexedPost(BaseModel):
    """What the tags index is made of, as a stream image carries it."""

    post_id: str
    author_id: str
    status: PostStatus
    tags: list[str] = []
