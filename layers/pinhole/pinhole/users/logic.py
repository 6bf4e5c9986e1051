"""Use cases of the users context: reading and editing profiles."""

from pinhole.graph.dal import GraphRepository
from pinhole.graph.models import Relationship
from pinhole.shared.caller import Caller
from pinhole.shared.clock import to_iso
from pinhole.shared.errors import AccountSuspended, NotFound
from pinhole.users.dal import ProfileRepository
from pinhole.users.models import Me, Profile, ProfileUpdate, User, UserSummary

_profiles = ProfileRepository()
_graph = GraphRepository()


def summary_of(profile: Profile) -> UserSummary:
    return UserSummary(
        user_id=profile.user_id,
        username=profile.username,
        display_name=profile.display_name,
        avatar_url=profile.avatar_url,
    )


def to_user(profile: Profile, relation: Relationship | None = None) -> User:
    relation = relation or Relationship()
    return User(
        user_id=profile.user_id,
        username=profile.username,
        display_name=profile.display_name,
        avatar_url=profile.avatar_url,
        bio=profile.bio,
        is_private=profile.is_private,
        follower_count=profile.follower_count,
        following_count=profile.following_count,
        post_count=profile.post_count,
        followed_by_me=relation.following,
        follow_requested_by_me=relation.requested,
        created_at=to_iso(profile.created_at),
    )


def to_me(profile: Profile) -> Me:
    return Me(**to_user(profile).model_dump(), email=profile.email)


def active_profile(user_id: str, profiles: ProfileRepository = _profiles) -> Profile:
    """The profile of someone about to post, comment or message: refused (403 account_suspended) while a
    moderator has them suspended (their access token may outlive the suspension by up to an hour)."""
    profile = profiles.get(user_id)
    if profile.suspended:
        raise AccountSuspended("This account is suspended.")
    return profile


def get_me(caller: Caller, profiles: ProfileRepository = _profiles) -> Me:
    return to_me(profiles.get(caller.user_id))


def update_me(caller: Caller, update: ProfileUpdate, profiles: ProfileRepository = _profiles) -> Me:
    return to_me(profiles.update(caller.user_id, update.changes()))


def find_visible(
    viewer_id: str, username: str, profiles: ProfileRepository = _profiles, graph: GraphRepository = _graph
) -> Profile:
    """The user called `username` as the viewer may see them: if either blocks the other, NotFound,
    the very answer given for a name nobody has."""
    profile = profiles.find_by_username(username)
    if profile.user_id != viewer_id and graph.blocked_between(viewer_id, profile.user_id):
        raise NotFound(f"No user is called {username}.")
    return profile


def relationship(viewer_id: str, other_id: str, graph: GraphRepository = _graph) -> Relationship:
    if viewer_id == other_id:
        return Relationship()
    following = graph.is_following(viewer_id, other_id)
    return Relationship(following=following, requested=not following and graph.has_requested(viewer_id, other_id))


def get_user(
    caller: Caller, username: str, profiles: ProfileRepository = _profiles, graph: GraphRepository = _graph
) -> User:
    profile = find_visible(caller.user_id, username, profiles, graph)
    return to_user(profile, relationship(caller.user_id, profile.user_id, graph))
