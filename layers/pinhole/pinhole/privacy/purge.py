"""The purge of a deleted account, after its grace period: every item and object of the user, in every table
and bucket, then the Cognito user, last.

It runs as steps, in order, each a page at a time; after each page its progress (step and cursor) is saved,
so a purge that crashes resumes where it stopped (at most one page is done again), and every action in a page
is idempotent — an unlike that already happened changes nothing, a delete of something gone is a no-op — so
doing a page twice, or receiving the queue's message twice, changes nothing. Counts of others move through
the same transactions the API uses (unlike, comment deletion, unfollow), so they stay exact.

The user's data is found by a filtered Scan of each table (their id in a key or in an attribute): exact,
whatever index exists, at the cost of reading each table once per purge (docs/PRIVACY.md, *Cost*)."""

import hashlib
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from pinhole.auth.identity import CognitoIdentity
from pinhole.feed.ranking_dal import AFFINITY, SNAPSHOT, snapshot_lists_author
from pinhole.graph.dal import BLOCKS, FOLLOWS, MUTES, REQUESTED, GraphRepository
from pinhole.notifications.dal import GROUP, NOTIFICATION, NotificationRepository
from pinhole.posts.dal import PostRepository
from pinhole.privacy import dal
from pinhole.privacy.dal import PurgeRepository
from pinhole.privacy.models import PurgeProgress
from pinhole.shared.errors import NotFound
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings
from pinhole.social.dal import COMMENT, LIKE, VISIT, InteractionRepository
from pinhole.users.logic import DELETED_ACCOUNT_PREFIX

PAGE = 100
AVATARS = "avatars/"
EXPORTS = "exports/"
POSTS = "posts/"
DONE = "done"

Step = Callable[["Purge", str | None], str | None]


def deleted_conversation_id(conversation_id: str, other_id: str) -> str:
    """Where the other participant's side of a conversation with a deleted account goes: the old id names
    the deleted user, the new one does not (a one-way hash of it, so a resumed purge finds the same)."""
    placeholder = f"{DELETED_ACCOUNT_PREFIX}{hashlib.sha256(conversation_id.encode()).hexdigest()[:20]}"
    return "_".join(sorted((other_id, placeholder)))


class Purge:
    """One user's purge. Collaborators are parameters, so a test can inject a crash at any step."""

    def __init__(
        self,
        progress: PurgeProgress,
        purges: PurgeRepository | None = None,
        identity: CognitoIdentity | None = None,
        posts: PostRepository | None = None,
        interactions: InteractionRepository | None = None,
        graph: GraphRepository | None = None,
        notifications: NotificationRepository | None = None,
    ) -> None:
        self.progress = progress
        self.user_id = progress.user.user_id
        self.username = progress.user.username
        self.purges = purges or PurgeRepository()
        self.identity = identity or CognitoIdentity()
        self.posts = posts or PostRepository()
        self.interactions = interactions or InteractionRepository()
        self.graph = graph or GraphRepository()
        self.notifications = notifications or NotificationRepository()
        self.settings = get_settings()

    # The steps, in order: content first (its counts are others'), the profile and the identity last.

    def posts_step(self, cursor: str | None) -> str | None:
        """The user's posts and stories (any status): their originals, the likes and comments on them, then
        the post itself (its stream REMOVE takes it out of feeds, tags and the CDN, as a deletion by hand)."""
        page = dal.scan_page(self.settings.posts_table_name, "author_id = :u", {":u": self.user_id}, cursor, PAGE)
        for item in page.items:
            post_id = item["post_id"]
            dal.delete_objects(self.settings.uploads_bucket_name, f"{POSTS}{post_id}/")
            for interaction in dal.query_all(self.settings.interactions_table_name, "pk", f"post#{post_id}"):
                dal.delete_item(
                    self.settings.interactions_table_name, {"pk": interaction["pk"], "sk": interaction["sk"]}
                )
            try:
                self.posts.delete(self.posts.get(post_id))
            except NotFound:
                continue
        return page.cursor

    def interactions_step(self, cursor: str | None) -> str | None:
        """Their likes and comments on others' posts (each taking its count back exactly), their saved posts
        and collections."""
        table = self.settings.interactions_table_name
        page = dal.scan_page(
            table,
            "sk IN (:like, :visit) OR author_id = :u OR user_id = :u OR pk = :mine",
            {
                ":like": f"{LIKE}{self.user_id}",
                ":visit": f"{VISIT}{self.user_id}",
                ":u": self.user_id,
                ":mine": f"user#{self.user_id}",
            },
            cursor,
            PAGE,
        )
        for item in page.items:
            post_id = item.get("post_id") or item["pk"].removeprefix("post#")
            if item["sk"].startswith(LIKE):
                self.interactions.unlike(post_id, self.user_id)
            elif item["sk"].startswith(COMMENT):
                with suppress(NotFound):  # gone with its post: deleted below, no count to move
                    self.interactions.delete_comment(post_id, item["sk"].removeprefix(COMMENT))
            # Whatever is left (a like or comment on a post already gone, saved items): no count to move.
            dal.delete_item(table, {"pk": item["pk"], "sk": item["sk"]})
        return page.cursor

    def graph_step(self, cursor: str | None) -> str | None:
        """Follows both ways (counts of the others exact), requests, blocks and mutes both ways."""
        table = self.settings.graph_table_name
        page = dal.scan_page(table, "source_id = :u OR target_id = :u", {":u": self.user_id}, cursor, PAGE)
        for item in page.items:
            source, target, kind = item["source_id"], item["target_id"], item["sk"]
            if kind.startswith(FOLLOWS):
                self.graph.unfollow(source, target)
            elif kind.startswith(REQUESTED):
                self.graph.withdraw_request(source, target)
            elif kind.startswith(BLOCKS):
                self.graph.unblock(source, target)
            elif kind.startswith(MUTES):
                self.graph.unmute(source, target)
            dal.delete_item(table, {"pk": item["pk"], "sk": item["sk"]})
        return page.cursor

    def feeds_step(self, cursor: str | None) -> str | None:
        """Their own feed, and whatever of theirs is still in others' (the posts' REMOVE retracts most): others'
        affinity for them, and others' ranked snapshots that list their posts (that viewer's next page of it is
        410 `cursor_expired`, as after an hour)."""
        table = self.settings.feeds_table_name
        page = dal.scan_page(
            table,
            "user_id = :u OR author_id = :u OR sk IN (:celeb, :affinity) OR begins_with(sk, :snapshot)",
            {
                ":u": self.user_id,
                ":celeb": f"celeb#{self.user_id}",
                ":affinity": f"{AFFINITY}{self.user_id}",
                ":snapshot": SNAPSHOT,
            },
            cursor,
            PAGE,
        )
        for item in page.items:
            others_snapshot = item["sk"].startswith(SNAPSHOT) and item["user_id"] != self.user_id
            if others_snapshot and not snapshot_lists_author(bytes(item["data"]), self.user_id):
                continue
            dal.delete_item(table, {"user_id": item["user_id"], "sk": item["sk"]})
        return page.cursor

    def notifications_step(self, cursor: str | None) -> str | None:
        """Theirs, and others' about them (they were the actor) with the pointers that name them."""
        table = self.settings.notifications_table_name
        page = dal.scan_page(
            table,
            "user_id = :u OR actor_id = :u OR contains(actor_ids, :u) OR contains(sk, :u) OR contains(#source, :u)",
            {":u": self.user_id},
            cursor,
            PAGE,
            names={"#source": "source"},
        )
        for item in page.items:
            sk = item["sk"]
            if item["user_id"] != self.user_id and sk.startswith((NOTIFICATION, GROUP)) and self.user_id not in sk:
                self.notifications.forget_actor(item["user_id"], sk, self.user_id)
            else:
                dal.delete_item(table, {"user_id": item["user_id"], "sk": sk})
        return page.cursor

    def messages_step(self, cursor: str | None) -> str | None:
        """Conversations: the other participant keeps theirs, under a new id that does not name the deleted
        user, with their own messages; the deleted user's messages are erased (docs/PRIVACY.md says why)."""
        table = self.settings.messages_table_name
        page = dal.scan_page(table, "pk = :mine", {":mine": f"user#{self.user_id}"}, cursor, PAGE)
        for entry in page.items:
            self._hand_over_conversation(entry["conversation_id"], entry["with_id"])
            dal.delete_item(table, {"pk": entry["pk"], "sk": entry["sk"]})
        if page.cursor is None:
            for receipt in dal.query_all(table, "pk", f"sent#{self.user_id}"):
                dal.delete_item(table, {"pk": receipt["pk"], "sk": receipt["sk"]})
        return page.cursor

    def _hand_over_conversation(self, conversation_id: str, other_id: str) -> None:
        table = self.settings.messages_table_name
        new_id = deleted_conversation_id(conversation_id, other_id)
        placeholder = next(part for part in new_id.split("_") if part != other_id)
        kept: list[dict[str, Any]] = []
        old_messages = list(dal.query_all(table, "pk", f"conv#{conversation_id}"))
        for message in old_messages:  # copied before anything is deleted: a crash loses nothing of theirs
            if message.get("sender_id") == other_id:
                copy = {**message, "pk": f"conv#{new_id}", "conversation_id": new_id}
                dal.put_item(table, copy)
                kept.append(copy)
        old_entry = dal.get_item(table, {"pk": f"user#{other_id}", "sk": f"conv#{conversation_id}"})
        if old_entry is not None:
            entry: dict[str, Any] = {
                "pk": f"user#{other_id}",
                "sk": f"conv#{new_id}",
                "conversation_id": new_id,
                "inbox_user": other_id,
                "user_id": other_id,
                "with_id": placeholder,
                "unread_count": 0,  # what was unread was the deleted user's
                "last_activity": old_entry.get("last_activity") or old_entry["sk"],
            }
            if kept:
                latest = max(kept, key=lambda message: message["sk"])
                entry.update(
                    last_message_id=latest["message_id"],
                    last_sender_id=other_id,
                    last_text=latest.get("text", ""),
                    last_created_at=latest.get("created_at", ""),
                    last_activity=latest["message_id"],
                )
            dal.put_item(table, entry)
            dal.delete_item(table, {"pk": old_entry["pk"], "sk": old_entry["sk"]})
        for message in old_messages:
            dal.delete_item(table, {"pk": message["pk"], "sk": message["sk"]})

    def connections_step(self, cursor: str | None) -> str | None:
        table = self.settings.connections_table_name
        for item in dal.query_all(table, "user_id", self.user_id):
            dal.delete_item(table, {"user_id": item["user_id"], "connection_id": item["connection_id"]})
        return None

    def rate_limits_step(self, cursor: str | None) -> str | None:
        """Counters keyed by their id or username (their TTL would remove them within a day anyway)."""
        table = self.settings.rate_limits_table_name
        # A username between its key's separators (`action#name#window`, the log-in guard's `kind#name|address`
        # and `seen#login|name|address`), never as a substring of another name.
        page = dal.scan_page(
            table,
            "contains(#key, :u) OR contains(#key, :a) OR contains(#key, :b) OR contains(#key, :c)",
            {
                ":u": self.user_id,
                ":a": f"#{self.username}#",
                ":b": f"#{self.username}|",
                ":c": f"|{self.username}|",
            },
            cursor,
            PAGE,
            names={"#key": "key"},
        )
        for item in page.items:
            dal.delete_item(table, {"key": item["key"]})
        return page.cursor

    def objects_step(self, cursor: str | None) -> str | None:
        """Avatars (originals and renditions) and exports; posts' objects went with the posts."""
        dal.delete_objects(self.settings.uploads_bucket_name, f"{AVATARS}{self.user_id}/")
        dal.delete_objects(self.settings.uploads_bucket_name, f"{EXPORTS}{self.user_id}/")
        from pinhole.resize.purge import purge_prefix  # the CDN forgets them too (the invalidations queue)

        purge_prefix(f"{AVATARS}{self.user_id}/")
        return None

    def profile_step(self, cursor: str | None) -> str | None:
        """The profile: its REMOVE takes the user out of search."""
        dal.delete_item(self.settings.users_table_name, {"user_id": self.user_id})
        return None

    def identity_step(self, cursor: str | None) -> str | None:
        self.identity.delete_user_if_exists(self.username)
        return None

    def steps(self) -> list[tuple[str, Step]]:
        return [
            ("posts", Purge.posts_step),
            ("interactions", Purge.interactions_step),
            ("graph", Purge.graph_step),
            ("feeds", Purge.feeds_step),
            ("notifications", Purge.notifications_step),
            ("messages", Purge.messages_step),
            ("connections", Purge.connections_step),
            ("rate_limits", Purge.rate_limits_step),
            ("objects", Purge.objects_step),
            ("profile", Purge.profile_step),
            ("identity", Purge.identity_step),
        ]

    def run(self, deadline: float | None = None, clock: Callable[[], float] = time.monotonic) -> bool:
        """Runs from where the progress says until done (True) or `deadline` (False: continue later)."""
        names = [name for name, _ in self.steps()]
        start = names.index(self.progress.step) if self.progress.step in names else 0
        cursor = self.progress.cursor if self.progress.step in names else None
        for name, step in self.steps()[start:]:
            while True:
                cursor = step(self, cursor)
                self.progress = PurgeProgress(user=self.progress.user, step=name, cursor=cursor)
                if cursor is None:
                    break
                self.purges.save(self.progress)
                if deadline is not None and clock() > deadline:
                    return False
            following = names.index(name) + 1
            next_step = names[following] if following < len(names) else DONE
            self.progress = PurgeProgress(user=self.progress.user, step=next_step)
            if next_step != DONE:
                self.purges.save(self.progress)
            if deadline is not None and clock() > deadline and next_step != DONE:
                return False
        self.purges.finish(self.user_id)  # last: the record of the purge names the user
        logger.info("Account purged", extra={"user_id": self.user_id})
        return True


def purge_account(
    user_id: str, deadline: float | None = None, purges: PurgeRepository | None = None, **collaborators: Any
) -> bool:
    """The purge queue's work: True when the account is gone (or was never to be purged), False when time
    ran out and a continuation is due. A message for an account already purged, or reactivated, is a no-op."""
    purges = purges or PurgeRepository()
    progress = purges.get(user_id)
    if progress is None:
        return True  # purged already (its record is its last write), or never started: nothing to do
    return Purge(progress, purges=purges, **collaborators).run(deadline)
