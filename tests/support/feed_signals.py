"""What the posts table's stream tells the ranked feed's signals (functions/feed_signals), driven directly."""

from pinhole.feed.signals import FeedSignals
from pinhole.posts.dal import PostRepository
from pinhole.shared.clock import to_iso


def post_image(post_id: str) -> dict[str, object]:
    record = PostRepository().get(post_id)
    return {
        "post_id": record.post_id,
        "author_id": record.author_id,
        "created_at": to_iso(record.created_at),
        "status": record.status.value,
        "like_count": record.like_count,
        "comment_count": record.comment_count,
    }


def signal_published(post_id: str, signals: FeedSignals | None = None) -> None:
    """The pending → published record of the post, as the stream router delivers it."""
    new = post_image(post_id)
    (signals or FeedSignals()).post_changed("MODIFY", {**new, "status": "pending"}, new)
