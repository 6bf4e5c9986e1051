"""Use cases of the social graph: follow (or ask to, for a private account), unfollow, answer
requests, and the lists — with the visibility rule every other context asks here: a private
account's content is for its approved followers (and itself) only."""

from collections.abc import Callable
from typing import Any

from pinhole.graph.dal import GraphRepository
from pinhole.graph.models import FollowResult, FollowStatus
from pinhole.shared.caller import Caller
from pinhole.shared.errors import CannotFollowSelf, Forbidden, NotFound
from pinhole.shared.pages import next_cursor, start_after
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import summary_of
from pinhole.users.models import Profile, UserSummary

_graph = GraphRepository()
_profiles = ProfileRepository()


def can_view(viewer_id: str, author: Profile, graph: GraphRepository = _graph) -> bool:
    return not author.is_private or viewer_id == author.user_id or graph.is_following(viewer_id, author.user_id)


def follow(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> FollowResult:
    target = profiles.find_by_username(username)
    if target.user_id == caller.user_id:
        raise CannotFollowSelf("You cannot follow yourself.", [{"field": "username"}])
    if graph.is_following(caller.user_id, target.user_id):
        return FollowResult(status=FollowStatus.FOLLOWING)
    if target.is_private:
        graph.request(caller.user_id, target.user_id)
        return FollowResult(status=FollowStatus.REQUESTED)
    graph.follow(caller.user_id, target.user_id)
    return FollowResult(status=FollowStatus.FOLLOWING)


def unfollow(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> None:
    """Stops following, and withdraws a pending request; doing it twice is harmless."""
    target = profiles.find_by_username(username)
    graph.unfollow(caller.user_id, target.user_id)
    graph.withdraw_request(caller.user_id, target.user_id)


def decide_request(
    caller: Caller,
    username: str,
    approve: bool,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> None:
    requester = profiles.find_by_username(username)
    if not graph.has_requested(requester.user_id, caller.user_id):
        raise NotFound(f"{requester.username} has not asked to follow you.")
    if approve:
        graph.follow(requester.user_id, caller.user_id, replacing_request=True)
    else:
        graph.withdraw_request(requester.user_id, caller.user_id)


def _summaries(user_ids: list[str], profiles: ProfileRepository) -> list[UserSummary]:
    found = profiles.get_many(user_ids)
    return [summary_of(found[user_id]) for user_id in user_ids if user_id in found]


def _user_page(
    list_ids: Callable[[str, int, dict[str, Any] | None], tuple[list[str], dict[str, Any] | None]],
    user_id: str,
    listing: str,
    limit: int,
    cursor: str | None,
    profiles: ProfileRepository,
) -> tuple[list[UserSummary], str | None]:
    """One page of a user list of the graph, as UserSummary, behind a cursor scoped to that list."""
    scope = f"{listing}:{user_id}"
    ids, last_key = list_ids(user_id, limit, start_after(cursor, scope))
    return _summaries(ids, profiles), next_cursor(last_key, scope)


def _listable(caller: Caller, username: str, graph: GraphRepository, profiles: ProfileRepository) -> Profile:
    owner = profiles.find_by_username(username)
    if not can_view(caller.user_id, owner, graph):
        raise Forbidden(f"{owner.username}'s account is private.")
    return owner


def followers(
    caller: Caller,
    username: str,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    owner = _listable(caller, username, graph, profiles)
    return _user_page(graph.followers, owner.user_id, "followers", limit, cursor, profiles)


def following(
    caller: Caller,
    username: str,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    owner = _listable(caller, username, graph, profiles)
    return _user_page(graph.following, owner.user_id, "following", limit, cursor, profiles)


def follow_requests(
    caller: Caller,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    return _user_page(graph.requests_received, caller.user_id, "requests", limit, cursor, profiles)
