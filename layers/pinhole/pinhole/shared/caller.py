from dataclasses import dataclass, field

MODERATORS_GROUP = "moderators"
"""The Cognito group whose members may use the moderation routes (stacks/stateful/auth_construct.py creates it)."""


@dataclass(frozen=True)
class Caller:
    """The authenticated user making a request, as the API's JWT authorizer vouched for them; `groups` are the
    Cognito groups the access token names (`cognito:groups`)."""

    user_id: str
    username: str
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_moderator(self) -> bool:
        return MODERATORS_GROUP in self.groups
