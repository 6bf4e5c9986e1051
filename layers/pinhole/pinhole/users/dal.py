"""Persistence of user profiles. PynamoDB objects never leave this module.

A suspended user (a moderator's action, pinhole.moderation) is read here as if their profile were deleted:
`get_many` leaves them out and `find_by_username` does not find them, so every surface that hydrates people —
feeds, grids, tags, comments, likes, search, stories, notifications, conversations — hides them and their
content the way it already hides deleted users, with no extra read. `get` (by id) still returns them, flagged,
for the callers that must know: their own requests (refused) and moderators (who see everything)."""

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from pinhole.shared.errors import Conflict, NotFound
from pinhole.shared.settings import get_settings
from pinhole.users.models import Profile

_settings = get_settings()


class UsernameIndex(GlobalSecondaryIndex["UserModel"]):
    class Meta:
        index_name = "username-index"
        projection = AllProjection()

    username = UnicodeAttribute(hash_key=True)


class UserModel(Model):
    class Meta:
        table_name = _settings.users_table_name
        region = _settings.region
        billing_mode = "PAY_PER_REQUEST"
        stream_view_type = "NEW_AND_OLD_IMAGES"

    user_id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    bio = UnicodeAttribute(default="")
    avatar_url = UnicodeAttribute(null=True)
    is_private = BooleanAttribute(default=False)
    follower_count = NumberAttribute(default=0)
    following_count = NumberAttribute(default=0)
    post_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    suspended = BooleanAttribute(null=True)

    by_username = UsernameIndex()


def _to_profile(item: UserModel) -> Profile:
    values = dict(item.attribute_values)
    values["suspended"] = bool(values.get("suspended"))
    return Profile.model_validate(values)


def _is_conditional_failure(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class ProfileRepository:
    def create(self, profile: Profile) -> None:
        item = UserModel(**profile.model_dump(exclude={"suspended"}))
        try:
            item.save(condition=UserModel.user_id.does_not_exist())
        except PutError as error:
            if _is_conditional_failure(error):
                raise Conflict("This user already has a profile.") from error
            raise

    def get(self, user_id: str) -> Profile:
        try:
            return _to_profile(UserModel.get(user_id))
        except DoesNotExist as error:
            raise NotFound("No such user.") from error

    def get_many(self, user_ids: list[str], *, include_suspended: bool = False) -> dict[str, Profile]:
        """Profiles by id, in one BatchGetItem per 100 ids; ids of deleted (and suspended) users are simply absent."""
        unique = list(dict.fromkeys(user_ids))
        found = [_to_profile(item) for item in UserModel.batch_get(unique)] if unique else []
        return {profile.user_id: profile for profile in found if include_suspended or not profile.suspended}

    def find_by_username(self, username: str, *, include_suspended: bool = False) -> Profile:
        for item in UserModel.by_username.query(username, limit=1):
            profile = _to_profile(item)
            if include_suspended or not profile.suspended:
                return profile
        raise NotFound(f"No user is called {username}.")

    def set_suspended(self, user_id: str, suspended: bool) -> bool:
        """Suspends or reinstates the user; False if they already were (or were not)."""
        not_suspended = UserModel.suspended.does_not_exist() | UserModel.suspended.is_in(False)
        flag = not_suspended if suspended else UserModel.suspended.is_in(True)
        condition = UserModel.user_id.exists() & flag
        actions: list[Action] = [UserModel.suspended.set(True) if suspended else UserModel.suspended.remove()]
        try:
            UserModel(user_id=user_id).update(actions=actions, condition=condition)
        except UpdateError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def update(self, user_id: str, changes: dict[str, object]) -> Profile:
        item = UserModel(user_id=user_id)
        actions = [getattr(UserModel, name).set(value) for name, value in changes.items()]
        if not actions:
            return self.get(user_id)
        try:
            item.update(actions=actions, condition=UserModel.user_id.exists())
        except UpdateError as error:
            if _is_conditional_failure(error):
                raise NotFound("No such user.") from error
            raise
        return _to_profile(item)
