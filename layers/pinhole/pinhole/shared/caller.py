from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    """The authenticated user making a request, as the API's JWT authorizer vouched for them."""

    user_id: str
    username: str
