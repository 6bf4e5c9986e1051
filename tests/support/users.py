"""Sign-up through the auth handler, for tests that need real users on moto."""

from functions.auth import handler as auth
from tests.support.api_client import own_address
from tests.support.events import FakeLambdaContext, http_event, response_json

PASSWORD = "Correct-Horse-9"


def sign_up_claims(username: str) -> dict[str, str]:
    """Signs `username` up, from an address of their own (sign-ups are limited per address), and returns the JWT
    claims API Gateway would pass for them."""
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    event = http_event("POST", "/auth/signup", body=body)
    event["requestContext"]["http"]["sourceIp"] = own_address()
    response = auth.handler(event, FakeLambdaContext())
    user = response_json(response)["user"]
    return {"sub": user["user_id"], "username": user["username"]}
