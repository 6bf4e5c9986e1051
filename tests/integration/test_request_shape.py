"""Every route of every API function, in process: a JSON body labelled anything but JSON is 415, a body sent
to a route that takes none is 422, and a known path asked with another method is 405 with `Allow` — before
any data is read or written (no table exists here: reaching the domain would be a 500).

tests/e2e/test_api_fuzzing.py walks the same through the local cloud's gateway."""

import base64
import json
import typing
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from functions.auth import handler as auth
from functions.feed_read import handler as feed_read
from functions.messaging import handler as messaging
from functions.meta import handler as meta
from functions.moderation import handler as moderation
from functions.notifications import handler as notifications
from functions.privacy import handler as privacy
from functions.push import handler as push
from functions.search import handler as search
from functions.social import handler as social
from functions.upload import handler as upload
from functions.users import handler as users
from pinhole.shared.json_numbers import INTEGRAL
from tests.support.events import FakeLambdaContext, http_event, response_json
from tests.support.users import sign_up_claims

API_FUNCTIONS = (
    auth,
    users,
    upload,
    social,
    feed_read,
    messaging,
    notifications,
    search,
    moderation,
    push,
    privacy,
    meta,
)
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE")
# a moderator: the moderators' routes refuse anyone else before reading what they sent
CLAIMS = {"sub": "00000000-0000-0000-0000-000000000001", "username": "ann", "cognito:groups": "[moderators]"}
SAMPLE_PATH_VALUES = {
    "{username}": "bob",
    "{tag}": "sunset",
    "{conversation_id}": "a_b",
    "{case_id}": "0123456789abcdef01234567",
}


def _concrete(path: str) -> str:
    for parameter, value in SAMPLE_PATH_VALUES.items():
        path = path.replace(parameter, value)
    return path.replace("{post_id}", "01AAAAAAAAAAAAAAAAAAAAAAAA").replace("{comment_id}", "01BBBBBBBBBBBBBBBBBBBBBBBB")


def _operations(function: ModuleType) -> list[tuple[str, str, dict[str, Any]]]:
    document = function.app.get_openapi_schema().model_dump(by_alias=True, exclude_none=True)
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _call(function: ModuleType, method: str, path: str, body: str | None, content_type: str) -> dict[str, Any]:
    event = http_event(method, path, body=body, claims=CLAIMS)
    event["headers"]["content-type"] = content_type
    result: dict[str, Any] = function.handler(event, FakeLambdaContext())
    return result


ROUTES = [
    pytest.param(function, method, path, operation, id=f"{method} {path}")
    for function in API_FUNCTIONS
    for method, path, operation in _operations(function)
]


def test_the_walk_reaches_every_route_of_the_api() -> None:
    merged = response_json(meta.handler(http_event("GET", "/openapi.json"), FakeLambdaContext()))
    documented = {(method.upper(), path) for path, item in merged["paths"].items() for method in item}
    assert {(param.values[1], param.values[2]) for param in ROUTES} == documented


@pytest.mark.parametrize(("function", "method", "path", "operation"), ROUTES)
def test_a_json_body_labelled_text_plain_is_415_and_a_body_where_none_is_taken_is_422(
    function: ModuleType, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given a route and a JSON document, labelled text/plain where the route takes a body
    takes_body = "requestBody" in operation
    content_type = "text/plain; charset=utf-8" if takes_body else "application/json"

    # When it is sent
    response = _call(function, method, _concrete(path), json.dumps({"bio": "x"}), content_type)

    # Then it is refused before the route runs: 415 for the label, 422 for a body the route does not take
    error = response_json(response)["error"]
    if takes_body:
        assert (response["statusCode"], error["code"]) == (415, "unsupported_media_type"), response
    else:
        assert (response["statusCode"], error["code"]) == (422, "validation_error"), response
        assert error["details"][0]["type"] == "body_not_allowed"


BODY_ROUTES = [param for param in ROUTES if "requestBody" in param.values[3]]
JSON_TYPES = ("Application/JSON", "application/json; charset=UTF-8", "application/merge-patch+json")
OTHER_TYPES = ("text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded")


@pytest.mark.parametrize(("function", "method", "path", "operation"), BODY_ROUTES)
def test_an_empty_body_is_answered_as_no_body_whatever_its_content_type(
    aws: dict[str, str], function: ModuleType, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given what a route answers an empty body labelled JSON (a 422 `missing` where the body is required)
    expected = _call(function, method, _concrete(path), None, "application/json")["statusCode"]

    # Then it answers the same whatever the empty body is labelled (Powertools read the label: 500s before)
    answers = {
        content_type: _call(function, method, _concrete(path), None, content_type) for content_type in OTHER_TYPES
    }
    assert {content_type: answer["statusCode"] for content_type, answer in answers.items()} == dict.fromkeys(
        OTHER_TYPES, expected
    ), answers
    assert expected < 500


@pytest.mark.parametrize(("function", "method", "path", "operation"), BODY_ROUTES)
def test_every_json_media_type_is_read_as_json_and_json_python_cannot_read_is_422(
    function: ModuleType, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given a route that takes a body, and a JSON object it does not take (a property no body names)
    for content_type in JSON_TYPES:
        # When it is labelled with a JSON media type in any case, or application/*+json
        response = _call(function, method, _concrete(path), json.dumps({"no_such_field_zz": 1}), content_type)

        # Then it is read as JSON (Powertools read only `application/json...`, and answered the others 500) and
        # refused for what it says, before the route runs
        error = response_json(response)["error"]
        assert (response["statusCode"], error["code"]) == (422, "validation_error"), (content_type, response)

    # When the JSON is nested deeper than Python's parser goes (a RecursionError: a 500 before), holds an integer
    # longer than Python converts (4,300 digits: a ValueError, a 500 before), or is cut short
    deep = '{"no_such_field_zz": ' + "[" * 5000 + "]" * 5000 + "}"
    long_integer = '{"no_such_field_zz": ' + "9" * 5000 + "}"
    for unreadable in (deep, long_integer, '{"no_such_field_zz": '):
        response = _call(function, method, _concrete(path), unreadable, "application/json")

        # Then it is refused as a body that cannot be read (named as the body, not by a character offset)
        assert response["statusCode"] == 422, response
        detail = response_json(response)["error"]["details"][0]
        assert (detail["field"], detail["type"]) == ("body", "json_invalid"), detail


NOT_UTF8 = {
    "latin-1": b'{"bio": "caf\xe9"}',
    "byte-order-mark-of-utf-16": b'{"bio": "\xff\xfe"}',
    "encoded-surrogate": b'{"bio": "\xed\xa0\x80"}',
}


@pytest.mark.parametrize(("function", "method", "path", "operation"), BODY_ROUTES)
def test_a_json_body_that_is_not_utf8_is_422_json_invalid_naming_the_body(
    function: ModuleType, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given bodies that are not UTF-8, as an event carries them: base64-encoded (the local cloud passes them so),
    # or a string holding a lone surrogate (an event's JSON may escape one), or base64 with a stray character
    sent = [(raw, content_type) for raw in NOT_UTF8.values() for content_type in JSON_TYPES]
    sent.append((b'{"bio": "caf\xe9"}', "application/json; charset=latin-1"))  # a charset changes nothing
    events = [_event(method, path, raw_body=raw, content_type=content_type) for raw, content_type in sent]
    events.append(_event(method, path, body='{"bio": "\ud800"}'))
    events.append({**_event(method, path, body="/w==!"), "isBase64Encoded": True})  # b"\xff" once decoded

    for event in events:
        # When one is sent
        response = function.handler(event, FakeLambdaContext())

        # Then it is refused as JSON that cannot be read, before the route runs: nothing replaced, nothing stored
        error = response_json(response)["error"]
        assert (response["statusCode"], error["code"], error["message"]) == (
            422,
            "validation_error",
            "The request is not valid.",
        ), event
        (detail,) = error["details"]
        assert (detail["field"], detail["type"]) == ("body", "json_invalid"), event
        assert detail["message"].startswith("The body is not valid UTF-8"), detail


def _event(method: str, path: str, content_type: str = "application/json", **body: Any) -> dict[str, Any]:
    event = http_event(method, _concrete(path), claims=CLAIMS, **body)
    event["headers"]["content-type"] = content_type
    return event


MEDIA = [{"content_type": "image/jpeg", "size_bytes": 100}]


@pytest.mark.parametrize(
    ("function", "method", "path", "body", "field"),
    [
        (
            auth,
            "POST",
            "/auth/signup",
            {"username": "ann", "password": "x" * 12, "email": "ann@example.com", "display_name": "a\u0000"},
            "display_name",
        ),
        (users, "PATCH", "/me", {"display_name": "two\nlines"}, "display_name"),
        (users, "PATCH", "/me", {"bio": "\u001b[2J"}, "bio"),
        (upload, "POST", "/posts", {"caption": "bell\u0007", "media": MEDIA}, "caption"),
        (upload, "PATCH", "/posts/01AAAAAAAAAAAAAAAAAAAAAAAA", {"caption": "del\u007f"}, "caption"),
        (social, "POST", "/posts/01AAAAAAAAAAAAAAAAAAAAAAAA/comments", {"text": "nul\u0000"}, "text"),
        (messaging, "POST", "/conversations", {"members": ["bobby", "cyril"], "title": "tab\there"}, "title"),
        (messaging, "POST", "/messages", {"to": "bobby", "text": "a\u0085b"}, "text"),
    ],
)
def test_a_control_character_in_what_people_write_is_422_naming_the_field(
    function: ModuleType, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = _call(function, method, path, json.dumps(body), "application/json")

    assert response["statusCode"] == 422, response
    details = response_json(response)["error"]["details"]
    assert [detail["field"] for detail in details] == [field], details


def _registered(function: ModuleType) -> list[Any]:
    # Powertools keeps a resolver's routes in these two lists, with no public accessor (as pinhole.shared.api)
    return [*function.app._static_routes, *function.app._dynamic_routes]


def _types_in(annotation: Any) -> Iterator[Any]:
    arguments = typing.get_args(annotation)
    if not arguments:
        yield annotation
    for argument in arguments:
        yield from _types_in(argument)


def _numbers_and_booleans_not_as_json(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[str]:
    """The int, float and bool fields of a body model (and the models inside it) that do not take exactly what JSON
    Schema calls their type: lax ones, which pydantic fills from "100" or true for an int and from "no", "off" or 0
    for a bool; and strict ints without INTEGRAL, which refuse 100.0 (an `integer` to JSON Schema)."""
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        strict = model.model_config.get("strict") or any(getattr(meta, "strict", None) for meta in field.metadata)
        for kind in _types_in(field.annotation):
            if kind in (int, float, bool) and not strict:
                yield f"{model.__name__}.{name}"
            elif kind is int and INTEGRAL not in field.metadata:
                yield f"{model.__name__}.{name} (refuses 100.0)"
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                yield from _numbers_and_booleans_not_as_json(kind, seen)


def test_no_request_body_takes_a_number_or_a_boolean_written_as_something_else() -> None:
    # Given every body model of every route, and the models inside them
    bodies = [
        kind
        for function in API_FUNCTIONS
        for route in _registered(function)
        for parameter in route.dependant.body_params
        for kind in _types_in(parameter.field_info.annotation)
        if isinstance(kind, type) and issubclass(kind, BaseModel)
    ]
    seen: set[type[BaseModel]] = set()

    # Then each number and boolean is a JSON number or boolean (strict), not text pydantic would read as one, and an
    # integer is any JSON number without a fraction
    assert len(bodies) >= 30
    assert [field for body in bodies for field in _numbers_and_booleans_not_as_json(body, seen)] == []


@pytest.mark.parametrize(
    ("function", "method", "path", "body"),
    [
        (push, "PATCH", "/me/notification-settings", {"likes": "no"}),  # was 200, and push for likes went off
        (push, "PATCH", "/me/notification-settings", {"comments": 0}),
        (upload, "POST", "/posts", {"media": [{"content_type": "image/jpeg", "size_bytes": "100"}]}),  # was 201
        (upload, "POST", "/posts", {"media": [{"content_type": "image/jpeg", "size_bytes": True}]}),
        (upload, "POST", "/posts", {"media": [{"content_type": "image/jpeg", "size_bytes": 100.5}]}),
        (upload, "POST", "/me/avatar", {"content_type": "image/jpeg", "size_bytes": "100"}),
        (upload, "POST", "/me/avatar", {"content_type": "image/jpeg", "size_bytes": 100.5}),
    ],
)
def test_a_number_or_boolean_sent_as_another_json_type_is_422(
    function: ModuleType, method: str, path: str, body: dict[str, Any]
) -> None:
    response = _call(function, method, path, json.dumps(body), "application/json")

    assert response["statusCode"] == 422, response
    assert response_json(response)["error"]["code"] == "validation_error"


def _policy_size_range(upload_target: dict[str, Any]) -> list[Any]:
    policy = json.loads(base64.b64decode(upload_target["fields"]["policy"]))
    return next(c for c in policy["conditions"] if isinstance(c, list) and c[0] == "content-length-range")


def test_an_integer_written_with_a_zero_fraction_is_that_integer(aws: dict[str, str]) -> None:
    # Given a signed-up user, and a JSON library that writes every number as a double
    ann, bob = sign_up_claims("ann"), sign_up_claims("bob")
    media = {"content_type": "image/jpeg", "size_bytes": 4096.0}  # an `integer` to JSON Schema, as 4096

    def called(function: ModuleType, path: str, body: dict[str, Any]) -> dict[str, Any]:
        event = http_event("POST", path, body=json.dumps(body), claims=ann)
        response = function.handler(event, FakeLambdaContext())
        assert response["statusCode"] == 201, response
        return dict(response_json(response))

    # Then each body with a size takes it as 4096: the signed upload allows exactly that many bytes
    post = called(upload, "/posts", {"media": [media]})
    story = called(upload, "/stories", {"media": media})
    avatar = called(upload, "/me/avatar", media)
    message = called(messaging, "/messages", {"to": bob["username"], "media": media})
    for target in (post["uploads"][0], story["upload"], avatar["upload"], message["upload"]):
        assert _policy_size_range(target)[2] == 4096


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data", "application/xml", "text/json"]
)
def test_form_and_other_types_are_415_not_parsed(content_type: str) -> None:
    # Given PATCH /me, whose fields are all optional: a parsed form `bio=x` would be a valid update
    response = _call(users, "PATCH", "/me", "bio=x", content_type)

    # Then no other format is read in JSON's place
    assert response["statusCode"] == 415
    assert response_json(response)["error"]["code"] == "unsupported_media_type"


def test_an_array_body_is_422_rather_than_read_as_its_first_element() -> None:
    # Given DELETE /posts/{post_id}/save, whose optional body is `{collection?}` (Powertools would validate
    # the first element of an array, so `[null, null]` meant "no body" and `[{"collection": "a"}]` meant "a")
    for body in ("[null, null]", '[{"collection": "a"}]', "[]"):
        response = _call(social, "DELETE", "/posts/01AAAAAAAAAAAAAAAAAAAAAAAA/save", body, "application/json")

        # Then it is refused as not the object the route takes
        assert response["statusCode"] == 422, body
        assert response_json(response)["error"]["details"][0]["field"] == "body"


@pytest.mark.parametrize(("function", "method", "path", "operation"), ROUTES)
def test_every_other_method_of_a_route_s_path_is_405_listing_the_path_s_methods(
    function: ModuleType, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given the methods the whole API declares for this route's path (the merged document: what meta, behind
    # `$default`, knows), and the ones this route's own function declares for it
    merged = response_json(meta.handler(http_event("GET", "/openapi.json"), FakeLambdaContext()))
    declared = {verb.upper() for verb in merged["paths"][path]}
    own = {m for m, p, _ in _operations(function) if p == path}

    for other in sorted(set(METHODS) - declared):
        # When the path is asked with another method, through `$default` (as API Gateway sends it) and
        # straight to the route's own function
        for answering, expected_allow in ((meta, declared), (function, own)):
            event = http_event(other, _concrete(path), route_key="$default", claims=CLAIMS)
            response = answering.handler(event, FakeLambdaContext())

            # Then it is 405 method_not_allowed in the envelope, with the methods that exist in `Allow`
            assert response["statusCode"] == 405, (other, path, answering.__name__, response)
            assert set(response["headers"]["Allow"].split(", ")) == expected_allow
            assert response_json(response)["error"]["code"] == "method_not_allowed"


def test_an_unknown_path_is_404_whatever_the_method() -> None:
    for method in METHODS:
        response = meta.handler(http_event(method, "/posts/x/y/z", route_key="$default"), FakeLambdaContext())
        assert response["statusCode"] == 404, method
        assert "Allow" not in response["headers"]


@pytest.mark.parametrize(("function", "method", "path", "operation"), ROUTES)
def test_a_route_s_path_with_a_trailing_slash_is_404_whatever_the_method(
    function: ModuleType, method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given a route's path with a slash added (API Gateway matches no route to it: `$default` gets it)
    slashed = _concrete(path) + "/"
    answers = set()
    for asked in METHODS:
        # When it is asked with any method, through `$default` and straight to the route's own function
        for answering in (meta, function):
            event = http_event(asked, slashed, route_key="$default", claims=CLAIMS)
            response = answering.handler(event, FakeLambdaContext())

            # Then it is the unknown path's 404, with no `Allow`
            assert response["statusCode"] == 404, (asked, slashed, answering.__name__, response)
            assert "Allow" not in response["headers"]
            answers.add(response_json(response)["error"]["code"])
    assert answers == {"not_found"}


def test_an_undeclared_query_parameter_is_422_and_a_declared_one_is_fine() -> None:
    # Given GET /me/saved, which takes `collection`, `limit` and `cursor`
    event = http_event("GET", "/me/saved", claims=CLAIMS)
    event["rawQueryString"] = "limt=5"
    event["queryStringParameters"] = {"limt": "5"}

    # When a typo of one is sent
    response = social.handler(event, FakeLambdaContext())

    # Then it is refused, naming the parameter, before anything is read
    assert response["statusCode"] == 422
    assert response_json(response)["error"]["details"][0] == {
        "field": "limt",
        "type": "extra_forbidden",
        "message": "This route takes no such query parameter.",
    }


def test_an_empty_cursor_is_422_not_the_first_page_again() -> None:
    # Given a client that passes a null next_cursor on as `cursor=` (it would loop over the first page forever)
    event = http_event("GET", "/me/follow-requests", claims=CLAIMS)
    event["rawQueryString"] = "cursor="
    event["queryStringParameters"] = {"cursor": ""}

    # Then the request is refused, naming the cursor
    response = users.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 422
    assert response_json(response)["error"]["details"][0]["field"] == "cursor"
