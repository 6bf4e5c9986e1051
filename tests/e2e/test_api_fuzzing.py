"""Schemathesis against the local cloud's own `/openapi.json`, signed in as a real user (Cognito on moto)
who has a published post, a follow, a comment and a conversation, whose ids the fuzzer mixes into paths.

A short, derandomized run (the same requests every time) with every check: the coverage phase's
request-shape probes (each method a path does not declare, an undeclared Content-Type, multipart without
a boundary), FUZZ_EXAMPLES generated requests per operation and mode, valid and invalid ones, and
FUZZ_SCENARIOS stateful scenarios (calls chained along the links schemathesis infers).
`make soak` (soak/fuzz.py) runs the long version, every coverage case included, and reports figures.

On AWS, the JWT authorizer's own 401 has API Gateway's body, not the envelope (docs/API_NOTES.md):
the 401 test pins the local gateway's behaviour, which is ours."""

import base64
import json
import os
from typing import Any

import httpx
import pytest

from tests.support.api_client import Member
from tests.support.fuzzing import World, envelope_problem, fuzz_api, published_post, request_shape_probes

pytestmark = pytest.mark.e2e

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))  # with the request-shape probes: about the old 4
FUZZ_SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "20"))  # stateful: ~8 calls each, ~4 s in all


@pytest.fixture(scope="module")
def world(local_cloud: Any) -> World:
    return World.build(local_cloud.http)


def test_fuzzed_requests_get_no_5xx_and_documented_answers_with_errors_in_the_envelope(
    local_cloud: Any, world: World
) -> None:
    # Given a signed-in user with real objects, and the API's own document
    # When every operation gets the request-shape probes and generated valid and invalid requests
    report = fuzz_api(
        local_cloud.outputs["HttpApiUrl"],
        world,
        examples_per_operation=FUZZ_EXAMPLES,
        coverage=request_shape_probes,
        scenarios=FUZZ_SCENARIOS,
    )

    # Then nothing failed any check, and the run reached every operation and real objects
    # (but valid requests refused for a rule the schema does not state: an unissued cursor, a weak password...)
    assert report.unexplained == [], "\n".join(str(finding) for finding in report.unexplained)
    figures = report.figures()
    assert figures["operations_covered"] == figures["operations_in_document"] >= 40
    assert {"not_a_server_error", "negative_data_rejection", "unsupported_method", "error_envelope"} <= set(
        report.checks
    )
    assert report.not_generated == {"GET /health": ["negative"]}  # a route without inputs has no invalid request
    assert report.statuses[200] > 0 and report.statuses[204] > 0, report.statuses  # not only refusals
    assert report.statuses[422] > 0 and report.statuses[401] > 0, report.statuses  # the invalid ones were refused
    # And the probes went out and were refused as they should be: 405 with Allow, 415
    assert report.scenarios["unspecified_http_method"] >= figures["operations_in_document"], report.scenarios
    assert report.scenarios["unsupported_content_type"] > 0 and report.scenarios["malformed_content_type"] > 0
    assert report.statuses[405] >= report.scenarios["unspecified_http_method"] // 2, report.statuses
    assert report.statuses[415] > 0, report.statuses
    # And the stateful phase chained calls along the links it inferred, where use_after_free and
    # ensure_resource_availability judge what a scenario did
    assert {"use_after_free", "ensure_resource_availability"} <= set(report.checks)
    assert report.stateful_links >= 20 and report.stateful_steps >= FUZZ_SCENARIOS, figures
    assert len(report.stateful_operations) >= 10, report.stateful_operations


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
        "message_id": "01AAAAAAAAAAAAAAAAAAAAAAAA",
        "tag": "fuzztag",
        "case_id": "0123456789abcdef01234567",
        "device_id": "nodevice",
        "story_id": "01AAAAAAAAAAAAAAAAAAAAAAAA",
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


# --- request shape, through the gateway ----------------------------------------------------------------------

UNDECLARED_METHOD_CANDIDATES = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "TRACE")


def _real_path(path: str, world: World) -> str:
    return path.format(**{name: values[0] for name, values in world.path_values.items()})


def _document_operations(local_cloud: Any) -> list[tuple[str, str, dict[str, Any]]]:
    document = local_cloud.http.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_refuses_a_text_plain_json_body_with_415_and_a_body_it_does_not_take_with_422(
    local_cloud: Any, world: World
) -> None:
    # Given every operation of the document, aimed at the fuzzing user's real objects, with her token
    operations = _document_operations(local_cloud)
    wrong = []

    for method, path, operation in operations:
        # When a JSON document is sent labelled text/plain where the operation takes a body, and as JSON where
        # it takes none
        takes_body = "requestBody" in operation
        response = world.ann.http.request(
            method,
            _real_path(path, world),
            content=b'{"text": "hello", "bio": "hello", "approve": true}',
            headers={"content-type": "text/plain" if takes_body else "application/json"},
        )

        # Then it is 415 unsupported_media_type, or 422 naming the body, in the envelope (a moderators' route
        # refuses her, who is not one, before reading what she sent)
        expected = (415, "unsupported_media_type") if takes_body else (422, "validation_error")
        if path.startswith("/moderation/"):
            expected = (403, "forbidden")
        problem = envelope_problem(response.status_code, response.headers, response.content)
        if problem or (response.status_code, response.json()["error"]["code"]) != expected:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:160]} {problem or ''}")

    assert len(operations) >= 41
    assert wrong == []


def test_the_five_routes_that_answered_500_refuse_a_text_plain_body_and_change_nothing(
    local_cloud: Any, world: World
) -> None:
    # Given the routes acceptance checks found answering 500 to a JSON body sent as text/plain (on a post of ann's
    # own: the fuzzing, which may run first in this module's world, may have deleted hers and blocked bob)
    post_id, conversation_id = published_post(world.ann, "text/plain"), world.path_values["conversation_id"][0]
    comments_before = world.ann.http.get(f"/posts/{post_id}/comments").json()["items"]
    sends = [
        ("PATCH", "/me", {"bio": "sent as text"}),
        ("POST", f"/conversations/{conversation_id}/read", {"up_to": "01AAAAAAAAAAAAAAAAAAAAAAAA"}),
        ("POST", f"/me/follow-requests/{world.bob.username}", {"approve": True}),
        ("POST", f"/posts/{post_id}/comments", {"text": "sent as text"}),
        ("POST", f"/posts/{post_id}/save", {"collection": "as_text"}),
    ]

    # When each gets its valid JSON body labelled text/plain
    answers = [
        world.ann.http.request(method, path, content=json.dumps(body), headers={"content-type": "text/plain"})
        for method, path, body in sends
    ]

    # Then each is 415 in the envelope, and nothing was written
    assert [(answer.status_code, answer.json()["error"]["code"]) for answer in answers] == [
        (415, "unsupported_media_type")
    ] * len(sends)
    assert world.ann.http.get("/me").json()["bio"] != "sent as text"
    assert world.ann.http.get(f"/posts/{post_id}/comments").json()["items"] == comments_before
    collections = world.ann.http.get("/me/collections").json()["items"]
    assert "as_text" not in [collection["name"] for collection in collections]


def test_every_undeclared_method_of_every_path_is_405_with_the_path_s_methods_in_allow(
    local_cloud: Any, world: World
) -> None:
    # Given each path of the document and the methods it declares
    declared: dict[str, set[str]] = {}
    for method, path, _ in _document_operations(local_cloud):
        declared.setdefault(path, set()).add(method)
    wrong = []

    for path, methods in declared.items():
        for method in sorted(set(UNDECLARED_METHOD_CANDIDATES) - methods):
            # When it is asked with another method (with a valid token, and with none)
            for client in (world.ann.http, local_cloud.http):
                response = client.request(method, _real_path(path, world))

                # Then it is 405 method_not_allowed listing the path's methods (HEAD has no body to check)
                allow = set(response.headers.get("allow", "").split(", "))
                problem = envelope_problem(response.status_code, response.headers, response.content)
                code = response.json()["error"]["code"] if method != "HEAD" and not problem else None
                if (
                    response.status_code != 405
                    or allow != methods
                    or (method != "HEAD" and code != "method_not_allowed")
                ):
                    wrong.append(f"{method} {path}: {response.status_code} allow={allow} {response.text[:120]}")

    assert len(declared) >= 34  # every path of API.md but /openapi.json and /docs, which are not in it
    assert wrong == []
