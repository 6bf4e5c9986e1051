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
from pinhole.messaging.dal import GROUP as GROUP_ITEM
from pinhole.messaging.dal import MESSAGE, MessageRepository, conversation_key
from pinhole.messaging.logic import entry_fixes, is_group, with_admin
from pinhole.messaging.media import UPLOADS_PREFIX, MessageMediaStorage, conversation_prefix, message_prefix
from pinhole.messaging.models import GroupRecord, InboxEntry, MessageRecord
from pinhole.notifications.dal import GROUP, NOTIFICATION, NotificationRepository
from pinhole.posts.dal import PostRepository
from pinhole.privacy import dal
from pinhole.privacy.dal import PurgeRepository
from pinhole.privacy.models import PurgeProgress
from pinhole.push.dal import DeviceRepository
from pinhole.push.endpoints import PlatformEndpoints
from pinhole.push.logic import forget_devices
from pinhole.shared.errors import NotFound
from pinhole.shared.observability import logger
from pinhole.shared.settings import get_settings
from pinhole.social.dal import COMMENT, LIKE, VISIT, InteractionRepository
from pinhole.users.logic import DELETED_ACCOUNT_PREFIX
from pinhole.users.usernames import DELETED_USERNAME

PAGE = 100
CHANGE_ATTEMPTS = 10
"""A group change or an erasure re-reads and tries again when a member's send got in first."""
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


def stand_in_id(user_id: str) -> str:
    """The deleted user's stand-in where a record of theirs is kept (a group's creator, the moderation audit):
    the same for every record and every resumed purge, so the records still hang together, and naming nobody
    to whoever does not already hold the id it was derived from (docs/PRIVACY.md, *Moderation records*)."""
    return f"{DELETED_ACCOUNT_PREFIX}{hashlib.sha256(user_id.encode()).hexdigest()[:20]}"


NOTE_REMOVED = "(removed with a deleted account)"
"""What the moderation audit keeps of a free-text note that concerned a purged account."""


def _unread(entry: InboxEntry, history: list[dict[str, Any]]) -> int:
    """Others' delivered messages after the member's read mark (or from joining), up to leaving."""
    since, until = entry.read_up_to or entry.visible_from, entry.visible_until
    return sum(
        1
        for message in history
        if message.get("sender_id") != entry.user_id
        and (
            since is None
            or message["message_id"] > since
            or (entry.read_up_to is None and message["message_id"] == since)
        )
        and (until is None or message["message_id"] <= until)
    )


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
        messages: MessageRepository | None = None,
        message_media: MessageMediaStorage | None = None,
        devices: DeviceRepository | None = None,
        endpoints: PlatformEndpoints | None = None,
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
        self.messages = messages or MessageRepository()
        self.message_media = message_media or MessageMediaStorage()
        self.devices = devices or DeviceRepository()
        self.endpoints = endpoints or PlatformEndpoints()
        self.stand_in = stand_in_id(self.user_id)
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

    def groups_step(self, cursor: str | None) -> str | None:
        """Every group they are or were in (a removed member has no inbox entry, so the groups are found by
        their members): they leave it as nobody would notice — their messages and the system messages that
        name them erased (photos with their objects), members' previews and unread counts put right as an
        unsend does, then they go from its members with their inbox entry. The others keep the group."""
        table = self.settings.messages_table_name
        page = dal.scan_page(
            table,
            "sk = :group AND (contains(member_ids, :u) OR contains(former_ids, :u)"
            " OR creator_id = :u OR admin_id = :u)",
            {":group": GROUP_ITEM, ":u": self.user_id},
            cursor,
            PAGE,
        )
        for item in page.items:
            self._leave_group(item["conversation_id"])
        return page.cursor

    def _admin_after(self, group: GroupRecord) -> str:
        """Who manages the group once they are out of it: the same admin, or (it was them) the one a leave
        hands it to; a group nobody is left in keeps a stand-in."""
        if group.admin_id != self.user_id:
            return group.admin_id
        remaining = group.model_copy(update={"member_ids": [m for m in group.member_ids if m != self.user_id]})
        successor = with_admin(remaining, self.messages).admin_id
        return self.stand_in if successor == self.user_id else successor

    def _leave_group(self, conversation_id: str) -> None:
        naming_them = [
            message
            for message in dal.query_all(self.settings.messages_table_name, "pk", conversation_key(conversation_id))
            if message["sk"].startswith(MESSAGE) and self._names_them(message)
        ]
        # Newest first: an erased message's preview moves back to the one before, never to one erased later.
        for message in sorted(naming_them, key=lambda message: message["sk"], reverse=True):
            self._erase_group_message(conversation_id, message["message_id"])
        for _ in range(CHANGE_ATTEMPTS):
            group = self.messages.group(conversation_id)
            if group is None or self.messages.forget_member(
                group, self.user_id, self.stand_in, self._admin_after(group)
            ):
                break
        else:
            raise RuntimeError("the group kept changing while a deleted account left it")
        if group is None:
            return
        if set(group.member_ids) <= {self.user_id}:
            self.message_media.delete_prefix(conversation_prefix(conversation_id))  # as when the last one leaves
        others = [member for member in [*group.member_ids, *group.former_ids] if member != self.user_id]
        self._recount_unread(conversation_id, others)

    def _recount_unread(self, conversation_id: str, member_ids: list[str]) -> None:
        """Each member's unread count as their read mark gives it, once their messages are gone: an unsend's
        decrements assume every message after the mark was counted, and a member's own send moves the mark
        without resetting the count, so after several erasures only a count from the mark is exact."""
        for _ in range(CHANGE_ATTEMPTS):
            entries = self.messages.entries(conversation_id, member_ids)
            history = [
                message
                for message in dal.query_all(self.settings.messages_table_name, "pk", conversation_key(conversation_id))
                if message["sk"].startswith(MESSAGE) and message.get("media_status") in (None, "ready")
            ]
            if all(self.messages.set_unread(entry, _unread(entry, history)) for entry in entries):
                return
        raise RuntimeError("the group kept changing while its unread counts were put right")

    def _names_them(self, message: dict[str, Any]) -> bool:
        """Theirs, or a system message about them (added, removed, left)."""
        if message.get("sender_id") == self.user_id:
            return True
        return message.get("kind") == "system" and (
            self.username in message.get("text", "") or self.username in message.get("event", "")
        )

    def _erase_group_message(self, conversation_id: str, message_id: str) -> None:
        """As an unsend: the picture's objects first (a crash after leaves the message to find again), then
        the message with every member's preview and unread count, all or nothing."""
        for _ in range(CHANGE_ATTEMPTS):
            record = self.messages.get_message(conversation_id, message_id)
            if record is None:
                return
            if record.media is not None:
                self._delete_message_objects(record)
            group = self.messages.group(conversation_id)
            everyone = [*group.member_ids, *group.former_ids] if group is not None else []
            readers = [member for member in everyone if member != self.user_id]
            entries = self.messages.entries(conversation_id, readers)
            fixes = entry_fixes(record, entries, self.messages) if record.delivered else []
            if self.messages.unsend(record, fixes):
                return
        raise RuntimeError("the conversation kept changing while a deleted account's message was erased")

    def _delete_message_objects(self, record: MessageRecord) -> None:
        dal.delete_objects(
            self.settings.uploads_bucket_name, f"{UPLOADS_PREFIX}/{record.conversation_id}/{record.message_id}/"
        )
        self.message_media.delete_prefix(message_prefix(record.conversation_id, record.message_id))

    def devices_step(self, cursor: str | None) -> str | None:
        """Their phones, through the push context (their SNS endpoints deleted, the tokens' owner items gone):
        before the notifications step, which would delete the device items and lose the endpoints' ARNs."""
        while forget_devices(self.user_id, self.devices, self.endpoints):
            pass  # a user has at most MAX_DEVICES: one round, and one more that finds none
        return None

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
            if not is_group(entry["conversation_id"]):  # groups: the groups step (nothing is left here by then)
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
                if message.get("media"):  # their photo moves with it: its keys name the old conversation
                    self._move_message_objects(conversation_id, new_id, message["message_id"])
                    copy["media"] = message["media"].replace(conversation_id, new_id)
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
        # Their photos went with their messages (erased); the other's were copied above.
        dal.delete_objects(self.settings.uploads_bucket_name, f"{UPLOADS_PREFIX}/{conversation_id}/")
        self.message_media.delete_prefix(conversation_prefix(conversation_id))

    def _move_message_objects(self, old_id: str, new_id: str, message_id: str) -> None:
        dal.copy_objects(
            self.settings.uploads_bucket_name,
            f"{UPLOADS_PREFIX}/{old_id}/{message_id}/",
            f"{UPLOADS_PREFIX}/{new_id}/{message_id}/",
        )
        dal.copy_objects(
            self.settings.message_media_bucket_name,
            message_prefix(old_id, message_id),
            message_prefix(new_id, message_id),
        )

    def moderation_step(self, cursor: str | None) -> str | None:
        """The moderation audit keeps its records of them, pseudonymised (docs/PRIVACY.md, *Moderation records*):
        their id becomes their stand-in id everywhere, a moderator's username becomes `deleted.account`, the
        free-text notes of every record that concerns them are dropped, and the guards of their reports go.
        One pass over the table (idempotent: a crash redoes it whole), after one that finds the cases about them
        (by their id or, once rewritten, by their stand-in)."""
        table = self.settings.moderation_table_name
        about_them = {
            case["case_id"]
            for case in dal.scan_all(
                table,
                "sk = :case AND (author_id = :u OR author_id = :s"
                " OR contains(target_id, :u) OR contains(target_id, :s))",
                {":case": "case", ":u": self.user_id, ":s": self.stand_in},
            )
        }
        for item in dal.scan_all(table):
            self._pseudonymise(table, item, concerns_them=item.get("case_id") in about_them)
        return None

    def _pseudonymise(self, table: str, item: dict[str, Any] | None, concerns_them: bool) -> None:
        for _ in range(CHANGE_ATTEMPTS):
            if item is None:
                return
            key = {"pk": item["pk"], "sk": item["sk"]}
            if item["sk"] == f"reporter#{self.user_id}":  # one open report at a time: they will file none
                dal.delete_item(table, key)
                return
            kept = self._pseudonymised(item, concerns_them)
            if kept == item or dal.replace_item(table, kept, item):
                return
            item = dal.get_item(table, key)  # a moderator acted on the case meanwhile
        raise RuntimeError("a moderation record kept changing while it was pseudonymised")

    def _pseudonymised(self, item: dict[str, Any], concerns_them: bool) -> dict[str, Any]:
        kept = {
            name: value.replace(self.user_id, self.stand_in) if isinstance(value, str) else value
            for name, value in item.items()
        }
        if kept.get("moderator_username") == self.username:
            kept["moderator_username"] = DELETED_USERNAME
        # Their own notes as a reporter, and every note about them or their content, go; a note they wrote as
        # a moderator about someone else's content is the audit's reason for a decision, and stays.
        about_them = concerns_them or item.get("reporter_id") == self.user_id
        if kept.get("note") and (about_them or self.username in kept["note"]):
            kept["note"] = NOTE_REMOVED
        return kept

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
            ("groups", Purge.groups_step),
            ("devices", Purge.devices_step),
            ("notifications", Purge.notifications_step),
            ("messages", Purge.messages_step),
            ("moderation", Purge.moderation_step),
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
