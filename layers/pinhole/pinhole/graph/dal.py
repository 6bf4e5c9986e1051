"""Persistence of the social graph: one table of edges. PynamoDB objects never leave this module.

    pk = user#<follower>   sk = follows#<followee>     a follow (gsi1: followers#<followee>, newest first)
    pk = user#<requester>  sk = requested#<target>     a pending request (gsi1: requests#<target>)

A follow changes three items atomically — the edge and both users' counters — in one transaction
conditioned on the edge's absence (or presence, to unfollow), so the counts stay exact under any
concurrency and repeating a call changes nothing."""

from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from pinhole.shared.clock import to_iso, utc_now
from pinhole.shared.ids import new_id
from pinhole.shared.settings import get_settings
from pinhole.users.dal import UserModel

_settings = get_settings()

FOLLOWS = "follows#"
REQUESTED = "requested#"


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


def _cancelled_by_condition(error: TransactWriteError) -> bool:
    return any(r and r.code == "ConditionalCheckFailed" for r in (error.cancellation_reasons or []))


class GraphRepository:
    def __init__(self) -> None:
        self._connection = Connection(region=_settings.region)

    def _exists(self, source_id: str, kind: str, target_id: str) -> bool:
        return EdgeModel.count(user_key(source_id), EdgeModel.sk == f"{kind}{target_id}", consistent_read=True) > 0

    def is_following(self, follower_id: str, followee_id: str) -> bool:
        return self._exists(follower_id, FOLLOWS, followee_id)

    def has_requested(self, requester_id: str, target_id: str) -> bool:
        return self._exists(requester_id, REQUESTED, target_id)

    def following_among(self, follower_id: str, candidate_ids: list[str]) -> set[str]:
        """Which of the candidates the user follows, in one BatchGetItem per 100."""
        keys = [(user_key(follower_id), f"{FOLLOWS}{candidate}") for candidate in dict.fromkeys(candidate_ids)]
        return {edge.target_id for edge in EdgeModel.batch_get(keys)} if keys else set()

    def follow(self, follower_id: str, followee_id: str, *, replacing_request: bool = False) -> bool:
        """Adds the edge and both counts; False if it already existed (nothing changed)."""
        edge = _edge(FOLLOWS, "followers#", follower_id, followee_id)
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(edge, condition=EdgeModel.pk.does_not_exist())
                if replacing_request:
                    transaction.delete(
                        EdgeModel(user_key(follower_id), f"{REQUESTED}{followee_id}"), condition=EdgeModel.pk.exists()
                    )
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
        except TransactWriteError as error:
            if _cancelled_by_condition(error):
                return False
            raise
        return True

    def unfollow(self, follower_id: str, followee_id: str) -> bool:
        """Removes the edge and both counts; False if there was no edge (nothing changed)."""
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.delete(
                    EdgeModel(user_key(follower_id), f"{FOLLOWS}{followee_id}"), condition=EdgeModel.pk.exists()
                )
                transaction.update(UserModel(user_id=follower_id), actions=[UserModel.following_count.add(-1)])
                transaction.update(UserModel(user_id=followee_id), actions=[UserModel.follower_count.add(-1)])
        except TransactWriteError as error:
            if _cancelled_by_condition(error):
                return False
            raise
        return True

    def request(self, requester_id: str, target_id: str) -> None:
        edge = _edge(REQUESTED, "requests#", requester_id, target_id)
        try:
            edge.save(condition=EdgeModel.pk.does_not_exist())
        except PutError as error:  # an existing request is the idempotent outcome
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise

    def withdraw_request(self, requester_id: str, target_id: str) -> bool:
        try:
            EdgeModel(user_key(requester_id), f"{REQUESTED}{target_id}").delete(condition=EdgeModel.pk.exists())
        except DeleteError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _page(
        self, hash_key: str, prefix: str, limit: int, after: dict[str, Any] | None, *, inverse: bool
    ) -> tuple[list[str], dict[str, Any] | None]:
        if inverse:
            results = EdgeModel.inverse.query(hash_key, scan_index_forward=False, limit=limit, last_evaluated_key=after)
            ids = [item.source_id for item in results]
        else:
            results = EdgeModel.query(hash_key, EdgeModel.sk.startswith(prefix), limit=limit, last_evaluated_key=after)
            ids = [item.target_id for item in results]
        return ids, results.last_evaluated_key

    def followers(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Follower ids, newest follow first."""
        return self._page(f"followers#{user_id}", "", limit, after, inverse=True)

    def following(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        return self._page(user_key(user_id), FOLLOWS, limit, after, inverse=False)

    def requests_received(
        self, user_id: str, limit: int, after: dict[str, Any] | None = None
    ) -> tuple[list[str], dict[str, Any] | None]:
        return self._page(f"requests#{user_id}", "", limit, after, inverse=True)

    def all_follower_ids(self, user_id: str, page_size: int = 1000) -> list[str]:
        """Every follower, for the feed fan-out (which reads the whole list once per post)."""
        ids: list[str] = []
        after: dict[str, Any] | None = None
        while True:
            page, after = self.followers(user_id, page_size, after)
            ids.extend(page)
            if not after:
                return ids
