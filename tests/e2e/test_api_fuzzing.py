"""Schemathesis against the local cloud's own `/openapi.json`, signed in as a real user (Cognito on moto)
who has a published post, a follow, a comment and a conversation, whose ids the fuzzer mixes into paths.

A short, derandomized run (the same requests every time): FUZZ_EXAMPLES generated requests per operation
and mode, valid and invalid ones. `make soak` (soak/fuzz.py) runs the long version and reports figures.

On AWS, the JWT authorizer's own 401 has API Gateway's body, not the envelope (docs/API_NOTES.md):
the 401 test pins the local gateway's behaviour, which is ours."""

import base64
import json
import os
from typing import Any

import httpx
import pytest

from tests.support.api_client import Member
from tests.support.fuzzing import World, envelope_problem, fuzz_api

pytestmark = pytest.mark.e2e

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))


@pytest.fixture(scope="module")
def world(local_cloud: Any) -> World:
    return World.build(local_cloud.http)


def test_fuzzed_requests_get_no_5xx_and_documented_answers_with_errors_in_the_envelope(
    local_cloud: Any, world: World
) -> None:
    # Given a signed-in user with real objects, and the API's own document
    # When every operation gets generated valid and invalid requests
    report = fuzz_api(local_cloud.outputs["HttpApiUrl"], world, examples_per_operation=FUZZ_EXAMPLES)

    # Then nothing failed a check, and the run reached every operation and real objects
    assert report.findings == [], "\n".join(str(finding) for finding in report.findings)
    figures = report.figures()
    assert figures["operations_covered"] == figures["operations_in_document"] >= 40
    assert report.not_generated == {"GET /health": ["negative"]}  # a route without inputs has no invalid request
    assert report.statuses[200] > 0 and report.statuses[204] > 0, report.statuses  # not only refusals
    assert report.statuses[422] > 0 and report.statuses[401] > 0, report.statuses  # the invalid ones were refused


def _forged(token: str) -> str:
    """The same token claiming to be someone else: the signature no longer matches."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "00000000-0000-0000-0000-000000000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _unsigned(token: str) -> str:
    """The same claims with `alg: none` and no signature."""
    _, payload, _ = token.split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    return f"{header}.{payload}."


def test_protected_routes_refuse_missing_and_bad_tokens_with_401_in_the_envelope(local_cloud: Any) -> None:
    # Given every operation the document marks as needing a token, aimed at a real user and post
    owner = Member(local_cloud.http)
    post = owner.http.post(
        "/posts", json={"caption": "mine", "media": [{"content_type": "image/jpeg", "size_bytes": 1}]}
    )
    assert post.status_code == 201, post.text
    ids = {
        "username": owner.username,
        "post_id": post.json()["post"]["post_id"],
        "comment_id": "01AAAAAAAAAAAAAAAAAAAAAAAA",
        "conversation_id": f"{owner.user_id}_{owner.user_id}",
        "tag": "fuzztag",
    }
    document = local_cloud.http.get("/openapi.json").json()
    protected = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]
    token = owner.access_token
    credentials = {
        "none": {},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "forged": {"Authorization": f"Bearer {_forged(token)}"},
        "unsigned": {"Authorization": f"Bearer {_unsigned(token)}"},
        "not bearer": {"Authorization": f"Basic {token}"},
        "mangled": {"Authorization": f"Bearer {token.swapcase()}"},
    }

    # When each is called with each bad credential
    wrong = []
    with httpx.Client(base_url=local_cloud.outputs["HttpApiUrl"], timeout=30) as anonymous:
        for method, path in protected:
            url = path.format(**ids)
            for kind, headers in credentials.items():
                response = anonymous.request(method, url, headers=headers, json={})
                problem = envelope_problem(response.status_code, response.headers, response.content)
                if response.status_code != 401 or problem or response.json()["error"]["code"] != "unauthorized":
                    wrong.append(f"{method} {url} with {kind}: {response.status_code} {response.text[:120]} {problem}")

    # Then every one is 401 unauthorized in the envelope, and nothing was done
    assert len(protected) >= 37  # all but /auth/* and /health
    assert wrong == []
    assert owner.http.get(f"/posts/{ids['post_id']}").status_code == 200
