"""Use cases of the social graph: follow (or ask to, for a private account), unfollow, answer
requests, block, and the lists — with the visibility rule every other context asks here: a block
hides each side from the other entirely, and a private account's content is for its approved
followers (and itself) only."""

from collections.abc import Callable
from functools import partial
from typing import Any

from pinhole.graph.dal import GraphRepository, Listed
from pinhole.graph.models import FollowResult, FollowStatus
from pinhole.shared import rate_limits
from pinhole.shared.caller import Caller
from pinhole.shared.errors import CannotBlockSelf, CannotFollowSelf, CannotMuteSelf, Forbidden, NotFound
from pinhole.shared.pages import filled_page, next_cursor, start_after
from pinhole.shared.parallel import gather_dict, gather_set
from pinhole.users.dal import ProfileRepository
from pinhole.users.logic import find_visible, summary_of
from pinhole.users.models import Profile, UserSummary

_graph = GraphRepository()
_profiles = ProfileRepository()


def privacy_allows(viewer_id: str, author: Profile, graph: GraphRepository = _graph) -> bool:
    """The private-account rule alone, for a viewer already known to be in no block with the author."""
    return not author.is_private or viewer_id == author.user_id or graph.is_following(viewer_id, author.user_id)


def can_view(viewer_id: str, author: Profile, graph: GraphRepository = _graph) -> bool:
    if viewer_id == author.user_id:
        return True
    if author.suspended:
        return False
    return not graph.blocked_between(viewer_id, author.user_id) and privacy_allows(viewer_id, author, graph)


BLOCK_CHECKS_PER_CALL = 50
"""Authors whose blocks one BatchGetItem reads (two keys each: either side may have blocked)."""


def visible_authors(
    viewer_id: str, author_ids: list[str], graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> dict[str, Profile]:
    """`can_view` for many authors at once, for a list of their posts: those the viewer may see, by id — the
    viewer themselves, and anyone active (a deactivated or suspended account is absent), in no block with the
    viewer either way, public or followed by the viewer. Each author is asked once however many posts they
    have: blocks, profiles and the follows of the private ones are BatchGetItems (at once for very many authors),
    eventually consistent as lists are."""
    others = [author_id for author_id in dict.fromkeys(author_ids) if author_id != viewer_id]
    blocked = gather_set(partial(graph.blocked_among, viewer_id), others, BLOCK_CHECKS_PER_CALL)
    readers_own = [viewer_id] if viewer_id in author_ids else []
    found = gather_dict(
        partial(profiles.get_many, include_suspended=True),
        readers_own + [author_id for author_id in others if author_id not in blocked],
    )
    private = [author.user_id for author in found.values() if author.is_private and author.user_id != viewer_id]
    followed = gather_set(partial(graph.following_among, viewer_id), private)
    return {
        author_id: author
        for author_id, author in found.items()
        if author_id == viewer_id or (not author.suspended and (not author.is_private or author_id in followed))
    }


def follow(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> FollowResult:
    target = find_visible(caller, username, profiles, graph)
    if target.user_id == caller.user_id:
        raise CannotFollowSelf("You cannot follow yourself.", [{"field": "username"}])
    if graph.is_following(caller.user_id, target.user_id):
        return FollowResult(status=FollowStatus.FOLLOWING)
    rate_limits.enforce(caller.user_id, "follow")
    if target.is_private:
        graph.request(caller.user_id, target.user_id)
        return FollowResult(status=FollowStatus.REQUESTED)
    graph.follow(caller.user_id, target.user_id)
    return FollowResult(status=FollowStatus.FOLLOWING)


def unfollow(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> None:
    """Stops following, and withdraws a pending request; doing it twice is harmless."""
    target = _find_to_undo(caller, username, graph, profiles)
    if target.user_id == caller.user_id:
        return  # nobody follows themselves (follow refuses it): nothing to undo
    graph.unfollow(caller.user_id, target.user_id)
    graph.withdraw_request(caller.user_id, target.user_id)


def decide_request(
    caller: Caller,
    username: str,
    approve: bool,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> None:
    """Approving makes the requester a follower (counted, and notified as a follow); denying drops the request.
    Either way the request is gone: that of someone who follows already (since the account was public a
    moment) is spent whatever the answer, and denying it leaves their follow as it is. A requester in a block with
    the caller, either way, is not found as nobody is: "has not asked" would tell them apart."""
    requester = find_visible(caller, username, profiles, graph)
    no_request = NotFound(f"{requester.username} has not asked to follow you.")
    if not graph.has_requested(requester.user_id, caller.user_id):
        raise no_request
    if approve and graph.follow(requester.user_id, caller.user_id, replacing_request=True):
        return
    # Not written: the request was withdrawn since it was read, unless they follow already
    if approve and not graph.is_following(requester.user_id, caller.user_id):
        raise no_request
    graph.withdraw_request(requester.user_id, caller.user_id)


REQUESTS_APPROVED_PER_PAGE = 100


def approve_pending_requests(
    user_id: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> int:
    """An account gone public takes every pending request as a follow, as Instagram does: each requester becomes
    a follower, counted and notified as an approval is; how many did. Paged through the requests (however many
    there are), one approval at a time (each moves the account's follower count). It stops where the account has
    turned private again, leaving the rest pending; a request withdrawn meanwhile, or one a block has ended, is
    dropped. Repeating it changes nothing, and a run cut short is taken up by the record's redelivery from the
    requests left."""
    approved = 0
    after: dict[str, Any] | None = None
    while True:
        if _is_private_now(user_id, profiles):
            return approved
        requests, after = graph.requests_received(user_id, REQUESTS_APPROVED_PER_PAGE, after)
        for requester_id in (request.user_id for request in requests):
            try:
                if graph.follow(requester_id, user_id, replacing_request=True):
                    approved += 1
                    continue
            except NotFound:
                pass  # a block stands between them: its own clean-up ends the request (this one too)
            graph.withdraw_request(requester_id, user_id)  # a follower's spent request, if it is still there
        if not after:
            return approved


def _is_private_now(user_id: str, profiles: ProfileRepository) -> bool:
    try:
        return profiles.get_consistent(user_id).is_private
    except NotFound:  # deactivated (or gone) since: nobody may follow it now
        return True


def block(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> None:
    """Blocks, then ends every follow and request between the two, with exact counts. Repeating it
    is harmless, and finishes the clean-up of an attempt that failed half-way."""
    target = profiles.find_by_username(username)  # someone who blocked you can still be blocked back
    if target.user_id == caller.user_id:
        raise CannotBlockSelf("You cannot block yourself.", [{"field": "username"}])
    graph.block(caller.user_id, target.user_id)
    for source_id, target_id in ((caller.user_id, target.user_id), (target.user_id, caller.user_id)):
        graph.unfollow(source_id, target_id)
        graph.withdraw_request(source_id, target_id)


def unblock(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> None:
    """Lifts the caller's block (follows do not come back); a block by the other side stays."""
    target = _find_to_undo(caller, username, graph, profiles)
    graph.unblock(caller.user_id, target.user_id)


def _find_to_undo(caller: Caller, username: str, graph: GraphRepository, profiles: ProfileRepository) -> Profile:
    """The user called `username`, for undoing what the caller did to them (a follow or request, a mute, a block),
    which stays possible, and idempotent, whatever there is to undo. Someone who blocked the caller is not found,
    the very answer given for a name nobody has: a 204 would tell the two apart. Unless the caller blocked them too:
    she knows them from her own list of blocked people, must be able to lift her block, and an answer that changed
    with theirs would tell her she was blocked back."""
    target = profiles.find_by_username(username)
    if target.user_id != caller.user_id and graph.blockers_between(caller.user_id, target.user_id) == {target.user_id}:
        raise NotFound(f"No user is called {username}.")
    return target


def _summaries(
    viewer_id: str,
    listed: list[Listed],
    graph: GraphRepository,
    profiles: ProfileRepository,
    *,
    blocks_hide: bool = True,
) -> list[UserSummary | None]:
    """The users as the viewer may see them, in order; None for one left out: in a block with the viewer (unless
    `blocks_hide` is off: the viewer's own list of blocked people), or gone (deactivated or suspended)."""
    user_ids = [entry.user_id for entry in listed]
    hidden = graph.blocked_among(viewer_id, user_ids) if blocks_hide else set()
    found = profiles.get_many([user_id for user_id in user_ids if user_id not in hidden])
    return [summary_of(found[user_id]) if user_id in found else None for user_id in user_ids]


def _user_page(
    list_users: Callable[[str, int, dict[str, Any] | None], tuple[list[Listed], dict[str, Any] | None]],
    viewer_id: str,
    user_id: str,
    listing: str,
    limit: int,
    cursor: str | None,
    graph: GraphRepository,
    profiles: ProfileRepository,
    *,
    blocks_hide: bool = True,
) -> tuple[list[UserSummary], str | None]:
    """One page of a user list of the graph, as UserSummary, behind a cursor scoped to that list; the users the
    viewer is not shown (`_summaries`) are left out and the page is filled from further reads (`filled_page`)."""
    scope = f"{listing}:{user_id}"
    page, last_key = filled_page(
        lambda count, after: list_users(user_id, count, after),
        lambda listed: _summaries(viewer_id, listed, graph, profiles, blocks_hide=blocks_hide),
        limit,
        start_after(cursor, scope),
        lambda listed: listed.page_key,
    )
    return page, next_cursor(last_key, scope)


def _listable(caller: Caller, username: str, graph: GraphRepository, profiles: ProfileRepository) -> Profile:
    owner = find_visible(caller, username, profiles, graph)
    if not privacy_allows(caller.user_id, owner, graph):
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
    return _user_page(graph.followers, caller.user_id, owner.user_id, "followers", limit, cursor, graph, profiles)


def following(
    caller: Caller,
    username: str,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    owner = _listable(caller, username, graph, profiles)
    return _user_page(graph.following, caller.user_id, owner.user_id, "following", limit, cursor, graph, profiles)


def follow_requests(
    caller: Caller,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    return _user_page(
        graph.requests_received, caller.user_id, caller.user_id, "requests", limit, cursor, graph, profiles
    )


def blocked_users(
    caller: Caller,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    """GET /me/blocked: whom the caller blocked (those who blocked the caller are not listed)."""
    return _user_page(
        graph.blocked_by_me,
        caller.user_id,
        caller.user_id,
        "blocked",
        limit,
        cursor,
        graph,
        profiles,
        blocks_hide=False,
    )


def muted_users(
    caller: Caller,
    limit: int,
    cursor: str | None,
    graph: GraphRepository = _graph,
    profiles: ProfileRepository = _profiles,
) -> tuple[list[UserSummary], str | None]:
    """GET /me/muted: whom the caller muted (someone in a block with the caller is left out, as everywhere)."""
    return _user_page(graph.muted_by_me, caller.user_id, caller.user_id, "muted", limit, cursor, graph, profiles)


def mute(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> None:
    """Their posts and stories leave the caller's feed and tray; the follow stays and they are not told.
    Idempotent. Muting yourself is refused (422); someone in a block with the caller is not found."""
    target = find_visible(caller, username, profiles, graph)
    if target.user_id == caller.user_id:
        raise CannotMuteSelf("You cannot mute yourself.", [{"field": "username"}])
    graph.mute(caller.user_id, target.user_id)


def unmute(
    caller: Caller, username: str, graph: GraphRepository = _graph, profiles: ProfileRepository = _profiles
) -> None:
    """Idempotent; works across the caller's own block (a block lifted later finds no mute left)."""
    target = _find_to_undo(caller, username, graph, profiles)
    graph.unmute(caller.user_id, target.user_id)
