"""Sign-up through the auth handler, for tests that need real users on moto."""

from functions.auth import handler as auth
from tests.support.events import FakeLambdaContext, http_event, response_json

PASSWORD = "Correct-Horse-9"


def sign_up_claims(username: str) -> dict[str, str]:
    """Signs `username` up and returns the JWT claims API Gateway would pass for them."""
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    response = auth.handler(http_event("POST", "/auth/signup", body=body), FakeLambdaContext())
    user = response_json(response)["user"]
    return {"sub": user["user_id"], "username": user["username"]}
