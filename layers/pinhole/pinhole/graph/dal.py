"""Persistence of the social graph: one table of edges. PynamoDB objects never leave this module.

    pk = user#<follower>   sk = follows#<followee>     a follow (gsi1: followers#<followee>, newest first)
    pk = user#<requester>  sk = requested#<target>     a pending request (gsi1: requests#<target>)
    pk = user#<blocker>    sk = blocks#<blocked>       a block (gsi1: blockedby#<blocked>)
    pk = user#<muter>      sk = mutes#<muted>          a mute (gsi1: mutedby#<muted>): the muted person's
                                                       posts and stories leave the muter's feed and tray

A follow changes three items atomically — the edge and both users' counters — in one transaction
conditioned on the edge's absence (or presence, to unfollow), so the counts stay exact under any
concurrency and repeating a call changes nothing.

A follow or a request is also conditioned on the absence of a block edge either way. Blocking
writes the block first and removes follows and requests after, so however the calls interleave no
follow or request outlives a block, and none can be made while it stands."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.errors import NotFound
from pinhole.shared.ids import new_id
from pinhole.shared.raw_items import batch_get_raw
from pinhole.shared.settings import get_settings
from pinhole.shared.transactions import cancelled_by, transact
from pinhole.users.dal import UserModel

_settings = get_settings()
# The two reads of `hidden_from` in flight at once: a feed page pays one round for blocks and mutes.
_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="graph-read")

FOLLOWS = "follows#"
FOLLOWED_BY = "followers#"
REQUESTED = "requested#"
BLOCKS = "blocks#"
BLOCKED_BY = "blockedby#"
MUTES = "mutes#"
MUTED_BY = "mutedby#"


def user_key(user_id: str) -> str:
    return f"user#{user_id}"


class InverseIndex(GlobalSecondaryIndex["EdgeModel"]):
    """The other side of each edge: a user's followers, and the requests they received."""

    class Meta:
        index_name = "inverse-index"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class EdgeModel(Model):
    class Meta:
        table_name = _settings.graph_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    source_id = UnicodeAttribute()
    target_id = UnicodeAttribute()
    created_at = UnicodeAttribute()

    inverse = InverseIndex()


class Listed(NamedTuple):
    """Someone on a list of the graph (the other side of an edge), with the key a page goes on from after them: the
    LastEvaluatedKey DynamoDB would give, which for a list read from the inverse index holds the edge's random
    `gsi1sk` and so cannot be made from the user's id alone."""

    user_id: str
    page_key: dict[str, Any]


def _table_key(edge: EdgeModel) -> dict[str, Any]:
    return {"pk": {"S": edge.pk}, "sk": {"S": edge.sk}}


def _inverse_key(edge: EdgeModel) -> dict[str, Any]:
    return {**_table_key(edge), "gsi1pk": {"S": edge.gsi1pk}, "gsi1sk": {"S": edge.gsi1sk}}


def _edges_of(keys: list[tuple[str, str]], consistent_read: bool = False) -> list[tuple[str, str]]:
    """(source, target) of the edges among these (pk, sk) keys that exist, read as raw items (no model each)."""
    items = batch_get_raw(EdgeModel, keys, ["source_id", "target_id"], consistent_read)
    return [(item["source_id"]["S"], item["target_id"]["S"]) for item in items]


def follow_edge(follower_id: str, followee_id: str) -> EdgeModel:
    """The item a follow is (what `follow` writes, less its counters; bulk seeding writes it too)."""
    return _edge(FOLLOWS, FOLLOWED_BY, follower_id, followee_id)


def _edge(kind: str, inverse_kind: str, source_id: str, target_id: str) -> EdgeModel:
    return EdgeModel(
        pk=user_key(source_id),
        sk=f"{kind}{target_id}",
        gsi1pk=f"{inverse_kind}{target_id}",
        gsi1sk=new_id(),
        source_id=source_id,
        target_id=target_id,
        created_at=to_iso(utc_now()),
    )


_BLOCK_CHECKS = slice(0, 2)
"""Where `_no_block_between`'s checks sit among a transaction's cancellation reasons: PynamoDB sends
condition checks ahead of every other item."""


def _no_block_between(transaction: TransactWrite, user_a: str, user_b: str) -> None:
    for source_id, target_id in ((user_a, user_b), (user_b, user_a)):
        transaction.condition_check(
            EdgeModel, user_key(source_id), f"{BLOCKS}{target_id}", condition=EdgeModel.pk.does_not_exist()
        )


def _is_conditional_failure(error: PutError | DeleteError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


def _put_new(edge: EdgeModel) -> bool:
    """Writes the edge; False if it already existed (nothing written)."""
    try:
        edge.save(condition=EdgeModel.pk.does_not_exist())
    except PutError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def _delete_existing(kind: str, source_id: str, target_id: str) -> bool:
    """Removes the edge; False if there was none."""
    try:
        EdgeModel(user_key(source_id), f"{kind}{target_id}").delete(condition=EdgeModel.pk.exists())
    except DeleteError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


class GraphRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def _exists(self, source_id: str, kind: str, target_id: str) -> bool:
        return EdgeModel.count(user_key(source_id), EdgeModel.sk == f"{kind}{target_id}", consistent_read=True) > 0

    def is_following(self, follower_id: str, followee_id: str) -> bool:
        return self._exists(follower_id, FOLLOWS, followee_id)

    def has_requested(self, requester_id: str, target_id: str) -> bool:
        return self._exists(requester_id, REQUESTED, target_id)

    def blocked_between(self, user_a: str, user_b: str) -> bool:
        """Whether either of the two blocks the other (one BatchGetItem of both possible edges)."""
        return bool(self.blockers_between(user_a, user_b))

    def blockers_between(self, user_a: str, user_b: str) -> set[str]:
        """Which of the two block the other: neither, one or both (one BatchGetItem of both possible edges)."""
        keys = [(user_key(user_a), f"{BLOCKS}{user_b}"), (user_key(user_b), f"{BLOCKS}{user_a}")]
        return {source for source, _ in _edges_of(keys, consistent_read=True)}

    def blocked_among(self, viewer_id: str, candidate_ids: list[str]) -> set[str]:
        """Which of the candidates block the viewer or are blocked by them: both directions of every
        candidate in one BatchGetItem per 100 keys (50 candidates). Eventually consistent, as lists are."""
        others = [candidate for candidate in dict.fromkeys(candidate_ids) if candidate != viewer_id]
        keys = [(user_key(viewer_id), f"{BLOCKS}{other}") for other in others]
        keys += [(user_key(other), f"{BLOCKS}{viewer_id}") for other in others]
        return {target if source == viewer_id else source for source, target in _edges_of(keys)}

    def muted_among(self, viewer_id: str, candidate_ids: list[str]) -> set[str]:
        """Which of the candidates the viewer muted: one BatchGetItem per 100 candidates."""
        others = [candidate for candidate in dict.fromkeys(candidate_ids) if candidate != viewer_id]
        keys = [(user_key(viewer_id), f"{MUTES}{other}") for other in others]
        return {target for _, target in _edges_of(keys)}

    def hidden_from(self, viewer_id: str, author_ids: list[str]) -> set[str]:
        """The authors whose posts and stories the viewer's feed and tray leave out: in a block with the
        viewer either way, or muted by them. The one filter every feed reader calls; both reads at once."""
        blocked = _pool.submit(self.blocked_among, viewer_id, author_ids)
        muted = _pool.submit(self.muted_among, viewer_id, author_ids)
        return blocked.result() | muted.result()

    def mute(self, muter_id: str, muted_id: str) -> bool:
        """Writes the mute edge; False if it already existed. Nobody is told: no stream consumer reads it."""
        return _put_new(_edge(MUTES, MUTED_BY, muter_id, muted_id))

    def unmute(self, muter_id: str, muted_id: str) -> bool:
        return _delete_existing(MUTES, muter_id, muted_id)

    def block(self, blocker_id: str, blocked_id: str) -> bool:
        """Writes the block edge; False if it already existed. Follows and requests are the caller's
        to remove, after this (see the module's note)."""
        return _put_new(_edge(BLOCKS, BLOCKED_BY, blocker_id, blocked_id))

    def unblock(self, blocker_id: str, blocked_id: str) -> bool:
        """Removes the block edge; False if there was none. A block the other side made stays."""
        return _delete_existing(BLOCKS, blocker_id, blocked_id)

    def following_among(self, follower_id: str, candidate_ids: list[str]) -> set[str]:
        """Which of the candidates the user follows, in one BatchGetItem per 100."""
        keys = [(user_key(follower_id), f"{FOLLOWS}{candidate}") for candidate in dict.fromkeys(candidate_ids)]
        return {target for _, target in _edges_of(keys)}

    def follow(self, follower_id: str, followee_id: str, *, replacing_request: bool = False) -> bool:
        """Adds the edge and both counts, and takes away the follower's pending request if there is one (a request
        and a follow never stand together); `replacing_request`: only if that request still stands (an approval).
        False if nothing changed: the edge existed already (or the request was gone). NotFound if a block stands
        between the two, as for someone who does not exist."""
        edge = follow_edge(follower_id, followee_id)
        request = EdgeModel(user_key(follower_id), f"{REQUESTED}{followee_id}")

        def build(transaction: TransactWrite) -> None:
            _no_block_between(transaction, follower_id, followee_id)
            transaction.save(edge, condition=EdgeModel.pk.does_not_exist())
            if replacing_request:
                transaction.delete(request, condition=EdgeModel.pk.exists())
            else:
                transaction.delete(request)
            transaction.update(
                UserModel(user_id=follower_id),
                actions=[UserModel.following_count.add(1)],
                condition=UserModel.user_id.exists(),
            )
            transaction.update(
                UserModel(user_id=followee_id),
                actions=[UserModel.follower_count.add(1)],
                condition=UserModel.user_id.exists(),
            )

        try:
            transact(build, self._connection)  # a popular account's counts collide: retried
        except TransactWriteError as error:
            if cancelled_by(error, "ConditionalCheckFailed", _BLOCK_CHECKS):
                raise NotFound("No such user.") from error
            if cancelled_by(error, "ConditionalCheckFailed"):
                return False
            raise
        return True

    def unfollow(self, follower_id: str, followee_id: str) -> bool:
        """Removes the edge and both counts; False if there was no edge (nothing changed)."""

        def build(transaction: TransactWrite) -> None:
            transaction.delete(
                EdgeModel(user_key(follower_id), f"{FOLLOWS}{followee_id}"), condition=EdgeModel.pk.exists()
            )
            transaction.update(UserModel(user_id=follower_id), actions=[UserModel.following_count.add(-1)])
            transaction.update(UserModel(user_id=followee_id), actions=[UserModel.follower_count.add(-1)])

        try:
            transact(build, self._connection)
        except TransactWriteError as error:
            if cancelled_by(error, "ConditionalCheckFailed"):
                return False
            raise
        return True

    def request(self, requester_id: str, target_id: str) -> bool:
        """Adds the request; False if it already existed (the idempotent outcome). NotFound if a block
        stands between the two."""
        edge = _edge(REQUESTED, "requests#", requester_id, target_id)

        def build(transaction: TransactWrite) -> None:
            _no_block_between(transaction, requester_id, target_id)
            transaction.save(edge, condition=EdgeModel.pk.does_not_exist())

        try:
            transact(build, self._connection)
        except TransactWriteError as error:
            if cancelled_by(error, "ConditionalCheckFailed", _BLOCK_CHECKS):
                raise NotFound("No such user.") from error
            if cancelled_by(error, "ConditionalCheckFailed"):
                return False
            raise
        return True

    def withdraw_request(self, requester_id: str, target_id: str) -> bool:
        return _delete_existing(REQUESTED, requester_id, target_id)

    def _page(
        self, hash_key: str, prefix: str, limit: int, after: dict[str, Any] | None, *, inverse: bool
    ) -> tuple[list[Listed], dict[str, Any] | None]:
        if inverse:
            results = EdgeModel.inverse.query(hash_key, scan_index_forward=False, limit=limit, last_evaluated_key=after)
            listed = [Listed(item.source_id, _inverse_key(item)) for item in results]
        else:
            results = EdgeModel.query(hash_key, EdgeModel.sk.startswith(prefix), limit=limit, last_evaluated_key=after)
            listed = [Listed(item.target_id, _table_key(item)) for item in results]
        return listed, results.last_evaluated_key

    def followers(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[Listed], dict[str, Any] | None]:
        """Followers, newest follow first."""
        return self._page(f"{FOLLOWED_BY}{user_id}", "", limit, after, inverse=True)

    def following(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[Listed], dict[str, Any] | None]:
        return self._page(user_key(user_id), FOLLOWS, limit, after, inverse=False)

    def blocked_by_me(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[Listed], dict[str, Any] | None]:
        """Whom the user blocked, in key order (the blocked user's id)."""
        return self._page(user_key(user_id), BLOCKS, limit, after, inverse=False)

    def muted_by_me(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[Listed], dict[str, Any] | None]:
        """Whom the user muted, in key order (the muted user's id)."""
        return self._page(user_key(user_id), MUTES, limit, after, inverse=False)

    def requests_received(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[Listed], dict[str, Any] | None]:
        return self._page(f"requests#{user_id}", "", limit, after, inverse=True)

    def all_follower_ids(self, user_id: str, page_size: int = 1000) -> list[str]:
        """Every follower, for the feed fan-out (which reads the whole list once per post)."""
        ids: list[str] = []
        after: dict[str, Any] | None = None
        while True:
            page, after = self.followers(user_id, page_size, after)
            ids.extend(listed.user_id for listed in page)
            if not after:
                return ids
